-- Departures per airport and hour next to the weather observed in that hour
-- (joined on origin + time_hour, both in UTC).
select
    f.origin,
    f.time_hour,
    w.condition,
    w.temp_c,
    w.wind_speed,
    w.precip,
    w.visib,
    count(*) as departures,
    count(*) filter (where f.cancelled) as cancelled,
    round(avg(f.dep_delay), 2) as avg_dep_delay,
    max(f.dep_delay) as max_dep_delay
from staging.flights as f
left join staging.weather as w
    on w.origin = f.origin and w.time_hour = f.time_hour
group by all
order by f.origin, f.time_hour
