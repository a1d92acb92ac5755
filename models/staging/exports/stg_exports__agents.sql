-- One row per (shop_id, agent_id): the latest loaded row, team normalised.
with

source as (
    select * from {{ source('exports', 'agents') }}
),

latest as (
    {{ kefu_first_row('source', 'shop_id, agent_id', '_file_id desc, _row_num desc') }}
),

renamed as (
    select
        shop_id,
        agent_id,
        nullif(trim(employee_id), '') as employee_id,
        coalesce(nullif(trim(agent_name), ''), agent_id) as agent_name,
        case
            when lower(trim(team)) in ('pre_sales', 'presales', '售前') then 'pre_sales'
            when lower(trim(team)) in ('after_sales', 'aftersales', '售后') then 'after_sales'
            else 'other'
        end as team
    from latest
)

select * from renamed
