{#- Refresh window of `kefu build --start/--end` (vars start_date, end_date).

    Marts and the per-day service intermediates are incremental on their date
    column: with a window, a build deletes the window's days and inserts them
    anew; without one, it rebuilds all days. A day's figures depend only on
    that day's inputs (and, for conversion and credit, on orders and replies
    the sales intermediates read in full), so building day by day or all at
    once gives the same rows. -#}

{#- A window var (start_date, end_date, as_of_date): `--vars` when given (and a
    unit test's overrides), else the environment variable KEFU_START_DATE /
    KEFU_END_DATE / KEFU_AS_OF_DATE, which `kefu build` and `kefu check` set. The
    environment is read only when the build runs (`execute`), never while dbt
    parses the project: a window that changes every night then leaves dbt's
    partial parsing intact (a changed `--vars` makes dbt parse the whole project
    again, about 5 s; issue 13). -#}
{% macro kefu_window_var(name) -%}
    {%- set value = var(name, none) -%}
    {%- if value is none and execute -%}
        {%- set value = env_var('KEFU_' ~ (name | upper), '') or none -%}
    {%- endif -%}
    {{ return(value) }}
{%- endmacro %}

{% macro kefu_has_window() -%}
    {{ return(kefu_window_var('start_date') is not none or kefu_window_var('end_date') is not none) }}
{%- endmacro %}

{% macro kefu_in_window(date_column, local_time_column=none) -%}
    {%- if kefu_has_window() -%}
        {{ date_column }} between
            {{ "date '" ~ kefu_window_var('start_date') ~ "'" if kefu_window_var('start_date') else "date '0001-01-01'" }}
            and {{ "date '" ~ kefu_window_var('end_date') ~ "'" if kefu_window_var('end_date') else "date '9999-12-31'" }}
        {%- if local_time_column %} and {{ kefu_local_time_in_window(local_time_column) }}{% endif -%}
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}

