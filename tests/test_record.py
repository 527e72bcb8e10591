"""The recorder's bookkeeping: names, retention, events beside their samples, and a clean stop."""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from oomtui import snapshot
from oomtui.errors import UserError
from oomtui.model import Host, Process, Snapshot
from oomtui.record import Recorder, Recording, parse_duration, parse_size, stamp_name, time_of_name

FIXTURES = Path(__file__).parent / "fixtures" / "oomlogs"
ROOT = Path(__file__).parent.parent


def fake_snapshot(t: float, n: int = 3) -> Snapshot:
    host = Host("test", "6.18", 4096, 1 << 34, None, 0, None, "v2")
    procs = tuple(Process(pid=100 + i, comm=f"p{i}", cgroup="/", rss_anon=i << 20) for i in range(n))
    return Snapshot(host=host, cgroups=(), processes=procs, taken_at=t)


class Clock:
    """Samples one second apart, so names and retention are exact."""

    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self.t = start

    def __call__(self) -> Snapshot:
        self.t += 1.0
        return fake_snapshot(self.t)


def recorder(tmp_path: Path, **kw) -> Recorder:
    notes: list[str] = []
    r = Recorder(tmp_path / "rec", collect=kw.pop("collect", Clock()), kmsg_path="/nonexistent",
                 psi_path="/nonexistent", note=notes.append, **kw)
    r.notes = notes  # type: ignore[attr-defined]
    r._prepare()
    return r


@pytest.mark.parametrize(("text", "seconds"), [("90", 90), ("90s", 90), ("15m", 900), ("1h", 3600), ("2d", 172800),
                                               ("0.5", 0.5)])
def test_durations(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "x", "-1h", "0", "1y"])
def test_bad_durations(text):
    with pytest.raises(ValueError):
        parse_duration(text)


def test_sizes():
    assert parse_size("500M") == 500 << 20
    assert parse_size("2G") == 2 << 30
    assert parse_size("1GiB") == 1 << 30
    assert parse_size("4096") == 4096
    with pytest.raises(ValueError):
        parse_size("lots")


def test_sample_names_sort_by_time_and_read_back():
    t = 1_795_646_873.372516
    assert time_of_name(stamp_name(t) + ".json.gz") == pytest.approx(t, abs=1e-6)
    assert stamp_name(t) < stamp_name(t + 0.01) < stamp_name(t + 100_000)
    assert time_of_name("garbage.json.gz") is None


def test_samples_are_loadable_snapshots_listed_in_order(tmp_path):
    r = recorder(tmp_path)
    for _ in range(3):
        r.take_sample("interval")
    rec = Recording(r.dir)
    assert [s.time for s in rec.samples] == [1_800_000_001.0, 1_800_000_002.0, 1_800_000_003.0]
    assert rec.load_sample(1).taken_at == 1_800_000_002.0
    assert rec.sample_at(1_800_000_002.5) == 1
    assert rec.sample_at(1_800_000_000.0) is None


def test_event_is_stored_beside_the_last_sample_before_it(tmp_path):
    r = recorder(tmp_path)
    r.take_sample("interval")
    r.take_sample("interval")
    report = (FIXTURES / "v68_group_journal_iso.txt").read_text()
    r.store_event(report, 1_800_000_002.5)
    r.take_sample("interval")
    rec = Recording(r.dir)
    assert len(rec.events) == 1
    event = rec.events[0]
    assert (event.kind, event.victim_pid, event.victim_comm) == ("memcg", 68061, "stress")
    assert event.sample == rec.samples[1].path
    assert rec.event_sample(0).taken_at == 1_800_000_002.0
    assert rec.load_event(0).oom_event.group_killed_pids == (68050,)
    assert rec.import_event(0).snapshot.source == "kernel-log"


