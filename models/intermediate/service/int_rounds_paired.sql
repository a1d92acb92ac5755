-- Incremental on biz_date, like the marts: a window build deletes and rebuilds
-- only the window's days, reading only those days of its inputs; a day's rows
-- depend only on that day's messages and the master data (docs/decisions.md).
-- One row per round (对话轮次) of a received reception (docs/metrics.md §3): a round
-- opens at a buyer message when no round is open, takes the buyer messages
-- that follow, and closes at the next valid reply (agent / assist) of the same
-- reception day; a round still open at the end of the day is unreplied.
-- Pairing without a loop: the valid replies of the reception are numbered in
-- message order (replies_through, from int_messages_sessionized); a buyer
-- message waits for reply number (replies before it + 1), so the buyer
-- messages that wait for the same reply form one round, and reply k closes the
-- round of the buyer messages with k - 1 replies before them. A reply whose
-- group has no buyer message is a follow-up and answers nothing.
-- Table, not view: fct_rounds, the reception figures and the platform
-- indicators all read it. wait_s is a difference of instants; asked_at and
-- replied_at are local wall times.
with

int_messages_sessionized as (
    select * from {{ ref('int_messages_sessionized') }}
    where {{ kefu_in_build_window('biz_date') }}
),

int_shops_completed as (
    select * from {{ ref('int_shops_completed') }}
),

pairing_groups as (
    select
        *,
        case when is_valid_reply then replies_through - 1 else replies_through end as pairing_group
    from int_messages_sessionized
    where is_buyer_message or is_valid_reply
),

grouped as (
    select
        shop_id,
        agent_id,
        buyer_id,
        pairing_group,
        min(session_seq) filter (where is_buyer_message) as session_seq,
        count(*) filter (where is_buyer_message) as buyer_msg_cnt,
        biz_date,
        min_by(sent_at, sent_instant) filter (where is_buyer_message) as asked_at,
        min_by(sent_at, sent_instant) filter (where is_valid_reply) as replied_at,
        min(sent_instant) filter (where is_buyer_message) as asked_instant,
        min(sent_instant) filter (where is_valid_reply) as replied_instant
    from pairing_groups
    group by shop_id, agent_id, buyer_id, biz_date, pairing_group
    having count(*) filter (where is_buyer_message) > 0
),

sequenced as (
    select
        *,
        row_number() over reception_rounds as round_seq,
        lag(session_seq) over reception_rounds as previous_session_seq,
        {{ kefu_seconds_between('asked_instant', 'replied_instant') }} as wait_s
    from grouped
    window reception_rounds as (
        partition by shop_id, agent_id, buyer_id, biz_date
        order by pairing_group
    )
),

flagged as (
    select
        sequenced.shop_id,
        sequenced.agent_id,
        sequenced.buyer_id,
        cast(sequenced.round_seq as integer) as round_seq,
        sequenced.session_seq,
        cast(sequenced.buyer_msg_cnt as integer) as buyer_msg_cnt,
        sequenced.wait_s,
        sequenced.replied_at is not null as is_replied,
        coalesce(sequenced.wait_s <= int_shops_completed.max_wait_s, false) as is_timed,
        sequenced.round_seq = 1 as is_first_round,
        coalesce(sequenced.previous_session_seq <> sequenced.session_seq, true) as is_session_first_round,
        coalesce(sequenced.wait_s > int_shops_completed.slow_reply_s, true) as is_slow,
        coalesce(sequenced.wait_s <= int_shops_completed.reply_sla_s, false) as is_within_sla,
        sequenced.biz_date,
        sequenced.asked_at,
        sequenced.replied_at
    from sequenced
    inner join int_shops_completed
        on sequenced.shop_id = int_shops_completed.shop_id
)

select * from flagged
