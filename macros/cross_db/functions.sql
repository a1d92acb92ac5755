{#- One SQL, two engines: every function that DuckDB and Spark SQL spell differently
    is one macro here, dispatched on the adapter (default__ = DuckDB, spark__ =
    Spark SQL 3.5). Models and the rule macros call these, never the engine's own
    spelling. Outside dbt (sqlfluff's jinja templater: no `target`, and an
    `adapter` stand-in that renders function calls) a dispatcher renders the
    DuckDB spelling, so the models lint as the SQL DuckDB runs. -#}

{#- Seconds since the epoch of a timestamp, as DOUBLE with the sub-second part
    (both engines divide the microseconds by 10^6 in DOUBLE: the same value). -#}
{% macro kefu_epoch_s(timestamp_expression) -%}
    {%- if target is defined -%}
        {{ return(adapter.dispatch('kefu_epoch_s', 'kefu')(timestamp_expression)) }}
    {%- else -%}
        {{ return(default__kefu_epoch_s(timestamp_expression)) }}
    {%- endif -%}
{%- endmacro %}

{% macro default__kefu_epoch_s(timestamp_expression) -%}
    epoch({{ timestamp_expression }})
{%- endmacro %}

{% macro spark__kefu_epoch_s(timestamp_expression) -%}
    (cast(unix_micros(cast({{ timestamp_expression }} as timestamp)) as double) / 1000000)
{%- endmacro %}

{#- A count over a window of the rows meeting `condition` (DuckDB takes FILTER in
    a window; Spark 3.5 does not, and counts the non-NULL values of a CASE). Write
    `{{ kefu_window_count_if('x') }} over w`. -#}
{% macro kefu_window_count_if(condition) -%}
    {%- if target is defined -%}
        {{ return(adapter.dispatch('kefu_window_count_if', 'kefu')(condition)) }}
    {%- else -%}
        {{ return(default__kefu_window_count_if(condition)) }}
    {%- endif -%}
{%- endmacro %}

{% macro default__kefu_window_count_if(condition) -%}
    count(*) filter (where {{ condition }})
{%- endmacro %}

{% macro spark__kefu_window_count_if(condition) -%}
    count(case when {{ condition }} then 1 end)
{%- endmacro %}

{#- Aggregate: `value` of the group's row first in the ascending order of
    `order_columns` ('a, b': columns, no ASC/DESC; a tie on all of them gives any
    one row's value). A hash aggregate, where kefu_first_row sorts every row of the
    partitions: a year's question_topics_daily, 5.8M keyword messages, about 2 s
    less (issue 13). -#}
{% macro kefu_value_of_first(value, order_columns) -%}
    {%- if target is defined -%}
        {{ return(adapter.dispatch('kefu_value_of_first', 'kefu')(value, order_columns)) }}
    {%- else -%}
        {{ return(default__kefu_value_of_first(value, order_columns)) }}
    {%- endif -%}
{%- endmacro %}

{% macro default__kefu_value_of_first(value, order_columns) -%}
    arg_min({{ value }}, ({{ order_columns }}))
{%- endmacro %}

{% macro spark__kefu_value_of_first(value, order_columns) -%}
    min_by({{ value }}, struct({{ order_columns }}))
{%- endmacro %}

{#- The rows of `relation` first in `order_by` within each `partition_by` group
    (DuckDB's QUALIFY row_number() = 1). Spark SQL has no QUALIFY: a subquery
    numbers the rows; its extra column kefu_row_num stays in the result, so a
    caller selects its columns by name after this step. -#}
{% macro kefu_first_row(relation, partition_by, order_by) -%}
    {%- if target is defined -%}
        {{ return(adapter.dispatch('kefu_first_row', 'kefu')(relation, partition_by, order_by)) }}
    {%- else -%}
        {{ return(default__kefu_first_row(relation, partition_by, order_by)) }}
    {%- endif -%}
{%- endmacro %}

{% macro default__kefu_first_row(relation, partition_by, order_by) -%}
    select *
    from {{ relation }}
    qualify row_number() over (
            partition by {{ partition_by }}
            order by {{ order_by }}
        ) = 1
{%- endmacro %}

{% macro spark__kefu_first_row(relation, partition_by, order_by) -%}
    select *
    from (
        select
            *,
            row_number() over (
                partition by {{ partition_by }}
                order by {{ order_by }}
            ) as kefu_row_num
        from {{ relation }}
    ) as numbered
    where kefu_row_num = 1
{%- endmacro %}

{#- One row per whole hour after the hour of `start_at` up to the hour of
    `end_at` (both of one day): a column of hours start+1 … end. -#}
{% macro kefu_later_hours(start_at, end_at) -%}
    {%- if target is defined -%}
        {{ return(adapter.dispatch('kefu_later_hours', 'kefu')(start_at, end_at)) }}
    {%- else -%}
        {{ return(default__kefu_later_hours(start_at, end_at)) }}
    {%- endif -%}
{%- endmacro %}

{% macro default__kefu_later_hours(start_at, end_at) -%}
    unnest(range(hour({{ start_at }}) + 1, hour({{ end_at }}) + 1))
{%- endmacro %}

{% macro spark__kefu_later_hours(start_at, end_at) -%}
    explode(sequence(hour({{ start_at }}) + 1, hour({{ end_at }})))
{%- endmacro %}

{#- The local time of day of a timestamp, comparable with the window_start /
    window_end columns of seed platform_presets (TIME on DuckDB; on Spark, which
    has no TIME type, 'HH:MM:SS' text, so a zero-padded 'HH:mm:ss.SSSSSS' orders
    the same way). -#}
{% macro kefu_time_of_day(timestamp_expression) -%}
    {%- if target is defined -%}
        {{ return(adapter.dispatch('kefu_time_of_day', 'kefu')(timestamp_expression)) }}
    {%- else -%}
        {{ return(default__kefu_time_of_day(timestamp_expression)) }}
    {%- endif -%}
{%- endmacro %}

{% macro default__kefu_time_of_day(timestamp_expression) -%}
    cast({{ timestamp_expression }} as time)
{%- endmacro %}

{% macro spark__kefu_time_of_day(timestamp_expression) -%}
    date_format({{ timestamp_expression }}, 'HH:mm:ss.SSSSSS')
{%- endmacro %}

{#- Column type of a time-of-day seed column (see kefu_time_of_day). -#}
{% macro kefu_time_type() -%}
    {%- if target is defined -%}
        {{ return(adapter.dispatch('kefu_time_type', 'kefu')()) }}
    {%- else -%}
        {{ return(default__kefu_time_type()) }}
    {%- endif -%}
{%- endmacro %}

{% macro default__kefu_time_type() -%}
    {{ return('time') }}
{%- endmacro %}

{% macro spark__kefu_time_type() -%}
    {{ return('string') }}
{%- endmacro %}

{#- 'HH:MM:SS' text of a timestamp. -#}
{% macro kefu_clock_text(timestamp_expression) -%}
    {%- if target is defined -%}
        {{ return(adapter.dispatch('kefu_clock_text', 'kefu')(timestamp_expression)) }}
    {%- else -%}
        {{ return(default__kefu_clock_text(timestamp_expression)) }}
    {%- endif -%}
{%- endmacro %}

{% macro default__kefu_clock_text(timestamp_expression) -%}
    strftime({{ timestamp_expression }}, '%H:%M:%S')
{%- endmacro %}

{% macro spark__kefu_clock_text(timestamp_expression) -%}
    date_format({{ timestamp_expression }}, 'HH:mm:ss')
{%- endmacro %}

{#- Exact integer quotient of a / b rounded half away from zero, as DECIMAL(36, 0),
    for kefu_money_ratio: both sides are whole numbers (money scaled to
    ten-thousandths), b NULL when it is 0. DuckDB takes HUGEINT and `//`;
    Spark DECIMAL(38, 0) and `div` (a BIGINT: amounts up to 10^12 CNY). -#}
{% macro kefu_rounded_quotient(numerator, denominator) -%}
    {%- if target is defined -%}
        {{ return(adapter.dispatch('kefu_rounded_quotient', 'kefu')(numerator, denominator)) }}
    {%- else -%}
        {{ return(default__kefu_rounded_quotient(numerator, denominator)) }}
    {%- endif -%}
{%- endmacro %}

{% macro default__kefu_rounded_quotient(numerator, denominator) -%}
    {%- set scaled_numerator = "cast(cast(" ~ numerator ~ " as decimal(38, 4)) * 10000 as hugeint)" -%}
    {%- set scaled_denominator = "nullif(cast(cast(" ~ denominator ~ " as decimal(38, 4)) * 10000 as hugeint), 0)" -%}
    cast(
        sign({{ scaled_numerator }}) * sign({{ scaled_denominator }})
        * ((abs({{ scaled_numerator }}) * 200 + abs({{ scaled_denominator }})) // (abs({{ scaled_denominator }}) * 2))
        as decimal(36, 0)
    )
{%- endmacro %}

{% macro spark__kefu_rounded_quotient(numerator, denominator) -%}
    {%- set scaled_numerator = "cast(cast(" ~ numerator ~ " as decimal(38, 4)) * 10000 as decimal(38, 0))" -%}
    {%- set scaled_denominator = "nullif(cast(cast(" ~ denominator ~ " as decimal(38, 4)) * 10000 as decimal(38, 0)), 0)" -%}
    cast(
        case when ({{ scaled_numerator }} < 0) <> ({{ scaled_denominator }} < 0) then -1 else 1 end
        * ((abs({{ scaled_numerator }}) * 200 + abs({{ scaled_denominator }})) div (abs({{ scaled_denominator }}) * 2))
        as decimal(36, 0)
    )
{%- endmacro %}

{#- Pre-hook body of an incremental model: remove from {{ this }} the rows a
    build is about to write again, those where `predicate` holds. DuckDB deletes
    them. Spark's Parquet tables cannot delete rows: there the model is
    partitioned by `partition_columns` (its day columns) and written with
    insert_overwrite (kefu_window_strategy), which replaces only the partitions the
    build writes; so the partitions holding such rows are dropped first, and a day
    that lost every row of its input does not keep its old rows. -#}
{% macro kefu_clear_rows(partition_columns, predicate) -%}
    {%- if target is defined -%}
        {{ return(adapter.dispatch('kefu_clear_rows', 'kefu')(partition_columns, predicate)) }}
    {%- else -%}
        {{ return(default__kefu_clear_rows(partition_columns, predicate)) }}
    {%- endif -%}
{%- endmacro %}

{% macro default__kefu_clear_rows(partition_columns, predicate) -%}
    delete from {{ this }} where {{ predicate }}
{%- endmacro %}

{% macro spark__kefu_clear_rows(partition_columns, predicate) -%}
    {%- set partitions = [] -%}
    {%- if execute -%}
        {%- set found = run_query(
            "select distinct " ~ (partition_columns | join(", ")) ~ " from " ~ this ~ " where " ~ predicate
        ) -%}
        {%- for row in found.rows -%}
            {%- set spec = [] -%}
            {%- for column in partition_columns -%}
                {%- do spec.append(column ~ " = " ~ kefu_string_literal(row[loop.index0] | string)) -%}
            {%- endfor -%}
            {%- do partitions.append("partition (" ~ (spec | join(", ")) ~ ")") -%}
        {%- endfor -%}
    {%- endif -%}
    {%- if partitions -%}
        alter table {{ this }} drop if exists {{ partitions | join(", ") }}
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}

{#- incremental_strategy of the per-day models: DuckDB appends after the pre-hook
    deleted the window's days; Spark overwrites the partitions (days) the build
    writes (dynamic partition overwrite). -#}
{% macro kefu_window_strategy() -%}
    {%- if target is defined -%}
        {{ return(adapter.dispatch('kefu_window_strategy', 'kefu')()) }}
    {%- else -%}
        {{ return(default__kefu_window_strategy()) }}
    {%- endif -%}
{%- endmacro %}

{% macro default__kefu_window_strategy() -%}
    {{ return('append') }}
{%- endmacro %}

{% macro spark__kefu_window_strategy() -%}
    {{ return('insert_overwrite') }}
{%- endmacro %}

{#- partition_by of a per-day model: its day column(s) on Spark, none on DuckDB. -#}
{% macro kefu_window_partition(columns) -%}
    {%- if target is defined -%}
        {{ return(adapter.dispatch('kefu_window_partition', 'kefu')(columns)) }}
    {%- else -%}
        {{ return(default__kefu_window_partition(columns)) }}
    {%- endif -%}
{%- endmacro %}

{% macro default__kefu_window_partition(columns) -%}
    {{ return(none) }}
{%- endmacro %}

{% macro spark__kefu_window_partition(columns) -%}
    {{ return(columns) }}
{%- endmacro %}

{#- Whether schema.table exists in the build's database (DuckDB's
    information_schema; Spark's catalog). -#}
{% macro kefu_table_exists(schema_name, table_name) -%}
    {%- if target is defined -%}
        {{ return(adapter.dispatch('kefu_table_exists', 'kefu')(schema_name, table_name)) }}
    {%- else -%}
        {{ return(default__kefu_table_exists(schema_name, table_name)) }}
    {%- endif -%}
{%- endmacro %}

{% macro default__kefu_table_exists(schema_name, table_name) -%}
    {%- set found = run_query(
        "select count(*) from information_schema.tables"
        ~ " where table_schema = '" ~ schema_name ~ "' and table_name = '" ~ table_name ~ "'"
    ) -%}
    {{ return(found.columns[0].values()[0] > 0) }}
{%- endmacro %}

{% macro spark__kefu_table_exists(schema_name, table_name) -%}
    {%- set found = run_query("show tables in " ~ schema_name ~ " like '" ~ table_name ~ "'") -%}
    {{ return(found.rows | length > 0) }}
{%- endmacro %}

{#- An interval of `days` whole days, to add to or subtract from a timestamp
    (local wall times: a day is 24 hours on both engines). -#}
{% macro kefu_days_interval(days) -%}
    {%- if target is defined -%}
        {{ return(adapter.dispatch('kefu_days_interval', 'kefu')(days)) }}
    {%- else -%}
        {{ return(default__kefu_days_interval(days)) }}
    {%- endif -%}
{%- endmacro %}

{% macro default__kefu_days_interval(days) -%}
    to_days({{ days }})
{%- endmacro %}

{% macro spark__kefu_days_interval(days) -%}
    make_dt_interval({{ days }})
{%- endmacro %}

{#- A text value as an SQL string literal: DuckDB doubles a single quote; Spark SQL
    escapes quotes and backslashes with a backslash. -#}
{% macro kefu_string_literal(text) -%}
    {%- if target is defined -%}
        {{ return(adapter.dispatch('kefu_string_literal', 'kefu')(text)) }}
    {%- else -%}
        {{ return(default__kefu_string_literal(text)) }}
    {%- endif -%}
{%- endmacro %}

{% macro default__kefu_string_literal(text) -%}
    {{ return("'" ~ (text | string).replace("'", "''") ~ "'") }}
{%- endmacro %}

{% macro spark__kefu_string_literal(text) -%}
    {{ return("'" ~ (text | string).replace("\\", "\\\\").replace("'", "\\'") ~ "'") }}
{%- endmacro %}

{#- A number unique to each row of one query, in no particular order: a window's
    partition key standing for several key columns (one integer sorts far faster
    than three strings and a date). Not the same from one build to the next, so
    never stored; take it once per row (one reference to its CTE). -#}
{% macro kefu_row_key() -%}
    {%- if target is defined -%}
        {{ return(adapter.dispatch('kefu_row_key', 'kefu')()) }}
    {%- else -%}
        {{ return(default__kefu_row_key()) }}
    {%- endif -%}
{%- endmacro %}

{% macro default__kefu_row_key() -%}
    row_number() over ()
{%- endmacro %}

{% macro spark__kefu_row_key() -%}
    monotonically_increasing_id()
{%- endmacro %}
