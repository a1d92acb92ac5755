{#- Map a rating score (1-5 or its Chinese label) to satisfied / neutral /
    disappointed (docs/metrics.md §7). The loader quarantines any other score. -#}
{% macro rating_level(score) -%}
    case
        when {{ score }} in ('5', '4', '满意', '非常满意') then 'satisfied'
        when {{ score }} in ('3', '一般') then 'neutral'
        when {{ score }} in ('2', '1', '失望', '不满意', '非常不满意') then 'disappointed'
    end
{%- endmacro %}
