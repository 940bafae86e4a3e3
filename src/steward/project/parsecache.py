"""Parsed SQL by content digest, kept between loads in ``.steward/cache/parse.ndjson``.

One ``[key, parsed]`` JSON line per entry, appended as new SQL is met (a whole-file
rewrite per edit cost more than the parse), read on first use only: with the load memo,
a reload after an edit parses one file and most loads parse none.
"""

from __future__ import annotations

import json
import os
from typing import Any

MAX_BYTES = 32 << 20  # bytes of parse cache before it is started afresh


class ParseCache:
    def __init__(self, path: str):
        self.path = path
        self._entries: dict[str, Any] | None = None
        self._new: dict[str, Any] = {}

    @property
    def entries(self) -> dict[str, Any]:
        if self._entries is None:
            self._entries = {}
            try:
                with open(self.path, encoding="utf-8") as f:
                    for line in f:
                        try:
                            key, value = json.loads(line)
                        except (ValueError, TypeError):
                            continue  # a torn line of a crashed writer: parse again
                        self._entries[key] = value
            except OSError:
                pass
        return self._entries

    def parse(self, text: str) -> Any:
        """``text`` parsed (:class:`steward.sql.parse.ParsedSql`), from the cache if met."""
        from steward.core.fingerprint import digest
        from steward.sql.parse import ParsedSql, parse_sql

        key = digest("v3", text)  # v3: the normal form from tokens
        hit = self.entries.get(key)
        if hit is not None:
            return ParsedSql.from_json(hit)
        parsed = parse_sql(text)
        self.entries[key] = self._new[key] = parsed.to_json()
        return parsed

    def save(self) -> None:
        if not self._new:
            return
        os.makedirs(os.path.dirname(self.path), exist_ok=True)
        lines = "".join(json.dumps([k, v]) + "\n" for k, v in self._new.items())
        try:
            big = os.path.getsize(self.path) > MAX_BYTES
        except OSError:
            big = False
        if big:  # start afresh: entries come back as their SQL is parsed again
            tmp = f"{self.path}.{os.getpid()}.tmp"
            with open(tmp, "w", encoding="utf-8") as f:
                f.write(lines)
            os.replace(tmp, self.path)
        else:
            with open(self.path, "a", encoding="utf-8") as f:
                f.write(lines)
        self._new.clear()
