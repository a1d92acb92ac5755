{{
    config(
        materialized='incremental',
        incremental_strategy=kefu_window_strategy(),
        partition_by=kefu_window_partition(['biz_date']),
        pre_hook="{{ kefu_delete_window('biz_date') }}",
    )
}}
-- One row per (shop_id, team, biz_date) with activity: the team scorecard
-- (docs/metrics.md §14, §9). team comes from agents/ (pre_sales,
-- after_sales, other; an account not listed is other). Buyer counts are
-- de-duplicated per team and day as shop_daily_kpis does per shop; every other
-- count and sum is the sum of the team's agent_daily_kpis rows.
with

agent_daily_kpis as (
    select * from {{ ref('agent_daily_kpis') }}
    where {{ kefu_in_window('biz_date') }}
),

int_receptions_measured as (
    select * from {{ ref('int_receptions_measured') }}
    where {{ kefu_in_window('biz_date') }}
),

int_receptions_inquired as (
    select * from {{ ref('int_receptions_inquired') }}
    where {{ kefu_in_window('biz_date') }}
),

int_orders_credited as (
    select * from {{ ref('int_orders_credited') }}
    where is_paid and credited_agent_id is not null and {{ kefu_in_window('paid_date') }}
),

stg_exports__agents as (
    select * from {{ ref('stg_exports__agents') }}
),

int_shops_completed as (
    select * from {{ ref('int_shops_completed') }}
),

account_sums as (
    select
        agent_daily_kpis.shop_id,
        {{ kefu_team('stg_exports__agents.team') }} as team,
        count(*) as account_cnt,
        {{ kefu_count_sum('agent_daily_kpis.buyer_msg_cnt') }} as buyer_msg_cnt,
        {{ kefu_count_sum('agent_daily_kpis.agent_msg_cnt') }} as agent_msg_cnt,
        {{ kefu_count_sum('agent_daily_kpis.first_response_cnt') }} as first_response_cnt,
        {{ kefu_seconds_sum('agent_daily_kpis.first_response_total_s') }} as first_response_total_s,
        {{ kefu_count_sum('agent_daily_kpis.response_cnt') }} as response_cnt,
        {{ kefu_seconds_sum('agent_daily_kpis.response_total_s') }} as response_total_s,
        {{ kefu_count_sum('agent_daily_kpis.round_cnt') }} as round_cnt,
        {{ kefu_count_sum('agent_daily_kpis.replied_3min_round_cnt') }} as replied_3min_round_cnt,
        {{ kefu_count_sum('agent_daily_kpis.slow_reception_cnt') }} as slow_reception_cnt,
        {{ kefu_money_sum('agent_daily_kpis.cs_sales_amt') }} as cs_sales_amt,
        {{ kefu_count_sum('agent_daily_kpis.cs_sales_qty') }} as cs_sales_qty,
        {{ kefu_count_sum('agent_daily_kpis.cs_order_cnt') }} as cs_order_cnt,
        {{ kefu_money_sum('agent_daily_kpis.refund_amt') }} as refund_amt,
        {{ kefu_count_sum('agent_daily_kpis.rating_cnt') }} as rating_cnt,
        {{ kefu_count_sum('agent_daily_kpis.satisfied_cnt') }} as satisfied_cnt,
        {{ kefu_count_sum('agent_daily_kpis.neutral_cnt') }} as neutral_cnt,
        {{ kefu_count_sum('agent_daily_kpis.disappointed_cnt') }} as disappointed_cnt,
        agent_daily_kpis.biz_date
    from agent_daily_kpis
    left join stg_exports__agents
        on agent_daily_kpis.shop_id = stg_exports__agents.shop_id
            and agent_daily_kpis.agent_id = stg_exports__agents.agent_id
    group by agent_daily_kpis.shop_id, {{ kefu_team('stg_exports__agents.team') }}, agent_daily_kpis.biz_date
),

-- A buyer counts once per team and day: consulting / received / replied
-- when any of the team's receptions of that day is.
team_buyers as (
    select
        int_receptions_measured.shop_id,
        {{ kefu_team('stg_exports__agents.team') }} as team,
        int_receptions_measured.buyer_id,
        bool_or(not int_receptions_measured.is_filtered) as is_received,
        coalesce(bool_or(int_receptions_measured.is_replied), false) as is_replied,
        int_receptions_measured.biz_date
    from int_receptions_measured
    left join stg_exports__agents
        on int_receptions_measured.shop_id = stg_exports__agents.shop_id
            and int_receptions_measured.agent_id = stg_exports__agents.agent_id
    group by
        int_receptions_measured.shop_id,
        {{ kefu_team('stg_exports__agents.team') }},
        int_receptions_measured.buyer_id,
        int_receptions_measured.biz_date
),

