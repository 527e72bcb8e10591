"""`oomtui record` with a userspace killer's kill in the journal: one event, within 2 s, with its verdict.

The journal is a real journal file (systemd-journal-remote) followed through
`record --journal DIR`; the kill lines are earlyoom's, about a process the
test started and killed itself, written to the journal and, as journald
forwards them, to /dev/kmsg: the recording must hold the kill once.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from oomtui.record import Recording
from oomtui.tui.feeds import RecordingFeed
from tests.support.hog import spawn_hog
from tests.support.journal import MARKER_PID, JournalWriter, entry, marker_kill, why_no_journal
from tests.support.latency import SHOWN_WITHIN
from tests.test_record_real import wait_for

ROOT = Path(__file__).parent.parent
pytestmark = pytest.mark.skipif(why_no_journal() is not None, reason=why_no_journal() or "")


def record(directory: Path, *options: str, env: dict[str, str] | None = None) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "oomtui.cli", "record", str(directory), "--interval", "1",
                             *options], cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})},
                            stderr=subprocess.PIPE, text=True)


def ours(directory: Path) -> list:
    """The recording's userspace kills: other tests on this host may cause kernel OOM kills meanwhile."""
    return [e for e in Recording(directory).events if e.killer != "kernel" and (e.victim_pid or 0) < MARKER_PID]


def children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(c) for c in (task / "children").read_text().split()]
    return found


@pytest.mark.kernel
def test_a_journal_kill_is_recorded_once_with_its_verdict(tmp_path: Path, hogs) -> None:
    if not os.access("/dev/kmsg", os.R_OK | os.W_OK):
        pytest.skip("/dev/kmsg is not readable and writable (needs root)")
    directory, journal_dir = tmp_path / "rec", tmp_path / "journal"
    journal_dir.mkdir()
    victim = spawn_hog("rj-victim", 8, adj=1000)
    hogs.append(victim)
    journal = JournalWriter(journal_dir)
    recorder = record(directory, "--journal", str(journal_dir))
    try:
        wait_for(lambda: (directory / "samples").is_dir() and len(Recording(directory).samples) >= 2, 30,
                 "two samples")
        journalctl = [c for c in children(recorder.pid) if Path(f"/proc/{c}/comm").read_text().strip() == "journalctl"]
        assert len(journalctl) == 1, "record runs one journalctl"
        n = 0  # until journalctl follows (it starts at the journal's end): a marker kill recorded

        def marked() -> bool:
            nonlocal n
            n += 1
            if n % 10 == 1:  # one a second: a few, far below the cap on userspace kills
                journal.write(marker_kill(n))
            return any(e.victim_pid and e.victim_pid > MARKER_PID for e in Recording(directory).events)

        wait_for(marked, 30, "journalctl following")
        lines = [f'sending SIGTERM to process {victim.pid} uid 0 "rj-victim": oom_score 1202, VmRSS 8 MiB',
                 f"process {victim.pid} exited after 0.105 seconds"]
        journal.write(entry(lines[0], "earlyoom", 812))
        victim.kill()
        written = journal.write(entry(lines[1], "earlyoom", 812))
        fd = os.open("/dev/kmsg", os.O_WRONLY | os.O_CLOEXEC)  # journald's copy (ForwardToKMsg=yes)
        try:
            for line in lines:
                os.write(fd, f"<30>earlyoom[812]: {line}\n".encode())
        finally:
            os.close(fd)
        wait_for(lambda: ours(directory), 10, "the kill in the index")
        stored = (directory / "events" / "index.jsonl").stat().st_mtime
        assert stored - written < SHOWN_WITHIN, f"recorded {stored - written:.2f} s after the journal entry was written"
        time.sleep(1.5)
        events = ours(directory)
        assert [(e.killer, e.victim_pid, e.victim_comm) for e in events] == [("earlyoom", victim.pid, "rj-victim")]
        event = events[0]
        assert event.sample is not None and event.verdict is not None
        assert event.verdict["event"]["killer"] == "earlyoom" and event.verdict["event"]["pid"] == victim.pid
        assert event.report.read_text() == f"earlyoom[812]: {lines[1]}\n"
        feed = RecordingFeed(Recording(directory), "rec")
        kill = next(i for i, e in enumerate(feed.recording.events) if e.killer == "earlyoom")
        assert feed.load_event(kill).process(victim.pid) is not None, "the event opens on the sample before the kill"
    finally:
        recorder.send_signal(signal.SIGTERM)
        _, err = recorder.communicate(timeout=60)
        journal.close()
    assert recorder.returncode == 0, err
    assert "kill captured: " in err and f"earlyoom killed pid {victim.pid} (rj-victim)" in err, err
    assert all(not Path(f"/proc/{c}").exists() for c in journalctl), "journalctl outlived record"


