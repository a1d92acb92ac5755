{{
    config(
        materialized='incremental',
        incremental_strategy=kefu_window_strategy(),
        partition_by=kefu_window_partition(['biz_date']),
        pre_hook="{{ kefu_delete_window('biz_date') }}",
    )
}}
-- One row per alert (预警) a team lead should act on (docs/metrics.md §11,
-- §14): disappointed ratings, slow receptions, unreplied buyers, late replies
-- (a wait longer than max_wait_s, left out of the averages) and agent-days
-- below a target. Reception alerts carry the reception they concern
-- (reception_biz_date, reception_first_message_at) so that the lead can open
-- the conversation in the raw layer; a disappointed rating links to the
-- latest reception of the same shop, agent and buyer on the rating day or, when
-- there is none that day, the day before (docs/metrics.md §14). detail never holds
-- message text.
with

stg_exports__ratings as (
    select * from {{ ref('stg_exports__ratings') }}
    where rating_level = 'disappointed' and {{ kefu_in_window('rated_date') }}
),

int_receptions_filtered as (
    select * from {{ ref('int_receptions_filtered') }}
    where {{ kefu_in_shifted_window('biz_date', '1', '0') }}
),

int_receptions_measured as (
    select * from {{ ref('int_receptions_measured') }}
    where {{ kefu_in_window('biz_date') }}
),

int_rounds_paired as (
    select * from {{ ref('int_rounds_paired') }}
    where {{ kefu_in_window('biz_date') }}
),

int_shops_completed as (
    select * from {{ ref('int_shops_completed') }}
),

kpi_target_status as (
    select * from {{ ref('kpi_target_status') }}
    where period = 'day' and {{ kefu_in_window('period_start') }}
),

rated_reception_candidates as (
    select
        stg_exports__ratings.shop_id,
        stg_exports__ratings.agent_id,
        stg_exports__ratings.buyer_id,
        stg_exports__ratings.rating_id,
        stg_exports__ratings.score,
        stg_exports__ratings.rated_date,
        int_receptions_filtered.biz_date as reception_biz_date,
        stg_exports__ratings.rated_at,
        int_receptions_filtered.first_message_at as reception_first_message_at
    from stg_exports__ratings
    left join int_receptions_filtered
        on stg_exports__ratings.shop_id = int_receptions_filtered.shop_id
            and stg_exports__ratings.agent_id = int_receptions_filtered.agent_id
            and stg_exports__ratings.buyer_id = int_receptions_filtered.buyer_id
            and int_receptions_filtered.biz_date
            between stg_exports__ratings.rated_date - 1 and stg_exports__ratings.rated_date
),

rated_receptions as (
    {{ kefu_first_row(
        'rated_reception_candidates', 'shop_id, rating_id',
        'reception_biz_date desc nulls last, reception_first_message_at desc nulls last'
    ) }}
),

disappointed_ratings as (
    select
        shop_id,
        'disappointed_rating' as alert_type,
        agent_id,
        buyer_id,
        'rating ' || rating_id || ': ' || score as detail,
        try_cast(score as double) as figure,
        cast(null as double) as threshold,
        rated_date as biz_date,
        reception_biz_date,
        rated_at as occurred_at,
        reception_first_message_at
    from rated_receptions
),

slow_receptions as (
    select
        int_receptions_measured.shop_id,
        'slow_reception' as alert_type,
        int_receptions_measured.agent_id,
        int_receptions_measured.buyer_id,
        int_receptions_measured.slow_round_cnt || ' slow rounds of ' || int_receptions_measured.round_cnt
            as detail,
        cast(int_receptions_measured.slow_round_cnt as double) as figure,
        cast(int_shops_completed.slow_round_count as double) as threshold,
        int_receptions_measured.biz_date,
        int_receptions_measured.biz_date as reception_biz_date,
        int_receptions_measured.first_message_at as occurred_at,
        int_receptions_measured.first_message_at as reception_first_message_at
    from int_receptions_measured
    inner join int_shops_completed
        on int_receptions_measured.shop_id = int_shops_completed.shop_id
    where int_receptions_measured.is_slow_reception
),

unreplied_buyers as (
    select
        shop_id,
        'unreplied_buyer' as alert_type,
        agent_id,
        buyer_id,
        'first round unreplied, ' || round_cnt || ' rounds' as detail,
        cast(null as double) as figure,
        cast(null as double) as threshold,
        biz_date,
        biz_date as reception_biz_date,
        first_message_at as occurred_at,
        first_message_at as reception_first_message_at
    from int_receptions_measured
    where not is_filtered and not is_replied
),

late_replies as (
    select
        int_rounds_paired.shop_id,
        'late_reply' as alert_type,
        int_rounds_paired.agent_id,
        int_rounds_paired.buyer_id,
        'round ' || int_rounds_paired.round_seq || ' replied at '
        || {{ kefu_clock_text('int_rounds_paired.replied_at') }} as detail,
        int_rounds_paired.wait_s as figure,
        cast(int_shops_completed.max_wait_s as double) as threshold,
        int_rounds_paired.biz_date,
        int_rounds_paired.biz_date as reception_biz_date,
        int_rounds_paired.asked_at as occurred_at,
        int_receptions_measured.first_message_at as reception_first_message_at
    from int_rounds_paired
    inner join int_shops_completed
        on int_rounds_paired.shop_id = int_shops_completed.shop_id
    inner join int_receptions_measured
        on int_rounds_paired.shop_id = int_receptions_measured.shop_id
            and int_rounds_paired.agent_id = int_receptions_measured.agent_id
            and int_rounds_paired.buyer_id = int_receptions_measured.buyer_id
            and int_rounds_paired.biz_date = int_receptions_measured.biz_date
    where int_rounds_paired.is_replied and int_rounds_paired.wait_s > int_shops_completed.max_wait_s
),

below_targets as (
    select
        shop_id,
        'below_target' as alert_type,
        agent_id,
        cast(null as string) as buyer_id,
        metric || ' ' || comparator || ' ' || target_value as detail,
        value as figure,
        target_value as threshold,
        period_start as biz_date,
        cast(null as date) as reception_biz_date,
        cast(null as timestamp) as occurred_at,
        cast(null as timestamp) as reception_first_message_at
    from kpi_target_status
    where not is_met
),

alerts as (
    select * from disappointed_ratings
    union all
    select * from slow_receptions
    union all
    select * from unreplied_buyers
    union all
    select * from late_replies
    union all
    select * from below_targets
),

published as (
    select
        shop_id,
        alert_type,
        agent_id,
        {{ kefu_buyer_key('buyer_id') }} as buyer_id,
        detail,
        figure,
        threshold,
        biz_date,
        reception_biz_date,
        occurred_at,
        reception_first_message_at
    from alerts
)

select * from published
