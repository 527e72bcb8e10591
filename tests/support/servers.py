"""Real servers in tests (Prometheus, node_exporter, sshd, our exporter): loopback, free ports, stopped by pid."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")


def free_port() -> int:
    """A port the kernel just handed out on 127.0.0.1 (free unless someone races us for it)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_get(url: str, accept: str | None = None, timeout: float = 5.0) -> tuple[int, str, bytes]:
    request = urllib.request.Request(url, headers={"Accept": accept} if accept else {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as r:
            return r.status, r.headers.get("Content-Type", ""), r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Content-Type", ""), e.read()


def wait_until(probe: Callable[[], T | None], timeout: float, what: str, log: Path | None = None) -> T:
    """Poll `probe` until it returns something other than None (or False); fail after `timeout`, showing the log."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError, ValueError):
            got = probe()
            if got is not None and got is not False:
                return got
        time.sleep(0.1)
    shown = log.read_text(errors="replace")[-3000:] if log is not None and log.exists() else ""
    raise AssertionError(f"{what} did not happen within {timeout} s\n{shown}")


@contextlib.contextmanager
def running(argv: list[str], log: Path, **kw: object) -> Iterator[subprocess.Popen]:
    """Start `argv` with its output in `log`; on exit stop it by its pid (TERM, then KILL) and reap it."""
    with open(log, "wb") as out:
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, **kw)
    try:
        yield proc
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait()
