-- One row per (shop_id, buyer_id) on the shop's filter list, any date, any reason.
with

source as (
    select * from {{ source('exports', 'filters') }}
),

first_listed as (
    {{ kefu_first_row('source', 'shop_id, buyer_id', '_file_id, _row_num') }}
),

renamed as (
    select
        shop_id,
        buyer_id,
        coalesce(nullif(trim(reason), ''), 'unspecified') as reason
    from first_listed
)

select * from renamed
