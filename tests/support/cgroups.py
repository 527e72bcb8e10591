"""Real memory cgroups for tests, created only under this process's own memory cgroup.

Every cgroup made here is removed again (processes killed first), so a test
run leaves the host as it found it.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
import uuid
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest


@dataclass(frozen=True)
class MemcgHome:
    version: int  # 1 or 2
    mount: Path  # the hierarchy's mount point
    own: str  # our memory cgroup, relative to the mount ("/a/b")

    @property
    def own_dir(self) -> Path:
        return self.mount / self.own.lstrip("/")


def find_memcg_home() -> MemcgHome | None:
    """Where the memory controller is and where we sit in it, or None."""
    mounts: dict[str, Path] = {}
    v2_mount = None
    with open("/proc/self/mountinfo") as f:
        for line in f:
            left, _, right = line.partition(" - ")
            fields, rfields = left.split(), right.split()
            if not rfields:
                continue
            if rfields[0] == "cgroup" and "memory" in rfields[2].split(","):
                mounts["v1"] = Path(fields[4])
            elif rfields[0] == "cgroup2":
                v2_mount = Path(fields[4])
    own_v1 = own_v2 = None
    with open("/proc/self/cgroup") as f:
        for line in f:
            hid, ctrls, path = line.rstrip("\n").split(":", 2)
            if "memory" in ctrls.split(","):
                own_v1 = path
            elif hid == "0":
                own_v2 = path
    if "v1" in mounts and own_v1 is not None:
        return MemcgHome(1, mounts["v1"], own_v1)
    if v2_mount is not None and own_v2 is not None:
        controllers = (v2_mount / own_v2.lstrip("/") / "cgroup.controllers")
        with contextlib.suppress(OSError):
            if "memory" in controllers.read_text().split():
                return MemcgHome(2, v2_mount, own_v2)
    return None


def why_no_memcg() -> str | None:
    """None when tests can create memory cgroups here, else the reason to skip."""
    if os.geteuid() != 0:
        return "needs root to create memory cgroups"
    home = find_memcg_home()
    if home is None:
        return "no memory cgroup controller mounted"
    if not os.access(home.own_dir, os.W_OK):
        return f"own memory cgroup {home.own_dir} is not writable"
    return None


class TestCgroup:
    """One test-owned memory cgroup; `path` is relative to the hierarchy's mount."""

    __test__ = False

    def __init__(self, home: MemcgHome, path: str) -> None:
        self.home = home
        self.path = path
        self.dir = home.mount / path.lstrip("/")

    def write(self, name: str, value: str | int) -> None:
        (self.dir / name).write_text(str(value))

    def read(self, name: str) -> str:
        return (self.dir / name).read_text()

    def set_limit(self, limit_bytes: int) -> None:
        if self.home.version == 1:
            self.write("memory.limit_in_bytes", limit_bytes)
        else:
            self.write("memory.max", limit_bytes)

    def add_pid(self, pid: int) -> None:
        self.write("cgroup.procs", pid)

    def pids(self) -> list[int]:
        out: list[int] = []
        for d in [self.dir, *sorted(p for p in self.dir.rglob("*") if p.is_dir())]:
            with contextlib.suppress(OSError):
                out.extend(int(x) for x in (d / "cgroup.procs").read_text().split())
        return out

    def child(self, name: str) -> TestCgroup:
        sub = TestCgroup(self.home, f"{self.path}/{name}")
        sub.dir.mkdir()
        return sub

    def kill_all(self, sparing: Collection[int] = ()) -> None:
        """SIGKILL every process in the subtree but `sparing`, through a pidfd, once it is seen still here.

        The pidfd is opened before the check: a listed pid that exits and goes to a process
        elsewhere is never signalled.
        """
        for pid in set(self.pids()) - set(sparing):
            try:
                pidfd = os.pidfd_open(pid)
            except OSError:
                continue
            try:
                if self._holds(pid):
                    signal.pidfd_send_signal(pidfd, signal.SIGKILL)
            except OSError:
                pass
            finally:
                os.close(pidfd)

    def _holds(self, pid: int) -> bool:
        for line in Path(f"/proc/{pid}/cgroup").read_text().splitlines():
            hid, ctrls, path = line.split(":", 2)
            if (hid == "0") if self.home.version == 2 else ("memory" in ctrls.split(",")):
                return path == self.path or path.startswith(self.path + "/")
        return False

    def destroy(self) -> None:
        """Kill everything inside, then remove the directories deepest first."""
        if self.home.version == 1:
            with contextlib.suppress(OSError):
                (self.dir / "memory.oom_control").write_text("0")
        for _ in range(100):
            if not self.pids():
                break
            self.kill_all()
            time.sleep(0.02)
        dirs = sorted((p for p in self.dir.rglob("*") if p.is_dir()), key=lambda p: -len(p.parts))
        for d in [*dirs, self.dir]:
            rmdir_patiently(d)


