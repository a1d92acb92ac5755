-- One row per (shop_id, agent_id, biz_date, hour) with activity (a buyer
-- message, or an open session of a received reception): the hour's buyers,
-- buyer messages and peak concurrency.
with

int_account_hours_loaded as (
    select * from {{ ref('int_account_hours_loaded') }}
),

windowed as (
    select * from int_account_hours_loaded
    where {{ kefu_in_window('biz_date') }}
)

select * from windowed
