"""A process nothing moved for is not read again: fake v2, hybrid and v1 trees.

What the warm sample skips must still come out right: each sign that a
process may have changed (its cgroup's CPU time or members, its memory
cgroup's counters, the host's reclaim counters, its parent gone, its turn
in the rotation) makes the next sample read it, and nothing else does.
The same against the real kernel is in test_collect_warm.py.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from oomtui.collect.activity import ROTATION, cpu_usage, reclaim_mark
from oomtui.collect.files import read_file
from tests.support.fakehost import FakeHost, FakeProc

VMSTAT = "nr_free_pages 100\npgscan_kswapd 7\npgsteal_kswapd 5\npswpin 0\npswpout 0\noom_kill 0\npgfault 99\n"
V2_STAT = "anon 4096\nfile 8192\nfile_mapped 0\nshmem 0\npgfault 10\npgmajfault 0\n"
V1_STAT = "cache 8192\nrss 4096\nmapped_file 0\nshmem 0\nswap 0\npgpgin 3\npgpgout 1\npgfault 10\npgmajfault 0\n"


class Counted:
    """A reader that counts the status reads of each pid."""

    def __init__(self) -> None:
        self.status: Counter[int] = Counter()

    def __call__(self, path: str) -> bytes:
        if path.endswith("/status"):
            self.status[int(path.rsplit("/", 2)[1])] += 1
        return read_file(path)


def _cpu(d: Path, usage: int) -> None:
    (d / "cpu.stat").write_text(f"usage_usec {usage}\nuser_usec {usage}\nsystem_usec 0\n")


def _host(tmp_path: Path, mode: str) -> tuple[FakeHost, Path]:
    """Processes 10 (parent) and 11 in /app; 12 in /other. Returns the host and /app's unified directory."""
    host = FakeHost(tmp_path, mode)
    host.write("proc/vmstat", VMSTAT)
    stat = V1_STAT if mode in ("v1", "hybrid") else V2_STAT
    host.add_cgroup("/", {"memory.stat": stat})
    host.add_cgroup("/app", {"memory.stat": stat})
    host.add_cgroup("/other", {"memory.stat": stat})
    host.add_process(FakeProc(pid=10, cgroup="/app"))
    host.add_process(FakeProc(pid=11, ppid=10, cgroup="/app", rss_anon_kb=100))
    host.add_process(FakeProc(pid=12, cgroup="/other"))
    unified = host.memory_root if mode == "v2" else tmp_path / "cgroup" / "unified"
    assert unified is not None
    if mode == "v1":  # no unified mount: the memory hierarchy's own cpu files must not count
        for d in (host.cgroup_dir("/"), host.cgroup_dir("/app"), host.cgroup_dir("/other")):
            _cpu(d, 1000)
        return host, host.cgroup_dir("/app")
    if mode == "hybrid":  # systemd's mirror of the unit tree on the unified mount
        for path, pids in (("app", "10\n11\n"), ("other", "12\n")):
            (unified / path).mkdir()
            (unified / path / "cgroup.procs").write_text(pids)
        (unified / "cgroup.procs").write_text("")
    for d in (unified, unified / "app", unified / "other"):
        _cpu(d, 1000)
    return host, unified / "app"


def _grow(host: FakeHost, pid: int, kb: int) -> None:
    """The process's status says it now has `kb` kB of anonymous memory."""
    status = host.proc / str(pid) / "status"
    text = status.read_text()
    start = text.index("RssAnon:")
    end = text.index("\n", start)
    status.write_text(f"{text[:start]}RssAnon:\t{kb:8d} kB{text[end:]}")


@pytest.mark.parametrize("mode", ["v2", "hybrid"])
def test_a_process_nothing_moved_for_is_read_only_in_its_turn(tmp_path, mode):
    host, _ = _host(tmp_path, mode)
    reads = Counted()
    c = host.collector(read=reads)
    first = c.collect()
    samples = [c.collect() for _ in range(2 * ROTATION)]
    # read in full the first time, then only in its turn: once every ROTATION samples
    assert reads.status[11] == 1 + 2
    assert all(s.process(11) == first.process(11) for s in samples)
    assert {p.pid for p in samples[-1].processes} == {10, 11, 12}


