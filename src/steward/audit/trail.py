"""The audit trail: an append-only, hash-chained log of every state-changing action.

Each event stores the hash of the event before it and its own hash over a canonical
JSON rendering of its fields (sha256). Every ``checkpoint_every`` events a checkpoint row
records the running hash, so a consistent rewrite of a whole stretch of the chain (every
hash recomputed) is still caught at the next checkpoint, and so is a truncated tail.

:meth:`AuditTrail.verify` replays the chain in seq order, streaming rows in batches, and
names the *first* event that was altered, removed or reordered.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from steward.core import faults
from steward.core.durations import parse_duration
from steward.core.errors import StewardError
from steward.meta import audit as q
from steward.meta.store import Metastore

GENESIS = "0" * 64
CHECKPOINT_EVERY = 1000

Problem = Literal["altered", "removed", "reordered"]


_canon = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                         default=str).encode


def canon(obj: Any) -> str:
    """Canonical JSON: sorted keys, no whitespace, UTF-8 kept, non-JSON types as text."""
    return _canon(obj)


_dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode
_sha256 = hashlib.sha256


def event_hash(seq: int, ts: str, actor: str, action: str, targets_json: str,
               before_json: str, after_json: str, reason: str | None, prev_hash: str,
               git: str | None = None) -> str:
    """sha256 of the canonical JSON array of an event's stored fields and its link (and
    the project's git commit when recorded: events without one hash as they always did)."""
    fields = [seq, ts, actor, action, targets_json, before_json, after_json, reason,
              prev_hash]
    if git is not None:
        fields.append(git)
    return _sha256(_dumps(fields).encode()).hexdigest()


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


@dataclass(frozen=True)
class AuditEvent:
    """One recorded action."""

    seq: int
    ts: str
    actor: str
    action: str
    targets: list[str]
    before: Any
    after: Any
    reason: str | None
    prev_hash: str
    hash: str
    git: str | None = None  # the project's commit (project.git.GitState.text)

    @classmethod
    def from_row(cls, r: dict[str, Any]) -> AuditEvent:
        return cls(int(r["seq"]), r["ts"], r["actor"], r["action"],
                   json.loads(r["targets_json"]), json.loads(r["before_json"]),
                   json.loads(r["after_json"]), r["reason"], r["prev_hash"], r["hash"],
                   r.get("git_commit"))

    def to_dict(self) -> dict[str, Any]:
        return {"seq": self.seq, "ts": self.ts, "actor": self.actor, "action": self.action,
                "targets": self.targets, "before": self.before, "after": self.after,
                "reason": self.reason, "prev_hash": self.prev_hash, "hash": self.hash,
                "git": self.git}


@dataclass
class VerifyReport:
    """What replaying the chain found. ``first_bad`` is None when the chain is intact."""

    events: int = 0
    checkpoints: int = 0
    head: str | None = None
    first_bad: int | None = None
    problem: Problem | None = None
    message: str = "audit trail intact"
    seconds: float = 0.0
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.first_bad is None

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "events": self.events, "checkpoints": self.checkpoints,
                "head": self.head, "first_bad": self.first_bad, "problem": self.problem,
                "message": self.message, "seconds": round(self.seconds, 3), **self.details}


class AuditTampered(StewardError):
    """``audit verify`` found the chain broken."""

    exit_code = 4


def _row(seq: int, prev: str, ts: str, actor: str, action: str, targets: Iterable[str],
         before: Any, after: Any, reason: str | None, git: str | None = None
         ) -> dict[str, Any]:
    tj, bj, aj = canon(sorted(set(targets))), canon(before), canon(after)
    prev = prev or GENESIS
    return {"seq": seq, "ts": ts, "actor": actor, "action": action, "targets_json": tj,
            "before_json": bj, "after_json": aj, "reason": reason, "prev_hash": prev,
            "hash": event_hash(seq, ts, actor, action, tj, bj, aj, reason, prev, git),
            "git_commit": git}


def parse_since(text: str) -> str:
    """``7d`` / ``12h`` (ago) or an ISO date/time -> an ISO timestamp to compare with."""
    try:
        return (datetime.now(UTC) - timedelta(seconds=parse_duration(text))).isoformat(
            timespec="microseconds")
    except ValueError:
        pass
    try:
        d = datetime.fromisoformat(text)
    except ValueError:
        raise StewardError(f"--since {text!r}: write a date (2026-11-01), a time "
                           "(2026-11-01T08:00) or a duration ago (7d, 12h)") from None
    return (d if d.tzinfo else d.replace(tzinfo=UTC)).astimezone(UTC).isoformat(
        timespec="microseconds")


