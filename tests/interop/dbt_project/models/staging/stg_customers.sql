with source as (
    select * from {{ source('shop', 'raw_customers') }}
)

select
    id as customer_id,
    first_name,
    last_name,
    first_name || ' ' || last_name as full_name,
    coalesce(country, 'unknown') as country_code,
    updated_at
from source
