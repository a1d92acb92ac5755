-- One row per rating (shop_id, rating_id), the first loaded copy, with its
-- three-level mapping (docs/metrics.md §7).
with

source as (
    select * from {{ source('exports', 'ratings') }}
),

first_loaded as (
    select *
    from source
    qualify row_number() over (
            partition by shop_id, rating_id order by _file_id, _row_num
        ) = 1
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
