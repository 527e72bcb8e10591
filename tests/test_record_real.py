"""Record the real host while a real memory-cgroup OOM happens, then find the event and the sample before it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from oomtui.record import Recording
from tests.support.hog import spawn_hog

pytestmark = pytest.mark.kernel
MIB = 1 << 20
ROOT = Path(__file__).parent.parent


def wait_for(check, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def test_recording_catches_a_real_oom_with_the_snapshot_before_it(memcg, tmp_path):
    if not os.access("/dev/kmsg", os.R_OK):
        pytest.skip("/dev/kmsg is not readable")
    directory = tmp_path / "rec"
    memcg.set_limit(64 * MIB)
    recorder = subprocess.Popen(
        [sys.executable, "-m", "oomtui.cli", "record", str(directory), "--interval", "0.5"],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, stderr=subprocess.PIPE, text=True,
    )
    victim = bystander = None
    try:
        wait_for(lambda: (directory / "samples").is_dir() and Recording(directory).samples, 30, "a first sample")
        bystander = spawn_hog("rec-bystander", 8, cgroup_dir=memcg.dir)
        victim = spawn_hog("rec-victim", 16, adj=400, cgroup_dir=memcg.dir, grow=True)
        started = time.time()

        def sampled_with_victim():
            rec = Recording(directory)
            return any(s.time > started + 0.2 for s in rec.samples)

        wait_for(sampled_with_victim, 30, "a sample with the hogs running")
        victim.start_growing()
        victim.popen.wait(timeout=60)
        wait_for(lambda: any(e.victim_pid == victim.pid for e in Recording(directory).events), 30,
                 "the OOM event in the index")
    finally:
        recorder.send_signal(signal.SIGTERM)
        _, err = recorder.communicate(timeout=60)
        for hog in (victim, bystander):
            if hog is not None:
                hog.kill()
    assert recorder.returncode == 0, err

    rec = Recording(directory)  # other tests may cause OOMs meanwhile: find ours
    index = next(i for i, e in enumerate(rec.events) if e.victim_pid == victim.pid)
    event = rec.events[index]
    assert (event.kind, event.domain, event.victim_pid, event.victim_comm) == (
        "memcg", memcg.path, victim.pid, "rec-victim")
    assert event.report.is_file()
    imported = rec.load_event(index)
    assert imported.oom_event.killed_pid == victim.pid
    assert imported.cgroup(memcg.path).memory_max == 64 * MIB

    before = rec.event_sample(index)
    assert before is not None
    assert event.sample is not None and before.taken_at <= event.time
    pre = before.process(victim.pid)
    assert pre is not None and pre.comm == "rec-victim" and pre.cgroup == memcg.path
    assert pre.oom_score_adj == 400
    assert before.cgroup(memcg.path).memory_max == 64 * MIB
    assert not [p for p in (directory / "samples").iterdir() if p.name.startswith(".")]
