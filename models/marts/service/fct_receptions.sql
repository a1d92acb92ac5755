-- One row per reception (接待): (shop_id, agent_id, buyer_id, biz_date), filtered
-- ones included with is_filtered true, their first_message_at and NULL in the
-- other figures (docs/metrics.md §14). is_inquiry / is_after_sale / is_assisted come
-- from the conversion rules (docs/metrics.md §4.2, §4.7) and are NULL for filtered
-- receptions.
with

int_receptions_measured as (
    select * from {{ ref('int_receptions_measured') }}
),

int_receptions_inquired as (
    select * from {{ ref('int_receptions_inquired') }}
    where {{ kefu_in_window('biz_date') }}
),

windowed as (
    select * from int_receptions_measured
    where {{ kefu_in_window('biz_date') }}
),

with_inquiry as (
    select
        windowed.*,
        int_receptions_inquired.is_inquiry,
        int_receptions_inquired.is_after_sale,
        int_receptions_inquired.is_assisted
    from windowed
    left join int_receptions_inquired
        on windowed.shop_id = int_receptions_inquired.shop_id
            and windowed.agent_id = int_receptions_inquired.agent_id
            and windowed.buyer_id = int_receptions_inquired.buyer_id
            and windowed.biz_date = int_receptions_inquired.biz_date
),

published as (
    select
        shop_id,
        agent_id,
        {{ kefu_buyer_key('buyer_id') }} as buyer_id,
        session_cnt,
        round_cnt,
        buyer_msg_cnt,
        agent_msg_cnt,
        timed_round_cnt,
        timed_wait_total_s,
        slow_round_cnt,
        replied_3min_round_cnt,
        first_wait_s,
        reception_duration_s,
        is_filtered,
        is_replied,
        is_inquiry,
        is_after_sale,
        is_assisted,
        is_first_round_timed,
        is_slow_reception,
        biz_date,
        first_message_at,
        first_reply_at
    from with_inquiry
)

select * from published
