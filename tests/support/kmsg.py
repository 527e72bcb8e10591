"""Kernel OOM kills as /dev/kmsg reports them, for tests that use the real kernel as referee.

A KernelLog opened before an OOM sees only the records written after it:
it seeks to the end on open, so older kills on a shared machine never
count. Other tests may cause OOM kills at the same time, so callers say
which pids they own and get the first kill among those.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import time
from dataclasses import dataclass

# "Memory cgroup out of memory: Killed process 1234 (comm) total-vm:..." (5.1+), or the older
# prefix-less "Killed process 1234 (comm) ..." that follows "Kill process ... or sacrifice child".
KILLED = re.compile(r"Killed process (\d+) \((.*?)\)")


@dataclass(frozen=True)
class Kill:
    pid: int
    comm: str
    line: str


def _message(record: bytes) -> str:
    """The text of one kmsg record: after the 'prio,seq,time,flags;' header, before the dictionary lines."""
    text = record.decode("utf-8", "replace")
    return text.partition(";")[2].split("\n", 1)[0]


class KernelLog:
    """Records appended to the kernel ring buffer since this object was opened."""

    def __init__(self) -> None:
        self.fd = os.open("/dev/kmsg", os.O_RDONLY | os.O_NONBLOCK)
        os.lseek(self.fd, 0, os.SEEK_END)
        self.seen: list[str] = []

    def close(self) -> None:
        with contextlib.suppress(OSError):
            os.close(self.fd)

    def __enter__(self) -> KernelLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def read_new(self) -> list[str]:
        """Every record available now; records the ring overwrote before we read them are skipped."""
        out = []
        while True:
            try:
                record = os.read(self.fd, 16384)
            except BlockingIOError:
                break
            except OSError as e:
                if e.errno == errno.EPIPE:  # we fell behind the ring buffer; carry on from the oldest kept
                    continue
                raise
            if not record:
                break
            out.append(_message(record))
        self.seen.extend(out)
        return out

    def first_kill(self, pids: set[int], timeout: float = 30.0) -> Kill | None:
        """The first 'Killed process' line naming one of `pids`, waiting up to `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in self.read_new():
                m = KILLED.search(line)
                if m and int(m.group(1)) in pids:
                    return Kill(int(m.group(1)), m.group(2), line)
            time.sleep(0.05)
        return None


def readable() -> str | None:
    """None when /dev/kmsg can be read here, else why not."""
    try:
        KernelLog().close()
    except OSError as e:
        return f"cannot read /dev/kmsg: {e.strerror}"
    return None
