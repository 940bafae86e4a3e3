"""Models as products: Steward's overhead around training, against MLflow's and the fit.

    .venv/bin/python benchmarks/ml_bench.py                 # all sections
    .venv/bin/python benchmarks/ml_bench.py --mlflow PYTHON # MLflow's side, with that Python

Sections (each a ratio measured in the same run, never a timed test):

1. **Overhead of one training run** on the flights example's delay model: a step's wall
   time in ``steward run`` (split, metrics, artifact, metastore, gates, profile, PII scan)
   minus the fit and holdout predict times the build measured, warm (the libraries
   imported), median of ``--repeat`` forced retrains. Floor: under 0.3 s + 10 % of
   the fit time. The one-time import of skops (which imports every scikit-learn
   estimator to know its trusted types) is shown apart.
2. **MLflow for the same run**, when a Python with ``mlflow`` (``mlflow-skinny`` is
   enough) is given: the same pipeline fitted on the same rows, then ``log_params``,
   ``log_metrics`` and ``mlflow.sklearn.log_model`` to a local file store, timed around
   the logging only. Floor: MLflow's overhead at least 3x Steward's.
3. **No-op run** of a small project with a model and a scoring product against the same
   project without them (``steward run`` in a new process, the two taking turns, median
   of 11). Floor: within 10 %.
4. **``steward models`` and ``steward log MODEL`` with 100 model versions** (rows
   copied in the metastore from one trained version), in a new process, median of 7.
   Floor: under 0.5 s. ``--baseline-src DIR`` runs the same commands with another
   tree's ``src`` too (``git archive COMMIT src | tar -x -C DIR/..``), taking turns.

Commands run with bytecode caches written (``PYTHONDONTWRITEBYTECODE`` is dropped), as an
installed Steward has them, after one warm-up run.

Results go to stdout and ``benchmarks/_work/ml_results.txt``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
WORK = HERE / "_work"
EXAMPLE = HERE.parent / "examples" / "flights"
BIN = Path(sys.executable).parent
STEWARD = [str(BIN / "steward")] if (BIN / "steward").exists() else \
    [sys.executable, "-m", "steward.cli.main"]
LINES: list[str] = []


def say(line: str = "") -> None:
    print(line, flush=True)
    LINES.append(line)


def bench_env(src: str | None = None) -> dict[str, str]:
    """The commands' environment: with bytecode caches (as an installed Steward has them),
    and with ``src`` first on the path when given (another tree's Steward)."""
    env = {**os.environ, "STEWARD_ACTOR": "bench", "OMP_NUM_THREADS": "1"}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    if src:
        env["PYTHONPATH"] = os.pathsep.join([src, *filter(None, [env.get("PYTHONPATH")])])
    return env


def timed(cmd: list[str], cwd: Path, n: int) -> float:
    return timed_ab({"": None}, cmd, cwd, n)[""][0]


def timed_ab(trees: dict[str, str | None], cmd: list[str], cwd: Path | dict[str, Path], n: int
             ) -> dict[str, tuple[float, float, float]]:
    """tree label -> (median wall, min wall, median CPU seconds) of ``cmd`` run ``n`` times
    with each tree's Steward (in its own project folder when ``cwd`` maps labels to
    folders, so that each keeps its own load cache), the trees taking turns, after one
    warm-up run each."""
    import resource

    envs = {k: bench_env(v) for k, v in trees.items()}
    dirs = cwd if isinstance(cwd, dict) else dict.fromkeys(trees, cwd)
    for k, env in envs.items():
        subprocess.run(cmd, cwd=dirs[k], env=env, check=True, capture_output=True)
    wall: dict[str, list[float]] = {k: [] for k in trees}
    cpu: dict[str, list[float]] = {k: [] for k in trees}
    for _ in range(n):
        for k, env in envs.items():
            r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
            t = time.perf_counter()
            subprocess.run(cmd, cwd=dirs[k], env=env, check=True, capture_output=True)
            wall[k].append(time.perf_counter() - t)
            r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu[k].append(r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime)
    return {k: (statistics.median(wall[k]), min(wall[k]), statistics.median(cpu[k]))
            for k in trees}


# -- 1. overhead of a training run ------------------------------------------------------
def copy_example(target: Path) -> Path:
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(EXAMPLE, target, ignore=shutil.ignore_patterns(".steward", "__pycache__"))
    return target


def training_overhead(repeat: int) -> dict[str, float]:
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    os.environ.setdefault("STEWARD_ACTOR", "bench")
    t = time.perf_counter()
    import skops.io  # noqa: F401 (the one-time cost, shown apart)
    skops_import = time.perf_counter() - t
    from steward.context import Context

    root = copy_example(WORK / "ml-flights")
    ctx = Context(root)
    first = ctx.run(["+ml.delay_model"])
    assert first.ok, [s.error for s in first.steps]
    rows = []
    for _ in range(repeat):
        r = Context(root).run(["ml.delay_model"], full_refresh=True)
        st = next(s for s in r.steps if s.product == "ml.delay_model")
        assert st.status == "built", st.error
        c = Context(root)
        v = c.metastore.version(st.version_id)
        doc = json.loads((Path(c.store.path(v.path)) / "model" / "model.json").read_text())
        s = doc["seconds"]
        rows.append((st.duration_s, s["fit"], s["predict"], s["total"]))
    step = statistics.median(r[0] for r in rows)
    fit = statistics.median(r[1] for r in rows)
    predict = statistics.median(r[2] for r in rows)
    inside = statistics.median(r[3] - r[1] - r[2] for r in rows)
    overhead = statistics.median(r[0] - r[1] - r[2] for r in rows)
    return {"step": step, "fit": fit, "predict": predict, "overhead": overhead,
            "inside_build": inside, "skops_import": skops_import,
            "train_rows": doc["rows"]["train"], "holdout_rows": doc["rows"]["holdout"]}


MLFLOW_SCRIPT = r"""
import json, os, sys, tempfile, time, importlib.util
import pyarrow.parquet as pq
from sklearn.metrics import accuracy_score, log_loss, roc_auc_score
table, model_file, params, store = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), sys.argv[4]
spec = importlib.util.spec_from_file_location("m", model_file)
mod = importlib.util.module_from_spec(spec)
sys.modules["steward"] = type(sys)("steward")
sys.modules["steward"].model = lambda f: f
spec.loader.exec_module(mod)
df = pq.read_table(table).to_pandas()
import pandas as pd, numpy as np
h = pd.util.hash_pandas_object(df[["flight_id"]], index=False).to_numpy()
test = (h % np.uint64(10000)) < np.uint64(2000)
feats = params.pop("features")
X, y = df[~test][feats], df[~test]["late"]
est = mod.delay_model(X, y, 13, **params)
proba = est.predict_proba(df[test][feats])
metrics = {"roc_auc": roc_auc_score(df[test]["late"], proba[:, 1]),
           "accuracy": accuracy_score(df[test]["late"], est.classes_[proba.argmax(1)]),
           "log_loss": log_loss(df[test]["late"], proba)}
import inspect
import mlflow, mlflow.sklearn
mlflow.set_tracking_uri("file://" + store)
kw = {}
accepts = inspect.signature(mlflow.sklearn.log_model).parameters
if "skops_trusted_types" in accepts:  # MLflow 3 saves with skops, as Steward does
    import skops.io as sio
    kw["skops_trusted_types"] = sio.get_untrusted_types(data=sio.dumps(est))
kw["name" if "name" in accepts else "artifact_path"] = "model"
times = []
for i in range(int(sys.argv[5])):
    t = time.perf_counter()
    with mlflow.start_run():
        mlflow.log_params({**params, "seed": 13})
        mlflow.log_metrics(metrics)
        mlflow.sklearn.log_model(est, **kw)
    times.append(time.perf_counter() - t)
print(json.dumps({"times": times, "version": mlflow.__version__}))
"""


def mlflow_overhead(python: str, repeat: int) -> dict[str, float] | None:
    from steward.context import Context

    root = WORK / "ml-flights"
    ctx = Context(root)
    table = ctx.store.data_files(ctx.current()["ml.delay_training"].path)[0]
    spec = ctx.project["ml.delay_model"].spec_dump
    params = {**spec["params"], "features": list(spec["features"])}
    store = WORK / "mlruns"
    shutil.rmtree(store, ignore_errors=True)
    p = subprocess.run([python, "-c", MLFLOW_SCRIPT, table, str(root / "models/ml/delay_model.py"),
                        json.dumps(params), str(store), str(repeat)],
                       capture_output=True, text=True,
                       # the local file store the comparison asks for (MLflow 3 wants a
                       # database unless told otherwise)
                       env={**os.environ, "OMP_NUM_THREADS": "1",
                            "MLFLOW_ALLOW_FILE_STORE": "true"})
    if p.returncode != 0:
        say(f"   MLflow side failed: {p.stderr.strip().splitlines()[-1:]}")
        return None
    out = json.loads(p.stdout.strip().splitlines()[-1])
    return {"overhead": statistics.median(out["times"]), "version": out["version"]}


# -- 3 and 4: a small project -------------------------------------------------------------
MODEL_PY = '''
from steward import model


@model
def late_model(X, y, seed, max_depth=3):
    from sklearn.tree import DecisionTreeClassifier

    return DecisionTreeClassifier(max_depth=max_depth, random_state=seed).fit(X, y)
'''
MODEL_YML = '''
table: staging.trips
features: [distance, hour]
target: late
split: {by: hash, key: trip_id, test_fraction: 0.25}
metrics: [accuracy, roc_auc]
gates:
  - vs_current: {name: roc_auc, max_regression_pct: 2}
'''
SCORING_PY = '''
from steward import product


@product(inputs_as="pandas")
def scored(staging__trips, ml__late_model):
    return ml__late_model.score(staging__trips)[["trip_id", "prediction"]]
'''


def small_project(root: Path, with_model: bool, src: str | None = None) -> Path:
    import random

    shutil.rmtree(root, ignore_errors=True)
    (root / "data").mkdir(parents=True)
    (root / "sources").mkdir()
    (root / "models" / "staging").mkdir(parents=True)
    (root / "steward.yaml").write_text("name: trips\ndefaults: {owner: a@example.com}\n")
    (root / "sources" / "raw.yml").write_text(
        "sources:\n  raw.trips:\n    path: data/trips.csv\n")
    rng = random.Random(3)
    lines = ["trip_id,distance,hour,late"] + [
        f"t{i},{(d := rng.randint(1, 100))},{(h := rng.randint(0, 23))},"
        f"{str(d > 60 or h > 18).lower()}" for i in range(2000)]
    (root / "data" / "trips.csv").write_text("\n".join(lines) + "\n")
    (root / "models" / "staging" / "trips.sql").write_text("select * from raw.trips\n")
    (root / "models" / "staging" / "trips.yml").write_text(
        "columns:\n  trip_id: {}\n  distance: {}\n  hour: {}\n  late: {}\n")
    if with_model:
        (root / "models" / "ml").mkdir()
        (root / "models" / "ml" / "late_model.py").write_text(MODEL_PY)
        (root / "models" / "ml" / "late_model.yml").write_text(MODEL_YML)
        (root / "models" / "ml" / "scored.py").write_text(SCORING_PY)
    subprocess.run([*STEWARD, "run"], cwd=root, env=bench_env(src), check=True,
                   capture_output=True)
    return root


def many_versions(root: Path, n: int) -> None:
    """Copy the model's one version (and its record) ``n - 1`` times in the metastore."""
    con = sqlite3.connect(root / ".steward" / "meta.db")
    try:
        cols = [r[1] for r in con.execute("PRAGMA table_info(versions)")]
        (vrow,) = con.execute("SELECT * FROM versions WHERE product = 'ml.late_model'")
        mcols = [r[1] for r in con.execute("PRAGMA table_info(model_versions)")]
        (mrow,) = con.execute("SELECT * FROM model_versions")
        for i in range(1, n):
            vid = f"{vrow[cols.index('id')]}{i:03d}"
            v = list(vrow)
            v[cols.index("id")] = vid
            con.execute(f"INSERT INTO versions VALUES ({','.join('?' * len(v))})", v)
            m = list(mrow)
            m[mcols.index("version_id")] = vid
            con.execute(f"INSERT INTO model_versions VALUES ({','.join('?' * len(m))})", m)
        con.commit()
    finally:
        con.close()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Steward's model overhead, measured.")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--mlflow", help="a Python with mlflow (or mlflow-skinny) installed")
    ap.add_argument("--sections", default="1234", help="which sections to run (1, 2 needs 1)")
    ap.add_argument("--baseline-src", help="section 4 also with another tree's src folder "
                    "(e.g. an earlier commit's, from git archive), taking turns")
    args = ap.parse_args(argv)
    WORK.mkdir(exist_ok=True)
    say(f"Steward models benchmark ({time.strftime('%Y-%m-%d %H:%M')}, "
        f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.1f})")

    if "1" in args.sections:
        training_section(args)
    if "3" in args.sections:
        noop_section()
    if "4" in args.sections:
        registry_section(args.baseline_src)
    (WORK / "ml_results.txt").write_text("\n".join(LINES) + "\n")
    return 0


