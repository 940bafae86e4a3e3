"""Where OpenLineage events go: one NDJSON line each to the configured file (written in
batches), and each posted to the configured HTTP endpoint with the official client's
transport. Never raises: lineage must not fail a run (:mod:`steward.audit.openlineage`
builds the events)."""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import IO, Any

from steward.core.spec import OpenLineageSpec


def to_json(event: dict[str, Any]) -> bytes:
    """One event as one line of JSON (UTF-8), keys sorted as the client's
    ``Serde.to_json`` sorts them (orjson: compact separators, a tenth of the standard
    encoder's time)."""
    import orjson

    return orjson.dumps(event, default=str, option=orjson.OPT_SORT_KEYS)


class Emitter:
    """Writes events to the NDJSON file and posts them to the configured endpoint."""

    def __init__(self, spec: OpenLineageSpec, root: str):
        self.spec = spec
        self.root = root

    @property
    def path(self) -> str | None:
        if not self.spec.file:
            return None
        return (self.spec.file if os.path.isabs(self.spec.file)
                else os.path.join(self.root, self.spec.file))

    def emit(self, events: Iterable[Any], keep: list[Any] | None = None) -> list[str]:
        """Send ``events`` as they come (appended to ``keep`` when given); returns problems
        (never raises: lineage must not fail a run)."""
        problems: list[str] = []
        transport: Any = None
        if self.spec.url:
            try:
                transport = self._http()
            except Exception as e:
                problems.append(self._unreachable(e))
        out: IO[bytes] | None = None
        if self.path:
            os.makedirs(os.path.dirname(self.path), exist_ok=True)
        try:
            for event in events:
                if keep is not None:
                    keep.append(event)
                if self.path:
                    # each line goes to the file's buffer as it is made: a run's memory
                    # peaks here, and a batch of events held as text was megabytes
                    out = out or open(self.path, "ab", buffering=1 << 18)  # noqa: SIM115
                    out.write(to_json(event) + b"\n")
                if transport is not None:
                    try:
                        transport.emit(event)
                    except Exception as exc:  # an unreachable endpoint: a warning
                        problems.append(self._unreachable(exc))
                        transport = None
        finally:
            if out is not None:
                out.close()
        return problems

    def _unreachable(self, e: Exception) -> str:
        return (f"OpenLineage endpoint {self.spec.url}: {type(e).__name__}: "
                f"{str(e).splitlines()[0] if str(e) else ''}")

    def _http(self) -> Any:
        from openlineage.client.transport.http import (
            ApiKeyTokenProvider,
            HttpConfig,
            HttpTransport,
            TokenProvider,
        )

        token = os.environ.get(self.spec.api_key_env) if self.spec.api_key_env else None
        auth = ApiKeyTokenProvider({"apiKey": token}) if token else TokenProvider({})
        cfg = HttpConfig(url=self.spec.url or "", endpoint=self.spec.endpoint,
                         timeout=self.spec.timeout, auth=auth,
                         retry={"total": 2, "connect": 2, "read": 2, "backoff_factor": 0.2,
                                "status_forcelist": [500, 502, 503, 504],
                                "allowed_methods": ["HEAD", "POST"]})
        return HttpTransport(cfg)
