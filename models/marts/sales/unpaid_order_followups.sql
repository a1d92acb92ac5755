-- The 催付 list (docs/metrics.md §5.7): one row per order a person should chase
-- for payment as of the as-of date, newest first (followup_rank 1 = the shop's
-- newest order). An order is listed when, as of that date:
-- - its latest version is not paid by the end of the date (no paid_at, or a
--   payment dated after it);
-- - its status is not closed or cancelled (seed order_status_values, matched
--   trimmed and case-insensitively; a status not in the seed counts as open);
-- - it was created on or before the date and has waited no more than the
--   ruleset's payment_window_hours by the end of it (the platform closes an
--   order left unpaid longer);
-- - an account is credited with it as of that date. An order paid after the
--   date was still unpaid then, so its payment credit (from replies up to
--   paid_at) does not count: it keeps the credit an unpaid order gets under the
--   shop's attribution_mode (the order credit; none in payment mode).
-- hours_waited counts to the end of the as-of date, never to the wall clock,
-- so the same inputs give the same list.
with

int_orders_credited as (
    select * from {{ ref('int_orders_credited') }}
),

stg_exports__orders as (
    select * from {{ ref('stg_exports__orders') }}
),

stg_exports__agents as (
    select * from {{ ref('stg_exports__agents') }}
),

int_shops_completed as (
    select * from {{ ref('int_shops_completed') }}
),

order_status_values as (
    select * from {{ ref('order_status_values') }}
),

as_of as (
    select {{ kefu_as_of_date() }} as as_of_date
),

ended_statuses as (
    select distinct lower(trim(status_value)) as status_key
    from order_status_values
    where status_group in ('closed', 'cancelled')
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
        stg_exports__orders.status,
        int_shops_completed.payment_window_hours,
        as_of.as_of_date,
        {{ kefu_seconds_between(
            kefu_instant('int_orders_credited.created_at', 'int_shops_completed.timezone'),
            kefu_instant(kefu_day_end('as_of.as_of_date'), 'int_shops_completed.timezone')
        ) }} / 3600.0 as hours_waited
    from int_orders_credited
    cross join as_of
    inner join stg_exports__orders
        on int_orders_credited.shop_id = stg_exports__orders.shop_id
            and int_orders_credited.order_id = stg_exports__orders.order_id
    inner join int_shops_completed
        on int_orders_credited.shop_id = int_shops_completed.shop_id
    left join ended_statuses
        on lower(trim(stg_exports__orders.status)) = ended_statuses.status_key
    where
        (not int_orders_credited.is_paid or int_orders_credited.paid_date > as_of.as_of_date)
        and int_orders_credited.created_date <= as_of.as_of_date
        -- Only an order created in the payment window's last days can be listed
        -- (listed_orders). The bound is at least a day wider than payment_window_hours,
        -- more than any clock change moves a wall time; the hours are still checked on
        -- instants below. The list's cost no longer grows with history (issue 13).
        and int_orders_credited.created_at >= cast(as_of.as_of_date as timestamp)
        - {{ kefu_days_interval('cast(floor(int_shops_completed.payment_window_hours / 24) as integer) + 1') }}
        and ended_statuses.status_key is null
),

listed_orders as (
    select * from unpaid_orders
    where
        credited_agent_id is not null
        and hours_waited <= payment_window_hours
),

ranked as (
    select
        listed_orders.shop_id,
        row_number() over (
            partition by listed_orders.shop_id
            order by listed_orders.created_at desc, listed_orders.order_id desc
        ) as followup_rank,
        listed_orders.order_id,
        listed_orders.status,
        listed_orders.credited_agent_id,
        coalesce(stg_exports__agents.agent_name, listed_orders.credited_agent_id) as agent_name,
        {{ kefu_buyer_key('listed_orders.buyer_id') }} as buyer_id,
        listed_orders.amount,
        listed_orders.quantity,
        listed_orders.created_at,
        listed_orders.hours_waited,
        listed_orders.payment_window_hours,
        listed_orders.as_of_date
    from listed_orders
    left join stg_exports__agents
        on listed_orders.shop_id = stg_exports__agents.shop_id
            and listed_orders.credited_agent_id = stg_exports__agents.agent_id
)

select * from ranked
