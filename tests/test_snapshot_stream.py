"""`oomtui snapshot stream`: N lines, each a whole snapshot; a closed pipe and SIGTERM end it cleanly."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import pytest

from oomtui import snapshot as snapshot_file
from oomtui.cli import main

STREAM = [sys.executable, "-m", "oomtui.cli", "snapshot", "stream"]


def test_count_lines_each_a_valid_snapshot_of_this_host():
    done = subprocess.run([*STREAM, "--interval", "0.5", "--count", "3"], capture_output=True, timeout=60)
    assert done.returncode == 0 and done.stderr == b""
    lines = done.stdout.split(b"\n")
    assert len(lines) == 4 and lines[-1] == b""
    snaps = [snapshot_file.from_dict(json.loads(line)) for line in lines[:3]]
    assert all(s.source == "live" and s.process(os.getpid()) is not None for s in snaps)
    assert snaps[0].taken_at < snaps[1].taken_at < snaps[2].taken_at
    # One warm collector: the later samples carry trends the first cannot.
    assert any(c.trend is not None and c.trend.interval for c in snaps[2].cgroups)


def _started():
    proc = subprocess.Popen([*STREAM, "--interval", "0.5"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    first = proc.stdout.readline()
    snapshot_file.from_dict(json.loads(first))
    return proc


def test_a_closed_pipe_ends_it_quietly():
    proc = _started()
    proc.stdout.close()
    assert proc.wait(timeout=20) == 0
    assert proc.stderr.read() == b""


def test_sigterm_ends_it_cleanly_after_a_whole_line():
    proc = _started()
    proc.send_signal(signal.SIGTERM)
    rest, err = proc.communicate(timeout=20)
    assert proc.returncode == 0 and err == b""
    assert rest == b"" or rest.endswith(b"\n")


@pytest.mark.parametrize("argv, message", [
    (["--interval", "0.1"], "--interval must be at least"),
    (["--count", "0"], "--count must be at least 1"),
])
def test_bad_usage(argv, message, capsys):
    assert main(["snapshot", "stream", *argv]) == 2
    assert message in capsys.readouterr().err
