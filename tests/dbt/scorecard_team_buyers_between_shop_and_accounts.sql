-- A team counts each buyer once per day (docs/metrics.md §9): its buyer counts
-- never exceed the sum over its accounts nor the shop's count, and the teams
-- together cover at least the shop's buyers (each shop buyer wrote to some team).
with

team_daily_kpis as (
    select * from {{ ref('team_daily_kpis') }}
    where {{ kefu_in_window('biz_date') }}
),

agent_daily_kpis as (
    select * from {{ ref('agent_daily_kpis') }}
    where {{ kefu_in_window('biz_date') }}
),

shop_daily_kpis as (
    select * from {{ ref('shop_daily_kpis') }}
    where {{ kefu_in_window('biz_date') }}
),

stg_exports__agents as (
    select * from {{ ref('stg_exports__agents') }}
),

account_sums as (
    select
        agent_daily_kpis.shop_id,
        {{ kefu_team('stg_exports__agents.team') }} as team,
        agent_daily_kpis.biz_date,
        sum(agent_daily_kpis.consult_buyer_cnt) as consult_buyer_cnt,
        sum(agent_daily_kpis.received_buyer_cnt) as received_buyer_cnt,
        sum(agent_daily_kpis.replied_buyer_cnt) as replied_buyer_cnt
    from agent_daily_kpis
    left join stg_exports__agents
        on agent_daily_kpis.shop_id = stg_exports__agents.shop_id
            and agent_daily_kpis.agent_id = stg_exports__agents.agent_id
    group by agent_daily_kpis.shop_id, {{ kefu_team('stg_exports__agents.team') }}, agent_daily_kpis.biz_date
),

team_sums as (
    select
        shop_id,
        biz_date,
        sum(consult_buyer_cnt) as consult_buyer_cnt,
        sum(received_buyer_cnt) as received_buyer_cnt,
        sum(replied_buyer_cnt) as replied_buyer_cnt
    from team_daily_kpis
    group by shop_id, biz_date
),

above_accounts as (
    select
        team_daily_kpis.shop_id,
        team_daily_kpis.biz_date,
        'team above its accounts' as violation
    from team_daily_kpis
    left join account_sums
        on team_daily_kpis.shop_id = account_sums.shop_id
            and team_daily_kpis.team = account_sums.team
            and team_daily_kpis.biz_date = account_sums.biz_date
    where team_daily_kpis.consult_buyer_cnt > coalesce(account_sums.consult_buyer_cnt, 0)
        or team_daily_kpis.received_buyer_cnt > coalesce(account_sums.received_buyer_cnt, 0)
        or team_daily_kpis.replied_buyer_cnt > coalesce(account_sums.replied_buyer_cnt, 0)
),

above_shop as (
    select
        team_daily_kpis.shop_id,
        team_daily_kpis.biz_date,
        'team above its shop' as violation
    from team_daily_kpis
    left join shop_daily_kpis
        on team_daily_kpis.shop_id = shop_daily_kpis.shop_id
            and team_daily_kpis.biz_date = shop_daily_kpis.biz_date
    where team_daily_kpis.consult_buyer_cnt > coalesce(shop_daily_kpis.consult_buyer_cnt, 0)
        or team_daily_kpis.received_buyer_cnt > coalesce(shop_daily_kpis.received_buyer_cnt, 0)
        or team_daily_kpis.replied_buyer_cnt > coalesce(shop_daily_kpis.replied_buyer_cnt, 0)
        or team_daily_kpis.inquiry_buyer_cnt > coalesce(shop_daily_kpis.inquiry_buyer_cnt, 0)
),

below_shop as (
    select
        shop_daily_kpis.shop_id,
        shop_daily_kpis.biz_date,
        'teams below their shop' as violation
    from shop_daily_kpis
    left join team_sums
        on shop_daily_kpis.shop_id = team_sums.shop_id
            and shop_daily_kpis.biz_date = team_sums.biz_date
    where shop_daily_kpis.consult_buyer_cnt > coalesce(team_sums.consult_buyer_cnt, 0)
        or shop_daily_kpis.received_buyer_cnt > coalesce(team_sums.received_buyer_cnt, 0)
        or shop_daily_kpis.replied_buyer_cnt > coalesce(team_sums.replied_buyer_cnt, 0)
),

violations as (
    select * from above_accounts
    union all
    select * from above_shop
    union all
    select * from below_shop
)

select * from violations
