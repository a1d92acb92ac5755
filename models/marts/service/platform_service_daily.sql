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

-- The presets' distinct assessment rules (window, SLA, round cap): most presets share
-- one (8:00-23:00, 180 s), and a rule's figures do not depend on the preset's unit or
-- name. Each round is read once per rule, not once per preset, and the preset's rows
-- are the rule's (issue 13: a year's query 4.6-5.5 s -> 1.5-2.1 s with five presets
-- of two rules, the same rows).
preset_rules as (
    select distinct
        window_start,
        window_end,
        sla_s,
        round_cap_s
    from platform_presets
),

-- Every round under every rule: each account-day with a received reception has a
-- round, so the account-day x preset rows all exist, assessed or not.
rule_rounds as (
    select
        windowed.shop_id,
        windowed.agent_id,
        windowed.buyer_id,
        preset_rules.window_start,
        preset_rules.window_end,
        preset_rules.sla_s,
        preset_rules.round_cap_s,
        least(coalesce(windowed.wait_s, preset_rules.round_cap_s), preset_rules.round_cap_s)
            as capped_wait_s,
        {{ kefu_in_time_window(
            kefu_time_of_day('windowed.asked_at'), 'preset_rules.window_start', 'preset_rules.window_end'
        ) }} as is_assessed,
        coalesce(windowed.wait_s <= preset_rules.sla_s, false) as is_within_sla,
        windowed.is_session_first_round,
        windowed.biz_date
    from windowed
    cross join preset_rules
),

rule_receptions as (
    select
        shop_id,
        agent_id,
        buyer_id,
        window_start,
        window_end,
        sla_s,
        round_cap_s,
        count(*) filter (where is_assessed) as assessed_round_cnt,
        count(*) filter (where is_assessed and is_within_sla) as within_sla_round_cnt,
        count(*) filter (where is_assessed and is_session_first_round) as assessed_session_cnt,
        count(*) filter (where is_assessed and is_session_first_round and is_within_sla)
            as within_sla_session_cnt,
        {{ kefu_seconds_sum('capped_wait_s', 'is_assessed') }} as capped_wait_total_s,
        biz_date
    from rule_rounds
    group by shop_id, agent_id, buyer_id, biz_date, window_start, window_end, sla_s, round_cap_s
),

rule_account_days as (
    select
        shop_id,
        agent_id,
        window_start,
        window_end,
        sla_s,
        round_cap_s,
        {{ kefu_count_sum('assessed_round_cnt') }} as assessed_round_cnt,
        {{ kefu_count_sum('within_sla_round_cnt') }} as within_sla_round_cnt,
        count(*) filter (where assessed_round_cnt > 0) as assessed_buyer_cnt,
        count(*) filter (where assessed_round_cnt > 0 and within_sla_round_cnt = assessed_round_cnt)
            as within_sla_buyer_cnt,
        {{ kefu_count_sum('assessed_session_cnt') }} as assessed_session_cnt,
        {{ kefu_count_sum('within_sla_session_cnt') }} as within_sla_session_cnt,
        {{ kefu_seconds_sum('capped_wait_total_s') }} as capped_wait_total_s,
        biz_date
    from rule_receptions
    group by shop_id, agent_id, biz_date, window_start, window_end, sla_s, round_cap_s
),

-- Each preset takes its rule's rows (an empty window or SLA matches its like).
preset_account_days as (
    select
        rule_account_days.shop_id,
        rule_account_days.agent_id,
        platform_presets.preset,
        platform_presets.unit,
        platform_presets.sla_s,
        rule_account_days.assessed_round_cnt,
        rule_account_days.within_sla_round_cnt,
        rule_account_days.assessed_buyer_cnt,
        rule_account_days.within_sla_buyer_cnt,
        rule_account_days.assessed_session_cnt,
        rule_account_days.within_sla_session_cnt,
        rule_account_days.capped_wait_total_s,
        rule_account_days.biz_date
    from rule_account_days
    inner join platform_presets
        on rule_account_days.window_start is not distinct from platform_presets.window_start
            and rule_account_days.window_end is not distinct from platform_presets.window_end
            and rule_account_days.sla_s is not distinct from platform_presets.sla_s
            and rule_account_days.round_cap_s is not distinct from platform_presets.round_cap_s
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
