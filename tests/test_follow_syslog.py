"""The userspace killers' kills from syslog files, where no journal is: real files written by the test
while they are followed (appended, rotated by rename and a new file, truncated), each kill once,
and every file oomtui must not trust refused in one line.
"""

from __future__ import annotations

import os
import shutil
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from oomtui.errors import UserError
from oomtui.oomlog.follow import KillEvent
from oomtui.oomlog.journal import JournalSource
from oomtui.oomlog.syslog import SyslogKillFollower, SyslogSource, log_sources, syslog_line
from oomtui.tui.killers import KillWatch
from tests.support.kubelet import round_lines
from tests.test_follow_journal import EARLYOOM, fill

BSD = "Dec  7 17:22:15 node1 "
ISO = "2026-12-07T17:22:15.123456+00:00 node1 "


def earlyoom(pid: int, comm: str = "hog", stamp: str = BSD) -> str:
    """earlyoom's kill as rsyslog writes it (daemon facility, `IDENT[PID]: MESSAGE`)."""
    return "".join(f"{stamp}earlyoom[812]: {m}\n" for m in fill(EARLYOOM, pid=pid, comm=comm))


def append(path: Path, text: str) -> None:
    with open(path, "a") as f:
        f.write(text)


def kills(follower: SyslogKillFollower) -> list[tuple]:
    return [(e.killer, e.pid, e.comm, e.pod) for e in follower.poll()]


def test_syslog_lines_in_both_formats_become_the_killers_lines() -> None:
    at = syslog_line(ISO + "earlyoom[812]: process 5 exited after 0.1 seconds")
    assert at == ("earlyoom[812]: process 5 exited after 0.1 seconds",
                  datetime(2026, 12, 7, 17, 22, 15, 123456, tzinfo=UTC).timestamp())
    bsd = syslog_line(BSD + "nohang[77]:   Sending SIGTERM to the victim")
    assert bsd is not None and bsd[0] == "nohang[77]:   Sending SIGTERM to the victim"
    assert time.localtime(bsd[1]).tm_mon == 12 and time.localtime(bsd[1]).tm_hour == 17
    assert syslog_line("<30>" + BSD + "systemd-oomd[512]: Killed /a.scope due to x")[0] == (
        "systemd-oomd[512]: Killed /a.scope due to x")
    line = round_lines("default/big")[-2]
    assert syslog_line(BSD + f"kubelet[2480]: {line}") == (f"kubelet[2480]: {line}", pytest.approx(bsd[1]))
    for other in (BSD + "kernel: Out of memory: Killed process 5 (hog)", BSD + "sshd[9]: sending SIGTERM",
                  BSD + 'kubelet[2480]: I1207 17:22:15.1 2480 kubelet.go:2231] "SyncLoop (PLEG)"',
                  "not a syslog line", ""):
        assert syslog_line(other) is None, other


def test_a_file_followed_as_it_grows_rotates_and_is_truncated(tmp_path: Path) -> None:
    log = tmp_path / "syslog"
    append(log, earlyoom(100))  # before we follow: not ours to report
    with SyslogKillFollower(SyslogSource(str(log))) as follower:
        assert kills(follower) == []
        append(log, earlyoom(101))
        assert kills(follower) == [("earlyoom", 101, "hog", None)]
        assert kills(follower) == [], "once"
        whole = earlyoom(102, stamp=ISO)
        append(log, whole[:30])
        assert kills(follower) == [], "half a line waits for the rest"
        append(log, whole[30:])
        assert kills(follower) == [("earlyoom", 102, "hog", None)]

        os.rename(log, tmp_path / "syslog.1")  # logrotate; rsyslog writes to the old file until told
        append(tmp_path / "syslog.1", earlyoom(103))
        assert kills(follower) == [("earlyoom", 103, "hog", None)], "the old file is read to its end"
        append(log, earlyoom(104) + "".join(f"{BSD}kubelet[2480]: {m}\n" for m in round_lines("default/big")))
        assert kills(follower) == [("earlyoom", 104, "hog", None), ("kubelet", None, None, "default/big")], \
            "the new file from its start"
        append(tmp_path / "syslog.1", earlyoom(105))
        assert kills(follower) == [], "the old file is left once the new one is followed"

        os.truncate(log, 0)  # copytruncate
        append(log, earlyoom(106))
        assert kills(follower) == [("earlyoom", 106, "hog", None)]


def test_a_hostile_line_is_bounded_and_kept_literal(tmp_path: Path) -> None:
    log = tmp_path / "syslog"
    log.write_text("")
    with SyslogKillFollower(SyslogSource(str(log))) as follower:
        with open(log, "ab") as f:
            f.write(BSD.encode() + b"earlyoom[812]: " + b"x" * (1 << 20) + b"\n")
            f.write(earlyoom(107, comm="[/bold]\x1b[31m").encode().replace(b"hog", b"\xff"))
        assert follower.poll() == [], "a poll reads at most READ_MAX bytes: the rest waits in the file"
        got = follower.poll()
        assert [(e.pid, e.comm) for e in got] == [(107, "[/bold]\x1b[31m")]
        assert got[0].describe() == "earlyoom killed pid 107 ([/bold]\\x1b[31m)"
        tail = follower.tails[0][0]
        assert tail.split.partial == b"" and tail.split.skipped == 1, "the 1 MB line was not held"


