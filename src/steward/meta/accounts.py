"""Users, API tokens and sessions of ``steward serve`` (tables of migration 9).

Secrets are kept only as hashes: passwords and API tokens as salted scrypt hashes
(``scrypt$n$r$p$salt$hash``), session ids, which are 256 random bits, as their SHA-256.
An API token reads ``stw_<id>_<secret>``: the id finds the row, the secret is checked
against its hash.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from steward.core.errors import NotFound, SelectionError
from steward.meta.tables import user_sessions as sessions
from steward.meta.tables import user_tokens as tokens
from steward.meta.tables import users

ROLES = ("viewer", "developer", "owner", "admin")
USER_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")
TOKEN_PATTERN = re.compile(r"^stw_([0-9a-f]{16})_([A-Za-z0-9_-]{20,100})$")
# scrypt cost: 2**14 rounds of 8 x 128 bytes (16 MiB), about 50 ms per check
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2 ** 14, 8, 1
SESSION_HOURS = 12
MIN_PASSWORD = 8

@dataclass(frozen=True)
class User:
    """A user of the server: a role, what an owner holds, and the ``pii`` permission."""

    name: str
    role: str
    domains: tuple[str, ...] = ()
    owners: tuple[str, ...] = ()
    pii: bool = False
    has_password: bool = False
    created_at: str = ""
    tokens: tuple[str, ...] = field(default=())

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "role": self.role, "domains": list(self.domains),
                "owners": list(self.owners), "pii": self.pii,
                "password": self.has_password, "tokens": len(self.tokens),
                "created_at": self.created_at}


def hash_secret(secret: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(secret.encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P,
                            maxmem=64 * 1024 * 1024, dklen=32)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${salt.hex()}${digest.hex()}"


def check_secret(secret: str, stored: str | None) -> bool:
    """True when ``secret`` matches ``stored`` (compared in constant time)."""
    if not stored:
        return False
    try:
        kind, n, r, p, salt, want = stored.split("$")
        if kind != "scrypt":
            return False
        got = hashlib.scrypt(secret.encode(), salt=bytes.fromhex(salt), n=int(n), r=int(r),
                             p=int(p), maxmem=64 * 1024 * 1024, dklen=32)
    except (ValueError, MemoryError):
        return False
    return hmac.compare_digest(got.hex(), want)


def _now() -> datetime:
    return datetime.now(UTC)


def _check_name(name: str) -> str:
    if not isinstance(name, str) or not USER_PATTERN.match(name):
        raise SelectionError(
            f"invalid user name {name!r}: use lower case letters, digits, '.', '_' and '-' "
            "(up to 64, starting with a letter or digit), like alice or ci-bot")
    return name


def _check_role(role: str) -> str:
    if role not in ROLES:
        raise SelectionError(f"unknown role {role!r}: one of {', '.join(ROLES)}")
    return role


class Accounts:
    """The three account tables over one SQLAlchemy engine."""

    def __init__(self, engine: sa.Engine):
        self.sa_engine = engine

    # -- users -------------------------------------------------------------------------
    def add(self, name: str, role: str, password: str | None = None,
            domains: Sequence[str] = (), owners: Sequence[str] = (), pii: bool = False,
            replace: bool = False) -> User:
        _check_name(name)
        _check_role(role)
        if password is not None and len(password) < MIN_PASSWORD:
            raise SelectionError(f"a password needs at least {MIN_PASSWORD} characters")
        row = {"name": name, "role": role, "domains_json": json.dumps(sorted(set(domains))),
               "owners_json": json.dumps(sorted(set(owners))), "pii": bool(pii),
               "password_hash": hash_secret(password) if password else None,
               "created_at": _now().isoformat()}
        with self.sa_engine.begin() as conn:
            old = conn.execute(sa.select(users.c.name, users.c.password_hash)
                               .where(users.c.name == name)).first()
            if old is not None and not replace:
                raise SelectionError(f"user {name!r} exists; 'steward users add {name} "
                                     "--replace' changes it")
            if old is not None:
                if password is None:
                    row["password_hash"] = old.password_hash
                conn.execute(users.delete().where(users.c.name == name))
            conn.execute(users.insert().values(**row))
        return self.get(name)

    def get(self, name: str) -> User:
        with self.sa_engine.connect() as conn:
            r = conn.execute(sa.select(users).where(users.c.name == name)).first()
            if r is None:
                raise NotFound(f"no user {name!r}; 'steward users list' shows them")
            toks = [t for (t,) in conn.execute(sa.select(tokens.c.id)
                                               .where(tokens.c.user_name == name))]
        return _user(r, toks)

    def list(self) -> list[User]:
        with self.sa_engine.connect() as conn:
            rows = conn.execute(sa.select(users).order_by(users.c.name)).all()
            toks: dict[str, list[str]] = {}
            for tid, who in conn.execute(sa.select(tokens.c.id, tokens.c.user_name)):
                toks.setdefault(who, []).append(tid)
        return [_user(r, toks.get(r.name, [])) for r in rows]

    def remove(self, name: str) -> None:
        with self.sa_engine.begin() as conn:
            n = conn.execute(users.delete().where(users.c.name == name)).rowcount
            if not n:
                raise NotFound(f"no user {name!r}; 'steward users list' shows them")
            conn.execute(tokens.delete().where(tokens.c.user_name == name))
            conn.execute(sessions.delete().where(sessions.c.user_name == name))

    def count(self) -> int:
        with self.sa_engine.connect() as conn:
            return int(conn.execute(sa.select(sa.func.count()).select_from(users)).scalar()
                       or 0)

    def login(self, name: str, password: str) -> User | None:
        """The user, if ``password`` is theirs; None otherwise (no hint which was wrong)."""
        with self.sa_engine.connect() as conn:
            r = conn.execute(sa.select(users).where(users.c.name == name)).first()
        if r is None:
            check_secret(password, _dummy())  # the same time whether the user exists or not
            return None
        return _user(r, []) if check_secret(password, r.password_hash) else None

    # -- API tokens --------------------------------------------------------------------
    def new_token(self, name: str, label: str | None = None) -> str:
        """A new API token for ``name``; the only time its secret is shown."""
        self.get(name)
        tid = secrets.token_hex(8)
        secret = secrets.token_urlsafe(32)
        with self.sa_engine.begin() as conn:
            conn.execute(tokens.insert().values(
                id=tid, user_name=name, label=label, secret_hash=hash_secret(secret),
                created_at=_now().isoformat()))
        return f"stw_{tid}_{secret}"

    def revoke_token(self, token_id: str) -> None:
        with self.sa_engine.begin() as conn:
            if not conn.execute(tokens.delete().where(tokens.c.id == token_id)).rowcount:
                raise NotFound(f"no token {token_id!r}")

    def token_user(self, token: str) -> User | None:
        m = TOKEN_PATTERN.match(token or "")
        if m is None:
            return None
        with self.sa_engine.connect() as conn:
            t = conn.execute(sa.select(tokens).where(tokens.c.id == m.group(1))).first()
            if t is None:
                return None
            r = conn.execute(sa.select(users).where(users.c.name == t.user_name)).first()
        if r is None or not check_secret(m.group(2), t.secret_hash):
            return None
        return _user(r, [t.id])

    def stamp(self) -> str:
        """A text that changes whenever a token is issued or revoked or a user is added,
        removed or given another role, domains, owners or PII permission: what a cache of
        verified tokens must be dropped on."""
        with self.sa_engine.connect() as conn:
            return accounts_stamp(conn.exec_driver_sql(STAMP_SQL).all())

    # -- sessions ----------------------------------------------------------------------
    def new_session(self, name: str) -> tuple[str, str]:
        """(session id for the cookie, CSRF token of the session)."""
        sid, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        expires = (_now() + timedelta(hours=SESSION_HOURS)).isoformat()
        with self.sa_engine.begin() as conn:
            conn.execute(sessions.delete().where(sessions.c.expires_at < _now().isoformat()))
            conn.execute(sessions.insert().values(id_hash=_sha(sid), user_name=name,
                                                  csrf=csrf, expires_at=expires))
        return sid, csrf

    def session(self, sid: str) -> tuple[User, str] | None:
        """(user, CSRF token) of a live session, or None."""
        if not sid or len(sid) > 200:
            return None
        with self.sa_engine.connect() as conn:
            s = conn.execute(sa.select(sessions).where(sessions.c.id_hash == _sha(sid))).first()
            if s is None or s.expires_at < _now().isoformat():
                return None
            r = conn.execute(sa.select(users).where(users.c.name == s.user_name)).first()
        return None if r is None else (_user(r, []), s.csrf)

    def end_session(self, sid: str) -> None:
        with self.sa_engine.begin() as conn:
            conn.execute(sessions.delete().where(sessions.c.id_hash == _sha(sid)))


@functools.cache
def _dummy() -> str:
    return hash_secret(secrets.token_hex(8))


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _user(r: Any, toks: Sequence[str]) -> User:
    return User(r.name, r.role, tuple(json.loads(r.domains_json or "[]")),
                tuple(json.loads(r.owners_json or "[]")), bool(r.pii),
                r.password_hash is not None, r.created_at, tuple(toks))


STAMP_SQL = ("SELECT 't', id, user_name, '', '', '' FROM user_tokens UNION ALL "
             "SELECT 'u', name, role, domains_json, owners_json, CAST(pii AS TEXT) FROM users")
"""Every row a token's user depends on (small tables: an account per person)."""


def accounts_stamp(rows: Any) -> str:
    """The stamp of the rows :data:`STAMP_SQL` read, whatever their order."""
    return _sha(repr(sorted(tuple(str(v) for v in r) for r in rows)))
