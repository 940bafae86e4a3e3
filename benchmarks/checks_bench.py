"""Quality checks: Steward against a hand-written DuckDB query and Great Expectations.

On the shared 2,000,000-row x 12-column Parquet table (``data.py``), the 12 common
checks of the quality issue — row count, 3 not-null, unique, null fraction, 2 ranges,
accepted values, 2 regex, mean between, timestamp between — are computed:

- by Steward, from a stored version, through the code path of ``steward check``
  (``Context.check``: compile, one aggregate scan, judge, store results);
- by one hand-written DuckDB query over the same Parquet file (the floor);
- by Great Expectations 1.x on pandas, in its own virtualenv (it pins pandas 2.1 and
  numpy 1.x, which would downgrade Steward's dev environment): reading the Parquet
  file into pandas and validating the same 12 expectations.

Each is timed best-of-N in a warm process; ratios are printed against Steward. The
peak memory of Steward's check step is sampled with psutil (resident set, increase
over the process's baseline) and compared with the Parquet file size.

    python benchmarks/checks_bench.py [--repeat 3] [--no-ge]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
WORK = os.path.join(HERE, "_work")
GE_VENV = os.path.join(WORK, "ge-venv")
TABLE = os.path.join(WORK, "table_2m.parquet")
COUNTRIES = ["NL", "DE", "FR", "BE", "US", "GB", "ES", "IT"]

CHECKS_YAML = """\
sources:
  bench.table:
    path: {path}
    checks:
      - row_count: {{min: 1000000, max: 3000000}}
    columns:
      id: {{checks: [not_null, unique]}}
      country:
        checks:
          - not_null
          - accepted_values: {{values: {countries}}}
      created_at:
        checks:
          - not_null
          - range: {{min: '2025-01-01', max: '2026-01-01'}}
      price: {{checks: [{{null_fraction: {{max: 0.05}}}}]}}
      qty: {{checks: [{{range: {{min: 0, max: 999}}}}]}}
      score: {{checks: [{{range: {{min: -10, max: 10}}}}, {{mean: {{min: -0.1, max: 0.1}}}}]}}
      token: {{checks: [{{regex: '^[0-9a-f]{{32}}$'}}]}}
      customer: {{checks: [{{regex: '^customer_[0-9]+$'}}]}}
"""

HAND_SQL = """
SELECT
  count(*) AS row_count,
  count(*) FILTER (WHERE id IS NULL) AS id_nulls,
  count(*) FILTER (WHERE country IS NULL) AS country_nulls,
  count(*) FILTER (WHERE created_at IS NULL) AS created_nulls,
  count(id) - count(DISTINCT id) AS id_duplicates,
  count(*) FILTER (WHERE price IS NULL) / count(*) AS price_null_fraction,
  count(*) FILTER (WHERE qty < 0 OR qty > 999) AS qty_out_of_range,
  count(*) FILTER (WHERE score < -10 OR score > 10) AS score_out_of_range,
  count(*) FILTER (WHERE country NOT IN ('NL','DE','FR','BE','US','GB','ES','IT')) AS bad_country,
  count(*) FILTER (WHERE NOT regexp_matches(token, '^[0-9a-f]{{32}}$')) AS bad_token,
  count(*) FILTER (WHERE NOT regexp_matches(customer, '^customer_[0-9]+$')) AS bad_customer,
  avg(score) AS mean_score,
  count(*) FILTER (WHERE created_at < TIMESTAMP '2025-01-01'
                    OR created_at > TIMESTAMP '2026-01-01') AS created_out_of_range
