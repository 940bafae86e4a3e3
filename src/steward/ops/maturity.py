"""``steward maturity``: the project scored against a rubric of practice areas, from its
own declarations and history, with the gaps ranked by gain over effort.

Each area scores 0..1 and has a weight (its share of the 100 points). A gap's gain is the
points it would add; its effort is a rough count of changes (one per product to touch,
one for a project-wide setting). The few gaps with the best gain per effort come first,
each with the change that closes it.
"""

from __future__ import annotations

import glob
import os
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from steward.ops.parts import OpsParts

SHOW = 3  # gaps printed


@dataclass(frozen=True)
class Area:
    name: str
    weight: float
    score: float  # 0..1
    detail: str
    effort: float  # changes to close the gap
    fix: str  # the change that closes it

    @property
    def gain(self) -> float:
        return self.weight * (1 - self.score)

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "gain": round(self.gain, 2),
                "points": round(self.weight * self.score, 2)}


def _share(total: int, good: int) -> float:
    return good / total if total else 1.0


def _first(names: list[str], n: int = 3) -> str:
    return ", ".join(names[:n]) + (f" (+{len(names) - n} more)" if len(names) > n else "")


def areas(ctx: OpsParts, now: datetime | None = None) -> list[Area]:
    now = now or datetime.now(UTC)
    project = ctx.project
    # read from the specs' plain dumps: validating 1,000 pydantic models again from the
    # cache (and importing pydantic) would be most of the command's time
    spec = project.spec_dump
    envs, defaults = spec.get("environments") or {}, spec.get("defaults") or {}
    schedules = spec.get("schedules") or {}
    channels = (spec.get("alerts") or {}).get("channels") or {}
    products = dict(sorted(project.products.items()))
    dumps = {n: p.spec_dump for n, p in products.items()}

    def columns(n: str) -> dict[str, Any]:
        return dumps[n].get("columns") or {}

    built = [n for n, p in products.items() if not p.is_source]
    out = []

    no_owner = [n for n in products if not dumps[n].get("owner")]
    out.append(Area("ownership", 10, _share(len(products), len(products) - len(no_owner)),
                    f"{len(products) - len(no_owner)}/{len(products)} products name an owner "
                    "in their YAML", len(no_owner),
                    f"add 'owner: team@example.com' to {_first(no_owner)}"))

    cols = [(n, c) for n in products for c in columns(n)]
    documented = [(n, c) for n in products for c, cs in columns(n).items()
                  if cs.get("description")]
    undoc = [n for n in products if not dumps[n].get("description")]
    score = (_share(len(products), len(products) - len(undoc)) + _share(len(cols),
                                                                        len(documented))) / 2
    out.append(Area("documentation", 10, score,
                    f"{len(products) - len(undoc)}/{len(products)} products and "
                    f"{len(documented)}/{len(cols)} columns described",
                    len(undoc) + (len(cols) - len(documented)) / 5,
                    f"add 'description: ...' to {_first(undoc)}" if undoc else
                    "describe the remaining columns ('columns: {c: {description: ...}}')"))

    def has_checks(n: str) -> bool:
        return bool(dumps[n].get("checks")) or any(c.get("checks")
                                                   for c in columns(n).values())

    unchecked = [n for n in built if not has_checks(n)]
    out.append(Area("checks", 15, _share(len(built), len(built) - len(unchecked)),
                    f"{len(built) - len(unchecked)}/{len(built)} built products have checks",
                    len(unchecked),
                    f"add checks to {_first(unchecked)}, e.g. 'primary_key: [id]' and "
                    "'columns: {id: {checks: [not_null, unique]}}'"))

    loose = [n for n in built
             if (dumps[n].get("contract") or defaults.get("contract")) != "strict"]
    out.append(Area("contracts", 10, _share(len(built), len(built) - len(loose)),
                    f"{len(built) - len(loose)}/{len(built)} built products have a strict "
                    "contract", 1 if loose else 0,
                    "set 'defaults: {contract: strict}' in steward.yaml (or 'contract: strict' "
                    f"on {_first(loose)}) and declare column types"))

    classified = [n for n in products if any(c.get("classification")
                                             for c in columns(n).values())]
    sources = [n for n, p in products.items() if p.is_source]
    unclassified = [n for n in sources if n not in classified]
    out.append(Area("pii classification", 10,
                    _share(len(sources), len(sources) - len(unclassified)),
                    f"{len(sources) - len(unclassified)}/{len(sources)} sources classify "
                    "their columns", len(unclassified),
                    f"run 'steward pii scan {unclassified[0]}' and add 'classification: pii' "
                    "to the personal columns it finds" if unclassified else "-"))

    promotions = ctx.audit_trail().log("promote", None, None,
                                       (now - timedelta(days=30)).isoformat(), 1)
    env_score = (0.5 if envs.get("protected") else 0) + (0.5 if promotions else 0)
    out.append(Area("environments and promotion", 10, env_score,
                    ("production is protected" if envs.get("protected") else
                     "no protected environment") + ("; promotions in the last 30 days"
                                                    if promotions else "; no promotion lately"),
                    1, f"set 'environments: {{protected: [{envs.get('default')}]}}' in "
                    "steward.yaml and publish with 'steward run --env dev' then 'steward "
                    f"promote dev {envs.get('default')}'"))

    ci = any(_mentions_steward(f) for pat in (".github/workflows/*.y*ml", ".gitlab-ci.y*ml",
                                              "Jenkinsfile", "azure-pipelines.y*ml")
             for f in glob.glob(os.path.join(project.root, pat)))
    out.append(Area("ci", 10, 1.0 if ci else 0.0,
                    "a CI pipeline runs steward" if ci else "no CI pipeline runs steward", 1,
                    "add a CI job that runs 'steward plan' and 'steward run --env ci' "
                    "(see docs/deploy.md)"))

    stale = [n for n in built if dumps[n].get("freshness") is None]
    out.append(Area("freshness slos", 10, _share(len(built), len(built) - len(stale)),
                    f"{len(built) - len(stale)}/{len(built)} built products declare a "
                    "freshness SLO", len(stale),
                    f"add 'freshness: {{max_age: 24h}}' to {_first(stale)}"))

    out.extend(_models_area(ctx, products, dumps))
    out.append(_delivery_area(ctx, envs, now))

    operated = (0.5 if schedules else 0) + (0.5 if channels else 0)
    out.append(Area("operations", 5, operated,
                    f"{len(schedules)} schedule(s), {len(channels)} alert "
                    "channel(s)", 1,
                    "add 'schedules: {nightly: {cron: \"0 2 * * *\"}}' and 'alerts: "
                    "{channels: {team: {type: slack, url: ...}}}' to steward.yaml"))
    total = sum(a.weight for a in out)  # 100, and 110 with the models area
    if total == 100:
        return out
    return [replace(a, weight=a.weight * 100 / total) for a in out]


