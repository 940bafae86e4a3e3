"""How much each weather condition adds to departure delays, compared with clear skies.

A Python product: Steward hands it its input as an Arrow table (the parameter name
``marts__hourly_weather_delays`` names the product ``marts.hourly_weather_delays``) and
stores the Arrow table it returns as a new version.
"""

import pyarrow as pa
import pyarrow.compute as pc

from steward import product


@product(
    description=(
        "Average departure delay and cancellation rate per weather condition, weighted by "
        "departures, and the extra delay against clear weather."
    ),
    owner="weather-team@example.com",
    tags=["marts", "weather", "python"],
    primary_key=["condition"],
    freshness={"warn_after": "1d", "error_after": "7d"},
    columns={
        "condition": {"description": "Weather condition label, or 'unknown' without an "
                                     "observation", "glossary": "weather_condition",
                      "checks": ["not_null", "unique"]},
        "hours": {"description": "Airport-hours observed with that condition"},
        "departures": {"description": "Departures in those hours"},
        "cancel_rate_pct": {"description": "Cancelled departures in percent",
                            "glossary": "cancellation",
                            "checks": [{"range": {"min": 0, "max": 100}}]},
        "avg_dep_delay": {"description": "Departure delay in minutes, averaged over flights",
                          "glossary": "departure_delay"},
        "extra_delay_vs_clear": {"description": "avg_dep_delay minus that of clear weather",
                                 "glossary": "departure_delay"},
    },
    checks=[{"row_count": {"min": 2}}],
)
def weather_delay_effects(marts__hourly_weather_delays: pa.Table) -> pa.Table:
    t = marts__hourly_weather_delays
    t = t.set_column(t.schema.get_field_index("condition"), "condition",
                     pc.fill_null(t["condition"], "unknown"))
    # weight each hour's average delay by its departures to get a per-flight average
    weighted = pc.multiply(pc.fill_null(t["avg_dep_delay"], 0.0),
                           pc.cast(t["departures"], pa.float64()))
    t = t.append_column("delay_minutes", weighted)
    g = t.group_by("condition").aggregate([
        ("time_hour", "count"), ("departures", "sum"), ("cancelled", "sum"),
        ("delay_minutes", "sum"),
    ])
    departures = pc.cast(g["departures_sum"], pa.float64())
    avg_delay = pc.round(pc.divide(g["delay_minutes_sum"], departures), 2)
    cancel = pc.round(pc.multiply(pc.divide(pc.cast(g["cancelled_sum"], pa.float64()),
                                            departures), 100.0), 2)
    conditions = g["condition"].to_pylist()
    delays = avg_delay.to_pylist()
    clear = delays[conditions.index("clear")] if "clear" in conditions else 0.0
    out = pa.table({
        "condition": g["condition"],
        "hours": g["time_hour_count"],
        "departures": g["departures_sum"],
        "cancel_rate_pct": cancel,
        "avg_dep_delay": avg_delay,
        # rounded in Python: float subtraction of two rounded values leaves 31.439999...
        "extra_delay_vs_clear": pa.array([round(d - clear, 2) for d in delays], pa.float64()),
    })
    return out.sort_by([("extra_delay_vs_clear", "descending")])
