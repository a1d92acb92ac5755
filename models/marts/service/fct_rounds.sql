-- One row per round (对话轮次) of a received reception: (shop_id, agent_id,
-- buyer_id, biz_date, round_seq), with its wait and flags (docs/metrics.md §3).
with

int_rounds_paired as (
    select * from {{ ref('int_rounds_paired') }}
),

windowed as (
    select * from int_rounds_paired
    where {{ kefu_in_window('biz_date') }}
),

published as (
    select
        shop_id,
        agent_id,
        {{ kefu_buyer_key('buyer_id') }} as buyer_id,
        round_seq,
        session_seq,
        buyer_msg_cnt,
        wait_s,
        is_replied,
        is_timed,
        is_first_round,
        is_slow,
        is_within_sla,
        biz_date,
        asked_at,
        replied_at
    from windowed
)

select * from published
