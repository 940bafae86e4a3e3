"""Plain data as bytes (MessagePack), for the caches of derived state.

What a cache keeps is data, never code: maps, arrays, text, numbers and bytes, plus a
few scalar types YAML and the spec models carry (dates, times, decimals, sets), each as
an extension record decoded by a fixed constructor here. Decoding never imports or
calls anything named by the data. Arrays decode as lists, or as tuples where the reader
asks (``steward.project.cache`` reads its files so, with the parts that must be lists,
such as a spec's dump, packed apart).
"""

from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal
from typing import Any

# extension codes: the payload is the value's text (ISO form for dates and times)
_DATE, _DATETIME, _TIME, _DECIMAL, _SET, _FROZENSET = 1, 2, 3, 4, 5, 6


def _default(value: Any) -> Any:
    import msgpack

    # (datetime first: it is a date too)
    if isinstance(value, dt.datetime):
        return msgpack.ExtType(_DATETIME, value.isoformat().encode())
    if isinstance(value, dt.date):
        return msgpack.ExtType(_DATE, value.isoformat().encode())
    if isinstance(value, dt.time):
        return msgpack.ExtType(_TIME, value.isoformat().encode())
    if isinstance(value, Decimal):
        return msgpack.ExtType(_DECIMAL, str(value).encode())
    if isinstance(value, set | frozenset):  # (not pack(): its packer is busy with value)
        code = _FROZENSET if isinstance(value, frozenset) else _SET
        return msgpack.ExtType(code, msgpack.packb(sorted(value, key=repr), default=_default,
                                                   use_bin_type=True, datetime=False))
    raise TypeError(f"not plain data: {type(value).__name__}")


def _ext(code: int, data: bytes) -> Any:
    if code == _DATETIME:
        return dt.datetime.fromisoformat(data.decode())
    if code == _DATE:
        return dt.date.fromisoformat(data.decode())
    if code == _TIME:
        return dt.time.fromisoformat(data.decode())
    if code == _DECIMAL:
        return Decimal(data.decode())
    if code in (_SET, _FROZENSET):
        items = unpack(data)
        return frozenset(items) if code == _FROZENSET else set(items)
    raise ValueError(f"unknown extension {code}")


_LOCAL = threading.local()  # one packer per thread, made on first use (a new one per
# call costs more than packing a small spec)


def _packer() -> Any:
    packer = getattr(_LOCAL, "packer", None)
    if packer is None:
        import msgpack

        packer = _LOCAL.packer = msgpack.Packer(default=_default, use_bin_type=True,
                                                datetime=False)
    return packer


def pack(value: Any) -> bytes:
    """``value`` as MessagePack; TypeError for anything that is not plain data."""
    packer = _packer()
    try:
        return packer.pack(value)  # type: ignore[no-any-return]
    except BaseException:
        packer.reset()  # (what the failed call left in its buffer)
        raise


def unpack(data: bytes, lists: bool = True) -> Any:
    """What :func:`pack` made (arrays as lists, else as tuples); ValueError (or a
    subclass) for bytes it did not make."""
    import msgpack

    try:
        return msgpack.unpackb(data, ext_hook=_ext, raw=False, strict_map_key=False,
                               use_list=lists)
    except (ValueError, TypeError, msgpack.UnpackException) as e:  # (TypeError: a map key
        raise ValueError(f"not plain data: {e}") from None  # that is a list, say)
