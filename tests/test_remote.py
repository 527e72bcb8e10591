"""`oomtui --remote`: the stream and the kills through a real sshd on 127.0.0.1, and the TUI reading it."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time

import pytest

from oomtui.act import plan_process_kill
from oomtui.act.remote import RemoteActor
from oomtui.cli import main as cli_main
from oomtui.collect.remote import RemoteError, RemoteStream, Ssh
from oomtui.tui.remote_feed import RemoteFeed
from oomtui.tui.screens.confirm import KillDialog
from oomtui.tui.tree_model import process_key
from tests.support import sshd as sshd_support
from tests.support.servers import wait_until
from tests.tui.helpers import ObservedApp, main, notifications, press, run
from tests.tui.test_tmux import Terminal, oomtui_command

pytestmark = pytest.mark.skipif(sshd_support.available() is not None, reason=str(sshd_support.available()))


@pytest.fixture(scope="module")
def remote(tmp_path_factory):
    with sshd_support.sshd(tmp_path_factory.mktemp("sshd")) as server:
        yield server


@pytest.fixture
def sleeper():
    """A process of our own on the "remote" side, killed by pid afterwards if the test left it alive."""
    proc = subprocess.Popen(["sleep", "600"])
    yield proc
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGKILL)
    proc.wait()


def _stream(remote, **kw):
    return RemoteStream(Ssh(remote.alias, tuple(remote.ssh_options)), 0.5, **kw)


def _one_sample(remote):
    stream = _stream(remote)
    try:
        return stream.start(timeout=30)
    finally:
        stream.close()


def _wait_dead(proc, timeout=15.0):
    deadline = time.monotonic() + timeout
    while proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    return proc.poll()


def test_the_stream_brings_the_remote_host_and_comes_back_after_a_drop(remote, sleeper):
    stream = _stream(remote, retry=0.3)
    try:
        first = stream.start(timeout=30)
        assert first.process(sleeper.pid) is not None and first.process(sleeper.pid).comm == "sleep"
        assert stream.status() == f"remote {remote.alias}"
        os.kill(stream.pid, signal.SIGKILL)  # the ssh client we started: the connection drops
        wait_until(lambda: "connection lost" in stream.status(), 10, "the drop to show")
        assert "retrying" in stream.status()
        wait_until(lambda: stream.connections == 2 and stream.status() == f"remote {remote.alias}", 20,
                   "the reconnection")
        later = wait_until(lambda: stream.latest() if stream.latest().taken_at > first.taken_at else None, 10,
                           "a new sample")
        assert later.process(sleeper.pid) is not None
    finally:
        stream.close()


def test_an_unreachable_host_is_one_line(remote, tmp_path):
    stream = RemoteStream(Ssh(remote.alias, (*remote.ssh_options, "Port=1")), 0.5)
    with pytest.raises(RemoteError) as e:
        stream.start(timeout=20)
    assert remote.alias in str(e.value) and "\n" not in str(e.value)


def test_a_kill_runs_on_the_remote_side_with_its_audit(remote, sleeper, tmp_path):
    snap = _one_sample(remote)
    audit = tmp_path / "remote-audit.jsonl"
    report = RemoteActor(Ssh(remote.alias, tuple(remote.ssh_options)), str(audit)).kill(
        plan_process_kill(snap, sleeper.pid, signal.SIGKILL))
    assert _wait_dead(sleeper) == -signal.SIGKILL
    assert report.ok and [o.pid for o in report.outcomes] == [sleeper.pid]
    assert report.outcomes[0].status == "killed" and report.outcomes[0].detail.startswith(f"on {remote.alias}: ")
    entry = json.loads(audit.read_text().splitlines()[-1])
    assert [t["pid"] for t in entry["asked"]["targets"]] == [sleeper.pid]


def test_a_pid_reused_since_the_snapshot_is_not_killed_there(remote, sleeper, tmp_path):
    snap = _one_sample(remote)
    plan = plan_process_kill(snap, sleeper.pid, signal.SIGKILL)
    moved = plan.targets[0].__class__(**{**plan.targets[0].to_json(), "start_time": plan.targets[0].start_time - 50})
    report = RemoteActor(Ssh(remote.alias, tuple(remote.ssh_options)), str(tmp_path / "a.jsonl")).kill(
        type(plan)(plan.title, plan.signal, (moved,)))
    assert not report.ok and "nothing was killed" in report.outcomes[0].detail
    assert sleeper.poll() is None


def test_the_tui_shows_the_remote_host_and_kills_there_through_the_dialog(remote, sleeper, tmp_path):
    stream = _stream(remote)
    first = stream.start(timeout=30)
    audit = tmp_path / "remote-audit.jsonl"
    app = ObservedApp(RemoteFeed(stream, first), RemoteActor(stream.ssh, str(audit)), interval=3600, grace=0.0)

    async def scenario(pilot):
        screen = main(pilot)
        assert f"remote {remote.alias}" in screen.status_text().plain
        p = screen.sample.process(sleeper.pid)
        assert p is not None and p.comm == "sleep"
        assert screen.memory_tree.select_key(process_key(p))
        await press(pilot, "k")
        dialog = pilot.app.screen
        assert isinstance(dialog, KillDialog) and [t.pid for t in dialog.plan.targets] == [sleeper.pid]
        await press(pilot, "y")
        assert _wait_dead(sleeper) == -signal.SIGKILL
        for _ in range(100):
            if any(f"on {remote.alias}" in n for n in notifications(pilot)):
                break
            await pilot.pause(0.1)
        assert any(f"on {remote.alias}" in n for n in notifications(pilot))

    try:
        run(app, scenario)
    finally:
        stream.close()
    entry = json.loads(audit.read_text().splitlines()[-1])
    assert [t["pid"] for t in entry["asked"]["targets"]] == [sleeper.pid]


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
def test_oomtui_remote_in_a_real_terminal(remote, sleeper):
    term = Terminal(f"{oomtui_command()} --remote {remote.alias} --ssh-option=-F{remote.client_config} "
                    "--read-only --interval 1", also=(remote.pid,))
    try:
        shown = term.wait_for(f"remote {remote.alias}")
        assert "read-only" in shown and "Verdicts — domain /" in shown
        term.keys("k")
        term.wait_for("Cannot kill")
        term.quits_on("q")
    finally:
        term.close()


def test_an_unreachable_host_stops_before_the_screen(remote, capsys):
    code = cli_main(["--remote", remote.alias, f"--ssh-option=-F{remote.client_config}", "--ssh-option", "Port=1"])
    err = capsys.readouterr().err
    assert code == 1 and err.startswith(f"oomtui: cannot reach {remote.alias}: ") and err.count("\n") == 1


@pytest.mark.parametrize("argv, message", [
    (["--remote", "h", "--demo"], "does not go with --snapshot or --demo"),
    (["--ssh-option", "Port=2"], "--ssh-option goes with --remote"),
])
def test_remote_usage(argv, message, capsys):
    assert cli_main(argv) == 2
    assert message in capsys.readouterr().err


def test_remote_words_reach_the_remote_shell_as_they_are():
    """A cgroup named to break out of the command line stays one word on the other side."""
    words = ["oomtui", "kill", "--cgroup=/x; touch /tmp/owned $(id)'\"", "--yes"]
    argv = Ssh("db1", ("Port=2222", "-Jjump")).argv(words)
    assert argv[:argv.index("--")] == ["ssh", "-T", "-o", "BatchMode=yes", "-o", "Port=2222", "-Jjump"]
    assert argv[-2] == "db1"
    done = subprocess.run(["sh", "-c", f"printf '%s\\n' {argv[-1]}"], capture_output=True, text=True)
    assert done.stdout.splitlines() == words


def test_the_feed_hands_each_sample_once_and_repeats_only_after_a_silence(remote):
    stream = _stream(remote)
    feed = RemoteFeed(stream, stream.start(timeout=30))
    try:
        fetched = [feed.fetch()]
        while fetched[-1] is feed.first and len(fetched) < 30:  # a loaded host may take longer than 2 intervals
            fetched.append(feed.fetch())
        second = fetched[-1]
        assert second is not feed.first and second.taken_at > feed.first.taken_at
        stream.close()  # no more samples: the feed gives the last one again rather than waiting for ever
        started = time.monotonic()
        assert feed.fetch() is second
        assert time.monotonic() - started < 10
    finally:
        stream.close()
