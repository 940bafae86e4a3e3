-- Departures per NYC airport and day, with cancellations and delays.
select
    f.origin,
    ap.airport_name,
    f.flight_date,
    dayname(f.flight_date) as weekday,
    count(*) as departures,
    count(*) filter (where f.cancelled) as cancelled,
    count(distinct f.dest) as destinations,
    round(avg(f.dep_delay), 2) as avg_dep_delay,
    round(100.0 * count(*) filter (where f.dep_delay > 15) / nullif(count(f.dep_delay), 0), 2)
        as delayed_pct
from staging.flights as f
left join staging.airports as ap on ap.faa = f.origin
group by all
order by f.flight_date, f.origin
