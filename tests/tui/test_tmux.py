"""The real `oomtui` in a real terminal (tmux): it starts, draws, answers keys and quits."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from oomtui.evaluate import evaluate
from oomtui.samples import demo_path
from oomtui.snapshot import load

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")


class Terminal:
    """One tmux server of our own (its own socket), so nothing else on the machine is touched."""

    def __init__(self, command: str) -> None:
        self.socket = f"oomtui-test-{uuid.uuid4().hex[:8]}"
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

    def wait_for(self, text: str, timeout: float = 30.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            shown = self.screen()
            if text in shown:
                return shown
            time.sleep(0.2)
        raise AssertionError(f"{text!r} never appeared; the screen shows:\n{self.screen()}")

    def wait_gone(self, text: str, timeout: float = 15.0) -> None:
        deadline = time.monotonic() + timeout
        while text in self.screen():
            if time.monotonic() > deadline:
                raise AssertionError(f"{text!r} stayed on the screen:\n{self.screen()}")
            time.sleep(0.2)

    def quits_on(self, key: str, timeout: float = 15.0) -> None:
        """Press `key`; the app must end, and the session with it."""
        self.keys(key)
        deadline = time.monotonic() + timeout
        while self.alive() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not self.alive(), f"{key} should quit the app (and end the session)"

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
