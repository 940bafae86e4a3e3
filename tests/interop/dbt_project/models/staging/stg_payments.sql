select
    p.id as payment_id,
    p.order_id,
    p.payment_method,
    l.label as payment_label,
    {{ cents_to_dollars('p.amount') }} as amount
from {{ source('shop', 'raw_payments') }} as p
left join {{ ref('payment_method_labels') }} as l
    on l.payment_method = p.payment_method
where p.amount >= {{ var('min_order_amount') }}