{#- The same days said on the local wall time whose date the date column is
    (stg_exports__messages: biz_date = the date of sent_at): from the first day's
    midnight to the midnight after the last day. Redundant with the date filter,
    but DuckDB skips the raw table's row groups outside a range on sent_at, where
    a filter on its date reads every row group (issue 13). -#}
{% macro kefu_local_time_in_window(local_time_column) -%}
    {%- set bounds = [] -%}
    {%- if kefu_window_var('start_date') -%}
        {%- do bounds.append(local_time_column ~ " >= timestamp '" ~ kefu_window_var('start_date') ~ " 00:00:00'") -%}
    {%- endif -%}
    {%- if kefu_window_var('end_date') -%}
        {%- set after = modules.datetime.date.fromisoformat(kefu_window_var('end_date') | string) + modules.datetime.timedelta(days=1) -%}
        {%- do bounds.append(local_time_column ~ " < timestamp '" ~ after.isoformat() ~ " 00:00:00'") -%}
    {%- endif -%}
    {{ bounds | join(' and ') if bounds else 'true' }}
{%- endmacro %}

{#- Input filter of an incremental intermediate model: the rows of the days
    this build rewrites. The window's days when dbt appends to the existing
    table; every day when dbt creates the table anew (first build,
    --full-refresh), so an intermediate table always holds every day: the sales
    models and fct_order_credits read it in full, across days. -#}
{% macro kefu_in_build_window(date_column, local_time_column=none) -%}
    {%- if is_incremental() -%}
        {{ kefu_in_window(date_column, local_time_column) }}
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}

{#- pre_hook of an incremental model: drop the rows the build is about to
    write again (the window's days, or every day without a window); on Spark the
    partitions of those days (kefu_clear_rows). -#}
{% macro kefu_delete_window(date_column) -%}
    {%- if is_incremental() -%}
        {{ kefu_clear_rows([date_column], kefu_in_window(date_column)) }}
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}

{#- The as-of date of maturity flags (docs/metrics.md §4.6): var as_of_date, else
    the latest local date among message sent_at and order created_at / paid_at. -#}
{% macro kefu_as_of_date() -%}
    {%- if kefu_window_var('as_of_date') -%}
        date '{{ kefu_window_var('as_of_date') }}'
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

{#- Tests that scale with the window (issue 13): in a window build, the generic
    data tests of a date-grained model (an incremental one or a view, with a biz_date)
    read only the window's days, the rows this build rewrote; in a full build
    they read every row. Overrides dbt's get_where_subquery, so a test's own
    `where` config still applies, and-ed with the window. Singular tests
    (tests/dbt) filter the relations they compare on the window's days
    themselves (kefu_in_window). -#}
{% macro get_where_subquery(relation) -%}
    {%- set where = config.get('where', '') -%}
    {%- set in_window = none -%}
    {%- if kefu_has_window() and kefu_tested_model_meta('kefu_window_rows') == 'orders' -%}
        {%- set in_window = kefu_orders_from_window_start() -%}
    {%- elif kefu_has_window() and kefu_tests_date_grained_model() -%}
        {%- set in_window = kefu_in_window('biz_date', kefu_tested_model_meta('kefu_local_time')) -%}
    {%- endif -%}
    {%- if in_window is not none -%}
        {%- set where = '(' ~ where ~ ') and ' ~ in_window if where else in_window -%}
    {%- endif -%}
    {%- if where -%}
        {%- do return('(select * from ' ~ relation ~ ' where ' ~ where ~ ') dbt_subquery') -%}
    {%- else -%}
        {%- do return(relation) -%}
    {%- endif -%}
{%- endmacro %}

{#- A meta key of the model the test being compiled is attached to (none when
    absent): `kefu_local_time`, the local wall time whose date its biz_date is
    (stg_exports__messages: sent_at); `kefu_window_rows: orders`, a model with one
    row per order whose rows a window build writes only for orders created or paid
    from the window's first day on (kefu_orders_from_window_start). -#}
{% macro kefu_tested_model_meta(key) -%}
    {%- set node = kefu_tested_model() -%}
    {%- set meta = (node.config.meta or {}) if node is not none else {} -%}
    {{ return(meta.get(key)) }}
{%- endmacro %}

{#- The graph node of the model the test being compiled is attached to (none
    while dbt parses, or for a test attached to no model). -#}
{% macro kefu_tested_model() -%}
    {%- set attached = model.get('attached_node') if model is mapping else none -%}
    {{ return(graph.nodes.get(attached) if (execute and attached) else none) }}
{%- endmacro %}

{#- The orders a window build may have written (stg_exports__orders: versions of
    newly loaded files, whose days the nightly's window reaches back to;
    int_orders_credited: kefu_orders_to_credit): created or paid from the window's
    first day on. Every order without a first day. -#}
{% macro kefu_orders_from_window_start() -%}
    {%- if kefu_window_var('start_date') -%}
        (created_date >= date '{{ kefu_window_var('start_date') }}' or paid_date >= date '{{ kefu_window_var('start_date') }}')
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}

{#- The test being compiled is attached to an incremental model or a view
    with a biz_date column (declared in its yml): a date-grained one. A view's
    rows of a day depend on that day's inputs as an incremental model's do, and
    its test then computes only the window's days. -#}
{% macro kefu_tests_date_grained_model() -%}
    {%- set node = kefu_tested_model() -%}
    {{ return(node is not none and node.config.materialized in ('incremental', 'view') and 'biz_date' in node.columns) }}
{%- endmacro %}

{#- Window-shaped inputs of the sales intermediates (docs/metrics.md §4, §5):
    the days of another input that a build window's days need, written once.
    Each is `true` (every row) unless dbt appends a window to an existing
    table (kefu_in_build_window), so a full build reads everything. -#}

{#- The window's first / last day as a SQL date (none: unbounded). -#}
{% macro kefu_window_start() -%}
    {{ "date '" ~ kefu_window_var('start_date') ~ "'" if kefu_window_var('start_date') else none }}
{%- endmacro %}

{% macro kefu_window_end() -%}
    {{ "date '" ~ kefu_window_var('end_date') ~ "'" if kefu_window_var('end_date') else none }}
{%- endmacro %}

{#- `date_column` between the window's start − `days_before` and its end +
    `days_after` (day counts: SQL expressions, e.g. a shop's rule column). -#}
{% macro kefu_in_build_window_reach(date_column, days_before=0, days_after=0) -%}
    {%- if is_incremental() and kefu_has_window() -%}
        {%- set start = kefu_window_start() | trim -%}
        {%- set end = kefu_window_end() | trim -%}
        {%- set bounds = [] -%}
        {%- if start != 'None' -%}
            {%- do bounds.append(date_column ~ ' >= ' ~ start ~ ' - cast(' ~ days_before ~ ' as integer)') -%}
        {%- endif -%}
        {%- if end != 'None' -%}
            {%- do bounds.append(date_column ~ ' <= ' ~ end ~ ' + cast(' ~ days_after ~ ' as integer)') -%}
        {%- endif -%}
        ({{ bounds | join(' and ') if bounds else 'true' }})
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}

{#- Conversion of reception day D (§4.1–4.6) reads the orders created from
    D − after_sale_days (an earlier paid order makes the reception after-sale)
    to the end of D+1 (a following order); whether one was paid by the end of
    D + final_pay_days is read from the order's own paid_at. -#}
{% macro kefu_orders_for_conversion(created_date_column, after_sale_days_column) -%}
    {{ kefu_in_build_window_reach(created_date_column, after_sale_days_column, 1) }}
{%- endmacro %}

{#- An order is credited anew (§5.2) when its created or paid date lies in the
    window or up to consult_window_days after it: a reply of the window can earn
    it. int_orders_credited then reads the replies of those orders' buyers only,
    from their earliest order date − consult_window_days. -#}
{% macro kefu_orders_to_credit(created_date_column, paid_date_column, consult_days_column) -%}
    ({{ kefu_in_build_window_reach(created_date_column, 0, consult_days_column) }}
    or {{ kefu_in_build_window_reach(paid_date_column, 0, consult_days_column) }})
{%- endmacro %}


{#- The order versions stg_exports__orders takes in a window build: every version
    of the orders with a version in a file loaded after the newest file the table
    holds a version from (raw rows are only appended, file ids only grow). Every
    version otherwise. -#}
{% macro kefu_order_versions_to_take(relation) -%}
    {%- if is_incremental() and kefu_has_window() -%}
        exists (
            select 1
            from {{ relation }} as newer
            where {{ kefu_files_after_taken('newer._file_id') }}
                and newer.shop_id = {{ relation }}.shop_id
                and newer.order_id = {{ relation }}.order_id
        )
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}

{#- The rows of a raw relation from the files loaded after the newest file the
    incremental table holds a row from (`source_file_id`; raw rows are only
    appended, file ids only grow). Every row when the table is made anew. -#}
{% macro kefu_files_after_taken(file_id_column) -%}
    {%- if is_incremental() -%}
        {{ file_id_column }} > {{ kefu_newest_taken_file() }}
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}

{#- The newest file id the incremental table holds a row from (0: none), as a
    number read when the model runs: the raw table's row groups of older files are
    then skipped by their file id range, where the same bound as a subquery read
    every row group (on a year of orders, 0.08–0.4 s a night instead of 0.01 s;
    issue 13). As the subquery in a dbt unit test, whose `this` is a fixture. -#}
{% macro kefu_newest_taken_file() -%}
    {%- set newest = "(select coalesce(max(taken.source_file_id), 0) from " ~ this ~ " as taken)" -%}
    {%- if execute and model.resource_type != 'unit_test' -%}
        {%- set newest = run_query("select " ~ newest).columns[0].values()[0] | int -%}
    {%- endif -%}
    {{ return(newest) }}
{%- endmacro %}

{#- The rows of `relation` whose key (`key_columns`) the incremental table does
    not hold yet. Every row when the table is made anew. -#}
{% macro kefu_key_not_taken(relation, key_columns) -%}
    {%- if is_incremental() -%}
        not exists (
            select 1
            from {{ this }} as taken
            where {% for column in key_columns %}taken.{{ column }} = {{ relation }}.{{ column }}{% if not loop.last %} and {% endif %}{% endfor %}
        )
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}