def rmdir_patiently(d: Path, tries: int = 200) -> None:
    """Remove a cgroup directory; it stays busy for a moment after its last process dies."""
    for _ in range(tries):
        try:
            d.rmdir()
            return
        except FileNotFoundError:
            return
        except OSError:
            time.sleep(0.02)


@contextlib.contextmanager
def test_cgroup(prefix: str = "oomtui-test") -> Iterator[TestCgroup]:
    """A fresh memory cgroup below our own, removed with everything in it afterwards."""
    home = find_memcg_home()
    assert home is not None, why_no_memcg()
    name = f"{prefix}-{uuid.uuid4().hex[:8]}"
    path = f"{home.own.rstrip('/')}/{name}"
    cg = TestCgroup(home, path)
    cg.dir.mkdir()
    try:
        yield cg
    finally:
        cg.destroy()


@contextlib.contextmanager
def v2_test_cgroup(root: Path, prefix: str = "oomtui-test") -> Iterator[tuple[str, Path]]:
    """A cgroup on the cgroup2 mount `root` below our own v2 cgroup, as (path, directory).

    For cgroup.kill and cgroup.freeze on hosts whose memory controller is on v1;
    everything inside is killed and the cgroup removed afterwards.
    """
    with open("/proc/self/cgroup") as f:
        own = next(line.rstrip("\n").split(":", 2)[2] for line in f if line.startswith("0::"))
    path = f"{own.rstrip('/')}/{prefix}-{uuid.uuid4().hex[:8]}"
    d = root / path.lstrip("/")
    d.mkdir()
    try:
        yield path, d
    finally:
        with contextlib.suppress(OSError):
            (d / "cgroup.kill").write_text("1")
        rmdir_patiently(d)


@contextlib.contextmanager
def v1_frozen(pid: int) -> Iterator[None]:
    """Hold a process frozen in a v1 freezer cgroup below our own: even SIGKILL waits until it is thawed.

    Skips where there is no v1 freezer; thaws, moves the process back and removes the cgroup afterwards.
    """
    mount = own = None
    with open("/proc/self/mountinfo") as f:
        for line in f:
            left, _, right = line.partition(" - ")
            rfields = right.split()
            if len(rfields) > 2 and rfields[0] == "cgroup" and "freezer" in rfields[2].split(","):
                mount = Path(left.split()[4])
    with open("/proc/self/cgroup") as f:
        for line in f:
            _, ctrls, path = line.rstrip("\n").split(":", 2)
            if "freezer" in ctrls.split(","):
                own = path
    if mount is None or own is None or os.geteuid() != 0:
        pytest.skip("needs root and a cgroup v1 freezer")
    parent = mount / own.lstrip("/")
    d = parent / f"oomtui-test-{uuid.uuid4().hex[:8]}"
    d.mkdir()
    try:
        (d / "cgroup.procs").write_text(str(pid))
        (d / "freezer.state").write_text("FROZEN")
        for _ in range(500):
            if (d / "freezer.state").read_text().strip() == "FROZEN":
                break
            time.sleep(0.01)
        yield
    finally:
        (d / "freezer.state").write_text("THAWED")
        for left in (d / "cgroup.procs").read_text().split():
            with contextlib.suppress(OSError):
                (parent / "cgroup.procs").write_text(left)
        rmdir_patiently(d)
