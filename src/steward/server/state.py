"""What the server keeps between requests: the Context, its derived caches, the jobs.

The project is loaded once; a watcher thread loads it again every few seconds (from the
load cache, so cheaply when nothing changed) and swaps in a new Context when the
declarations changed. Everything in the metastore (runs, versions, pointers, audit) is
read live on each request.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from steward.server.auth import TokenCache
from steward.server.jobs import Jobs

WATCH_SECONDS = 2.0
MEMO_ENTRIES = 4000
# pages and documents kept in memory, by the size of their text: the server's resident
# memory stays bounded (under 300 MB on a 1,000-product project) however many are read
MEMO_BYTES = 32 * 1024 * 1024
OTHER_BYTES = 2048  # what a value that is not text is counted as
# pages and documents made at once on worker threads; more only queue for the GIL and
# delay the answers that come from memory
MAKERS = 2
MISSING = object()
FLUSH_SECONDS = 10.0  # how often the counts of reads are written to the metastore
WARM_AFTER_S = 5.0  # warm this long after start at the latest, answered or not
STOP_WAIT_S = 10.0  # how long stopping waits for each thread


@dataclass
class Settings:
    host: str = "127.0.0.1"
    port: int = 8400
    watch: bool = True
    secure_cookies: bool = False  # set behind HTTPS
    operate: bool = False  # fire schedules, watch freshness and alerts (steward serve does)


@dataclass
class Derived:
    """Values computed from one loaded project and reused until it changes: per
    environment, the column lineage (graph, classifications) and whether the search index
    was brought up to date, each under the audit event that last moved its pointers."""

    key: str | None
    lineage: dict[str, tuple[Any, Any, Any, dict[str, set[str]]]] = field(default_factory=dict)
    indexed: dict[str, Any] = field(default_factory=dict)
    memo: OrderedDict[Any, Any] = field(default_factory=OrderedDict)
    memo_bytes: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


class ServerState:
    def __init__(self, root: str, settings: Settings | None = None):
        from steward.context import Context

        self.settings = settings or Settings()
        self.ctx = Context(root)
        self.ctx.project  # noqa: B018  (load now: a broken project fails at start)
        self.ctx.metastore  # noqa: B018  (and migrate it before the first request)
        self.root = self.ctx.root
        self.jobs = Jobs()
        self.tokens = TokenCache()
        self.derived = Derived(self.ctx.project.load_key)
        self._stop = threading.Event()
        self.answering = threading.Event()  # set by the first answered request
        self.lean_answered = 0  # answers of the lean path (steward.server.lean)
        self._users: tuple[float, int] | None = None
        self.loopback = is_loopback(self.settings.host)
        self._local_user: str | None = None
        self._changes: tuple[float, Any] | None = None
        # what says the metastore changed, and what was read under each generation
        self._generation: Any = None
        self._generation_lock = threading.Lock()
        self._accounts: tuple[int, str] | None = None  # (generation, accounts' stamp)
        self._stamps: dict[str, tuple[int, tuple[Any, ...]]] = {}
        self._moved: dict[str, tuple[int, Any]] = {}
        self._makers: Any = None
        self._read_counts: dict[tuple[str, str, str], int] = {}
        self._read_lock = threading.Lock()
        self._flushed = time.monotonic()
        self._threads: list[threading.Thread] = []
        self.operations: Any = None

    def start(self) -> None:
        """Start the watch and the operations' threads (once the server will serve)."""
        if self.settings.watch:
            watch = threading.Thread(target=self._watch, name="steward-watch", daemon=True)
            watch.start()
            self._threads.append(watch)
        if self.settings.operate:
            from steward.server.operate import Operations

            self.operations = Operations(self)
            self._threads += self.operations.start()

    def stop(self) -> None:
        """Stop the threads and wait for them: one left inside the engine when the
        interpreter exits would abort the process."""
        self._stop.set()
        if self.operations is not None:
            self.operations.stop()
        for t in self._threads:
            if t is not threading.current_thread():
                t.join(STOP_WAIT_S)
        self.flush_reads()
        with self._generation_lock:
            if self._generation:
                self._generation.close()
            self._generation = False

    def _watch(self) -> None:
        # the first answer comes first (starting is what a user waits for), then the
        # first product page and search need the lineage and the index: made now
        deadline = time.monotonic() + WARM_AFTER_S
        while not self.answering.wait(0.1):
            if self._stop.is_set():
                return
            if time.monotonic() >= deadline:
                break
        try:
            self.lineage()
            self.search_index().close()
            self.downstream()
            warm()
        except Exception:
            pass
        while not self._stop.wait(WATCH_SECONDS):
            if time.monotonic() - self._flushed >= FLUSH_SECONDS:
                self.flush_reads()
            try:
                self.reload()
            except Exception:  # a project mid-edit: keep serving the last good one
                continue

    def reload(self) -> bool:
        """Load the project again; True when its declarations changed."""
        from steward.context import Context
        from steward.project import cache
        from steward.project.loader import load_project
        from steward.project.paths import project_folders

        # the key of the load cache first (the stat data of the files the project is read
        # from): while it is the loaded project's, a load would only read the cache back
        folders = project_folders(self.root)
        current = self.ctx.project.load_key
        if folders is not None and current is not None \
                and cache.digest(self.root, folders) == current:
            return False
        project = load_project(self.root)
        if project.load_key == self.ctx.project.load_key:
            return False
        ctx = Context(self.root)
        ctx.__dict__["project"] = project
        ctx.__dict__["metastore"] = self.ctx.metastore
        self.ctx = ctx
        self.derived = Derived(project.load_key)
        return True

    def lineage(self, env: str | None = None) -> tuple[Any, Any]:
        """(column lineage graph, classifications) of the project over ``env``'s versions."""
        hit = self._lineage(env)
        return hit[1], hit[2]

    def _lineage(self, env: str | None) -> tuple[Any, Any, Any, dict[str, set[str]]]:
        """(moved, graph, classifications, personal columns by product) of ``env``."""
        ctx, d = self.ctx, self.derived
        env = env or ctx.default_env
        moved = self.moved(env)  # None: no such environment
        with d.lock:
            hit = d.lineage.get(env)
            if hit is None or hit[0] != moved:
                from steward.catalog.service import lineage
                from steward.server.masking import pii_by_product

                graph, classes = lineage(ctx.project, ctx.metastore, env)
                hit = d.lineage[env] = (moved, graph, classes, pii_by_product(classes))
            return hit

    def memo(self, key: Any, make: Any, keep: Any = None) -> Any:
        """``make()``, reused while ``key`` (and the project) stays the same; a value for
        which ``keep(value)`` is false is returned but not remembered."""
        d = self.derived
        with d.lock:
            if key in d.memo:
                d.memo.move_to_end(key)
                return d.memo[key]
        value = make()
        if keep is not None and not keep(value):
            return value
        with d.lock:
            if key in d.memo:
                d.memo_bytes -= _size(d.memo[key])
            d.memo[key] = value
            d.memo_bytes += _size(value)
            # the least recently used goes first
            while len(d.memo) > MEMO_ENTRIES or (d.memo_bytes > MEMO_BYTES and len(d.memo) > 1):
                d.memo_bytes -= _size(d.memo.popitem(last=False)[1])
        return value

    def remembered(self, key: Any) -> Any:
        """The value :meth:`memo` keeps under ``key``, or :data:`MISSING`."""
        d = self.derived
        with d.lock:
            hit = d.memo.get(key, MISSING)
            if hit is not MISSING:
                d.memo.move_to_end(key)
            return hit

    async def made(self, key: Any, make: Any) -> Any:
        """:meth:`memo` for a route on the event loop: a value in memory is answered at
        once; one to make is made on a worker thread, at most :data:`MAKERS` at a time."""
        hit = self.remembered(key)
        if hit is not MISSING:
            return hit
        import anyio.to_thread

        if self._makers is None:
            self._makers = anyio.CapacityLimiter(MAKERS)
        return await anyio.to_thread.run_sync(self.memo, key, make, limiter=self._makers)

    def changes(self) -> tuple[Any, ...]:
        """What says the metastore changed: the last audit event (every pointer move,
        promotion, rollback and check from the web), the last run and its status, and a
        ten-second tick (profiles are written on a side thread after a version is
        published). Asked at most once a second."""
        now = time.monotonic()
        hit = self._changes
        if hit is not None and now - hit[0] < 1.0:
            return hit[1]  # type: ignore[no-any-return]
        ctx = self.ctx
        last = ctx.audit_trail().log(None, None, None, None, 1)
        runs = ctx.runs(1)
        key = (last[0].seq if last else 0, (runs[0].id, runs[0].status) if runs else None,
               int(time.time() // 10))
        self._changes = (now, key)
        return key

    def generation(self) -> int | None:
        """A number that changes whenever another connection commits to the metastore
        (SQLite's ``data_version``, asked on a connection of the server's own, which never
        writes): while it stays the same, nothing read from the metastore can have
        changed. None where there is no such number (a server database): then every
        request reads what it depends on again."""
        with self._generation_lock:
            con = self._generation
            if con is None:
                from steward.meta.reads import connect, sqlite_file

                path = sqlite_file(self.ctx.metastore.reads.url)
                if path is None:
                    self._generation = con = False
                else:
                    self._generation = con = connect(path)
            if con is False:
                return None
            return int(con.execute("PRAGMA data_version").fetchone()[0])

    def accounts_stamp(self, known_only: bool = False) -> str | None:
        """The accounts' stamp (``Accounts.stamp``), read again only when the metastore
        changed. ``known_only``: None rather than a read through the metastore's engine
        (on SQLite the read is one small query on the server's own connection)."""
        gen = self.generation()
        hit = self._accounts
        if gen is not None and hit is not None and hit[0] == gen:
            return hit[1]
        if gen is not None:
            from steward.meta.accounts import STAMP_SQL, accounts_stamp

            with self._generation_lock:
                con = self._generation
                stamp = accounts_stamp(con.execute(STAMP_SQL).fetchall()) if con else None
            if stamp is not None:
                self._accounts = (gen, stamp)
                return stamp
        if known_only:
            return None
        return self.ctx.accounts().stamp()

    def moved(self, env: str) -> Any:
        """The audit event that last moved ``env``'s pointers (None for no environment),
        read again only when the metastore changed."""
        gen = self.generation()
        hit = self._moved.get(env)
        if gen is not None and hit is not None and hit[0] == gen:
            return hit[1]
        seq = self.ctx.reads.env_audit_seq(env)
        if gen is not None:
            if len(self._moved) > 1000:
                self._moved.clear()
            self._moved[env] = (gen, seq)
        return seq

    def pointer_map(self, env: str) -> dict[str, str]:
        """``env``'s pointers (product -> version id), read again when they move."""
        return self.memo(("pointers", env, self.moved(env)),  # type: ignore[no-any-return]
                         lambda: self.ctx.metastore.pointer_map(env))

    def metastore(self) -> Any:
        """The metastore, with pointer maps and the environment list remembered."""
        return _Remembering(self)

    def classes(self) -> dict[Any, Any]:
        """(product, column) -> (classifications, via): declared and propagated."""
        return self.lineage()[1]  # type: ignore[no-any-return]

    def search_index(self, env: str | None = None) -> Any:
        """The catalog index, synced when the project or ``env``'s pointers changed; the
        caller closes it."""
        ctx, d = self.ctx, self.derived
        env = env or ctx.default_env
        moved = self.moved(env)
        from steward.catalog.search import CatalogIndex, project_entries

        with d.lock:
            if d.indexed.get(env, "never") == moved:
                return CatalogIndex.for_project(ctx.project.root)
        graph, classes = self.lineage(env)
        with d.lock:
            index = CatalogIndex.for_project(ctx.project.root)
            index.sync(project_entries(ctx.project, graph.columns, classes))
            d.indexed[env] = moved
            return index

    def count_read(self, product: str, via: str, actor: str) -> None:
        """Count one read of ``product`` by ``actor`` (``via`` api or web), in memory:
        :meth:`flush_reads` writes the counts (every ten seconds, and at stop)."""
        key = (product, via, actor)
        with self._read_lock:
            self._read_counts[key] = self._read_counts.get(key, 0) + 1

    def flush_reads(self) -> int:
        """Write the counted reads in one transaction; kept for the next try when the
        metastore cannot take them. Returns the rows written."""
        from steward.meta.usage import record_queries

        with self._read_lock:
            counts, self._read_counts = self._read_counts, {}
            self._flushed = time.monotonic()
        if not counts:
            return 0
        try:
            return record_queries(self.ctx.metastore, counts)
        except Exception:
            with self._read_lock:
                for k, n in counts.items():
                    self._read_counts[k] = self._read_counts.get(k, 0) + n
            return 0

    def stamp(self, product: str) -> tuple[Any, ...]:
        """What a page about ``product`` depends on in the metastore (one indexed
        statement, see :mod:`steward.meta.productreads`); a page is made again when it
        changes, not when any other product's run step or check is written. Read again
        only when the metastore's :meth:`generation` moved since it was last read."""
        from steward.meta.productreads import stamp

        gen = self.generation()
        hit = self._stamps.get(product)
        if gen is not None and hit is not None and hit[0] == gen:
            return hit[1]
        # (a commit between the two reads leaves a newer stamp under an older
        # generation: the next request reads it again)
        made = stamp(self.ctx.metastore.reads, product)
        if gen is not None:
            if len(self._stamps) > 100_000:
                self._stamps.clear()
            self._stamps[product] = (gen, made)
        return made

    def downstream(self) -> dict[str, list[str]]:
        """Product -> the products reading it (once per loaded project)."""
        def make() -> dict[str, list[str]]:
            out: dict[str, list[str]] = {}
            for n, p in self.ctx.project.products.items():
                for i in p.inputs:
                    out.setdefault(i, []).append(n)
            return out

        return self.memo(("downstream",), make)  # type: ignore[no-any-return]

    def pii_of(self, product: str, env: str | None = None) -> set[str]:
        """Lower-cased names of ``product``'s personal columns (declared or inherited),
        from an index made with the lineage."""
        return set(self._lineage(env)[3].get(product, ()))

    def open_mode(self, known_only: bool = False) -> bool | None:
        """True while no user exists: the server acts as the local user (loopback only;
        a server bound to another address never opens, even if every user is removed).
        ``known_only``: None instead of asking the metastore when the count is stale."""
        if not self.loopback:
            return False
        now = time.monotonic()
        if self._users is None or now - self._users[0] > 2.0:
            if known_only:
                return None
            self._users = (now, self.ctx.accounts().count())
        return self._users[1] == 0

    def local_user(self) -> str:
        """Who an open server acts as: the user who started it (``$STEWARD_ACTOR``, else
        the operating-system user), read once."""
        if self._local_user is None:
            from steward.core.ids import actor

            self._local_user = actor()
        return self._local_user

    def users_changed(self) -> None:
        self._users = None
        self.tokens.clear()


class _Remembering:
    """The metastore as the catalog card reads it, with what a page asks again and again
    (every environment's pointers) answered from the server's memory."""

    def __init__(self, state: ServerState):
        self._state = state
        self._ms = state.ctx.metastore

    def __getattr__(self, name: str) -> Any:
        return getattr(self._ms, name)

    def pointer_map(self, env: str) -> dict[str, str]:
        return self._state.pointer_map(env)

    def environments(self) -> list[dict[str, Any]]:
        return self._state.memo(("environments", self._state.changes()),  # type: ignore[no-any-return]
                                self._ms.environments)


def warm() -> None:
    """Import and compile what the first product page and card need, so the first
    visitor after a start does not wait for it."""
    import steward.meta.productreads
    import steward.profile.drift
    import steward.profile.report  # noqa: F401
    from steward.server import pages, views  # noqa: F401

    for template in ("product.html", "home.html", "search.html"):
        pages.templates().get_template(template)


def is_loopback(host: str) -> bool:
    """True for an address only this machine can reach (127.0.0.0/8, ::1, localhost)."""
    import ipaddress

    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _size(value: Any, depth: int = 0) -> int:
    """About how much memory ``value`` holds: its text, and the text of what it contains
    (charts, documents) a few levels down; anything else a flat :data:`OTHER_BYTES`."""
    if isinstance(value, (str, bytes)):
        return len(value)
    if depth < 4:
        if isinstance(value, dict):
            return 64 + sum(_size(k, depth + 1) + _size(v, depth + 1) for k, v in value.items())
        if isinstance(value, (list, tuple)):
            return 64 + sum(_size(v, depth + 1) for v in value)
    return OTHER_BYTES if depth == 0 else 64
