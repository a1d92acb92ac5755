-- One row per (shop_id, agent_id, week_start): agent_daily_kpis rolled up by
-- ISO week (Monday start) from summed numerators and denominators.
{{ kefu_agent_rollup('week_start', "cast(date_trunc('week', biz_date) as date)") }}
