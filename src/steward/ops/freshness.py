"""Freshness SLOs: how old each product's data is against its ``freshness:`` declaration.

The age is measured on the build time of the environment's current version, or, with
``column:``, on the newest value of that column. Each evaluation can be recorded as a
sample (the time series ``steward serve`` writes every minute); compliance over a window
is the share of the window's time the samples said fresh: each sample holds until the
next one (or, for the last, until now). A sample is stored when a product's status
changes, and at least every six hours.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from steward.core.durations import parse_duration

if TYPE_CHECKING:
    from steward.ops.parts import OpsParts

WINDOWS = (7, 30)  # days of the compliance shown per product
HEARTBEAT = timedelta(hours=6)  # a sample at least this often, even without a change


@dataclass(frozen=True)
class Freshness:
    product: str
    env: str
    on: str  # "build" or the column
    age_s: float | None
    limit_s: float | None
    warn_s: float | None
    status: str  # ok, warn, breach, unknown (no version, or the column has no value)
    newest: str | None = None  # the build time or the newest value, ISO
    message: str = ""

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def aware(d: datetime | None) -> datetime | None:
    return d.replace(tzinfo=UTC) if d is not None and d.tzinfo is None else d


def _age(newest: Any, now: datetime) -> float | None:
    if isinstance(newest, datetime):
        return (now - (aware(newest) or now)).total_seconds()
    if isinstance(newest, date):
        return float((now.date() - newest).days * 86400)
    return None


def human(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    s = abs(seconds)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if s >= size:
            return f"{seconds / size:.1f}{unit}"
    return f"{seconds:.0f}s"


def evaluate(ctx: OpsParts, env: str | None = None, names: list[str] | None = None,
             now: datetime | None = None) -> list[Freshness]:
    """The freshness of every product declaring an SLO (or of ``names``) in ``env``."""
    env = ctx.env_name(env)
    now = now or datetime.now(UTC)
    current = ctx.current(env) if ctx.metastore.env_exists(env) else {}
    out = []
    for name, product in sorted(ctx.project.products.items()):
        slo = product.spec.freshness
        if slo is None or (names and name not in names):
            continue
        limit = parse_duration(slo.limit) if slo.limit else None
        warn = parse_duration(slo.warn_after) if slo.warn_after else None
        version = current.get(name)
        on = slo.column or "build"
        if version is None:
            out.append(Freshness(name, env, on, None, limit, warn, "unknown",
                                 message=f"no version in '{env}'"))
            continue
        newest: Any = version.created_at
        if slo.column:
            try:
                newest = _newest(ctx, name, version, slo.column)
            except Exception as e:  # a renamed column: say so, keep evaluating the others
                out.append(Freshness(name, env, on, None, limit, warn, "unknown",
                                     message=f"{slo.column}: {str(e).splitlines()[0]}"))
                continue
        age = _age(newest, now)
        if age is None:
            out.append(Freshness(name, env, on, None, limit, warn, "unknown",
                                 message=f"{on} has no date or timestamp value"))
            continue
        status = "ok"
        if limit is not None and age > limit:
            status = "breach"
        elif warn is not None and age > warn:
            status = "warn"
        msg = f"{human(age)} old" + (f" (SLO {slo.limit})" if slo.limit else "")
        out.append(Freshness(name, env, on, round(age, 1), limit, warn, status,
                             newest.isoformat() if newest is not None else None, msg))
    return out


def _newest(ctx: OpsParts, name: str, version: Any, column: str) -> Any:
    from steward.engine.duckdb_text import ident

    files = ctx.store.data_files(version.path)
    if not files:
        return None
    short = name.rpartition(".")[2]
    table = ctx.engine.read_only_query(f"select max({ident(column)}) as newest from "
                                       f"{ident(short)}", {name: files},
                                       ctx.store.local_root())
    return table.column(0)[0].as_py() if table.num_rows else None


def record(ctx: OpsParts, results: list[Freshness], at: datetime | None = None,
           force: bool = False) -> int:
    """Append ``results`` to the freshness time series: a product's sample is written when
    its status changed since its last one, or when that is older than ``HEARTBEAT`` (the
    series keeps every transition, and the age at least that often). Returns the count."""
    from steward.meta.ops import add_samples, last_samples

    at = at or datetime.now(UTC)
    last: dict[tuple[str, str], dict[str, Any]] = {}
    for env in {f.env for f in results}:
        last.update({(env, p): r for p, r in last_samples(ctx.metastore, env).items()})
    rows = []
    for f in results:
        prev = last.get((f.env, f.product))
        if not force and prev is not None and prev["status"] == f.status and \
                at - (aware(prev["at"]) or at) < HEARTBEAT:
            continue
        rows.append({"product": f.product, "env": f.env, "at": at, "age_s": f.age_s,
                     "limit_s": f.limit_s, "status": f.status})
    add_samples(ctx.metastore, rows)
    return len(rows)


def compliance(ctx: OpsParts, product: str, env: str, days: int,
               now: datetime | None = None) -> float | None:
    """Share (0..1) of the last ``days`` the product was fresh (not in breach), from the
    samples; None when none was taken in or before the window."""
    return _compliance(series(ctx, env, days, [product], now).get(product, []), days, now)


def series(ctx: OpsParts, env: str, days: int, products: list[str] | None = None,
           now: datetime | None = None) -> dict[str, list[dict[str, Any]]]:
    """Product -> its samples over the last ``days`` (with the one before), one query."""
    from steward.meta.ops import samples

    now = now or datetime.now(UTC)
    out = samples(ctx.metastore, env, now - timedelta(days=days), products)
    for rows in out.values():
        for r in rows:
            r["at"] = aware(r["at"])
    return out


def _compliance(rows: list[dict[str, Any]], days: int, now: datetime | None) -> float | None:
    now = now or datetime.now(UTC)
    return share_fresh(rows, now - timedelta(days=days), now) if rows else None


def share_fresh(rows: list[dict[str, Any]], start: datetime, end: datetime) -> float | None:
    """Share of [start, end) in a status other than breach (unknown spans left out); each
    sample holds until the next; None when no known span falls inside."""
    fresh = total = 0.0
    for i, r in enumerate(rows):
        a = max(r["at"], start)
        b = min(rows[i + 1]["at"] if i + 1 < len(rows) else end, end)
        span = (b - a).total_seconds()
        if span <= 0 or r["status"] == "unknown":
            continue
        total += span
        if r["status"] != "breach":
            fresh += span
    return fresh / total if total else None


def breaches(rows: list[dict[str, Any]], now: datetime | None = None) -> list[dict[str, Any]]:
    """The breach intervals of a series: start, end (None while open), duration."""
    now = now or datetime.now(UTC)
    out: list[dict[str, Any]] = []
    cur: dict[str, Any] | None = None
    for r in rows:
        if r["status"] == "breach" and cur is None:
            cur = {"start": r["at"], "end": None}
        elif r["status"] != "breach" and cur is not None:
            cur["end"] = r["at"]
            out.append(cur)
            cur = None
    if cur is not None:
        out.append(cur)
    for b in out:
        b["duration_s"] = round(((b["end"] or now) - b["start"]).total_seconds(), 1)
    return out


def report(ctx: OpsParts, env: str | None = None, names: list[str] | None = None,
           now: datetime | None = None, results: list[Freshness] | None = None
           ) -> list[dict[str, Any]]:
    """Each product's freshness now, its compliance over 7 and 30 days and its breaches."""
    now = now or datetime.now(UTC)
    out = []
    if results is None:
        results = evaluate(ctx, env, names, now)
    every = series(ctx, ctx.env_name(env), max(WINDOWS), names or None, now) \
        if results else {}
    for f in results:
        rows = every.get(f.product, [])
        doc = f.to_json()
        for days in WINDOWS:
            cut = now - timedelta(days=days)
            kept = [r for i, r in enumerate(rows)
                    if r["at"] >= cut or (i + 1 < len(rows) and rows[i + 1]["at"] > cut)]
            value = _compliance(kept, days, now)
            doc[f"compliance_{days}d"] = None if value is None else round(value, 4)
        doc["breaches"] = [{**b, "start": b["start"].isoformat(),
                            "end": b["end"].isoformat() if b["end"] else None}
                           for b in breaches(rows, now)]
        out.append(doc)
    return out
