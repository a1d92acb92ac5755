-- One row per (shop_id, biz_date) with a reception or a paid order. Buyer
-- counts are de-duplicated per shop and day; message and response figures are
-- summed over the accounts; sales are dated by the payment day (docs/metrics.md §14).
-- Each per-day input is read for the window's days only (every join is on
-- biz_date), so the views behind them compute those days, not the history.
with

int_shop_days_serviced as (
    select * from {{ ref('int_shop_days_serviced') }}
    where {{ kefu_in_window('biz_date') }}
),

int_shop_days_converted as (
    select * from {{ ref('int_shop_days_converted') }}
    where {{ kefu_in_window('biz_date') }}
),

int_shop_days_sold as (
    select * from {{ ref('int_shop_days_sold') }}
    where {{ kefu_in_window('biz_date') }}
),

int_shops_completed as (
    select * from {{ ref('int_shops_completed') }}
),

shop_days as (
    select
        shop_id,
        biz_date
    from int_shop_days_serviced
    union
    select
        shop_id,
        biz_date
    from int_shop_days_sold
),

windowed as (
    select * from shop_days
    where {{ kefu_in_window('biz_date') }}
),

joined as (
    select
        windowed.shop_id,
        coalesce(int_shop_days_serviced.consult_buyer_cnt, 0) as consult_buyer_cnt,
        coalesce(int_shop_days_serviced.filtered_buyer_cnt, 0) as filtered_buyer_cnt,
        coalesce(int_shop_days_serviced.received_buyer_cnt, 0) as received_buyer_cnt,
        coalesce(int_shop_days_serviced.replied_buyer_cnt, 0) as replied_buyer_cnt,
        coalesce(int_shop_days_serviced.unreplied_buyer_cnt, 0) as unreplied_buyer_cnt,
        coalesce(int_shop_days_converted.inquiry_buyer_cnt, 0) as inquiry_buyer_cnt,
        coalesce(int_shop_days_converted.inq_order_cnt, 0) as inq_order_cnt,
        coalesce(int_shop_days_converted.inq_pay_next_day_cnt, 0) as inq_pay_next_day_cnt,
        coalesce(int_shop_days_converted.inq_pay_final_cnt, 0) as inq_pay_final_cnt,
        coalesce(int_shop_days_serviced.buyer_msg_cnt, 0) as buyer_msg_cnt,
        coalesce(int_shop_days_serviced.agent_msg_cnt, 0) as agent_msg_cnt,
        coalesce(int_shop_days_serviced.first_response_cnt, 0) as first_response_cnt,
        coalesce(int_shop_days_serviced.first_response_total_s, 0) as first_response_total_s,
        coalesce(int_shop_days_serviced.response_cnt, 0) as response_cnt,
        coalesce(int_shop_days_serviced.response_total_s, 0) as response_total_s,
        coalesce(int_shop_days_serviced.round_cnt, 0) as round_cnt,
        coalesce(int_shop_days_serviced.replied_3min_round_cnt, 0) as replied_3min_round_cnt,
        coalesce(int_shop_days_sold.paid_sales_amt, 0) as paid_sales_amt,
        coalesce(int_shop_days_sold.paid_buyer_cnt, 0) as paid_buyer_cnt,
        coalesce(int_shop_days_sold.cs_sales_amt, 0) as cs_sales_amt,
        coalesce(int_shop_days_sold.cs_sales_buyer_cnt, 0) as cs_sales_buyer_cnt,
        coalesce(int_shop_days_sold.silent_sales_amt, 0) as silent_sales_amt,
        coalesce(int_shop_days_sold.silent_buyer_cnt, 0) as silent_buyer_cnt,
        coalesce(int_shop_days_sold.refund_amt, 0) as refund_amt,
        {{ kefu_maturity_flags('windowed.biz_date', 'int_shops_completed.final_pay_days') }},
        windowed.biz_date
    from windowed
    inner join int_shops_completed
        on windowed.shop_id = int_shops_completed.shop_id
    left join int_shop_days_serviced
        on windowed.shop_id = int_shop_days_serviced.shop_id
            and windowed.biz_date = int_shop_days_serviced.biz_date
    left join int_shop_days_converted
        on windowed.shop_id = int_shop_days_converted.shop_id
            and windowed.biz_date = int_shop_days_converted.biz_date
    left join int_shop_days_sold
        on windowed.shop_id = int_shop_days_sold.shop_id
            and windowed.biz_date = int_shop_days_sold.biz_date
),

derived as (
    select
        joined.*,
        {{ kefu_shop_derived_columns() }}
    from joined
)

select * from derived
