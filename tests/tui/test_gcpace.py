"""Samples are freed as soon as the screen moves on, not by the cycle collector's full passes,
which held the GIL for a quarter of a second at 10,000 processes and stalled the keys."""

from __future__ import annotations

import gc

import pytest

from oomtui.model import Snapshot
from oomtui.tui.feeds import LiveFeed
from oomtui.tui.gcpace import Pacer, Parcel
from oomtui.tui.killers import KillWatch
from tests.tui.fixtures import small_host
from tests.tui.helpers import ObservedApp, main, run, settle

MARK = 1_000_000_000.0


def test_a_parcel_gives_its_value_once() -> None:
    parcel = Parcel(("sample", 1))
    assert parcel.take() == ("sample", 1)
    with pytest.raises(RuntimeError):
        parcel.take()


def test_the_pacer_freezes_what_is_alive_and_sweeps_now_and_then() -> None:
    now = [0.0]
    pacer = Pacer(sweep=60.0, clock=lambda: now[0])
    try:
        pacer.settle()
        assert gc.get_freeze_count() > 0 and pacer.sweeps == 0
        now[0] = 59.0
        pacer.settle()
        assert pacer.sweeps == 0
        now[0] = 61.0
        pacer.settle()
        assert pacer.sweeps == 1 and gc.get_freeze_count() > 0
        pacer.close()
        assert gc.get_freeze_count() == 0
    finally:
        gc.unfreeze()


class FreshCollector:
    """A new sample object per call, each marked by its time, as a live host gives."""

    def __init__(self) -> None:
        self.calls = 0

    def collect(self) -> Snapshot:
        self.calls += 1
        return small_host().replace(taken_at=MARK + self.calls)


def _samples_alive() -> set[float]:
    return {o.taken_at for o in gc.get_objects() if isinstance(o, Snapshot) and (o.taken_at or 0) >= MARK}


def test_old_samples_are_freed_without_the_cycle_collector() -> None:
    collector = FreshCollector()
    app = ObservedApp(LiveFeed(collector, collector.collect()), None, interval=3600)
    alive: list[set[float]] = []

    async def scenario(pilot) -> None:
        screen = main(pilot)
        gc.disable()
        try:
            for _ in range(8):
                screen.action_refresh_now()
                await settle(pilot)
            assert collector.calls >= 9
            gc.unfreeze()  # count what is alive, frozen or not
            alive.append(_samples_alive())
        finally:
            gc.enable()

    run(app, scenario)
    # The first (the feed keeps it), the last KillWatch.KEEP (to judge a kill by): never all nine.
    assert alive and len(alive[0]) <= 1 + KillWatch.KEEP, alive
