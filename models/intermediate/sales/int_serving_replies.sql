-- One row per serving reply (docs/metrics.md §5.1): a valid reply (agent / assist)
-- in a received (unfiltered) reception, keyed by the reception it belongs to.
-- Follow-ups, replies before the buyer's first message of the day and replies
-- in after-sale receptions all count; filtered receptions and days on which
-- the buyer did not write give none.
-- A view of int_messages_sessionized, which holds every message of the received
-- receptions already: the replies are its valid replies. As a table it joined every
-- message to the receptions again and copied the replies (8 s of a year's full
-- build). No window filter here: a view is read whole, its readers bound the days.
with

int_messages_sessionized as (
    select * from {{ ref('int_messages_sessionized') }}
),

serving_replies as (
    select
        shop_id,
        message_id,
        agent_id,
        buyer_id,
        sender_role,
        biz_date,
        sent_at
    from int_messages_sessionized
    where is_valid_reply
)

select * from serving_replies
