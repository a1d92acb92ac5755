{#- Materialisation in dbt_project.yml: incremental on DuckDB, a full table on Spark. -#}
{{ config(
    incremental_strategy='delete+insert',
    unique_key=['shop_id', 'order_id'],
) }}
-- One row per order: its latest version. A version without updated_at is older
-- than any dated one; ties go to the later-loaded row (docs/landing.md §1).
-- Incremental on the order key: a window build takes again only the orders with
-- a version in a file loaded after the newest file this table took a version
-- from (raw rows are only appended, file ids only grow), reading every version
-- of those orders; any other build takes every order again.
with

source as (
    select * from {{ source('exports', 'orders') }}
),

versions as (
    select *
    from source
    where {{ kefu_order_versions_to_take('source') }}
),

latest as (
    {{ kefu_first_row('versions', 'shop_id, order_id', 'updated_at desc nulls last, _file_id desc, _row_num desc') }}
),

renamed as (
    select
        shop_id,
        order_id,
        buyer_id,
        status,
        amount,
        quantity,
        refund_amount,
        paid_at is not null as is_paid,
        cast(created_at as date) as created_date,
        cast(paid_at as date) as paid_date,
        created_at,
        paid_at,
        updated_at,
        _file_id as source_file_id
    from latest
)

select * from renamed
