-- Incremental on biz_date, like the marts: a window build deletes and rebuilds
-- only the window's days, reading only those days of its inputs; a day's rows
-- depend only on that day's messages and the master data (docs/decisions.md).
-- A table: several models read it, and as a view each of them recomputed it (10M messages).
-- One row per reception (接待): (shop_id, agent_id, buyer_id, biz_date) with at
-- least one buyer message (docs/metrics.md §2.1), and whether it is filtered (§2.2).
with

int_messages_classified as (
    select * from {{ ref('int_messages_classified') }}
    where {{ kefu_in_build_window('biz_date') }}
),

reception_days as (
    select
        shop_id,
        agent_id,
        buyer_id,
        biz_date,
        bool_or(is_listed_buyer) as is_listed_buyer,
        bool_or(has_filter_keyword) as has_filter_keyword,
        min_by(sent_at, sent_instant) filter (where is_buyer_message) as first_message_at
    from int_messages_classified
    group by shop_id, agent_id, buyer_id, biz_date
    having count(*) filter (where is_buyer_message) > 0
),

flagged as (
    select
        shop_id,
        agent_id,
        buyer_id,
        is_listed_buyer or has_filter_keyword as is_filtered,
        biz_date,
        first_message_at
    from reception_days
)

select * from flagged
