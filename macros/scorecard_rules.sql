{#- Rules of the scorecard marts (docs/metrics.md §14, §9–§13) used by
    more than one model. -#}

{#- An account's team (docs/metrics.md §9): the team of agents/, `other` for an
    account not listed there. -#}
{% macro kefu_team(team_column) -%}
    coalesce({{ team_column }}, 'other')
{%- endmacro %}

{#- Rates and averages of team_daily_kpis and its roll-ups. -#}
{% macro kefu_team_derived_columns() -%}
    {{ kefu_ratio('replied_buyer_cnt', 'received_buyer_cnt') }} as reply_rate,
    {{ kefu_ratio('inq_pay_next_day_cnt', 'inquiry_buyer_cnt') }} as inq_to_pay_rate_next_day,
    {{ kefu_ratio('inq_pay_final_cnt', 'inquiry_buyer_cnt') }} as inq_to_pay_rate_final,
    {{ kefu_ratio('agent_msg_cnt', 'buyer_msg_cnt') }} as answer_question_ratio,
    {{ kefu_ratio('first_response_total_s', 'first_response_cnt') }} as avg_first_response_s,
    {{ kefu_ratio('response_total_s', 'response_cnt') }} as avg_response_s,
    {{ kefu_ratio('replied_3min_round_cnt', 'round_cnt') }} as reply_3min_rate,
    {{ kefu_money_ratio('cs_sales_amt', 'cs_sales_buyer_cnt') }} as cs_aov,
    {{ kefu_money_ratio('cs_sales_qty', 'cs_sales_buyer_cnt') }} as cs_items_per_buyer,
    {{ kefu_ratio('satisfied_cnt', 'rating_cnt') }} as good_rate
{%- endmacro %}

{#- Roll a daily mart up to a period (ISO week or month) per docs/metrics.md §8,
    §9: counts and totals summed (buyer counts become buyer-days), rates
    derived again from the sums (`level` is 'shop' or 'team'), maturity flags true only
    when every day of the period is mature. A full table rebuilt from the
    daily mart (cheap), like the agent roll-ups, so a window build refreshes
    every period it touches. -#}
{% macro kefu_period_rollup(daily_model, key_columns, period_column, period_expression, level) -%}
{%- if level == 'team' -%}
{%- set additive_columns = [
    'account_cnt', 'consult_buyer_cnt', 'filtered_buyer_cnt', 'received_buyer_cnt',
    'replied_buyer_cnt', 'unreplied_buyer_cnt', 'inquiry_buyer_cnt', 'inq_order_cnt',
    'inq_pay_next_day_cnt', 'inq_pay_final_cnt', 'buyer_msg_cnt', 'agent_msg_cnt',
    'first_response_cnt', 'first_response_total_s', 'response_cnt', 'response_total_s',
    'round_cnt', 'replied_3min_round_cnt', 'slow_reception_cnt', 'cs_sales_amt', 'cs_sales_qty',
    'cs_sales_buyer_cnt', 'cs_order_cnt', 'refund_amt', 'rating_cnt', 'satisfied_cnt',
    'neutral_cnt', 'disappointed_cnt',
    ] -%}
{%- else -%}
{%- set additive_columns = [
    'consult_buyer_cnt', 'filtered_buyer_cnt', 'received_buyer_cnt', 'replied_buyer_cnt',
    'unreplied_buyer_cnt', 'inquiry_buyer_cnt', 'inq_order_cnt', 'inq_pay_next_day_cnt',
    'inq_pay_final_cnt', 'buyer_msg_cnt', 'agent_msg_cnt', 'first_response_cnt',
    'first_response_total_s', 'response_cnt', 'response_total_s', 'round_cnt',
    'replied_3min_round_cnt', 'paid_sales_amt', 'paid_buyer_cnt', 'cs_sales_amt',
    'cs_sales_buyer_cnt', 'silent_sales_amt', 'silent_buyer_cnt', 'refund_amt',
    ] -%}
{%- endif -%}
with

daily as (
    select * from {{ ref(daily_model) }}
),

summed as (
    select
        {%- for column in key_columns %}
        {{ column }},
        {%- endfor %}
        {{ period_expression }} as {{ period_column }},
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
        bool_and(is_next_day_final) as is_next_day_final,
        bool_and(is_final) as is_final,
        min(biz_date) as first_biz_date,
        max(biz_date) as last_biz_date
    from daily
    group by {{ key_columns | join(', ') }}, {{ period_expression }}
),

derived as (
    select
        summed.*,
        {%- if level == 'team' %}
        {{ kefu_team_derived_columns() }}
        {%- else %}
        {{ kefu_shop_derived_columns() }}
        {%- endif %}
    from summed
)

select * from derived
{%- endmacro %}

{#- The window of a build shifted by whole days: with a window, `date_column`
    lies in [start_date − days_before, end_date + days_after] (each shift a SQL
    integer expression); without one, every day. Used by marts whose day reads
    earlier days (the 30-day assessment). -#}
{% macro kefu_in_shifted_window(date_column, days_before='0', days_after='0') -%}
    {%- if kefu_has_window() -%}
        {{ date_column }} between
            {{ "date '" ~ kefu_window_var('start_date') ~ "' - (" ~ days_before ~ ")" if kefu_window_var('start_date') else "date '0001-01-01'" }}
            and {{ "date '" ~ kefu_window_var('end_date') ~ "' + (" ~ days_after ~ ")" if kefu_window_var('end_date') else "date '9999-12-31'" }}
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}

{#- pre_hook of an incremental mart whose rows depend on earlier days: drop
    the rows of the window's days and of the `days_after` days after it. -#}
{% macro kefu_delete_shifted_window(date_column, days_after='0') -%}
    {%- if is_incremental() -%}
        {{ kefu_clear_rows([date_column], kefu_in_shifted_window(date_column, '0', days_after)) }}
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}

{#- How many days after a rebuilt day a rolling assessment still reads it:
    the longest assessment period of the presets seed, minus one
    (docs/metrics.md §10). A SQL expression, evaluated when the build runs. -#}
{% macro kefu_assessment_days_after() -%}
    {{ return("(select coalesce(max(assessment_days), 1) - 1 from " ~ ref('platform_presets') ~ ")") }}
{%- endmacro %}

{#- Rows of kpi_target_status a build rewrites: the window's days, and every
    week and month that holds one of them (their roll-ups change). -#}
{% macro kefu_period_in_window(period_column, period_start_column) -%}
    {%- if kefu_has_window() -%}
        {%- set start = "date '" ~ kefu_window_var('start_date') ~ "'" if kefu_window_var('start_date') else "date '0001-01-01'" -%}
        {%- set end = "date '" ~ kefu_window_var('end_date') ~ "'" if kefu_window_var('end_date') else "date '9999-12-31'" -%}
        {{ period_start_column }} between
            case {{ period_column }}
                when 'week' then cast(date_trunc('week', {{ start }}) as date)
                when 'month' then cast(date_trunc('month', {{ start }}) as date)
                else {{ start }}
            end
            and {{ end }}
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}

{#- pre_hook of kpi_target_status: drop the rows the build writes again. -#}
{% macro kefu_delete_period_window(period_column, period_start_column) -%}
    {%- if is_incremental() -%}
        {{ kefu_clear_rows([period_column, period_start_column], kefu_period_in_window(period_column, period_start_column)) }}
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}

{#- `columns` as a select list (a, b, c). -#}
{% macro kefu_column_list(columns) -%}
    {{ columns | join(', ') }}
{%- endmacro %}

{#- One row per (row of `relation`, metric): the metric's name and value as
    DOUBLE, beside `key_columns` (an unpivot that keeps NULL values). -#}
{% macro kefu_metric_rows(relation, key_columns, metrics) -%}
    {%- for metric in metrics %}
    select
        {{ key_columns | join(', ') }},
        '{{ metric }}' as metric,
        cast({{ metric }} as double) as metric_value
    from {{ relation }}
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
{%- endmacro %}

{#- A buyer message's question topic (docs/metrics.md §12): the topic of seed question_topics
    with the smallest topic_seq (then the smallest topic) one of whose keywords the lowered
    text contains; NULL when none does. The seed's keywords are read when the model runs
    and written into one CASE of constant `contains` tests: joining every message with every
    keyword made a nested loop that cost 18 s on a year of 50,000 messages a day, the CASE
    1.5 s. Before the seed is loaded (a parse, `dbt ls`), no keyword. -#}
{% macro kefu_question_topic(lowered_text) -%}
    {%- set topics = [] -%}
    {%- if execute -%}
        {%- set found = run_query(
            "select topic_seq, topic, lower(keyword) from " ~ ref('question_topics')
            ~ " where keyword is not null and keyword <> '' order by topic_seq, topic, 3"
        ) -%}
        {%- for row in found.rows -%}
            {%- if topics and topics[-1][0] == row[0] and topics[-1][1] == row[1] -%}
                {%- do topics[-1][2].append(row[2]) -%}
            {%- else -%}
                {%- do topics.append((row[0], row[1], [row[2]])) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    {%- if topics -%}
        case
        {%- for topic_seq, topic, keywords in topics %}
            when
            {%- for keyword in keywords %} {{ 'or ' if not loop.first }}contains({{ lowered_text }}, {{ kefu_string_literal(keyword) }})
            {%- endfor %} then {{ kefu_string_literal(topic) }}
        {%- endfor %}
        end
    {%- else -%}
        cast(null as string)
    {%- endif -%}
{%- endmacro %}
