"""Steward against dbt-duckdb on the same synthetic projects, in the same run.

For each size N (default 200 and 1,000) this script generates both projects
(``generate.py``), then times, each in a new process, with the peak RSS of the whole
process tree sampled by psutil:

- load / plan: loading the project and planning a run (Steward: a Context loads the
  project and plans, nothing built) against ``dbt parse`` (with dbt's partial parsing
  warm, as users get it, and cold with ``--no-partial-parse``);
- first full build: ``steward run`` against ``dbt run``;
- no-op rebuild: ``steward run`` again (everything reused) against ``dbt parse`` and
  ``dbt run -s state:modified --state <previous manifest>``, dbt's own way to build
  nothing when nothing changed (median of 3);
- rebuild after editing one leaf: the same two commands after one leaf's SQL changed;
  the script reads ``steward run --json`` events and checks that exactly that product
  was built, and reads dbt's ``run_results.json`` for what dbt ran.

It prints a table of the figures with ratios (dbt / Steward: above 1 means Steward is
faster or smaller) and checks the floors of the issue. No figure is asserted in a test.

    python benchmarks/run.py                 # N = 200 and 1,000
    python benchmarks/run.py --sizes 200     # quicker
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from dbtenv import DBT, DBT_REQUIREMENTS, DBT_VENV, ensure_dbt  # noqa: E402,F401
from generate import VARIANTS, edit_leaf, generate, leaves  # noqa: E402

BIN = os.path.dirname(sys.executable)
STEWARD = os.path.join(BIN, "steward")
WORK = os.path.join(HERE, "_work")

# `steward run` with the post-build and published hooks (checks, profiles, PII scans...)
# switched off: what the core alone costs, to tell where a full build's time goes.
CORE_SNIPPET = (
    "import sys\n"
    "from steward.context import Context\n"
    "Context.post_build_hooks = lambda self: []\n"
    "Context.published_hooks = lambda self: []\n"
    "from steward.cli.main import main\n"
    "sys.argv = ['steward', *sys.argv[1:]]\n"
    "main()\n"
)

PLAN_SNIPPET = (
    "import sys, time; t = time.perf_counter()\n"
    "from steward.context import Context\n"
    "ctx = Context(sys.argv[1]); plan = ctx.plan_build()\n"
    "print(time.perf_counter() - t)\n"
)


@dataclass
class Measure:
    wall: float
    rss_mb: float
    out: str = ""
    failed: bool = False


@dataclass
class Row:
    label: str
    n: int
    steward: Measure
    dbt: Measure | None
    dbt_label: str = ""
    note: str = ""


@dataclass
class Results:
    rows: list[Row] = field(default_factory=list)
    floors: list[tuple[str, bool, str]] = field(default_factory=list)
    phases: list[tuple[str, dict[str, float]]] = field(default_factory=list)


def measure(cmd: list[str], cwd: str, env: dict[str, str] | None = None) -> Measure:
    """Wall time and peak RSS of one command: the larger of the process tree's RSS
    sampled every 20 ms and the sum of each process's high-water mark (``VmHWM``, read
    as it runs), so a peak between two samples is not missed."""
    import psutil

    started = time.perf_counter()
    proc = psutil.Popen(cmd, cwd=cwd, env={**os.environ, **(env or {})},
                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    peak = 0
    hwm: dict[int, int] = {}  # pid -> its high-water mark so far
    chunks: list[str] = []
    import threading

    reader = threading.Thread(target=lambda: chunks.append(proc.stdout.read()), daemon=True)
    reader.start()
    while proc.poll() is None:
        try:
            tree = [proc, *proc.children(recursive=True)]
            peak = max(peak, sum(_rss(p) for p in tree))
            for p in tree:
                hwm[p.pid] = max(hwm.get(p.pid, 0), _hwm(p.pid))
        except psutil.Error:
            pass
        time.sleep(0.02)
    wall = time.perf_counter() - started
    peak = max(peak, sum(hwm.values()))
    reader.join()
    out = "".join(chunks)
    if proc.returncode != 0:
        # Keep going: a failing build is reported in the table, not hidden by an abort.
        print(f"  ! {' '.join(cmd[:3])} exited {proc.returncode}: {_last_error(out)}",
              flush=True)
    return Measure(wall, peak / 2**20, out, proc.returncode != 0)


def _last_error(out: str) -> str:
    for line in reversed(out.splitlines()):
        if "error" in line.lower():
            return line.strip()[:300]
    return out.strip().splitlines()[-1][:300] if out.strip() else "(no output)"


def _rss(p: object) -> int:
    try:
        return p.memory_info().rss  # type: ignore[attr-defined]
    except Exception:
        return 0


def _hwm(pid: int) -> int:
    """A process's peak resident set so far (Linux ``VmHWM``), in bytes; 0 if unknown."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    return 0


def median_of(k: int, fn: object) -> Measure:
    ms = [fn() for _ in range(k)]  # type: ignore[operator]
    return Measure(statistics.median(m.wall for m in ms), max(m.rss_mb for m in ms), ms[-1].out,
                   any(m.failed for m in ms))


