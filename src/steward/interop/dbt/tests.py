"""dbt's generic tests as Steward checks.

dbt's built-in tests and the common ``dbt_utils`` ones map to Steward's check kinds (each
kind names the dbt tests that are its own: ``Kind.from_dbt``) or to expressions and
queries doing the same; a generic test the project defines itself (``{% test
name(model, column_name) %}``) is rendered into a custom SQL check whose query returns
the failing rows, as dbt's does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, NoReturn

from steward.core.sqltext import sql_value
from steward.interop.dbt.render import Relation, Renderer, RenderError

THIS = "{{ this }}"
_TEST_CONFIG = frozenset({"severity", "where", "error_if", "warn_if", "limit", "tags", "meta",
                          "enabled", "store_failures", "store_failures_as", "fail_calc",
                          "alias", "schema", "database", "group"})
_IGNORED = frozenset({"tags", "meta", "store_failures", "store_failures_as", "limit", "alias",
                      "schema", "database", "group"})
_REF = re.compile(r"""^\s*ref\(\s*['"]([\w.-]+)['"]\s*(?:,\s*['"]([\w.-]+)['"]\s*)?\)\s*$""")
_SOURCE = re.compile(r"""^\s*source\(\s*['"]([\w.-]+)['"]\s*,\s*['"]([\w.-]+)['"]\s*\)\s*$""")


class NotConverted(Exception):  # noqa: N818
    """A test with no Steward equivalent; the message says why."""


@dataclass
class TestEntry:
    name: str
    package: str | None
    args: dict[str, Any]
    config: dict[str, Any]
    custom_name: str | None
    description: str | None


def parse_entry(entry: Any) -> TestEntry:
    """One item of a ``data_tests:`` / ``tests:`` list, in any of dbt's spellings."""
    if isinstance(entry, str):
        body: dict[str, Any] = {}
        full = entry
    elif isinstance(entry, dict) and "test_name" in entry:
        full, body = str(entry["test_name"]), {k: v for k, v in entry.items() if k != "test_name"}
    elif isinstance(entry, dict) and len(entry) == 1:
        (full, body), = entry.items()
        body = dict(body or {})
    else:
        raise NotConverted(f"a test written as {entry!r} is not understood")
    config = dict(body.get("config") or {})
    for k in _TEST_CONFIG & set(body):
        config.setdefault(k, body[k])
    if isinstance(body.get("arguments"), dict):
        args = dict(body["arguments"])
    else:
        args = {k: v for k, v in body.items()
                if k not in _TEST_CONFIG | {"config", "arguments", "name", "description"}}
    package, _, name = full.rpartition(".")
    return TestEntry(name, package or None, args, config, body.get("name"),
                     body.get("description"))


def relation_of(text: Any, resolve_ref: Any, resolve_source: Any) -> str:
    """``ref('x')`` / ``source('a', 'b')`` as written in a test argument: the product."""
    s = str(text).strip()
    if s.startswith("{{") and s.endswith("}}"):
        s = s[2:-2]
    m = _REF.match(s)
    if m:
        return str(resolve_ref(m.group(2) or m.group(1)))
    m = _SOURCE.match(s)
    if m:
        return str(resolve_source(m.group(1), m.group(2)))
    raise NotConverted(f"cannot tell which model {text!r} names (write ref('...'))")


def to_check(test: TestEntry, column: str | None, renderer: Renderer, file: str,
             resolve_ref: Any, resolve_source: Any) -> tuple[dict[str, Any] | None, list[str]]:
    """The Steward check for ``test`` (on ``column`` when given) and notes on what was
    left out. ``None`` when the test is disabled. Raises :class:`NotConverted`."""
    cfg, notes = test.config, []
    if cfg.get("enabled") is False:
        return None, ["disabled test not converted"]
    args = {k: _arg(v, renderer, file) for k, v in test.args.items()}
    column = args.pop("column_name", None) or column
    where = cfg.get("where")
    check = _builtin(test, column, args, where, resolve_ref, resolve_source)
    if check is None:
        if not renderer.has_test(test.name, test.package):
            label = f"{test.package}.{test.name}" if test.package else test.name
            raise NotConverted(f"generic test '{label}' has no Steward equivalent and its "
                               "macro is not in the project")
        model = Relation(f"(select * from {THIS} where {where}) as dbt_subquery"
                         if where else THIS)
        kwargs = {"model": model, **({"column_name": column} if column else {}), **args}
        try:
            query = renderer.call_test(test.name, file, test.package, **kwargs)
        except RenderError as e:
            raise NotConverted(f"generic test '{test.name}': {e.message}"
                               + (f" ({e.file}:{e.line})" if e.line else "")) from None
        check = {"type": "sql", "query": _tidy(query)}
        if column:
            check["name"] = f"{test.name}_{column}"
    elif where and check["type"] not in ("expression", "sql"):
        raise NotConverted(f"test '{test.name}' with 'where: {where}' has no Steward equivalent")
    severity = str(cfg.get("severity") or "error").lower()
    if severity == "warn":
        check["severity"] = "warn"
    error_if = str(cfg.get("error_if") or "!= 0").replace(" ", "")
    if error_if != "!=0":
        m = re.fullmatch(r">(\d+)", error_if)
        if not m:
            raise NotConverted(f"test '{test.name}' with error_if '{cfg['error_if']}' has no "
                               "Steward equivalent (Steward allows max_failures: N, as '>N')")
        check["max_failures"] = int(m.group(1))
    if str(cfg.get("warn_if") or "!= 0").replace(" ", "") != "!=0":
        notes.append(f"warn_if '{cfg['warn_if']}' not converted")
    for k in sorted(_IGNORED & set(cfg)):
        notes.append(f"test config '{k}' not converted")
    if test.custom_name:
        check["name"] = str(test.custom_name)
    if test.description:
        check["description"] = str(test.description)
    return check, notes


@dataclass
class _Test:
    """A test as a check kind's ``from_dbt`` sees it (``core.checkkinds.base.DbtTest``)."""

    name: str
    args: dict[str, Any]
    column_name: str | None
    resolve_ref: Any
    resolve_source: Any

    def column(self) -> str:
        if not self.column_name:
            raise NotConverted(f"test '{self.name}' needs a column")
        return self.column_name

    def relation(self, text: Any) -> str:
        return relation_of(text, self.resolve_ref, self.resolve_source)

    def refuse(self, why: str) -> NoReturn:
        raise NotConverted(why)


def _builtin(test: TestEntry, column: str | None, args: dict[str, Any], where: str | None,
             resolve_ref: Any, resolve_source: Any) -> dict[str, Any] | None:
    """dbt's built-in and dbt_utils tests: a check kind's own (``Kind.from_dbt``), or an
    expression or a query doing what the test does (with its ``where``)."""
    from steward.core.checkkinds import DBT_TESTS

    name, pkg, c = test.name, test.package, column
    if pkg not in (None, "dbt", "dbt_utils"):
        return None
    guard = f"not ({where}) or " if where else ""
    t = _Test(name, args, c, resolve_ref, resolve_source)
    need_column = t.column

    if pkg is None:
        if name == "not_null" and where:
            col = need_column()
            return {"type": "expression", "expression": f"{guard}{col} is not null",
                    "name": f"not_null_{col}"}
        if name == "unique":
            col = need_column()
            if where or not re.fullmatch(r"\w+", col):
                return {"type": "sql", "name": f"unique_{_slug(col)}", "query":
                        f"select {col} from {THIS}" + (f" where {where}" if where else "")
                        + f" group by {col} having count(*) > 1"}
        if name == "accepted_values":
            col = need_column()
            values = list(args.get("values") or [])
            if args.get("quote", True) is False:
                raise NotConverted("accepted_values with quote: false has no Steward "
                                   "equivalent")
            if where:
                listed = ", ".join(sql_value(v) for v in values)
                return {"type": "expression", "name": f"accepted_values_{col}",
                        "expression": f"{guard}{col} is null or {col} in ({listed})"}
        if name == "relationships":
            need_column()
            if where:
                raise NotConverted("relationships with 'where' has no Steward equivalent")
        make = DBT_TESTS.get(name)
        return make(t) if make is not None else None
    if pkg != "dbt_utils":
        return None
    if name == "expression_is_true":
        expr = str(args.get("expression"))
        if c:
            expr = f"{c} {expr}"
        return {"type": "expression", "expression": f"{guard}{expr}" if where else expr,
                "name": f"expression_is_true_{_slug(expr)}"[:60]}
    if where:
        return None  # the macro route (when installed) applies the filter
    make = DBT_TESTS.get(f"dbt_utils.{name}")
    if make is not None:
        return make(t)
    if name == "not_empty_string":
        col = need_column()
        value = f"trim({col})" if args.get("trim_whitespace", True) else col
        return {"type": "expression", "name": f"not_empty_string_{col}",
                "expression": f"{col} is null or {value} <> ''"}
    if name == "not_accepted_values":
        col = need_column()
        listed = ", ".join(sql_value(v) for v in args.get("values") or [])
        return {"type": "expression", "name": f"not_accepted_values_{col}",
                "expression": f"{col} is null or {col} not in ({listed})"}
    if name == "at_least_one":
        col = need_column()
        return {"type": "sql", "name": f"at_least_one_{col}", "query":
                f"select * from (select count({col}) as n from {THIS}) as t where n = 0"}
    if name == "not_constant":
        col = need_column()
        return {"type": "sql", "name": f"not_constant_{col}", "query":
                f"select * from (select count(distinct {col}) as n from {THIS}) as t where n = 1"}
    if name == "equal_rowcount":
        other = relation_of(args.get("compare_model"), resolve_ref, resolve_source)
        return {"type": "sql", "name": f"equal_rowcount_{other.replace('.', '_')}", "query":
                f"select * from (select (select count(*) from {THIS}) as a, "
                f"(select count(*) from {other}) as b) as t where a <> b"}
    if name == "relationships_where":
        other = relation_of(args.get("to"), resolve_ref, resolve_source)
        col, field = need_column(), args.get("field")
        src_cond = args.get("from_condition", "1=1")
        to_cond = args.get("to_condition", "1=1")
        return {"type": "sql", "name": f"relationships_where_{col}", "query":
                f"select f.* from (select * from {THIS} where {src_cond}) as f "
                f"left join (select * from {other} where {to_cond}) as t "
                f"on f.{col} = t.{field} where f.{col} is not null and t.{field} is null"}
    return None


def _arg(value: Any, renderer: Renderer, file: str) -> Any:
    if isinstance(value, str) and "{{" in value:
        s = value.strip()
        if s.startswith("{{") and s.endswith("}}") and s.count("{{") == 1:
            inner = s[2:-2].strip()
            if _REF.match(inner) or _SOURCE.match(inner):
                return value  # a relation: relation_of() resolves it
            return renderer.evaluate(s, file)
        return renderer.render_string(value, file)
    if isinstance(value, list):
        return [_arg(v, renderer, file) for v in value]
    if isinstance(value, dict):
        return {k: _arg(v, renderer, file) for k, v in value.items()}
    return value



def _slug(text: str) -> str:
    return re.sub(r"\W+", "_", text).strip("_")


def _tidy(sql: str) -> str:
    lines = [ln.rstrip() for ln in sql.strip().splitlines()]
    return "\n".join(ln for ln in lines if ln.strip()) + "\n"
