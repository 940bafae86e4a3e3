-- Hourly weather at the NYC airports, one row per airport and UTC hour, with a coarse
-- condition label used by the marts.
select
    origin,
    time_hour,
    make_date(year, month, day) as obs_date,
    hour as local_hour,
    temp as temp_f,
    round((temp - 32) * 5 / 9, 1) as temp_c,
    humid,
    wind_speed,
    wind_gust,
    precip,
    pressure,
    visib,
    case
        when visib < 1 then 'fog'
        when precip >= 0.1 then 'heavy rain/snow'
        when precip > 0 then 'light rain/snow'
        when wind_speed >= 25 then 'windy'
        else 'clear'
    end as condition
from raw.weather
-- the source repeats a few hours at the daylight saving switch; keep the first
qualify row_number() over (partition by origin, time_hour order by hour) = 1