HEAD_FILE = "audit-head.json"


class AuditTrail:
    """Append to, query and verify the audit trail kept in a metastore.

    With a ``store``, the chain's head (seq and hash of the last event) is also kept as a
    small file at the store's root, outside the metastore: a trail whose last events were
    deleted, or a metastore replaced by an empty one, no longer reaches that head, and
    both appending and ``verify`` say so.
    """

    def __init__(self, metastore: Metastore, checkpoint_every: int = CHECKPOINT_EVERY,
                 store: Any = None, actor: str | None = None,
                 git: Callable[[], str | None] | None = None):
        self.ms = metastore
        self.checkpoint_every = checkpoint_every
        self.store = store
        self.actor = actor
        # the project's git commit for each event (project.git.GitState.text)
        self.git = git or (lambda: None)

    def append(self, actor: str, action: str, targets: Sequence[str] = (), before: Any = None,
               after: Any = None, reason: str | None = None) -> AuditEvent:
        """Record one action at the head of the chain (one transaction)."""
        ts = now_iso()
        git = self.git()

        def make(seq: int, prev: str) -> dict[str, Any]:
            self._check_head(seq - 1, prev)
            return _row(seq, prev, ts, actor, action, targets, before, after, reason, git)

        row = q.append(self.ms, make, self.checkpoint_every, ts)
        self.committed()
        return AuditEvent.from_row(row)

    def append_in(self, conn: Any, action: str, targets: Sequence[str], before: Any,
                  after: Any, reason: str | None) -> int:
        """Append one event inside the caller's transaction (see meta.audit.AuditSink)."""
        ts = now_iso()
        actor = self.actor or "unknown"
        git = self.git()

        def make(seq: int, prev: str) -> dict[str, Any]:
            self._check_head(seq - 1, prev)
            return _row(seq, prev, ts, actor, action, targets, before, after, reason, git)

        row = q.append_in(conn, make, self.checkpoint_every, ts)
        return int(row["seq"])

    # -- the head kept in the store ---------------------------------------------------
    def stored_head(self) -> tuple[int, str] | None:
        """(seq, hash) of the head recorded in the store, if any."""
        if self.store is None:
            return None
        raw = self.store.read_meta(HEAD_FILE)
        if not raw:
            return None
        try:
            doc = json.loads(raw)
            return int(doc["seq"]), str(doc["hash"])
        except (ValueError, KeyError, TypeError):
            return None

    def _check_head(self, seq: int, prev: str | None) -> None:
        """Refuse to extend a chain that no longer reaches the head the store recorded."""
        head = self.stored_head()
        if head is None or head[0] == 0:
            return
        hseq, hhash = head
        if seq == hseq and (prev or GENESIS) == hhash:
            return
        if seq > hseq:
            with self.ms.sa_engine.connect() as conn:
                if q.hash_at(conn, hseq) == hhash:
                    return
        raise AuditTampered(
            f"the audit trail no longer reaches event #{hseq}, which the store recorded as "
            f"its head (the metastore's trail ends at #{seq}): events were removed or the "
            "metastore was replaced; nothing was changed. Restore the metastore from a "
            "backup, or run 'steward audit verify' and, once understood, "
            "'steward audit reseal --reason \"...\"'")

    def committed(self) -> None:
        """Record the chain's current head in the store (after a transaction committed)."""
        faults.point("audit.before_head")
        if self.store is None:
            return
        with self.ms.sa_engine.connect() as conn:
            seq, h = q.head(conn)
        old = self.stored_head()
        if old is not None and old[0] > seq:
            return  # never move the recorded head back: verify reports the gap
        self.store.write_meta(HEAD_FILE, json.dumps(
            {"seq": seq, "hash": h, "at": now_iso()}).encode())

    def reseal(self, actor: str, reason: str) -> AuditEvent:
        """Accept the trail as it is now (after an investigation): one event records the
        head the store had and the head the trail has, and the store's head is reset."""
        old = self.stored_head()
        with self.ms.sa_engine.connect() as conn:
            seq, h = q.head(conn)
        ts = now_iso()

        def make(s: int, prev: str) -> dict[str, Any]:
            return _row(s, prev, ts, actor, "audit.reseal", (),
                        {"recorded_head": list(old) if old else None},
                        {"trail_head": [seq, h]}, reason, self.git())

        row = q.append(self.ms, make, self.checkpoint_every, ts)
        if self.store is not None:
            self.store.write_meta(HEAD_FILE, json.dumps(
                {"seq": row["seq"], "hash": row["hash"], "at": ts}).encode())
        return AuditEvent.from_row(row)

    def append_many(self, events: Iterable[dict[str, Any]], batch: int = 50_000) -> int:
        """Chain and insert many events at once (imports, benchmarks); one transaction.

        Each dict has ``actor``, ``action`` and optionally ``targets``, ``before``,
        ``after``, ``reason``, ``ts``, ``git``.
        """
        n = 0
        with self.ms.begin() as conn:
            seq, prev = q.head(conn)
            prev = prev or GENESIS
            rows: list[dict[str, Any]] = []
            cps: list[dict[str, Any]] = []
            for e in events:
                seq += 1
                ts = e.get("ts") or now_iso()
                row = _row(seq, prev, ts, e["actor"], e["action"], e.get("targets", ()),
                           e.get("before"), e.get("after"), e.get("reason"), e.get("git"))
                prev = row["hash"]
                rows.append(row)
                if self.checkpoint_every and seq % self.checkpoint_every == 0:
                    cps.append({"seq": seq, "hash": prev, "created_at": ts})
                if len(rows) >= batch:
                    q.insert_many(self.ms, rows, cps, conn)
                    n += len(rows)
                    rows, cps = [], []
            q.insert_many(self.ms, rows, cps, conn)
            n += len(rows)
        return n

    def log(self, action: str | None = None, actor: str | None = None,
            target: str | None = None, since: str | None = None, limit: int | None = 100,
            actions: Sequence[str] | None = None) -> list[AuditEvent]:
        """Events matching the filters, newest first. ``since``: ISO date or ``7d``."""
        rows = q.query(self.ms, action, actor, target, parse_since(since) if since else None,
                       limit, actions)
        return [AuditEvent.from_row(r) for r in rows]

    def count(self) -> int:
        return q.count(self.ms)

    def verify(self, batch: int = 50_000, workers: int | None = None) -> VerifyReport:
        """Replay the whole chain; report the first altered, removed or reordered event.

        Each event's own hash depends only on its stored row, so large trails are split
        into seq ranges verified in parallel processes; the links between ranges and the
        order of findings are settled here, so the answer is the same as a serial replay.
        """
        t0 = time.perf_counter()
        cps = dict(q.checkpoint_rows(self.ms))
        report = VerifyReport(checkpoints=len(cps))
        lo, hi = q.seq_bounds(self.ms)
        if hi == 0:
            lo = hi = 0
        if workers is None:
            workers = min(os.cpu_count() or 1, 4) if hi - lo > PARALLEL_FROM else 1
        chunks = _split(1, max(hi, 1), workers) if hi else []
        jobs = []
        for a, b in chunks:
            prior = max((c for c in cps if c < a), default=0)
            jobs.append((self.ms.url, a, b, {c: h for c, h in cps.items() if a <= c <= b},
                         prior, batch, b == hi))
        if len(jobs) > 1:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            # spawn, not fork: the parent may hold DuckDB threads and SQLite handles
            mp = multiprocessing.get_context("spawn")
            with ProcessPoolExecutor(len(jobs), mp_context=mp) as pool:
                results = list(pool.map(_verify_range, *zip(*jobs, strict=True)))
        else:
            results = [_verify_range(*j) for j in jobs]
        prev_hash, prev_end = GENESIS, 0
        for (a, _b), res in zip(chunks, results, strict=True):
            if (res.get("first_prev") is not None and a > 1 and prev_end == a - 1
                    and res["first_prev"] != prev_hash):
                _bad(report, a - 1, "altered",
                     f"event #{a - 1} was altered (its hash was recomputed, but event #{a} "
                     f"recorded {res['first_prev'][:16]}… as its predecessor)")
                break
            report.events += res["events"]
            if res["bad"]:
                _bad(report, *res["bad"][:3], **res["bad"][3])
                break
            prev_hash, prev_end = res["last_hash"], res["last_seq"]
        if report.ok:
            report.head = prev_hash if report.events else None
            beyond = [c for c in cps if c > hi]
            if beyond:
                _bad(report, hi + 1, "removed",
                     f"events from #{hi + 1} on are missing: checkpoint #{min(beyond)} exists "
                     f"but the trail ends at #{hi}")
        head = self.stored_head()
        if report.ok and head is not None and head[0] > 0:
            hseq, hhash = head
            if hseq > hi:
                _bad(report, hi + 1, "removed",
                     f"events #{hi + 1}..#{hseq} are missing: the store recorded event #{hseq}"
                     f" as the trail's head, but the trail ends at #{hi}")
            else:
                with self.ms.sa_engine.connect() as conn:
                    stored = q.hash_at(conn, hseq)
                if stored != hhash:
                    _bad(report, hseq, "altered",
                         f"event #{hseq} is not the one the store recorded as the head then "
                         "(the trail was cut and written again)")
        report.seconds = time.perf_counter() - t0
        return report


