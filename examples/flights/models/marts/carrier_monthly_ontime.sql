-- On-time performance by carrier and month: the headline KPI of the project.
select
    f.carrier,
    a.airline_name,
    year(f.flight_date) as year,
    month(f.flight_date) as month,
    count(*) as flights,
    count(*) filter (where f.cancelled) as cancelled,
    count(*) filter (where f.diverted) as diverted,
    count(*) filter (where f.on_time) as on_time_flights,
    round(100.0 * count(*) filter (where f.on_time) / nullif(count(f.on_time), 0), 2)
        as on_time_pct,
    round(avg(f.dep_delay), 2) as avg_dep_delay,
    round(avg(f.arr_delay), 2) as avg_arr_delay,
    quantile_cont(f.arr_delay, 0.9) as p90_arr_delay
from staging.flights as f
left join staging.airlines as a on a.carrier = f.carrier
group by all
order by year, month, carrier
