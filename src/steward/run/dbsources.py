"""Database sources before planning: read what changed, so the data decides the fingerprint.

For each selected database source a run, before it plans:

1. evaluates the declared ``change_signal``; when it equals the signal recorded for the
   data the environment's current version holds, nothing is read and the source keeps
   that version's content hash (so it is kept);
2. otherwise reads the source into scratch: with a ``watermark``, only the rows past the
   largest value the current version holds, appended to its rows; else everything;
3. hashes what it wrote: that content hash is the source's output (same data, same
   fingerprint, nothing downstream rebuilds), and records the read's signal and
   watermark against it (``source_reads``).

``steward run --full-refresh`` reads every database source in full. A read that fails
(the server unreachable, credentials refused, the table gone) is that source's
failure: what reads it is skipped and no pointer moves.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Mapping
from typing import Any

from steward.core.errors import StewardError
from steward.core.model import Project
from steward.core.records import Version
from steward.engine.base import BuildResult
from steward.run.executor import Prebuilt

DATA_FILE = "part-0.parquet"


def refresh_database_sources(project: Project, ms: Any, store: Any, engine: Callable[[], Any],
                             verifier: Any, current: Mapping[str, Version],
                             chosen: set[str], incremental: bool = True
                             ) -> dict[str, Prebuilt]:
    """``incremental=False`` (``steward run --full-refresh``): every source read in full,
    whatever its change signal and watermark say."""
    from steward.engine import dbsource
    from steward.meta import sources as msources

    out: dict[str, Prebuilt] = {}
    names = [n for n in sorted(chosen) if n in project.products
             and project[n].kind == "database_source"]
    for name in names:
        product = project[name]
        cur = current.get(name)
        usable = cur is not None and verifier.shallow(cur) is None
        rec = msources.recorded(ms, name, cur.data_hash) \
            if cur is not None and usable and incremental else None
        scratch: str | None = None
        try:
            signal = dbsource.change_signal(product)
            if signal is not None and rec is not None and rec.signal == signal:
                out[name] = Prebuilt(None, None, cur.data_hash)  # type: ignore[union-attr]
                continue
            since = rec.watermark if rec is not None and product.spec_dump.get("watermark") \
                else None
            previous = store.data_files(cur.path) if since is not None and cur else None
            scratch = store.new_scratch()
            target = os.path.join(scratch, "data", DATA_FILE)
            got = dbsource.read(product, target, since, previous)
            files = store.data_files(scratch)
            content = verifier.content_hash(files)
            read = msources.SourceRead(signal, got.watermark, got.watermark_type, got.rows_read)
            if cur is not None and usable and got.rows_read == 0 and since is not None:
                # nothing past the watermark: the current version's data, as it is
                shutil.rmtree(scratch, ignore_errors=True)
                msources.record(ms, name, cur.data_hash or content, read)
                out[name] = Prebuilt(None, None, cur.data_hash)
                continue
            msources.record(ms, name, content, read)
            result = BuildResult(got.rows, engine().describe(files), tuple(files), 0,
                                 tuple(got.notes))
            out[name] = Prebuilt(scratch, result, content)
        except StewardError as e:
            if scratch is not None:
                shutil.rmtree(scratch, ignore_errors=True)
            out[name] = Prebuilt(None, None, None, str(e))
    return out