# Below this many events one process is as fast: a spawned worker pays ~1 s of imports
# (measured: 1M events took 5.1 s CPU serially, 8.0 s CPU over two workers).
PARALLEL_FROM = 2_000_000


def _split(lo: int, hi: int, parts: int) -> list[tuple[int, int]]:
    size = max(1, -(-(hi - lo + 1) // parts))
    return [(a, min(hi, a + size - 1)) for a in range(lo, hi + 1, size)]


def _bad(report: VerifyReport, seq: int, problem: Problem, message: str, **details: Any
         ) -> None:
    report.first_bad, report.problem, report.message = seq, problem, message
    report.details.update(details)


def _verify_range(url: str, lo: int, hi: int, cps: dict[int, str], last_cp: int, batch: int,
                  last: bool) -> dict[str, Any]:
    """Replay events ``lo..hi`` (a worker's share); the caller checks the link into ``lo``."""
    out: dict[str, Any] = {"events": 0, "first_prev": None, "last_hash": None,
                           "last_seq": lo - 1, "bad": None}
    expected = lo
    prev: str | None = GENESIS if lo == 1 else None
    sha = _sha256
    # (seq, canonical payload, prev_hash, hash): built by the database when it can
    rows = q.iter_payloads(url, lo, hi, batch) or _payloads(q.iter_range(url, lo, hi, batch))
    for seq, payload, prev_hash, stored in rows:
        if seq != expected:
            out["bad"] = (expected, "removed", f"event #{expected} is missing" + (
                f" (events #{expected}..#{seq - 1} removed)" if seq - 1 > expected
                else " (removed)"), {})
            return out
        digest = sha(payload.encode()).hexdigest()
        if digest != stored:
            row = q.row_at(url, seq)
            assert row is not None
            digest = _hash_of(row)  # the reference encoding decides
            if digest != stored:
                out["bad"] = _mismatch(url, row)
                return out
        if prev is None:
            out["first_prev"] = prev_hash
        elif prev_hash != prev:
            # intact itself, but not linked to the event before: that one was rewritten
            # together with its own hash
            out["bad"] = (seq - 1, "altered",
                          f"event #{seq - 1} was altered (its hash was recomputed, but event "
                          f"#{seq} recorded {prev_hash[:16]}… as its predecessor)", {})
            return out
        cp = cps.get(seq)
        if cp is not None:
            if cp != digest:
                out["bad"] = (last_cp + 1, "altered",
                              f"events #{last_cp + 1}..#{seq} were rewritten: the chain no longer"
                              f" reaches checkpoint #{seq}'s hash {cp[:16]}…", {})
                return out
            last_cp = seq
        prev = digest
        expected += 1
        out["events"] += 1
    out["last_hash"], out["last_seq"] = prev, expected - 1
    if not last and expected <= hi:
        out["bad"] = (expected, "removed", f"event #{expected} is missing (removed)", {})
    return out


def _hash_of(row: tuple[Any, ...]) -> str:
    """:func:`event_hash` of a stored row (:data:`steward.meta.audit.COLUMNS` order)."""
    return event_hash(row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[7],
                      row[8], row[10])


def _payloads(rows: Iterable[tuple[Any, ...]]) -> Iterable[tuple[Any, ...]]:
    dumps = _dumps
    for r in rows:
        fields = [r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8]]
        if r[10] is not None:
            fields.append(r[10])
        yield r[0], dumps(fields), r[8], r[9]


def _mismatch(url: str, row: tuple[Any, ...]) -> tuple[int, Problem, str, dict[str, Any]]:
    seq, prev_hash, stored = row[0], row[8], row[9]
    # A row whose content is intact but whose seq was changed still hashes right under its
    # original position: the event its prev_hash names, plus one.
    before = q.seq_of_hash_url(url, prev_hash) if prev_hash != GENESIS else 0
    if before is not None and before + 1 != seq:
        orig = before + 1
        if _hash_of((orig, *row[1:])) == stored:
            return (seq, "reordered", f"event #{seq} is out of order: the event stored there "
                    f"was recorded as #{orig}", {"original_seq": orig})
    return (seq, "altered", f"event #{seq} was altered: its content no longer matches its hash",
            {})
