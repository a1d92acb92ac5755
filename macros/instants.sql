{#- Instants (docs/metrics.md §0: durations are differences of instants). Exports
    and marts carry the shop's local wall time; a wait, a session gap, a duration
    or the order of two messages is taken on the instant, so that a clock change
    of the shop's time zone (a cross-border shop in America/New_York) neither
    adds nor removes an hour. An instant is a UTC TIMESTAMP without zone. -#}

{#- The instant (UTC) of a local wall time in zone `tz`. A wall time the clock
    skips (02:30 on a spring-forward night) is read with the offset before the
    change; one it repeats (01:30 on a fall-back night) as its first occurrence
    (docs/decisions.md "Instants"). -#}
{% macro kefu_instant(local_at, tz) -%}
    {{ return(adapter.dispatch('kefu_instant', 'kefu')(local_at, tz)) }}
{%- endmacro %}

{#- DuckDB's ICU reads a repeated wall time as its second occurrence: one hour
    earlier is taken when it shows the same wall time, else half an hour earlier
    (Australia/Lord_Howe moves its clock by 30 minutes) when that does (Spark,
    through java.time, reads it as the first occurrence too). -#}
{% macro default__kefu_instant(local_at, tz) -%}
    timezone('UTC', case
        when timezone({{ tz }}, timezone({{ tz }}, {{ local_at }}) - interval 1 hour) = {{ local_at }}
            then timezone({{ tz }}, {{ local_at }}) - interval 1 hour
        when timezone({{ tz }}, timezone({{ tz }}, {{ local_at }}) - interval 30 minute) = {{ local_at }}
            then timezone({{ tz }}, {{ local_at }}) - interval 30 minute
        else timezone({{ tz }}, {{ local_at }})
    end)
{%- endmacro %}

{% macro spark__kefu_instant(local_at, tz) -%}
    to_utc_timestamp({{ local_at }}, {{ tz }})
{%- endmacro %}

{#- The shift from local wall time to UTC, in whole seconds, of each local day of
    `days` (a relation of distinct shop_id, biz_date; each shop's zone is its timezone
    in `shops`) on which the shop's clock does not change: utc_shift_s, the same at
    each quarter hour from 00:00 to 24:00 (no zone changes its offset twice within 15
    minutes). A day with a clock change is left out.
    Adding the shift to a wall time of such a day gives kefu_instant's answer without
    four ICU conversions per row (about 5 s of a year's 18 million messages, issue 13);
    kefu_instant_on_day takes it. Spark converts each row through java.time, cheaply:
    no day is listed there. -#}
{% macro kefu_steady_shifts(days, shops) -%}
    {#- Outside dbt (sqlfluff) the DuckDB spelling, as macros/cross_db/functions.sql. -#}
    {%- if target is defined -%}
        {{ return(adapter.dispatch('kefu_steady_shifts', 'kefu')(days, shops)) }}
    {%- else -%}
        {{ return(default__kefu_steady_shifts(days, shops)) }}
    {%- endif -%}
{%- endmacro %}

{% macro default__kefu_steady_shifts(days, shops) -%}
    select
        shop_id,
        biz_date,
        min(shift_s) as utc_shift_s
    from (
        select
            samples.shop_id,
            samples.biz_date,
            cast(
                epoch({{ default__kefu_instant('samples.sample_at', 'samples.timezone') }})
                - epoch(samples.sample_at) as bigint
            ) as shift_s
        from (
            select
                shop_days.shop_id,
                shop_zones.timezone,
                shop_days.biz_date,
                cast(shop_days.biz_date as timestamp) + to_minutes(15 * quarter_hours.quarter) as sample_at
            from {{ days }} as shop_days
            inner join {{ shops }} as shop_zones
                on shop_days.shop_id = shop_zones.shop_id
            cross join range(0, 97) as quarter_hours (quarter)
        ) as samples
    ) as sampled
    group by shop_id, biz_date
    having min(shift_s) = max(shift_s)
{%- endmacro %}

{% macro spark__kefu_steady_shifts(days, shops) -%}
    select
        shop_id,
        biz_date,
        cast(null as bigint) as utc_shift_s
    from {{ days }}
    where false
{%- endmacro %}

{#- kefu_instant of `local_at`, read through `utc_shift_s` of its day from
    kefu_steady_shifts when the day has one (null: the day is not listed). -#}
{% macro kefu_instant_on_day(local_at, tz, utc_shift_s) -%}
    {{ return(adapter.dispatch('kefu_instant_on_day', 'kefu')(local_at, tz, utc_shift_s)) }}
{%- endmacro %}

{% macro default__kefu_instant_on_day(local_at, tz, utc_shift_s) -%}
    case
        when {{ utc_shift_s }} is not null then {{ local_at }} + to_seconds({{ utc_shift_s }})
        else {{ kefu_instant(local_at, tz) }}
    end
{%- endmacro %}

{% macro spark__kefu_instant_on_day(local_at, tz, utc_shift_s) -%}
    {{ kefu_instant(local_at, tz) }}
{%- endmacro %}

{#- The local wall time in zone `tz` of an instant (UTC). -#}
{% macro kefu_local_wall(instant_at, tz) -%}
    {{ return(adapter.dispatch('kefu_local_wall', 'kefu')(instant_at, tz)) }}
{%- endmacro %}

{% macro default__kefu_local_wall(instant_at, tz) -%}
    timezone({{ tz }}, timezone('UTC', {{ instant_at }}))
{%- endmacro %}

{% macro spark__kefu_local_wall(instant_at, tz) -%}
    from_utc_timestamp({{ instant_at }}, {{ tz }})
{%- endmacro %}

{#- Whether a local wall time exists in zone `tz` (false inside the hour a
    spring-forward night skips). -#}
{% macro kefu_wall_time_exists(local_at, tz) -%}
    ({{ kefu_local_wall(kefu_instant(local_at, tz), tz) }} = {{ local_at }})
{%- endmacro %}

{#- The local wall time at which hour `hour_of_day` (0–23) of local date
    `date_column` begins. -#}
{% macro kefu_hour_start(date_column, hour_of_day) -%}
    {{ return(adapter.dispatch('kefu_hour_start', 'kefu')(date_column, hour_of_day)) }}
{%- endmacro %}

{% macro default__kefu_hour_start(date_column, hour_of_day) -%}
    (cast({{ date_column }} as timestamp) + to_hours(cast({{ hour_of_day }} as bigint)))
{%- endmacro %}

{% macro spark__kefu_hour_start(date_column, hour_of_day) -%}
    (cast({{ date_column }} as timestamp) + make_interval(0, 0, 0, 0, cast({{ hour_of_day }} as int), 0, 0))
{%- endmacro %}
