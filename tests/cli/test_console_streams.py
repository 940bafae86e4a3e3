"""A run's plain output never stops the run: a reader that goes away, a stream that
cannot encode a name."""

from __future__ import annotations

import io
import os
import subprocess
from pathlib import Path

from steward.cli.console import PlainConsole
from steward.context import Context


def test_a_run_piped_into_a_reader_that_stops_still_publishes(starter: Path, steward_cmd):
    # `steward run | head -1`: the pipe closes after the first line; the run goes on
    # (it used to die on the broken pipe, exit 1, with nothing published)
    reader = subprocess.Popen(["head", "-c", "1"], stdin=subprocess.PIPE,
                              stdout=subprocess.DEVNULL)
    run = subprocess.run(steward_cmd + ["run"], cwd=starter, stdout=reader.stdin,
                         stderr=subprocess.PIPE, text=True, timeout=120,
                         env={**os.environ, "PYTHONUNBUFFERED": "1"})
    assert reader.stdin is not None
    reader.stdin.close()
    reader.wait(timeout=30)
    assert run.returncode == 0, run.stderr
    assert set(Context(starter).current()) == {"raw.orders", "staging.orders",
                                               "marts.daily_revenue"}


def test_names_a_stream_cannot_encode_are_escaped_not_fatal():
    out = io.TextIOWrapper(io.BytesIO(), encoding="ascii")
    console = PlainConsole(out=out)
    console.step_finished("caf\u00e9", "failed", {"error": "na\u00efve \u2192 boom"})
    out.flush()
    text = out.buffer.getvalue().decode("ascii")  # type: ignore[attr-defined]
    assert "caf\\xe9" in text and "na\\xefve \\u2192 boom" in text


class _Closed(io.StringIO):
    def write(self, s: str) -> int:
        raise BrokenPipeError(32, "Broken pipe")


def test_a_closed_stream_is_written_no_more():
    out = _Closed()
    console = PlainConsole(out=out)
    console.step_finished("a", "built", {"rows": 1, "seconds": 0.1})  # no exception
    console.step_finished("b", "built", {"rows": 1, "seconds": 0.1})
    assert out in console._gone


def test_a_json_run_piped_into_a_reader_that_stops_still_publishes(starter: Path,
                                                                   steward_cmd):
    reader = subprocess.Popen(["head", "-c", "1"], stdin=subprocess.PIPE,
                              stdout=subprocess.DEVNULL)
    run = subprocess.run(steward_cmd + ["run", "--json"], cwd=starter, stdout=reader.stdin,
                         stderr=subprocess.PIPE, text=True, timeout=120)
    assert reader.stdin is not None
    reader.stdin.close()
    reader.wait(timeout=30)
    assert run.returncode == 0, run.stderr
    assert len(Context(starter).current()) == 3
