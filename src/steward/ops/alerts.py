"""Alerts: a failed run, a failed check, a freshness breach or drift, told to the
configured channels (``alerts: channels:`` in ``steward.yaml``).

Each condition has a key (``event:env:subject``). Raising a key that is open already
sends nothing (dedupe); clearing an open key resolves it and sends a "resolved" notice.
Every delivery is tried ``1 + retries`` times and recorded (``alert_deliveries``), ok or
not: a failing channel is reported, never silent, and never raises into the caller.
"""

from __future__ import annotations

import json
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from steward.ops.parts import OpsParts

RETRY_PAUSE = 0.2  # seconds, doubled after each failed attempt


@dataclass(frozen=True)
class Alert:
    event: str  # run_failed, check_failed, freshness_breach, drift
    env: str | None
    subject: str | None  # a product, or None for the environment's run
    message: str
    details: dict[str, Any] | None = None

    @property
    def key(self) -> str:
        return f"{self.event}:{self.env or ''}:{self.subject or ''}"


def payload(project: str, alert: Alert, kind: str, owner: str | None) -> dict[str, Any]:
    """The generic JSON document a webhook or a command receives."""
    return {"project": project, "kind": kind, "event": alert.event, "key": alert.key,
            "env": alert.env, "product": alert.subject, "owner": owner,
            "message": alert.message, "details": alert.details or {},
            "at": datetime.now(UTC).isoformat()}


def slack_payload(doc: dict[str, Any]) -> dict[str, Any]:
    mark = ":white_check_mark: resolved" if doc["kind"] == "resolved" else ":rotating_light:"
    where = " ".join(x for x in (doc["product"], f"({doc['env']})" if doc["env"] else "") if x)
    text = f"{mark} [{doc['project']}] {doc['event']} {where}: {doc['message']}"
    if doc.get("owner"):
        text += f" (owner: {doc['owner']})"
    return {"text": text}


def send_mail(channel: Any, doc: dict[str, Any]) -> None:
    """One email to the channel's ``to`` and the product's owner (when an address)."""
    import os
    import smtplib
    from email.message import EmailMessage
    from urllib.parse import urlsplit

    to = list(channel.to)
    if doc.get("owner") and "@" in doc["owner"] and doc["owner"] not in to:
        to.append(doc["owner"])
    if not to:
        raise RuntimeError("no recipient: give 'to:' (the product has no owner address)")
    msg = EmailMessage()
    msg["From"], msg["To"] = channel.sender, ", ".join(to)
    what = " ".join(x for x in (doc["product"], f"({doc['env']})" if doc["env"] else "") if x)
    msg["Subject"] = (f"[{doc['project']}] {'resolved: ' if doc['kind'] == 'resolved' else ''}"
                      f"{doc['event']} {what}")[:200]
    msg.set_content(slack_payload(doc)["text"] + "\n\n" + json.dumps(doc, indent=2,
                                                                      default=str))
    where = urlsplit(channel.url)
    try:
        with smtplib.SMTP(where.hostname or "127.0.0.1", where.port or 25,
                          timeout=channel.timeout) as smtp:
            if channel.starttls:
                smtp.starttls()
            if channel.user_env:
                smtp.login(os.environ.get(channel.user_env, ""),
                           os.environ.get(channel.password_env or "", ""))
            smtp.send_message(msg)
    except (smtplib.SMTPException, OSError) as e:
        raise RuntimeError(f"{channel.url}: {e}") from None


def send(channel: Any, doc: dict[str, Any]) -> None:
    """Deliver ``doc`` once through ``channel``; raises on failure."""
    if channel.type == "email":
        send_mail(channel, doc)
        return
    if channel.type == "command":
        p = subprocess.run(list(channel.command), input=json.dumps(doc, default=str),
                           capture_output=True, text=True, timeout=channel.timeout)
        if p.returncode != 0:
            raise RuntimeError(f"exit code {p.returncode}: {p.stderr.strip()[:200]}")
        return
    body = slack_payload(doc) if channel.type == "slack" else doc
    req = urllib.request.Request(channel.url, data=json.dumps(body, default=str).encode(),
                                 headers={"Content-Type": "application/json",
                                          "User-Agent": "steward-alerts"}, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=channel.timeout) as resp:  # noqa: S310
            resp.read()
    except urllib.error.HTTPError as e:
        raise RuntimeError(f"HTTP {e.code} from {channel.url}") from None
    except (urllib.error.URLError, TimeoutError, OSError) as e:
        reason = getattr(e, "reason", e)
        raise RuntimeError(f"{channel.url}: {reason}") from None