FROM read_parquet('{path}')
"""


# -- Great Expectations (runs inside its own venv) ------------------------------------
def ge_main(path: str, repeat: int) -> None:
    import great_expectations as gx
    import great_expectations.expectations as gxe
    import pandas as pd

    def suite_run() -> tuple[float, float, bool]:
        t0 = time.perf_counter()
        df = pd.read_parquet(path)
        t1 = time.perf_counter()
        ctx = gx.get_context(mode="ephemeral")
        batch = (ctx.data_sources.add_pandas("bench").add_dataframe_asset("table")
                 .add_batch_definition_whole_dataframe("all")
                 .get_batch(batch_parameters={"dataframe": df}))
        suite = gx.ExpectationSuite(name="bench")
        for e in [
            gxe.ExpectTableRowCountToBeBetween(min_value=1_000_000, max_value=3_000_000),
            gxe.ExpectColumnValuesToNotBeNull(column="id"),
            gxe.ExpectColumnValuesToNotBeNull(column="country"),
            gxe.ExpectColumnValuesToNotBeNull(column="created_at"),
            gxe.ExpectColumnValuesToBeUnique(column="id"),
            gxe.ExpectColumnValuesToNotBeNull(column="price", mostly=0.95),
            gxe.ExpectColumnValuesToBeBetween(column="qty", min_value=0, max_value=999),
            gxe.ExpectColumnValuesToBeBetween(column="score", min_value=-10, max_value=10),
            gxe.ExpectColumnValuesToBeInSet(column="country", value_set=COUNTRIES),
            gxe.ExpectColumnValuesToMatchRegex(column="token", regex=r"^[0-9a-f]{32}$"),
            gxe.ExpectColumnValuesToMatchRegex(column="customer", regex=r"^customer_[0-9]+$"),
            gxe.ExpectColumnMeanToBeBetween(column="score", min_value=-0.1, max_value=0.1),
            gxe.ExpectColumnValuesToBeBetween(column="created_at",
                                              min_value="2025-01-01T00:00:00",
                                              max_value="2026-01-01T00:00:00"),
        ]:
            suite.add_expectation(e)
        result = batch.validate(suite)
        t2 = time.perf_counter()
        return t1 - t0, t2 - t1, bool(result.success)

    runs = [suite_run() for _ in range(repeat)]
    best = min(runs, key=lambda r: r[0] + r[1])
    print(json.dumps({"read": best[0], "validate": best[1], "success": best[2],
                      "version": gx.__version__, "pandas": pd.__version__}))


# -- Steward and the hand-written query ------------------------------------------------
class PeakRss:
    """Samples this process's resident memory every 5 ms in a thread."""

    def __init__(self) -> None:
        import psutil

        self.proc = psutil.Process()
        self.base = self.proc.memory_info().rss
        self.peak = self.base
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.proc.memory_info().rss)
            time.sleep(0.005)

    def __enter__(self) -> PeakRss:
        self._t.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._t.join()
        self.peak = max(self.peak, self.proc.memory_info().rss)


