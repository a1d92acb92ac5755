-- One row per (shop_id, biz_date) with a received reception: the shop's
-- inquiry conversion of that reception day (docs/metrics.md §4, docs/metrics.md §14
-- shop_daily_kpis). A buyer counts once per shop and day, as inquiry /
-- ordered / converted when any of that day's receptions is (assisted ones
-- included), whichever account earned it (§4.7): every following order counts.
with

int_receptions_inquired as (
    select * from {{ ref('int_receptions_inquired') }}
),

shop_day_buyers as (
    select
        shop_id,
        biz_date,
        buyer_id,
        {{ kefu_buyer_conversion_flags() }}
    from int_receptions_inquired
    group by shop_id, biz_date, buyer_id
),

counted as (
    select
        shop_id,
        biz_date,
        {{ kefu_conversion_counts('buyer') }}
    from shop_day_buyers
    group by shop_id, biz_date
),

rated as (
    select
        shop_id,
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
