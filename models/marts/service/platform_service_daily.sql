-- One row per (shop_id, agent_id, biz_date, preset): every account-day with a
-- received reception times every preset of the seed platform_presets
-- (docs/metrics.md §6). A round is assessed when its first buyer message lies in
-- the preset's [window_start, window_end) local time; the preset's unit says
-- what assessed_cnt / within_sla_cnt count (rounds, buyers or sessions).
with

int_rounds_paired as (
    select * from {{ ref('int_rounds_paired') }}
),

platform_presets as (
    select * from {{ ref('platform_presets') }}
),

windowed as (
    select * from int_rounds_paired
    where {{ kefu_in_window('biz_date') }}
),

-- Every round under every preset: each account-day with a received reception
-- has a round, so the account-day x preset rows all exist, assessed or not.
preset_rounds as (
    select
        windowed.shop_id,
        windowed.agent_id,
        windowed.buyer_id,
        platform_presets.preset,
        platform_presets.unit,
        platform_presets.sla_s,
        least(coalesce(windowed.wait_s, platform_presets.round_cap_s), platform_presets.round_cap_s)
            as capped_wait_s,
        {{ kefu_in_time_window(
            kefu_time_of_day('windowed.asked_at'), 'platform_presets.window_start', 'platform_presets.window_end'
        ) }} as is_assessed,
        coalesce(windowed.wait_s <= platform_presets.sla_s, false) as is_within_sla,
        windowed.is_session_first_round,
        windowed.biz_date
    from windowed
    cross join platform_presets
),

preset_receptions as (
    select
        shop_id,
        agent_id,
        buyer_id,
        preset,
        unit,
        sla_s,
        count(*) filter (where is_assessed) as assessed_round_cnt,
        count(*) filter (where is_assessed and is_within_sla) as within_sla_round_cnt,
        count(*) filter (where is_assessed and is_session_first_round) as assessed_session_cnt,
        count(*) filter (where is_assessed and is_session_first_round and is_within_sla)
            as within_sla_session_cnt,
        {{ kefu_seconds_sum('capped_wait_s', 'is_assessed') }} as capped_wait_total_s,
        biz_date
    from preset_rounds
    group by shop_id, agent_id, buyer_id, biz_date, preset, unit, sla_s
),

preset_account_days as (
    select
        shop_id,
        agent_id,
        preset,
        unit,
        sla_s,
        {{ kefu_count_sum('assessed_round_cnt') }} as assessed_round_cnt,
        {{ kefu_count_sum('within_sla_round_cnt') }} as within_sla_round_cnt,
        count(*) filter (where assessed_round_cnt > 0) as assessed_buyer_cnt,
        count(*) filter (where assessed_round_cnt > 0 and within_sla_round_cnt = assessed_round_cnt)
            as within_sla_buyer_cnt,
        {{ kefu_count_sum('assessed_session_cnt') }} as assessed_session_cnt,
        {{ kefu_count_sum('within_sla_session_cnt') }} as within_sla_session_cnt,
        {{ kefu_seconds_sum('capped_wait_total_s') }} as capped_wait_total_s,
        biz_date
    from preset_receptions
    group by shop_id, agent_id, biz_date, preset, unit, sla_s
),

by_unit as (
    select
        shop_id,
        agent_id,
        preset,
        unit,
        sla_s,
        case unit
            when 'round' then assessed_round_cnt
            when 'buyer' then assessed_buyer_cnt
            when 'session' then assessed_session_cnt
        end as assessed_cnt,
        case unit
            when 'round' then within_sla_round_cnt
            when 'buyer' then within_sla_buyer_cnt
            when 'session' then within_sla_session_cnt
        end as within_sla_cnt,
        assessed_round_cnt as capped_round_cnt,
        capped_wait_total_s,
        biz_date
    from preset_account_days
),

rated as (
    select
        shop_id,
        agent_id,
        preset,
        unit,
        sla_s,
        assessed_cnt,
        within_sla_cnt,
        {{ kefu_ratio('within_sla_cnt', 'assessed_cnt') }} as sla_reply_rate,
        capped_round_cnt,
        capped_wait_total_s,
        {{ kefu_ratio('capped_wait_total_s', 'capped_round_cnt') }} as capped_avg_response_s,
        biz_date
    from by_unit
)

select * from rated
