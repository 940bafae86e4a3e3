"""No-op run and load + plan of this code against another version, alternating.

Wall time and CPU seconds (user + system of the child, from ``getrusage``) of each: on a
machine shared with other work, the CPU seconds are the steadier figure.

Each version runs on the project it built itself (the no-op fast path trusts only the
code that recorded the last run): ``cost_bench.py --baseline`` leaves them in
``_work/cost_<variant>_<n>`` and ``..._base``.

    python benchmarks/noop_vs_base.py /tmp/base/src [--rounds 10] [--variant real]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
BIN = os.path.dirname(sys.executable)
PLAN = ("import sys, time; t = time.perf_counter()\n"
        "from steward.context import Context\n"
        "Context(sys.argv[1]).plan_build(); print(time.perf_counter() - t)\n")


def project_pair(variant: str, n: int, baseline: str
                 ) -> tuple[tuple[str, str, dict[str, str]], ...]:
    """(label, project folder, environment) of this code's and the baseline's copies of
    the ``cost_bench.py`` project (each built by its own version of the code)."""
    root = os.path.join(HERE, "_work", f"cost_{variant}_{n}")
    return (("current", os.path.join(root, "steward"), {}),
            ("base", os.path.join(root + "_base", "steward"),
             {"PYTHONPATH": os.path.abspath(baseline)}))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("baseline", help="src folder of the other version")
    ap.add_argument("--rounds", type=int, default=10)
    ap.add_argument("--variant", default="real")
    ap.add_argument("--n", type=int, default=1000)
    args = ap.parse_args()
    runs = project_pair(args.variant, args.n, args.baseline)
    got: dict[str, list[float]] = {}
    cpu: dict[str, list[float]] = {}
    for _ in range(args.rounds):
        for tag, project, extra in runs:
            env = {**os.environ, **extra}
            t, c = time.perf_counter(), _children_cpu()
            subprocess.run([os.path.join(BIN, "steward"), "run", "--json"], cwd=project,
                           env=env, capture_output=True, check=True)
            got.setdefault(f"no-op {tag}", []).append(time.perf_counter() - t)
            cpu.setdefault(f"no-op {tag}", []).append(_children_cpu() - c)
            c = _children_cpu()
            p = subprocess.run([sys.executable, "-c", PLAN, project], cwd=project, env=env,
                               capture_output=True, text=True, check=True)
            got.setdefault(f"load+plan {tag}", []).append(float(p.stdout.split()[-1]))
            cpu.setdefault(f"load+plan {tag}", []).append(_children_cpu() - c)
    med = {k: statistics.median(v) for k, v in got.items()}
    mcpu = {k: statistics.median(v) for k, v in cpu.items()}
    for k, v in got.items():
        print(f"{k:<18} median {med[k]:.3f} s  range {min(v):.2f}-{max(v):.2f}   "
              f"CPU median {mcpu[k]:.3f} s")
    print(f"base / current: no-op {med['no-op base'] / med['no-op current']:.2f}x, "
          f"load+plan {med['load+plan base'] / med['load+plan current']:.2f}x; in CPU "
          f"no-op {mcpu['no-op base'] / mcpu['no-op current']:.2f}x, "
          f"load+plan {mcpu['load+plan base'] / mcpu['load+plan current']:.2f}x")
    return 0


def _children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


if __name__ == "__main__":
    sys.exit(main())
