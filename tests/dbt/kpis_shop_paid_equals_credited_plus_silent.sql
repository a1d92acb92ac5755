-- The sales identity of the published shop figures (docs/metrics.md §5.3–5.6):
-- a shop-day's paid sales are its accounts' credited sales plus its silent
-- sales. Reads the build window's days in a window build (every day in a full
-- build). Returns the shop-days where it does not hold.
with

shop_daily_kpis as (
    select * from {{ ref('shop_daily_kpis') }}
    where {{ kefu_in_window('biz_date') }}
),

violations as (
    select
        shop_id,
        biz_date,
        paid_sales_amt,
        cs_sales_amt,
        silent_sales_amt
    from shop_daily_kpis
    where paid_sales_amt <> cs_sales_amt + silent_sales_amt
)

select * from violations
