"""Change management on a 1,000-product project: plan, env creation, promote, rollback, diff.

    .venv/bin/python benchmarks/changes_bench.py [--products 1000] [--rows 5000000]

Floors (issue 5): plan after one edit < 1 s; a dev environment from prod for 1,000
products < 1 s with zero data bytes written; promote and rollback of 1,000 products
< 1 s each; a keyed diff of two 5,000,000-row versions differing in 1 % of rows within
1.5x of a hand-written DuckDB anti-join measured in the same run.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from generate import generate  # noqa: E402

from steward.context import Context  # noqa: E402


def tree_bytes(path: str) -> int:
    total = 0
    for d, _, files in os.walk(path):
        total += sum(os.path.getsize(os.path.join(d, f)) for f in files)
    return total


def _child_cpu() -> float:
    import resource

    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def timed(fn, *a, **kw):  # type: ignore[no-untyped-def]
    t0 = time.perf_counter()
    out = fn(*a, **kw)
    return time.perf_counter() - t0, out


def line(name: str, seconds: float, floor: float | None = None, extra: str = "") -> None:
    verdict = "" if floor is None else ("  ok" if seconds < floor else "  OVER FLOOR")
    print(f"{name:<52} {seconds:8.3f} s{verdict}  {extra}")


def project_part(n: int, out: str) -> None:
    from steward.run.envops import create_env, plan, promote, rollback

    root, _, nodes = generate(n, out)
    ctx = Context(root)
    t, r = timed(ctx.run)
    print(f"initial build of {n} products: {t:.1f} s ({r.summary()['counts']})")
    # one non-breaking edit, then a plan in a new process; five times, at five places in
    # the graph (each edit adds to the ones before, as a day's work does)
    exe = Path(sys.executable).parent / "steward"
    times, cpus, docs = [], [], []
    for k in range(5):
        name = nodes[(n // 2 + k * n // 7) % n].name
        path = Path(root, "models", "m", f"{name}.sql")
        head, _, tail = path.read_text().partition("\nfrom ")
        path.write_text(f"{head}, {k} as extra_col{k}\nfrom {tail}")
        cpu0 = _child_cpu()
        t_cli, proc = timed(subprocess.run, [str(exe), "plan", "--json"], cwd=root,
                            capture_output=True, text=True)
        cpus.append(_child_cpu() - cpu0)
        assert proc.returncode == 0, proc.stderr
        times.append(t_cli)
        docs.append(json.loads(proc.stdout))
    doc = docs[0]
    cpu0 = _child_cpu()
    t_imp, _ = timed(subprocess.run, [sys.executable, "-c", "import steward.cli.entry, "
                                      "steward.cli.planview, steward.context, "
                                      "steward.run.envops, sqlglot.dialects.duckdb"], cwd=root)
    line("  of which: interpreter start + imports alone", t_imp, None,
         f"cpu {_child_cpu() - cpu0:.3f} s (sqlglot with its DuckDB dialect, yaml, Steward)")
    c0 = time.process_time()
    t_in, cp = timed(lambda: plan(Context(root)))
    cpu_in = time.process_time() - c0
    med = sorted(times)[len(times) // 2]
    line("plan after one edit (CLI process, incl. start-up)", max(times), 1.0,
         f"slowest of {len(times)}; median {med:.3f} s; each: "
         + ", ".join(f"{t:.2f}" for t in times) + f" s; cpu median "
         f"{sorted(cpus)[len(cpus) // 2]:.3f} s; first: build={doc['summary']['build']} "
         f"reuse={doc['summary']['reuse']} category={doc['changes'][0]['category']}")
    line("plan again, no edit (in process, load + plan)", t_in, 1.0,
         f"cpu {cpu_in:.3f} s; {len(cp.direct_changes())} changes")
    ctx = Context(root)
    assert ctx.run().ok  # apply the edit
    store = os.path.join(root, ".steward", "store")
    meta = os.path.join(root, ".steward", "meta.db")
    before, meta_before = tree_bytes(store), os.path.getsize(meta)
    t, k = timed(create_env, ctx, "dev", "prod")
    line(f"create dev from prod ({k} products)", t, 1.0,
         f"store bytes written: {tree_bytes(store) - before}; metastore grew "
         f"{os.path.getsize(meta) - meta_before} bytes (pointers)")
    # make dev differ on every product: rebuild all of them there
    t, r = timed(ctx.run, env="dev", full_refresh=True)
    print(f"(setup) full rebuild of dev: {t:.1f} s")
    c = Context(root)
    c.project, c.metastore  # noqa: B018  (load outside the timing, as for every verb)
    c0 = time.process_time()
    t, res = timed(promote, c, "dev", "prod", message="bench")
    line(f"promote dev -> prod ({len(res.moves)} products)", t, 1.0,
         f"cpu {time.process_time() - c0:.3f} s")
    c0 = time.process_time()
    t, (res, _) = timed(rollback, c, nodes[0].name, None, "prod", True, "bench")
    line(f"rollback root --downstream ({len(res.moves)} products)", t, 1.0,
         f"cpu {time.process_time() - c0:.3f} s")


def diff_part(rows: int, out: str) -> None:
    import duckdb

    from steward.core.records import Column, Version
    from steward.run.diff import diff_versions

    os.makedirs(out, exist_ok=True)
    a, b = os.path.join(out, "a.parquet"), os.path.join(out, "b.parquet")
    con = duckdb.connect()
    con.execute(f"""COPY (SELECT i AS id, i % 97 AS grp, (i * 7919) % 100003 / 3.0 AS val,
                    'name-' || (i % 1000) AS name FROM range({rows}) t(i))
                    TO '{a}' (FORMAT parquet)""")
    # 1 % of rows differ: 0.8 % changed values, 0.1 % removed, 0.1 % added
    con.execute(f"""COPY (
        SELECT id, grp, CASE WHEN id % 125 = 0 THEN val + 1 ELSE val END AS val, name
        FROM read_parquet('{a}') WHERE id % 1000 <> 1
        UNION ALL SELECT {rows} + i, 1, 1.0, 'new' FROM range({rows // 1000}) t(i)
        ) TO '{b}' (FORMAT parquet)""")
    schema = (Column("id", "BIGINT"), Column("grp", "BIGINT"), Column("val", "DOUBLE"),
              Column("name", "VARCHAR"))
    va = Version("A", "bench.t", "fa", "m", "published", out, schema, rows)
    vb = Version("B", "bench.t", "fb", "m", "published", out, schema, rows)
    engine_con = duckdb.connect()
    anti = f"""SELECT
      (SELECT count(*) FROM read_parquet('{a}') x ANTI JOIN read_parquet('{b}') y
         ON x.id = y.id AND x.grp = y.grp AND x.val = y.val AND x.name = y.name),
      (SELECT count(*) FROM read_parquet('{b}') y ANTI JOIN read_parquet('{a}') x
         ON x.id = y.id AND x.grp = y.grp AND x.val = y.val AND x.name = y.name)"""
    best_anti = best_diff = float("inf")
    for _ in range(3):
        t, got = timed(lambda: engine_con.execute(anti).fetchone())
        best_anti = min(best_anti, t)
        t, r = timed(diff_versions, engine_con, "bench.t", va, vb, [a], [b], ["id"])
        best_diff = min(best_diff, t)
    assert r.changed == -(-rows // 125)  # sanity: every changed row found
    line(f"hand-written anti-join, both ways ({rows:,} rows)", best_anti, None, f"-> {got}")
    line("steward keyed diff (counts, per-column, samples)", best_diff, best_anti * 1.5,
         f"ratio {best_diff / best_anti:.2f}x; added={r.added:,} removed={r.removed:,} "
         f"changed={r.changed:,}")


def sqlmesh_part(n: int, out: str, sqlmesh: str) -> None:
    """The same DAG as a SQLMesh project: plan a non-breaking edit, next to Steward's plan."""
    import shutil

    from generate import dag, sql, write_seed

    shutil.rmtree(out, ignore_errors=True)
    seed = os.path.join(out, "seed.csv")
    write_seed(seed)
    root = os.path.join(out, "sqlmesh")
    os.makedirs(os.path.join(root, "models"))
    Path(root, "config.yaml").write_text(
        "gateways:\n  local:\n    connection:\n      type: duckdb\n"
        f"      database: {os.path.join(root, 'db.duckdb')}\n"
        "default_gateway: local\nmodel_defaults:\n  dialect: duckdb\n")
    Path(root, "models", "seed.sql").write_text(
        "MODEL (name raw.seed, kind FULL);\nselect id::integer as id, grp::varchar as grp, "
        f"val::double as val from read_csv('{seed}', header = true)\n")
    nodes = dag(n)

    def ref(name: str) -> str:
        return "raw.seed" if name == "seed" else f"m.{name}"

    def write(i: int, extra: str = "") -> None:
        node = nodes[i - 1]
        body = sql(node, i, ref)
        if extra:
            head, _, tail = body.partition("\nfrom ")
            body = f"{head}{extra}\nfrom {tail}"
        Path(root, "models", f"{node.name}.sql").write_text(
            f"MODEL (name m.{node.name}, kind FULL);\n{body}")

    for i in range(1, n + 1):
        write(i)
    t, p = timed(subprocess.run, [sqlmesh, "plan", "--auto-apply", "--no-prompts"],
                 cwd=root, capture_output=True, text=True)
    print(f"(setup) sqlmesh initial plan + apply of {n} models: {t:.1f} s (rc {p.returncode})")
    write(n // 2, ", 1 as extra_col")
    c0 = _child_cpu()
    t, p = timed(subprocess.run, [sqlmesh, "plan", "dev", "--no-prompts", "--skip-tests"],
                 cwd=root, capture_output=True, text=True)
    tail = [ln for ln in p.stdout.splitlines() if "Non-breaking" in ln or "Breaking" in ln]
    line(f"sqlmesh plan dev after one edit ({n} models)", t, None,
         f"cpu {_child_cpu() - c0:.3f} s; {tail[:1]}"
         + (" (rc 1: stops at the apply prompt after printing the plan)"
            if p.returncode == 1 else f" rc {p.returncode}"))
    # Steward on the same DAG and edit, for the ratio
    st, _, _ = generate(n, os.path.join(out, "steward-gen"))
    assert Context(st).run().ok
    path = Path(st, "models", "m", f"{nodes[n // 2 - 1].name}.sql")
    head, _, tail_sql = path.read_text().partition("\nfrom ")
    path.write_text(f"{head}, 1 as extra_col\nfrom {tail_sql}")
    exe = Path(sys.executable).parent / "steward"
    c0 = _child_cpu()
    t2, p = timed(subprocess.run, [str(exe), "plan"], cwd=st, capture_output=True, text=True)
    line(f"steward plan after the same edit ({n} products)", t2, None,
         f"cpu {_child_cpu() - c0:.3f} s; sqlmesh/steward wall ratio {t / t2:.2f}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--products", type=int, default=1000)
    ap.add_argument("--rows", type=int, default=5_000_000)
    ap.add_argument("--out", default=str(HERE / "_work" / "changes"))
    ap.add_argument("--skip-project", action="store_true")
    ap.add_argument("--skip-diff", action="store_true")
    ap.add_argument("--sqlmesh", default=None,
                    help="path to a sqlmesh executable (its own venv) to compare plans")
    ap.add_argument("--sqlmesh-products", type=int, default=200)
    args = ap.parse_args()
    from run import prepare_bytecode

    prepare_bytecode()
    print(f"cores: {os.cpu_count()}, python {sys.version.split()[0]}")
    if not args.skip_project:
        project_part(args.products, os.path.join(args.out, f"n{args.products}"))
    if not args.skip_diff:
        diff_part(args.rows, os.path.join(args.out, "diff"))
    if args.sqlmesh:
        sqlmesh_part(args.sqlmesh_products, os.path.join(args.out, "sqlmesh"), args.sqlmesh)
    else:
        print("sqlmesh: not measured (pass --sqlmesh PATH; it installs from PyPI into its "
              "own venv in about 2 minutes)")


if __name__ == "__main__":
    main()
