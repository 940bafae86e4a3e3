-- Do older aircraft run later? Delays by aircraft age band and size class.
select
    case
        when p.age_years is null then 'unknown'
        when p.age_years < 5 then '00-04'
        when p.age_years < 10 then '05-09'
        when p.age_years < 15 then '10-14'
        when p.age_years < 20 then '15-19'
        when p.age_years < 30 then '20-29'
        else '30+'
    end as age_band,
    coalesce(p.size_class, 'unknown') as size_class,
    count(*) as flights,
    count(distinct f.tailnum) as planes,
    round(avg(f.dep_delay), 2) as avg_dep_delay,
    round(avg(f.arr_delay), 2) as avg_arr_delay,
    round(100.0 * count(*) filter (where f.cancelled) / count(*), 2) as cancel_rate_pct
from staging.flights as f
join staging.planes as p on p.tailnum = f.tailnum
group by all
order by age_band, size_class
