-- One row per credited order still unpaid as of the as-of date (催付 list):
-- created on or before as_of_date and not paid by its end (no paid_at in the
-- latest version, or a payment dated after as_of_date), with the
-- credited account to follow it up. hours_since_order counts to the end of the
-- as-of date, never to the wall clock, so the same inputs give the same list.
-- The credit is the one known as of that date: an order paid after it was
-- still unpaid then, so its payment credit (from replies up to paid_at) does
-- not count; it keeps the credit an unpaid order gets under the shop's
-- attribution_mode (the order credit, none in payment mode) and is left out
-- when that is none.
with

int_orders_credited as (
    select * from {{ ref('int_orders_credited') }}
),

stg_exports__agents as (
    select * from {{ ref('stg_exports__agents') }}
),

as_of as (
    select {{ kefu_as_of_date() }} as as_of_date
),

unpaid_orders as (
    select
        int_orders_credited.shop_id,
        int_orders_credited.order_id,
        case
            when not int_orders_credited.is_paid then int_orders_credited.credited_agent_id
            when int_orders_credited.attribution_mode <> 'payment' then int_orders_credited.order_agent_id
        end as credited_agent_id,
        int_orders_credited.buyer_id,
        int_orders_credited.amount,
        int_orders_credited.quantity,
        int_orders_credited.created_at,
        as_of.as_of_date
    from int_orders_credited
    cross join as_of
    where
        (not int_orders_credited.is_paid or int_orders_credited.paid_date > as_of.as_of_date)
        and int_orders_credited.created_date <= as_of.as_of_date
),

unpaid_credited_orders as (
    select * from unpaid_orders
    where credited_agent_id is not null
),

listed as (
    select
        unpaid_credited_orders.shop_id,
        unpaid_credited_orders.order_id,
        unpaid_credited_orders.credited_agent_id,
        {{ kefu_buyer_key('unpaid_credited_orders.buyer_id') }} as buyer_id,
        coalesce(stg_exports__agents.agent_name, unpaid_credited_orders.credited_agent_id) as agent_name,
        unpaid_credited_orders.amount,
        unpaid_credited_orders.quantity,
        {{ kefu_seconds_between(
            'unpaid_credited_orders.created_at', kefu_day_end('unpaid_credited_orders.as_of_date')
        ) }} / 3600.0 as hours_since_order,
        unpaid_credited_orders.as_of_date,
        unpaid_credited_orders.created_at
    from unpaid_credited_orders
    left join stg_exports__agents
        on unpaid_credited_orders.shop_id = stg_exports__agents.shop_id
            and unpaid_credited_orders.credited_agent_id = stg_exports__agents.agent_id
)

select * from listed
