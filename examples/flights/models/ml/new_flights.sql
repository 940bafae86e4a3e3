-- The flights of the late deliveries (raw.flights_updates, 2014), with the features the
-- delay model reads: what ml.delay_risk scores. Empty until a delivery lands.
select
    f.flight_id,
    f.flight_date,
    f.carrier,
    f.origin,
    f.dest,
    hour(f.sched_dep_at) as dep_hour,
    month(f.flight_date) as month,
    dayofweek(f.flight_date) as day_of_week,
    f.distance,
    w.temp_f,
    w.wind_speed,
    w.precip,
    w.visib,
    w.humid
from staging.flights as f
left join staging.weather as w
    on w.origin = f.origin and w.time_hour = f.time_hour
where year(f.flight_date) >= 2014 and not f.cancelled
order by f.flight_id
