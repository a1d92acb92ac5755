-- One row per (shop_id, biz_date = payment local date) with a paid order: paid
-- sales split into credited (客服销售) and silent (静默) sales, with the 客单价
-- of each side (docs/metrics.md §5.6). Buyers are counted distinct per shop and day.
with

int_orders_credited as (
    select * from {{ ref('int_orders_credited') }}
),

paid_orders as (
    select
        shop_id,
        buyer_id,
        amount,
        quantity,
        refund_amount,
        credited_agent_id is not null as is_credited,
        is_silent,
        paid_date
    from int_orders_credited
    where is_paid
),

summed as (
    select
        shop_id,
        paid_date as biz_date,
        {{ kefu_money_sum('amount') }} as paid_sales_amt,
        count(distinct buyer_id) as paid_buyer_cnt,
        count(*) as paid_order_cnt,
        {{ kefu_money_sum('amount', 'is_credited') }} as cs_sales_amt,
        cast(coalesce(sum(quantity) filter (where is_credited), 0) as bigint) as cs_sales_qty,
        count(distinct buyer_id) filter (where is_credited) as cs_sales_buyer_cnt,
        count(*) filter (where is_credited) as cs_order_cnt,
        {{ kefu_money_sum('amount', 'is_silent') }} as silent_sales_amt,
        count(distinct buyer_id) filter (where is_silent) as silent_buyer_cnt,
        count(*) filter (where is_silent) as silent_order_cnt,
        {{ kefu_money_sum('refund_amount') }} as refund_amt
    from paid_orders
    group by shop_id, paid_date
),

with_shares as (
    select
        shop_id,
        paid_sales_amt,
        paid_buyer_cnt,
        paid_order_cnt,
        cs_sales_amt,
        cs_sales_qty,
        cs_sales_buyer_cnt,
        cs_order_cnt,
        {{ kefu_ratio('cs_sales_amt', 'paid_sales_amt') }} as cs_sales_share,
        {{ kefu_money_ratio('cs_sales_amt', 'cs_sales_buyer_cnt') }} as cs_aov,
        silent_sales_amt,
        silent_buyer_cnt,
        silent_order_cnt,
        refund_amt,
        {{ kefu_money_ratio('silent_sales_amt', 'silent_buyer_cnt') }} as silent_aov,
        biz_date
    from summed
)

select * from with_shares
