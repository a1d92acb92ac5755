{#- Column lists of the KPI marts, shared by the daily marts and the weekly /
    monthly roll-ups so that every rate is derived the same way from summed
    numerators and denominators (docs/metrics.md §8). -#}

{#- Rates and averages of the agent KPI marts, from the additive columns of the
    same row. Rates are DOUBLE and NULL on an empty denominator; 客单价 / 客件数
    are rounded to 2 decimals, half away from zero. -#}
{% macro kefu_agent_derived_columns() -%}
    {{ kefu_ratio('replied_buyer_cnt', 'received_buyer_cnt') }} as reply_rate,
    {{ kefu_ratio('agent_msg_cnt', 'buyer_msg_cnt') }} as answer_question_ratio,
    {{ kefu_ratio('first_response_total_s', 'first_response_cnt') }} as avg_first_response_s,
    {{ kefu_ratio('response_total_s', 'response_cnt') }} as avg_response_s,
    {{ kefu_ratio('replied_3min_round_cnt', 'round_cnt') }} as reply_3min_rate,
    {{ kefu_ratio('reception_duration_s', 'replied_buyer_cnt') }} as avg_reception_duration_s,
    {{ kefu_ratio('inq_pay_next_day_cnt', 'inquiry_buyer_cnt') }} as inq_to_pay_rate_next_day,
    {{ kefu_ratio('inq_pay_final_cnt', 'inquiry_buyer_cnt') }} as inq_to_pay_rate_final,
    {{ kefu_money_ratio('cs_sales_amt', 'cs_sales_buyer_cnt') }} as cs_aov,
    {{ kefu_money_ratio('cs_sales_qty', 'cs_sales_buyer_cnt') }} as cs_items_per_buyer,
    {{ kefu_ratio('satisfied_cnt', 'rating_cnt') }} as good_rate
{%- endmacro %}

{#- Rates and averages of shop_daily_kpis, from the additive columns of the
    same row (the shop roll-ups derive them again from summed parts). -#}
{% macro kefu_shop_derived_columns() -%}
    {{ kefu_ratio('replied_buyer_cnt', 'received_buyer_cnt') }} as reply_rate,
    {{ kefu_ratio('inq_pay_next_day_cnt', 'inquiry_buyer_cnt') }} as inq_to_pay_rate_next_day,
    {{ kefu_ratio('inq_pay_final_cnt', 'inquiry_buyer_cnt') }} as inq_to_pay_rate_final,
    {{ kefu_ratio('agent_msg_cnt', 'buyer_msg_cnt') }} as answer_question_ratio,
    {{ kefu_ratio('first_response_total_s', 'first_response_cnt') }} as avg_first_response_s,
    {{ kefu_ratio('response_total_s', 'response_cnt') }} as avg_response_s,
    {{ kefu_ratio('replied_3min_round_cnt', 'round_cnt') }} as reply_3min_rate,
    {{ kefu_ratio('cs_sales_amt', 'paid_sales_amt') }} as cs_sales_share,
    {{ kefu_money_ratio('cs_sales_amt', 'cs_sales_buyer_cnt') }} as cs_aov,
    {{ kefu_money_ratio('silent_sales_amt', 'silent_buyer_cnt') }} as silent_aov
{%- endmacro %}

{#- Roll agent_daily_kpis up to a period (ISO week or month) per docs/metrics.md §8:
    counts and totals summed (counts kept BIGINT and money DECIMAL(18,2), not
    DuckDB's HUGEINT / DECIMAL(38,2) sums, for BI drivers), the peak concurrency is the period's maximum,
    rates derived again from the sums, maturity flags true only when every day
    of the period is mature. A roll-up is a full table rebuilt from the daily
    mart (cheap), so a window build refreshes every period it touches. -#}
{% macro kefu_agent_rollup(period_column, period_expression) -%}
{%- set additive_columns = [
    'consult_buyer_cnt', 'filtered_buyer_cnt', 'received_buyer_cnt', 'replied_buyer_cnt',
    'unreplied_buyer_cnt', 'buyer_msg_cnt', 'agent_msg_cnt',
    'first_response_cnt', 'first_response_total_s', 'response_cnt', 'response_total_s',
    'round_cnt', 'replied_3min_round_cnt', 'slow_reception_cnt', 'reception_duration_s',
    'inquiry_buyer_cnt', 'inq_order_cnt', 'inq_pay_next_day_cnt', 'inq_pay_final_cnt',
    'cs_sales_amt', 'cs_sales_qty', 'cs_sales_buyer_cnt', 'cs_order_cnt', 'assist_buyer_cnt',
    'refund_amt',
    'rating_cnt', 'satisfied_cnt', 'neutral_cnt', 'disappointed_cnt',
    ] -%}
with

agent_daily_kpis as (
    select * from {{ ref('agent_daily_kpis') }}
),

summed as (
    select
        shop_id,
        agent_id,
        {{ period_expression }} as {{ period_column }},
        max(agent_name) as agent_name,
        count(*) as active_day_cnt,
        {%- for column in additive_columns %}
        {%- if column.endswith('_amt') %}
        cast(sum({{ column }}) as decimal(18, 2)) as {{ column }},
        {%- elif column.endswith('_s') %}
        sum({{ column }}) as {{ column }},
        {%- else %}
        cast(sum({{ column }}) as bigint) as {{ column }},
        {%- endif %}
        {%- endfor %}
        max(max_concurrent_receptions) as max_concurrent_receptions,
        bool_and(is_next_day_final) as is_next_day_final,
        bool_and(is_final) as is_final,
        min(biz_date) as first_biz_date,
        max(biz_date) as last_biz_date
    from agent_daily_kpis
    group by shop_id, agent_id, {{ period_expression }}
),

derived as (
    select
        summed.*,
        {{ kefu_agent_derived_columns() }}
    from summed
)

select * from derived
{%- endmacro %}
