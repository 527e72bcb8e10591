"""A warm sample reads less per process: what it no longer reads must still come out right.

Real processes on this kernel: oom_score worked out by the kernel's formula
must equal /proc/PID/oom_score, and a process whose oom_score_adj, memory
cgroup, argv (rewritten in place, no exec) and comm change between two
samples of one Collector shows each change in the second.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from oomtui.collect import Collector, detect_layout
from oomtui.collect.activity import ROTATION, reclaim_mark
from oomtui.collect.files import read_file
from tests.support.cgroups import v2_test_cgroup
from tests.support.hog import spawn_hog

MiB = 1 << 20
pytestmark = pytest.mark.kernel

# Sleeps on stdin; "alloc N" touches N MiB more; "rename X" writes X over its last argument's
# memory through /proc/self/mem (what setproctitle does: no exec, no prctl) and into
# /proc/self/comm; then it says "done" and sleeps again.
_WORKER = r"""
import sys
kept = []
sys.stdout.write("ready\n"); sys.stdout.flush()
for line in sys.stdin:
    verb, arg = line.split()
    if verb == "alloc":
        kept.append(bytearray(b"x" * (int(arg) << 20)))
    else:
        with open("/proc/self/stat", "rb") as f:
            fields = f.read().rsplit(b")", 1)[1].split()
        start, end = int(fields[45]), int(fields[46])
        with open("/proc/self/mem", "r+b", buffering=0) as mem:
            mem.seek(start)
            old = mem.read(end - start)
            tail = old.rindex(b"\0", 0, len(old) - 1) + 1
            mem.seek(start + tail)
            mem.write(arg.encode().ljust(len(old) - tail - 1, b"-"))
        with open("/proc/self/comm", "w") as f:
            f.write(arg)
    sys.stdout.write("done\n"); sys.stdout.flush()
"""


def _start_worker(cgroup_dir: Path) -> subprocess.Popen:
    p = subprocess.Popen(
        [sys.executable, "-c", _WORKER, "x" * 32], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    assert p.stdout is not None and p.stdout.readline() == "ready\n"
    (cgroup_dir / "cgroup.procs").write_text(str(p.pid))
    return p


def _open_below(prefix: str) -> set[str]:
    """What this process's open fds point at, of the paths starting with `prefix`."""
    out = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            out.add(os.readlink(f"/proc/self/fd/{fd}"))
        except OSError:
            continue
    return {path for path in out if path.startswith(prefix)}


def test_changes_between_samples_show_in_the_next(memcg):
    other = memcg.child("other")
    p = _start_worker(memcg.dir)
    try:
        c = Collector()
        before = c.collect().process(p.pid)
        assert before is not None and before.cgroup == memcg.path and before.cmdline[-1] == "x" * 32

        Path(f"/proc/{p.pid}/oom_score_adj").write_text("321")
        assert c.collect().process(p.pid).oom_score_adj == 321

        other.add_pid(p.pid)
        assert c.collect().process(p.pid).cgroup == other.path

        assert p.stdin is not None and p.stdout is not None
        p.stdin.write("rename renamed\n")
        p.stdin.flush()
        assert p.stdout.readline() == "done\n"
        after = c.collect().process(p.pid)
        assert after.cmdline[-1] == "renamed".ljust(32, "-") and after.comm == "renamed"
        assert after.start_time == before.start_time and after.cmdline[0] == sys.executable

        Path(f"/proc/{p.pid}/oom_score_adj").write_text("123")  # read through the files kept open since
        assert c.collect().process(p.pid).oom_score_adj == 123
    finally:
        p.kill()
        p.wait()




@pytest.fixture
def unified(memcg):
    """A cgroup of its own on the unified hierarchy for what the test starts: `memcg`'s own on v2."""
    layout = detect_layout()
    if layout.v2_root is None:
        pytest.skip("no cgroup2 mount: every process is read every sample")
    if layout.mode == "v2":
        yield memcg.dir
        return
    with v2_test_cgroup(layout.v2_root) as (_, d):
        yield d


def test_a_process_that_stood_still_is_not_read_and_what_it_does_shows_next(memcg, unified):
    """The kernel as referee of activity.py: a sleeping process in cgroups of its own is not read
    again (bar its rotation turn), and each thing it does shows, as the kernel has it, at once."""
    p = _start_worker(memcg.dir)
    reads: dict[str, int] = {}

    def counted(path: str) -> bytes:
        if path == f"/proc/{p.pid}/status":
            reads["status"] = reads.get("status", 0) + 1
        return read_file(path)

    def order(command: str) -> None:
        assert p.stdin is not None and p.stdout is not None
        p.stdin.write(command + "\n")
        p.stdin.flush()
        assert p.stdout.readline() == "done\n"

    def kernels_anon() -> int:
        line = next(x for x in Path(f"/proc/{p.pid}/status").read_text().splitlines() if x.startswith("RssAnon:"))
        return int(line.split()[1]) * 1024

    try:
        (unified / "cgroup.procs").write_text(str(p.pid))
        c = Collector(read=counted)
        for _ in range(2):
            c.collect()
        reads.clear()
        reclaim = reclaim_mark(read_file("/proc/vmstat"))
        for _ in range(ROTATION):
            assert c.collect().process(p.pid).rss_anon == kernels_anon()
        # not read every sample: the gate held (unless the host reclaimed memory meanwhile, which opens it)
        assert reads.get("status", 0) < ROTATION or reclaim_mark(read_file("/proc/vmstat")) != reclaim, reads

        order("alloc 64")
        seen = c.collect().process(p.pid)
        assert seen.rss_anon == kernels_anon() and seen.rss_anon >= 64 << 20
        order("rename quietly")
        seen = c.collect().process(p.pid)
        assert seen.cmdline[-1] == "quietly".ljust(32, "-") and seen.comm == "quietly"
    finally:
        p.kill()
        p.wait()


