"""The parts of a project the run layer's verbs use, as a typed protocol.

Environment verbs (``run/envops.py``) and garbage collection (``run/gc.py``) take the
parts they need through this protocol, never the whole ``Context`` typed ``Any``. The
``Context`` facade satisfies it (each part is opened lazily there, so a verb that never
asks for the metastore's SQLAlchemy engine never imports SQLAlchemy); a server or a test
can hand in any object with these attributes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol

from steward.core.errors import NotFound, PlanError

if TYPE_CHECKING:
    from steward.core.model import Product, Project
    from steward.engine.base import Engine
    from steward.meta.reads import Reads
    from steward.meta.store import Metastore
    from steward.store.base import Store


class Trail(Protocol):
    """The audit trail: appends in a caller's transaction (``meta.audit.AuditSink``; not
    imported here, which would import SQLAlchemy into ``steward plan``), or on its own."""

    def append_in(self, conn: Any, action: str, targets: Sequence[str], before: Any,
                  after: Any, reason: str | None) -> int: ...

    def committed(self) -> None: ...

    def log(self, action: str | None = None, actor: str | None = None,
            target: str | None = None, since: str | None = None, limit: int | None = 100,
            actions: Sequence[str] | None = None) -> list[Any]:
        """Events matching the filters, newest first."""
        ...

    def append(self, actor: str, action: str, targets: Sequence[str] = (), before: Any = None,
               after: Any = None, reason: str | None = None) -> Any: ...


class Parts(Protocol):
    """What environment verbs and gc read and write."""

    @property
    def root(self) -> str: ...

    @property
    def state_dir(self) -> str:
        """The project's own state folder (locks, caches, views)."""
        ...

    @property
    def default_env(self) -> str: ...

    @property
    def lock_url(self) -> str | None:
        """The metastore's URL when the project lock is held there (PostgreSQL)."""
        ...

    @property
    def project(self) -> Project: ...

    @property
    def metastore(self) -> Metastore: ...

    @property
    def reads(self) -> Reads: ...

    @property
    def store(self) -> Store: ...

    @property
    def engine(self) -> Engine: ...

    def env_name(self, env: str | None) -> str:
        """``env`` (default: the project's default environment), validated."""
        ...

    def audit_trail(self) -> Trail:
        """The audit trail events are appended to."""
        ...


def resolve_product(project: Project, name: str) -> Product:
    """The product called ``name`` (its full name, or a short name that is unique)."""
    if name in project.products:
        return project.products[name]
    hits = [p for n, p in project.products.items() if n.split(".", 1)[-1] == name]
    if len(hits) == 1:
        return hits[0]
    if hits:
        raise NotFound(f"{name!r} is ambiguous: " + ", ".join(sorted(h.name for h in hits)))
    import difflib

    close = difflib.get_close_matches(name, list(project.products), n=1)
    raise NotFound(f"no product {name!r}" + (f"; did you mean '{close[0]}'?" if close else ""))


def refuse_protected(project: Project, env: str, what: str) -> None:
    """Refuse ``what`` on a protected environment (only promote changes one)."""
    # (from the stored data: a run that builds nothing validates no spec)
    if env in (project.spec_dump.get("environments") or {}).get("protected", ()):
        raise PlanError(
            f"environment '{env}' is protected (environments.protected in steward.yaml): "
            f"only 'steward promote' changes it, not '{what}'. Work in another "
            f"environment (steward run --env dev) and promote it"
        )
