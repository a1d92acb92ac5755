{#- Generic tests of the KPI marts (docs/metrics.md §8). -#}

{#- A rate lies in [0, 1] (NULL allowed: empty denominator). -#}
{% test kefu_unit_interval(model, column_name) %}
    select {{ column_name }}
    from {{ model }}
    where {{ column_name }} < 0 or {{ column_name }} > 1
{% endtest %}

{#- A numerator never exceeds its denominator (or a part its whole). -#}
{% test kefu_at_most(model, column_name, other) %}
    select {{ column_name }}, {{ other }}
    from {{ model }}
    where {{ column_name }} > {{ other }}
{% endtest %}

{#- Counts and sums are never negative. -#}
{% test kefu_non_negative(model, column_name) %}
    select {{ column_name }}
    from {{ model }}
    where {{ column_name }} < 0
{% endtest %}

{#- A figure is never below `minimum` (a quantity of at least 1). -#}
{% test kefu_at_least(model, column_name, minimum) %}
    select {{ column_name }}
    from {{ model }}
    where {{ column_name }} < {{ minimum }}
{% endtest %}
