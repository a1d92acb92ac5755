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
    earlier is taken when it shows the same wall time (Spark, through
    java.time, reads it as the first occurrence too). -#}
{% macro default__kefu_instant(local_at, tz) -%}
    timezone('UTC', case
        when timezone({{ tz }}, timezone({{ tz }}, {{ local_at }}) - interval 1 hour) = {{ local_at }}
            then timezone({{ tz }}, {{ local_at }}) - interval 1 hour
        else timezone({{ tz }}, {{ local_at }})
    end)
{%- endmacro %}

{% macro spark__kefu_instant(local_at, tz) -%}
    to_utc_timestamp({{ local_at }}, {{ tz }})
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
