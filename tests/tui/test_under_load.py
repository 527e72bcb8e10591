"""Smooth under load: samples are freed as soon as the screen moves on, not by the cycle
collector's full passes (which held the GIL for a quarter of a second at 10,000 processes and
stalled the keys), and a host too slow to sample every interval never has two samples made at once."""

from __future__ import annotations

import asyncio
import gc
import sys
import threading

import pytest
from textual.strip import Strip

from oomtui.model import Snapshot
from oomtui.synthetic import large_host
from oomtui.tui.feeds import LiveFeed
from oomtui.tui.gcpace import SWEEP_SECONDS, Pacer, Parcel
from oomtui.tui.killers import KillWatch
from tests.tui.fixtures import small_host
from tests.tui.helpers import ObservedApp, live_app, main, press, run, settle, snapshot_app

MARK = 1_000_000_000.0
FRESH = 2_000_000_000.0  # the freeing test's own: another test's samples, left in frozen garbage, never count


def test_a_parcel_gives_its_value_once() -> None:
    parcel = Parcel(("sample", 1))
    assert parcel.take() == ("sample", 1)
    with pytest.raises(RuntimeError):
        parcel.take()


def test_a_sample_is_made_with_the_collector_held_and_frozen_unwalked() -> None:
    """No pass of the cycle collector walks a sample being made, nor the one made."""
    pacer = Pacer()
    passes: list[int] = []

    def observe(phase: str, info: dict) -> None:
        if phase == "start":
            passes.append(info["generation"])

    try:
        with pacer.sampling():
            gc.callbacks.append(observe)
            assert not gc.isenabled()
            made = [[i] for i in range(20_000)]  # far past every threshold
        gc.callbacks.remove(observe)
        assert passes == [] and gc.isenabled()
        assert gc.is_tracked(made) and not any(o is made for o in gc.get_objects())  # frozen
    finally:
        gc.unfreeze()
        gc.enable()


def test_the_pacer_sweeps_the_whole_heap_now_and_then_but_not_while_keys_come() -> None:
    now = [0.0]
    pacer = Pacer(sweep=60.0, clock=lambda: now[0], quiet=3.0, latest=600.0)
    try:
        with pacer.sampling():
            pass
        assert gc.get_freeze_count() > 0 and pacer.sweeps == 0
        now[0] = 59.0
        with pacer.sampling():
            pass
        assert pacer.sweeps == 0
        now[0] = 61.0
        pacer.touch()  # a key: the sweep waits
        with pacer.sampling():
            pass
        assert pacer.sweeps == 0
        now[0] = 64.0
        with pacer.sampling():
            pass
        assert pacer.sweeps == 1 and gc.get_freeze_count() > 0
        for t in (100.0, 300.0, 663.0, 665.0):  # endless typing: swept anyway, `latest` after the last
            now[0] = t
            pacer.touch()
            with pacer.sampling():
                pass
            assert pacer.sweeps == (1 if t < 664.0 else 2)
        pacer.close()
        assert gc.get_freeze_count() == 0
    finally:
        gc.unfreeze()


def test_what_the_screen_retires_is_let_go_by_a_worker() -> None:
    pacer = Pacer()
    sample, evaluation = ["a sample"], ["an evaluation"]
    alone = sys.getrefcount(sample)
    try:
        pacer.retire(sample, None)
        assert sys.getrefcount(sample) == alone + 1  # kept until a worker lets go
        with pacer.sampling():
            pass
        assert sys.getrefcount(sample) == alone
        pacer.retire(evaluation)
        pacer.let_go()
        assert sys.getrefcount(evaluation) == alone
    finally:
        gc.unfreeze()


class FreshCollector:
    """A new sample object per call, each marked by its time, as a live host gives."""

    def __init__(self) -> None:
        self.calls = 0

    def collect(self) -> Snapshot:
        self.calls += 1
        return small_host().replace(taken_at=FRESH + self.calls)


def _samples_alive() -> set[float | None]:
    return {o.taken_at for o in gc.get_objects()
            if isinstance(o, Snapshot) and FRESH <= (o.taken_at or 0) < FRESH + 1000}


