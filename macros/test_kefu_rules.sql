{#- All the row rules of one model in one query: one dbt node per model
    instead of one per rule and column (issue 13). Each argument names the
    columns of one rule, as its own generic test would:

      not_null: [a, b]               a is never NULL
      kefu_non_negative: [a]         a >= 0 (NULL allowed)
      kefu_unit_interval: [rate]     0 <= rate <= 1 (NULL allowed)
      kefu_at_most: [[part, whole]]  part <= whole
      kefu_at_least: {a: 1}          a >= 1
      kefu_between: {a: [1, 366]}    1 <= a <= 366
      accepted_values: {a: [x, y]}   a in ('x', 'y') (NULL allowed)
      kefu_unique_combination: [a, b]  no two rows share (a, b)

    One scan counts the failing rows of every row rule (and one grouping the
    duplicate keys); the test returns one row per broken rule (rule_name,
    column_label, failing_rows: rows, or duplicated keys), so dbt counts the
    broken rules and `kefu check` reports each rule on its own
    (kefu.checks.rule_results). The window of a build applies as to any test
    (get_where_subquery). -#}
{% test kefu_rules(
    model,
    not_null=[],
    kefu_non_negative=[],
    kefu_unit_interval=[],
    kefu_at_most=[],
    kefu_at_least={},
    kefu_between={},
    accepted_values={},
    kefu_unique_combination=[]
) %}
    {%- set rules = kefu_rule_list(
        not_null, kefu_non_negative, kefu_unit_interval, kefu_at_most,
        kefu_at_least, kefu_between, accepted_values
    ) -%}
    {%- set counts = [] -%}
    {%- for rule in rules -%}
        {%- do counts.append('counted.failing_' ~ loop.index) -%}
    {%- endfor -%}
    {%- if kefu_unique_combination -%}
        {%- do rules.append({
            'name': 'kefu_unique_combination', 'column': kefu_unique_combination | join(',')
        }) -%}
        {%- do counts.append('keyed.duplicate_keys') -%}
    {%- endif -%}
    select
        rule_name,
        column_label,
        failing_rows
    from (
        select
            rules.rule_name,
            rules.column_label,
            case rules.rule_no
                {%- for count in counts %}
                when {{ loop.index }} then {{ count }}
                {%- endfor %}
            end as failing_rows
        from (
            select
                count(*) as row_cnt
                {%- for rule in rules if rule.fails %},
                count(case when {{ rule.fails }} then 1 end) as failing_{{ loop.index }}
                {%- endfor %}
            from {{ model }}
        ) as counted
        {%- if kefu_unique_combination %}
        cross join (
            select count(*) as duplicate_keys
            from (
                select 1 as duplicated
                from {{ model }}
                group by {{ kefu_unique_combination | join(', ') }}
                having count(*) > 1
            ) as duplicated_keys
        ) as keyed
        {%- endif %}
        cross join (
            values
            {%- for rule in rules %}
                ({{ loop.index }}, '{{ rule.name }}', '{{ rule.column }}'){{ ',' if not loop.last }}
            {%- endfor %}
        ) as rules (rule_no, rule_name, column_label)
    ) as checked
    where failing_rows > 0
{% endtest %}

{#- The rules of a kefu_rules test in order: name (the generic test it stands
    for), column label (as kefu check reports it) and the SQL condition of a
    failing row. -#}
{% macro kefu_rule_list(
    not_null, non_negative, unit_interval, at_most, at_least, between, accepted
) -%}
    {%- set rules = [] -%}
    {%- for column in not_null -%}
        {%- do rules.append({'name': 'not_null', 'column': column, 'fails': column ~ ' is null'}) -%}
    {%- endfor -%}
    {%- for column in non_negative -%}
        {%- do rules.append({'name': 'kefu_non_negative', 'column': column, 'fails': column ~ ' < 0'}) -%}
    {%- endfor -%}
    {%- for column in unit_interval -%}
        {%- do rules.append({
            'name': 'kefu_unit_interval', 'column': column,
            'fails': column ~ ' < 0 or ' ~ column ~ ' > 1'
        }) -%}
    {%- endfor -%}
    {%- for pair in at_most -%}
        {%- do rules.append({
            'name': 'kefu_at_most', 'column': pair[0] ~ ',' ~ pair[1],
            'fails': pair[0] ~ ' > ' ~ pair[1]
        }) -%}
    {%- endfor -%}
    {%- for column, minimum in at_least.items() -%}
        {%- do rules.append({
            'name': 'kefu_at_least', 'column': column, 'fails': column ~ ' < ' ~ minimum
        }) -%}
    {%- endfor -%}
    {%- for column, bounds in between.items() -%}
        {%- do rules.append({
            'name': 'kefu_between', 'column': column,
            'fails': column ~ ' < ' ~ bounds[0] ~ ' or ' ~ column ~ ' > ' ~ bounds[1]
        }) -%}
    {%- endfor -%}
    {%- for column, values in accepted.items() -%}
        {%- set quoted = [] -%}
        {%- for value in values -%}
            {%- do quoted.append("'" ~ (value | string | replace("'", "''")) ~ "'") -%}
        {%- endfor -%}
        {%- do rules.append({
            'name': 'accepted_values', 'column': column,
            'fails': column ~ ' not in (' ~ quoted | join(', ') ~ ')'
        }) -%}
    {%- endfor -%}
    {{ return(rules) }}
{%- endmacro %}
