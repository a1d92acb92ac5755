{#- A row is unique on the combination of `columns` (dbt_utils'
    unique_combination_of_columns, kept here because dbt deps has no hub here). -#}
{% test kefu_unique_combination(model, columns) %}
    select
        {{ columns | join(', ') }},
        count(*) as row_cnt
    from {{ model }}
    group by {{ columns | join(', ') }}
    having count(*) > 1
{% endtest %}
