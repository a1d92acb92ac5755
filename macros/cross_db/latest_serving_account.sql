{#- Spark version of kefu_latest_serving_account (macros/sales_rules.sql): Spark
    has no ASOF join, so orders and serving instants are merged into one stream per
    (shop_id, buyer_id) ordered by time, an instant before an order at the same
    time (a reply at `anchor_at` counts), and each order takes the last instant
    seen before it (last(…, true) skips the orders' NULLs). One sort per buyer, no
    pairing of every reply with every order; the same rows as the ASOF join. -#}
{% macro spark__kefu_latest_serving_account(anchors, serving_instants) -%}
    select
        shop_id,
        order_id,
        anchor,
        case
            when latest_biz_date >= {{ kefu_consult_window_start('anchor_date', 'consult_window_days') }}
                then latest_agent_id
        end as agent_id
    from (
        select
            shop_id,
            order_id,
            anchor,
            is_order,
            anchor_date,
            consult_window_days,
            last(agent_id, true) over buyer_so_far as latest_agent_id,
            last(biz_date, true) over buyer_so_far as latest_biz_date
        from (
            select
                shop_id,
                buyer_id,
                order_id,
                anchor,
                cast(null as string) as agent_id,
                true as is_order,
                consult_window_days,
                anchor_date,
                cast(null as date) as biz_date,
                anchor_at as event_at
            from {{ anchors }}
            union all
            select
                shop_id,
                buyer_id,
                cast(null as string) as order_id,
                cast(null as string) as anchor,
                agent_id,
                false as is_order,
                cast(null as integer) as consult_window_days,
                cast(null as date) as anchor_date,
                biz_date,
                sent_at as event_at
            from {{ serving_instants }}
        ) as buyer_events
        window buyer_so_far as (
            partition by shop_id, buyer_id
            order by event_at, is_order
            rows between unbounded preceding and current row
        )
    ) as scanned
    where is_order
{%- endmacro %}
