"""The one error root and its few meaningful subclasses.

The CLI turns every :class:`StewardError` into a readable message and an exit code;
anything else reaching the user is a bug.
"""

from __future__ import annotations

from dataclasses import dataclass


class StewardError(Exception):
    """Base of every error Steward reports to a user."""

    exit_code = 1

    def render(self) -> str:
        return str(self)


@dataclass(frozen=True)
class Problem:
    """One mistake in the project, located in a file."""

    file: str
    line: int | None
    message: str
    hint: str | None = None

    def render(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        text = f"{where}: {self.message}"
        if self.hint:
            text += f"\n    hint: {self.hint}"
        return text


class ConfigError(StewardError):
    """The project definition is wrong; carries every problem found, not just the first."""

    exit_code = 2

    def __init__(self, problems: list[Problem] | Problem | str):
        if isinstance(problems, str):
            problems = [Problem("steward.yaml", None, problems)]
        elif isinstance(problems, Problem):
            problems = [problems]
        self.problems = sorted(problems, key=lambda p: (p.file, p.line or 0))
        super().__init__(self.render())

    def render(self) -> str:
        n = len(self.problems)
        head = f"{n} problem{'s' if n != 1 else ''} in the project:"
        return "\n".join([head, *(p.render() for p in self.problems)])


class SelectionError(StewardError):
    exit_code = 2


class BuildError(StewardError):
    """A product failed to build (bad data, broken SQL, a Python exception)."""


class CheckFailed(StewardError):
    """A quality gate refused a version."""


class PlanError(StewardError):
    """A plan, promotion or rollback cannot be carried out as asked."""


class LockError(StewardError):
    """Another Steward process holds the project's lock."""

    exit_code = 3


class NotFound(StewardError):
    """A product, version, environment or run that does not exist."""


class RunCancelled(StewardError):
    """The run was interrupted (Ctrl-C): recorded as cancelled, nothing moved."""

    exit_code = 130


class IntegrityError(StewardError):
    """Steward's state no longer matches what was recorded (damaged versions, pointers
    changed outside Steward, an emptied metastore): refused, with what to do."""

    exit_code = 4


class StateError(StewardError):
    """Steward's own state (the metastore, a version's files) is damaged or out of reach."""


class MetastoreUnavailable(StateError):
    """The metastore cannot be opened: a malformed URL, a missing driver, no connection.

    ``shown`` is the URL without its password; ``reason`` and ``hint`` let a caller that
    knows where the URL is declared report it there.
    """

    def __init__(self, shown: str, reason: str, hint: str | None = None):
        self.shown, self.reason, self.hint = shown, reason, hint
        super().__init__(f"cannot open the metastore {shown}: {reason}"
                         + (f"\n    hint: {hint}" if hint else ""))


class StoreUnavailable(StateError):
    """The store cannot be reached or refuses Steward: an unreachable endpoint, wrong
    credentials, a bucket that does not exist. ``shown`` is the store URL."""

    def __init__(self, shown: str, reason: str, hint: str | None = None):
        self.shown, self.reason, self.hint = shown, reason, hint
        super().__init__(f"cannot use the store {shown}: {reason}"
                         + (f"\n    hint: {hint}" if hint else ""))
