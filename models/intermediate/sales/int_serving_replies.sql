-- One row per serving reply (docs/metrics.md §5.1): a valid reply (agent / assist)
-- in a received (unfiltered) reception, keyed by the reception it belongs to.
-- Follow-ups, replies before the buyer's first message of the day and replies
-- in after-sale receptions all count; filtered receptions and days on which
-- the buyer did not write give none.
-- A table, not a view: several models and tests read it, so it is computed
-- once per build instead of once per reader (10M-message warehouses).
with

int_messages_classified as (
    select * from {{ ref('int_messages_classified') }}
    where {{ kefu_in_build_window('biz_date') }}
),

int_receptions_filtered as (
    select * from {{ ref('int_receptions_filtered') }}
    where {{ kefu_in_build_window('biz_date') }}
),

received_receptions as (
    select
        shop_id,
        agent_id,
        buyer_id,
        biz_date
    from int_receptions_filtered
    where not is_filtered
),

serving_replies as (
    select
        int_messages_classified.shop_id,
        int_messages_classified.message_id,
        int_messages_classified.agent_id,
        int_messages_classified.buyer_id,
        int_messages_classified.sender_role,
        int_messages_classified.biz_date,
        int_messages_classified.sent_at
    from int_messages_classified
    inner join received_receptions
        on int_messages_classified.shop_id = received_receptions.shop_id
            and int_messages_classified.agent_id = received_receptions.agent_id
            and int_messages_classified.buyer_id = received_receptions.buyer_id
            and int_messages_classified.biz_date = received_receptions.biz_date
    where int_messages_classified.is_valid_reply
)

select * from serving_replies
