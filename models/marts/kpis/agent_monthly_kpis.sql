-- One row per (shop_id, agent_id, month_start): agent_daily_kpis rolled up by
-- calendar month from summed numerators and denominators.
{{ kefu_agent_rollup('month_start', "cast(date_trunc('month', biz_date) as date)") }}
