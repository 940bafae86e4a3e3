"""Is Steward's state what it recorded? Pointers against the audit trail, versions against
their files, environments against what their versions were built from.

Every pointer move writes an audit event, in its own transaction, carrying the moves
and a digest of the environment's pointers afterwards; ``environments.audit_seq`` names
that event. A run compares the digest with the table before it plans (one indexed read),
so a pointer edited outside Steward is refused instead of built upon. ``steward verify``
goes further: it replays every pointer event to the state the trail says each
environment should be in, hashes versions, and lists what it finds with what to do.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from steward.core.errors import IntegrityError
from steward.core.records import Version
from steward.meta import audit as qa
from steward.meta import envs as menvs
from steward.meta.audit import AuditSink
from steward.meta.reads import pointers_digest
from steward.meta.store import Metastore
from steward.run.verify import Verifier


def check_pointers(ms: Metastore, env: str, audit: AuditSink | None) -> None:
    """Refuse an environment whose pointers no longer match their last audit event.

    An environment with no event yet (created before pointer moves were audited) gets
    a baseline event recording its pointers as they are.
    """
    seq = ms.reads.env_audit_seq(env)
    ids = ms.reads.pointer_ids(env)
    if seq is None:
        if audit is not None and ms.env_exists(env):
            menvs.seal_env(ms, env, audit, "env.baseline",
                           "pointers recorded as found (no earlier audit event)")
        return
    raw = qa.event_after(ms, seq)
    recorded = None
    if raw is not None:
        try:
            recorded = json.loads(raw).get("digest")
        except (ValueError, AttributeError):
            recorded = None
    if recorded is None:
        raise IntegrityError(
            f"audit event #{seq}, which recorded the last move of '{env}', is missing or "
            "altered: the metastore was changed outside Steward; nothing was run. "
            "Run 'steward verify' to see what changed")
    if pointers_digest(ids) != recorded:
        raise IntegrityError(
            f"the pointers of '{env}' were changed outside Steward: they no longer match "
            f"audit event #{seq}, which recorded their last move; nothing was run. Run "
            "'steward verify' to see which changed, and 'steward verify --repair' to set "
            "them back to what the audit trail records")


@dataclass
class Replay:
    """What the audit trail says each environment points at."""

    expected: dict[str, dict[str, str]] = field(default_factory=dict)
    # environments whose events start before a full record (no baseline yet)
    unknown: set[str] = field(default_factory=set)
    problems: list[str] = field(default_factory=list)


def replay_pointers(ms: Metastore) -> Replay:
    """Apply every pointer event in order; each event's digest is checked on the way."""
    out = Replay()
    for seq, action, after_json in qa.pointer_events(ms):
        try:
            after = json.loads(after_json)
        except ValueError:
            continue
        if not isinstance(after, dict) or "env" not in after or "pointers" not in after:
            continue
        env = str(after["env"])
        moves = after.get("pointers") or {}
        if after.get("full"):
            state: dict[str, str] = {p: v for p, v in moves.items() if v is not None}
            out.unknown.discard(env)
        elif env not in out.expected:
            out.unknown.add(env)
            state = {}
        else:
            state = dict(out.expected[env])
        if not after.get("full"):
            for p, v in moves.items():
                if v is None:
                    state.pop(p, None)
                else:
                    state[p] = v
        out.expected[env] = state
        if env not in out.unknown and pointers_digest(state) != after.get("digest"):
            out.problems.append(
                f"audit event #{seq} ({action} of '{env}') records pointers its own moves "
                "do not produce")
    return out


@dataclass
class Finding:
    kind: str  # pointer | damaged | behind | orphan | audit | unverifiable
    subject: str
    problem: str
    fix: str
    severe: bool = True

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "subject": self.subject, "problem": self.problem,
                "fix": self.fix, "severe": self.severe}


def compare_pointers(ms: Metastore, replay: Replay, envs: Iterable[str]) -> list[Finding]:
    out: list[Finding] = []
    for env in envs:
        table = ms.reads.pointer_ids(env)
        if env in replay.unknown or env not in replay.expected:
            if table:
                out.append(Finding(
                    "unverifiable", f"env {env}", "its pointers have no full record in the "
                    "audit trail yet", "the next 'steward run' into it records a baseline",
                    severe=False))
            continue
        want = replay.expected[env]
        for p in sorted(set(table) | set(want)):
            if table.get(p) != want.get(p):
                out.append(Finding(
                    "pointer", f"{env}/{p}",
                    f"points at {table.get(p) or 'nothing'}, the audit trail says "
                    f"{want.get(p) or 'nothing'}",
                    "'steward verify --repair' sets it back to what the trail records"))
    return out


def damaged_versions(verifier: Verifier, versions: Iterable[Version], deep: bool
                     ) -> list[tuple[Version, str]]:
    out = []
    for v in versions:
        problem = verifier.deep(v) if deep else verifier.shallow(v)
        if problem is not None:
            out.append((v, problem))
    return out


def behind(project_inputs: Mapping[str, tuple[str, ...]], pointers: Mapping[str, Version],
           hashes: Any) -> dict[str, list[str]]:
    """Products of an environment whose version was not built from the versions its
    inputs have there (product -> those inputs)."""
    from steward.run.planner import _SameData

    same = _SameData(hashes, pointers.values())
    out: dict[str, list[str]] = {}
    for name, v in pointers.items():
        for i in project_inputs.get(name, ()):
            iv = pointers.get(i)
            if iv is not None and not same(v.inputs.get(i), iv):
                out.setdefault(name, []).append(i)
    return out


