-- Airline names, with the "Inc." and "Co." suffixes trimmed for display.
select
    carrier,
    name as airline_name,
    trim(regexp_replace(name, '\s+(Inc\.|Co\.|Corporation|Airways Corporation)$', '')) as short_name
from raw.airlines
