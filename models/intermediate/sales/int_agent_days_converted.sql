-- One row per (shop_id, agent_id, biz_date) with a received reception: the
-- account's inquiry conversion of that reception day (docs/metrics.md §4), with the
-- day's maturity flags. Credited once (§4.7, v2): an inquiry counts only
-- through following orders that convert this account; an assisted inquiry
-- (its orders convert only other accounts) is left out, so the account's
-- rates are unaffected by the buyers it helped another account earn.
with

int_receptions_inquired as (
    select * from {{ ref('int_receptions_inquired') }}
),

counted as (
    select
        shop_id,
        agent_id,
        biz_date,
        {{ kefu_conversion_counts('account') }}
    from int_receptions_inquired
    group by shop_id, agent_id, biz_date
),

rated as (
    select
        shop_id,
        agent_id,
        inquiry_buyer_cnt,
        inq_order_cnt,
        inq_pay_next_day_cnt,
        {{ kefu_ratio('inq_pay_next_day_cnt', 'inquiry_buyer_cnt') }} as inq_to_pay_rate_next_day,
        inq_pay_final_cnt,
        {{ kefu_ratio('inq_pay_final_cnt', 'inquiry_buyer_cnt') }} as inq_to_pay_rate_final,
        is_next_day_final,
        is_final,
        biz_date
    from counted
)

select * from rated
