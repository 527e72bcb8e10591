"""The few facts about a live process that an action must re-check first.

Reads go through one open /proc/PID directory, so every fact comes from the
same process even if the pid is recycled meanwhile (the old directory then
answers ESRCH instead of describing the newcomer).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass

PROC = "/proc"
PF_KTHREAD = 0x00200000


@dataclass(frozen=True, slots=True)
class ProcFacts:
    pid: int
    comm: str
    ppid: int
    start_time: float  # epoch seconds, as the collector computes it
    kernel_thread: bool
    state: str = "R"  # Z: exited, waiting for its parent to reap it
    threads: int = 1

    @property
    def exited(self) -> bool:
        """A leader that exited while its other threads run shows Z too, but its process lives: it counts them."""
        return self.state in ("Z", "X", "x") and self.threads <= 1


def clock_tick() -> float:
    return 1.0 / os.sysconf("SC_CLK_TCK")


def boot_time() -> float:
    with open(f"{PROC}/stat") as f:
        for line in f:
            if line.startswith("btime "):
                return float(line.split()[1])
    raise OSError("no btime in /proc/stat")


@contextlib.contextmanager
def proc_dir(pid: int) -> Iterator[int]:
    """An fd for /proc/PID that keeps naming this one process."""
    fd = os.open(f"{PROC}/{pid}", os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        yield fd
    finally:
        os.close(fd)


def read_at(dir_fd: int, name: str) -> str:
    fd = os.open(name, os.O_RDONLY | os.O_CLOEXEC, dir_fd=dir_fd)
    try:
        return os.read(fd, 1 << 16).decode("utf-8", "replace")
    finally:
        os.close(fd)


def facts_at(dir_fd: int, pid: int) -> ProcFacts:
    stat = read_at(dir_fd, "stat")
    head, _, tail = stat.rpartition(")")
    comm = head.partition("(")[2]
    fields = tail.split()  # fields[0] is the state, field 3 of the kernel's numbering
    return ProcFacts(
        pid=pid,
        comm=comm,
        ppid=int(fields[1]),
        start_time=boot_time() + int(fields[19]) * clock_tick(),
        kernel_thread=bool(int(fields[6]) & PF_KTHREAD),
        state=fields[0],
        threads=int(fields[17]),
    )


def facts(pid: int) -> ProcFacts:
    with proc_dir(pid) as fd:
        return facts_at(fd, pid)


def same_start(seen: float, now: float) -> bool:
    """Whether two epoch start times name the same start: the same clock tick, up to a whole-second shift.

    An epoch start time is btime + ticks / CLK_TCK: the ticks are exact (10 ms
    at the usual USER_HZ 100), so two readings of one process differ by less
    than half a tick only from float rounding, and a process started one tick
    later is another process. btime is whole seconds recomputed from the wall
    clock, so it moves by one when the clock is slewed across a second
    boundary (a collector may have read it hours earlier): a shift of exactly
    one second either way is the same process. Anything else is refused,
    including an older btime after the clock was stepped by more.
    """
    delta = now - seen
    shift = round(delta)
    return shift in (-1, 0, 1) and abs(delta - shift) < clock_tick() / 2


def protected_pids() -> frozenset[int]:
    """oomtui itself and every ancestor: killing them would kill the session it runs in."""
    out = {os.getpid()}
    pid = os.getppid()
    while pid > 0 and pid not in out:
        out.add(pid)
        try:
            pid = facts(pid).ppid
        except (OSError, ValueError, IndexError):
            break
    return frozenset(out)
