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

    python benchmarks/generate.py 200 benchmarks/_work/n200
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


@dataclass(frozen=True)
class Node:
    name: str
    parents: tuple[str, ...]  # product names, or "seed" for the source


def dag(n: int, seed: int = SEED) -> list[Node]:
    """The products in topological order, each with one or two parents."""
    rng = random.Random(seed)
    nodes: list[Node] = []
    for i in range(1, n + 1):
        earlier = [x.name for x in nodes[-WINDOW:]]
        if not earlier:
            parents: tuple[str, ...] = ("seed",)
        elif len(earlier) >= 2 and rng.random() < 0.5:
            parents = tuple(rng.sample(earlier, 2))
        else:
            parents = (rng.choice(earlier),)
        nodes.append(Node(f"p{i:04d}", parents))
    return nodes


def leaves(nodes: list[Node]) -> list[str]:
    used = {p for x in nodes for p in x.parents}
    return [x.name for x in nodes if x.name not in used]


def sql(node: Node, i: int, ref: Callable[[str], str], constant: int | None = None) -> str:
    """The product's SELECT; ``ref(name)`` spells a reference in the target tool."""
    k = i if constant is None else constant
    if len(node.parents) == 1:
        return (f"-- product {node.name}\n"
                f"select id, grp, val + {k} as val\nfrom {ref(node.parents[0])}\n")
    a, b = node.parents
    return (f"-- product {node.name}\n"
            f"select a.id, a.grp, a.val + b.val * 0.5 + {k} as val\n"
            f"from {ref(a)} as a\njoin {ref(b)} as b on a.id = b.id\n")


def write_seed(path: str) -> None:
    rng = random.Random(SEED)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write("id,grp,val\n")
        for i in range(ROWS):
            f.write(f"{i},g{i % 10},{rng.random():.6f}\n")


def steward_ref(name: str) -> str:
    return "raw.seed" if name == "seed" else f"m.{name}"


def dbt_ref(name: str) -> str:
    return "{{ ref('seed_src') }}" if name == "seed" else "{{ ref('" + name + "') }}"


def write_steward(root: str, nodes: list[Node], seed_csv: str) -> None:
    os.makedirs(os.path.join(root, "models", "m"), exist_ok=True)
    os.makedirs(os.path.join(root, "sources"), exist_ok=True)
    with open(os.path.join(root, "steward.yaml"), "w") as f:
        f.write("name: bench\ndefaults:\n  owner: bench@example.com\n")
    with open(os.path.join(root, "sources", "raw.yml"), "w") as f:
        f.write(f"sources:\n  raw.seed:\n    path: {seed_csv}\n"
                "    columns:\n      id: {type: INTEGER}\n      grp: {type: VARCHAR}\n"
                "      val: {type: DOUBLE}\n")
    for i, node in enumerate(nodes, 1):
        with open(os.path.join(root, "models", "m", f"{node.name}.sql"), "w") as f:
            f.write(sql(node, i, steward_ref))


def write_dbt(root: str, nodes: list[Node], seed_csv: str, threads: int) -> None:
    models = os.path.join(root, "models")
    os.makedirs(models, exist_ok=True)
    with open(os.path.join(root, "dbt_project.yml"), "w") as f:
        f.write("name: bench\nversion: '1.0'\nconfig-version: 2\nprofile: bench\n"
                "model-paths: [models]\nmodels:\n  bench:\n    +materialized: table\n")
    with open(os.path.join(root, "profiles.yml"), "w") as f:
        f.write("bench:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n"
                f"      path: {os.path.join(root, 'bench.duckdb')}\n      threads: {threads}\n")
    with open(os.path.join(models, "seed_src.sql"), "w") as f:
        f.write("select id::integer as id, grp::varchar as grp, val::double as val\n"
                f"from read_csv('{seed_csv}', header = true)\n")
    for i, node in enumerate(nodes, 1):
        with open(os.path.join(models, f"{node.name}.sql"), "w") as f:
            f.write(sql(node, i, dbt_ref))


def edit_leaf(root_steward: str, root_dbt: str, nodes: list[Node], name: str,
              constant: int) -> None:
    """Change one product's SQL (its constant) in both projects."""
    i, node = next((i, x) for i, x in enumerate(nodes, 1) if x.name == name)
    with open(os.path.join(root_steward, "models", "m", f"{name}.sql"), "w") as f:
        f.write(sql(node, i, steward_ref, constant))
    with open(os.path.join(root_dbt, "models", f"{name}.sql"), "w") as f:
        f.write(sql(node, i, dbt_ref, constant))


def generate(n: int, out: str, threads: int | None = None) -> tuple[str, str, list[Node]]:
    """Write both projects under ``out`` (replacing it); returns their roots and the DAG."""
    out = os.path.abspath(out)
    shutil.rmtree(out, ignore_errors=True)
    seed_csv = os.path.join(out, "data", "seed.csv")
    write_seed(seed_csv)
    nodes = dag(n)
    st, dbt = os.path.join(out, "steward"), os.path.join(out, "dbt")
    write_steward(st, nodes, seed_csv)
    write_dbt(dbt, nodes, seed_csv, threads or os.cpu_count() or 1)
    return st, dbt, nodes


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("n", type=int, help="number of products")
    ap.add_argument("out", help="folder to write (replaced)")
    ap.add_argument("--threads", type=int, default=None)
    args = ap.parse_args()
    st, dbt, nodes = generate(args.n, args.out, args.threads)
    print(f"{len(nodes)} products, {len(leaves(nodes))} leaves\n  steward: {st}\n  dbt: {dbt}")


if __name__ == "__main__":
    main()
