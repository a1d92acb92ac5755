-- One row per (shop_id, agent_id, biz_date) with a reception, a credited sale,
-- an assist or a rating: the agent scorecard of docs/metrics.md §14.
-- Service and conversion figures are dated by the reception day, sales and
-- assists by the payment day, ratings by the rating day.
-- Each per-day input is read for the window's days only (every join is on
-- biz_date), so the views behind them compute those days, not the history.
with

int_agent_days_serviced as (
    select * from {{ ref('int_agent_days_serviced') }}
    where {{ kefu_in_window('biz_date') }}
),

int_agent_days_converted as (
    select * from {{ ref('int_agent_days_converted') }}
    where {{ kefu_in_window('biz_date') }}
),

int_agent_days_sold as (
    select * from {{ ref('int_agent_days_sold') }}
    where {{ kefu_in_window('biz_date') }}
),

int_agent_days_assisted as (
    select * from {{ ref('int_agent_days_assisted') }}
    where {{ kefu_in_window('biz_date') }}
),

int_agent_days_rated as (
    select * from {{ ref('int_agent_days_rated') }}
    where {{ kefu_in_window('biz_date') }}
),

int_shops_completed as (
    select * from {{ ref('int_shops_completed') }}
),

stg_exports__agents as (
    select * from {{ ref('stg_exports__agents') }}
),

agent_days as (
    select
        shop_id,
        agent_id,
        biz_date
    from int_agent_days_serviced
    union
    select
        shop_id,
        agent_id,
        biz_date
    from int_agent_days_sold
    union
    select
        shop_id,
        agent_id,
        biz_date
    from int_agent_days_assisted
    union
    select
        shop_id,
        agent_id,
        biz_date
    from int_agent_days_rated
),

windowed as (
    select * from agent_days
    where {{ kefu_in_window('biz_date') }}
),

joined as (
    select
        windowed.shop_id,
        windowed.agent_id,
        coalesce(stg_exports__agents.agent_name, windowed.agent_id) as agent_name,
        coalesce(int_agent_days_serviced.consult_buyer_cnt, 0) as consult_buyer_cnt,
        coalesce(int_agent_days_serviced.filtered_buyer_cnt, 0) as filtered_buyer_cnt,
        coalesce(int_agent_days_serviced.received_buyer_cnt, 0) as received_buyer_cnt,
        coalesce(int_agent_days_serviced.replied_buyer_cnt, 0) as replied_buyer_cnt,
        coalesce(int_agent_days_serviced.unreplied_buyer_cnt, 0) as unreplied_buyer_cnt,
        coalesce(int_agent_days_serviced.buyer_msg_cnt, 0) as buyer_msg_cnt,
        coalesce(int_agent_days_serviced.agent_msg_cnt, 0) as agent_msg_cnt,
        coalesce(int_agent_days_serviced.first_response_cnt, 0) as first_response_cnt,
        coalesce(int_agent_days_serviced.first_response_total_s, 0) as first_response_total_s,
        coalesce(int_agent_days_serviced.response_cnt, 0) as response_cnt,
        coalesce(int_agent_days_serviced.response_total_s, 0) as response_total_s,
        coalesce(int_agent_days_serviced.round_cnt, 0) as round_cnt,
        coalesce(int_agent_days_serviced.replied_3min_round_cnt, 0) as replied_3min_round_cnt,
        coalesce(int_agent_days_serviced.slow_reception_cnt, 0) as slow_reception_cnt,
        coalesce(int_agent_days_serviced.reception_duration_s, 0) as reception_duration_s,
        coalesce(int_agent_days_serviced.max_concurrent_receptions, 0) as max_concurrent_receptions,
        coalesce(int_agent_days_converted.inquiry_buyer_cnt, 0) as inquiry_buyer_cnt,
        coalesce(int_agent_days_converted.inq_order_cnt, 0) as inq_order_cnt,
        coalesce(int_agent_days_converted.inq_pay_next_day_cnt, 0) as inq_pay_next_day_cnt,
        coalesce(int_agent_days_converted.inq_pay_final_cnt, 0) as inq_pay_final_cnt,
        coalesce(int_agent_days_sold.cs_sales_amt, 0) as cs_sales_amt,
        coalesce(int_agent_days_sold.cs_sales_qty, 0) as cs_sales_qty,
        coalesce(int_agent_days_sold.cs_sales_buyer_cnt, 0) as cs_sales_buyer_cnt,
        coalesce(int_agent_days_sold.cs_order_cnt, 0) as cs_order_cnt,
        coalesce(int_agent_days_sold.refund_amt, 0) as refund_amt,
        coalesce(int_agent_days_assisted.assist_buyer_cnt, 0) as assist_buyer_cnt,
        coalesce(int_agent_days_rated.rating_cnt, 0) as rating_cnt,
        coalesce(int_agent_days_rated.satisfied_cnt, 0) as satisfied_cnt,
        coalesce(int_agent_days_rated.neutral_cnt, 0) as neutral_cnt,
        coalesce(int_agent_days_rated.disappointed_cnt, 0) as disappointed_cnt,
        {{ kefu_maturity_flags('windowed.biz_date', 'int_shops_completed.final_pay_days') }},
        windowed.biz_date
    from windowed
    inner join int_shops_completed
        on windowed.shop_id = int_shops_completed.shop_id
    left join stg_exports__agents
        on windowed.shop_id = stg_exports__agents.shop_id
            and windowed.agent_id = stg_exports__agents.agent_id
    left join int_agent_days_serviced
        on windowed.shop_id = int_agent_days_serviced.shop_id
            and windowed.agent_id = int_agent_days_serviced.agent_id
            and windowed.biz_date = int_agent_days_serviced.biz_date
    left join int_agent_days_converted
        on windowed.shop_id = int_agent_days_converted.shop_id
            and windowed.agent_id = int_agent_days_converted.agent_id
            and windowed.biz_date = int_agent_days_converted.biz_date
    left join int_agent_days_sold
        on windowed.shop_id = int_agent_days_sold.shop_id
            and windowed.agent_id = int_agent_days_sold.agent_id
            and windowed.biz_date = int_agent_days_sold.biz_date
    left join int_agent_days_assisted
        on windowed.shop_id = int_agent_days_assisted.shop_id
            and windowed.agent_id = int_agent_days_assisted.agent_id
            and windowed.biz_date = int_agent_days_assisted.biz_date
    left join int_agent_days_rated
        on windowed.shop_id = int_agent_days_rated.shop_id
            and windowed.agent_id = int_agent_days_rated.agent_id
            and windowed.biz_date = int_agent_days_rated.biz_date
),

derived as (
    select
        joined.*,
        {{ kefu_agent_derived_columns() }}
    from joined
)

select * from derived
