-- Per shop and payment day, the paid sales of the latest order versions (every
-- paid order of stg_exports__orders by paid_date: the paid_sales_amt that
-- shop_daily_kpis shows) equal the accounts' credited sales (Σ cs_sales_amt of
-- int_agent_days_sold) plus the shop's silent sales, in amount and in orders;
-- the shop's paid and credited figures match them (docs/metrics.md §5.3–5.6). A
-- credit step that drops or doubles an order breaks one of these. Returns the
-- shop-days where they do not hold.
with

stg_exports__orders as (
    select * from {{ ref('stg_exports__orders') }}
    where {{ kefu_in_window('paid_date') }}
),

int_agent_days_sold as (
    select * from {{ ref('int_agent_days_sold') }}
    where {{ kefu_in_window('biz_date') }}
),

int_shop_days_sold as (
    select * from {{ ref('int_shop_days_sold') }}
    where {{ kefu_in_window('biz_date') }}
),

paid_days as (
    select
        shop_id,
        paid_date as biz_date,
        {{ kefu_money_sum('amount') }} as paid_sales_amt,
        count(*) as paid_order_cnt
    from stg_exports__orders
    where is_paid
    group by shop_id, paid_date
),

account_totals as (
    select
        shop_id,
        biz_date,
        sum(cs_sales_amt) as cs_sales_amt,
        sum(cs_order_cnt) as cs_order_cnt
    from int_agent_days_sold
    group by shop_id, biz_date
),

shop_days as (
    select
        shop_id,
        biz_date
    from paid_days
    union
    select
        shop_id,
        biz_date
    from account_totals
    union
    select
        shop_id,
        biz_date
    from int_shop_days_sold
),

compared as (
    select
        shop_days.shop_id,
        shop_days.biz_date,
        coalesce(paid_days.paid_sales_amt, 0) as paid_sales_amt,
        coalesce(paid_days.paid_order_cnt, 0) as paid_order_cnt,
        coalesce(account_totals.cs_sales_amt, 0) as account_cs_sales_amt,
        coalesce(account_totals.cs_order_cnt, 0) as account_cs_order_cnt,
        coalesce(int_shop_days_sold.paid_sales_amt, 0) as shop_paid_sales_amt,
        coalesce(int_shop_days_sold.cs_sales_amt, 0) as shop_cs_sales_amt,
        coalesce(int_shop_days_sold.cs_order_cnt, 0) as shop_cs_order_cnt,
        coalesce(int_shop_days_sold.silent_sales_amt, 0) as silent_sales_amt,
        coalesce(int_shop_days_sold.silent_order_cnt, 0) as silent_order_cnt
    from shop_days
    left join paid_days
        on shop_days.shop_id = paid_days.shop_id
            and shop_days.biz_date = paid_days.biz_date
    left join account_totals
        on shop_days.shop_id = account_totals.shop_id
            and shop_days.biz_date = account_totals.biz_date
    left join int_shop_days_sold
        on shop_days.shop_id = int_shop_days_sold.shop_id
            and shop_days.biz_date = int_shop_days_sold.biz_date
),

violations as (
    select * from compared
    where
        paid_sales_amt <> account_cs_sales_amt + silent_sales_amt
        or paid_order_cnt <> account_cs_order_cnt + silent_order_cnt
        or shop_paid_sales_amt <> paid_sales_amt
        or shop_cs_sales_amt <> account_cs_sales_amt
        or shop_cs_order_cnt <> account_cs_order_cnt
)

select * from violations