DBT_EXE = DBT

DBT_ENV = {"DBT_SEND_ANONYMOUS_USAGE_STATS": "false", "DBT_VERSION_CHECK": "false",
           "DO_NOT_TRACK": "1"}


def dbt(args: list[str], root: str) -> Measure:
    return measure([DBT_EXE, *args, "--profiles-dir", root, "--project-dir", root], root, DBT_ENV)


def built_products(json_lines: str, status: str = "built") -> list[str]:
    out = []
    for line in json_lines.splitlines():
        try:
            ev = json.loads(line)
        except ValueError:
            continue
        if ev.get("event") == "step_finished" and ev.get("status") == status:
            out.append(ev["product"])
    return sorted(out)


def dbt_ran(root: str) -> list[str]:
    with open(os.path.join(root, "target", "run_results.json")) as f:
        res = json.load(f)
    return sorted(r["unique_id"].split(".")[-1] for r in res["results"])


def bench(n: int, res: Results, threads: int, core: bool = True,
          variant: str = "trivial") -> None:
    print(f"\n### N = {n} ({variant}): generating", flush=True)
    tag = f"n{n}" if variant == "trivial" else f"n{n}_{variant}"
    st, db, nodes = generate(n, os.path.join(WORK, tag), threads, variant)
    steward = [STEWARD, "run", "--json"]

    # -- first full build (cold: nothing built, no caches) -----------------------------
    print("  full build ...", flush=True)
    s_full = measure(steward, st)
    d_full = dbt(["run"], db)
    res.rows.append(Row("first full build", n, s_full, d_full, "dbt run"))
    res.phases.append((f"N={n} ({variant}) first full build", phases_of(s_full.out)))
    state = os.path.join(db, "_state")
    shutil.rmtree(state, ignore_errors=True)
    os.makedirs(state)
    shutil.copy(os.path.join(db, "target", "manifest.json"), state)

    # -- load / plan -----------------------------------------------------------------
    print("  load / plan ...", flush=True)
    s_plan = median_of(3, lambda: measure([sys.executable, "-c", PLAN_SNIPPET, st], st))
    d_parse = median_of(3, lambda: dbt(["parse"], db))
    d_parse_cold = dbt(["parse", "--no-partial-parse"], db)
    res.rows.append(Row("load + plan (Context) vs dbt parse", n, s_plan, d_parse, "dbt parse",
                        f"in-process load+plan {float(s_plan.out.strip() or 0):.2f}s"))
    res.rows.append(Row("load + plan vs cold dbt parse", n, s_plan, d_parse_cold,
                        "dbt parse --no-partial-parse"))

    # -- no-op rebuild ---------------------------------------------------------------
    print("  no-op ...", flush=True)
    s_noop = median_of(3, lambda: measure(steward, st))
    rebuilt = built_products(s_noop.out)
    res.rows.append(Row("no-op run vs dbt parse", n, s_noop, d_parse, "dbt parse",
                        f"steward built {len(rebuilt)}"))
    d_noop = median_of(3, lambda: dbt(["run", "-s", "state:modified", "--state", state], db))
    res.rows.append(Row("no-op run", n, s_noop, d_noop, "dbt run -s state:modified",
                        f"dbt ran {len(dbt_ran(db))}"))

    # -- edit one leaf -----------------------------------------------------------------
    print("  leaf edit ...", flush=True)
    leaf = leaves(nodes)[-1]
    edit_leaf(st, db, nodes, leaf, constant=-1, variant=variant)
    s_leaf = measure(steward, st)
    built = built_products(s_leaf.out)
    d_leaf = dbt(["run", "-s", "state:modified", "--state", state], db)
    ran = dbt_ran(db)
    failed = built_products(s_leaf.out, "failed")
    exact = built == [f"m.{leaf}"]
    res.rows.append(Row("rebuild after editing one leaf", n, s_leaf, d_leaf,
                        "dbt run -s state:modified",
                        f"steward built {built or failed}, dbt ran {ran}"))
    res.floors.append((f"N={n}: editing leaf {leaf} rebuilds exactly it", exact,
                       f"built {built}" + (f", failed {failed}" if failed else "")))

    if core:
        # the same full build without hooks, on a fresh copy of the project
        print("  core-only full build ...", flush=True)
        st_core, _, _ = generate(n, os.path.join(WORK, f"{tag}_core"), threads, variant)
        s_core = measure([sys.executable, "-c", CORE_SNIPPET, "run", "--json"], st_core)
        res.rows.append(Row("first full build, core only (no hooks)", n, s_core, d_full,
                            "dbt run"))
        s_core_noop = median_of(3, lambda: measure(
            [sys.executable, "-c", CORE_SNIPPET, "run", "--json"], st_core))
        res.rows.append(Row("no-op run, core only (no hooks)", n, s_core_noop, d_parse,
                            "dbt parse"))

    # -- peak RSS over the whole session ------------------------------------------------
    if n >= 1000:
        full_ratio = d_full.wall / s_full.wall
        want = {"real": 8, "decimal": 5}.get(variant, 5)
        res.floors.append((f"N={n} ({variant}): first full build >= {want}x faster than dbt run",
                           full_ratio >= want, f"{full_ratio:.1f}x"))
        res.floors.append((f"N={n}: no-op steward run < 1 s wall", s_noop.wall < 1.0,
                           f"{s_noop.wall:.2f}s"))
        noop_ratio = d_parse.wall / s_noop.wall
        res.floors.append((f"N={n}: no-op >= 10x faster than dbt parse", noop_ratio >= 10,
                           f"{noop_ratio:.1f}x (cold parse: "
                           f"{d_parse_cold.wall / s_noop.wall:.1f}x)"))
        peak = max(s_full.rss_mb, s_noop.rss_mb, s_leaf.rss_mb)
        res.floors.append((f"N={n}: peak RSS < 250 MB", peak < 250, f"{peak:.0f} MB"))


