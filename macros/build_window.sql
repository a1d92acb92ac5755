{#- Refresh window of `kefu build --start/--end` (vars start_date, end_date).

    Marts and the per-day service intermediates are incremental on their date
    column: with a window, a build deletes the window's days and inserts them
    anew; without one, it rebuilds all days. A day's figures depend only on
    that day's inputs (and, for conversion and credit, on orders and replies
    the sales intermediates read in full), so building day by day or all at
    once gives the same rows. -#}

{% macro kefu_has_window() -%}
    {{ return(var('start_date', none) is not none or var('end_date', none) is not none) }}
{%- endmacro %}

{% macro kefu_in_window(date_column) -%}
    {%- if kefu_has_window() -%}
        {{ date_column }} between
            {{ "date '" ~ var('start_date') ~ "'" if var('start_date', none) else "date '0001-01-01'" }}
            and {{ "date '" ~ var('end_date') ~ "'" if var('end_date', none) else "date '9999-12-31'" }}
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}

{#- Input filter of an incremental intermediate model: the rows of the days
    this build rewrites. The window's days when dbt appends to the existing
    table; every day when dbt creates the table anew (first build,
    --full-refresh), so an intermediate table always holds every day: the sales
    models and fct_order_credits read it in full, across days. -#}
{% macro kefu_in_build_window(date_column) -%}
    {%- if is_incremental() -%}
        {{ kefu_in_window(date_column) }}
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}

{#- pre_hook of an incremental model: drop the rows the build is about to
    write again (the window's days, or every day without a window). -#}
{% macro kefu_delete_window(date_column) -%}
    {%- if is_incremental() and kefu_deletes_rows() -%}
        delete from {{ this }} where {{ kefu_in_window(date_column) }}
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}

{#- The as-of date of maturity flags (docs/metrics.md §4.6): var as_of_date, else
    the latest local date among message sent_at and order created_at / paid_at. -#}
{% macro kefu_as_of_date() -%}
    {%- if var('as_of_date', none) -%}
        date '{{ var("as_of_date") }}'
    {%- else -%}
        (
            select greatest(
                (select max(biz_date) from {{ ref('stg_exports__messages') }}),
                (select max(created_date) from {{ ref('stg_exports__orders') }}),
                (select max(paid_date) from {{ ref('stg_exports__orders') }})
            )
        )
    {%- endif -%}
{%- endmacro %}

{#- Rate or average with a NULL result on an empty denominator (docs/metrics.md §8). -#}
{% macro kefu_ratio(numerator, denominator) -%}
    cast({{ numerator }} as double) / nullif({{ denominator }}, 0)
{%- endmacro %}

{#- 客单价-style money ratio: DECIMAL(18, 2), half away from zero, NULL on an
    empty denominator (docs/metrics.md §5.4). DuckDB divides DECIMALs as DOUBLE,
    which rounds 2.01 / 2 = 1.005 down to 1.00, so the quotient is taken in
    exact integer arithmetic: both sides scaled to ten-thousandths (inputs have
    at most 4 decimals), then cents = floor((200·|n| + |d|) / (2·|d|)) with the
    sign put back. -#}
{% macro kefu_money_ratio(numerator, denominator) -%}
    cast(
        {{ kefu_rounded_quotient(numerator, denominator) }} * 0.01
        as decimal(18, 2)
    )
{%- endmacro %}

{#- Maturity of a reception day's conversion figures (docs/metrics.md §4.6):
    next-day figures final once D+1 ≤ as_of_date, final figures once
    D + final_pay_days ≤ as_of_date. -#}
{% macro kefu_maturity_flags(date_column, final_pay_days_column) -%}
    {{ date_column }} + 1 <= {{ kefu_as_of_date() }} as is_next_day_final,
    {{ date_column }} + cast({{ final_pay_days_column }} as integer) <= {{ kefu_as_of_date() }} as is_final
{%- endmacro %}
