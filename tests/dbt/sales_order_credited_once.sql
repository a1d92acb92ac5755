-- Each order is credited to at most one account, the one its shop's
-- attribution_mode picks (docs/metrics.md §5.2–5.3): order → the order credit,
-- payment → the payment credit, order_first → the order credit, else the
-- payment credit; and every credited paid order of fct_order_credits is
-- counted once in the accounts' cs_order_cnt of its payment day. Returns the
-- orders and shop-days that break this.
with

fct_order_credits as (
    select * from {{ ref('fct_order_credits') }}
    where {{ kefu_in_window('paid_date') }}
),

int_agent_days_sold as (
    select * from {{ ref('int_agent_days_sold') }}
    where {{ kefu_in_window('biz_date') }}
),

credited_per_day as (
    select
        shop_id,
        paid_date as biz_date,
        count(*) as credited_order_cnt
    from fct_order_credits
    where is_paid and credited_agent_id is not null
    group by shop_id, paid_date
),

counted_per_day as (
    select
        shop_id,
        biz_date,
        sum(cs_order_cnt) as counted_order_cnt
    from int_agent_days_sold
    group by shop_id, biz_date
),

day_mismatches as (
    select
        coalesce(credited_per_day.shop_id, counted_per_day.shop_id) as shop_id,
        null as order_id,
        coalesce(credited_per_day.biz_date, counted_per_day.biz_date) as biz_date
    from credited_per_day
    full outer join counted_per_day
        on credited_per_day.shop_id = counted_per_day.shop_id
            and credited_per_day.biz_date = counted_per_day.biz_date
    where coalesce(credited_per_day.credited_order_cnt, 0) <> coalesce(counted_per_day.counted_order_cnt, 0)
),

mode_mismatches as (
    select
        shop_id,
        order_id,
        paid_date as biz_date
    from fct_order_credits
    where
        credited_agent_id is distinct from case attribution_mode
            when 'order' then order_agent_id
            when 'payment' then payment_agent_id
            when 'order_first' then coalesce(order_agent_id, payment_agent_id)
        end
),

mismatches as (
    select * from day_mismatches
    union all
    select * from mode_mismatches
)

select * from mismatches
