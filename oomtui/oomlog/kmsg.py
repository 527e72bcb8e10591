"""Follow /dev/kmsg and cut complete OOM reports out of it as they happen.

The recorder needs the report text the moment the kernel prints it, not
after logrotate: /dev/kmsg hands out one record per read(). Records are
turned into dmesg-style lines (`[  123.456789] message`) so a captured
report is a log `oomtui import-oom` reads like any other.
"""

from __future__ import annotations

import errno
import os
import re
import time

from oomtui.oomlog import report as rx

_RECORD = re.compile(rb"^(\d+),(\d+),(\d+),[^;]*;(.*)$", re.S)
_START = (rx.TABLE_TITLE, rx.OOM_KILL, rx.KILLED, rx.SACRIFICE)


def record_to_lines(record: bytes) -> list[str]:
    """One kmsg record (header;message, then KEY=VALUE properties) as dmesg lines."""
    first = record.split(b"\n", 1)[0]
    m = _RECORD.match(first)
    if not m:
        return []
    usec = int(m.group(3))
    stamp = f"[{usec // 1_000_000:5d}.{usec % 1_000_000:06d}]"
    text = m.group(4).decode("utf-8", "replace").replace("\\x0a", "\n").replace("\\x09", "\t")
    return [f"{stamp} {part}" for part in text.split("\n")]


_STAMP = re.compile(r"^\[\s*(\d+)\.(\d{6})\]")


def wall_time(line: str) -> float | None:
    """When the kernel printed a line, as epoch seconds: its stamp is time since boot (CLOCK_MONOTONIC)."""
    m = _STAMP.match(line)
    if not m:
        return None
    since_boot = int(m.group(1)) + int(m.group(2)) / 1e6
    return time.time() - (time.monotonic() - since_boot)


class KmsgFollower:
    """New kernel messages only: it starts at the end of the ring buffer."""

    def __init__(self, path: str = "/dev/kmsg") -> None:
        self.fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
        os.lseek(self.fd, 0, os.SEEK_END)
        self.overruns = 0  # times the ring buffer overwrote records before we read them

    def fileno(self) -> int:
        return self.fd

    def read_lines(self) -> list[str]:
        out: list[str] = []
        while True:
            try:
                record = os.read(self.fd, 8192)
            except BlockingIOError:
                return out
            except OSError as e:
                if e.errno == errno.EPIPE:  # the ring buffer overran us; carry on from the next record
                    self.overruns += 1
                    continue
                if e.errno == errno.EINVAL:  # a record longer than the buffer: skip it
                    continue
                raise
            if not record:
                return out
            out.extend(record_to_lines(record))

    def take_overruns(self) -> int:
        """How often records were lost since the last call: a report read meanwhile may be cut."""
        n, self.overruns = self.overruns, 0
        return n

    def close(self) -> None:
        os.close(self.fd)


class ReportCatcher:
    """Collects lines from a report's first line until it has gone quiet after its kill."""

    def __init__(self, settle: float = 2.5, give_up: float = 30.0) -> None:
        self.settle = settle  # group kills and the reaper follow the kill line within seconds
        self.give_up = give_up  # a report that never reaches its kill (panic, no victim) ends anyway
        self.lines: list[str] = []
        self.started: float | None = None
        self.started_wall = 0.0  # when the report began, epoch seconds
        self.last: float = 0.0
        self.killed = False

    @property
    def pending(self) -> bool:
        return self.started is not None

    def feed(self, line: str, now: float, wall: float) -> list[tuple[str, float]]:
        """Add a dmesg line; returns (text, start time) of a report this line closed, if any."""
        text = line.split("] ", 1)[1] if line.startswith("[") and "] " in line else line
        done: list[tuple[str, float]] = []
        is_header = bool(rx.HEADER.search(text))
        if is_header and self.pending and self.killed:
            done.append(self.flush())
        if not self.pending:
            if not (is_header or any(p.match(text) for p in _START)):
                return done
            self.started, self.started_wall = now, wall
        self.lines.append(line)
        if rx.KILLED.match(text):
            self.killed = True
            self.last = now
        elif self.killed and (rx.GROUP.match(text) or rx.REAPER.match(text)):
            self.last = now
        return done

    def due(self, now: float) -> list[tuple[str, float]]:
        """The report, once nothing has continued it for `settle` seconds after the kill."""
        if self.started is None:
            return []
        if (self.killed and now - self.last >= self.settle) or now - self.started >= self.give_up:
            return [self.flush()]
        return []

    def flush(self) -> tuple[str, float]:
        """The lines so far as a report, and when it began; the catcher starts afresh."""
        text = "\n".join(self.lines) + "\n"
        started = self.started_wall
        self.lines, self.started, self.killed = [], None, False
        return text, started