def _models_area(ctx: OpsParts, products: dict[str, Any], dumps: dict[str, Any]) -> list[Area]:
    """Models that can be trusted and rebuilt: each gated (a metric or champion/challenger
    gate) and its current version trained from a clean git commit (``steward reproduce``
    needs the code as it was). No models: no area."""
    from steward.meta.ops import version_origins

    models = [n for n, p in products.items() if p.kind == "model"]
    if not models:
        return []
    current = ctx.current()
    origins = version_origins(ctx.metastore, [current[n].id for n in models if n in current])
    ungated = [n for n in models if not dumps[n].get("gates")]
    unclean = [n for n in models if n not in current
               or (origins.get(current[n].id) or (None, None, None))[1] != "clean"]
    score = (_share(len(models), len(models) - len(ungated))
             + _share(len(models), len(models) - len(unclean))) / 2
    fix = (f"add 'gates: [{{metric: {{name: roc_auc, min: 0.7}}}}, {{vs_current: {{name: "
           f"roc_auc, max_regression_pct: 2}}}}]' to {_first(ungated)}" if ungated else
           f"commit the code and retrain {_first(unclean)} ('git commit', then 'steward run "
           f"{unclean[0] if unclean else ''}') so 'steward reproduce' can rebuild it")
    return [Area("model reproducibility", 10, score,
                 f"{len(models) - len(ungated)}/{len(models)} models gated, "
                 f"{len(models) - len(unclean)}/{len(models)} trained from a clean commit",
                 len(ungated) + len(unclean), fix)]


# a delivery practice worth its points: a release a week at least, and at most this
# share of them rolled back (DORA's "elite" change failure rate is 0-15 %)
WEEKLY = 4
FAILURE_RATE = 0.15


def _delivery_area(ctx: OpsParts, envs: dict[str, Any], now: datetime) -> Area:
    """Deployment frequency and change failure rate over 30 days, from the audit trail's
    promotions and rollbacks (``steward delivery`` has the full measures)."""
    from steward.meta.ops import delivery_events

    events = delivery_events(ctx.metastore, (now - timedelta(days=30)).isoformat())
    promotions = sum(1 for e in events if e[2] == "promote")
    rollbacks = sum(1 for e in events if e[2] == "rollback")
    rate = rollbacks / promotions if promotions else None
    score = (0.5 if promotions >= WEEKLY else 0.5 * promotions / WEEKLY) \
        + (0.5 if rate is not None and rate <= FAILURE_RATE else 0)
    default = envs.get("default") or "prod"
    return Area("delivery", 10, score,
                f"{promotions} promotion(s) and {rollbacks} rollback(s) in 30 days"
                + (f" (change failure rate {100 * rate:.0f}%)" if rate is not None else ""),
                1, f"release small changes weekly: 'steward run --env dev', 'steward plan', "
                f"then 'steward promote dev {default}'; see 'steward delivery' for lead time "
                "and time to restore")


def _mentions_steward(path: str) -> bool:
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return "steward" in f.read()
    except OSError:
        return False


def maturity(ctx: OpsParts, keep: bool = True, now: datetime | None = None) -> dict[str, Any]:
    """The score (0..100), each area, the gaps ranked, and the history of the score."""
    from steward.meta.ops import add_maturity, maturity_history

    now = now or datetime.now(UTC)
    found = areas(ctx, now)
    score = round(sum(a.weight * a.score for a in found), 1)
    gaps = sorted((a for a in found if a.gain > 0.01),
                  key=lambda a: (-a.gain / max(a.effort, 1.0), -a.gain, a.name))
    if keep:
        add_maturity(ctx.metastore, now, score, {a.name: round(a.score, 3) for a in found})
    history = [{"at": r["at"], "score": r["score"]} for r in maturity_history(ctx.metastore)]
    return {"score": score, "areas": [a.to_json() for a in found],
            "gaps": [a.to_json() for a in gaps[:SHOW]], "history": history}
