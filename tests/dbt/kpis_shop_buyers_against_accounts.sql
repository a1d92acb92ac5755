-- A shop counts each buyer once per day, so its reception buyer counts never
-- exceed the sum over its accounts (docs/metrics.md §14, shop_daily_kpis). Conversion is
-- credited once (docs/metrics.md §4.7, v2): the accounts' inquiries plus the
-- assisted ones are the day's inquiry receptions, and so cover the shop's
-- inquiry buyers; every buyer an account counts as ordered or converted, the
-- shop counts too (Σ over accounts of conversions may be below or above the
-- shop's). Returns the shop-days that break this.
with

shop_daily_kpis as (
    select * from {{ ref('shop_daily_kpis') }}
    where {{ kefu_in_window('biz_date') }}
),

agent_daily_kpis as (
    select * from {{ ref('agent_daily_kpis') }}
    where {{ kefu_in_window('biz_date') }}
),

fct_receptions as (
    select * from {{ ref('fct_receptions') }}
    where {{ kefu_in_window('biz_date') }}
),

int_receptions_inquired as (
    select * from {{ ref('int_receptions_inquired') }}
    where {{ kefu_in_window('biz_date') }}
),

account_sums as (
    select
        shop_id,
        biz_date,
        sum(consult_buyer_cnt) as consult_buyer_cnt,
        sum(received_buyer_cnt) as received_buyer_cnt,
        sum(replied_buyer_cnt) as replied_buyer_cnt,
        sum(inquiry_buyer_cnt) as inquiry_buyer_cnt
    from agent_daily_kpis
    group by shop_id, biz_date
),

reception_counts as (
    select
        shop_id,
        biz_date,
        count(*) filter (where is_inquiry) as inquiry_reception_cnt,
        count(*) filter (where is_assisted) as assisted_reception_cnt
    from fct_receptions
    group by shop_id, biz_date
),

account_converted_buyers as (
    select
        shop_id,
        biz_date,
        count(distinct buyer_id) filter (where has_account_order) as ordered_buyer_cnt,
        count(distinct buyer_id) filter (where is_account_paid_final) as paid_final_buyer_cnt
    from int_receptions_inquired
    group by shop_id, biz_date
),

compared as (
    select
        shop_daily_kpis.shop_id,
        shop_daily_kpis.biz_date,
        shop_daily_kpis.consult_buyer_cnt,
        shop_daily_kpis.received_buyer_cnt,
        shop_daily_kpis.replied_buyer_cnt,
        shop_daily_kpis.inquiry_buyer_cnt,
        shop_daily_kpis.inq_order_cnt,
        shop_daily_kpis.inq_pay_final_cnt,
        coalesce(account_sums.consult_buyer_cnt, 0) as account_consult_buyer_cnt,
        coalesce(account_sums.received_buyer_cnt, 0) as account_received_buyer_cnt,
        coalesce(account_sums.replied_buyer_cnt, 0) as account_replied_buyer_cnt,
        coalesce(account_sums.inquiry_buyer_cnt, 0) as account_inquiry_buyer_cnt,
        coalesce(reception_counts.inquiry_reception_cnt, 0) as inquiry_reception_cnt,
        coalesce(reception_counts.assisted_reception_cnt, 0) as assisted_reception_cnt,
        coalesce(account_converted_buyers.ordered_buyer_cnt, 0) as account_ordered_buyer_cnt,
        coalesce(account_converted_buyers.paid_final_buyer_cnt, 0) as account_paid_final_buyer_cnt
    from shop_daily_kpis
    left join account_sums
        on shop_daily_kpis.shop_id = account_sums.shop_id
            and shop_daily_kpis.biz_date = account_sums.biz_date
    left join reception_counts
        on shop_daily_kpis.shop_id = reception_counts.shop_id
            and shop_daily_kpis.biz_date = reception_counts.biz_date
    left join account_converted_buyers
        on shop_daily_kpis.shop_id = account_converted_buyers.shop_id
            and shop_daily_kpis.biz_date = account_converted_buyers.biz_date
),

violations as (
    select * from compared
    where consult_buyer_cnt > account_consult_buyer_cnt
        or received_buyer_cnt > account_received_buyer_cnt
        or replied_buyer_cnt > account_replied_buyer_cnt
        or account_inquiry_buyer_cnt + assisted_reception_cnt <> inquiry_reception_cnt
        or inquiry_buyer_cnt > inquiry_reception_cnt
        or inq_order_cnt < account_ordered_buyer_cnt
        or inq_pay_final_cnt < account_paid_final_buyer_cnt
)

select * from violations
