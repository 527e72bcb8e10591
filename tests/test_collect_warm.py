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

from oomtui.collect import Collector
from tests.support.hog import spawn_hog

MiB = 1 << 20
pytestmark = pytest.mark.kernel

# Waits for a line on stdin, then writes the new argv tail over its own argv
# memory through /proc/self/mem (what setproctitle does, no exec and no prctl)
# and its new name into /proc/self/comm, and says "done".
_REWRITER = r"""
import os, sys
sys.stdout.write("ready\n"); sys.stdout.flush()
new = sys.stdin.readline().rstrip("\n").encode()
with open("/proc/self/stat", "rb") as f:
    fields = f.read().rsplit(b")", 1)[1].split()
arg_start, arg_end = int(fields[45]), int(fields[46])
with open("/proc/self/mem", "r+b", buffering=0) as mem:
    mem.seek(arg_start)
    old = mem.read(arg_end - arg_start)
    tail = old.rindex(b"\0", 0, len(old) - 1) + 1  # the last argument
    mem.seek(arg_start + tail)
    mem.write(new.ljust(len(old) - tail - 1, b"-"))
with open("/proc/self/comm", "w") as f:
    f.write("rewritten")
sys.stdout.write("done\n"); sys.stdout.flush()
sys.stdin.read()
"""


def _start_rewriter(cgroup_dir: Path) -> subprocess.Popen:
    p = subprocess.Popen(
        [sys.executable, "-c", _REWRITER, "x" * 32], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
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
    p = _start_rewriter(memcg.dir)
    try:
        c = Collector()
        before = c.collect().process(p.pid)
        assert before is not None and before.cgroup == memcg.path and before.cmdline[-1] == "x" * 32

        Path(f"/proc/{p.pid}/oom_score_adj").write_text("321")
        assert c.collect().process(p.pid).oom_score_adj == 321

        other.add_pid(p.pid)
        assert c.collect().process(p.pid).cgroup == other.path

        assert p.stdin is not None and p.stdout is not None
        p.stdin.write("renamed\n")
        p.stdin.flush()
        assert p.stdout.readline() == "done\n"
        after = c.collect().process(p.pid)
        assert after.cmdline[-1] == "renamed".ljust(32, "-") and after.comm == "rewritten"
        assert after.start_time == before.start_time and after.cmdline[0] == sys.executable

        Path(f"/proc/{p.pid}/oom_score_adj").write_text("123")  # read through the files kept open since
        assert c.collect().process(p.pid).oom_score_adj == 123
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
