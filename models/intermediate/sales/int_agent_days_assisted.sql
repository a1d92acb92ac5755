-- One row per (shop_id, agent_id, biz_date = payment local date) with an
-- assist (协助跟进, docs/metrics.md §5.5): buyers of orders paid that day and
-- credited to another account, to whom this account gave a serving reply from
-- the start of created_date − consult_window_days up to paid_at, both ends
-- included. Silent orders give no assists.
with

int_orders_credited as (
    select * from {{ ref('int_orders_credited') }}
),

int_serving_replies as (
    select * from {{ ref('int_serving_replies') }}
),

credited_paid_orders as (
    select
        shop_id,
        order_id,
        buyer_id,
        credited_agent_id,
        {{ kefu_consult_window_start('created_date', 'consult_window_days') }} as window_start_date,
        paid_date,
        paid_at
    from int_orders_credited
    where is_paid and credited_agent_id is not null
),

assisting_replies as (
    select
        credited_paid_orders.shop_id,
        int_serving_replies.agent_id,
        credited_paid_orders.buyer_id,
        credited_paid_orders.paid_date
    from credited_paid_orders
    inner join int_serving_replies
        on credited_paid_orders.shop_id = int_serving_replies.shop_id
            and credited_paid_orders.buyer_id = int_serving_replies.buyer_id
            and credited_paid_orders.credited_agent_id <> int_serving_replies.agent_id
            and credited_paid_orders.window_start_date <= int_serving_replies.biz_date
            and credited_paid_orders.paid_at >= int_serving_replies.sent_at
),

counted as (
    select
        shop_id,
        agent_id,
        count(distinct buyer_id) as assist_buyer_cnt,
        paid_date as biz_date
    from assisting_replies
    group by shop_id, agent_id, paid_date
)

select * from counted
