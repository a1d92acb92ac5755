{{ config(materialized='table') }}
-- One row per received reception (shop_id, agent_id, buyer_id, biz_date) with
-- its conversion flags (metrics.md §4): following order, after-sale or
-- inquiry, ordered, paid by the end of D+1 and of D + final_pay_days, and the
-- maturity of those figures against the as-of date.
-- A table, not a view: several models and tests read it, so it is computed
-- once per build instead of once per reader (10M-message warehouses).
with

int_receptions_filtered as (
    select * from {{ ref('int_receptions_filtered') }}
),

int_shops_completed as (
    select * from {{ ref('int_shops_completed') }}
),

stg_exports__orders as (
    select * from {{ ref('stg_exports__orders') }}
),

received_receptions as (
    select
        int_receptions_filtered.shop_id,
        int_receptions_filtered.agent_id,
        int_receptions_filtered.buyer_id,
        int_shops_completed.final_pay_days,
        int_receptions_filtered.biz_date,
        int_receptions_filtered.first_message_at,
        int_receptions_filtered.first_message_at
        - to_days(cast(int_shops_completed.after_sale_days as integer)) as after_sale_start_at,
        {{ kefu_day_end('int_receptions_filtered.biz_date', 1) }} as next_day_end_at,
        {{ kefu_day_end('int_receptions_filtered.biz_date', 'int_shops_completed.final_pay_days') }}
            as final_day_end_at
    from int_receptions_filtered
    inner join int_shops_completed
        on int_receptions_filtered.shop_id = int_shops_completed.shop_id
    where not int_receptions_filtered.is_filtered
),

-- Orders of the same shop and buyer that can matter: created from
-- t0 − after_sale_days (earlier paid orders) up to the end of D+1 (following
-- orders). The latest order version counts; status and refunds do not.
nearby_orders as (
    select
        received_receptions.shop_id,
        received_receptions.agent_id,
        received_receptions.buyer_id,
        received_receptions.biz_date,
        stg_exports__orders.created_at >= received_receptions.first_message_at as is_following,
        stg_exports__orders.created_at < received_receptions.first_message_at
        and stg_exports__orders.paid_at < received_receptions.first_message_at as is_earlier_paid,
        stg_exports__orders.paid_at < received_receptions.next_day_end_at as is_paid_by_next_day_end,
        stg_exports__orders.paid_at < received_receptions.final_day_end_at as is_paid_by_final_day_end
    from received_receptions
    inner join stg_exports__orders
        on received_receptions.shop_id = stg_exports__orders.shop_id
            and received_receptions.buyer_id = stg_exports__orders.buyer_id
            and received_receptions.after_sale_start_at <= stg_exports__orders.created_at
            and received_receptions.next_day_end_at > stg_exports__orders.created_at
),

order_facts as (
    select
        shop_id,
        agent_id,
        buyer_id,
        biz_date,
        bool_or(is_following) as has_following_order,
        bool_or(is_earlier_paid) as has_earlier_paid_order,
        bool_or(is_following and is_paid_by_next_day_end) as has_following_paid_next_day,
        bool_or(is_following and is_paid_by_final_day_end) as has_following_paid_final
    from nearby_orders
    group by shop_id, agent_id, buyer_id, biz_date
),

with_order_facts as (
    select
        received_receptions.shop_id,
        received_receptions.agent_id,
        received_receptions.buyer_id,
        received_receptions.final_pay_days,
        coalesce(order_facts.has_following_order, false) as has_following_order,
        coalesce(order_facts.has_earlier_paid_order, false) as has_earlier_paid_order,
        coalesce(order_facts.has_following_paid_next_day, false) as has_following_paid_next_day,
        coalesce(order_facts.has_following_paid_final, false) as has_following_paid_final,
        received_receptions.biz_date,
        received_receptions.first_message_at
    from received_receptions
    left join order_facts
        on received_receptions.shop_id = order_facts.shop_id
            and received_receptions.agent_id = order_facts.agent_id
            and received_receptions.buyer_id = order_facts.buyer_id
            and received_receptions.biz_date = order_facts.biz_date
),

-- After-sale (售后): an earlier paid order and no following order. Every
-- other received reception is an inquiry (询单), replied or not; a following
-- order always makes an inquiry, so has_order = has_following_order.
flagged as (
    select
        shop_id,
        agent_id,
        buyer_id,
        has_following_order,
        has_earlier_paid_order and not has_following_order as is_after_sale,
        not has_earlier_paid_order or has_following_order as is_inquiry,
        has_following_order as has_order,
        has_following_paid_next_day as is_paid_next_day,
        has_following_paid_final as is_paid_final,
        {{ kefu_maturity_flags('biz_date', 'final_pay_days') }},
        biz_date,
        first_message_at
    from with_order_facts
)

select * from flagged
