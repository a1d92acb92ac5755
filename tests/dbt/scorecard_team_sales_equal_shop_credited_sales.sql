-- Every credited order belongs to one account and so to one team: Σ over the
-- teams of cs_sales_amt = the shop's
-- credited sales of that payment day (docs/metrics.md §9).
with

team_daily_kpis as (
    select * from {{ ref('team_daily_kpis') }}
    where {{ kefu_in_window('biz_date') }}
),

shop_daily_kpis as (
    select * from {{ ref('shop_daily_kpis') }}
    where {{ kefu_in_window('biz_date') }}
),

team_sums as (
    select
        shop_id,
        biz_date,
        sum(cs_sales_amt) as cs_sales_amt
    from team_daily_kpis
    group by shop_id, biz_date
),

violations as (
    select
        shop_daily_kpis.shop_id,
        shop_daily_kpis.biz_date,
        shop_daily_kpis.cs_sales_amt,
        team_sums.cs_sales_amt as team_cs_sales_amt
    from shop_daily_kpis
    full outer join team_sums
        on shop_daily_kpis.shop_id = team_sums.shop_id
            and shop_daily_kpis.biz_date = team_sums.biz_date
    where coalesce(shop_daily_kpis.cs_sales_amt, 0) <> coalesce(team_sums.cs_sales_amt, 0)
)

select * from violations