def test_old_samples_are_freed_without_the_cycle_collector() -> None:
    collector = FreshCollector()
    app = ObservedApp(LiveFeed(collector, collector.collect()), None, interval=3600)
    alive: list[set[float | None]] = []

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


class SlowCollector:
    """Blocks each sample until let go, counting how many are made at once."""

    def __init__(self, first: Snapshot) -> None:
        self.first = first
        self.go = threading.Event()
        self.running = 0
        self.most = 0
        self.calls = 0

    def collect(self) -> Snapshot:
        self.calls += 1
        self.running += 1
        self.most = max(self.most, self.running)
        try:
            self.go.wait(10)
            return self.first.replace(taken_at=MARK + self.calls)
        finally:
            self.running -= 1


def test_a_tick_during_a_slow_sample_starts_no_second_one() -> None:
    collector = SlowCollector(small_host())
    app = ObservedApp(LiveFeed(collector, collector.first), None, interval=3600)

    async def scenario(pilot) -> None:
        screen = main(pilot)
        screen.tick()
        while collector.running == 0:
            await asyncio.sleep(0.01)
        for _ in range(3):  # the timer fires again while the sample is under way
            screen.tick()
            await asyncio.sleep(0.05)
        assert collector.calls == 1
        collector.go.set()
        await settle(pilot)
        assert screen.sample.taken_at == MARK + 1
        screen.tick()  # the next interval samples again
        await settle(pilot)
        assert collector.calls == 2 and screen.sample.taken_at == MARK + 2

    run(app, scenario)
    assert collector.most == 1


def _strips_alive() -> int:
    gc.collect()  # what is garbage (here or left by an earlier test) is not kept
    return sum(1 for o in gc.get_objects() if isinstance(o, Strip))


def test_scrolling_through_every_row_keeps_the_labels_of_a_few_screens_only() -> None:
    host = large_host(1000, cgroups=20)
    app = snapshot_app(host)
    counts: list[int] = []

    async def scenario(pilot) -> None:
        screen = main(pilot)
        tree = screen.memory_tree
        tree.opened.update(c.path for c in host.cgroups)
        screen._paint_tree()
        await settle(pilot)
        assert len(tree.lines) > 900
        for _ in range(3):
            await press(pilot, "pagedown")
        counts.append(_strips_alive())
        while tree.cursor < len(tree.lines) - 1:
            await press(pilot, "pagedown")
        counts.append(_strips_alive())

    run(app, scenario)
    # About 1,000 rows went by, 45 a screen, each drawn as two Strips (ours and Textual's cropped copy):
    # kept, the window of three screens and a screen more (about 360), not every row passed (about 2,000).
    assert counts[1] - counts[0] < 800, counts


def test_a_key_puts_the_whole_heap_sweep_off() -> None:
    """A sweep holds the GIL for a quarter of a second at 10,000 processes: not while the user types."""
    app = live_app()

    async def scenario(pilot) -> None:
        pacer = main(pilot).pacer
        pacer.swept -= SWEEP_SECONDS
        assert pacer.sweep_due()
        await press(pilot, "down")
        assert not pacer.sweep_due()

    run(app, scenario)


def test_an_evaluation_is_made_with_the_collector_held_and_frozen_unwalked() -> None:
    """What the policies make is out of the collector's sight: its passes would walk it while the edit is painted."""
    pacer = Pacer()
    try:
        with pacer.evaluating():
            assert not gc.isenabled()
            made = [[i] for i in range(20_000)]
        assert gc.isenabled()
        assert gc.is_tracked(made) and not any(o is made for o in gc.get_objects())
    finally:
        gc.unfreeze()


def test_the_snapshot_opened_on_is_out_of_the_collectors_sight() -> None:
    """A loaded 50,000-process snapshot left in sight cost a full pass of 300 ms at the first paint."""
    snap = large_host(processes=200, cgroups=20)
    app = snapshot_app(snap)
    frozen: list[bool] = []

    async def scenario(pilot) -> None:
        frozen.append(not any(o is snap for o in gc.get_objects()))

    run(app, scenario)
    assert frozen == [True]
