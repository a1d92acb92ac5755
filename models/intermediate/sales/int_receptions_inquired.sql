-- One row per received reception (shop_id, agent_id, buyer_id, biz_date) with
-- its conversion flags (docs/metrics.md §4): following order, after-sale or
-- inquiry, ordered, paid by the end of D+1 and of D + final_pay_days, and the
-- maturity of those figures against the as-of date.
-- Two sets of conversion flags (docs/metrics.md §4.7, v2): the buyer-level ones
-- (is_inquiry, has_order, is_paid_*), over every following order, that shop
-- and team figures count; and the account-level ones (is_account_*,
-- has_account_order), only through following orders that convert this
-- reception's account, with is_assisted for an inquiry whose following orders
-- convert only other accounts. This model is the one place that decides
-- which account an order converts.
-- Incremental on biz_date (dbt_project.yml): a window build rewrites the
-- window's receptions only, reading the orders they can meet; several models
-- and tests read it, so it is stored, not a view.
with

int_receptions_filtered as (
    select * from {{ ref('int_receptions_filtered') }}
    where {{ kefu_in_build_window('biz_date') }}
),

int_shops_completed as (
    select * from {{ ref('int_shops_completed') }}
),

-- The orders the window's receptions can meet (created from D − after_sale_days
-- to D+1, macros/build_window.sql): every order in a full build.
int_orders_credited as (
    select int_orders_credited.*
    from {{ ref('int_orders_credited') }} as int_orders_credited
    inner join int_shops_completed
        on int_orders_credited.shop_id = int_shops_completed.shop_id
    where {{ kefu_orders_for_conversion('int_orders_credited.created_date', 'int_shops_completed.after_sale_days') }}
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
        - {{ kefu_days_interval('cast(int_shops_completed.after_sale_days as integer)') }} as after_sale_start_at,
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
-- The converting account of an order (docs/metrics.md §4.7): its credited account
-- (§5.2–5.3) once paid, its order-time account (下单判定) while not yet paid,
-- nobody for a silent order. "Paid" is judged at the end of D +
-- final_pay_days, the instant day D's figures become final: a payment after
-- it changes neither the day's payments nor which account the order converts
-- for that day, so final figures stay final and a day depends only on orders
-- paid up to D + final_pay_days (docs/decisions.md).
nearby_orders as (
    select
        received_receptions.shop_id,
        received_receptions.agent_id,
        received_receptions.buyer_id,
        received_receptions.biz_date,
        case
            when int_orders_credited.paid_at < received_receptions.final_day_end_at
                then int_orders_credited.credited_agent_id
            else int_orders_credited.order_agent_id
        end as converting_agent_id,
        int_orders_credited.created_at >= received_receptions.first_message_at as is_following,
        int_orders_credited.created_at < received_receptions.first_message_at
        and int_orders_credited.paid_at < received_receptions.first_message_at as is_earlier_paid,
        int_orders_credited.paid_at < received_receptions.next_day_end_at as is_paid_by_next_day_end,
        int_orders_credited.paid_at < received_receptions.final_day_end_at as is_paid_by_final_day_end
    from received_receptions
    inner join int_orders_credited
        on received_receptions.shop_id = int_orders_credited.shop_id
            and received_receptions.buyer_id = int_orders_credited.buyer_id
            and received_receptions.after_sale_start_at <= int_orders_credited.created_at
            and received_receptions.next_day_end_at > int_orders_credited.created_at
),

following_orders as (
    select
        shop_id,
        agent_id,
        buyer_id,
        biz_date,
        coalesce(converting_agent_id = agent_id, false) as converts_this_account,
        coalesce(converting_agent_id <> agent_id, false) as converts_other_account,
        is_paid_by_next_day_end,
        is_paid_by_final_day_end
    from nearby_orders
    where is_following
),

following_facts as (
    select
        shop_id,
        agent_id,
        buyer_id,
        biz_date,
        bool_or(is_paid_by_next_day_end) as has_following_paid_next_day,
        bool_or(is_paid_by_final_day_end) as has_following_paid_final,
        bool_or(converts_this_account) as has_converting_order,
        bool_or(converts_this_account and is_paid_by_next_day_end) as has_converting_paid_next_day,
        bool_or(converts_this_account and is_paid_by_final_day_end) as has_converting_paid_final,
        bool_or(converts_other_account) as has_other_converting_order
    from following_orders
    group by shop_id, agent_id, buyer_id, biz_date
),

earlier_paid as (
    select distinct
        shop_id,
        agent_id,
        buyer_id,
        biz_date
    from nearby_orders
    where is_earlier_paid
),

with_order_facts as (
    select
        received_receptions.shop_id,
        received_receptions.agent_id,
        received_receptions.buyer_id,
        received_receptions.final_pay_days,
        following_facts.shop_id is not null as has_following_order,
        earlier_paid.shop_id is not null as has_earlier_paid_order,
        coalesce(following_facts.has_following_paid_next_day, false) as has_following_paid_next_day,
        coalesce(following_facts.has_following_paid_final, false) as has_following_paid_final,
        coalesce(following_facts.has_converting_order, false) as has_converting_order,
        coalesce(following_facts.has_converting_paid_next_day, false) as has_converting_paid_next_day,
        coalesce(following_facts.has_converting_paid_final, false) as has_converting_paid_final,
        coalesce(following_facts.has_other_converting_order, false) as has_other_converting_order,
        received_receptions.biz_date,
        received_receptions.first_message_at
    from received_receptions
    left join following_facts
        on received_receptions.shop_id = following_facts.shop_id
            and received_receptions.agent_id = following_facts.agent_id
            and received_receptions.buyer_id = following_facts.buyer_id
            and received_receptions.biz_date = following_facts.biz_date
    left join earlier_paid
        on received_receptions.shop_id = earlier_paid.shop_id
            and received_receptions.agent_id = earlier_paid.agent_id
            and received_receptions.buyer_id = earlier_paid.buyer_id
            and received_receptions.biz_date = earlier_paid.biz_date
),

-- After-sale (售后): an earlier paid order and no following order. Every
-- other received reception is an inquiry (询单), replied or not; a following
-- order always makes an inquiry, so has_order = has_following_order.
-- Assisted (协助): a following order converts another account and none
-- converts this one.
classified as (
    select
        *,
        has_earlier_paid_order and not has_following_order as is_after_sale,
        not has_earlier_paid_order or has_following_order as is_inquiry,
        not has_converting_order and has_other_converting_order as is_assisted
    from with_order_facts
),

-- An assisted inquiry counts for the shop, not for the account.
flagged as (
    select
        shop_id,
        agent_id,
        buyer_id,
        has_following_order,
        is_after_sale,
        is_inquiry,
        has_following_order as has_order,
        has_following_paid_next_day as is_paid_next_day,
        has_following_paid_final as is_paid_final,
        is_assisted,
        is_inquiry and not is_assisted as is_account_inquiry,
        has_converting_order as has_account_order,
        has_converting_paid_next_day as is_account_paid_next_day,
        has_converting_paid_final as is_account_paid_final,
        {{ kefu_maturity_flags('biz_date', 'final_pay_days') }},
        biz_date,
        first_message_at
    from classified
)

select * from flagged
