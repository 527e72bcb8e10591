"""The collector against this machine's real kernel: a real hog, an unprivileged run, churn."""

from __future__ import annotations

import os
import platform
import resource
import socket
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from oomtui.collect import Collector, collect_snapshot, detect_layout
from oomtui.snapshot import dumps, from_dict, parse_json
from tests.support.cgroups import find_memcg_home
from tests.support.hog import spawn_hog, spawn_straddler

MiB = 1 << 20
pytestmark = pytest.mark.kernel


def test_hog_in_its_memory_cgroup(memcg):
    memcg.set_limit(512 * MiB)
    hog = spawn_hog("oomtui-hog", 64, adj=500, cgroup_dir=memcg.dir)
    try:
        s = collect_snapshot()
        p = s.process(hog.pid)
        assert p is not None
        assert p.cgroup == memcg.path
        assert p.comm == "oomtui-hog"
        assert p.rss_anon >= 64 * MiB
        assert p.oom_score_adj == 500
        assert p.oom_score == int(Path(f"/proc/{hog.pid}/oom_score").read_text())
        assert abs(p.start_time - psutil.Process(hog.pid).create_time()) < 1
        assert p.uid == os.getuid() and p.ppid == os.getpid() and not p.kernel_thread
        assert p.cmdline[0] == sys.executable
        cg = s.cgroup(memcg.path)
        assert cg.memory_max == 512 * MiB
        assert cg.memory_current >= 64 * MiB
        assert s.processes_in(memcg.path) == (p,)
    finally:
        hog.kill()


def test_a_process_with_one_thread_in_another_v1_cgroup_is_where_its_leader_is(memcg, hogs):
    """Both v1 cgroups list it in cgroup.procs; the kernel charges it and scans it at an OOM with its leader."""
    if memcg.home.version != 1:
        pytest.skip("only cgroup v1 lets one thread sit apart from its process")
    beside = memcg.child("thread-only")
    straddler = spawn_straddler(beside.dir / "tasks")  # its leader stays in our own cgroup
    hogs.append(straddler)
    assert beside.pids() == [straddler.pid]
    p = collect_snapshot().process(straddler.pid)
    assert p is not None and p.cgroup == memcg.home.own


def test_host_values_match_the_system():
    s = collect_snapshot()
    assert s.host.hostname == socket.gethostname()
    assert s.host.kernel == platform.release()
    assert s.host.page_size == resource.getpagesize()
    assert s.host.cgroup_mode == detect_layout().mode
    assert s.host.mem_total == psutil.virtual_memory().total
    me = s.process(os.getpid())
    home = find_memcg_home()
    assert me is not None and home is not None and me.cgroup == home.own
    kthreadd = s.process(2)
    assert kthreadd is None or (kthreadd.kernel_thread and kthreadd.cmdline == ())


def test_second_sample_has_a_trend(memcg):
    c = Collector()
    c.collect()
    time.sleep(0.05)
    trend = c.collect().cgroup(memcg.path).trend
    assert trend is not None and trend.interval >= 0.05
    assert trend.memory_current_prev is not None


_UNPRIVILEGED = r"""
import json, os, sys
from oomtui.collect import Collector
from oomtui.snapshot import dumps
os.setgid(65534)
os.setuid(65534)
sys.stdout.write(dumps(Collector().collect()).decode())
"""


def test_unprivileged_collection_marks_what_it_cannot_read(memcg):
    """As nobody, files only root may read become null; everything else is still there."""
    hog = spawn_hog("oomtui-nobody", 1, cgroup_dir=memcg.dir)
    locked = ("memory.stat", "memory.usage_in_bytes") if memcg.home.version == 1 else ("memory.stat",
                                                                                       "memory.current")
    try:
        for name in locked:
            os.chmod(memcg.dir / name, 0o600)
        out = subprocess.run(
            [sys.executable, "-c", _UNPRIVILEGED], capture_output=True, timeout=60, cwd=os.getcwd(),
        )
        assert out.returncode == 0, out.stderr.decode()[-2000:]
        s = from_dict(parse_json(out.stdout, "stdout"))
    finally:
        hog.kill()
    cg = s.cgroup(memcg.path)
    assert cg.stat == {} and cg.memory_current is None
    assert s.cgroup("/").memory_current is not None
    p = s.process(hog.pid)
    assert p is not None and p.cgroup == memcg.path and p.comm == "oomtui-nobody"
    assert p.rss_anon is not None and p.start_time is not None
    assert len(s.processes) > 10


def test_churn_never_raises(memcg):
    """Hundreds of processes forking and exiting, and cgroups coming and going, while we collect."""
    loop = subprocess.Popen(
        ["bash", "-c", "while :; do for i in $(seq 100); do sleep 0.0$((i % 10)) & done; wait; done"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    memcg.add_pid(loop.pid)
    collector = Collector()
    seen: list[set[int]] = []
    try:
        for i in range(20):
            child = memcg.dir / f"churn{i}"
            child.mkdir()
            s = collector.collect() if i % 2 else Collector().collect()  # warm and first samples in turn
            child.rmdir()
            assert from_dict(parse_json(dumps(s), "snapshot")).processes == s.processes
            seen.append({p.pid for p in s.processes_in(memcg.path)})
    finally:
        loop.kill()
        loop.wait()
    assert len({frozenset(x) for x in seen}) > 1, "the churn loop never showed up in a sample"
