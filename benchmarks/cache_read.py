"""Reading the project cache in process: this code's file against another version's.

Each version reads the cache it wrote for its own copy of the project (``cost_bench.py
--baseline`` leaves them in ``_work/cost_<variant>_<n>`` and ``..._base``), in a child
process per round, alternating: a load with neither the project cache nor the load memo
(every spec validated, both caches written), the median time of ``cache.read`` (file
read, check, decode), then of reading every product's spec model (what a command that
needs the models, not only their facts, pays on top), and the file's size.

    python benchmarks/cache_read.py /tmp/base/src [--rounds 7] [--variant real]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from noop_vs_base import project_pair  # noqa: E402

CHILD = r"""
import gc, glob, json, os, sys, time
root = sys.argv[1]
from steward.project import cache, loader
from steward.project.paths import STATE_DIR, project_folders
for old in glob.glob(os.path.join(root, STATE_DIR, "cache", "[pm][ro][od]*.*")):
    os.remove(old)  # project.* and models.*: the parse and stat caches stay
t = time.perf_counter()
loader.load_project(root)
cold = time.perf_counter() - t
path = [p for p in glob.glob(os.path.join(root, STATE_DIR, "cache", "project.*"))
        if not p.endswith(".tmp")][0]
key = cache.digest(root, project_folders(root))
reads = []
gc.disable()  # (as load_project reads the cache)
for _ in range(int(sys.argv[2])):
    t = time.perf_counter()
    project = cache.read(path, key)
    reads.append(time.perf_counter() - t)
gc.enable()
assert project is not None, "cache not current"
t = time.perf_counter()
for p in project.products.values():
    p.spec
specs = time.perf_counter() - t
print(json.dumps({"read": sorted(reads)[len(reads) // 2], "specs": specs, "cold": cold,
                  "bytes": os.path.getsize(path), "file": os.path.basename(path)}))
"""


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("baseline", help="src folder of the other version")
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--reads", type=int, default=5)
    ap.add_argument("--variant", default="real")
    ap.add_argument("--n", type=int, default=1000)
    args = ap.parse_args()
    runs = project_pair(args.variant, args.n, args.baseline)
    got: dict[str, dict[str, list[float]]] = {}
    files: dict[str, str] = {}
    for _ in range(args.rounds):
        for tag, project, extra in runs:
            p = subprocess.run([sys.executable, "-c", CHILD, project, str(args.reads)],
                               env={**os.environ, **extra}, capture_output=True, text=True,
                               check=True)
            out = json.loads(p.stdout.splitlines()[-1])
            for k in ("cold", "read", "specs"):
                got.setdefault(tag, {}).setdefault(k, []).append(out[k])
            files[tag] = f"{out['file']} {out['bytes'] / 1e6:.1f} MB"
    med = {t: {k: statistics.median(v) for k, v in d.items()} for t, d in got.items()}
    for tag, d in med.items():
        print(f"{tag:<8} {files[tag]:<26} load without caches {d['cold'] * 1000:6.0f} ms   "
              f"read {d['read'] * 1000:6.1f} ms   every spec model {d['specs'] * 1000:6.1f} ms")
    print("base / current: load without caches "
          f"{med['base']['cold'] / med['current']['cold']:.2f}x, "
          f"read {med['base']['read'] / med['current']['read']:.2f}x, "
          f"specs {med['base']['specs'] / med['current']['specs']:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
