"""The userspace killers' kills from the systemd journal: a real journal file (systemd-journal-remote)
followed by the real journalctl, the lines nohang prints, each kill once, and every bound.

No journald runs here (systemd is not PID 1), so `tests.support.journal` writes the daemons'
entries in journal export format into a real journal file, which `journalctl --directory`
follows as it grows: the path a copied journal takes through `--journal DIR`.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from oomtui.errors import UserError
from oomtui.oomlog.follow import KillEvent, KillParser, Once, UserspaceCap
from oomtui.oomlog.journal import (
    BoundedLines,
    JournalKillFollower,
    JournalSource,
    command,
    entry_lines,
    why_not,
)
from tests.support.earlyoom import why_no_earlyoom
from tests.support.journal import MARKER_PID, JournalWriter, entry, marker, why_no_journal
from tests.support.latency import SHOWN_WITHIN
from tests.test_follow_userspace import _earlyoom_in_its_own_pid_namespace

ROOT = Path(__file__).parent.parent
# Real-shaped kill lines: earlyoom master (kill.c 5c3e3ea), systemd-oomd (oomd-manager.c), nohang 0.2.0 and
# 1d49838 (src/nohang: find_victim, find_victim_info, implement_corrective_action), one entry per printed line.
EARLYOOM = ['sending SIGTERM to process {pid} uid 0 "{comm}": oom_score 1202, oom_score_adj 800, VmRSS 113 MiB, '
            'cmdline "x hog.py"', "process {pid} exited after 0.105 seconds"]
OOMD = ("Killed /user.slice/user-1000.slice/app.scope due to memory pressure for /user.slice/user-1000.slice being "
        "71.02% > 60.00% for > 30s with reclaim activity")
NOHANG = ["Process with highest badness (found in 3ms):", "  PID: {pid}, Name: {comm}, badness: 900",
          "Victim status (found in 1ms):",
          "  PID:       {pid}, name: {comm}, state: S (sleeping), EUID: 0, SID: 1 (init), lifetime: 1m",
          "  badness:   900, oom_score:  900, oom_score_adj:  800", "Memory info, MiB:",
          "Implementing a corrective action:", "  Sending SIGTERM to the victim", "OK; total response time: 12ms",
          "The victim died in 0.05s", "Memory status after implementing a corrective action:"]

needs_journal = pytest.mark.skipif(why_no_journal() is not None, reason=why_no_journal() or "")


def fill(lines: list[str], **kw: object) -> list[str]:
    return [line.format(**kw) for line in lines]


def kills(lines: list[str], ident: str) -> list[tuple]:
    parser = KillParser()
    return [(e.killer, e.pid, e.comm, e.cgroup) for line in lines for e in parser.feed(f"{ident}[9]: {line}", 1.0)]


# -- nohang's lines ------------------------------------------------------------------------------


def test_a_nohang_kill_is_its_victim_signalled_and_dead() -> None:
    assert kills(fill(NOHANG, pid=4242, comm="hog"), "nohang") == [("nohang", 4242, "hog", None)]
    zombie = fill(NOHANG, pid=4242, comm="hog")
    zombie[-2] = "The victim became a zombie in 0.011s"
    assert kills(zombie, "nohang") == [("nohang", 4242, "hog", None)]
    assert kills(fill(NOHANG, pid=7, comm="a, b"), "nohang") == [("nohang", 7, "a, b", None)]


@pytest.mark.parametrize("instead", [
    "The victim doesn't respond on corrective action in 0.105s",
    "Cannot send a signal: PermissionError",
    "Selected process died before corrective action",
])
def test_nohang_lines_that_kill_nothing(instead: str) -> None:
    lines = fill(NOHANG, pid=4242, comm="hog")
    assert kills([*lines[:-3], instead, *lines[-2:]], "nohang") == []
    soft = [*lines[:6], "Implementing a corrective action:", "  Executing the command: systemctl restart foo",
            "The victim died in 0.05s"]
    assert kills(soft, "nohang") == [], "a command run instead of a signal is not nohang's kill"
    assert kills(["  PID: 5, Name: x, badness: 1", "The victim died in 0.1s"], "nohang") == [], "never signalled"


# -- each kill once ----------------------------------------------------------------------------


def test_a_kill_seen_on_both_sources_counts_once() -> None:
    once = Once()
    kill = KillEvent(100.0, "earlyoom", None, None, 42, "hog", None, False, "x")
    assert once.new([kill]) == [kill]
    assert once.new([KillEvent(100.4, "earlyoom", None, None, 42, "hog", None, False, "y")]) == []
    other = KillEvent(100.5, "earlyoom", None, None, 43, "hog", None, False, "z")
    cgroup = KillEvent(100.5, "systemd-oomd", None, None, None, None, "/a.scope", False, "c")
    assert once.new([other, cgroup, cgroup]) == [other, cgroup]
    later = KillEvent(100.0 + Once.WINDOW + 1, "earlyoom", None, None, 42, "hog", None, False, "x")
    assert once.new([later]) == [later], "the same pid killed again much later is a new kill"


# -- journal entries and their bounds ------------------------------------------------------------


def line(fields: dict) -> bytes:
    return json.dumps({"__REALTIME_TIMESTAMP": "1700000000123456", **fields}).encode()


def test_an_entry_becomes_the_line_a_syslog_shows_with_its_time() -> None:
    assert entry_lines(line({"SYSLOG_IDENTIFIER": "earlyoom", "_PID": "812", "MESSAGE": "hi"})) == (
        ["earlyoom[812]: hi"], 1700000000.123456)
    assert entry_lines(line({"SYSLOG_IDENTIFIER": "nohang", "SYSLOG_PID": "9", "_PID": "8", "MESSAGE": "a\nb"}))[0] == [
        "nohang[9]: a", "nohang[9]: b"]
    assert entry_lines(line({"_COMM": "systemd-oomd", "MESSAGE": "m"}))[0] == ["systemd-oomd: m"]
    # journalctl's byte array (control bytes or invalid UTF-8), several values of one field:
    raw = list(b"x \x1b[31m \xff")
    assert entry_lines(line({"SYSLOG_IDENTIFIER": "earlyoom", "MESSAGE": raw}))[0] == ["earlyoom: x \x1b[31m \ufffd"]
    assert entry_lines(line({"SYSLOG_IDENTIFIER": ["earlyoom", "x"], "MESSAGE": ["one", "two"]}))[0] == [
        "earlyoom: one"]


@pytest.mark.parametrize("raw", [
    line({"SYSLOG_IDENTIFIER": "earlyoom", "MESSAGE": None}),  # journalctl's form of a field over 4096 bytes
    line({"SYSLOG_IDENTIFIER": "sshd", "MESSAGE": "sending SIGTERM to process 1 uid 0"}),  # not a killer
    line({"MESSAGE": "no identifier"}),
    line({"SYSLOG_IDENTIFIER": "earlyoom", "MESSAGE": {"a": 1}}),
    b"[1, 2]", b"{not json", b"",
])
def test_entries_that_give_no_line(raw: bytes) -> None:
    assert entry_lines(raw)[0] == []


def test_a_message_is_cut_and_an_over_long_line_dropped_whole() -> None:
    lines, _ = entry_lines(line({"SYSLOG_IDENTIFIER": "earlyoom", "MESSAGE": "y" * 100_000}))
    assert len(lines) == 1 and len(lines[0]) < 4200
    split = BoundedLines(limit=10)
    assert split.feed(b"short\n0123456789abc") == [b"short"]
    assert split.partial == b"" and split.skipped == 1, "an over-long line is not held"
    assert split.feed(b"def" * 1000) == [] and split.partial == b""
    assert split.feed(b"tail\nok\npart") == [b"ok"], "the long line ends at its newline; the next is read"
    assert split.feed(b"ial\n") == [b"partial"]
    assert split.skipped == 1


# -- without journalctl or a journal -------------------------------------------------------------


def test_without_journalctl_one_line_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(UserError) as e:
        JournalKillFollower(JournalSource(str(tmp_path)))
    assert str(e.value) == "journal not followed: no journalctl on this host"


def test_without_a_journal_one_line_says_so(tmp_path: Path) -> None:
    assert why_not(JournalSource(str(tmp_path)), "/usr/bin/journalctl") == (
        f"journal not followed: no journal files in {tmp_path}")
    assert why_not(JournalSource(str(tmp_path / "nope")), "/usr/bin/journalctl") == (
        f"journal not followed: {tmp_path / 'nope'} is not a directory")
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "system.journal").write_bytes(b"")
    assert why_not(JournalSource(str(tmp_path)), "/usr/bin/journalctl") is None
    system = why_not(JournalSource(), "/usr/bin/journalctl")
    assert system in (None, "journal not followed: no journal files in /run/log/journal or /var/log/journal")
    assert command(JournalSource(str(tmp_path)), "journalctl")[:3] == ["journalctl", f"--directory={tmp_path}",
                                                                      "--follow"]


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("setpriv") is None, reason="needs root and setpriv to drop it")
def test_unreadable_journal_files_are_said_in_one_line() -> None:
    """As an unprivileged user, beside a journal only root may read (as /var/log/journal/ID/system.journal)."""
    with tempfile.TemporaryDirectory() as top:  # pytest's own tmp_path is root's alone: nobody could look in
        os.chmod(top, 0o755)
        (Path(top) / "m").mkdir(mode=0o755)
        (Path(top) / "m" / "system.journal").write_bytes(b"")
        os.chmod(Path(top) / "m" / "system.journal", 0o600)
        script = ("import sys; from oomtui.oomlog.journal import why_not, JournalSource; "
                  "print(why_not(JournalSource(sys.argv[1]), 'journalctl'))")
        shown = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", sys.executable,
                                "-c", script, top], cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
                               capture_output=True, text=True, timeout=60)
    assert shown.stdout == ("journal not followed: its files are not readable (run as root, or in the "
                            "systemd-journal group)\n"), shown.stderr


# -- a real journal --------------------------------------------------------------------------------


def wait_for_kills(follower: JournalKillFollower, n: int, timeout: float = 10.0) -> list[tuple[KillEvent, float]]:
    got: list[tuple[KillEvent, float]] = []
    deadline = time.monotonic() + timeout
    while len(got) < n and time.monotonic() < deadline:
        got += [(e, time.time()) for e in follower.poll()]
        time.sleep(0.02)
    return got


def reach_the_end(journal: JournalWriter, follower: JournalKillFollower) -> None:
    """Until journalctl follows (it starts at the journal's end): its parser holds the marker."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        journal.write(marker())
        time.sleep(0.1)
        assert follower.poll() == []
        if (follower.parser.earlyoom or (0, ""))[0] == MARKER_PID:
            return
    raise AssertionError("journalctl never reached the journal's end")


@needs_journal
def test_every_killer_in_a_real_journal_at_once_and_once(tmp_path: Path) -> None:
    with JournalWriter(tmp_path) as journal, JournalKillFollower(JournalSource(str(tmp_path))) as follower:
        reach_the_end(journal, follower)
        written = journal.write(*(entry(m, "earlyoom", 812) for m in fill(EARLYOOM, pid=4242, comm="eo-victim")))
        got = wait_for_kills(follower, 1)
        assert [(e.killer, e.pid, e.comm) for e, _ in got] == [("earlyoom", 4242, "eo-victim")]
        assert got[0][1] - written < SHOWN_WITHIN, f"seen {got[0][1] - written:.2f} s after it was written"
        written = journal.write(entry(OOMD, "systemd-oomd", 512),
                                *(entry(m, "nohang", 77) for m in fill(NOHANG, pid=4343, comm="nh-victim")))
        got = wait_for_kills(follower, 2)
        assert [(e.killer, e.pid, e.comm, e.cgroup) for e, _ in got] == [
            ("systemd-oomd", None, None, "/user.slice/user-1000.slice/app.scope"), ("nohang", 4343, "nh-victim", None)]
        assert max(t for _, t in got) - written < SHOWN_WITHIN
        assert wait_for_kills(follower, 1, timeout=1.0) == [], "each kill once"


@needs_journal
def test_hostile_messages_are_bounded_and_kept_literal(tmp_path: Path) -> None:
    hostile = "[/bold]\x1b[31m[red]x"
    with JournalWriter(tmp_path) as journal, JournalKillFollower(JournalSource(str(tmp_path))) as follower:
        reach_the_end(journal, follower)
        journal.write(entry('sending SIGTERM to process 5 uid 0 "' + "z" * (1 << 20) + '": oom_score 1',
                            "earlyoom", 812),  # 1 MB: journalctl hands it over as null
                      entry("x" * (1 << 20), "earlyoom", 812), entry(b"\xff\xfe" * 3000, "nohang", 9),
                      *(entry(m, "earlyoom", 812) for m in fill(EARLYOOM, pid=4444, comm=hostile)))
        got = wait_for_kills(follower, 1)
        assert [(e.pid, e.comm) for e, _ in got] == [(4444, hostile)], "the text as logged, nothing else"
        assert got[0][0].describe() == "earlyoom killed pid 4444 ([/bold]\\x1b[31m[red]x)"
        assert follower.journal.child.poll() is None, "journalctl still runs"


def pid_gone(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while True:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            return True
        if state == "Z" or time.monotonic() >= deadline:
            return state == "Z"
        time.sleep(0.05)


@needs_journal
def test_journalctl_is_stopped_with_us_even_when_we_are_killed(tmp_path: Path) -> None:
    JournalWriter(tmp_path).close()
    follower = JournalKillFollower(JournalSource(str(tmp_path)))
    pid = follower.journal.child.pid
    follower.close()
    assert pid_gone(pid, 0), "close stops and reaps journalctl"
    script = ("import sys, time; from oomtui.oomlog.journal import JournalFollower, JournalSource; "
              "f = JournalFollower(JournalSource(sys.argv[1])); print(f.child.pid, flush=True); time.sleep(60)")
    parent = subprocess.Popen([sys.executable, "-c", script, str(tmp_path)], cwd=ROOT, stdout=subprocess.PIPE,
                              env={**os.environ, "PYTHONPATH": str(ROOT)}, text=True)
    assert parent.stdout is not None
    child = int(parent.stdout.readline())
    try:
        parent.send_signal(signal.SIGKILL)  # no close, no atexit: only journalctl's own watch on its stdout
        parent.wait()
        assert pid_gone(child, 5), "journalctl outlived the oomtui that started it"
    finally:
        if not pid_gone(child, 0):
            os.kill(child, signal.SIGKILL)  # our grandchild, still running: the test failed above


@needs_journal
def test_journalctl_stopping_is_said_in_one_line(tmp_path: Path) -> None:
    JournalWriter(tmp_path).close()
    follower = JournalKillFollower(JournalSource(str(tmp_path)))
    follower.journal.child.send_signal(signal.SIGTERM)  # our child
    follower.journal.child.wait()
    with pytest.raises(UserError) as e:
        follower.poll()
    assert str(e.value).startswith("journal no longer followed: journalctl stopped:") and "\n" not in str(e.value)
    follower.close()


@needs_journal
@pytest.mark.kernel
@pytest.mark.skipif(why_no_earlyoom() is not None, reason=why_no_earlyoom() or "")
@pytest.mark.skipif(shutil.which("unshare") is None, reason="no unshare (util-linux) to give earlyoom its own PIDs")
def test_the_real_earlyoom_s_lines_through_a_real_journal(tmp_path: Path) -> None:
    """Debian's earlyoom kills its only visible process (a hog in its own PID namespace, pid 2 there); its
    stderr lines, stored as the journal stores them, come out of journalctl as that one kill."""
    lines = _earlyoom_in_its_own_pid_namespace(["-m", "99,1", "-s", "100,100"], "exited after")
    with JournalWriter(tmp_path) as journal, JournalKillFollower(JournalSource(str(tmp_path))) as follower:
        reach_the_end(journal, follower)
        written = journal.write(*(entry(line, "earlyoom", 812) for line in lines))
        got = wait_for_kills(follower, 1)
        assert [(e.killer, e.pid, e.comm) for e, _ in got] == [("earlyoom", 2, "eo-victim")], lines
        assert got[0][1] - written < SHOWN_WITHIN
        assert wait_for_kills(follower, 1, timeout=1.0) == []


def test_forged_userspace_kills_are_capped_and_counted() -> None:
    now = [0.0]
    cap = UserspaceCap(clock=lambda: now[0])
    kill = [KillEvent(1.0, "earlyoom", None, None, pid, "x", None, False, "") for pid in range(30)]
    kernel = KillEvent(1.0, "kernel", "global", "/", 99, "k", None, False, "")
    assert cap.allow([*kill[:25], kernel]) == [*kill[:20], kernel], "the kernel's kills are never capped"
    assert cap.dropped == 5 and cap.words() == "5 userspace kill line(s) ignored: more than 20 in 10 s (forged?)"
    now[0] = 9.9
    assert cap.allow(kill[25:26]) == []
    now[0] = 10.0
    assert cap.allow(kill[26:]) == kill[26:], "the next period lets kills through again"


@needs_journal
def test_a_flood_of_forged_kill_lines_in_a_real_journal_is_capped(tmp_path: Path) -> None:
    from oomtui.tui.killers import KillWatch

    watch = KillWatch(None, JournalSource(str(tmp_path / "j")))
    assert watch.journal is None and watch.status() == f"journal not followed: {tmp_path / 'j'} is not a directory"
    (tmp_path / "j").mkdir()
    with JournalWriter(tmp_path / "j") as journal:
        watch = KillWatch(None, JournalSource(str(tmp_path / "j")))
        try:
            assert watch.journal is not None
            reach_the_end(journal, watch.journal)
            journal.write(*(entry(m, "earlyoom", 812) for pid in range(1000, 1100)
                            for m in fill(EARLYOOM, pid=pid, comm="forged")))
            passed: list[KillEvent] = []
            deadline = time.monotonic() + 10
            while watch.cap.dropped < 80 and time.monotonic() < deadline:
                passed += watch.poll()
                time.sleep(0.05)
            assert [e.pid for e in passed] == list(range(1000, 1020))
            assert watch.status() == "kills: none yet · 80 userspace kill line(s) ignored: more than 20 in 10 s " \
                                     "(forged?)"
        finally:
            watch.close()


@pytest.mark.parametrize("argv", [["--journal", "/j", "--demo"], ["--journal", "/j", "--remote", "h"],
                                  ["--journal", "/j", "--snapshot", "x.json"]])
def test_journal_goes_with_the_live_view_only(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    from oomtui.cli import main as cli_main

    assert cli_main(argv) == 2
    assert capsys.readouterr().err == ("oomtui: --journal follows kills beside this host's live view; it does not go "
                                       "with --remote, --snapshot or --demo\n")
