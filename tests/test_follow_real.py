"""Real memory-cgroup OOM kills, seen as they happen: by the follower within 2 s, and by `oomtui record`.

A 64 MiB child cgroup (memory and memory+swap limited alike) holds a small
bystander and a hog with oom_score_adj 400 that grows until the kernel
kills it. The sample taken before it grows predicts the hog; the follower
must report the kill within 2 s of the kernel printing it, with the right
victim and domain, and the verdict must say the prediction matched. The
same run through `oomtui record` must keep that verdict in its index.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from oomtui.collect import collect_snapshot
from oomtui.oomlog.follow import KillEvent, KillFollower
from oomtui.record import Recording
from oomtui.verdict import verdict_for
from tests.support.cgroups import TestCgroup
from tests.support.hog import Hog, spawn_hog
from tests.support.latency import SHOWN_WITHIN
from tests.support.readable import readable
from tests.test_record_real import wait_for

pytestmark = pytest.mark.kernel
ROOT = Path(__file__).parent.parent


def _wait_for_kill(follower: KillFollower, pid: int, timeout: float = 60.0) -> tuple[KillEvent, float]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        readable(follower, 0.2)
        for event in follower.poll():
            if event.pid == pid:
                return event, time.time()
    raise AssertionError(f"no kill of pid {pid} seen within {timeout} s")


def test_the_follower_sees_a_real_kill_within_two_seconds_with_the_verdict(
    oom_box: TestCgroup, hogs: list[Hog]
) -> None:
    hogs.append(spawn_hog("fw-bystander", 8, cgroup_dir=oom_box.dir))
    victim = spawn_hog("fw-victim", 16, adj=400, cgroup_dir=oom_box.dir, grow=True)
    hogs.append(victim)
    before = collect_snapshot()
    with KillFollower() as follower:
        victim.start_growing()
        event, seen = _wait_for_kill(follower, victim.pid)
    assert seen - event.time < SHOWN_WITHIN, f"seen {seen - event.time:.2f} s after the kernel printed it"
    assert (event.killer, event.kind, event.domain, event.comm) == ("kernel", "memcg", oom_box.path, "fw-victim")
    verdict = verdict_for(event, before)
    assert verdict.matched is True, verdict
    assert verdict.picks["kernel"] == f"pid {victim.pid}"
    expected = f"kernel killed pid {victim.pid} (fw-victim) in a memcg OOM of {oom_box.path}: as predicted"
    assert verdict.summary() == expected


def test_oomtui_record_keeps_the_verdict_of_a_real_kill(oom_box: TestCgroup, hogs: list[Hog], tmp_path: Path) -> None:
    directory = tmp_path / "rec"
    recorder = subprocess.Popen(
        [sys.executable, "-m", "oomtui.cli", "record", str(directory), "--interval", "0.5"],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, stderr=subprocess.PIPE, text=True,
    )
    try:
        hogs.append(spawn_hog("rv-bystander", 8, cgroup_dir=oom_box.dir))
        victim = spawn_hog("rv-victim", 16, adj=400, cgroup_dir=oom_box.dir, grow=True)
        hogs.append(victim)
        started = time.time()
        wait_for(lambda: (directory / "samples").is_dir()
              and any(s.time > started + 0.2 for s in Recording(directory).samples), 30, "a sample with the hogs")
        victim.start_growing()
        victim.popen.wait(timeout=60)
        event = wait_for(lambda: next((e for e in Recording(directory).events if e.victim_pid == victim.pid), None),
                      30, "the OOM event in the index")
    finally:
        recorder.send_signal(signal.SIGTERM)
        _, err = recorder.communicate(timeout=60)
    assert recorder.returncode == 0, err
    assert event.verdict is not None, err
    assert event.verdict["matched"] is True, event.verdict
    assert event.verdict["event"]["domain"] == oom_box.path and event.verdict["judged_by"] == ["kernel"]
    assert event.verdict["picks"]["kernel"] == f"pid {victim.pid}"
    assert f"kernel killed pid {victim.pid} (rv-victim) in a memcg OOM of {oom_box.path}: as predicted" in err