def test_computed_oom_score_equals_the_kernels(memcg):
    """Hogs of several sizes and adjustments: the collector's oom_score is the file's, first and warm.

    Lowering oom_score_adj needs CAP_SYS_RESOURCE, which this machine's root
    lacks, so negative ones are checked against worked examples in
    test_collect_parse.py.
    """
    hogs = [spawn_hog(f"oomtui-score{i}", mib, adj=adj, cgroup_dir=memcg.dir)
            for i, (mib, adj) in enumerate(((1, 0), (48, 0), (96, 250), (16, 1), (8, 1000), (4, 999)))]
    try:
        c = Collector()
        for _ in range(2):
            s = c.collect()
            for hog in hogs:
                got = s.process(hog.pid).oom_score
                assert got == int(Path(f"/proc/{hog.pid}/oom_score").read_text()), hog.name
            time.sleep(0.05)
    finally:
        for hog in hogs:
            hog.kill()


def test_a_known_process_keeps_its_oom_score_adj_open_until_it_exits(memcg):
    """From the second sample on, oom_score_adj is re-read through a file kept open; none outlives its
    process, and a collector closed or dropped closes the rest."""
    hog = spawn_hog("oomtui-held", 1, cgroup_dir=memcg.dir)

    def held() -> set[str]:
        return _open_below(f"/proc/{hog.pid}/")

    c = Collector()
    try:
        c.collect()
        assert held() == set()  # a one-off sample keeps nothing
        c.collect()
        assert held() == {f"/proc/{hog.pid}/oom_score_adj"}
        Path(f"/proc/{hog.pid}/oom_score_adj").write_text("77")
        assert c.collect().process(hog.pid).oom_score_adj == 77
    finally:
        hog.kill()
    assert c.collect().process(hog.pid) is None
    assert held() == set()
    opened = len(os.listdir("/proc/self/fd"))
    c.close()
    assert len(os.listdir("/proc/self/fd")) < opened - 2  # every other process's file was open too
    dropped = Collector()
    dropped.collect()
    dropped.collect()
    del dropped
    assert len(os.listdir("/proc/self/fd")) < opened - 2


def test_reads_only_status_and_adj_for_an_idle_known_process(memcg):
    """The point of the warm path, on real files: no stat, cmdline or oom_score for a process seen before."""
    hog = spawn_hog("oomtui-idle", 1, cgroup_dir=memcg.dir)
    opened: list[str] = []

    def read(path: str) -> bytes:
        opened.append(path)
        fd = os.open(path, os.O_RDONLY)
        try:
            return os.read(fd, 1 << 16)
        finally:
            os.close(fd)

    try:
        c = Collector(read=read)
        first = c.collect().process(hog.pid)
        opened.clear()
        second = c.collect().process(hog.pid)
        mine = sorted(path.rsplit("/", 1)[1] for path in opened if path.startswith(f"/proc/{hog.pid}/"))
        assert mine == ["oom_score_adj", "status"]
        assert second == first
    finally:
        hog.kill()


def test_cgroup_directories_kept_open_follow_removal_and_remaking(memcg):
    """Each cgroup's directory stays open between samples and its files are read through it: one removed and made
    again under the same path is read through a new fd (its new limit shows, its trend starts afresh), a removed
    one's fd is closed at the next sample, and closing the collector closes the rest."""

    def held() -> set[str]:
        return _open_below(str(memcg.dir))

    again = memcg.child("again")
    again.set_limit(64 * MiB)
    c = Collector()
    try:
        c.collect()
        first = c.collect().cgroup(again.path)
        assert first is not None and first.memory_max == 64 * MiB and first.trend is not None
        assert held() == {str(memcg.dir), str(again.dir)}

        again.dir.rmdir()
        again = memcg.child("again")
        again.set_limit(32 * MiB)
        remade = c.collect().cgroup(again.path)
        assert remade is not None and remade.memory_max == 32 * MiB and remade.trend is None
        assert held() == {str(memcg.dir), str(again.dir)}  # and no "(deleted)" one left

        again.dir.rmdir()
        assert c.collect().cgroup(again.path) is None
        assert held() == {str(memcg.dir)}
    finally:
        c.close()
    assert held() == set()


def test_unified_directories_kept_open_follow_removal(unified):
    """The activity walk keeps each unified cgroup's directory open as the memory walk does: a removed one's
    fd is closed at the next sample, and closing the collector closes the rest."""
    child = unified / "child"
    child.mkdir()

    def held() -> set[str]:
        return _open_below(str(unified))

    c = Collector()
    try:
        c.collect()
        assert held() >= {str(unified), str(child)}
        child.rmdir()
        c.collect()
        assert str(child) not in held() and not any(p.endswith("(deleted)") for p in held())
    finally:
        c.close()
        if child.exists():
            child.rmdir()
    assert held() == set()
