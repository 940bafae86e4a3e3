"""Where a build's peak memory goes: the engine's share, each library's, and Steward's.

The build-cost floor caps the peak RSS of ``steward run`` on 1,000 products at 250 MB.
This script says how much of that is Steward's to spend. Each figure is the high-water
mark (``VmHWM``) of a new process, so shared pages count as ``ps`` counts them:

- ``python``: the interpreter alone;
- one line per library a run imports, each alone on top of the interpreter (they share
  modules of the standard library, so the lines do not add up);
- ``engine floor``: the generated project's N queries as DuckDB ``COPY ... TO`` Parquet
  statements on one connection (as ``cost_bench.py``'s floor), each result read back
  with pyarrow (as a build does for its profile): DuckDB, Arrow and nothing of Steward;
- ``steward run``: the first build of the same project (``run.measure``).

    python benchmarks/memory_budget.py --n 1000 --variant real
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from generate import VARIANTS, generate  # noqa: E402

from run import STEWARD, WORK, measure, prepare_bytecode  # noqa: E402

# what `steward run` imports, by library (each measured alone)
LIBRARIES = {
    "duckdb + pyarrow (+ numpy)": "import duckdb, pyarrow, pyarrow.parquet, pyarrow.compute",
    "sqlalchemy": "import sqlalchemy",
    "sqlglot": "import sqlglot, sqlglot.optimizer.qualify, sqlglot.lineage",
    "pydantic": "import pydantic",
    "typer + rich": "import typer, rich",
    "steward (all a run imports)": "import steward.cli.main, steward.context, "
                                   "steward.run.executor, steward.catalog.lineage",
}

# read in the child: its VmHWM starts at exec, where wait4's ru_maxrss would also count
# the forked copy of this process (17 MB: more than a small import adds)
_HWM = ("import sys\n"
        "def hwm():\n"
        "    for line in open('/proc/self/status'):\n"
        "        if line.startswith('VmHWM:'):\n"
        "            return int(line.split()[1]) / 1024\n")


def child_hwm(code: str) -> float:
    """Peak RSS (MB) of a new interpreter running ``code``."""
    out = subprocess.run([sys.executable, "-c", f"{_HWM}{code}\nprint(hwm())"],
                         check=True, capture_output=True, text=True).stdout
    return float(out.strip().splitlines()[-1])


def engine_floor(n: int, variant: str, root: str) -> float:
    """Peak RSS (MB) of the engine alone doing the project's work (a new process)."""
    code = (f"sys.path.insert(0, {HERE!r})\n"
            "import glob, pyarrow.parquet as pq\n"
            "from cost_bench import physical_floor\n"
            f"out = {os.path.join(root, 'floor')!r}\n"
            f"physical_floor({n}, {variant!r}, {os.path.join(root, 'data', 'seed.csv')!r},"
            " out)\n"
            "for f in sorted(glob.glob(out + '/*.parquet')):\n"
            "    pq.ParquetFile(f).read()\n")
    return child_hwm(code)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--variant", choices=VARIANTS, default="real")
    args = ap.parse_args()
    prepare_bytecode()
    root = os.path.join(WORK, f"memory_{args.variant}_{args.n}")
    st, _, _ = generate(args.n, root, variant=args.variant)

    python = child_hwm("pass")
    lines = [f"memory_budget: N={args.n}, variant {args.variant} (peak RSS, MB)",
             f"  python alone                    {python:6.0f}"]
    for label, code in LIBRARIES.items():
        lines.append(f"  + {label:30s}{child_hwm(code) - python:+6.0f}")
    floor = engine_floor(args.n, args.variant, root)
    run = measure([STEWARD, "run", "--json"], st)
    lines += [f"  engine floor (COPY + read back) {floor:6.0f}",
              f"  steward run                     {run.rss_mb:6.0f}"
              + (" FAILED" if run.failed else ""),
              f"  steward's share (run - floor)   {run.rss_mb - floor:6.0f} "
              f"(of {250 - floor:.0f} the 250 MB floor leaves)"]
    print("\n".join(lines))
    with open(os.path.join(WORK, f"memory_{args.variant}.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
