"""A helper process that reads part of /proc while we read the rest.

Why: a first sample opens five files per process, some 25,000 syscalls on a
host with 5,000 processes, and the kernel work behind them is most of the
time. Threads do not help (each syscall hands the GIL over, measured
slower); a second process on the other core does: on 2 cores it cuts a
first live collection by about a third (`bench/bench_collect.py`). Later
samples reuse what they read before and read fewer files, so they do
without the helper.

The helper is `helper_script.py` run by the same interpreter, isolated
(`-I -S`: stdlib only, no site, no environment) so that it starts in ~10 ms
and imports nothing of ours. It takes a /proc root and pids on stdin and
writes, per file, the bytes read or the errno of the failure: only bytes
and ints, framed as length-prefixed `marshal` batches into a memfd (a
regular file never blocks the helper the way a full pipe would while we
are busy reading our own share). It raises its own oom_score_adj to 1000
first, so that if starting it tips a host over, the kernel kills the
helper and not a neighbour.

The helper only speeds things up and nothing waits for it: the caller
reads from the other end, stops where the two meet and kills it, and reads
itself whatever the helper did not finish (it could not start, died, or was
slow).
"""

from __future__ import annotations

import contextlib
import marshal
import os
import subprocess
import sys

from oomtui.collect import helper_script
from oomtui.collect.helper_script import FILES, GONE_ERRNOS

__all__ = ["FILES", "GONE_ERRNOS", "Fetched", "Helper"]

STOP_WAIT = 1.0  # seconds to wait for a killed helper to exit

Fetched = tuple["bytes | int", ...]
"""Per file of FILES: its bytes, or the errno of the failure; a process gone at `stat` stops there."""


class Helper:
    """A running helper, reading its pids in the order given; `poll()` takes what it has finished so far."""

    def __init__(self, proc: str, pids: list[int]) -> None:
        """Raises OSError when the helper cannot be started (no memfd, no interpreter, no fork)."""
        if not sys.executable:
            raise OSError("no interpreter to run the helper")
        self._out = os.memfd_create("oomtui-helper", os.MFD_CLOEXEC)
        self._taken = 0  # bytes of the memfd already decoded
        try:
            self._child = subprocess.Popen(
                [sys.executable, "-I", "-S", helper_script.__file__, proc],
                stdin=subprocess.PIPE, stdout=self._out, stderr=subprocess.DEVNULL,
            )
        except (OSError, subprocess.SubprocessError) as e:
            os.close(self._out)
            raise OSError(f"cannot start the helper: {e}") from None
        try:
            assert self._child.stdin is not None
            self._child.stdin.write(b" ".join(str(p).encode() for p in pids))
            self._child.stdin.close()
        except OSError:
            pass  # it died already: poll() finds nothing

    def poll(self) -> list[tuple[int, Fetched]]:
        """The processes finished since the last poll, in the order given."""
        if self._out < 0:
            return []
        try:
            size = os.fstat(self._out).st_size
            data = os.pread(self._out, size - self._taken, self._taken) if size > self._taken else b""
        except OSError:
            return []
        used, out = _batches(data)
        self._taken += used
        return out

    def stop(self) -> list[tuple[int, Fetched]]:
        """Kill the helper (its work is no longer needed) and take its last finished batches; again: nothing."""
        if self._out < 0:
            return []
        self._child.kill()
        # One stuck in the kernel is reaped later by the subprocess module; what it wrote is read now.
        with contextlib.suppress(subprocess.TimeoutExpired):
            self._child.wait(STOP_WAIT)
        out = self.poll()
        os.close(self._out)
        self._out = -1
        return out


def _batches(data: bytes) -> tuple[int, list[tuple[int, Fetched]]]:
    """The complete batches at the start of `data`, and how many bytes they took; a partial one waits."""
    out: list[tuple[int, Fetched]] = []
    at = 0
    while at + 4 <= len(data):
        size = int.from_bytes(data[at:at + 4], "little")
        if at + 4 + size > len(data):
            break
        try:
            out.extend((int(pid), tuple(files)) for pid, files in marshal.loads(data[at + 4:at + 4 + size]))
        except (EOFError, ValueError, TypeError):
            break
        at += 4 + size
    return at, out
