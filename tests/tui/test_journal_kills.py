"""A userspace killer's kill in the journal while the TUI runs on the real host: shown at once, once.

No journald runs here, so the journal is a real journal file written by
systemd-journal-remote and followed with `--journal DIR` semantics
(`journalctl --directory`). The killed processes are the test's own; the
test kills them itself and writes the lines earlyoom and nohang print
when they do, to the journal and, as journald forwards them where
`ForwardToKMsg=yes`, to /dev/kmsg too: the kill must still count once.
"""

from __future__ import annotations

import os
import re
import time

import pytest

from oomtui.collect import Collector
from oomtui.oomlog.journal import JournalSource
from oomtui.tui.feeds import LiveFeed
from oomtui.tui.screens.kills import KillsScreen
from tests.support.hog import spawn_hog
from tests.support.journal import MARKER_PID, JournalWriter, entry, marker, why_no_journal
from tests.support.latency import SHOWN_WITHIN
from tests.tui.helpers import ObservedApp, main, notifications, press, run, select_process
from tests.tui.screen_text import screen_lines

pytestmark = pytest.mark.skipif(why_no_journal() is not None, reason=why_no_journal() or "")
SENDING = 'sending SIGTERM to process {pid} uid 0 "{comm}": oom_score 1202, oom_score_adj 1000, VmRSS 8 MiB'
EXITED = "process {pid} exited after 0.105 seconds"
HOSTILE = "[/bold]\x1b[31m"


def to_kmsg(message: str) -> None:
    """The line as journald forwards it to the kernel log (daemon.info, `IDENT[PID]: `)."""
    fd = os.open("/dev/kmsg", os.O_WRONLY | os.O_CLOEXEC)
    try:
        os.write(fd, f"<30>earlyoom[812]: {message}\n".encode())
    finally:
        os.close(fd)


@pytest.mark.kernel
def test_a_journal_kill_shows_at_once_and_once(tmp_path, hogs) -> None:
    if not os.access("/dev/kmsg", os.R_OK | os.W_OK):
        pytest.skip("/dev/kmsg is not readable and writable (needs root)")
    victim = spawn_hog("jr-victim", 8, adj=1000)
    other = spawn_hog("jr-other", 4)
    hogs += [victim, other]
    journal = JournalWriter(tmp_path)
    collector = Collector()
    app = ObservedApp(LiveFeed(collector, collector.collect()), None, interval=3600, read_only=True,
                      kmsg="/dev/kmsg", journal=JournalSource(str(tmp_path)), grace=0.0)

    def victim_row(pilot) -> str:
        return next((line for line in screen_lines(pilot.app) if f"─ {victim.pid} jr-victim" in line), "")

    def ours(pilot) -> list:
        """The kills of our processes: other tests on this host may cause kernel OOM kills meanwhile."""
        return [v for v in main(pilot).kills.verdicts if v.event.pid in (victim.pid, other.pid)]

    async def wait_for_kills(pilot, n: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while len(ours(pilot)) < n and time.monotonic() < deadline:
            await pilot.pause(0.05)

    async def scenario(pilot):
        screen = main(pilot)
        assert screen.kills.journal is not None and screen.kills.journal_problem is None
        assert screen.kills.status().startswith("kills: ")
        await select_process(pilot, victim.pid)  # its row on screen
        deadline = time.monotonic() + 30  # until journalctl follows (it starts at the end): the marker seen
        while (screen.kills.journal.parser.earlyoom or (0,))[0] != MARKER_PID and time.monotonic() < deadline:
            journal.write(marker())
            await pilot.pause(0.2)
        line = SENDING.format(pid=victim.pid, comm="jr-victim")
        journal.write(entry(line, "earlyoom", 812))
        to_kmsg(line)
        victim.kill()
        line = EXITED.format(pid=victim.pid)
        written = journal.write(entry(line, "earlyoom", 812))
        to_kmsg(line)
        await wait_for_kills(pilot, 1, 10)
        assert ours(pilot), "no kill shown within 10 s"
        shown = time.time()
        assert shown - written < SHOWN_WITHIN, f"shown {shown - written:.2f} s after the journal entry was written"
        v = ours(pilot)[0]
        assert (v.event.killer, v.event.pid, v.event.comm) == ("earlyoom", victim.pid, "jr-victim")
        banner = f"OOM kill earlyoom killed pid {victim.pid} (jr-victim): "
        assert any(n.startswith(banner) for n in notifications(pilot)), notifications(pilot)
        assert re.match(rf"kills: {len(screen.kills.verdicts)}, \d+ as predicted", screen.kills.status())
        await pilot.pause()
        assert re.search(r"\bK\b", victim_row(pilot).split(str(victim.pid))[0]), "\n".join(screen_lines(pilot.app))
        await wait_for_kills(pilot, 2, 1.5)
        assert len(ours(pilot)) == 1, "the copy on /dev/kmsg counted again"

        # nohang's kill of a process whose name (as nohang printed it) is markup and an escape:
        lines = ["Process with highest badness (found in 3ms):", f"  PID: {other.pid}, Name: {HOSTILE}, badness: 9",
                 "Implementing a corrective action:", "  Sending SIGTERM to the victim", "The victim died in 0.05s"]
        other.kill()
        journal.write(*(entry(m, "nohang", 77) for m in lines))
        await wait_for_kills(pilot, 2, 10)
        assert [v.event.comm for v in ours(pilot)] == ["jr-victim", HOSTILE]
        said = f"OOM kill nohang killed pid {other.pid} ([/bold]\\x1b[31m): "
        assert any(n.startswith(said) for n in notifications(pilot)), notifications(pilot)
        await press(pilot, "l")
        assert isinstance(pilot.app.screen, KillsScreen)
        listed = str(pilot.app.screen.text)
        assert f"Following /dev/kmsg and the journal in {tmp_path}: " in listed, listed
        assert f"earlyoom killed pid {victim.pid} (jr-victim)" in listed
        assert f"nohang killed pid {other.pid} ([/bold]\\x1b[31m)" in listed and "\x1b" not in listed
        await press(pilot, "escape")

    try:
        run(app, scenario)
    finally:
        journal.close()
    assert app.main.kills.journal is None, "journalctl was stopped with the screen"


def test_without_journalctl_the_status_line_says_why(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    collector = Collector()
    app = ObservedApp(LiveFeed(collector, collector.collect()), None, interval=3600, read_only=True,
                      kmsg=str(tmp_path / "absent"), journal=JournalSource(), grace=0.0)

    async def scenario(pilot):
        status = main(pilot).status_text().plain
        assert "journal not followed: no journalctl on this host" in status, status
        assert "OOM kills not followed: cannot follow" in status
        await press(pilot, "l")
        assert "journal not followed: no journalctl on this host" in str(pilot.app.screen.text)

    run(app, scenario)