def training_section(args: argparse.Namespace) -> None:
    say("\n1. one training run of the flights delay model (warm, median)")
    o = training_overhead(args.repeat)
    floor = 0.3 + 0.1 * o["fit"]
    say(f"   {o['train_rows']:,} training rows, {o['holdout_rows']:,} holdout rows")
    say(f"   fit {o['fit']:.2f} s, holdout predict {o['predict']:.2f} s, whole step "
        f"{o['step']:.2f} s")
    say(f"   Steward's overhead: {o['overhead']:.2f} s (inside the build: "
        f"{o['inside_build']:.2f} s; gates, metastore, profile, PII: "
        f"{o['overhead'] - o['inside_build']:.2f} s)")
    say(f"   floor 0.3 s + 10% of fit = {floor:.2f} s: "
        f"{'met' if o['overhead'] <= floor else 'NOT met'} "
        f"(overhead / floor = {o['overhead'] / floor:.2f})")
    say(f"   importing skops once per process (not counted above): {o['skops_import']:.2f} s")

    if args.mlflow:
        say("\n2. the same run logged to MLflow (local file store, median)")
        m = mlflow_overhead(args.mlflow, args.repeat)
        if m is not None:
            ratio = m["overhead"] / o["overhead"]
            say(f"   MLflow {m['version']}: log_params + log_metrics + sklearn.log_model "
                f"{m['overhead']:.2f} s")
            say(f"   MLflow / Steward overhead = {ratio:.2f} (floor: >= 3): "
                f"{'met' if ratio >= 3 else 'NOT met'}")
    else:
        say("\n2. MLflow: not measured (give --mlflow PYTHON)")


