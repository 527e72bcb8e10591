"""The TUI on the real host: the real collector, the real actor, real processes in a real memory cgroup.

The policy's decision is taken in the test cgroup's own domain (it has a
limit), so what the dialog lists and what dies are processes this test
started; neighbours in the same cgroup must live.
"""

from __future__ import annotations

import json
import signal
import time

import pytest

from oomtui.act import HostActor, protected_pids
from oomtui.collect import Collector
from oomtui.tui.feeds import LiveFeed
from oomtui.tui.screens.confirm import KillDialog
from oomtui.tui.tree_model import process_key
from tests.support.hog import spawn_hog
from tests.tui.helpers import ObservedApp, decision, main, notifications, press, run, select_cgroup

pytestmark = pytest.mark.kernel


def _dead(hog, timeout: float = 10.0) -> int | None:
    deadline = time.monotonic() + timeout
    while hog.popen.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    return hog.popen.poll()


def test_kill_and_execute_on_the_live_host(memcg, hogs, tmp_path):
    memcg.set_limit(512 << 20)
    big = spawn_hog("tui-big", 64, cgroup_dir=memcg.dir)
    small = spawn_hog("tui-small", 4, cgroup_dir=memcg.dir)
    single = spawn_hog("tui-single", 4, cgroup_dir=memcg.dir)
    hogs += [big, small, single]
    collector = Collector()
    app = ObservedApp(LiveFeed(collector, collector.collect()), HostActor(audit_log=tmp_path / "audit.jsonl"),
                 interval=3600, protected=protected_pids(), grace=0.0)

    async def scenario(pilot):
        screen = main(pilot)
        p = screen.sample.process(single.pid)
        assert p is not None and p.comm == "tui-single"
        assert screen.memory_tree.select_key(process_key(p))
        await press(pilot, "k")
        dialog = pilot.app.screen
        assert isinstance(dialog, KillDialog)
        assert [t.pid for t in dialog.plan.targets] == [single.pid]
        await press(pilot, "y")
        assert _dead(single) == -signal.SIGKILL
        assert big.alive() and small.alive()
        assert any("1 of 1 process killed" in n for n in notifications(pilot))

        await press(pilot, "r")
        await select_cgroup(pilot, memcg.path)
        await press(pilot, "d")
        assert screen.domain == memcg.path
        d = decision(pilot, "kernel")
        assert d.victim_pid == big.pid
        await press(pilot, "x")
        dialog = pilot.app.screen
        assert isinstance(dialog, KillDialog)
        assert {t.pid for t in dialog.plan.targets} == set(d.killed_pids) == {big.pid}
        await press(pilot, "y")
        assert _dead(big) == -signal.SIGKILL
        assert small.alive()

    run(app, scenario)


def test_sigterm_from_the_dialog_on_the_live_host(memcg, hogs, tmp_path):
    gentle = spawn_hog("tui-gentle", 4, cgroup_dir=memcg.dir)
    other = spawn_hog("tui-other", 4, cgroup_dir=memcg.dir)
    hogs += [gentle, other]
    audit = tmp_path / "audit.jsonl"
    collector = Collector()
    app = ObservedApp(LiveFeed(collector, collector.collect()), HostActor(audit_log=audit), interval=3600,
                 protected=protected_pids(), grace=0.0)

    async def scenario(pilot):
        screen = main(pilot)
        assert screen.memory_tree.select_key(process_key(screen.sample.process(gentle.pid)))
        await press(pilot, "k")
        assert isinstance(pilot.app.screen, KillDialog)
        await press(pilot, "t", "y")
        assert _dead(gentle) == -signal.SIGTERM
        assert other.alive()
        assert any("1 of 1 process sent SIGTERM" in n for n in notifications(pilot))

    run(app, scenario)
    entry = json.loads(audit.read_text().splitlines()[-1])
    assert entry["asked"]["signal"] == "SIGTERM" and [t["pid"] for t in entry["asked"]["targets"]] == [gentle.pid]