def test_retention_by_age_and_size_keeps_samples_events_point_at(tmp_path):
    r = recorder(tmp_path, keep=5.0)
    for _ in range(3):
        r.take_sample("interval")
    r.store_event((FIXTURES / "v61_global_dmesg.txt").read_text(), 1_800_000_001.5)  # pins sample 1
    for _ in range(7):
        r.take_sample("interval")  # now 10 samples, clock at ...010
    r.prune(1_800_000_010.0)
    times = [s.time - 1_800_000_000 for s in Recording(r.dir).samples]
    assert times == [1, 5, 6, 7, 8, 9, 10]
    one = r.samples[-1].path.stat().st_size
    r.max_bytes = 3 * one + one // 2
    r.prune(1_800_000_010.0)
    times = [s.time - 1_800_000_000 for s in Recording(r.dir).samples]
    assert times[0] == 1 and times[-1] == 10 and len(times) <= 4


def test_a_failing_collector_does_not_stop_the_recording(tmp_path):
    calls = {"n": 0}

    def flaky() -> Snapshot:
        calls["n"] += 1
        if calls["n"] % 2:
            raise PermissionError("/proc/1/status")
        return fake_snapshot(1_800_000_000.0 + calls["n"])

    r = recorder(tmp_path, collect=flaky)
    for _ in range(4):
        r.take_sample("interval")
    assert len(Recording(r.dir).samples) == 2
    assert any("PermissionError" in n for n in r.notes)  # type: ignore[attr-defined]


def test_a_torn_index_line_is_ignored(tmp_path):
    r = recorder(tmp_path)
    r.take_sample("interval")
    r.store_event((FIXTURES / "v61_global_dmesg.txt").read_text(), 1_800_000_002.0)
    with open(r.dir / "events" / "index.jsonl", "a") as f:
        f.write('{"time": 18000')
    assert len(Recording(r.dir).events) == 1


