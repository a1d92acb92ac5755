-- One row per shop: the latest loaded row of each shop_id, defaults filled in.
with

source as (
    select * from {{ source('exports', 'shops') }}
),

latest as (
    {{ kefu_first_row('source', 'shop_id', '_file_id desc, _row_num desc') }}
),

renamed as (
    select
        shop_id,
        shop_name,
        lower(coalesce(nullif(trim(platform), ''), 'taobao')) as platform,
        coalesce(nullif(trim(timezone), ''), 'Asia/Shanghai') as timezone,
        coalesce(nullif(trim(ruleset), ''), 'taobao_tool') as ruleset
    from latest
)

select * from renamed
