"""A real memory-cgroup OOM kill while the TUI runs on the real host, followed on /dev/kmsg.

A 64 MiB child cgroup (memory and memory+swap limited alike) holds a small
bystander and a hog with oom_score_adj 400 that grows until the kernel
kills it. The app's first sample, taken before it grows, predicts the hog;
within 2 s of the kernel printing the kill the screen must show it: the
banner naming the victim and "as predicted", the scoreboard in the status
line and the event in the kill list (`l`). (The victim's row is gone with
the sample taken right after the kill, so its K mark is not asserted here.)
"""

from __future__ import annotations

import time

import pytest

from oomtui.collect import Collector
from oomtui.tui.feeds import LiveFeed
from oomtui.tui.screens.kills import KillsScreen
from tests.support.cgroups import TestCgroup
from tests.support.hog import spawn_hog
from tests.tui.helpers import ObservedApp, main, notifications, press, run

pytestmark = pytest.mark.kernel


def test_a_real_kill_shows_at_once_with_its_victim_and_verdict(oom_box: TestCgroup, hogs) -> None:
    hogs.append(spawn_hog("tk-bystander", 8, cgroup_dir=oom_box.dir))
    victim = spawn_hog("tk-victim", 16, adj=400, cgroup_dir=oom_box.dir, grow=True)
    hogs.append(victim)
    collector = Collector()
    app = ObservedApp(LiveFeed(collector, collector.collect()), None, interval=3600, read_only=True,
                      kmsg="/dev/kmsg", grace=0.0)

    async def scenario(pilot):
        screen = main(pilot)
        assert screen.kills.follower is not None and "kills: none yet" in screen.status_text().plain
        victim.start_growing()
        deadline = time.monotonic() + 60
        while not screen.kills.verdicts and time.monotonic() < deadline:
            await pilot.pause(0.05)
        assert screen.kills.verdicts, "no kill shown within 60 s"
        shown = time.time()
        v = screen.kills.verdicts[0]
        assert shown - v.event.time < 2.0, f"shown {shown - v.event.time:.2f} s after the kernel printed it"
        assert (v.event.pid, v.event.domain, v.matched) == (victim.pid, oom_box.path, True)
        banner = f"OOM kill kernel killed pid {victim.pid} (tk-victim) in a memcg OOM of {oom_box.path}: as predicted"
        assert banner in notifications(pilot)
        assert "kills: 1, 1 as predicted" in screen.status_text().plain
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
