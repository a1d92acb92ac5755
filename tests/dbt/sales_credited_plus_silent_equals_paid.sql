-- Per shop and payment day, credited + silent sales = paid sales, in amount and
-- in orders, and the accounts' credited sales add up to the shop's (metrics.md
-- §5.3–5.6). Returns the shop-days where they do not.
with

int_shop_days_sold as (
    select * from {{ ref('int_shop_days_sold') }}
),

int_agent_days_sold as (
    select * from {{ ref('int_agent_days_sold') }}
),

agent_totals as (
    select
        shop_id,
        biz_date,
        sum(cs_sales_amt) as cs_sales_amt,
        sum(cs_order_cnt) as cs_order_cnt
    from int_agent_days_sold
    group by shop_id, biz_date
),

compared as (
    select
        int_shop_days_sold.shop_id,
        int_shop_days_sold.biz_date,
        int_shop_days_sold.paid_sales_amt,
        int_shop_days_sold.cs_sales_amt,
        int_shop_days_sold.silent_sales_amt,
        agent_totals.cs_sales_amt as agent_cs_sales_amt
    from int_shop_days_sold
    left join agent_totals
        on int_shop_days_sold.shop_id = agent_totals.shop_id
            and int_shop_days_sold.biz_date = agent_totals.biz_date
    where
        int_shop_days_sold.cs_sales_amt + int_shop_days_sold.silent_sales_amt
        <> int_shop_days_sold.paid_sales_amt
        or int_shop_days_sold.cs_order_cnt + int_shop_days_sold.silent_order_cnt
        <> int_shop_days_sold.paid_order_cnt
        or coalesce(agent_totals.cs_sales_amt, 0) <> int_shop_days_sold.cs_sales_amt
        or coalesce(agent_totals.cs_order_cnt, 0) <> int_shop_days_sold.cs_order_cnt
)

select * from compared