def test_an_unusable_directory_is_one_line_and_no_banner(tmp_path, capsys):
    from oomtui.cli import main

    (tmp_path / "file").write_text("")
    assert main(["record", str(tmp_path / "file" / "rec")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "recording to" not in err and str(tmp_path / "file" / "rec") in err


def test_not_a_recording(tmp_path):
    with pytest.raises(UserError, match="not an oomtui recording"):
        Recording(tmp_path)
    with pytest.raises(UserError, match="not a directory"):
        Recording(tmp_path / "missing")


def test_leftover_temporary_files_are_removed_at_start(tmp_path):
    r = recorder(tmp_path)
    r.take_sample("interval")
    stale = r.dir / "samples" / ".20261125T000000.000000Z.json.gz.0a1b2c3d.oomtui-tmp"
    stale.write_bytes(b"half")
    r.close()
    recorder(tmp_path)
    assert not stale.exists()
    assert len(Recording(r.dir).samples) == 1


_SLOW_RECORDER = """
import sys, time
from oomtui.model import Host, Process, Snapshot
from oomtui.record import Recorder
host = Host("t", "6.18", 4096, 1 << 34, None, 0, None, "v2")
procs = tuple(Process(pid=i, comm="x" * 15, cgroup="/", cmdline=("a" * 200,), rss_anon=i) for i in range(1, 20001))
def collect():
    return Snapshot(host=host, cgroups=(), processes=procs, taken_at=time.time())
print("ready", flush=True)
sys.exit(Recorder(sys.argv[1], interval=0.01, collect=collect, kmsg_path="/nonexistent",
                  psi_path="/nonexistent", note=lambda m: None).run())
"""


@pytest.mark.parametrize("delay", [0.3, 0.55, 0.8, 1.05])
def test_sigterm_mid_write_leaves_only_whole_files(tmp_path, delay):
    directory = tmp_path / "rec"
    proc = subprocess.Popen([sys.executable, "-c", _SLOW_RECORDER, str(directory)], stdout=subprocess.PIPE,
                            cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.stdout is not None and proc.stdout.readline().strip() == b"ready"
    time.sleep(delay)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=60) == 0
    files = sorted(os.listdir(directory / "samples"))
    assert files, "no sample was written"
    assert not [f for f in files if f.startswith(".")], files
    for name in files:
        assert len(snapshot.load(directory / "samples" / name).processes) == 20000
    meta = json.loads((directory / "recording.json").read_text())
    assert meta["format"] == "oomtui-recording"


def test_a_kernel_log_overrun_is_reported_once(tmp_path, monkeypatch):
    """When /dev/kmsg overwrites records before we read them, a report caught then may be cut: say so."""
    from oomtui.oomlog import kmsg as kmsg_module

    log = tmp_path / "kmsg"
    log.write_bytes(b"")
    real_read = os.read
    failures = iter([OSError(errno.EPIPE, "Broken pipe")])

    def read(fd: int, n: int) -> bytes:
        err = next(failures, None)
        if err is not None:
            raise err
        return real_read(fd, n)

    monkeypatch.setattr(kmsg_module.os, "read", read)
    notes: list[str] = []
    rec = Recorder(tmp_path / "rec", interval=60, collect=Clock(), kmsg_path=str(log),
                   psi_path="/nonexistent", note=notes.append)
    assert rec.run(duration=0.3) == 0
    overruns = [n for n in notes if "overran" in n]
    assert len(overruns) == 1
    assert "may be incomplete" in overruns[0]


def _disk_bytes(directory: Path) -> int:
    return sum(f.stat().st_size for sub in ("samples", "events") for f in (directory / sub).iterdir())


def test_the_size_cap_holds_through_a_storm_of_oom_events(tmp_path):
    """Events and the samples they pin count against --max-size too; the oldest events go first."""
    report = (FIXTURES / "v61_global_dmesg.txt").read_text()
    r = recorder(tmp_path)
    r.take_sample("interval")
    sample = r.samples[-1].path.stat().st_size
    r.max_bytes = 4 * (sample + len(report) + 300)
    for i in range(30):
        r.take_sample("interval")
        r.store_event(report, r.samples[-1].time + 0.5)
        assert _disk_bytes(r.dir) <= r.max_bytes, f"over the cap after event {i}"
    rec = Recording(r.dir)
    assert 1 <= len(rec.events) < 30
    assert rec.events[-1].time == r.samples[-1].time + 0.5  # the newest event is kept, with its sample
    assert rec.events[-1].sample is not None and rec.events[-1].sample.exists()
    assert all(e.report.exists() for e in rec.events)
    assert sorted(p.name for p in (r.dir / "events").iterdir() if p.suffix == ".log") == sorted(
        e.report.name for e in rec.events)


_HOLD_RECORDER = """
import sys, time
from oomtui.model import Host, Snapshot
from oomtui.record import Recorder
host = Host("t", "6.18", 4096, 1 << 34, None, 0, None, "v2")
def collect():
    return Snapshot(host=host, cgroups=(), processes=(), taken_at=time.time())
sys.exit(Recorder(sys.argv[1], interval=0.05, collect=collect, kmsg_path="/nonexistent",
                  psi_path="/nonexistent", note=lambda m: print(m, flush=True)).run())
"""


def test_a_second_recorder_in_the_same_directory_refuses(tmp_path):
    directory = tmp_path / "rec"
    first = subprocess.Popen([sys.executable, "-c", _HOLD_RECORDER, str(directory)], stdout=subprocess.PIPE,
                             cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, text=True)
    try:
        assert first.stdout is not None
        while "recording to" not in first.stdout.readline():
            pass
        second = subprocess.run([sys.executable, "-m", "oomtui.cli", "record", str(directory)], cwd=ROOT,
                                capture_output=True, text=True, timeout=60)
        assert second.returncode == 1
        assert len(second.stderr.splitlines()) == 1, second.stderr
        assert "another oomtui record" in second.stderr and f"pid {first.pid}" in second.stderr
        assert first.poll() is None
    finally:
        first.send_signal(signal.SIGTERM)
        assert first.wait(timeout=60) == 0
    assert not [n for n in os.listdir(directory / "samples") if n.startswith(".")]
