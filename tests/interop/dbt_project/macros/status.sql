{% macro is_returned(column_name) -%}
    {{ column_name }} in ({{ quoted_list(['returned', 'return_pending']) }})
{%- endmacro %}

{% macro quoted_list(values) -%}
    {%- for v in values -%}'{{ v }}'{%- if not loop.last %}, {% endif -%}{%- endfor -%}
{%- endmacro %}