@pytest.mark.parametrize("mode", ["v2", "hybrid"])
@pytest.mark.parametrize("sign", ["cpu", "members", "moved", "memory", "reclaim", "parent"])
def test_each_sign_of_movement_has_the_process_read(tmp_path, mode, sign):
    host, app = _host(tmp_path, mode)
    c = host.collector()
    c.collect()
    c.collect()
    _grow(host, 11, 5000)
    assert (11 + 3) % ROTATION and (11 + 4) % ROTATION  # samples 3 and 4 are not pid 11's turn
    held = c.collect().process(11)
    assert held is not None and held.rss_anon == 100 * 1024  # nothing moved: not read
    if sign == "cpu":
        _cpu(app, 1001)  # one microsecond of CPU: one of its threads ran
    elif sign == "members":
        (app / "cgroup.procs").write_text("10\n11\n13\n")
    elif sign == "moved":  # into a cgroup made since: no CPU time to compare with
        (app.parent / "new").mkdir()
        _cpu(app.parent / "new", 5)
        (app.parent / "new" / "cgroup.procs").write_text("11\n")
        (app / "cgroup.procs").write_text("10\n")
    elif sign == "memory":
        memcg = host.cgroup_dir("/app") / "memory.stat"
        memcg.write_text(memcg.read_text().replace("pgfault 10", "pgfault 11"))
    elif sign == "reclaim":
        host.write("proc/vmstat", VMSTAT.replace("pgsteal_kswapd 5", "pgsteal_kswapd 6"))
    elif sign == "parent":
        for name in (host.proc / "10").iterdir():
            name.unlink()
        (host.proc / "10").rmdir()
        (host.proc / "11" / "status").write_text((host.proc / "11" / "status").read_text().replace(
            "PPid:\t10", "PPid:\t1"))
    seen = c.collect().process(11)
    assert seen is not None and seen.rss_anon == 5000 * 1024
    if sign == "parent":
        assert seen.ppid == 1


@pytest.mark.parametrize("mode", ["v2", "hybrid"])
def test_a_process_in_the_unified_root_is_read_every_sample(tmp_path, mode):
    """The root's cpu.stat is the host's tick-sampled CPU time, not an exact sum: a process there can run
    between two ticks unseen (a container host without systemd puts everything there)."""
    host, app = _host(tmp_path, mode)
    unified = app.parent
    (app / "cgroup.procs").write_text("10\n")
    (unified / "cgroup.procs").write_text("11\n")
    c = host.collector()
    c.collect()
    c.collect()
    _grow(host, 11, 5000)
    assert (11 + 3) % ROTATION  # sample 3 is not pid 11's turn
    seen = c.collect().process(11)
    assert seen is not None and seen.rss_anon == 5000 * 1024


def test_a_process_with_a_thread_in_a_cgroup_that_ran_is_read(tmp_path):
    """On the unified hierarchy a thread can sit in another (threaded) cgroup, whose
    cgroup.procs then lists its process too: the process stood still only if both did."""
    host, app = _host(tmp_path, "hybrid")
    other = app.parent / "other"
    (other / "cgroup.procs").write_text("12\n11\n")
    c = host.collector()
    c.collect()
    c.collect()
    _grow(host, 11, 5000)
    assert c.collect().process(11).rss_anon == 100 * 1024  # nothing moved: not read
    _cpu(other, 1001)
    assert c.collect().process(11).rss_anon == 5000 * 1024


def test_oom_score_adj_is_read_every_sample_even_for_a_quiet_process(tmp_path):
    host, _ = _host(tmp_path, "v2")
    reads = Counted()
    c = host.collector(read=reads)
    c.collect()
    c.collect()
    before = reads.status[11]
    (host.proc / "11" / "oom_score_adj").write_text("500\n")
    seen = c.collect().process(11)
    assert seen is not None and seen.oom_score_adj == 500 and (11 + 3) % ROTATION
    assert reads.status[11] == before  # sample 3 is not its turn


def test_without_a_unified_hierarchy_every_process_is_read_every_sample(tmp_path):
    host, _ = _host(tmp_path, "v1")
    reads = Counted()
    c = host.collector(read=reads)
    for _ in range(4):
        c.collect()
    assert reads.status[11] == 4


@pytest.mark.parametrize("broken", ["cpu.stat", "vmstat"])
def test_an_unreadable_sign_has_every_process_read(tmp_path, broken):
    host, app = _host(tmp_path, "v2")
    if broken == "cpu.stat":
        (app / "cpu.stat").unlink()
    else:
        (host.proc / "vmstat").unlink()
    reads = Counted()
    c = host.collector(read=reads)
    for _ in range(4):
        c.collect()
    assert reads.status[11] == 4


def test_the_marks_are_parsed_from_the_kernels_lines():
    assert cpu_usage(b"usage_usec 82231362502\nuser_usec 1\nsystem_usec 2\n") == 82231362502
    assert cpu_usage(b"user_usec 1\n") is None and cpu_usage(None) is None and cpu_usage(b"usage_usec x\n") is None
    # global reclaim, khugepaged and OOM kills; not reclaim inside a cgroup (pgscan_file, pgsteal_anon count it too)
    lines = (b"nr_free_pages 5\npgscan_kswapd 3\npgscan_direct 1\npgscan_direct_throttle 8\npgsteal_direct 2\n"
             b"pgscan_file 6\npgsteal_anon 2\npswpout 0\nthp_collapse_alloc 1\noom_kill 4\npgfault 9\n")
    assert reclaim_mark(lines) == (b"pgscan_kswapd 3", b"pgscan_direct 1", b"pgsteal_direct 2", b"thp_collapse_alloc 1",
                                   b"oom_kill 4")
    assert reclaim_mark(b"") is None and reclaim_mark(None) is None
