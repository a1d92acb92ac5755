-- One row per order (shop_id, order_id), its latest version: the accounts its
-- order and payment credits go to, the account credited under the shop's
-- attribution_mode, and whether it is a silent order (docs/metrics.md §14).
-- A full table on every build: an order's credit depends on replies and order
-- versions anywhere from created_date − consult_window_days to paid_at, so no
-- date window can say which rows a refresh must rewrite.
with

int_orders_credited as (
    select * from {{ ref('int_orders_credited') }}
),

published as (
    select
        shop_id,
        order_id,
        {{ kefu_buyer_key('buyer_id') }} as buyer_id,
        order_agent_id,
        payment_agent_id,
        credited_agent_id,
        attribution_mode,
        amount,
        quantity,
        is_paid,
        is_silent,
        created_date,
        paid_date,
        created_at,
        paid_at
    from int_orders_credited
)

select * from published
