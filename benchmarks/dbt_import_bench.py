"""`steward import dbt` on a synthetic dbt project of N models (Jinja rendered, no
manifest): every model calls a macro, `ref`s two earlier models and has a schema.yml
entry with tests; sources read CSV files. Floor: 500 models convert in under 10 s.

    python benchmarks/dbt_import_bench.py [--models 500]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time

from steward.interop.dbt.convert import import_dbt

FLOOR_SECONDS = 10.0


def generate(root: str, n: int) -> None:
    os.makedirs(os.path.join(root, "macros"))
    os.makedirs(os.path.join(root, "data"))
    with open(os.path.join(root, "dbt_project.yml"), "w") as f:
        f.write("name: big\nprofile: big\nconfig-version: 2\nvars: {scale: 2}\n"
                "models:\n  big:\n    +materialized: table\n    staging: {+tags: [staging]}\n")
    with open(os.path.join(root, "macros", "money.sql"), "w") as f:
        f.write("{% macro money(col, scale=2) -%}\n  round({{ col }} / 100.0, {{ scale }})\n"
                "{%- endmacro %}\n")
    with open(os.path.join(root, "data", "raw.csv"), "w") as f:
        f.write("id,amount\n1,100\n")
    sources = ["version: 2\nsources:\n  - name: raw\n    meta:\n"
               "      external_location: \"read_csv('data/{name}.csv')\"\n    tables:\n"]
    sources += [f"      - name: t{i}\n" for i in range(10)]
    for i in range(n):
        folder = "staging" if i < n // 2 else f"marts/area{i % 10}"
        d = os.path.join(root, "models", folder)
        os.makedirs(d, exist_ok=True)
        if i < 10:
            src = f"{{{{ source('raw', 't{i}') }}}}"
            body = f"select id, {{{{ money('amount', var('scale')) }}}} as amount from {src}"
        else:
            a, b = (i * 7) % i, (i * 13) % i
            body = (f"{{{{ config(tags=['m{i % 5}']) }}}}\n"
                    f"select a.id, {{{{ money('a.amount') }}}} + b.amount as amount\n"
                    f"from {{{{ ref('m{a}') }}}} as a\n"
                    f"join {{{{ ref('m{b}') }}}} as b using (id)\n"
                    f"{{% if var('scale') > 1 %}}where a.amount > 0{{% endif %}}")
        with open(os.path.join(d, f"m{i}.sql"), "w") as f:
            f.write(body + "\n")
        with open(os.path.join(d, f"m{i}.yml"), "w") as f:
            f.write(f"version: 2\nmodels:\n  - name: m{i}\n    description: Model {i}.\n"
                    f"    config: {{meta: {{owner: team{i % 7}@example.com}}}}\n"
                    "    columns:\n      - name: id\n        data_tests: [unique, not_null]\n"
                    "      - name: amount\n        data_tests:\n"
                    "          - accepted_values:\n              arguments: {values: [1, 2]}\n"
                    "              config: {severity: warn}\n")
    with open(os.path.join(root, "models", "staging", "_sources.yml"), "w") as f:
        f.write("".join(sources))


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--models", type=int, default=500)
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="steward-dbtimport-")
    try:
        src = os.path.join(work, "dbt")
        generate(src, args.models)
        t = time.perf_counter()
        report = import_dbt(src, os.path.join(work, "steward"))
        took = time.perf_counter() - t
        assert report.models == args.models, (report.models, report.not_converted[:3])
        ok = took < FLOOR_SECONDS
        print(f"steward import dbt: {args.models} models, {report.checks} checks in "
              f"{took:.2f} s (floor {FLOOR_SECONDS:.0f} s for 500): "
              f"{'ok' if ok or args.models != 500 else 'ABOVE FLOOR'}")
        return 0 if ok else 1
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
