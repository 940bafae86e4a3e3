"""Generate a synthetic project of N trivial SQL products, for Steward and for dbt-duckdb.

Both projects describe the same DAG over the same data:

- one source of 1,000 rows (``data/seed.csv``: ``id, grp, val``), read by Steward as a
  file source and by dbt as a model over ``read_csv`` (dbt seeds would load it into the
  database first, an extra step Steward does not have);
- N products ``p0001 .. pN``; product ``i`` reads one or two earlier products (or the
  source), chosen with a fixed random seed among the previous ``WINDOW`` ones, so the
  graph is a few dozen levels deep and has many leaves;
- every product keeps 1,000 rows: a projection of one parent, or a join of two on ``id``;
- dbt materialises every model as a table (its default, a view, would build nothing), in
  one DuckDB file, with as many threads as Steward has workers.

Three variants of the data (``--variant``), over the same DAG:

- ``trivial``: ``id INTEGER, grp VARCHAR, val DOUBLE``, no NULLs (the original shape);
- ``decimal``: the same, with ``val`` a money column, ``DECIMAL(18,3)`` (``id * 1.5``);
- ``real``: the column types real products carry, with NULLs: ``id BIGINT, grp
  VARCHAR, amount DECIMAL(12,2), score DOUBLE, day DATE, ts TIMESTAMP, flag BOOLEAN``;
  every fifth product is an aggregation (a leaf: ``GROUP BY grp, day``), the others
  projections with expressions on every column or joins of two on ``id``.

    python benchmarks/generate.py 200 benchmarks/_work/n200 [--variant real]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
from collections.abc import Callable
from dataclasses import dataclass

ROWS = 1_000
WINDOW = 50
SEED = 42
VARIANTS = ("trivial", "decimal", "real")
AGG_EVERY = 5  # real variant: every fifth product is an aggregation, read by no other

# the seed's columns per variant: (name, SQL type)
COLUMNS = {
    "trivial": (("id", "INTEGER"), ("grp", "VARCHAR"), ("val", "DOUBLE")),
    "decimal": (("id", "INTEGER"), ("grp", "VARCHAR"), ("val", "DECIMAL(18,3)")),
    "real": (("id", "BIGINT"), ("grp", "VARCHAR"), ("amount", "DECIMAL(12,2)"),
             ("score", "DOUBLE"), ("day", "DATE"), ("ts", "TIMESTAMP"),
             ("flag", "BOOLEAN")),
}


@dataclass(frozen=True)
class Node:
    name: str
    parents: tuple[str, ...]  # product names, or "seed" for the source
    agg: bool = False  # an aggregation (real variant), never a parent


def dag(n: int, seed: int = SEED, variant: str = "trivial") -> list[Node]:
    """The products in topological order, each with one or two parents."""
    rng = random.Random(seed)
    nodes: list[Node] = []
    for i in range(1, n + 1):
        earlier = [x.name for x in nodes[-WINDOW:] if not x.agg]
        if not earlier:
            parents: tuple[str, ...] = ("seed",)
        elif len(earlier) >= 2 and rng.random() < 0.5:
            parents = tuple(rng.sample(earlier, 2))
        else:
            parents = (rng.choice(earlier),)
        agg = variant == "real" and i % AGG_EVERY == 0 and bool(earlier)
        nodes.append(Node(f"p{i:04d}", parents, agg and len(parents) == 1))
    return nodes


def leaves(nodes: list[Node]) -> list[str]:
    used = {p for x in nodes for p in x.parents}
    return [x.name for x in nodes if x.name not in used]


def sql(node: Node, i: int, ref: Callable[[str], str], constant: int | None = None,
        variant: str = "trivial") -> str:
    """The product's SELECT; ``ref(name)`` spells a reference in the target tool."""
    k = i if constant is None else constant
    if variant == "real":
        return _real_sql(node, k, ref)
    if variant == "decimal":
        if len(node.parents) == 1:
            return (f"-- product {node.name}\n"
                    f"select id, grp, (val + {k})::DECIMAL(18,3) as val\n"
                    f"from {ref(node.parents[0])}\n")
        a, b = node.parents
        return (f"-- product {node.name}\n"
                f"select a.id, a.grp, (a.val + b.val * 0.5 + {k})::DECIMAL(18,3) as val\n"
                f"from {ref(a)} as a\njoin {ref(b)} as b on a.id = b.id\n")
    if len(node.parents) == 1:
        return (f"-- product {node.name}\n"
                f"select id, grp, val + {k} as val\nfrom {ref(node.parents[0])}\n")
    a, b = node.parents
    return (f"-- product {node.name}\n"
            f"select a.id, a.grp, a.val + b.val * 0.5 + {k} as val\n"
            f"from {ref(a)} as a\njoin {ref(b)} as b on a.id = b.id\n")


def _real_sql(node: Node, k: int, ref: Callable[[str], str]) -> str:
    head = f"-- product {node.name}\n"
    if node.agg:
        return (head + "select grp, day, count(*) as n, sum(amount) as amount,\n"
                "       avg(score) as score, max(ts) as last_ts, bool_or(flag) as any_flag\n"
                f"from {ref(node.parents[0])}\ngroup by grp, day\n")
    if len(node.parents) == 1:
        return (head + f"select id, upper(grp) as grp, (amount + {k}.25)::DECIMAL(12,2)"
                " as amount,\n"
                f"       score * 1.01 + {k} as score, day + {k % 7} as day,\n"
                f"       ts + interval {k % 60} minute as ts, not flag as flag\n"
                f"from {ref(node.parents[0])}\nwhere id >= 0\n")
    a, b = node.parents
    return (head + "select a.id, coalesce(a.grp, b.grp) as grp,\n"
            f"       ((a.amount + b.amount) * 0.5 + {k})::DECIMAL(12,2) as amount,\n"
            "       (a.score + b.score) * 0.5 as score, a.day, b.ts,\n"
            "       a.flag and b.flag as flag\n"
            f"from {ref(a)} as a\njoin {ref(b)} as b on a.id = b.id\n")


