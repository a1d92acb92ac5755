-- One row per (shop_id, biz_date) with a reception. Buyer counts are
-- de-duplicated per shop and day: a buyer counts as consulting / received /
-- replied when any of that day's receptions is; filtered = consulting −
-- received, unreplied = received − replied (docs/metrics.md §9). Message and response
-- figures are summed over the shop's accounts.
with

int_receptions_measured as (
    select * from {{ ref('int_receptions_measured') }}
),

int_agent_days_serviced as (
    select * from {{ ref('int_agent_days_serviced') }}
),

shop_buyers as (
    select
        shop_id,
        buyer_id,
        bool_or(not is_filtered) as is_received,
        coalesce(bool_or(is_replied), false) as is_replied,
        biz_date
    from int_receptions_measured
    group by shop_id, buyer_id, biz_date
),

shop_buyer_counts as (
    select
        shop_id,
        count(*) as consult_buyer_cnt,
        count(*) filter (where is_received) as received_buyer_cnt,
        count(*) filter (where is_replied) as replied_buyer_cnt,
        biz_date
    from shop_buyers
    group by shop_id, biz_date
),

shop_sums as (
    select
        shop_id,
        {{ kefu_count_sum('buyer_msg_cnt') }} as buyer_msg_cnt,
        {{ kefu_count_sum('agent_msg_cnt') }} as agent_msg_cnt,
        {{ kefu_count_sum('first_response_cnt') }} as first_response_cnt,
        {{ kefu_seconds_sum('first_response_total_s') }} as first_response_total_s,
        {{ kefu_count_sum('response_cnt') }} as response_cnt,
        {{ kefu_seconds_sum('response_total_s') }} as response_total_s,
        {{ kefu_count_sum('round_cnt') }} as round_cnt,
        {{ kefu_count_sum('replied_3min_round_cnt') }} as replied_3min_round_cnt,
        biz_date
    from int_agent_days_serviced
    group by shop_id, biz_date
),

serviced as (
    select
        shop_buyer_counts.shop_id,
        shop_buyer_counts.consult_buyer_cnt,
        shop_buyer_counts.consult_buyer_cnt - shop_buyer_counts.received_buyer_cnt as filtered_buyer_cnt,
        shop_buyer_counts.received_buyer_cnt,
        shop_buyer_counts.replied_buyer_cnt,
        shop_buyer_counts.received_buyer_cnt - shop_buyer_counts.replied_buyer_cnt as unreplied_buyer_cnt,
        {{ kefu_ratio('shop_buyer_counts.replied_buyer_cnt', 'shop_buyer_counts.received_buyer_cnt') }}
            as reply_rate,
        shop_sums.buyer_msg_cnt,
        shop_sums.agent_msg_cnt,
        {{ kefu_ratio('shop_sums.agent_msg_cnt', 'shop_sums.buyer_msg_cnt') }} as answer_question_ratio,
        shop_sums.first_response_cnt,
        shop_sums.first_response_total_s,
        {{ kefu_ratio('shop_sums.first_response_total_s', 'shop_sums.first_response_cnt') }}
            as avg_first_response_s,
        shop_sums.response_cnt,
        shop_sums.response_total_s,
        {{ kefu_ratio('shop_sums.response_total_s', 'shop_sums.response_cnt') }} as avg_response_s,
        shop_sums.round_cnt,
        shop_sums.replied_3min_round_cnt,
        {{ kefu_ratio('shop_sums.replied_3min_round_cnt', 'shop_sums.round_cnt') }} as reply_3min_rate,
        shop_buyer_counts.biz_date
    from shop_buyer_counts
    inner join shop_sums
        on shop_buyer_counts.shop_id = shop_sums.shop_id
            and shop_buyer_counts.biz_date = shop_sums.biz_date
)

select * from serviced
