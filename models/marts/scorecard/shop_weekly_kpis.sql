-- One row per (shop_id, week_start): shop_daily_kpis rolled up by ISO week
-- (Monday start) from summed numerators and denominators (docs/metrics.md §8, §9).
{{
    kefu_period_rollup(
        'shop_daily_kpis',
        ['shop_id'],
        'week_start',
        "cast(date_trunc('week', biz_date) as date)",
        'shop'
    )
}}