def deliver(ctx: OpsParts, alert: Alert, kind: str) -> list[dict[str, Any]]:
    """Send ``alert`` (``kind``: opened or resolved) to every channel that wants its
    event; record and return each delivery."""
    from steward.meta.ops import add_delivery

    spec = ctx.project.spec.alerts
    owner = None
    if alert.subject and alert.subject in ctx.project.products:
        owner = ctx.project.products[alert.subject].owner
    doc = payload(ctx.project.name, alert, kind, owner)
    out = []
    for name, channel in sorted(spec.channels.items()):
        if alert.event not in channel.events:
            continue
        error, attempts, pause = None, 0, RETRY_PAUSE
        for attempts in range(1, channel.retries + 2):  # noqa: B007
            try:
                send(channel, doc)
                error = None
                break
            except Exception as e:  # any failure is recorded, never raised
                error = str(e) or type(e).__name__
                if attempts <= channel.retries:
                    time.sleep(pause)
                    pause *= 2
        row = {"key": alert.key, "kind": kind, "channel": name, "at": datetime.now(UTC),
               "attempts": attempts, "ok": error is None, "error": error}
        add_delivery(ctx.metastore, row)
        if error is not None:
            ctx.console.message(f"alert channel '{name}' failed after {attempts} "
                                f"attempt(s): {error}", "warn")
        out.append(row)
    return out


def raise_alert(ctx: OpsParts, alert: Alert) -> bool:
    """Open ``alert`` and notify; False when it was open already (nothing sent)."""
    from steward.meta.ops import open_alert

    if not open_alert(ctx.metastore, alert.key, alert.event, alert.env, alert.subject,
                      alert.message, datetime.now(UTC)):
        return False
    deliver(ctx, alert, "opened")
    return True


def clear(ctx: OpsParts, key: str, message: str = "back to normal") -> bool:
    """Resolve ``key`` if open, with a notice when the project asks for one."""
    from steward.meta.ops import open_alerts, resolve_alert

    row = open_alerts(ctx.metastore).get(key)
    if row is None:
        return False
    resolve_alert(ctx.metastore, key, datetime.now(UTC))
    if ctx.project.spec.alerts.resolve:
        deliver(ctx, Alert(row["event"], row["env"], row["subject"], message), "resolved")
    return True


def sync(ctx: OpsParts, wanted: list[Alert], events: set[str], scope: set[str | None]
         ) -> dict[str, int]:
    """Make the open alerts of ``events`` in the environments of ``scope`` be ``wanted``:
    open the new ones, resolve the ones that cleared."""
    from steward.meta.ops import open_alerts

    opened = resolved = 0
    keys = {a.key for a in wanted}
    for a in wanted:
        opened += raise_alert(ctx, a)
    for key, row in open_alerts(ctx.metastore).items():
        if row["event"] in events and row["env"] in scope and key not in keys:
            resolved += clear(ctx, key)
    return {"opened": opened, "resolved": resolved}


def watch(ctx: OpsParts, env: str, freshness: list[Any] | None = None) -> dict[str, int]:
    """One pass of the server's watch over ``env``: its last run, its current versions'
    checks (a drift or anomaly check that did not pass is a ``drift`` alert) and its
    freshness SLOs, turned into opened and resolved alerts. Without ``freshness`` the
    freshness alerts are left as they are (the server's prompt pass after a run)."""
    wanted: list[Alert] = []
    runs = [r for r in ctx.metastore.runs(50) if r.env == env and r.finished_at is not None]
    if runs and runs[0].status not in ("success", "ok"):
        r = runs[0]
        wanted.append(Alert("run_failed", env, None, f"run {r.id} {r.status}",
                            {"run": r.id, "selection": r.selection}))
    current = ctx.current(env) if ctx.metastore.env_exists(env) else {}
    from steward.core.checkkinds import PROFILED
    from steward.meta.checks import results_for_versions

    results = results_for_versions(ctx.metastore, [v.id for v in current.values()],
                                   not_passed=("drift", "anomaly"))
    for name, v in sorted(current.items()):
        if v.check_status in ("fail", "failed", "error"):
            wanted.append(Alert("check_failed", env, name,
                                f"checks {v.check_status} on version {v.id}",
                                {"version": v.id}))
        moved = [r for r in results.get(v.id, [])
                 if r.type in PROFILED and r.status != "pass"]
        if moved:
            wanted.append(Alert("drift", env, name, "; ".join(r.message for r in moved),
                                {"version": v.id, "checks": [r.name for r in moved]}))
    for f in freshness or []:
        if f.status == "breach":
            wanted.append(Alert("freshness_breach", env, f.product, f.message,
                                {"age_s": f.age_s, "limit_s": f.limit_s}))
    events = {"run_failed", "check_failed", "drift"}
    if freshness is not None:
        events.add("freshness_breach")
    return sync(ctx, wanted, events, {env})
