{#- Rules of conversion, sales credit and satisfaction (docs/metrics.md §4, §5, §7)
    used by more than one model. -#}

{#- The end of local day `date_column` + `days_after`, as a timestamp: the
    first instant that no longer belongs to that day ("before the end of D+1"
    means `< kefu_day_end('biz_date', 1)`). -#}
{% macro kefu_day_end(date_column, days_after=0) -%}
    cast({{ date_column }} + cast({{ days_after }} as integer) + 1 as timestamp)
{%- endmacro %}

{#- First reception date of the consult window (docs/metrics.md §5.2, §5.5): a reply
    in a reception dated on or after `date_column` − consult_window_days can
    earn (or assist) an order of `date_column`. -#}
{% macro kefu_consult_window_start(date_column, days_column) -%}
    ({{ date_column }} - cast({{ days_column }} as integer))
{%- endmacro %}

{#- The credits of docs/metrics.md §5.2, as a select of (shop_id, order_id, anchor,
    agent_id): for each row of `anchors` (shop_id, order_id, buyer_id,
    consult_window_days, anchor, anchor_at, anchor_date), the account of the latest
    serving reply at or before anchor_at, in a reception dated from anchor_date −
    consult_window_days on; agent_id NULL when there is none. int_orders_credited
    passes each order twice, anchor 'order' at its creation and 'payment' at its
    payment: one pass over the replies for both credits (issue 13: a year's query
    4.5-4.8 s -> 3.5-3.6 s, against one pass per credit).

    `serving_instants` holds one row per (shop_id, buyer_id, sent_at) with the
    smallest agent_id replying at that instant (the tie rule), so an ASOF join
    finds the latest reply in one pass instead of pairing every reply with
    every order of the buyer. A reply older than the window is the latest one
    only when every other is older still, so checking the window after the
    join is exact. -#}
{% macro kefu_latest_serving_account(anchors, serving_instants) -%}
    {%- if target is defined -%}
        {{ return(adapter.dispatch('kefu_latest_serving_account', 'kefu')(anchors, serving_instants)) }}
    {%- else -%}
        {{ return(default__kefu_latest_serving_account(anchors, serving_instants)) }}
    {%- endif -%}
{%- endmacro %}

{% macro default__kefu_latest_serving_account(anchors, serving_instants) -%}
    select
        {{ anchors }}.shop_id,
        {{ anchors }}.order_id,
        {{ anchors }}.anchor,
        case
            when {{ serving_instants }}.biz_date
                >= {{ kefu_consult_window_start(anchors ~ '.anchor_date', anchors ~ '.consult_window_days') }}
                then {{ serving_instants }}.agent_id
        end as agent_id
    from {{ anchors }}
    asof left join {{ serving_instants }}
        on {{ anchors }}.shop_id = {{ serving_instants }}.shop_id
        and {{ anchors }}.buyer_id = {{ serving_instants }}.buyer_id
        and {{ anchors }}.anchor_at >= {{ serving_instants }}.sent_at
{%- endmacro %}

{#- Conversion counts of docs/metrics.md §4 over received receptions of
    int_receptions_inquired, grouped by the caller, at one of two levels
    (§4.7, v2). `account`: the account-level flags, through following orders
    that convert the reception's account; an assisted inquiry counts nowhere.
    `buyer`: the buyer-level flags over every following order, for shop and
    team figures, a buyer counting once per group, as inquiry / ordered /
    converted when any of its receptions there is (assisted ones included).
    A group's maturity flags are those of its day.
    Both count rows, each row one buyer of the group, without DuckDB's distinct
    aggregation (a hash table per group and flag; issue 13):
    - `account` over int_receptions_inquired grouped by account and day: its key rule
      is (shop_id, agent_id, buyer_id, biz_date), so a row is one buyer (1.34 s ->
      0.05 s on a year's 1.9M receptions);
    - `buyer` over the rows of kefu_buyer_conversion_flags, grouped by the group's
      columns and buyer_id first (0.83 s -> 0.36 s for a year's shop-days). -#}
{% macro kefu_conversion_counts(level) -%}
    {%- if level == 'account' -%}
        {%- set flags = ['is_account_inquiry', 'has_account_order', 'is_account_paid_next_day', 'is_account_paid_final'] -%}
    {%- elif level == 'buyer' -%}
        {%- set flags = ['is_inquiry', 'has_order', 'is_paid_next_day', 'is_paid_final'] -%}
    {%- else -%}
        {{ exceptions.raise_compiler_error("kefu_conversion_counts: level must be 'account' or 'buyer', got " ~ level) }}
    {%- endif -%}
    count(buyer_id) filter (where {{ flags[0] }}) as inquiry_buyer_cnt,
    count(buyer_id) filter (where {{ flags[1] }}) as inq_order_cnt,
    count(buyer_id) filter (where {{ flags[2] }}) as inq_pay_next_day_cnt,
    count(buyer_id) filter (where {{ flags[3] }}) as inq_pay_final_cnt,
    bool_and(is_next_day_final) as is_next_day_final,
    bool_and(is_final) as is_final
{%- endmacro %}

{#- A buyer's buyer-level conversion flags within a group of receptions of
    int_receptions_inquired (the caller groups by the group's columns and
    buyer_id): inquiry / ordered / converted when any of its receptions is; mature
    when every one is. kefu_conversion_counts('buyer') counts these rows. -#}
{% macro kefu_buyer_conversion_flags() -%}
    bool_or(is_inquiry) as is_inquiry,
    bool_or(has_order) as has_order,
    bool_or(is_paid_next_day) as is_paid_next_day,
    bool_or(is_paid_final) as is_paid_final,
    bool_and(is_next_day_final) as is_next_day_final,
    bool_and(is_final) as is_final
{%- endmacro %}

{#- Σ of a money column over the rows meeting `condition`, DECIMAL(18, 2),
    0 (not NULL) when no row does (docs/metrics.md §8). -#}
{% macro kefu_money_sum(expression, condition='true') -%}
    cast(coalesce(sum({{ expression }}) filter (where {{ condition }}), 0) as decimal(18, 2))
{%- endmacro %}