def noop_section(n: int = 11) -> None:
    say(f"\n3. no-op run, with and without a model and a scoring product (median of {n}, "
        "taking turns)")
    dirs = {"without": small_project(WORK / "ml-noop-plain", False),
            "with": small_project(WORK / "ml-noop-model", True)}
    got = timed_ab({"without": None, "with": None}, [*STEWARD, "run"], dirs, n)
    (a, _, ca), (b, _, cb) = got["without"], got["with"]
    say(f"   without {a:.3f} s (CPU {ca:.3f}), with {b:.3f} s (CPU {cb:.3f}): ratio "
        f"{b / a:.2f}, CPU {cb / ca:.2f} (floor <= 1.10): "
        f"{'met' if b / a <= 1.10 else 'NOT met'}")


def registry_section(baseline: str | None = None, n: int = 7) -> None:
    trees: dict[str, str | None] = {"this tree": None}
    if baseline:
        trees[f"baseline {baseline}"] = baseline
    # a project per tree: a load cache is only valid for the Steward that wrote it
    with_model = {k: small_project(WORK / f"ml-registry{i or ''}", True, src)
                  for i, (k, src) in enumerate(trees.items())}
    say(f"\n4. steward models / log MODEL with 100 model versions (median of {n}; "
        "wall, fastest wall and CPU time)")
    for root in with_model.values():
        many_versions(root, 100)
    for cmd in (["ls"], ["models"], ["log", "ml.late_model"]):
        got = timed_ab(trees, [*STEWARD, *cmd], with_model, n)
        for label, (wall, fastest, cpu) in got.items():
            floor = "" if cmd == ["ls"] else \
                f" (floor < 0.5 s): {'met' if wall < 0.5 else 'NOT met'}"
            say(f"   {label}: steward {' '.join(cmd)}: {wall:.3f} s (fastest {fastest:.3f}, "
                f"CPU {cpu:.3f} s){floor}")


if __name__ == "__main__":
    sys.exit(main())
