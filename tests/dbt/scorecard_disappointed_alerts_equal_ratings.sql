-- Every disappointed rating is one alert (docs/metrics.md §11): per shop and day,
-- the disappointed_rating alerts equal Σ disappointed_cnt of agent_daily_kpis.
with

service_alerts as (
    select * from {{ ref('service_alerts') }}
    where {{ kefu_in_window('biz_date') }}
),

agent_daily_kpis as (
    select * from {{ ref('agent_daily_kpis') }}
    where {{ kefu_in_window('biz_date') }}
),

alert_counts as (
    select
        shop_id,
        biz_date,
        count(*) as alert_cnt
    from service_alerts
    where alert_type = 'disappointed_rating'
    group by shop_id, biz_date
),

rating_counts as (
    select
        shop_id,
        biz_date,
        sum(disappointed_cnt) as disappointed_cnt
    from agent_daily_kpis
    group by shop_id, biz_date
    having sum(disappointed_cnt) > 0
),

violations as (
    select
        coalesce(alert_counts.shop_id, rating_counts.shop_id) as shop_id,
        coalesce(alert_counts.biz_date, rating_counts.biz_date) as biz_date,
        alert_counts.alert_cnt,
        rating_counts.disappointed_cnt
    from alert_counts
    full outer join rating_counts
        on alert_counts.shop_id = rating_counts.shop_id
            and alert_counts.biz_date = rating_counts.biz_date
    where coalesce(alert_counts.alert_cnt, 0) <> coalesce(rating_counts.disappointed_cnt, 0)
)

select * from violations
