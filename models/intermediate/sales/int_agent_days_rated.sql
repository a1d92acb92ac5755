-- One row per (shop_id, agent_id, biz_date = rated local date) with a rating:
-- satisfaction counts and 好评率 (docs/metrics.md §7). Every rating with a known
-- score counts, whatever the filter list.
with

stg_exports__ratings as (
    select * from {{ ref('stg_exports__ratings') }}
),

known_ratings as (
    select * from stg_exports__ratings
    where rating_level is not null
),

counted as (
    select
        shop_id,
        agent_id,
        rated_date as biz_date,
        count(*) as rating_cnt,
        count(*) filter (where rating_level = 'satisfied') as satisfied_cnt,
        count(*) filter (where rating_level = 'neutral') as neutral_cnt,
        count(*) filter (where rating_level = 'disappointed') as disappointed_cnt
    from known_ratings
    group by shop_id, agent_id, rated_date
),

rated as (
    select
        shop_id,
        agent_id,
        rating_cnt,
        satisfied_cnt,
        neutral_cnt,
        disappointed_cnt,
        {{ kefu_ratio('satisfied_cnt', 'rating_cnt') }} as good_rate,
        biz_date
    from counted
)

select * from rated
