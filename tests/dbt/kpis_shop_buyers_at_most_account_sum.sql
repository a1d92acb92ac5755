-- A shop counts each buyer once per day, so its buyer counts never exceed the
-- sum over its accounts (docs/metrics.md §9, shop_daily_kpis).
with

shop_daily_kpis as (
    select * from {{ ref('shop_daily_kpis') }}
),

agent_daily_kpis as (
    select * from {{ ref('agent_daily_kpis') }}
),

account_sums as (
    select
        shop_id,
        biz_date,
        sum(consult_buyer_cnt) as consult_buyer_cnt,
        sum(received_buyer_cnt) as received_buyer_cnt,
        sum(replied_buyer_cnt) as replied_buyer_cnt,
        sum(inquiry_buyer_cnt) as inquiry_buyer_cnt,
        sum(inq_pay_final_cnt) as inq_pay_final_cnt
    from agent_daily_kpis
    group by shop_id, biz_date
),

violations as (
    select
        shop_daily_kpis.shop_id,
        shop_daily_kpis.biz_date
    from shop_daily_kpis
    left join account_sums
        on shop_daily_kpis.shop_id = account_sums.shop_id
            and shop_daily_kpis.biz_date = account_sums.biz_date
    where shop_daily_kpis.consult_buyer_cnt > coalesce(account_sums.consult_buyer_cnt, 0)
        or shop_daily_kpis.received_buyer_cnt > coalesce(account_sums.received_buyer_cnt, 0)
        or shop_daily_kpis.replied_buyer_cnt > coalesce(account_sums.replied_buyer_cnt, 0)
        or shop_daily_kpis.inquiry_buyer_cnt > coalesce(account_sums.inquiry_buyer_cnt, 0)
        or shop_daily_kpis.inq_pay_final_cnt > coalesce(account_sums.inq_pay_final_cnt, 0)
)

select * from violations
