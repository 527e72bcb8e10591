"""A real memory-cgroup OOM kill while the TUI runs on the real host, followed on /dev/kmsg.

A 64 MiB child cgroup (memory and memory+swap limited alike) holds a small
bystander and a hog with oom_score_adj 400 that grows until the kernel
kills it. The app's first sample, taken before it grows, predicts the hog;
within 2 s of the kernel printing the kill the screen must show it: the
banner naming the victim and "as predicted", the victim's row marked K,
the scoreboard in the status line and the event in the kill list (`l`).
The row stays, marked K and "killed", after the sample taken right after
the kill no longer has the process.
"""

from __future__ import annotations

import re
import time

import pytest

from oomtui.collect import Collector
from oomtui.tui.feeds import LiveFeed
from oomtui.tui.screens.kills import KillsScreen
from tests.support.cgroups import TestCgroup
from tests.support.hog import spawn_hog
from tests.support.latency import SHOWN_WITHIN
from tests.tui.helpers import ObservedApp, main, notifications, press, run, select_process
from tests.tui.screen_text import screen_lines

pytestmark = pytest.mark.kernel


def test_a_real_kill_shows_at_once_with_its_victim_and_verdict(oom_box: TestCgroup, hogs) -> None:
    hogs.append(spawn_hog("tk-bystander", 8, cgroup_dir=oom_box.dir))
    victim = spawn_hog("tk-victim", 16, adj=400, cgroup_dir=oom_box.dir, grow=True)
    hogs.append(victim)
    collector = Collector()
    app = ObservedApp(LiveFeed(collector, collector.collect()), None, interval=3600, read_only=True,
                      kmsg="/dev/kmsg", grace=0.0)

    async def next_sample(pilot, after: float) -> None:
        """Wait until the screen shows a sample taken after `after` (epoch seconds)."""
        screen = main(pilot)

        def shown() -> bool:
            return screen.evaluation is not None and (screen.evaluation.view.taken_at or 0) > after

        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not shown():
            await pilot.pause(0.05)
        assert shown(), "no new sample"
        await pilot.pause()

    def victim_row(pilot) -> str:
        """The victim's line on the terminal, as the user reads it ("" when it is not on screen)."""
        return next((line for line in screen_lines(pilot.app) if f"─ {victim.pid} tk-victim" in line), "")

    async def scenario(pilot):
        screen = main(pilot)
        assert screen.kills.follower is not None and "kills: none yet" in screen.status_text().plain
        await select_process(pilot, victim.pid)
        assert victim_row(pilot) and not re.search(r"\bK\b", victim_row(pilot).split(str(victim.pid))[0])
        victim.start_growing()
        deadline = time.monotonic() + 60
        while not screen.kills.verdicts and time.monotonic() < deadline:
            await pilot.pause(0.05)
        assert screen.kills.verdicts, "no kill shown within 60 s"
        shown = time.time()
        v = screen.kills.verdicts[0]
        assert shown - v.event.time < SHOWN_WITHIN, f"shown {shown - v.event.time:.2f} s after the kernel printed it"
        assert (v.event.pid, v.event.domain, v.matched) == (victim.pid, oom_box.path, True)
        banner = f"OOM kill kernel killed pid {victim.pid} (tk-victim) in a memcg OOM of {oom_box.path}: as predicted"
        assert banner in notifications(pilot)
        assert "kills: 1, 1 as predicted" in screen.status_text().plain
        await pilot.pause()
        assert re.search(r"\bK\b", victim_row(pilot).split(str(victim.pid))[0]), "\n".join(screen_lines(pilot.app))
        assert time.time() - v.event.time < SHOWN_WITHIN, "the K mark came later than 2 s after the kill"
        await next_sample(pilot, v.event.time)  # the one the kill started: the victim is a zombie in it
        row = victim_row(pilot)
        assert re.search(r"\bK\b", row.split(str(victim.pid))[0]) and "killed" in row, row
        victim.popen.wait(timeout=10)  # reaped: the next sample has no such process at all
        taken = screen.evaluation.view.taken_at
        await press(pilot, "r")
        await next_sample(pilot, taken)
        assert screen.evaluation.view.process(victim.pid) is None
        row = victim_row(pilot)
        assert re.search(r"\bK\b", row.split(str(victim.pid))[0]) and "killed" in row, row
        await press(pilot, "l")
        assert isinstance(pilot.app.screen, KillsScreen)
        listed = str(pilot.app.screen.text)
        assert "1 kill: 1 as predicted, 0 not, 0 unknown" in listed and f"pid {victim.pid} (tk-victim)" in listed
        await press(pilot, "escape")

    run(app, scenario)


def test_unprivileged_the_status_line_says_kills_cannot_be_followed(tmp_path) -> None:
    collector = Collector()
    app = ObservedApp(LiveFeed(collector, collector.collect()), None, interval=3600, read_only=True,
                      kmsg=str(tmp_path / "absent"), grace=0.0)

    async def scenario(pilot):
        status = main(pilot).status_text().plain
        assert "OOM kills not followed: cannot follow" in status and "absent" in status

    run(app, scenario)
