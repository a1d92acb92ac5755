-- Incremental on biz_date, like the marts: a window build deletes and rebuilds
-- only the window's days, reading only those days of its inputs; a day's rows
-- depend only on that day's messages and the master data (docs/decisions.md).
-- One row per session (会话) of a received reception: (shop_id, agent_id,
-- buyer_id, biz_date, session_seq), open from its first to its last message
-- (docs/metrics.md §2.5). A lone message is a session of duration 0. Its
-- duration is a difference of instants; started_at / ended_at are local wall times.
-- Table, not view: the reception figures and the hourly load both read it, and
-- it aggregates every message of received receptions.
with

int_messages_sessionized as (
    select * from {{ ref('int_messages_sessionized') }}
    where {{ kefu_in_build_window('biz_date') }}
),

bounded as (
    select
        shop_id,
        agent_id,
        buyer_id,
        session_seq,
        count(*) as message_cnt,
        count(*) filter (where is_buyer_message) as buyer_msg_cnt,
        count(*) filter (where is_valid_reply) as agent_msg_cnt,
        biz_date,
        min_by(sent_at, sent_instant) as started_at,
        max_by(sent_at, sent_instant) as ended_at,
        min(sent_instant) as started_instant,
        max(sent_instant) as ended_instant
    from int_messages_sessionized
    group by shop_id, agent_id, buyer_id, biz_date, session_seq
),

measured as (
    select
        shop_id,
        agent_id,
        buyer_id,
        session_seq,
        message_cnt,
        buyer_msg_cnt,
        agent_msg_cnt,
        {{ kefu_seconds_between('started_instant', 'ended_instant') }} as duration_s,
        biz_date,
        started_at,
        ended_at,
        started_instant,
        ended_instant
    from bounded
)

select * from measured