def refusal(path: Path) -> str:
    with pytest.raises(UserError) as e:
        SyslogKillFollower(SyslogSource(str(path)))
    return str(e.value)


def test_files_not_to_trust_are_refused_in_one_line(tmp_path: Path) -> None:
    log = tmp_path / "syslog"
    log.write_text("")
    (tmp_path / "link").symlink_to(log)
    assert refusal(tmp_path / "link") == f"syslog not followed: {tmp_path}/link is a symbolic link"
    assert refusal(tmp_path) == f"syslog not followed: {tmp_path} is not a regular file"
    assert refusal(tmp_path / "none") == f"syslog not followed: {tmp_path}/none: No such file or directory"
    os.chmod(log, 0o646)
    assert refusal(log) == f"syslog not followed: {log} is writable by other users"
    os.chmod(log, 0o640)
    if os.geteuid() == 0:
        os.chown(log, 65534, 65534)
        assert refusal(log) == f"syslog not followed: {log} is owned by another user (uid 65534)"


def test_a_rotated_in_file_that_cannot_be_trusted_stops_the_follower(tmp_path: Path) -> None:
    log = tmp_path / "syslog"
    log.write_text("")
    follower = SyslogKillFollower(SyslogSource(str(log)))
    os.rename(log, tmp_path / "syslog.1")
    os.symlink(tmp_path / "syslog.1", log)
    watch = KillWatch(None, None, SyslogSource(str(log)))  # a new follower would refuse it at once
    assert watch.syslog is None and watch.syslog_problem == f"syslog not followed: {log} is a symbolic link"
    with pytest.raises(UserError) as e:
        follower.poll()
    assert str(e.value) == f"syslog not followed: {log} is a symbolic link"
    follower.close()


def test_syslog_only_where_the_journal_cannot_be_followed(tmp_path: Path, monkeypatch) -> None:
    log = tmp_path / "messages"
    log.write_text("")
    monkeypatch.setattr("oomtui.oomlog.syslog.SYSTEM_FILES", (str(tmp_path / "syslog"), str(log)))
    assert log_sources(None, None) == (JournalSource(), SyslogSource())
    assert log_sources("/j", None) == (JournalSource("/j"), None)
    assert log_sources(None, "/f") == (None, SyslogSource("/f"))
    assert log_sources("/j", "/f") == (JournalSource("/j"), SyslogSource("/f"))
    empty = tmp_path / "journal"
    empty.mkdir()
    watch = KillWatch(None, JournalSource(str(empty)), SyslogSource())  # no journal files: syslog instead
    try:
        assert watch.journal is None and watch.syslog is not None
        assert watch.status() == f"kills: none yet · userspace kills from {log}"
        append(log, earlyoom(108))
        assert [(e.killer, e.pid) for e in watch.poll()] == [("earlyoom", 108)]
        assert watch.heading().startswith(f"journal not followed: no journal files in {empty}\nFollowing {log}: ")
    finally:
        watch.close()
    (empty / "m").mkdir()
    (empty / "m" / "system.journal").write_bytes(b"")
    if shutil.which("journalctl") is not None:
        watch = KillWatch(None, JournalSource(str(empty)), SyslogSource())
        try:
            assert watch.syslog is None, "the journal is followed: its syslog copy is not read again"
        finally:
            watch.close()
    monkeypatch.setattr("oomtui.oomlog.syslog.SYSTEM_FILES", (str(tmp_path / "none"),))
    watch = KillWatch(None, JournalSource(str(tmp_path / "none")), SyslogSource())
    assert watch.status() == "userspace kills: not read (l)"
    assert watch.heading() == (f"journal not followed: {tmp_path}/none is not a directory\nsyslog not followed: "
                               f"none of {tmp_path}/none exists\nno OOM kill seen yet")
    assert not watch.following


def test_one_kill_in_two_files_counts_once(tmp_path: Path, monkeypatch) -> None:
    """Debian's rsyslog writes a daemon's line to /var/log/syslog and to /var/log/daemon.log."""
    files = [tmp_path / "syslog", tmp_path / "daemon.log"]
    for f in files:
        f.write_text("")
    monkeypatch.setattr("oomtui.oomlog.syslog.SYSTEM_FILES", tuple(map(str, files)))
    watch = KillWatch(None, None, SyslogSource())
    try:
        for f in files:
            append(f, earlyoom(109))
        events: list[KillEvent] = watch.poll()
        assert [(e.killer, e.pid) for e in events] == [("earlyoom", 109)]
        assert watch.heading().startswith(f"Following {files[0]} and {files[1]}: ")
    finally:
        watch.close()


def test_syslog_goes_with_the_live_view_only(capsys: pytest.CaptureFixture[str]) -> None:
    from oomtui.cli import main as cli_main

    assert cli_main(["--syslog", "/var/log/syslog", "--demo"]) == 2
    assert capsys.readouterr().err == ("oomtui: --syslog follows kills beside this host's live view; it does not go "
                                       "with --remote, --snapshot or --demo\n")