@dataclass
class VerifyResult:
    findings: list[Finding] = field(default_factory=list)
    versions_checked: int = 0
    deep: bool = True
    audit_events: int = 0
    repaired: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not any(f.severe for f in self.findings)

    def to_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "deep": self.deep, "versions_checked": self.versions_checked,
                "audit_events": self.audit_events, "repaired": self.repaired,
                "findings": [f.to_json() for f in self.findings]}


def verify_state(ms: Metastore, store: Any, audit: Any, inputs: Mapping[str, tuple[str, ...]],
                 deep: bool = True, repair: bool = False, actor: str = "unknown"
                 ) -> VerifyResult:
    """Everything ``steward verify`` checks (see the module docstring)."""
    from steward.meta import envs as menvs

    out = VerifyResult(deep=deep)
    trail = audit.verify()
    out.audit_events = trail.events
    if not trail.ok:
        out.findings.append(Finding("audit", f"event #{trail.first_bad}", trail.message,
                                    "restore the metastore from a backup; 'steward audit "
                                    "reseal' accepts the trail as it is once understood"))
    envs = [e["name"] for e in ms.environments()]
    replay = replay_pointers(ms)
    for p in replay.problems:
        out.findings.append(Finding("audit", "pointer events", p,
                                    "restore the metastore from a backup"))
    wrong = compare_pointers(ms, replay, envs)
    out.findings.extend(wrong)
    if repair:
        for env in sorted({f.subject.split("/", 1)[0] for f in wrong if f.kind == "pointer"}):
            menvs.seal_env(ms, env, audit, "repair",
                           "pointers set back to what the audit trail records",
                           pointers=replay.expected[env], actor=actor)
            out.repaired.append(f"env {env}: pointers restored from the audit trail")
    pointed = menvs.pointed_ids(ms)
    verifier = Verifier(store, fresh=True)
    store.refresh()
    versions = [v for v in menvs.all_versions(ms) if v.status in ("published", "damaged")]
    verifier.prefetch(versions)
    out.versions_checked = len(versions)
    for v, problem in damaged_versions(verifier, versions, deep):
        severe = v.id in pointed
        out.findings.append(Finding(
            "damaged", f"{v.product}@{v.id}", problem,
            (f"'steward verify --repair' marks it damaged, then 'steward run' rebuilds "
             f"{v.product} in every environment that points at it" if severe
             else "no environment points at it; 'steward gc' can delete it"),
            severe=severe))
        if repair and v.status == "published" and ms.mark_damaged(v.id, problem):
            audit.append(actor, "version.damaged", [v.product],
                         before={"version": v.id, "status": "published"},
                         after={"version": v.id, "status": "damaged"}, reason=problem)
            out.repaired.append(f"{v.product}@{v.id}: marked damaged (never reused)")
    for env in envs:
        pointers = ms.pointers(env)
        for name, ins in sorted(behind(inputs, pointers, ms.reads.data_hashes).items()):
            out.findings.append(Finding(
                "behind", f"{env}/{name}",
                f"built from an older version of {', '.join(ins)} than '{env}' points at",
                f"'steward run --env {env} {name}' rebuilds it", severe=False))
    named = set()
    from steward.meta.migrations.m0007_integrity import store_key

    for v in menvs.all_versions(ms):
        named.add(store_key(v.path) or v.path)
    for f in store.version_folders():
        if f not in named:
            out.findings.append(Finding("orphan", f, "a version folder no version row names "
                                        "(left by an interrupted gc or copied in)",
                                        "'steward gc' deletes it", severe=False))
    return out


def verify_trail(trail: Any, ms: Any, workers: int | None = None) -> Any:
    """The audit chain's verification, and (when the chain holds) its replayed pointer
    moves compared with the pointers as stored: a pointer changed outside Steward makes
    the report fail, naming it. ``trail`` is the audit trail; returns its report."""
    report = trail.verify(workers=workers)
    if report.ok:
        envs = [e["name"] for e in ms.environments()]
        wrong = [f for f in compare_pointers(ms, replay_pointers(ms), envs) if f.severe]
        if wrong:
            report.first_bad, report.problem = None, "altered"
            report.message = (f"{len(wrong)} pointer(s) differ from what the audit trail "
                              f"records, e.g. {wrong[0].subject} {wrong[0].problem}; "
                              "'steward verify --repair' restores them")
            report.details["pointers"] = [f.to_json() for f in wrong]
            report.first_bad = -1
    return report


def refuse_lost_metastore(path: str, root: str, store: Any) -> None:
    """Never start an empty metastore (the SQLite file ``path``) over a store that holds
    versions, nor over a truncated file: every version would be orphaned without a
    word."""
    import os

    from steward.core.errors import IntegrityError

    rel = os.path.relpath(path, root) if path.startswith(root) else path
    if os.path.exists(path) and os.path.getsize(path) == 0:
        raise IntegrityError(
            f"the metastore {rel} is empty (0 bytes): it was truncated or replaced, and "
            "Steward will not start a new one over it; nothing was changed. Restore it "
            "from a backup")
    if os.path.exists(path):
        return
    folders = store.version_folders()
    head = store.read_meta("audit-head.json")
    if folders or head:
        where = os.path.relpath(store.root, root) \
            if store.root.startswith(root + os.sep) else store.root
        raise IntegrityError(
            f"the metastore {rel} does not exist, but the store {where} holds "
            f"{len(folders)} version folder(s)"
            + (" and the head of an audit trail" if head else "")
            + ": a new, empty metastore would orphan them; nothing was changed. "
            "Restore the metastore from a backup, or, to start afresh, remove the "
            "store folder as well")
