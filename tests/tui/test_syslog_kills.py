"""A userspace killer's kill in a syslog file (`--syslog FILE`) while the TUI runs: shown at once, once,
with the file named as the source; and `oomtui record --syslog FILE` keeps it once.

The file is a real one the test appends to while it is followed, as rsyslog writes it.
"""

from __future__ import annotations

import os
import signal
import time
from datetime import datetime
from pathlib import Path

import pytest

from oomtui.collect import Collector
from oomtui.oomlog.syslog import SyslogSource
from oomtui.record import Recording
from oomtui.tui.feeds import LiveFeed
from oomtui.tui.screens.kills import KillsScreen
from tests.support.hog import spawn_hog
from tests.support.latency import SHOWN_WITHIN
from tests.test_follow_syslog import ISO, append, earlyoom
from tests.test_record_journal import record
from tests.test_record_real import wait_for
from tests.tui.helpers import ObservedApp, main, notifications, press, run


@pytest.mark.kernel
def test_a_syslog_kill_shows_at_once_and_once(tmp_path: Path, hogs) -> None:
    victim = spawn_hog("sl-victim", 8, adj=1000)
    hogs.append(victim)
    log = tmp_path / "syslog"
    log.write_text(earlyoom(5, stamp=ISO))  # already there: not a kill now
    collector = Collector()
    app = ObservedApp(LiveFeed(collector, collector.collect()), None, interval=3600, read_only=True,
                      syslog=SyslogSource(str(log)), grace=0.0)

    async def scenario(pilot):
        screen = main(pilot)
        assert screen.kills.syslog is not None and screen.kills.journal is None, "--syslog alone: the file only"
        assert f"userspace kills from {log}" in screen.status_text().plain
        victim.kill()
        written = time.time()
        append(log, earlyoom(victim.pid, "sl-victim", stamp=time.strftime("%b %e %H:%M:%S ", time.localtime())
                             + "node1 "))
        deadline = time.monotonic() + 10
        while not screen.kills.verdicts and time.monotonic() < deadline:
            await pilot.pause(0.05)
        assert time.time() - written < SHOWN_WITHIN, f"shown {time.time() - written:.2f} s after it was written"
        await pilot.pause(1.0)
        assert [(v.event.killer, v.event.pid) for v in screen.kills.verdicts] == [("earlyoom", victim.pid)]
        banner = f"OOM kill earlyoom killed pid {victim.pid} (sl-victim): "
        assert any(n.startswith(banner) for n in notifications(pilot)), notifications(pilot)
        await press(pilot, "l")
        assert isinstance(pilot.app.screen, KillsScreen)
        assert f"Following {log}: 1 kill: " in str(pilot.app.screen.text)

    run(app, scenario)
    assert app.main.kills.syslog is None, "closed with the screen"


def ours(directory: Path) -> list:
    """The recording's kills of our made-up pids: other tests on this host may write kills to /dev/kmsg."""
    return [e for e in Recording(directory).events if (e.victim_pid or 0) >= 4_999_998]


def test_record_keeps_a_syslog_kill_once(tmp_path: Path) -> None:
    log, directory = tmp_path / "syslog", tmp_path / "rec"
    log.write_text("")
    os.chmod(log, 0o640)
    recorder = record(directory, "--syslog", str(log))
    try:
        wait_for(lambda: (directory / "samples").is_dir() and Recording(directory).samples, 30, "a first sample")
        time.sleep(0.6)  # past the recorder's first read of the file: what follows is new
        written = time.time()
        now = datetime.now().astimezone().isoformat(timespec="microseconds") + " node1 "
        append(log, earlyoom(4_999_999, "gone", stamp=now))
        wait_for(lambda: ours(directory), 10, "the kill in the index")
        stored = (directory / "events" / "index.jsonl").stat().st_mtime
        assert stored - written < SHOWN_WITHIN, f"recorded {stored - written:.2f} s after it was written"
        os.rename(log, tmp_path / "syslog.1")
        append(log, earlyoom(4_999_999, "gone", stamp=now) + earlyoom(4_999_998, "new", stamp=now))  # rotated
        wait_for(lambda: len(ours(directory)) == 2, 10, "the kill in the new file")
        time.sleep(1.0)
    finally:
        recorder.send_signal(signal.SIGTERM)
        _, err = recorder.communicate(timeout=60)
    assert recorder.returncode == 0, err
    assert [(e.killer, e.victim_pid) for e in ours(directory)] == [
        ("earlyoom", 4_999_999), ("earlyoom", 4_999_998)], "the same kill copied to the new file counts once"
    assert f"userspace killers' kills followed in {log}" in err and "journal" not in err, err