def test_record_without_journalctl_says_so_in_one_line(tmp_path: Path) -> None:
    bare = tmp_path / "bin"
    bare.mkdir()
    recorder = record(tmp_path / "rec", env={"PATH": str(bare)})
    try:
        wait_for(lambda: (tmp_path / "rec" / "samples").is_dir() and Recording(tmp_path / "rec").samples, 30,
                 "a first sample")
    finally:
        recorder.send_signal(signal.SIGTERM)
        _, err = recorder.communicate(timeout=60)
    assert recorder.returncode == 0, err
    assert "oomtui record: userspace killers' kills in the journal not captured: journal not followed: " \
           "no journalctl on this host\n" in err
    assert "Traceback" not in err


def test_userspace_kills_in_a_recording_open_on_a_sample(tmp_path: Path) -> None:
    """Kills with no sample before them, two in one microsecond: each its own event, each opens on a sample."""
    from oomtui.oomlog.follow import KillEvent
    from tests.test_record import recorder

    r = recorder(tmp_path)
    t = r.collect().taken_at - 10  # before any sample
    first = KillEvent(t, "nohang", None, None, 101, "p1", None, False, "nohang[9]: The victim died in 0.05s")
    r.store_kill(first)
    r.store_kill(KillEvent(t, "systemd-oomd", None, None, None, None, "/a.scope", False, "systemd-oomd: Killed /a"))
    r.take_sample("interval")
    r.close()
    rec = Recording(r.dir)
    assert [(e.killer, e.sample, e.victim_pid) for e in rec.events] == [("nohang", None, 101),
                                                                         ("systemd-oomd", None, None)]
    assert len({e.report for e in rec.events}) == 2
    assert rec.events[0].report.read_text() == "nohang[9]: The victim died in 0.05s\n"
    assert json.loads((r.dir / "events" / "index.jsonl").read_text().splitlines()[1])["victim_cgroup"] == "/a.scope"
    feed = RecordingFeed(rec, "rec")
    assert feed.first.taken_at == rec.samples[0].time and "nohang killed pid 101" in feed.describe()
    assert r.notes[0].startswith("kill captured: ") and "nohang killed pid 101 (p1)" in r.notes[0]


def test_a_flood_of_forged_kills_is_not_recorded_beyond_the_cap(tmp_path: Path) -> None:
    from oomtui.oomlog.follow import KillEvent, UserspaceCap
    from tests.test_record import recorder

    r = recorder(tmp_path)
    r.take_sample("interval")
    t = r.samples[-1].time + 1
    r._userspace_kills([KillEvent(t, "earlyoom", None, None, pid, "forged", None, False, "x") for pid in range(25)])
    r._userspace_kills([KillEvent(t, "earlyoom", None, None, 99, "forged", None, False, "x")])
    r.close()
    assert len(Recording(r.dir).events) == UserspaceCap.LIMIT
    assert [n for n in r.notes if "ignored" in n] == [
        "5 userspace kill line(s) ignored: more than 20 in 10 s (forged?)"], "said once, not for each line"