def phases_of(json_lines: str) -> dict[str, float]:
    """Seconds per phase from the ``phases`` event of ``steward run --json``."""
    for line in json_lines.splitlines():
        if line.startswith('{"event": "phases"'):
            return {k: v["seconds"] for k, v in json.loads(line)["phases"].items()}
    return {}


def render(res: Results) -> str:
    lines = []
    head = (f"{'measure':<40} {'N':>5} {'steward s':>10} {'dbt s':>8} {'speedup':>8} "
            f"{'steward MB':>11} {'dbt MB':>8} {'RSS ratio':>9}  dbt command / note")
    lines.append(head)
    lines.append("-" * len(head))
    for r in res.rows:
        d = r.dbt
        sp = f"{d.wall / r.steward.wall:.1f}x" if d else ""
        if r.steward.failed or (d and d.failed):
            r.note = "FAILED: " + ("steward " if r.steward.failed else "dbt ") + r.note
        mem = f"{d.rss_mb / r.steward.rss_mb:.1f}x" if d and r.steward.rss_mb else ""
        lines.append(
            f"{r.label:<40} {r.n:>5} {r.steward.wall:>10.2f} "
            f"{(f'{d.wall:.2f}' if d else ''):>8} {sp:>8} {r.steward.rss_mb:>11.0f} "
            f"{(f'{d.rss_mb:.0f}' if d else ''):>8} {mem:>9}  {r.dbt_label}"
            + (f"; {r.note}" if r.note else ""))
    for label, ph in res.phases:
        lines.append(f"\nphases of {label} (busy seconds, summed over threads):")
        lines.append("  " + ", ".join(f"{k} {v:.2f}" for k, v in ph.items()))
    if res.floors:
        lines.append("\nfloors:")
        for label, ok, detail in res.floors:
            lines.append(f"  [{'PASS' if ok else 'MISS'}] {label}: {detail}")
    return "\n".join(lines)


def prepare_bytecode() -> None:
    """Both tools start from compiled bytecode, as installed software does.

    pip compiled dbt's modules when it installed them; Steward may be installed
    editable, whose modules compile on first import. PYTHONDONTWRITEBYTECODE (set in
    some shells) would make every Steward command compile its modules again, so it is
    dropped for the measured commands and Steward's sources are compiled first.
    """
    import compileall

    import steward

    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    sys.dont_write_bytecode = False
    compileall.compile_dir(os.path.dirname(steward.__file__), quiet=1)


def main() -> int:
    ap = argparse.ArgumentParser(description="Steward vs dbt-duckdb benchmark")
    ap.add_argument("--sizes", type=int, nargs="+", default=[200, 1000])
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1,
                    help="dbt threads (Steward uses one worker per core by default)")
    ap.add_argument("--variant", choices=VARIANTS, default="trivial",
                    help="the generated data: trivial (id, grp, val DOUBLE), decimal (val "
                    "DECIMAL) or real (seven column types with NULLs, aggregations)")
    ap.add_argument("--no-core", action="store_true",
                    help="skip the extra Steward builds with hooks switched off")
    ap.add_argument("--dbt", default=None,
                    help="dbt executable (default: benchmarks/_work/dbt-venv, made on demand)")
    args = ap.parse_args()
    if not os.path.exists(STEWARD):
        sys.exit(f"benchmark: {STEWARD} is missing; run 'make bench'")
    try:
        import psutil  # noqa: F401
    except ImportError:
        sys.exit("benchmark: psutil is missing; run 'make bench' (the bench extra)")
    global DBT_EXE
    DBT_EXE = ensure_dbt(args.dbt)
    prepare_bytecode()
    res = Results()
    for n in args.sizes:
        bench(n, res, args.threads, core=not args.no_core, variant=args.variant)
    text = render(res)
    print("\n" + text)
    os.makedirs(WORK, exist_ok=True)
    with open(os.path.join(WORK, "results.txt"), "w") as f:
        f.write(f"cores: {os.cpu_count()}\n{text}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
