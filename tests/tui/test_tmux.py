"""The real `oomtui` in a real terminal (tmux): it starts, draws, answers keys and quits."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import psutil
import pytest

from oomtui.evaluate import evaluate
from oomtui.samples import demo_path
from oomtui.snapshot import load

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
IDLE = 3.0  # seconds of an idle app after which the screen is final
HARD_CAP = 600.0  # seconds: only a hung app gets here


class Terminal:
    """One tmux server of our own (its own socket), so nothing else on the machine is touched."""

    def __init__(self, command: str, also: tuple[int, ...] = ()) -> None:
        """`also`: pids whose descendants work for the app outside the pane (a remote side's sshd)."""
        self.socket = f"oomtui-test-{uuid.uuid4().hex[:8]}"
        self.also = also
        self.ticks = 0
        self.tmux("-f", "/dev/null", "new-session", "-d", "-s", "t", "-x", "160", "-y", "48", command)
        # Without a client attached, tmux may fall back to 80x24: pin the size.
        self.tmux("set-option", "-t", "t", "window-size", "manual")
        self.tmux("resize-window", "-t", "t", "-x", "160", "-y", "48")

    def tmux(self, *args: str) -> subprocess.CompletedProcess:
        # COLUMNS and LINES (set under pytest) would override the terminal's real size.
        env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
        return subprocess.run(["tmux", "-L", self.socket, *args], capture_output=True, text=True, timeout=20, env=env)

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p", "-t", "t").stdout

    def keys(self, *keys: str) -> None:
        self.tmux("send-keys", "-t", "t", *keys)

    def wait_for(self, text: str) -> str:
        """The screen once it shows `text`."""
        shown = [""]

        def showing() -> bool:
            shown[0] = self.screen()
            return text in shown[0]

        self.until(showing, f"{text!r} never appeared")
        return shown[0]

    def wait_gone(self, text: str) -> None:
        self.until(lambda: text not in self.screen(), f"{text!r} stayed on the screen")

    def quits_on(self, key: str) -> None:
        """Press `key`; the app must end, and the session with it."""
        self.keys(key)
        self.until(lambda: not self.alive(), f"{key} should quit the app (and end the session)")

    def until(self, done: Callable[[], bool], failure: str) -> None:
        """Wait until `done`, for as long as the app is still working.

        A fixed deadline races the app on a loaded machine (a starved app
        misses it and the test fails for nothing). Instead the wait gives up
        only once the app and our tmux server have been idle for IDLE seconds
        (no thread runnable, no CPU time spent): then every key has been
        handled and the screen is final. HARD_CAP only stops a hung run.
        """
        idle_since: float | None = None
        cap = time.monotonic() + HARD_CAP
        while not done():
            now = time.monotonic()
            if self.busy():
                idle_since = None
            elif idle_since is None:
                idle_since = now
            if (idle_since is not None and now - idle_since > IDLE) or now > cap:
                if done():
                    return
                raise AssertionError(f"{failure}; the screen shows:\n{self.screen()}")
            time.sleep(0.2)

    def busy(self) -> bool:
        """Whether a thread of the app or of our tmux server is runnable, or used CPU since the last look."""
        running, ticks = False, 0
        for pid in self.pids():
            for stat in Path(f"/proc/{pid}/task").glob("*/stat"):
                with contextlib.suppress(OSError):
                    fields = stat.read_text().rpartition(")")[2].split()
                    running |= fields[0] in ("R", "D")
                    ticks += int(fields[11]) + int(fields[12])  # utime, stime
        moved, self.ticks = ticks > self.ticks + 1, ticks
        return running or moved

    def pids(self) -> list[int]:
        """Our tmux server and everything running in its pane (the app, and a pipe's other end)."""
        out = self.tmux("display-message", "-p", "-t", "t", "#{pid} #{pane_pid}").stdout.split()
        if len(out) != 2:
            return []
        server, pane = (int(x) for x in out)
        found = [server]
        for root in (pane, *self.also):
            with contextlib.suppress(psutil.Error):
                found += [root, *(c.pid for c in psutil.Process(root).children(recursive=True))]
        return found

    def alive(self) -> bool:
        return self.tmux("has-session", "-t", "t").returncode == 0

    def close(self) -> None:
        self.tmux("kill-server")


def oomtui_command() -> str:
    script = Path(sys.executable).parent / "oomtui"
    return str(script) if script.exists() else f"{sys.executable} -m oomtui.cli"


def test_demo_in_a_real_terminal():
    kernel = next(d for d in evaluate(load(demo_path())) if d.policy == "kernel")
    term = Terminal(f"{oomtui_command()} --demo")
    try:
        shown = term.wait_for("Verdicts — domain /")
        assert "snapshot k8s-node-v2.json.gz" in shown
        assert "kubepods.slice" in shown
        for policy in ("kernel", "hierarchical", "earlyoom"):
            assert f"│ {policy} " in shown
        term.keys("k")
        term.wait_for("Cannot kill")
        term.keys("v")
        term.wait_for(f"Details — {kernel.victim_pid} ")
        term.keys("?")
        term.wait_for("Keys — Esc closes")
        term.keys("Escape")
        term.wait_gone("Keys — Esc closes")
        term.keys("/")
        term.wait_for("filter: part of a name")
        term.keys("-l", "kubelet")
        shown = term.wait_for("filter kubelet")
        assert "kubelet" in shown
        term.keys("Escape")
        term.wait_gone("filter kubelet")
        term.quits_on("q")
    finally:
        term.close()


def test_snapshot_piped_on_standard_input_takes_keys_from_the_terminal():
    """`zcat FILE | oomtui --snapshot -`: the snapshot comes from the pipe, the keys from the terminal."""
    term = Terminal(f"gzip -dc {demo_path()} | {oomtui_command()} --snapshot -")
    try:
        shown = term.wait_for("Verdicts — domain /")
        assert "snapshot (standard input)" in shown and "kubepods.slice" in shown
        term.keys("?")
        term.wait_for("Keys — Esc closes")
        term.keys("Escape")
        term.wait_gone("Keys — Esc closes")
        term.quits_on("q")
    finally:
        term.close()


def test_demo_on_an_80x24_console_with_16_colours_and_no_colour():
    """An emergency console: TERM=screen, NO_COLOR=1, 80x24; the victim is marked by a character."""
    kernel = next(d for d in evaluate(load(demo_path())) if d.policy == "kernel")
    term = Terminal(f"env TERM=screen NO_COLOR=1 {oomtui_command()} --demo")
    term.tmux("resize-window", "-t", "t", "-x", "80", "-y", "24")
    try:
        shown = term.wait_for("Verdicts — domain /")
        assert len(shown.splitlines()[0]) <= 80
        assert "NAME" in shown and "BADNESS" in shown and "kubepods.slice" in shown
        term.keys("v")
        deadline = time.monotonic() + 15
        rows: list[str] = []
        while not rows and time.monotonic() < deadline:  # the verdicts name it first; wait for the tree
            tree = term.screen().split("Verdicts — domain")[0]
            rows = [line for line in tree.splitlines() if f"{kernel.victim_pid} java" in line]
            time.sleep(0.2)
        assert rows, term.screen()
        row = rows[0]
        assert row[1] in "☠!", f"the victim's row carries the mark: {row!r}"
        term.keys("w")
        term.wait_for(f"Details — {kernel.victim_pid} ")
        term.keys("/")
        shown = term.wait_for("filter: part of a name")
        tree_rows = [line for line in shown.splitlines() if line.startswith("│") and "GiB" in line]
        assert len(tree_rows) >= 3, "the filter bar leaves the tree its rows"
        term.keys("Escape")
        term.wait_gone("filter: part of a name")
        term.quits_on("q")
    finally:
        term.close()
