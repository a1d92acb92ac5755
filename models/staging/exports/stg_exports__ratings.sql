-- One row per rating (shop_id, rating_id), the first loaded copy, with its
-- three-level mapping (docs/metrics.md §7).
with

source as (
    select * from {{ source('exports', 'ratings') }}
),

first_loaded as (
    {{ kefu_first_row('source', 'shop_id, rating_id', '_file_id, _row_num') }}
),

renamed as (
    select
        shop_id,
        rating_id,
        buyer_id,
        agent_id,
        score,
        channel,
        {{ rating_level('score') }} as rating_level,
        cast(rated_at as date) as rated_date,
        rated_at
    from first_loaded
)

select * from renamed
