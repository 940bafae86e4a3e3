-- Flights, typed and cleaned: one row per scheduled departure from NYC.
-- The hhmm integers become timestamps (local wall-clock time of the airport concerned);
-- actual times are derived from the schedule plus the delay, which stays right when a
-- delayed flight leaves after midnight. Late deliveries from the landing folder are
-- appended to the published feed.
with feed as (
    select * from raw.flights
    union all by name
    select * from raw.flights_updates
),

scheduled as (
    select
        *,
        make_date(year, month, day) as flight_date,
        cast(make_date(year, month, day) as timestamp)
            + to_minutes(cast((sched_dep_time // 100) * 60 + sched_dep_time % 100 as bigint))
            as sched_dep_at,
        cast(make_date(year, month, day) as timestamp)
            + to_minutes(cast((sched_arr_time // 100) * 60 + sched_arr_time % 100 as bigint))
            -- an arrival scheduled "earlier" than the departure lands the next day
            + case when sched_arr_time < sched_dep_time then interval 1 day
                   else interval 0 day end
            as sched_arr_at
    from feed
)

select
    carrier || lpad(cast(flight as varchar), 4, '0') || '-' || strftime(sched_dep_at, '%Y%m%d%H%M')
        as flight_id,
    flight_date,
    carrier,
    flight,
    nullif(trim(tailnum), '') as tailnum,
    origin,
    dest,
    origin || '-' || dest as route,
    sched_dep_at,
    sched_dep_at + to_minutes(cast(dep_delay as bigint)) as dep_at,
    sched_arr_at,
    sched_arr_at + to_minutes(cast(arr_delay as bigint)) as arr_at,
    dep_delay,
    arr_delay,
    dep_time is null as cancelled,
    dep_time is not null and arr_delay is null as diverted,
    case when arr_delay is null then null else arr_delay <= 15 end as on_time,
    air_time,
    distance,
    time_hour
from scheduled
