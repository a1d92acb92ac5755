{#- Materialisation in dbt_project.yml: incremental on DuckDB, a full table on Spark. -#}
{{ config(
    incremental_strategy='delete+insert',
    unique_key=['shop_id', 'order_id'],
) }}
-- One row per order (shop_id, order_id), its latest version, with its order
-- credit, payment credit and the credit the shop's attribution_mode keeps
-- (docs/metrics.md §5.2–5.3). A paid order with no credit is silent (静默下单).
-- Incremental on the order key: a window build credits anew the orders created
-- or paid in the window or up to consult_window_days after it (a reply of the
-- window can earn them), reading the replies they can meet
-- (macros/build_window.sql); a full build credits every order.
with

stg_exports__orders as (
    select * from {{ ref('stg_exports__orders') }}
),

int_serving_replies as (
    select * from {{ ref('int_serving_replies') }}
),

int_shops_completed as (
    select * from {{ ref('int_shops_completed') }}
),

orders_with_rules as (
    select
        stg_exports__orders.shop_id,
        stg_exports__orders.order_id,
        stg_exports__orders.buyer_id,
        int_shops_completed.attribution_mode,
        stg_exports__orders.amount,
        stg_exports__orders.quantity,
        stg_exports__orders.refund_amount,
        int_shops_completed.consult_window_days,
        stg_exports__orders.is_paid,
        stg_exports__orders.created_date,
        stg_exports__orders.paid_date,
        stg_exports__orders.created_at,
        stg_exports__orders.paid_at
    from stg_exports__orders
    inner join int_shops_completed
        on stg_exports__orders.shop_id = int_shops_completed.shop_id
    where
        {{ kefu_orders_to_credit(
            'stg_exports__orders.created_date',
            'stg_exports__orders.paid_date',
            'int_shops_completed.consult_window_days',
        ) }}
),

paid_orders as (
    select * from orders_with_rules
    where is_paid
),

-- The replies that can earn the orders credited here: the same shop and buyer,
-- in receptions dated from the buyer's earliest order date − consult_window_days
-- to its latest order or payment date. The latest reply before an order is the
-- same without the older ones: older still, it would fall outside the consult
-- window anyway.
buyer_reach as (
    select
        shop_id,
        buyer_id,
        min({{ kefu_consult_window_start('created_date', 'consult_window_days') }}) as first_reply_date,
        max(coalesce(paid_date, created_date)) as last_reply_date
    from orders_with_rules
    group by shop_id, buyer_id
),

-- Ties on time go to the smaller agent_id in text order: keep one account per
-- instant before looking for the latest reply.
serving_instants as (
    select
        int_serving_replies.shop_id,
        int_serving_replies.buyer_id,
        min(int_serving_replies.agent_id) as agent_id,
        int_serving_replies.biz_date,
        int_serving_replies.sent_at
    from int_serving_replies
    inner join buyer_reach
        on int_serving_replies.shop_id = buyer_reach.shop_id
            and int_serving_replies.buyer_id = buyer_reach.buyer_id
            and int_serving_replies.biz_date
            between buyer_reach.first_reply_date and buyer_reach.last_reply_date
    group by
        int_serving_replies.shop_id,
        int_serving_replies.buyer_id,
        int_serving_replies.biz_date,
        int_serving_replies.sent_at
),

-- Each order's two anchors: its creation (the order credit) and, when paid, its
-- payment (the payment credit), credited in one pass over the replies.
credit_anchors as (
    select
        shop_id,
        order_id,
        buyer_id,
        consult_window_days,
        'order' as anchor,
        created_at as anchor_at,
        created_date as anchor_date
    from orders_with_rules
    union all
    select
        shop_id,
        order_id,
        buyer_id,
        consult_window_days,
        'payment' as anchor,
        paid_at as anchor_at,
        paid_date as anchor_date
    from paid_orders
),

anchor_credits as (
    {{ kefu_latest_serving_account('credit_anchors', 'serving_instants') }}
),

order_credits as (
    select * from anchor_credits
    where anchor = 'order'
),

payment_credits as (
    select * from anchor_credits
    where anchor = 'payment'
),

credited as (
    select
        orders_with_rules.shop_id,
        orders_with_rules.order_id,
        orders_with_rules.buyer_id,
        order_credits.agent_id as order_agent_id,
        payment_credits.agent_id as payment_agent_id,
        case orders_with_rules.attribution_mode
            when 'order' then order_credits.agent_id
            when 'payment' then payment_credits.agent_id
            when 'order_first' then coalesce(order_credits.agent_id, payment_credits.agent_id)
        end as credited_agent_id,
        orders_with_rules.attribution_mode,
        orders_with_rules.amount,
        orders_with_rules.quantity,
        orders_with_rules.refund_amount,
        orders_with_rules.consult_window_days,
        orders_with_rules.is_paid,
        orders_with_rules.created_date,
        orders_with_rules.paid_date,
        orders_with_rules.created_at,
        orders_with_rules.paid_at
    from orders_with_rules
    left join order_credits
        on orders_with_rules.shop_id = order_credits.shop_id
            and orders_with_rules.order_id = order_credits.order_id
    left join payment_credits
        on orders_with_rules.shop_id = payment_credits.shop_id
            and orders_with_rules.order_id = payment_credits.order_id
),

flagged as (
    select
        shop_id,
        order_id,
        buyer_id,
        order_agent_id,
        payment_agent_id,
        credited_agent_id,
        attribution_mode,
        amount,
        quantity,
        refund_amount,
        consult_window_days,
        is_paid,
        is_paid and credited_agent_id is null as is_silent,
        created_date,
        paid_date,
        created_at,
        paid_at
    from credited
)

select * from flagged
