{{ config(materialized='view', tags=['orders']) }}

select
    id as order_id,
    user_id as customer_id,
    cast(order_date as date) as order_date,
    status,
    {{ is_returned('status') }} as is_returned
from {{ source('shop', 'raw_orders') }}
