"""A process that gets a given pid again, for the real pid-recycling race.

clone3(2) with `set_tid` (Linux 5.5+, root in the pid namespace's owner,
as CRIU restores pids) asks the kernel for that exact pid: no other
process can take it first, as it could between a write to ns_last_pid and
a fork on a busy host. The clone is made in a forked, single-threaded
launcher (a raw clone of a threaded test process would leave its copy of
the interpreter with locks held by threads it does not have); the
launcher reaps the newcomer and writes its wait status back.
"""

from __future__ import annotations

import ctypes
import errno
import os
import signal
import time
from pathlib import Path

import pytest

from tests.support.readable import readable

SYS_CLONE3 = 435  # the same number on every architecture (the generic syscall table)
_ARGS = ("flags", "pidfd", "child_tid", "parent_tid", "exit_signal", "stack", "stack_size", "tls", "set_tid",
         "set_tid_size")


class _CloneArgs(ctypes.Structure):
    _fields_ = [(name, ctypes.c_uint64) for name in _ARGS]  # CLONE_ARGS_SIZE_VER1: 80 bytes, Linux 5.5


def _clone_with_pid(pid: int) -> int:
    """clone3 asking for `pid`: 0 in the child, the pid in the parent; -errno on failure."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    tids = (ctypes.c_int * 1)(pid)
    args = _CloneArgs(exit_signal=signal.SIGCHLD, set_tid=ctypes.addressof(tids), set_tid_size=1)
    got = libc.syscall(SYS_CLONE3, ctypes.byref(args), ctypes.c_size_t(ctypes.sizeof(args)))
    return got if got >= 0 else -ctypes.get_errno()


class Newcomer:
    """A process that took `pid`, named itself `name` and joined a cgroup; it exits when `kill()` closes its pipe.

    `status()` is its wait status once it ends (its launcher reaps it and
    reports), so nothing here ever signals a pid that may have been reused.
    """

    def __init__(self, pid: int, cgroup_dir: Path, name: str = "newcomer", timeout: float = 10.0) -> None:
        self.pid = pid
        report_r, report_w = os.pipe()
        stop_r, stop_w = os.pipe()
        launcher = os.fork()
        if launcher == 0:
            os.close(report_r)
            os.close(stop_w)
            os._exit(_launch(pid, cgroup_dir, name, (stop_r, report_w), timeout))
        os.close(report_w)
        os.close(stop_r)
        self._launcher, self._stop = launcher, stop_w
        self._report = os.fdopen(report_r, "rb", buffering=0)  # unbuffered: poll sees every line not yet read
        self._status: int | None = None
        first = self._report.readline().decode().split()
        if first != ["started"]:
            self.kill()
            reason = " ".join(first[1:]) or "the launcher said nothing"
            if first[:1] in (["unsupported"], ["taken"]):
                pytest.skip(f"cannot ask for pid {pid}: {reason}")
            raise RuntimeError(f"could not start a process with pid {pid}: {reason}")

    def alive(self) -> bool:
        return self._status is None and not readable(self._report, 0)

    def status(self, timeout: float = 30.0) -> int:
        """The newcomer's wait status, once it has ended."""
        if self._status is None:
            assert readable(self._report, timeout), "the newcomer did not end"
            line = self._report.readline()
            self._status = int(line) if line.strip() else -1
            os.waitpid(self._launcher, 0)
            self._report.close()
        return self._status

    def kill(self) -> None:
        """Close its pipe (it exits on the end of it) and wait until it has."""
        if self._stop >= 0:
            os.close(self._stop)
            self._stop = -1
        self.status()


def _launch(pid: int, cgroup_dir: Path, name: str, pipes: tuple[int, int], timeout: float) -> int:
    """In the launcher: clone the newcomer (retrying while the pid is still being freed), then reap it."""
    stop, out = pipes
    deadline = time.monotonic() + timeout
    while (child := _clone_with_pid(pid)) == -errno.EEXIST and time.monotonic() < deadline:
        time.sleep(0.01)
    if child == 0:
        try:  # named before it joins: the kill may see it there before anything else
            os.write(os.open("/proc/self/comm", os.O_WRONLY), name.encode())
            os.write(os.open(cgroup_dir / "cgroup.procs", os.O_WRONLY), str(pid).encode())
            os.close(out)
            os.read(stop, 1)
        finally:
            os._exit(0)
    os.close(stop)
    if child < 0:
        if -child == errno.EEXIST:  # pid_max wrapped under heavy forking and a stranger took it
            os.write(out, f"taken another process has had pid {pid} for {timeout:g} s\n".encode())
            return 1
        kind = "unsupported" if -child in (errno.ENOSYS, errno.EPERM, errno.EINVAL) else "failed"
        os.write(out, f"{kind} {os.strerror(-child)}\n".encode())
        return 1
    os.write(out, b"started\n")
    _, status = os.waitpid(child, 0)
    os.write(out, f"{status}\n".encode())
    return 0
