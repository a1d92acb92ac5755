-- One row per chat message (shop_id, message_id); local wall times and biz_date.
-- Message text stays here and in raw: it is never copied into marts.
-- raw.messages holds each (shop_id, message_id) once: the loader stores the
-- first loaded copy and quarantines a conflicting one (docs/landing.md), and
-- the key test of this model checks it. So the view is a projection of the raw
-- table, and a filter reaches the raw scan. DuckDB skips the row groups outside
-- a range of sent_at, not of its date: a window's readers say its days on
-- sent_at too (kefu_in_window('biz_date', 'sent_at')), so a window build reads
-- the window's messages, not every message of the history (issue 13).
with

source as (
    select * from {{ source('exports', 'messages') }}
),

renamed as (
    select
        shop_id,
        message_id,
        buyer_id,
        agent_id,
        sender_role,
        msg_type,
        content,
        sender_role in ('agent', 'assist') as is_valid_reply,
        cast(sent_at as date) as biz_date,
        sent_at
    from source
)

select * from renamed
