"""The hash chain: appends link up, and every kind of tampering is named at its first event."""

from __future__ import annotations

import sqlite3
import threading

from steward.audit.trail import GENESIS, AuditTrail, event_hash


def _db(trail: AuditTrail) -> sqlite3.Connection:
    path = trail.ms.url[len("sqlite:///"):]
    trail.ms.sa_engine.dispose()  # let raw SQL see and change the file like an intruder would
    return sqlite3.connect(path, isolation_level=None)


def test_chain_links_and_verifies(trail: AuditTrail) -> None:
    events = sorted(trail.log(limit=None), key=lambda e: e.seq)
    assert [e.seq for e in events] == list(range(1, 21))
    assert events[0].prev_hash == GENESIS
    for a, b in zip(events, events[1:], strict=False):
        assert b.prev_hash == a.hash
    report = trail.verify()
    assert report.ok, report.message
    assert report.events == 20 and report.checkpoints == 4
    assert report.head == events[-1].hash


def test_filters(trail: AuditTrail) -> None:
    assert {e.action for e in trail.log(action="promote")} == {"promote"}
    assert len(trail.log(action="promote")) == 10
    assert [e.seq for e in trail.log(target="p.7")] == [7]  # not p.17
    assert all(e.actor == "user1" for e in trail.log(actor="user1"))
    assert len(trail.log(since="1d")) == 20
    assert trail.log(since="2999-01-01") == []


def test_updated_field_is_named(trail: AuditTrail) -> None:
    db = _db(trail)
    db.execute("UPDATE audit_events SET actor = 'mallory' WHERE seq = 7")
    r = trail.verify()
    assert (r.first_bad, r.problem) == (7, "altered")


def test_updated_field_with_recomputed_hash_is_named(trail: AuditTrail) -> None:
    db = _db(trail)
    row = db.execute("SELECT seq, ts, actor, action, targets_json, before_json, after_json,"
                     " reason, prev_hash FROM audit_events WHERE seq = 12").fetchone()
    forged = list(row)
    forged[7] = "nothing happened"
    db.execute("UPDATE audit_events SET reason = ?, hash = ? WHERE seq = 12",
               (forged[7], event_hash(*forged)))
    r = trail.verify()
    assert (r.first_bad, r.problem) == (12, "altered")


def test_deleted_row_is_named(trail: AuditTrail) -> None:
    db = _db(trail)
    db.execute("DELETE FROM audit_events WHERE seq = 9")
    r = trail.verify()
    assert (r.first_bad, r.problem) == (9, "removed")


def test_swapped_rows_are_named(trail: AuditTrail) -> None:
    db = _db(trail)
    db.execute("UPDATE audit_events SET seq = -1 WHERE seq = 4")
    db.execute("UPDATE audit_events SET seq = 4 WHERE seq = 11")
    db.execute("UPDATE audit_events SET seq = 11 WHERE seq = -1")
    r = trail.verify()
    assert (r.first_bad, r.problem) == (4, "reordered")
    assert r.details["original_seq"] == 11


def test_truncated_tail_is_caught_by_a_checkpoint(trail: AuditTrail) -> None:
    db = _db(trail)
    db.execute("DELETE FROM audit_events WHERE seq > 17")
    r = trail.verify()
    assert (r.first_bad, r.problem) == (18, "removed")


def test_consistent_rewrite_is_caught_by_a_checkpoint(trail: AuditTrail) -> None:
    db = _db(trail)
    rows = db.execute("SELECT seq, ts, actor, action, targets_json, before_json, after_json,"
                      " reason, prev_hash FROM audit_events WHERE seq >= 13 ORDER BY seq")
    prev = db.execute("SELECT hash FROM audit_events WHERE seq = 12").fetchone()[0]
    for row in rows.fetchall():
        r = list(row)
        r[8] = prev
        if r[0] == 13:
            r[2] = "mallory"
        prev = event_hash(*r)
        db.execute("UPDATE audit_events SET actor = ?, prev_hash = ?, hash = ? WHERE seq = ?",
                   (r[2], r[8], prev, r[0]))
    r = trail.verify()
    assert not r.ok and r.problem == "altered"
    assert r.first_bad == 11  # somewhere after the last good checkpoint (#10), up to #15


def test_concurrent_appends_keep_one_chain(trail: AuditTrail) -> None:
    def work(n: int) -> None:
        t = AuditTrail(trail.ms, checkpoint_every=5)
        for i in range(15):
            t.append(f"w{n}", "gc", [f"w{n}.{i}"])

    threads = [threading.Thread(target=work, args=(n,)) for n in range(3)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=120)
    r = trail.verify()
    assert r.ok, r.message
    assert r.events == 65


def test_parallel_verify_names_the_same_first_event(trail: AuditTrail) -> None:
    db = _db(trail)
    # event 7 (last of range 1) rewritten with a recomputed hash: only the link from
    # event 8 (first of range 2) shows it, and that link is checked across ranges
    row = list(db.execute("SELECT seq, ts, actor, action, targets_json, before_json,"
                          " after_json, reason, prev_hash FROM audit_events WHERE seq = 7"
                          ).fetchone())
    row[2] = "mallory"
    db.execute("UPDATE audit_events SET actor = ?, hash = ? WHERE seq = 7",
               (row[2], event_hash(*row)))
    db.execute("DELETE FROM audit_events WHERE seq = 17")  # later damage must not win
    r = trail.verify(workers=3)  # ranges 1-7, 8-14, 15-20, in three processes
    assert (r.first_bad, r.problem) == (7, "altered")


def test_awkward_text_hashes_the_same_on_both_paths(trail: AuditTrail, monkeypatch) -> None:
    trail.append("zoë", "config", ["p.ü"], before={"k": 'quote " back \\ tab \t'},
                 after={"k": "\x01\x7f\u2028😀"}, reason="line\nbreak")
    assert trail.verify().ok  # SQLite's json_array fast path
    from steward.meta import audit as q

    monkeypatch.setattr(q, "iter_payloads", lambda *a, **k: None)
    assert trail.verify().ok  # the portable path (PostgreSQL)
    db = _db(trail)
    db.execute("UPDATE audit_events SET reason = 'x' WHERE seq = 3")
    r = trail.verify()
    assert (r.first_bad, r.problem) == (3, "altered")
