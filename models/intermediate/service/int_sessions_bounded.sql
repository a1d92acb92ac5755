{{ config(materialized='table') }}
-- One row per session (会话) of a received reception: (shop_id, agent_id,
-- buyer_id, biz_date, session_seq), open from its first to its last message
-- (metrics.md §2.5). A lone message is a session of duration 0.
-- Table, not view: the reception figures and the hourly load both read it, and
-- it aggregates every message of received receptions.
with

int_messages_sessionized as (
    select * from {{ ref('int_messages_sessionized') }}
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
        min(sent_at) as started_at,
        max(sent_at) as ended_at
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
        {{ kefu_seconds_between('started_at', 'ended_at') }} as duration_s,
        biz_date,
        started_at,
        ended_at
    from bounded
)

select * from measured