def best_of(fn, repeat: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return min(times), out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--no-ge", action="store_true", help="skip Great Expectations")
    ap.add_argument("--ge-repeat", type=int, default=1, help="GE runs (each takes minutes)")
    ap.add_argument("--ge-child", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.ge_child:
        return ge_main(a.ge_child, a.repeat)

    sys.path.insert(0, HERE)
    from data import generate

    from steward.context import Context

    generate(TABLE)
    size = os.path.getsize(TABLE)
    proj = os.path.join(WORK, "checks_project")
    shutil.rmtree(proj, ignore_errors=True)
    os.makedirs(os.path.join(proj, "sources"))
    with open(os.path.join(proj, "steward.yaml"), "w") as f:
        f.write("name: checks_bench\n")
    with open(os.path.join(proj, "sources", "bench.yml"), "w") as f:
        f.write(CHECKS_YAML.format(path=TABLE, countries=json.dumps(COUNTRIES)))

    ctx = Context(proj)
    # Only the quality gate while ingesting: the other areas' hooks (profiles, PII scans)
    # are not what this benchmark measures, and the check step below uses none of them.
    from steward.quality.gate import QualityGate

    gate = QualityGate(ctx.metastore, ctx.store, ctx.engine)
    ctx.post_build_hooks = lambda: [gate]  # type: ignore[method-assign]
    ctx.published_hooks = lambda: []  # type: ignore[method-assign]
    t0 = time.perf_counter()
    result = ctx.run()
    build_s = time.perf_counter() - t0
    assert result.ok, result.steps
    version = ctx.current()["bench.table"]
    stored = ctx.store.data_files(version.path)
    print(f"table: {version.row_count:,} rows x 12 columns, Parquet {size / 1e6:.1f} MB; "
          f"ingested + gated by `steward run` in {build_s:.2f}s")

    ctx.check(["bench.table"])  # warm: imports, DuckDB's first query
    with PeakRss() as mem:
        _, reports = best_of(lambda: ctx.check(["bench.table"]), 1)
    (report,) = reports  # type: ignore[misc]
    n_checks = len([r for r in report.results if r.name != "contract"])
    assert n_checks == 13, [r.name for r in report.results]
    bad = [r.name for r in report.results if r.failed]

    con = ctx.engine.connection()
    sql = HAND_SQL.format(path=stored[0])
    con.execute(sql).fetchall()
    # interleaved, so load from other processes on the machine hits both alike
    steward_t, hand_t = [], []
    for _ in range(a.repeat):
        steward_t.append(best_of(lambda: ctx.check(["bench.table"]), 1)[0])
        hand_t.append(best_of(lambda: con.execute(sql).fetchall(), 1)[0])
    steward_s, hand_s = min(steward_t), min(hand_t)
    print(f"Steward runs: {', '.join(f'{t:.2f}' for t in steward_t)}; hand-written runs: "
          f"{', '.join(f'{t:.2f}' for t in hand_t)}")

    ge: dict[str, object] | None = None
    ge_note = ""
    py = os.path.join(GE_VENV, "bin", "python")
    if a.no_ge:
        ge_note = "skipped (--no-ge)"
    elif not os.path.exists(py):
        ge_note = (f"not installed: python -m venv {GE_VENV} && {GE_VENV}/bin/pip install "
                   "'great_expectations>=1.2,<1.5' pyarrow psutil")
    else:
        out = subprocess.run([py, os.path.abspath(__file__), "--ge-child", stored[0],
                              "--repeat", str(a.ge_repeat)],
                             capture_output=True, text=True, env={**os.environ,
                                                                  "GX_ANALYTICS_ENABLED": "false"})
        lines = [ln for ln in out.stdout.splitlines() if ln.startswith("{")]
        if out.returncode == 0 and lines:
            ge = json.loads(lines[-1])
        else:
            ge_note = "failed: " + (out.stderr.strip().splitlines() or ["?"])[-1]

    rows = [("Steward (`steward check` path, stored version)", steward_s),
            ("hand-written single DuckDB query", hand_s)]
    if ge:
        rows.append((f"Great Expectations {ge['version']} on pandas {ge['pandas']}: read + "
                     "validate", float(ge["read"]) + float(ge["validate"])))  # type: ignore[arg-type]
        rows.append(("  of which validate only (DataFrame in memory)", float(ge["validate"])))  # type: ignore[arg-type]
    print(f"\n12 checks (13 with the range on score), best of {a.repeat} (GE: {a.ge_repeat}):")
    print(f"{'':58} {'seconds':>8} {'x Steward':>10}")
    for name, secs in rows:
        print(f"{name:58} {secs:8.3f} {secs / steward_s:10.2f}")
    print(f"\nSteward / hand-written query: {steward_s / hand_s:.2f}x (floor: at most 1.2x)")
    if ge:
        total = float(ge["read"]) + float(ge["validate"])  # type: ignore[arg-type]
        print(f"Great Expectations / Steward: {total / steward_s:.1f}x "
              f"(floor: at least 15x); validate-only {float(ge['validate']) / steward_s:.1f}x"  # type: ignore[arg-type]
              f"; GE suite success={ge['success']}")
    else:
        print(f"Great Expectations: {ge_note}")
    inc = (mem.peak - mem.base) / 1e6
    print(f"peak RSS of the check step: {mem.peak / 1e6:.0f} MB (+{inc:.0f} MB over the "
          f"process baseline of {mem.base / 1e6:.0f} MB); Parquet x 4 = {4 * size / 1e6:.0f} MB "
          f"-> {'below' if inc < 4 * size / 1e6 else 'ABOVE'} the floor (increase)")
    cli_peak, cli_s = cli_peak_rss(proj)
    print(f"`steward check bench.table` in a new process: {cli_s:.2f}s wall, peak RSS "
          f"{cli_peak / 1e6:.0f} MB for the whole command (interpreter and imports included) "
          f"-> {'below' if cli_peak < 4 * size else 'ABOVE'} Parquet x 4")
    print(f"checks failing on this table: {', '.join(bad) or 'none'}")


def cli_peak_rss(project: str) -> tuple[int, float]:
    """Peak resident memory of ``steward check`` as a user runs it, sampled every 10 ms."""
    import psutil

    steward = os.path.join(os.path.dirname(sys.executable), "steward")
    t0 = time.perf_counter()
    proc = psutil.Popen([steward, "check", "bench.table", "--project", project],
                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    peak = 0
    while proc.poll() is None:
        try:
            peak = max(peak, proc.memory_info().rss)
        except psutil.Error:
            break
        time.sleep(0.01)
    return peak, time.perf_counter() - t0


if __name__ == "__main__":
    main()
