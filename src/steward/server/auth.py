"""Who is asking, and what they may do.

Without any user in the metastore the server is *open*: it binds only to a loopback
address and every request acts as the local user, as the command line does. Once a user
exists, every request needs a session cookie (the web pages) or a bearer token (the API).

Roles, each including the ones before it:

- ``viewer`` reads everything (PII values masked unless the user has ``pii``);
- ``developer`` runs and checks products into environments that are not protected;
- ``owner`` promotes and rolls back the products of the domains or owners they hold;
- ``admin`` does anything, for any product (users are managed from the command line).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from steward.core.errors import StewardError

RANK = {"viewer": 0, "developer": 1, "owner": 2, "admin": 3}
SESSION_COOKIE = "steward_session"
CSRF_COOKIE = "steward_csrf"
TOKEN_CACHE_SECONDS = 60.0


class Denied(StewardError):
    """The signed-in user may not do this (HTTP 403)."""

    exit_code = 5


class Unauthenticated(StewardError):
    """No valid session or token (HTTP 401)."""

    exit_code = 5


@dataclass(frozen=True)
class Principal:
    """The user a request acts for."""

    name: str
    role: str
    domains: tuple[str, ...] = ()
    owners: tuple[str, ...] = ()
    pii: bool = False
    via: str = "local"  # local (open server), session or token
    csrf: str = ""

    def at_least(self, role: str) -> bool:
        return RANK[self.role] >= RANK[role]

    def holds(self, product: Any) -> bool:
        """True for an admin, or an owner holding the product's domain or owner."""
        if self.role == "admin":
            return True
        if self.role != "owner":
            return False
        return product.domain in self.domains or (product.owner or "") in self.owners

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "role": self.role, "domains": list(self.domains),
                "owners": list(self.owners), "pii": self.pii, "via": self.via}


def from_user(user: Any, via: str, csrf: str = "") -> Principal:
    return Principal(user.name, user.role, tuple(user.domains), tuple(user.owners),
                     bool(user.pii), via, csrf)


def require(who: Principal, role: str, what: str) -> None:
    if not who.at_least(role):
        raise Denied(f"{who.name} ({who.role}) may not {what}: it needs the role {role} or "
                     "above; an admin can change roles with 'steward users add NAME --role "
                     f"{role} --replace'")


def require_holds(who: Principal, products: Iterable[Any], what: str) -> None:
    """Refuse unless ``who`` holds every product (an owner of them, or an admin)."""
    require(who, "owner", what)
    missing = [p for p in products if not who.holds(p)]
    if missing:
        names = ", ".join(f"{p.name} (domain {p.domain}, owner {p.owner or 'none'})"
                          for p in missing[:5])
        more = f" and {len(missing) - 5} more" if len(missing) > 5 else ""
        held = ", ".join([*(f"domain {d}" for d in who.domains),
                          *(f"owner {o}" for o in who.owners)]) or "nothing"
        raise Denied(f"{who.name} may not {what}: {names}{more} would change, and "
                     f"{who.name} holds {held}")


@dataclass
class TokenCache:
    """Verified API tokens for a minute while the accounts stay as they were: scrypt
    costs tens of milliseconds a check."""

    entries: dict[str, tuple[float, Any]] = field(default_factory=dict)

    stamp: str | None = None  # the accounts' stamp the entries were verified under

    def get(self, token: str, stamp: str | None) -> Any:
        """The user of ``token`` if it was verified in the last minute under the accounts'
        current ``stamp`` (``steward.meta.accounts.Accounts.stamp``): a token revoked, or
        a user removed or changed, is never answered from here. None: verify it."""
        if stamp is None or stamp != self.stamp:
            return None
        key = hashlib.sha256(token.encode()).hexdigest()
        hit = self.entries.get(key)
        if hit is not None and time.monotonic() - hit[0] < TOKEN_CACHE_SECONDS:
            return hit[1]
        return None

    def put(self, token: str, user: Any, stamp: str | None) -> None:
        if stamp != self.stamp or len(self.entries) > 10_000:
            self.entries.clear()
            self.stamp = stamp
        if stamp is not None:
            self.entries[hashlib.sha256(token.encode()).hexdigest()] = (time.monotonic(), user)

    def clear(self) -> None:
        self.entries.clear()


def new_csrf() -> str:
    return secrets.token_urlsafe(32)


def same(a: str | None, b: str | None) -> bool:
    return bool(a) and bool(b) and hmac.compare_digest(str(a), str(b))
