-- Airports with a readable location; the New York airports are flagged.
select
    faa,
    name as airport_name,
    lat,
    lon,
    alt as altitude_ft,
    tzone as time_zone,
    faa in ('EWR', 'JFK', 'LGA') as is_nyc
from raw.airports
