{{
    config(
        materialized='incremental',
        incremental_strategy=kefu_window_strategy(),
        partition_by=kefu_window_partition(['biz_date']),
        pre_hook="{{ kefu_delete_shifted_window('biz_date', kefu_assessment_days_after()) }}",
    )
}}
-- One row per (shop_id, preset, biz_date) for each day a shop has a received
-- reception: the shop's platform indicator over the preset's assessment
-- period, the assessment_days days ending on biz_date, summed over every
-- account's platform_service_daily rows (docs/metrics.md §14, §10).
-- Incremental: a day's figure reads the days before it, so a window build
-- rewrites the window's days and the assessment_days − 1 days after them
-- (their periods contain a rebuilt day), and reads only the days those
-- periods cover.
with

platform_service_daily as (
    select * from {{ ref('platform_service_daily') }}
    where {{ kefu_in_shifted_window('biz_date', kefu_assessment_days_after(), kefu_assessment_days_after()) }}
),

platform_presets as (
    select * from {{ ref('platform_presets') }}
),

shop_days as (
    select
        shop_id,
        preset,
        {{ kefu_count_sum('assessed_cnt') }} as assessed_cnt,
        {{ kefu_count_sum('within_sla_cnt') }} as within_sla_cnt,
        {{ kefu_count_sum('capped_round_cnt') }} as capped_round_cnt,
        {{ kefu_seconds_sum('capped_wait_total_s') }} as capped_wait_total_s,
        biz_date
    from platform_service_daily
    group by shop_id, preset, biz_date
),

rebuilt_days as (
    select * from shop_days
    where {{ kefu_in_shifted_window('biz_date', '0', kefu_assessment_days_after()) }}
),

assessed_days as (
    select
        rebuilt_days.shop_id,
        rebuilt_days.preset,
        platform_presets.assessment_days,
        platform_presets.pass_rate,
        rebuilt_days.biz_date
    from rebuilt_days
    inner join platform_presets
        on rebuilt_days.preset = platform_presets.preset
),

summed as (
    select
        assessed_days.shop_id,
        assessed_days.preset,
        assessed_days.assessment_days,
        {{ kefu_count_sum('period_days.assessed_cnt') }} as assessed_cnt,
        {{ kefu_count_sum('period_days.within_sla_cnt') }} as within_sla_cnt,
        {{ kefu_count_sum('period_days.capped_round_cnt') }} as capped_round_cnt,
        {{ kefu_seconds_sum('period_days.capped_wait_total_s') }} as capped_wait_total_s,
        count(*) as active_day_cnt,
        assessed_days.pass_rate,
        assessed_days.biz_date
    from assessed_days
    inner join shop_days as period_days
        on assessed_days.shop_id = period_days.shop_id
            and assessed_days.preset = period_days.preset
            and assessed_days.biz_date - assessed_days.assessment_days < period_days.biz_date
            and assessed_days.biz_date >= period_days.biz_date
    group by
        assessed_days.shop_id,
        assessed_days.preset,
        assessed_days.assessment_days,
        assessed_days.pass_rate,
        assessed_days.biz_date
),

rated as (
    select
        shop_id,
        preset,
        assessment_days,
        active_day_cnt,
        assessed_cnt,
        within_sla_cnt,
        {{ kefu_ratio('within_sla_cnt', 'assessed_cnt') }} as sla_reply_rate,
        capped_round_cnt,
        capped_wait_total_s,
        {{ kefu_ratio('capped_wait_total_s', 'capped_round_cnt') }} as capped_avg_response_s,
        pass_rate,
        {{ kefu_ratio('within_sla_cnt', 'assessed_cnt') }} >= pass_rate as is_passing,
        biz_date - assessment_days + 1 as period_start_date,
        biz_date
    from summed
)

select * from rated
