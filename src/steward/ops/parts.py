"""What the operations (freshness, alerts, schedules, delivery, maturity, metrics,
usage) read from a project: the run layer's parts (``steward.run.parts.Parts``) and a
few of the ``Context``'s own answers. The operations take this protocol, never the whole
``Context`` typed ``Any``; ``Context`` satisfies it (mypy checks every call site).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol

from steward.run.parts import Parts

if TYPE_CHECKING:
    from steward.core.model import Product
    from steward.core.records import RunResult, Version
    from steward.run.console import Console


class OpsParts(Parts, Protocol):
    console: Console

    def current(self, env: str | None = None) -> dict[str, Version]:
        """The versions ``env``'s pointers name (default: the default environment)."""
        ...

    def resolve_product(self, name: str) -> Product: ...

    def audit(self, action: str, targets: Sequence[str] = (), before: Any = None,
              after: Any = None, reason: str | None = None) -> Any:
        """Append one event to the audit trail."""
        ...

    def runner(self) -> Any: ...

    def run(self, select: Sequence[str] = (), exclude: Sequence[str] = (),
            env: str | None = None, full_refresh: bool = False, wait: float = 0.0,
            from_env: str | None = None, workers: int | None = None,
            rehash: bool = False) -> RunResult: ...
