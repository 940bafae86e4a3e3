"""The dbt import's pieces on small projects written here (no dbt needed)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
import yaml

from steward.core.errors import ConfigError
from steward.interop.dbt.convert import import_dbt


def dbt_project(root: Path, files: dict[str, str]) -> Path:
    files = {"dbt_project.yml": "name: shop\nprofile: shop\nvars: {cutoff: 10}\n", **files}
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return root


def sidecar(out: Path, rel: str) -> dict:
    return yaml.safe_load((out / rel).read_text()) or {}


def test_macros_dispatch_return_and_docs_blocks_render(tmp_path: Path) -> None:
    src = dbt_project(tmp_path / "dbt", {
        "macros/m.sql": """\
            {% macro default__cents(col) %}({{ col }} / 100){% endmacro %}
            {% macro cents(col) %}{{ return(adapter.dispatch('cents')(col)) }}{% endmacro %}
            {% macro pick(x) %}{% do return(x * 2) %}{% endmacro %}
            """,
        "models/docs.md": "{% docs amount_doc %}Paid, in dollars.{% enddocs %}\n",
        "models/stg/a.sql": "select {{ cents('amount') }} as amount, {{ pick(var('cutoff')) }}"
                            " as n, {{ dbt.concat(['a', 'b']) }} as ab from {{ ref('b') }}\n",
        "models/stg/b.sql": "select 1 as amount, 'x' as a, 'y' as b\n",
        "models/stg/schema.yml": """\
            version: 2
            models:
              - name: a
                columns:
                  - name: amount
                    description: "{{ doc('amount_doc') }}"
            """,
    })
    report = import_dbt(str(src), str(tmp_path / "out"))
    sql = (tmp_path / "out" / "models" / "stg" / "a.sql").read_text()
    assert "(amount / 100) as amount" in sql and "20 as n" in sql
    assert "(a) || (b) as ab" in sql and "from stg.b" in sql
    assert sidecar(tmp_path / "out", "models/stg/a.yml")["columns"]["amount"][
        "description"] == "Paid, in dollars."
    assert report.not_converted == []


def test_errors_point_at_the_file_and_line_where_they_happen(tmp_path: Path) -> None:
    src = dbt_project(tmp_path / "dbt", {
        "macros/broken.sql": "{% macro broken() %}\n  {% if %}\n{% endmacro %}\n",
        "macros/deep.sql": "{% macro outer() %}{{ inner() }}{% endmacro %}\n"
                           "{% macro inner() %}\n\n  {{ no_such_thing() }}\n{% endmacro %}\n",
        "models/a.sql": "select 1 as x\n-- a\n{{ outer() }}\n",
        "models/b.sql": "select 1 as x\n{{ ref('missing') }}\n",
        "models/c.py": "def model(dbt, session):\n    return None\n",
        "models/d.sql": "{{ config(pre_hook='grant select on x to y', alias='dd') }}\n"
                        "select 1 as x\n",
        "models/props.yml": """\
            version: 2
            metrics:
              - name: revenue
            unit_tests:
              - name: t1
            """,
    })
    report = import_dbt(str(src), str(tmp_path / "out"))
    found = {(p.file, p.line): p.message for p in report.not_converted}
    assert ("macros/broken.sql", 2) in found  # a syntax error in a macro file
    assert ("macros/deep.sql", 4) in found and "no_such_thing" in found[("macros/deep.sql", 4)]
    assert ("models/b.sql", 2) in found and "missing" in found[("models/b.sql", 2)]
    assert ("models/c.py", 1) in found
    assert any(f == "models/d.sql" and "pre_hook" in m for (f, _), m in found.items())
    assert ("models/props.yml", 3) in found and ("models/props.yml", 5) in found
    notes = [p.message for p in report.notes]
    assert any("alias 'dd'" in n for n in notes)
    assert report.models == 1  # d.sql; the rest is listed
    listed = (tmp_path / "out" / "IMPORTED_FROM_DBT.md").read_text()
    assert "macros/deep.sql:4" in listed and "models/props.yml:5" in listed


def test_sources_keep_their_location_options_and_freshness(tmp_path: Path) -> None:
    (tmp_path / "dbt" / "lake").mkdir(parents=True)
    (tmp_path / "dbt" / "lake" / "events.parquet").write_bytes(b"")
    src = dbt_project(tmp_path / "dbt", {
        "models/sources.yml": """\
            version: 2
            sources:
              - name: lake
                loaded_at_field: loaded_at
                freshness: {error_after: {count: 30, period: minute}}
                tables:
                  - name: events
                    meta: {external_location: "lake/{name}.parquet", owner: ops@example.com}
                  - name: users
                    config:
                      external_location: "read_csv('lake/{name}.tsv', delim = '\\t', header = true)"
                    freshness: {warn_after: {count: 1, period: day}}
                  - name: nowhere
            """,
    })
    report = import_dbt(str(src), str(tmp_path / "out"))
    sources = yaml.safe_load((tmp_path / "out" / "sources" / "lake.yml").read_text())["sources"]
    ev, us = sources["lake.events"], sources["lake.users"]
    assert ev["path"] == "../dbt/lake/events.parquet" and ev["owner"] == "ops@example.com"
    assert ev["freshness"] == {"column": "loaded_at", "error_after": "30m"}
    assert us["format"] == "csv" and us["options"] == {"delim": "\t", "header": True}
    assert us["freshness"] == {"column": "loaded_at", "warn_after": "1d"}
    missing = [p for p in report.not_converted if "lake.nowhere" in p.message]
    assert missing and missing[0].file == "models/sources.yml" and missing[0].line == 13


def test_test_configs_map_or_are_listed(tmp_path: Path) -> None:
    src = dbt_project(tmp_path / "dbt", {
        "models/a.sql": "select 1 as id, 'x' as kind\n",
        "models/schema.yml": """\
            version: 2
            models:
              - name: a
                columns:
                  - name: id
                    tests:
                      - unique: {config: {error_if: ">5", store_failures: true}}
                      - not_null: {where: "kind = 'x'"}
                      - accepted_values: {values: [1], config: {error_if: "<3"}}
                      - relationships: {to: "source('raw', 'ids')", field: id, enabled: false}
            """,
    })
    report = import_dbt(str(src), str(tmp_path / "out"))
    checks = sidecar(tmp_path / "out", "models/a.yml")["columns"]["id"]["checks"]
    assert checks[0] == {"unique": {"max_failures": 5}}
    assert checks[1] == {"expression": {"expression": "not (kind = 'x') or id is not null",
                                        "name": "not_null_id"}}
    assert len(checks) == 2
    assert [p.line for p in report.not_converted] == [9]  # error_if "<3"
    notes = " ".join(p.message for p in report.notes)
    assert "store_failures" in notes and "disabled" in notes


def test_manifest_of_another_project_version_or_broken_json_is_refused(tmp_path: Path) -> None:
    src = dbt_project(tmp_path / "dbt", {"models/a.sql": "select 1 as x\n",
                                         "target/manifest.json": "{not json"})
    with pytest.raises(ConfigError) as e:
        import_dbt(str(src), str(tmp_path / "out"))
    assert "cannot read the dbt manifest" in str(e.value)
    # --no-manifest renders the Jinja instead
    report = import_dbt(str(src), str(tmp_path / "out"), use_manifest=False)
    assert report.models == 1 and report.used_manifest is None


def test_not_a_dbt_project_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as e:
        import_dbt(str(tmp_path), str(tmp_path / "out"))
    assert "no dbt_project.yml" in str(e.value)
