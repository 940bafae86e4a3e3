-- What the delay model learns from: flights of 2013 as first published (raw.flights, so
-- later deliveries never retrain it) that arrived, one in eight by a hash of the flight
-- (a fixed sample keeps the example fast), with what is known before departure: carrier,
-- route, scheduled hour, month, day of the week, distance, and the weather at the
-- origin airport in the hour of departure.
select
    f.carrier || lpad(cast(f.flight as varchar), 4, '0') || '-'
        || strftime(make_date(f.year, f.month, f.day), '%Y%m%d')
        || lpad(cast(f.sched_dep_time as varchar), 4, '0') as flight_id,
    f.carrier,
    f.origin,
    f.dest,
    f.hour as dep_hour,
    f.month,
    dayofweek(make_date(f.year, f.month, f.day)) as day_of_week,
    f.distance,
    w.temp_f,
    w.wind_speed,
    w.precip,
    w.visib,
    w.humid,
    f.arr_delay > 15 as late
from raw.flights as f
left join staging.weather as w
    on w.origin = f.origin and w.time_hour = f.time_hour
where f.arr_delay is not null
    and hash(f.carrier, f.flight, f.month, f.day, f.sched_dep_time) % 8 = 0
order by flight_id
