-- Routes out of NYC ranked by number of flights, with the destination's name.
with routes as (
    select
        f.route,
        f.origin,
        f.dest,
        count(*) as flights,
        count(distinct f.carrier) as carriers,
        max(f.distance) as distance,
        round(100.0 * count(*) filter (where f.on_time) / nullif(count(f.on_time), 0), 2)
            as on_time_pct,
        round(avg(f.arr_delay), 2) as avg_arr_delay
    from staging.flights as f
    group by f.route, f.origin, f.dest
)

select
    rank() over (order by r.flights desc, r.route) as rank,
    r.route,
    r.origin,
    r.dest,
    coalesce(ap.airport_name, r.dest) as dest_name,
    r.flights,
    r.carriers,
    r.distance,
    r.on_time_pct,
    r.avg_arr_delay
from routes as r
left join staging.airports as ap on ap.faa = r.dest
order by rank
