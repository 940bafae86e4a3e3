"""Operations in ``steward.yaml``: schedules (cron and source triggers) and alert channels."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from steward.core.base import Spec

ALERT_EVENTS = ("run_failed", "check_failed", "freshness_breach", "drift")


def cron_error(expr: str) -> str | None:
    """Why ``expr`` is not a cron expression (five fields, croniter's syntax), or None."""
    try:
        from croniter import croniter
    except ImportError:  # validated again when the server starts, which needs croniter
        return None
    if len(expr.split()) != 5 or not croniter.is_valid(expr):
        return (f"{expr!r} is not a cron expression; write five fields, minute hour "
                "day-of-month month day-of-week, e.g. '0 6 * * *' (06:00 every day)")
    return None


class ScheduleSpec(Spec):
    """A run ``steward serve`` starts: on a cron expression, when a source's files change,
    or both. ``overlap``: what happens when the previous run of the same environment is
    still going (skip this one, or wait for it). ``catch_up``: on start, run once if a
    fire was missed while the server was down (else missed fires are skipped)."""

    cron: str | None = None
    on_change: tuple[str, ...] = ()  # file sources: a change runs them and what depends on them
    select: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    env: str | None = None
    overlap: Literal["skip", "wait"] = "skip"
    catch_up: bool = False

    @field_validator("select", "exclude", "on_change", mode="before")
    @classmethod
    def _one_or_many(cls, v: Any) -> Any:
        return (v,) if isinstance(v, str) else v

    @field_validator("cron")
    @classmethod
    def _cron(cls, v: str | None) -> str | None:
        if v is not None and (problem := cron_error(v)):
            raise ValueError(problem)
        return v

    @model_validator(mode="after")
    def _when(self) -> ScheduleSpec:
        if self.cron is None and not self.on_change:
            raise ValueError("a schedule needs 'cron' (e.g. '0 6 * * *') or 'on_change' "
                             "(file sources whose changes start it)")
        return self


class ChannelSpec(Spec):
    """Where alerts go: a JSON webhook, a Slack-compatible webhook, a command (given the
    alert as JSON on its standard input), or email over SMTP (``url:
    smtp://host:port``, ``to:``; the product's owner too when it is an address)."""

    type: Literal["webhook", "slack", "command", "email"]
    url: str | None = None
    command: tuple[str, ...] = ()
    to: tuple[str, ...] = ()
    sender: str = "steward@localhost"
    starttls: bool = False
    user_env: str | None = None  # environment variables holding the SMTP login
    password_env: str | None = None
    events: tuple[str, ...] = ALERT_EVENTS
    timeout: float = Field(default=5.0, gt=0)
    retries: int = Field(default=2, ge=0, le=10)

    @field_validator("to", mode="before")
    @classmethod
    def _one_or_many(cls, v: Any) -> Any:
        return (v,) if isinstance(v, str) else v

    @field_validator("command", mode="before")
    @classmethod
    def _split(cls, v: Any) -> Any:
        if isinstance(v, str):
            import shlex

            return tuple(shlex.split(v))
        return v

    @field_validator("events")
    @classmethod
    def _known(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        bad = sorted(set(v) - set(ALERT_EVENTS))
        if bad:
            raise ValueError(f"unknown alert event {bad[0]!r}; known: {', '.join(ALERT_EVENTS)}")
        return v

    @model_validator(mode="after")
    def _target(self) -> ChannelSpec:
        if self.type == "command" and not self.command:
            raise ValueError("a command channel needs 'command' (e.g. 'notify-team')")
        if self.type != "command" and not self.url:
            raise ValueError(f"a {self.type} channel needs 'url'"
                             + (" (smtp://host:port)" if self.type == "email" else ""))
        if self.type == "email" and not (self.url or "").startswith("smtp://"):
            raise ValueError("an email channel's url is smtp://host:port")
        return self


class AlertsSpec(Spec):
    channels: dict[str, ChannelSpec] = Field(default_factory=dict)
    # a freshness breach, check failure or failed run is checked this often by the server
    interval: str = "60s"
    resolve: bool = True  # send a 'resolved' notice when the condition clears
