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
   project without them (``steward run`` in a new process, median of 5). Floor: within
   10 %.
4. **``steward models`` and ``steward log MODEL`` with 100 model versions** (rows
   copied in the metastore from one trained version), in a new process, median of 3.
   Floor: under 0.5 s.

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


def timed(cmd: list[str], cwd: Path, n: int) -> float:
    env = {**os.environ, "STEWARD_ACTOR": "bench", "OMP_NUM_THREADS": "1"}
    times = []
    for _ in range(n):
        t = time.perf_counter()
        subprocess.run(cmd, cwd=cwd, env=env, check=True, capture_output=True)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


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


def small_project(root: Path, with_model: bool) -> Path:
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
    env = {**os.environ, "STEWARD_ACTOR": "bench"}
    subprocess.run([*STEWARD, "run"], cwd=root, env=env, check=True, capture_output=True)
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
    args = ap.parse_args(argv)
    WORK.mkdir(exist_ok=True)
    say(f"Steward models benchmark ({time.strftime('%Y-%m-%d %H:%M')}, "
        f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.1f})")

    if "1" in args.sections:
        training_section(args)
    if "3" in args.sections:
        noop_section()
    if "4" in args.sections:
        registry_section()
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


def noop_section() -> None:
    say("\n3. no-op run, with and without a model and a scoring product (median of 5)")
    plain = small_project(WORK / "ml-noop-plain", False)
    with_model = small_project(WORK / "ml-noop-model", True)
    a = timed([*STEWARD, "run"], plain, 5)
    b = timed([*STEWARD, "run"], with_model, 5)
    say(f"   without {a:.3f} s, with {b:.3f} s: ratio {b / a:.2f} (floor <= 1.10): "
        f"{'met' if b / a <= 1.10 else 'NOT met'}")


def registry_section() -> None:
    with_model = small_project(WORK / "ml-registry", True)

    say("\n4. steward models / log MODEL with 100 model versions (median of 3)")
    many_versions(with_model, 100)
    ls = timed([*STEWARD, "ls"], with_model, 3)
    say(f"   (for reference, steward ls on the same project: {ls:.3f} s)")
    for cmd in (["models"], ["log", "ml.late_model"]):
        t = timed([*STEWARD, *cmd], with_model, 3)
        say(f"   steward {' '.join(cmd)}: {t:.3f} s, {t / ls:.2f}x steward ls "
            f"(floor < 0.5 s): {'met' if t < 0.5 else 'NOT met'}")


if __name__ == "__main__":
    sys.exit(main())
