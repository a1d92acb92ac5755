-- One row per (shop_id, month_start): shop_daily_kpis rolled up by calendar
-- month from summed numerators and denominators (docs/metrics.md §8, §9).
{{
    kefu_period_rollup(
        'shop_daily_kpis',
        ['shop_id'],
        'month_start',
        "cast(date_trunc('month', biz_date) as date)",
        'shop'
    )
}}
