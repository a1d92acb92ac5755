-- Incremental on biz_date, like the marts: a window build deletes and rebuilds
-- only the window's days, reading only those days of its inputs; a day's rows
-- depend only on that day's messages and the master data (docs/decisions.md).
-- A table: several models read it, and as a view each of them recomputed it (10M messages).
-- One row per non-system message, keyed to its reception day
-- (shop_id, agent_id, buyer_id, biz_date), with its role flags and whether the
-- buyer is filtered (docs/metrics.md §1, §2.2). System messages are ignored everywhere.
-- sent_instant is the message's instant (UTC) in the shop's zone: orders, waits,
-- gaps and durations use it; sent_at, the local wall time, is what marts show.
with

stg_exports__messages as (
    select * from {{ ref('stg_exports__messages') }}
    where {{ kefu_in_build_window('biz_date', 'sent_at') }}
),

stg_exports__filters as (
    select * from {{ ref('stg_exports__filters') }}
),

filter_keywords as (
    select * from {{ ref('filter_keywords') }}
),

int_shops_completed as (
    select * from {{ ref('int_shops_completed') }}
),

non_system as (
    select *
    from stg_exports__messages
    where sender_role <> 'system'
),

-- Each local day's shift to UTC of each shop, on the days its clock does not change:
-- those days' instants are one addition, not four time-zone conversions (issue 13).
message_days as (
    select distinct
        shop_id,
        biz_date
    from non_system
),

steady_shifts as (
    {{ kefu_steady_shifts('message_days', 'int_shops_completed') }}
),

keyword_hits as (
    select distinct
        non_system.shop_id,
        non_system.message_id
    from non_system
    inner join filter_keywords
        on (non_system.shop_id = filter_keywords.shop_id or filter_keywords.shop_id = '*')
            and non_system.sender_role = 'buyer'
            and contains(lower(non_system.content), lower(filter_keywords.keyword))
    where filter_keywords.keyword is not null and filter_keywords.keyword <> ''
),

classified as (
    select
        non_system.shop_id,
        non_system.agent_id,
        non_system.buyer_id,
        non_system.message_id,
        non_system.sender_role,
        int_shops_completed.max_wait_s,
        non_system.sender_role = 'buyer' as is_buyer_message,
        non_system.is_valid_reply,
        keyword_hits.message_id is not null as has_filter_keyword,
        stg_exports__filters.buyer_id is not null as is_listed_buyer,
        non_system.biz_date,
        non_system.sent_at,
        {{ kefu_instant_on_day('non_system.sent_at', 'int_shops_completed.timezone', 'steady_shifts.utc_shift_s') }}
            as sent_instant
    from non_system
    inner join int_shops_completed
        on non_system.shop_id = int_shops_completed.shop_id
    left join keyword_hits
        on non_system.shop_id = keyword_hits.shop_id
            and non_system.message_id = keyword_hits.message_id
    left join stg_exports__filters
        on non_system.shop_id = stg_exports__filters.shop_id
            and non_system.buyer_id = stg_exports__filters.buyer_id
    left join steady_shifts
        on non_system.shop_id = steady_shifts.shop_id
            and non_system.biz_date = steady_shifts.biz_date
)

select * from classified
