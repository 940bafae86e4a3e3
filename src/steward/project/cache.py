"""The caches of the loaded project, keyed by the stat data of every file it read.

Loading a 1,000-product project parses 2,000 files and validates 1,000 specs; a no-op
``steward run`` should not pay for that again. The key lists every file under the
folders the loader walks (any file added, removed or touched changes it); source data
files are not in the key: they are re-hashed through the stat cache on every load.

Two files, both plain data (MessagePack through ``steward.core.plain``, never a pickle):
``project.msgpack``, the last loaded :class:`Project`, and ``models.msgpack``, the load
memo (see ``steward.project.loader``). Each object has an explicit pair of functions
here, to and from plain data; reading a cache calls nothing its data names. A spec is
kept as its fields and validated again on first use (``steward.core.model.SpecRef``).
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import sys
from typing import TYPE_CHECKING, Any

from steward.project.files import Listing, stat_key

if TYPE_CHECKING:  # (the no-op fast path computes the key alone: digest() imports neither)
    from steward.core.model import Product, Project, SpecRef
    from steward.project.yamlload import Located

_FORMAT = 9  # 2: the key pickled ahead of the value; 3: specs kept as plain facts; 4: memo
# entries of models name their spec's key; 5: specs validated with their check arguments
# and column types (project/checkargs.py), and the sidecar warnings; 6: signed, stat keys
# with ctime and inode; 7: typed Project.warnings and glossary_ref instead of extra;
# 8: keyed on all of Steward's code (steward.core.codekey); 9: plain data, not pickles


@functools.cache
def _version() -> str:
    """Cache format, Python version and Steward's own code (``steward.core.codekey``):
    an edit to any module, not only those whose models a cache rebuilds, makes every
    cache stale."""
    from steward.core.codekey import code_digest

    return f"{_FORMAT}:{sys.version_info[:2]}:{code_digest()}"


def digest(root: str, folders: list[str], listing: Listing | None = None) -> str:
    """The key: stat data of steward.yaml, glossary.yaml and every file in ``folders``."""
    import xxhash

    h = xxhash.xxh3_128()
    h.update(_version().encode())
    for name in ("steward.yaml", "glossary.yaml"):
        _add(h, os.path.join(root, name), name, listing)
    names = env_names(root)
    if names:  # ${VAR} in steward.yaml or sources: the values are part of the project
        h.update(json.dumps([os.environ.get(n) for n in names]).encode())
    for folder in folders:
        base = os.path.join(root, folder)
        if listing is not None:
            listing.bases.add(base)
        for d, dirs, files in os.walk(base):
            dirs.sort()
            for f in sorted(files):
                path = os.path.join(d, f)
                _add(h, path, path[len(root) + 1:], listing)  # (os.walk joins onto root)
    return h.hexdigest()


def _env_path(root: str) -> str:
    return os.path.join(root, ".steward", "cache", "env.json")


def env_names(root: str) -> list[str]:
    """The environment variables the last load of the project read (``${VAR}``)."""
    try:
        with open(_env_path(root)) as f:
            names = json.load(f)
    except (OSError, ValueError):
        return []
    return [str(n) for n in names] if isinstance(names, list) else []


def write_env_names(root: str, names: list[str]) -> None:
    path = _env_path(root)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "w") as f:
        json.dump(names, f)
    os.replace(tmp, path)


def _add(h: Any, path: str, rel: str, listing: Listing | None) -> None:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        h.update(f"{rel}:-\n".encode())
        return
    key = stat_key(st)
    h.update(f"{rel}:{key[0]}:{key[1]}:{key[2]}:{key[3]}\n".encode())
    if listing is not None:
        listing.files[path] = key


# The files are signed with a key kept outside the project: a cache restored from an
# untrusted CI cache, or copied from another machine, is ignored (its data is never run,
# but it could still say a model's SQL is other than its file's). blake2b keyed with
# $STEWARD_CACHE_KEY, or with a random key created once in the user's config folder
# (mode 0600).
_MAGIC = b"STWDP1"
_MAC = 32


@functools.cache
def _secret() -> bytes | None:
    env = os.environ.get("STEWARD_CACHE_KEY")
    if env:
        return env.encode()
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"),
                                                               ".config")
    path = os.path.join(base, "steward", "cache.key")
    try:
        with open(path, "rb") as f:
            key = f.read()
        if len(key) >= 32:
            return key
    except OSError:
        pass
    try:
        os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
        fd = os.open(path + f".{os.getpid()}", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(os.urandom(32))
        os.replace(path + f".{os.getpid()}", path)
        with open(path, "rb") as f:
            return f.read()
    except OSError:
        return None  # nowhere to keep a key: no cache, only slower loads


def _mac(data: bytes) -> bytes | None:
    import hashlib

    secret = _secret()
    if secret is None:
        return None
    return hashlib.blake2b(data, key=secret[:64], digest_size=_MAC).digest()


def _load(path: str, key: str) -> Any:
    """The plain data stored at ``path`` under ``key``; None when absent, stale,
    truncated, unsigned or signed with another key.

    Layout: magic, the key's MAC, its length and text, then the value's MAC and
    MessagePack, whose arrays are read as tuples. A stale file's value is not read.
    """
    import hmac

    from steward.core.plain import unpack

    kraw = key.encode()
    try:
        with open(path, "rb") as f:
            head = f.read(len(_MAGIC) + _MAC + 4 + len(kraw))
            if head[:len(_MAGIC)] != _MAGIC:
                return None
            at = len(_MAGIC)
            kmac, klen = head[at:at + _MAC], int.from_bytes(head[at + _MAC:at + _MAC + 4], "big")
            want = _mac(kraw)
            if (klen != len(kraw) or head[at + _MAC + 4:] != kraw or want is None
                    or not hmac.compare_digest(kmac, want)):
                return None
            vmac = f.read(_MAC)
            vraw = f.read()
        want = _mac(vraw)
        if want is None or not hmac.compare_digest(vmac, want):
            return None
        return unpack(vraw, lists=False)
    except (OSError, ValueError):
        return None


def _dump(path: str, key: str, value: Any) -> None:
    from steward.core.plain import pack

    kraw = key.encode()
    vraw = pack(value)
    kmac, vmac = _mac(kraw), _mac(vraw)
    if kmac is None or vmac is None:
        return
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "wb") as f:
        f.write(_MAGIC + kmac + len(kraw).to_bytes(4, "big") + kraw + vmac)
        f.write(vraw)
    os.replace(tmp, path)


# what reading plain data that is not what these functions wrote can raise
_MALFORMED = (KeyError, IndexError, TypeError, ValueError, AttributeError)


def read(path: str, key: str) -> Project | None:
    """The project cached at ``path`` under ``key``, if current (its root left empty:
    the caller gives it the folder it was found in)."""
    data = _load(path, key)
    try:
        return None if data is None else project_from_plain(data)
    except _MALFORMED:
        return None


def write(path: str, key: str, project: Project) -> None:
    """Cache ``project`` (one that cannot be written only costs time at the next load)."""
    with contextlib.suppress(OSError, *_MALFORMED):
        _dump(path, key, project_to_plain(project))
    for old in ("project.pickle", "models.pickle"):  # (what versions before 9 wrote)
        with contextlib.suppress(OSError):
            os.remove(os.path.join(os.path.dirname(path), old))


def read_memo(path: str) -> dict[Any, Any] | None:
    """The per-file memo of the last load (see ``steward.project.loader``), if current."""
    data = _load(path, _version())
    try:
        return None if data is None else memo_from_plain(data)
    except _MALFORMED:
        return None


def write_memo(path: str, memo: dict[Any, Any]) -> None:
    with contextlib.suppress(OSError, *_MALFORMED):
        _dump(path, _version(), memo_to_plain(memo))


# -- to and from plain data -----------------------------------------------------------
# Arrays come back as tuples (what the objects keep); what must hold lists (a spec's
# dump, a YAML document's data) is packed apart and read with lists, the dumps only on
# first use. A product is one array of its fields in the order of _PRODUCT.

_PRODUCT = ("name", "kind", "file", "line", "code", "normalized_code", "inputs", "params",
            "outputs", "meta_file", "function", "ref_spans", "check_inputs", "spec_type",
            "spec_data", "spec_dump_data", "spec_json", "check_uses", "local_digest",
            "metadata_fp", "code_fp")
_OPTIONAL = frozenset(("local_digest", "metadata_fp", "code_fp"))  # Product._DERIVED: None
# when not computed


def product_to_plain(p: Product) -> list[Any]:
    d = {**p.__dict__, **p.plain_facts()}
    return [d.get(k) if k in _OPTIONAL else d[k] for k in _PRODUCT]


def product_from_plain(row: tuple[Any, ...]) -> Product:
    from steward.core.model import SPEC_TYPES, Product

    if len(row) != len(_PRODUCT):
        raise ValueError("not a product")
    state = dict(zip(_PRODUCT, row, strict=True))
    if state["spec_type"] not in SPEC_TYPES or not isinstance(state["spec_data"], bytes):
        raise ValueError("not a product")
    for k in _OPTIONAL:
        if state[k] is None:
            del state[k]
    p: Product = object.__new__(Product)
    p.__dict__.update(state)
    return p


def project_to_plain(project: Project) -> list[Any]:
    """``project`` as plain data, without its root (a moved or copied project keeps
    its cache) and its source hashes (taken again at every load)."""
    from steward.core.plain import pack

    spec = project.plain_facts()
    glossary = project.glossary_ref
    return [spec["spec_type"], spec["spec_data"], spec["spec_dump_data"],
            [product_to_plain(p) for p in project.products.values()],
            list(project.warnings),
            None if glossary is None else pack(specref_to_plain(glossary)),
            project.load_key]


def project_from_plain(row: tuple[Any, ...]) -> Project:
    from steward.core.model import Project
    from steward.core.plain import unpack

    spec_type, data, dump, products, warnings, glossary, load_key = row
    if spec_type != "ProjectSpec" or not isinstance(data, bytes):
        raise ValueError("not a project")
    ps = [product_from_plain(p) for p in products]
    project: Project = object.__new__(Project)
    project.__dict__.update(
        root="", products={p.name: p for p in ps}, source_hashes={},
        warnings=tuple(str(w) for w in warnings),
        glossary_ref=None if glossary is None else specref_from_plain(
            unpack(glossary, lists=False)),
        load_key=load_key, spec_type=spec_type, spec_data=data, spec_dump_data=dump)
    return project


def specref_to_plain(ref: SpecRef) -> dict[str, Any]:
    return ref.plain_facts()


def specref_from_plain(d: dict[str, Any]) -> SpecRef:
    from steward.core.model import SPEC_TYPES, SpecRef

    if d["spec_type"] not in SPEC_TYPES or not isinstance(d["spec_data"], bytes) \
            or not isinstance(d["spec_dump_data"], bytes):
        raise ValueError("not a spec")
    return SpecRef(None, dict(d))


def located_to_plain(doc: Located) -> list[Any]:
    from steward.core.plain import pack

    if doc.problems:
        raise TypeError("a document with problems is not cached")
    return [doc.file, pack(doc.data), list(doc.lines.items())]


def located_from_plain(d: tuple[Any, ...]) -> Located:
    from steward.core.plain import unpack
    from steward.project.yamlload import Located

    file, data, lines = d
    return Located(file, unpack(data), dict(lines))


# the memo's values, by what they are: a YAML document, a spec, a model as loaded from
# its files (product, references, their spans, its sidecar or None, its spec's key),
# the keys a spec's validation consulted, a check's SQL verdict (None or two texts)
_DOC, _SPEC, _MODEL, _USES, _VERDICT = "doc", "spec", "model", "uses", "verdict"


def memo_to_plain(memo: dict[Any, Any]) -> list[Any]:
    from steward.core.model import SpecRef
    from steward.project.yamlload import Located

    out: list[Any] = []
    for key, value in memo.items():
        if isinstance(value, Located):
            out.append([key, _DOC, located_to_plain(value)])
        elif isinstance(value, SpecRef):
            out.append([key, _SPEC, specref_to_plain(value)])
        elif key[0] == "uses":
            out.append([key, _USES, list(value)])
        elif key[0] == "checksql":
            out.append([key, _VERDICT, value])
        else:
            product, refs, spans, doc, spec_key = value
            out.append([key, _MODEL, [product_to_plain(product), refs, spans,
                                      None if doc is None else located_to_plain(doc),
                                      spec_key]])
    return out


def memo_from_plain(entries: tuple[Any, ...]) -> dict[Any, Any]:
    memo: dict[Any, Any] = {}
    for key, kind, value in entries:
        if kind == _DOC:
            got: Any = located_from_plain(value)
        elif kind == _SPEC:
            got = specref_from_plain(value)
        elif kind in (_USES, _VERDICT):
            got = value
        elif kind == _MODEL:
            product, refs, spans, doc, spec_key = value
            got = (product_from_plain(product), list(refs), list(spans),
                   None if doc is None else located_from_plain(doc), spec_key)
        else:
            raise ValueError(f"unknown memo entry {kind!r}")
        memo[key] = got
    return memo
