-- One row per (shop_id, agent_id, biz_date = payment local date) with a
-- credited paid order: the account's 客服销售 figures (docs/metrics.md §5.4) and the
-- refunds of those orders (§13, reported apart, never deducted).
with

int_orders_credited as (
    select * from {{ ref('int_orders_credited') }}
),

credited_paid_orders as (
    select * from int_orders_credited
    where is_paid and credited_agent_id is not null
),

summed as (
    select
        shop_id,
        credited_agent_id as agent_id,
        paid_date as biz_date,
        {{ kefu_money_sum('amount') }} as cs_sales_amt,
        cast(sum(quantity) as bigint) as cs_sales_qty,
        count(distinct buyer_id) as cs_sales_buyer_cnt,
        count(*) as cs_order_cnt,
        {{ kefu_money_sum('refund_amount') }} as refund_amt
    from credited_paid_orders
    group by shop_id, credited_agent_id, paid_date
),

averaged as (
    select
        shop_id,
        agent_id,
        cs_sales_amt,
        cs_sales_qty,
        cs_sales_buyer_cnt,
        cs_order_cnt,
        refund_amt,
        {{ kefu_money_ratio('cs_sales_amt', 'cs_sales_buyer_cnt') }} as cs_aov,
        {{ kefu_money_ratio('cs_sales_qty', 'cs_sales_buyer_cnt') }} as cs_items_per_buyer,
        biz_date
    from summed
)

select * from averaged
