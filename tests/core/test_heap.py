"""core.heap.kept: what a run keeps is frozen while it runs, and only while it runs."""

from __future__ import annotations

import gc
import weakref

from steward.core import heap


class Cycle:
    def __init__(self) -> None:
        self.me = self


def test_blocks_nest_and_the_last_one_unfreezes() -> None:
    assert gc.get_freeze_count() == 0
    with heap.kept():
        assert heap.keeping() and gc.get_freeze_count() > 0
        with heap.kept():
            pass
        assert heap.keeping() and gc.get_freeze_count() > 0  # (the outer block is open)
    assert not heap.keeping() and gc.get_freeze_count() == 0


def test_a_later_block_collects_what_earlier_ones_left_before_it_freezes() -> None:
    with heap.kept():
        pass
    c = Cycle()
    gone = weakref.ref(c)
    del c  # garbage that only the collector frees
    with heap.kept():
        assert gone() is None  # collected first, not frozen with the rest


def test_a_load_inside_a_block_is_frozen_before_the_collector_resumes(tmp_path) -> None:
    from tests.conftest import write

    write(tmp_path, "steward.yaml", "name: t\n")
    write(tmp_path, "models/a.sql", "select 1 as x\n")
    from steward.project.loader import load_project

    with heap.kept():
        before = gc.get_freeze_count()
        load_project(str(tmp_path))
        assert gc.get_freeze_count() > before
    assert gc.get_freeze_count() == 0
