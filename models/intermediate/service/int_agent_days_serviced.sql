-- Incremental on biz_date, like the marts: a window build deletes and rebuilds
-- only the window's days, reading only those days of its inputs; a day's rows
-- depend only on that day's messages and the master data (docs/decisions.md).
-- One row per (shop_id, agent_id, biz_date) with a reception: the service
-- figures of the agent scorecard (docs/metrics.md §2, §3). Counts and sums are 0 on
-- a row without that activity; rates and averages are NULL on a 0 denominator.
-- Table, not view: the shop-day figures, agent_daily_kpis and the data tests
-- read it (cheap to store: one row per account-day).
with

int_receptions_measured as (
    select * from {{ ref('int_receptions_measured') }}
    where {{ kefu_in_build_window('biz_date') }}
),

int_account_hours_loaded as (
    select * from {{ ref('int_account_hours_loaded') }}
    where {{ kefu_in_build_window('biz_date') }}
),

agent_receptions as (
    select
        shop_id,
        agent_id,
        count(*) as consult_buyer_cnt,
        count(*) filter (where is_filtered) as filtered_buyer_cnt,
        count(*) filter (where not is_filtered) as received_buyer_cnt,
        count(*) filter (where is_replied) as replied_buyer_cnt,
        {{ kefu_count_sum('buyer_msg_cnt') }} as buyer_msg_cnt,
        {{ kefu_count_sum('agent_msg_cnt') }} as agent_msg_cnt,
        count(*) filter (where is_first_round_timed) as first_response_cnt,
        {{ kefu_seconds_sum('first_wait_s', 'is_first_round_timed') }} as first_response_total_s,
        {{ kefu_count_sum('timed_round_cnt') }} as response_cnt,
        {{ kefu_seconds_sum('timed_wait_total_s') }} as response_total_s,
        {{ kefu_count_sum('round_cnt') }} as round_cnt,
        {{ kefu_count_sum('replied_3min_round_cnt') }} as replied_3min_round_cnt,
        count(*) filter (where is_slow_reception) as slow_reception_cnt,
        {{ kefu_seconds_sum('reception_duration_s') }} as reception_duration_s,
        biz_date
    from int_receptions_measured
    group by shop_id, agent_id, biz_date
),

agent_peaks as (
    select
        shop_id,
        agent_id,
        max(max_concurrent_receptions) as max_concurrent_receptions,
        biz_date
    from int_account_hours_loaded
    group by shop_id, agent_id, biz_date
),

serviced as (
    select
        agent_receptions.shop_id,
        agent_receptions.agent_id,
        agent_receptions.consult_buyer_cnt,
        agent_receptions.filtered_buyer_cnt,
        agent_receptions.received_buyer_cnt,
        agent_receptions.replied_buyer_cnt,
        agent_receptions.received_buyer_cnt - agent_receptions.replied_buyer_cnt as unreplied_buyer_cnt,
        {{ kefu_ratio('agent_receptions.replied_buyer_cnt', 'agent_receptions.received_buyer_cnt') }}
            as reply_rate,
        agent_receptions.buyer_msg_cnt,
        agent_receptions.agent_msg_cnt,
        {{ kefu_ratio('agent_receptions.agent_msg_cnt', 'agent_receptions.buyer_msg_cnt') }}
            as answer_question_ratio,
        agent_receptions.first_response_cnt,
        agent_receptions.first_response_total_s,
        {{ kefu_ratio('agent_receptions.first_response_total_s', 'agent_receptions.first_response_cnt') }}
            as avg_first_response_s,
        agent_receptions.response_cnt,
        agent_receptions.response_total_s,
        {{ kefu_ratio('agent_receptions.response_total_s', 'agent_receptions.response_cnt') }}
            as avg_response_s,
        agent_receptions.round_cnt,
        agent_receptions.replied_3min_round_cnt,
        {{ kefu_ratio('agent_receptions.replied_3min_round_cnt', 'agent_receptions.round_cnt') }}
            as reply_3min_rate,
        agent_receptions.slow_reception_cnt,
        agent_receptions.reception_duration_s,
        {{ kefu_ratio('agent_receptions.reception_duration_s', 'agent_receptions.replied_buyer_cnt') }}
            as avg_reception_duration_s,
        coalesce(agent_peaks.max_concurrent_receptions, 0) as max_concurrent_receptions,
        agent_receptions.biz_date
    from agent_receptions
    left join agent_peaks
        on agent_receptions.shop_id = agent_peaks.shop_id
            and agent_receptions.agent_id = agent_peaks.agent_id
            and agent_receptions.biz_date = agent_peaks.biz_date
)

select * from serviced
