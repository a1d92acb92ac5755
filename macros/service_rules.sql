{#- Rules of the service metrics (docs/metrics.md §2, §3, §6) used by more than one
    model. The service marts' data tests use the generic tests of
    test_kefu_ranges.sql (kefu_unit_interval, kefu_at_most, kefu_non_negative)
    and kefu_between below (hour of day 0–23). -#}

{#- Order of messages within a reception: (sent_instant, message_id), message_id
    compared as text (docs/metrics.md §1). message_id is VARCHAR from staging on;
    sent_instant is the message's instant (macros/instants.sql). -#}
{% macro kefu_message_order() -%}
    sent_instant, message_id
{%- endmacro %}

{#- Seconds from one instant to another, as DOUBLE (durations are differences
    of instants; sub-second parts kept). -#}
{% macro kefu_seconds_between(start_at, end_at) -%}
    ({{ kefu_epoch_s(end_at) }} - {{ kefu_epoch_s(start_at) }})
{%- endmacro %}

{#- Sum of a count column, 0 (not NULL) when no row has that activity (docs/metrics.md §8). -#}
{% macro kefu_count_sum(expression, condition=none) -%}
    cast(coalesce(sum({{ expression }}){% if condition %} filter (where {{ condition }}){% endif %}, 0) as bigint)
{%- endmacro %}

{#- Sum of a duration in seconds, 0.0 (not NULL) when no row has that activity. -#}
{% macro kefu_seconds_sum(expression, condition=none) -%}
    cast(coalesce(sum({{ expression }}){% if condition %} filter (where {{ condition }}){% endif %}, 0) as double)
{%- endmacro %}

{#- Whether a local time of day lies in the window [window_start, window_end);
    a window whose end is not after its start wraps past midnight. -#}
{% macro kefu_in_time_window(time_of_day, window_start, window_end) -%}
    case
        when {{ window_start }} < {{ window_end }}
            then {{ time_of_day }} >= {{ window_start }} and {{ time_of_day }} < {{ window_end }}
        else {{ time_of_day }} >= {{ window_start }} or {{ time_of_day }} < {{ window_end }}
    end
{%- endmacro %}

{#- Buyer id as published in marts: its keyed pseudonym (HMAC-SHA256, computed by
    kefu.pseudonyms before the build into private.buyer_pseudonyms) whenever
    KEFU_PSEUDONYM_KEY (or KEFU_PSEUDONYM_KEY_FILE) is set, else the id itself. Asking
    for pseudonyms (var pseudonymise_buyers) without a key is an error. The raw and
    intermediate layers keep the original. -#}
{% macro kefu_buyer_key(column) -%}
    {%- if kefu_pseudonyms_enabled() -%}
        (
            select buyer_pseudonyms.pseudonym
            from private.buyer_pseudonyms as buyer_pseudonyms
            where buyer_pseudonyms.raw_buyer_id = {{ column }}
        )
    {%- else -%}
        {{ column }}
    {%- endif -%}
{%- endmacro %}

{#- Whether the build publishes pseudonyms (read from private.pseudonym_settings). -#}
{% macro kefu_pseudonyms_enabled() -%}
    {%- if not execute -%}
        {{ return(false) }}
    {%- endif -%}
    {%- set enabled = false -%}
    {%- if kefu_table_exists('private', 'pseudonym_settings') -%}
        {%- set settings = run_query(
            "select coalesce(bool_or(enabled), false) from private.pseudonym_settings"
        ) -%}
        {%- set enabled = settings.columns[0].values()[0] -%}
    {%- endif -%}
    {%- set asked = var('pseudonymise_buyers', false) in (true, 'true', 'True', 1, '1') -%}
    {%- if asked and not enabled -%}
        {{ exceptions.raise_compiler_error(
            "var pseudonymise_buyers asks for buyer pseudonyms but no key is set: set "
            ~ "KEFU_PSEUDONYM_KEY (or KEFU_PSEUDONYM_KEY_FILE, a key file outside the "
            ~ "repository) and build with kefu"
        ) }}
    {%- endif -%}
    {{ return(enabled) }}
{%- endmacro %}

{#- Data test: every non-NULL value lies in [min_value, max_value]. -#}
{% test kefu_between(model, column_name, min_value, max_value) %}
    select *
    from {{ model }}
    where {{ column_name }} < {{ min_value }} or {{ column_name }} > {{ max_value }}
{% endtest %}
