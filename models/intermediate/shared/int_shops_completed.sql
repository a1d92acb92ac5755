-- One row per shop seen in any export, with its ruleset's parameters
-- (docs/metrics.md §0). A shop missing from shops/ gets the defaults.
with

stg_exports__shops as (
    select * from {{ ref('stg_exports__shops') }}
),

stg_exports__messages as (
    select * from {{ ref('stg_exports__messages') }}
),

stg_exports__orders as (
    select * from {{ ref('stg_exports__orders') }}
),

stg_exports__ratings as (
    select * from {{ ref('stg_exports__ratings') }}
),

stg_exports__agents as (
    select * from {{ ref('stg_exports__agents') }}
),

rulesets as (
    select * from {{ ref('rulesets') }}
),

shop_ids as (
    select shop_id from stg_exports__shops
    union
    select distinct shop_id from stg_exports__messages
    union
    select distinct shop_id from stg_exports__orders
    union
    select distinct shop_id from stg_exports__ratings
    union
    select distinct shop_id from stg_exports__agents
),

completed as (
    select
        shop_ids.shop_id,
        stg_exports__shops.shop_name,
        coalesce(stg_exports__shops.platform, 'taobao') as platform,
        coalesce(stg_exports__shops.timezone, 'Asia/Shanghai') as timezone,
        coalesce(stg_exports__shops.ruleset, 'taobao_tool') as ruleset
    from shop_ids
    left join stg_exports__shops
        on shop_ids.shop_id = stg_exports__shops.shop_id
),

with_parameters as (
    select
        completed.*,
        rulesets.max_wait_s,
        rulesets.slow_reply_s,
        rulesets.slow_round_count,
        rulesets.reply_sla_s,
        rulesets.after_sale_days,
        rulesets.consult_window_days,
        rulesets.final_pay_days,
        rulesets.attribution_mode,
        rulesets.payment_window_hours
    from completed
    inner join rulesets
        on completed.ruleset = rulesets.ruleset
)

select * from with_parameters
