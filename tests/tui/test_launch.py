"""Starting the app without a terminal: one line and exit 2, never a screen drawn into a pipe or a spin."""

from __future__ import annotations

import os
import pty
import subprocess
import sys


def _oomtui(stdin, stderr, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "oomtui.cli", "--demo"], stdin=stdin, stdout=subprocess.PIPE,
                          stderr=stderr, timeout=60, **kw)


def test_without_a_terminal_the_app_says_so_instead_of_spinning():
    """Textual would draw into the pipe, and spin at full CPU reading an exhausted stdin."""
    out = _oomtui(subprocess.DEVNULL, subprocess.PIPE)
    err = out.stderr.decode()
    assert out.returncode == 2 and err.count("\n") == 1
    assert "standard error is not one" in err and "oomtui preview" in err


def test_without_a_keyboard_the_app_says_so():
    """A terminal to draw on, but stdin is not one and there is no controlling terminal (a detached job)."""
    screen, terminal = pty.openpty()
    try:
        out = _oomtui(subprocess.DEVNULL, terminal, start_new_session=True)
    finally:
        os.close(terminal)
    try:
        err = b""
        while chunk := _read(screen):
            err += chunk
    finally:
        os.close(screen)
    assert out.returncode == 2
    assert b"needs a keyboard and there is no terminal" in err and err.count(b"\n") == 1


def _read(fd: int) -> bytes:
    try:
        return os.read(fd, 4096)
    except OSError:  # EIO once the other side is closed and drained
        return b""