def _seed_row(i: int, rng: random.Random, variant: str) -> str:
    if variant == "trivial":
        return f"{i},g{i % 10},{rng.random():.6f}"
    if variant == "decimal":
        return f"{i},g{i % 10},{i * 1.5:.3f}"
    def null(v: str) -> str:  # about 5 % NULLs per column
        return "" if rng.random() < 0.05 else v

    day = 18000 + i % 400
    ts = f"2026-{1 + i % 12:02d}-{1 + i % 28:02d} {i % 24:02d}:{i % 60:02d}:{(i * 7) % 60:02d}"
    return ",".join([
        str(i), null(f"g{i % 10}"), null(f"{rng.uniform(-500, 5000):.2f}"),
        null(f"{rng.gauss(50, 20):.6f}"),
        null(f"{1970 + day // 365}-{1 + day % 12:02d}-{1 + day % 28:02d}"),
        null(ts),
        null("true" if rng.random() < 0.3 else "false")])


def write_seed(path: str, variant: str = "trivial") -> None:
    rng = random.Random(SEED)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(",".join(n for n, _ in COLUMNS[variant]) + "\n")
        for i in range(ROWS):
            f.write(_seed_row(i, rng, variant) + "\n")


def steward_ref(name: str) -> str:
    return "raw.seed" if name == "seed" else f"m.{name}"


def dbt_ref(name: str) -> str:
    return "{{ ref('seed_src') }}" if name == "seed" else "{{ ref('" + name + "') }}"


def write_steward(root: str, nodes: list[Node], seed_csv: str,
                  variant: str = "trivial") -> None:
    os.makedirs(os.path.join(root, "models", "m"), exist_ok=True)
    os.makedirs(os.path.join(root, "sources"), exist_ok=True)
    with open(os.path.join(root, "steward.yaml"), "w") as f:
        f.write("name: bench\ndefaults:\n  owner: bench@example.com\n")
    with open(os.path.join(root, "sources", "raw.yml"), "w") as f:
        f.write(f"sources:\n  raw.seed:\n    path: {seed_csv}\n    columns:\n"
                + "".join(f"      {n}: {{type: '{t}'}}\n" for n, t in COLUMNS[variant]))
    for i, node in enumerate(nodes, 1):
        with open(os.path.join(root, "models", "m", f"{node.name}.sql"), "w") as f:
            f.write(sql(node, i, steward_ref, variant=variant))


def write_dbt(root: str, nodes: list[Node], seed_csv: str, threads: int,
              variant: str = "trivial") -> None:
    models = os.path.join(root, "models")
    os.makedirs(models, exist_ok=True)
    with open(os.path.join(root, "dbt_project.yml"), "w") as f:
        f.write("name: bench\nversion: '1.0'\nconfig-version: 2\nprofile: bench\n"
                "model-paths: [models]\nmodels:\n  bench:\n    +materialized: table\n")
    with open(os.path.join(root, "profiles.yml"), "w") as f:
        f.write("bench:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n"
                f"      path: {os.path.join(root, 'bench.duckdb')}\n      threads: {threads}\n")
    with open(os.path.join(models, "seed_src.sql"), "w") as f:
        cols = ", ".join(f"{n}::{t} as {n}" for n, t in COLUMNS[variant])
        f.write(f"select {cols}\nfrom read_csv('{seed_csv}', header = true)\n")
    for i, node in enumerate(nodes, 1):
        with open(os.path.join(models, f"{node.name}.sql"), "w") as f:
            f.write(sql(node, i, dbt_ref, variant=variant))


def edit_leaf(root_steward: str, root_dbt: str, nodes: list[Node], name: str,
              constant: int, variant: str = "trivial") -> None:
    """Change one product's SQL (its constant) in both projects."""
    i, node = next((i, x) for i, x in enumerate(nodes, 1) if x.name == name)
    with open(os.path.join(root_steward, "models", "m", f"{name}.sql"), "w") as f:
        f.write(sql(node, i, steward_ref, constant, variant))
    with open(os.path.join(root_dbt, "models", f"{name}.sql"), "w") as f:
        f.write(sql(node, i, dbt_ref, constant, variant))


def generate(n: int, out: str, threads: int | None = None,
             variant: str = "trivial") -> tuple[str, str, list[Node]]:
    """Write both projects under ``out`` (replacing it); returns their roots and the DAG."""
    if variant not in VARIANTS:
        raise ValueError(f"variant {variant!r}: one of {', '.join(VARIANTS)}")
    out = os.path.abspath(out)
    shutil.rmtree(out, ignore_errors=True)
    seed_csv = os.path.join(out, "data", "seed.csv")
    write_seed(seed_csv, variant)
    nodes = dag(n, variant=variant)
    st, dbt = os.path.join(out, "steward"), os.path.join(out, "dbt")
    write_steward(st, nodes, seed_csv, variant)
    write_dbt(dbt, nodes, seed_csv, threads or os.cpu_count() or 1, variant)
    return st, dbt, nodes


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("n", type=int, help="number of products")
    ap.add_argument("out", help="folder to write (replaced)")
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--variant", choices=VARIANTS, default="trivial")
    args = ap.parse_args()
    st, dbt, nodes = generate(args.n, args.out, args.threads, args.variant)
    print(f"{len(nodes)} products, {len(leaves(nodes))} leaves\n  steward: {st}\n  dbt: {dbt}")


if __name__ == "__main__":
    main()
