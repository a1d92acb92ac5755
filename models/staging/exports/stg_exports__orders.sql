-- One row per order: its latest version. A version without updated_at is older
-- than any dated one; ties go to the later-loaded row (docs/landing.md §1).
with

source as (
    select * from {{ source('exports', 'orders') }}
),

latest as (
    {{ kefu_first_row('source', 'shop_id, order_id', 'updated_at desc nulls last, _file_id desc, _row_num desc') }}
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
        updated_at
    from latest
)

select * from renamed