team_buyer_counts as (
    select
        shop_id,
        team,
        count(*) as consult_buyer_cnt,
        count(*) filter (where is_received) as received_buyer_cnt,
        count(*) filter (where is_replied) as replied_buyer_cnt,
        biz_date
    from team_buyers
    group by shop_id, team, biz_date
),

-- Conversion counts buyers whoever earned them, as the shop does (docs/metrics.md §4.7).
team_inquired_buyers as (
    select
        int_receptions_inquired.shop_id,
        {{ kefu_team('stg_exports__agents.team') }} as team,
        int_receptions_inquired.biz_date,
        int_receptions_inquired.buyer_id,
        {{ kefu_buyer_conversion_flags() }}
    from int_receptions_inquired
    left join stg_exports__agents
        on int_receptions_inquired.shop_id = stg_exports__agents.shop_id
            and int_receptions_inquired.agent_id = stg_exports__agents.agent_id
    group by
        int_receptions_inquired.shop_id,
        {{ kefu_team('stg_exports__agents.team') }},
        int_receptions_inquired.biz_date,
        int_receptions_inquired.buyer_id
),

team_conversions as (
    select
        shop_id,
        team,
        biz_date,
        {{ kefu_conversion_counts('buyer') }}
    from team_inquired_buyers
    group by shop_id, team, biz_date
),

team_sales_buyers as (
    select
        int_orders_credited.shop_id,
        {{ kefu_team('stg_exports__agents.team') }} as team,
        count(distinct int_orders_credited.buyer_id) as cs_sales_buyer_cnt,
        int_orders_credited.paid_date as biz_date
    from int_orders_credited
    left join stg_exports__agents
        on int_orders_credited.shop_id = stg_exports__agents.shop_id
            and int_orders_credited.credited_agent_id = stg_exports__agents.agent_id
    group by
        int_orders_credited.shop_id,
        {{ kefu_team('stg_exports__agents.team') }},
        int_orders_credited.paid_date
),

joined as (
    select
        account_sums.shop_id,
        account_sums.team,
        account_sums.account_cnt,
        coalesce(team_buyer_counts.consult_buyer_cnt, 0) as consult_buyer_cnt,
        coalesce(team_buyer_counts.consult_buyer_cnt - team_buyer_counts.received_buyer_cnt, 0)
            as filtered_buyer_cnt,
        coalesce(team_buyer_counts.received_buyer_cnt, 0) as received_buyer_cnt,
        coalesce(team_buyer_counts.replied_buyer_cnt, 0) as replied_buyer_cnt,
        coalesce(team_buyer_counts.received_buyer_cnt - team_buyer_counts.replied_buyer_cnt, 0)
            as unreplied_buyer_cnt,
        coalesce(team_conversions.inquiry_buyer_cnt, 0) as inquiry_buyer_cnt,
        coalesce(team_conversions.inq_order_cnt, 0) as inq_order_cnt,
        coalesce(team_conversions.inq_pay_next_day_cnt, 0) as inq_pay_next_day_cnt,
        coalesce(team_conversions.inq_pay_final_cnt, 0) as inq_pay_final_cnt,
        account_sums.buyer_msg_cnt,
        account_sums.agent_msg_cnt,
        account_sums.first_response_cnt,
        account_sums.first_response_total_s,
        account_sums.response_cnt,
        account_sums.response_total_s,
        account_sums.round_cnt,
        account_sums.replied_3min_round_cnt,
        account_sums.slow_reception_cnt,
        account_sums.cs_sales_amt,
        account_sums.cs_sales_qty,
        coalesce(team_sales_buyers.cs_sales_buyer_cnt, 0) as cs_sales_buyer_cnt,
        account_sums.cs_order_cnt,
        account_sums.refund_amt,
        account_sums.rating_cnt,
        account_sums.satisfied_cnt,
        account_sums.neutral_cnt,
        account_sums.disappointed_cnt,
        {{ kefu_maturity_flags('account_sums.biz_date', 'int_shops_completed.final_pay_days') }},
        account_sums.biz_date
    from account_sums
    inner join int_shops_completed
        on account_sums.shop_id = int_shops_completed.shop_id
    left join team_buyer_counts
        on account_sums.shop_id = team_buyer_counts.shop_id
            and account_sums.team = team_buyer_counts.team
            and account_sums.biz_date = team_buyer_counts.biz_date
    left join team_conversions
        on account_sums.shop_id = team_conversions.shop_id
            and account_sums.team = team_conversions.team
            and account_sums.biz_date = team_conversions.biz_date
    left join team_sales_buyers
        on account_sums.shop_id = team_sales_buyers.shop_id
            and account_sums.team = team_sales_buyers.team
            and account_sums.biz_date = team_sales_buyers.biz_date
),

derived as (
    select
        joined.*,
        {{ kefu_team_derived_columns() }}
    from joined
)

select * from derived
