{{
    config(
        materialized='incremental',
        incremental_strategy=kefu_window_strategy(),
        partition_by=kefu_window_partition(['period', 'period_start']),
        pre_hook="{{ kefu_delete_period_window('period', 'period_start') }}",
    )
}}
-- One row per (shop_id, agent_id, period, period_start, metric) for every
-- metric with a target (docs/metrics.md §14, §11): the agent's day, ISO
-- week and month figures against the shop's target. A shop's own row of seed
-- kpi_targets wins over its ruleset's row. A NULL value (no activity) is
-- neither met nor missed: is_met NULL. Incremental: a window build rewrites
-- its days and the weeks and months holding them.
-- The metrics a target may name (seed kpi_targets accepts these).
{%- set metrics = [
    'reply_rate', 'avg_first_response_s', 'avg_response_s', 'good_rate', 'reply_3min_rate',
    'inq_to_pay_rate_next_day', 'inq_to_pay_rate_final', 'answer_question_ratio',
    'avg_reception_duration_s',
] %}
with

agent_daily_kpis as (
    select * from {{ ref('agent_daily_kpis') }}
),

agent_weekly_kpis as (
    select * from {{ ref('agent_weekly_kpis') }}
),

agent_monthly_kpis as (
    select * from {{ ref('agent_monthly_kpis') }}
),

kpi_targets as (
    select * from {{ ref('kpi_targets') }}
),

int_shops_completed as (
    select * from {{ ref('int_shops_completed') }}
),

-- The shop's own row first, else its ruleset's.
shop_target_candidates as (
    select
        int_shops_completed.shop_id,
        kpi_targets.metric,
        kpi_targets.comparator,
        kpi_targets.target_value,
        kpi_targets.source as target_source,
        kpi_targets.shop_id is null as is_ruleset_target
    from int_shops_completed
    inner join kpi_targets
        on int_shops_completed.shop_id = kpi_targets.shop_id
            or (kpi_targets.shop_id is null and int_shops_completed.ruleset = kpi_targets.ruleset)
),

shop_targets as (
    {{ kefu_first_row('shop_target_candidates', 'shop_id, metric', 'is_ruleset_target') }}
),

agent_periods as (
    select
        shop_id,
        agent_id,
        agent_name,
        'day' as period,
        {{ kefu_column_list(metrics) }},
        biz_date as period_start
    from agent_daily_kpis
    union all
    select
        shop_id,
        agent_id,
        agent_name,
        'week' as period,
        {{ kefu_column_list(metrics) }},
        week_start as period_start
    from agent_weekly_kpis
    union all
    select
        shop_id,
        agent_id,
        agent_name,
        'month' as period,
        {{ kefu_column_list(metrics) }},
        month_start as period_start
    from agent_monthly_kpis
),

windowed as (
    select * from agent_periods
    where {{ kefu_period_in_window('period', 'period_start') }}
),

metric_values as (
    {{ kefu_metric_rows('windowed', ['shop_id', 'agent_id', 'agent_name', 'period', 'period_start'], metrics) }}
),

checked as (
    select
        metric_values.shop_id,
        metric_values.agent_id,
        metric_values.agent_name,
        metric_values.period,
        metric_values.metric,
        shop_targets.comparator,
        shop_targets.target_source,
        metric_values.metric_value as value,
        shop_targets.target_value,
        case shop_targets.comparator
            when '>=' then metric_values.metric_value >= shop_targets.target_value
            when '<=' then metric_values.metric_value <= shop_targets.target_value
        end as is_met,
        metric_values.period_start
    from metric_values
    inner join shop_targets
        on metric_values.shop_id = shop_targets.shop_id
            and metric_values.metric = shop_targets.metric
)

select * from checked
