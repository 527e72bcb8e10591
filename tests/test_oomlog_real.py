"""The importer against reports this kernel really printed: a real memory-cgroup OOM, read from /dev/kmsg."""

from __future__ import annotations

import os
import time

import pytest

from oomtui.oomlog import find_reports, parse_report
from oomtui.oomlog.kmsg import KmsgFollower, ReportCatcher
from oomtui.replay import replay
from tests.support.hog import spawn_hog

pytestmark = pytest.mark.kernel
MIB = 1 << 20
LIMIT = 96 * MIB


def kmsg_or_skip() -> KmsgFollower:
    try:
        return KmsgFollower()
    except OSError as e:
        pytest.skip(f"/dev/kmsg not readable: {e.strerror}")


def capture_report(follower: KmsgFollower, domain: str, timeout: float = 30.0) -> str:
    """Follow /dev/kmsg until a whole OOM report of `domain` has gone past (other tests cause OOMs too)."""
    catcher = ReportCatcher(settle=0.5)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done = [text for line in follower.read_lines() for text, _ in catcher.feed(line, time.monotonic(), time.time())]
        done += [text for text, _ in catcher.due(time.monotonic())]
        for text in done:
            if f"oom_memcg={domain}," in text:
                return text
        time.sleep(0.05)
    raise AssertionError("no OOM report appeared on /dev/kmsg")


def oom_report(memcg, steady: tuple[str, int, int], grower: tuple[str, int, int]) -> tuple[str, int, int]:
    """A steady hog and a growing one in the cgroup until the kernel kills; the report and both pids."""
    follower = kmsg_or_skip()
    memcg.set_limit(LIMIT)
    still = spawn_hog(steady[0], steady[1], adj=steady[2], cgroup_dir=memcg.dir)
    grows = spawn_hog(grower[0], grower[1], adj=grower[2], cgroup_dir=memcg.dir, grow=True)
    try:
        grows.start_growing()
        grows.popen.wait(timeout=60)
        return capture_report(follower, memcg.path), still.pid, grows.pid
    finally:
        follower.close()
        still.kill()
        grows.kill()


def test_real_memcg_oom_imports_with_victim_domain_and_sizes(memcg):
    text, small_pid, big_pid = oom_report(memcg, ("oomlog-small", 16, 0), ("oomlog-big", 24, 300))
    infos = find_reports(text)
    assert [(i.kind, i.domain, i.victim_pid) for i in infos] == [("memcg", memcg.path, big_pid)]
    result = parse_report(text)
    s, e = result.snapshot, result.snapshot.oom_event
    assert (e.kind, e.domain, e.killed_pid, e.killed_comm) == ("memcg", memcg.path, big_pid, "oomlog-big")
    assert s.host.kernel == os.uname().release
    assert s.host.page_size == os.sysconf("SC_PAGE_SIZE")
    domain = s.cgroup(memcg.path)
    assert domain.memory_max == LIMIT
    assert LIMIT - 4 * MIB <= domain.memory_current <= LIMIT
    pids = {p.pid for p in s.processes}
    assert {small_pid, big_pid} <= pids
    victim, other = s.process(big_pid), s.process(small_pid)
    assert (victim.oom_score_adj, other.oom_score_adj) == (300, 0)
    assert victim.uid == os.getuid()
    assert 16 * MIB <= other.rss_anon < 32 * MIB  # it touched 16 MiB of anonymous memory
    assert 24 * MIB < victim.rss_anon <= LIMIT  # it touched 24 MiB and kept growing to the limit
    assert result.warnings == []
    rep = replay(s)
    assert rep.kernel_agrees is True, rep.explanation


def test_real_report_with_oom_score_adj_deciding(memcg):
    """The smaller process dies because of its adj: the importer must carry adj and the budget exactly."""
    text, large_pid, grower_pid = oom_report(memcg, ("oomlog-large", 60, 0), ("oomlog-grow", 4, 600))
    s = parse_report(text).snapshot
    assert s.oom_event.killed_pid == grower_pid
    assert s.process(grower_pid).rss_anon < s.process(large_pid).rss_anon  # smaller, but adj 600 outweighs
    rep = replay(s)
    assert rep.kernel_agrees is True, rep.explanation
