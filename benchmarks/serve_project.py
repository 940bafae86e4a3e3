"""A catalog-sized project for the server benchmarks: N documented products in 10 domains.

The DAG and the SQL are ``generate.py``'s; each product also gets a sidecar with a
description, an owner per domain, tags and documented columns (``grp`` classified as
personal data), and the project is built twice (the second time after editing some
leaves) so products have a version history, profiles and metric series.

    python benchmarks/serve_project.py 1000 benchmarks/_work/serve1000
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from generate import dag, sql, write_seed  # noqa: E402

DOMAINS = 10


def domain_of(i: int) -> str:
    return f"d{i % DOMAINS}"


def write_project(root: str, n: int, constant: int | None = None, edited: int = 0) -> list[str]:
    """Write (or rewrite) the project; the first ``edited`` leaves get ``constant``."""
    nodes = dag(n)
    seed_csv = os.path.join(root, "data", "seed.csv")
    if not os.path.exists(seed_csv):
        write_seed(seed_csv)
    os.makedirs(os.path.join(root, "sources"), exist_ok=True)
    with open(os.path.join(root, "steward.yaml"), "w") as f:
        f.write("name: catalog\ndefaults:\n  owner: platform@example.com\n")
    with open(os.path.join(root, "sources", "raw.yml"), "w") as f:
        f.write("sources:\n  raw.seed:\n    path: data/seed.csv\n"
                "    description: The seed rows every product derives from.\n"
                "    columns:\n      id: {type: INTEGER, description: Row id}\n"
                "      grp: {type: VARCHAR, description: Group, classification: pii}\n"
                "      val: {type: DOUBLE, description: A value}\n")
    names = {x.name: f"{domain_of(i)}.{x.name}" for i, x in enumerate(nodes, 1)}
    used = {p for x in nodes for p in x.parents}
    leaves = [x.name for x in nodes if x.name not in used]
    for i, node in enumerate(nodes, 1):
        d = domain_of(i)
        folder = os.path.join(root, "models", d)
        os.makedirs(folder, exist_ok=True)

        def ref(name: str) -> str:
            return "raw.seed" if name == "seed" else names[name]

        c = constant if node.name in leaves[:edited] else None
        with open(os.path.join(folder, f"{node.name}.sql"), "w") as f:
            f.write(sql(node, i, ref, c))
        with open(os.path.join(folder, f"{node.name}.yml"), "w") as f:
            f.write(f"description: Product {node.name} of domain {d}, derived from "
                    f"{', '.join(ref(p) for p in node.parents)}.\n"
                    f"owner: team-{d}@example.com\ntags: [bench, {d}]\n"
                    "columns:\n  id: {description: Row id, checks: [not_null]}\n"
                    "  grp: {description: Group of the row}\n"
                    "  val: {description: Value of the row}\n")
    return [names[x] for x in leaves]


def build(root: str, n: int) -> dict[str, float]:
    from steward.context import Context

    shutil.rmtree(root, ignore_errors=True)
    t = time.perf_counter()
    write_project(root, n)
    assert Context(root).run().ok
    first = time.perf_counter() - t
    t = time.perf_counter()
    write_project(root, n, constant=7, edited=max(1, n // 20))
    assert Context(root).run().ok
    assert Context(root).run(env="dev").ok
    return {"first_build_s": first, "second_build_s": time.perf_counter() - t}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("n", type=int)
    ap.add_argument("out")
    args = ap.parse_args()
    print(build(os.path.abspath(args.out), args.n))


if __name__ == "__main__":
    main()
