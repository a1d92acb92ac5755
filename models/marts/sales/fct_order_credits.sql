-- One row per order (shop_id, order_id), its latest version: the accounts its
-- order and payment credits go to, the account credited under the shop's
-- attribution_mode, and whether it is a silent order (docs/metrics.md §14).
-- A view on DuckDB: the rows are int_orders_credited's (incremental by order
-- key), so a build computes nothing here, and a window build no longer copies
-- every order of the history again, as the table did. The publication copies
-- its rows into a table of the published file, as every mart. On Spark, where
-- int_orders_credited is a full table anyway, it stays a table (dbt_project.yml).
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
