-- Incremental on biz_date, like the marts: a window build deletes and rebuilds
-- only the window's days, reading only those days of its inputs; a day's rows
-- depend only on that day's messages and the master data (docs/decisions.md).
-- One row per message of a received (unfiltered) reception: every non-system
-- message of the reception's (shop_id, agent_id, buyer_id, biz_date), agent and
-- auto messages before the buyer's first one included (docs/metrics.md §2.5), with
-- its session_seq. A new session starts where the gap to the previous message
-- exceeds max_wait_s (exactly max_wait_s does not split). replies_through
-- counts the valid replies (agent / assist) up to and including the message:
-- int_rounds_paired pairs rounds from it; it is computed here because it
-- shares session_seq's window (same partition and order: one sort, not two).
-- Table, not view: rounds and sessions both read it, and its windows over every
-- message are the costliest step on 10M messages; computing them once is faster.
with

int_messages_classified as (
    select * from {{ ref('int_messages_classified') }}
    where {{ kefu_in_build_window('biz_date') }}
),

-- reception_key: one integer per reception, the windows' partition (sorting it
-- is far cheaper than shop, agent, buyer and day; a year's build: 24 s -> 16 s).
int_receptions_filtered as (
    select
        *,
        {{ kefu_row_key() }} as reception_key
    from {{ ref('int_receptions_filtered') }}
    where {{ kefu_in_build_window('biz_date') }}
),

received_messages as (
    select
        int_messages_classified.*,
        int_receptions_filtered.reception_key
    from int_messages_classified
    inner join int_receptions_filtered
        on int_messages_classified.shop_id = int_receptions_filtered.shop_id
            and int_messages_classified.agent_id = int_receptions_filtered.agent_id
            and int_messages_classified.buyer_id = int_receptions_filtered.buyer_id
            and int_messages_classified.biz_date = int_receptions_filtered.biz_date
    where not int_receptions_filtered.is_filtered
),

previous_messages as (
    select
        *,
        lag(sent_instant) over (
            partition by reception_key
            order by {{ kefu_message_order() }}
        ) as previous_sent_instant
    from received_messages
),

gaps as (
    select
        *,
        {{ kefu_seconds_between('previous_sent_instant', 'sent_instant') }} as gap_s
    from previous_messages
),

session_starts as (
    select
        *,
        coalesce(gap_s > max_wait_s, true) as is_session_start
    from gaps
),

sessionized as (
    select
        shop_id,
        agent_id,
        buyer_id,
        message_id,
        sender_role,
        cast(sum(case when is_session_start then 1 else 0 end) over reception_so_far as integer)
            as session_seq,
        cast({{ kefu_window_count_if('is_valid_reply') }} over reception_so_far as integer) as replies_through,
        gap_s,
        is_buyer_message,
        is_valid_reply,
        is_session_start,
        biz_date,
        sent_at,
        sent_instant
    from session_starts
    window reception_so_far as (
        partition by reception_key
        order by {{ kefu_message_order() }}
        rows between unbounded preceding and current row
    )
)

select * from sessionized
