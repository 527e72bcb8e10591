"""The cycle collector stays held until the last of several overlapping holders lets go."""

from __future__ import annotations

import gc

from oomtui.gchold import collector_held


def test_the_first_holder_to_finish_does_not_switch_the_collector_on_under_the_other() -> None:
    assert gc.isenabled()
    first, second = collector_held(), collector_held()
    first.__enter__()
    second.__enter__()
    first.__exit__(None, None, None)  # the policies finish while a sample is still being made
    assert not gc.isenabled()
    second.__exit__(None, None, None)
    assert gc.isenabled()


def test_a_collector_someone_else_switched_off_stays_off() -> None:
    gc.disable()  # as Textual does during a smooth scroll
    try:
        with collector_held():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
