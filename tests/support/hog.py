"""Processes of known size for real-kernel tests.

`spawn_hog` starts a Python child that joins a cgroup, names itself, touches
a number of MiB, raises its oom_score_adj and reports ready; it then sleeps
(or keeps growing with `grow=True`) until killed. It exits when its stdin
closes, so a test run that is itself killed leaves no hogs behind.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

_CHILD = r"""
import os, sys, time, mmap, threading
cgroup_procs, name, mib, adj, grow = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5] == "1"
if cgroup_procs:
    with open(cgroup_procs, "w") as f:
        f.write(str(os.getpid()))
with open("/proc/self/comm", "w") as f:
    f.write(name)
chunks = []
def touch(n):
    m = mmap.mmap(-1, n << 20, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
    for off in range(0, n << 20, 4096):
        m[off] = 1
    chunks.append(m)
if mib:
    touch(mib)
with open("/proc/self/oom_score_adj", "w") as f:
    f.write(str(adj))
go = threading.Event()
def watch_parent():
    for line in sys.stdin:
        go.set()
    os._exit(0)
threading.Thread(target=watch_parent, daemon=True).start()
sys.stdout.write("ready\n"); sys.stdout.flush()
if grow:
    go.wait()
    while True:
        touch(8)
while True:
    time.sleep(3600)
"""


@dataclass
class Hog:
    name: str
    popen: subprocess.Popen

    @property
    def pid(self) -> int:
        return self.popen.pid

    def start_growing(self) -> None:
        assert self.popen.stdin is not None
        self.popen.stdin.write(b"go\n")
        self.popen.stdin.flush()

    def alive(self) -> bool:
        return self.popen.poll() is None

    def kill(self) -> None:
        if self.popen.poll() is None:
            self.popen.kill()
        self.popen.wait()


def spawn_hog(
    name: str, mib: int, *, adj: int = 0, cgroup_dir: str | os.PathLike | None = None,
    grow: bool = False, timeout: float = 30.0,
) -> Hog:
    procs = os.path.join(cgroup_dir, "cgroup.procs") if cgroup_dir else ""
    popen = subprocess.Popen(
        [sys.executable, "-c", _CHILD, procs, name, str(mib), str(adj), "1" if grow else "0"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE,
    )
    assert popen.stdout is not None
    deadline = time.monotonic() + timeout
    line = popen.stdout.readline()
    if line.strip() != b"ready" or time.monotonic() > deadline:
        popen.kill()
        popen.wait()
        raise RuntimeError(f"hog {name} did not start")
    return Hog(name, popen)


_STRADDLER = r"""
import sys, threading
ready = threading.Event()
def inner():
    with open(sys.argv[1], "w") as f:
        f.write(str(threading.get_native_id()))
    ready.set()
    threading.Event().wait()
threading.Thread(target=inner, daemon=True).start()
ready.wait()
sys.stdout.write("ready\n"); sys.stdout.flush()
sys.stdin.read()
"""


def spawn_straddler(tasks_file: Path) -> Hog:
    """A process whose second thread alone joins a v1 cgroup (written to its `tasks`); it stays where it is."""
    popen = subprocess.Popen([sys.executable, "-c", _STRADDLER, str(tasks_file)],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    assert popen.stdout is not None and popen.stdout.readline().strip() == b"ready"
    return Hog("straddler", popen)
