{#- Materialisation in dbt_project.yml: incremental on DuckDB, a full table on Spark. -#}
{{ config(incremental_strategy='append') }}
-- One row per rating (shop_id, rating_id), the first loaded copy, with its
-- three-level mapping (docs/metrics.md §7).
-- Incremental: a rating's first loaded copy never changes once taken (raw rows
-- are only appended, file ids only grow), so a build on the existing table
-- appends the ratings of the files loaded after the newest one it holds a copy
-- from, whose key it does not hold yet, and reads no other raw row. Each reader
-- used to rank a year's copies again (issue 13). Any other build takes every rating.
with

source as (
    select * from {{ source('exports', 'ratings') }}
    where {{ kefu_files_after_taken('_file_id') }}
),

first_loaded as (
    {{ kefu_first_row('source', 'shop_id, rating_id', '_file_id, _row_num') }}
),

new_ratings as (
    select * from first_loaded
    where {{ kefu_key_not_taken('first_loaded', ['shop_id', 'rating_id']) }}
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
        rated_at,
        _file_id as source_file_id
    from new_ratings
)

select * from renamed
