"""The helper process that reads half of /proc on a first sample: same snapshot, never needed."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from oomtui.collect import helper, helper_script, procs
from oomtui.collect.helper import Helper
from oomtui.collect.helper_script import FILES, read_process
from tests.support import helper_spy
from tests.support.fakehost import FakeHost, FakeProc, failing


def varied_host(tmp_path) -> FakeHost:
    """Processes of every kind the collector meets, in both the listed and the unlisted way."""
    host = FakeHost(tmp_path, "v2")
    host.add_cgroup("/app")
    for pid in range(100, 180):
        host.add_process(FakeProc(pid=pid, cgroup="/app" if pid % 2 else "/", adj=pid, score=pid + 1))
    host.add_process(FakeProc(pid=200, comm="a) (b [x]", cmdline=("é", "\x1b[31m", "")))
    host.add_process(FakeProc(pid=201, comm="kworker/0:1", flags=0x00208040, rss_anon_kb=None, cmdline=()))
    host.add_process(FakeProc(pid=202, cmdline=("x" * 100_000,)))  # longer than one read
    host.add_process(FakeProc(pid=203, cgroup="/app", listed=False))  # found from /proc/203/cgroup
    host.add_process(FakeProc(pid=204))
    (host.proc / "204" / "status").unlink()
    (host.proc / "204" / "status").mkdir()  # unreadable (EISDIR): its fields are null
    host.add_process(FakeProc(pid=205))
    (host.proc / "205" / "stat").write_text("")  # a zombie's last moment: gone
    host.add_process(FakeProc(pid=206))
    (host.proc / "206" / "oom_score").unlink()  # exited between two reads: gone
    (host.proc / "207").mkdir()  # exited before its stat was read
    host.add_process(FakeProc(pid=208))
    (host.proc / "208" / "stat").write_bytes(b"208 (b\xffad) S 1 208 208 0 -1 4194560 1 0 0 0 1 1 0 0 20 0 1 0 9 1 1")
    return host


def test_read_process_gives_bytes_or_errno(tmp_path):
    host = varied_host(tmp_path)
    got = read_process(f"{host.proc}/202/")
    assert len(got) == len(FILES) and got[FILES.index("cmdline")] == b"x" * 100_000 + b"\0"
    assert read_process(f"{host.proc}/204/")[FILES.index("status")] == 21  # EISDIR
    assert read_process(f"{host.proc}/207/") == [2]  # ENOENT at stat: nothing more is read
    assert read_process(f"{host.proc}/206/")[FILES.index("oom_score")] == 2


def test_snapshot_read_through_the_helper_equals_one_read_alone(tmp_path, monkeypatch):
    host = varied_host(tmp_path)
    alone = host.collector(helper_above=None).collect()
    spy = helper_spy.install(monkeypatch)
    helped = host.collector(helper_above=0).collect()
    assert [s.delivered for s in spy.instances] == [sum(n.isdigit() for n in os.listdir(host.proc))]
    assert helped.processes == alone.processes and helped.cgroups == alone.cgroups
    pids = {p.pid for p in helped.processes}
    assert {205, 206, 207}.isdisjoint(pids) and {200, 201, 202, 203, 204, 208} <= pids
    assert helped.process(204).rss_anon is None and helped.process(203).cgroup == "/app"


def test_only_a_first_sample_of_many_processes_with_the_plain_reader_starts_a_helper(tmp_path, monkeypatch):
    host = varied_host(tmp_path)
    spy = helper_spy.install(monkeypatch)
    c = host.collector(helper_above=10)
    c.collect()
    c.collect()  # warm: reuses what it read
    host.collector(helper_above=1000).collect()  # too few processes to be worth it
    host.collector(read=failing(lambda path: None), helper_above=0).collect()  # tests' own readers
    assert len(spy.instances) == 1


@pytest.mark.parametrize("executable", ["/nonexistent/python", "/bin/false", ""])
def test_a_helper_that_cannot_start_or_dies_changes_nothing(tmp_path, monkeypatch, executable):
    host = varied_host(tmp_path)
    alone = host.collector(helper_above=None).collect()
    monkeypatch.setattr(sys, "executable", executable)
    assert host.collector(helper_above=0).collect().processes == alone.processes


def test_racing_helper_and_collector_split_the_work_without_gaps(tmp_path):
    """No spy: the helper reads from the top while we read from the bottom, and we stop where we meet."""
    host = FakeHost(tmp_path, "v2")
    for pid in range(1000, 1600):
        host.add_process(FakeProc(pid=pid, adj=pid % 1000, cmdline=(f"p{pid}",)))
    alone = host.collector(helper_above=None).collect()
    for _ in range(3):
        assert host.collector(helper_above=0).collect().processes == alone.processes


def test_frames_are_taken_whole_and_a_cut_one_waits(tmp_path):
    host = varied_host(tmp_path)
    pids = sorted(int(n) for n in os.listdir(host.proc) if n.isdigit())
    out = tmp_path / "frames"
    with open(out, "wb") as f:
        helper_script.serve(str(host.proc), [str(p).encode() for p in pids], f.fileno())
    data = out.read_bytes()
    used, whole = helper._batches(data)
    assert used == len(data) and [pid for pid, _ in whole] == pids
    assert dict(whole)[202] == tuple(read_process(f"{host.proc}/202/"))
    first = int.from_bytes(data[:4], "little") + 4
    used, part = helper._batches(data[:first + 10])  # the helper died inside its second frame
    assert used == first and [pid for pid, _ in part] == pids[:helper_script.BATCH]
    assert helper._batches(b"\x05\x00")[0] == 0


def test_helper_offers_itself_to_the_oom_killer_first():
    """It raises its own oom_score_adj to 1000 before reading anything, so an OOM it causes takes it."""
    child = subprocess.Popen([sys.executable, "-I", "-S", helper_script.__file__, "/proc"], stdin=subprocess.PIPE,
                             stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        adj = ""
        while adj != "1000" and time.monotonic() < deadline:
            time.sleep(0.01)
            adj = Path(f"/proc/{child.pid}/oom_score_adj").read_text().strip()
        assert adj == "1000"
    finally:
        child.kill()
        child.wait()


def test_helper_is_stopped_and_reaped_even_when_the_sample_fails(tmp_path, monkeypatch):
    host = varied_host(tmp_path)
    started: list[Helper] = []

    class Recorded(Helper):
        def __init__(self, proc: str, pids: list[int]) -> None:
            super().__init__(proc, pids)
            started.append(self)

    monkeypatch.setattr(procs, "Helper", Recorded)
    host.collector(helper_above=0).collect()
    c = host.collector(helper_above=0)
    monkeypatch.setattr(c._cgroups, "walk", lambda: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        c.collect()
    assert len(started) == 2 and all(h._child.returncode is not None for h in started)
    assert started[1].stop() == []  # stopping twice is harmless
