{{
    config(
        materialized='incremental',
        incremental_strategy=kefu_window_strategy(),
        partition_by=kefu_window_partition(['biz_date']),
        pre_hook="{{ kefu_delete_window('biz_date') }}",
    )
}}
-- One row per (shop_id, biz_date, topic) of buyer questions (买家咨询聚类,
-- docs/metrics.md §14, §12). A received reception's topic is the topic of
-- the first of its buyer messages, in (instant, message_id) order, whose
-- content contains a keyword of seed question_topics (case-insensitive
-- substring; the smallest topic_seq wins within a message); `other` when none
-- does. Conversion counts the reception's inquiry and its final payment
-- (docs/metrics.md §4, whoever earned it); ratings given on the reception's day by
-- its buyer to its account count for its topic. Only labels and counts leave
-- the raw layer.
with

stg_exports__messages as (
    select
        *,
        lower(content) as content_lower
    from {{ ref('stg_exports__messages') }}
    where sender_role = 'buyer' and {{ kefu_in_window('biz_date', 'sent_at') }}
),

int_receptions_filtered as (
    select * from {{ ref('int_receptions_filtered') }}
    where not is_filtered and {{ kefu_in_window('biz_date') }}
),

int_receptions_inquired as (
    select * from {{ ref('int_receptions_inquired') }}
    where {{ kefu_in_window('biz_date') }}
),

stg_exports__ratings as (
    select * from {{ ref('stg_exports__ratings') }}
    where rating_level is not null and {{ kefu_in_window('rated_date') }}
),

question_topics as (
    select * from {{ ref('question_topics') }}
    where keyword is not null and keyword <> ''
),

int_shops_completed as (
    select * from {{ ref('int_shops_completed') }}
),

topic_names as (
    select distinct
        topic,
        topic_name
    from question_topics
),

message_topics as (
    select
        shop_id,
        agent_id,
        buyer_id,
        message_id,
        {{ kefu_question_topic('content_lower') }} as topic,
        biz_date,
        sent_at
    from stg_exports__messages
),

-- The instant only of the messages with a keyword, and on a day without a clock change
-- through the day's shift to UTC: the shop's time zone costs four ICU conversions per
-- message otherwise (issue 13). The days are read from the receptions (every buyer
-- message has one), not from the messages a second time; a day left out is converted
-- per message.
reception_days as (
    select distinct
        shop_id,
        biz_date
    from {{ ref('int_receptions_filtered') }}
    where {{ kefu_in_window('biz_date') }}
),

steady_shifts as (
    {{ kefu_steady_shifts('reception_days', 'int_shops_completed') }}
),

keyword_hits as (
    select
        message_topics.shop_id,
        message_topics.agent_id,
        message_topics.buyer_id,
        message_topics.message_id,
        message_topics.topic,
        message_topics.biz_date,
        {{ kefu_instant_on_day('message_topics.sent_at', 'int_shops_completed.timezone', 'steady_shifts.utc_shift_s') }}
            as sent_instant
    from message_topics
    inner join int_shops_completed
        on message_topics.shop_id = int_shops_completed.shop_id
    left join steady_shifts
        on message_topics.shop_id = steady_shifts.shop_id
            and message_topics.biz_date = steady_shifts.biz_date
    where message_topics.topic is not null
),

reception_topics as (
    select
        shop_id,
        agent_id,
        buyer_id,
        biz_date,
        {{ kefu_value_of_first('topic', kefu_message_order()) }} as topic
    from keyword_hits
    group by shop_id, agent_id, buyer_id, biz_date
),

reception_ratings as (
    select
        shop_id,
        agent_id,
        buyer_id,
        count(*) as rating_cnt,
        count(*) filter (where rating_level = 'satisfied') as satisfied_cnt,
        rated_date as biz_date
    from stg_exports__ratings
    group by shop_id, agent_id, buyer_id, rated_date
),

topical_receptions as (
    select
        int_receptions_filtered.shop_id,
        int_receptions_filtered.buyer_id,
        coalesce(reception_topics.topic, 'other') as topic,
        coalesce(int_receptions_inquired.is_inquiry, false) as is_inquiry,
        coalesce(int_receptions_inquired.is_inquiry and int_receptions_inquired.is_paid_final, false)
            as is_paid_final,
        coalesce(reception_ratings.rating_cnt, 0) as rating_cnt,
        coalesce(reception_ratings.satisfied_cnt, 0) as satisfied_cnt,
        int_receptions_filtered.biz_date
    from int_receptions_filtered
    left join reception_topics
        on int_receptions_filtered.shop_id = reception_topics.shop_id
            and int_receptions_filtered.agent_id = reception_topics.agent_id
            and int_receptions_filtered.buyer_id = reception_topics.buyer_id
            and int_receptions_filtered.biz_date = reception_topics.biz_date
    left join int_receptions_inquired
        on int_receptions_filtered.shop_id = int_receptions_inquired.shop_id
            and int_receptions_filtered.agent_id = int_receptions_inquired.agent_id
            and int_receptions_filtered.buyer_id = int_receptions_inquired.buyer_id
            and int_receptions_filtered.biz_date = int_receptions_inquired.biz_date
    left join reception_ratings
        on int_receptions_filtered.shop_id = reception_ratings.shop_id
            and int_receptions_filtered.agent_id = reception_ratings.agent_id
            and int_receptions_filtered.buyer_id = reception_ratings.buyer_id
            and int_receptions_filtered.biz_date = reception_ratings.biz_date
),

counted as (
    select
        topical_receptions.shop_id,
        topical_receptions.topic,
        count(*) as reception_cnt,
        count(distinct topical_receptions.buyer_id) as buyer_cnt,
        count(*) filter (where topical_receptions.is_inquiry) as inquiry_cnt,
        count(*) filter (where topical_receptions.is_paid_final) as inq_pay_final_cnt,
        {{ kefu_count_sum('topical_receptions.rating_cnt') }} as rating_cnt,
        {{ kefu_count_sum('topical_receptions.satisfied_cnt') }} as satisfied_cnt,
        topical_receptions.biz_date
    from topical_receptions
    group by topical_receptions.shop_id, topical_receptions.topic, topical_receptions.biz_date
),

rated as (
    select
        counted.shop_id,
        counted.topic,
        coalesce(topic_names.topic_name, '其他') as topic_name,
        counted.reception_cnt,
        counted.buyer_cnt,
        counted.inquiry_cnt,
        counted.inq_pay_final_cnt,
        {{ kefu_ratio('counted.inq_pay_final_cnt', 'counted.inquiry_cnt') }} as inq_to_pay_rate_final,
        counted.rating_cnt,
        counted.satisfied_cnt,
        {{ kefu_ratio('counted.satisfied_cnt', 'counted.rating_cnt') }} as good_rate,
        counted.biz_date + cast(int_shops_completed.final_pay_days as integer)
        <= {{ kefu_as_of_date() }} as is_final,
        counted.biz_date
    from counted
    inner join int_shops_completed
        on counted.shop_id = int_shops_completed.shop_id
    left join topic_names
        on counted.topic = topic_names.topic
)

select * from rated
