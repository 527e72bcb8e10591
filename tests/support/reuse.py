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
    """A sleeper that took `pid` and joined a cgroup; `status()` is its wait status once it ends."""

    def __init__(self, pid: int, cgroup_dir: Path, timeout: float = 10.0) -> None:
        self.pid = pid
        read_end, write_end = os.pipe()
        launcher = os.fork()
        if launcher == 0:
            os.close(read_end)
            os._exit(_launch(pid, cgroup_dir, write_end, timeout))
        os.close(write_end)
        self._launcher, self._pipe = launcher, os.fdopen(read_end, "rb")
        first = self._pipe.readline().decode().split()
        if first != ["started"]:
            self._reap()
            reason = " ".join(first[1:]) or "the launcher said nothing"
            if first[:1] == ["unsupported"]:
                pytest.skip(f"cannot ask for pid {pid}: {reason}")
            raise RuntimeError(f"could not start a process with pid {pid}: {reason}")

    def status(self, timeout: float = 30.0) -> int:
        """The newcomer's wait status (it is reaped by the launcher, which reports it)."""
        assert readable(self._pipe, timeout), "the newcomer did not end"
        line = self._pipe.readline()
        self._reap()
        return int(line)

    def _reap(self) -> None:
        os.waitpid(self._launcher, 0)
        self._pipe.close()


def _launch(pid: int, cgroup_dir: Path, out: int, timeout: float) -> int:
    """In the launcher: clone the newcomer (retrying while the pid is still being freed), then reap it."""
    deadline = time.monotonic() + timeout
    while (child := _clone_with_pid(pid)) == -errno.EEXIST and time.monotonic() < deadline:
        time.sleep(0.01)
    if child == 0:
        try:  # named before it joins: the kill may see it there before the exec renames it
            os.write(os.open("/proc/self/comm", os.O_WRONLY), b"sleep")
            os.write(os.open(cgroup_dir / "cgroup.procs", os.O_WRONLY), str(pid).encode())
            os.execvp("sleep", ["sleep", "60"])
        finally:
            os._exit(127)
    if child < 0:
        kind = "unsupported" if -child in (errno.ENOSYS, errno.EPERM, errno.EINVAL) else "failed"
        os.write(out, f"{kind} {os.strerror(-child)}\n".encode())
        return 1
    os.write(out, b"started\n")
    _, status = os.waitpid(child, 0)
    os.write(out, f"{status}\n".encode())
    return 0
