-- Aircraft with their age in 2013 and a size class.
select
    tailnum,
    year as year_built,
    2013 - year as age_years,
    type as aircraft_type,
    manufacturer,
    model,
    engines,
    seats,
    engine as engine_type,
    case
        when seats < 50 then 'regional'
        when seats < 150 then 'narrow-body'
        else 'wide-body or large'
    end as size_class
from raw.planes
