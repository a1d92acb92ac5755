-- Incremental on biz_date, like the marts: a window build deletes and rebuilds
-- only the window's days, reading only those days of its inputs; a day's rows
-- depend only on that day's messages and the master data (docs/decisions.md).
-- One row per reception (接待) (shop_id, agent_id, buyer_id, biz_date), filtered
-- ones included: their figures are NULL, only is_filtered and first_message_at
-- are set (docs/metrics.md §14). Figures of received receptions come from their rounds
-- (docs/metrics.md §3) and sessions (§2.5).
-- Table, not view: the agent-day and shop-day figures and fct_receptions read it.
with

int_receptions_filtered as (
    select * from {{ ref('int_receptions_filtered') }}
    where {{ kefu_in_build_window('biz_date') }}
),

int_rounds_paired as (
    select * from {{ ref('int_rounds_paired') }}
    where {{ kefu_in_build_window('biz_date') }}
),

int_sessions_bounded as (
    select * from {{ ref('int_sessions_bounded') }}
    where {{ kefu_in_build_window('biz_date') }}
),

int_shops_completed as (
    select * from {{ ref('int_shops_completed') }}
),

reception_rounds as (
    select
        shop_id,
        agent_id,
        buyer_id,
        count(*) as round_cnt,
        count(*) filter (where is_replied) as replied_round_cnt,
        count(*) filter (where is_timed) as timed_round_cnt,
        {{ kefu_seconds_sum('wait_s', 'is_timed') }} as timed_wait_total_s,
        count(*) filter (where is_slow) as slow_round_cnt,
        count(*) filter (where is_within_sla) as replied_3min_round_cnt,
        max(wait_s) filter (where is_first_round) as first_wait_s,
        bool_or(is_replied) filter (where is_first_round) as is_replied,
        bool_or(is_timed) filter (where is_first_round) as is_first_round_timed,
        biz_date,
        max(replied_at) filter (where is_first_round) as first_reply_at
    from int_rounds_paired
    group by shop_id, agent_id, buyer_id, biz_date
),

reception_sessions as (
    select
        shop_id,
        agent_id,
        buyer_id,
        count(*) as session_cnt,
        sum(buyer_msg_cnt) as buyer_msg_cnt,
        sum(agent_msg_cnt) as agent_msg_cnt,
        sum(duration_s) as reception_duration_s,
        biz_date
    from int_sessions_bounded
    group by shop_id, agent_id, buyer_id, biz_date
),

measured as (
    select
        int_receptions_filtered.shop_id,
        int_receptions_filtered.agent_id,
        int_receptions_filtered.buyer_id,
        cast(reception_sessions.session_cnt as integer) as session_cnt,
        cast(reception_rounds.round_cnt as integer) as round_cnt,
        cast(reception_sessions.buyer_msg_cnt as integer) as buyer_msg_cnt,
        cast(reception_sessions.agent_msg_cnt as integer) as agent_msg_cnt,
        cast(reception_rounds.replied_round_cnt as integer) as replied_round_cnt,
        cast(reception_rounds.timed_round_cnt as integer) as timed_round_cnt,
        reception_rounds.timed_wait_total_s,
        cast(reception_rounds.slow_round_cnt as integer) as slow_round_cnt,
        cast(reception_rounds.replied_3min_round_cnt as integer) as replied_3min_round_cnt,
        reception_rounds.first_wait_s,
        reception_sessions.reception_duration_s,
        int_receptions_filtered.is_filtered,
        reception_rounds.is_replied,
        reception_rounds.is_first_round_timed,
        reception_rounds.slow_round_cnt >= int_shops_completed.slow_round_count as is_slow_reception,
        int_receptions_filtered.biz_date,
        int_receptions_filtered.first_message_at,
        reception_rounds.first_reply_at
    from int_receptions_filtered
    inner join int_shops_completed
        on int_receptions_filtered.shop_id = int_shops_completed.shop_id
    left join reception_rounds
        on int_receptions_filtered.shop_id = reception_rounds.shop_id
            and int_receptions_filtered.agent_id = reception_rounds.agent_id
            and int_receptions_filtered.buyer_id = reception_rounds.buyer_id
            and int_receptions_filtered.biz_date = reception_rounds.biz_date
    left join reception_sessions
        on int_receptions_filtered.shop_id = reception_sessions.shop_id
            and int_receptions_filtered.agent_id = reception_sessions.agent_id
            and int_receptions_filtered.buyer_id = reception_sessions.buyer_id
            and int_receptions_filtered.biz_date = reception_sessions.biz_date
)

select * from measured
