"""Fake /proc and cgroup trees in a temporary directory, for collector tests.

A FakeHost lays out what the collector reads on a v2, v1, hybrid or
cgroup-less host: mountinfo (with an escaped space in a mount point, as the
kernel writes it), the host files, cgroup directories with their memory
files, and /proc/PID directories. Tests then remove, rewrite or fail
single files to see how the collector copes.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from oomtui.collect import Collector
from oomtui.collect.files import read_file

BTIME = 1_700_000_000
TICKS = os.sysconf("SC_CLK_TCK")
UNLIMITED_V1 = "9223372036854771712"
PSI = "some avg10=1.50 avg60=0.75 avg300=0.10 total=123456\nfull avg10=0.50 avg60=0.25 avg300=0.05 total=65432\n"

V2_FILES = {
    "memory.current": "1048576",
    "memory.max": "max",
    "memory.high": "max",
    "memory.low": "0",
    "memory.min": "0",
    "memory.swap.current": "0",
    "memory.swap.max": "max",
    "memory.oom.group": "0",
    "memory.stat": "anon 4096\nfile 8192\npgscan 5\n",
    "memory.events": "low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\noom_group_kill 0\n",
    "memory.pressure": PSI,
    "cgroup.events": "populated 1\nfrozen 0\n",
    "cgroup.subtree_control": "memory pids\n",
    "cgroup.controllers": "memory pids\n",
    "cgroup.procs": "",
}
V1_FILES = {
    "memory.usage_in_bytes": "1048576",
    "memory.limit_in_bytes": UNLIMITED_V1,
    "memory.memsw.usage_in_bytes": "1048576",
    "memory.memsw.limit_in_bytes": UNLIMITED_V1,
    "memory.stat": "cache 8192\nrss 4096\ntotal_cache 8192\ntotal_rss 4096\n",
    "memory.oom_control": "oom_kill_disable 0\nunder_oom 0\noom_kill 0\n",
    "memory.swappiness": "60",
    "cgroup.procs": "",
}


@dataclass
class FakeProc:
    pid: int
    comm: str = "cat"
    ppid: int = 1
    uid: int = 1000
    cgroup: str = "/"
    rss_anon_kb: int | None = 100
    rss_file_kb: int = 50
    rss_shmem_kb: int = 4
    swap_kb: int = 0
    pte_kb: int = 8
    adj: int = 0
    score: int = 10
    starttime: int = 1000  # ticks after boot
    flags: int = 0x400100
    cmdline: tuple[str, ...] = ("cat", "-")
    listed: bool = True  # whether its cgroup's cgroup.procs lists it


class FakeHost:
    """One fake host under `root`; `mode` is "v2", "v1", "hybrid" or "none"."""

    def __init__(self, root: Path, mode: str = "v2") -> None:
        self.root, self.mode = root, mode
        self.proc = root / "proc"
        self.memory_root: Path | None = None
        mounts = [("/", str(self.proc), "proc", "rw")]
        if mode == "v2":
            self.memory_root = root / "cgroup v2"
            mounts.append(("/", str(self.memory_root), "cgroup2", "rw"))
        elif mode in ("v1", "hybrid"):
            self.memory_root = root / "cgroup" / "memory"
            mounts.append(("/", str(root / "cgroup" / "cpu"), "cgroup", "rw,cpu"))
            mounts.append(("/", str(self.memory_root), "cgroup", "rw,memory"))
            mounts.append(("/", str(root / "cgroup" / "freezer"), "cgroup", "rw,freezer"))
            if mode == "hybrid":
                unified = root / "cgroup" / "unified"
                unified.mkdir(parents=True)
                (unified / "cgroup.controllers").write_text("\n")
                mounts.append(("/", str(unified), "cgroup2", "rw"))
        lines = [
            f"{20 + i} 1 0:{20 + i} {r} {_escape(mp)} rw,relatime - {fs} {fs} {opts}"
            for i, (r, mp, fs, opts) in enumerate(mounts)
        ]
        self.write("proc/self/mountinfo", "\n".join(lines) + "\n")
        self.write("proc/stat", f"cpu  1 2 3 4\nintr 0\nbtime {BTIME}\nprocesses 100\n")
        self.write("proc/meminfo", "MemTotal:       16384000 kB\nMemFree:  1000 kB\nMemAvailable:    8192000 kB\n"
                   "SwapTotal:       2048000 kB\nSwapFree:        1024000 kB\n")
        self.write("proc/pressure/memory", PSI)
        self.write("proc/sys/kernel/hostname", "fakehost\n")
        self.write("proc/sys/kernel/osrelease", "6.1.0-fake\n")
        for name, value in (("overcommit_memory", 1), ("panic_on_oom", 0), ("oom_kill_allocating_task", 0)):
            self.write(f"proc/sys/vm/{name}", f"{value}\n")
        if self.memory_root is not None:
            self.add_cgroup("/")

    def write(self, relative: str, text: str | bytes) -> Path:
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text)
        return path

    def cgroup_dir(self, path: str) -> Path:
        assert self.memory_root is not None
        return self.memory_root / path.lstrip("/")

    def add_cgroup(self, path: str, files: dict[str, str | None] | None = None) -> Path:
        """A cgroup with default memory files; `files` overrides them by name (None removes one)."""
        d = self.cgroup_dir(path)
        d.mkdir(parents=True, exist_ok=True)
        contents: dict[str, str | None] = dict(V1_FILES if self.mode in ("v1", "hybrid") else V2_FILES)
        contents.update(files or {})
        for name, text in contents.items():
            target = d / name
            if text is None:
                target.unlink(missing_ok=True)
            else:
                target.write_text(text)
        return d

    def add_process(self, p: FakeProc) -> Path:
        d = self.proc / str(p.pid)
        d.mkdir(parents=True)
        (d / "stat").write_text(
            f"{p.pid} ({p.comm}) S {p.ppid} {p.pid} {p.pid} 0 -1 {p.flags} 10 0 0 0 1 1 0 0 20 0 1 0 "
            f"{p.starttime} 10000 100 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0\n"
        )
        rss = "" if p.rss_anon_kb is None else (
            f"RssAnon:\t{p.rss_anon_kb:8d} kB\nRssFile:\t{p.rss_file_kb:8d} kB\nRssShmem:\t{p.rss_shmem_kb:8d} kB\n"
            f"VmPTE:\t{p.pte_kb:8d} kB\nVmSwap:\t{p.swap_kb:8d} kB\n"
        )
        (d / "status").write_text(
            f"Name:\t{p.comm}\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t{p.pid}\nPid:\t{p.pid}\nPPid:\t{p.ppid}\n"
            f"Uid:\t{p.uid}\t{p.uid + 1}\t{p.uid + 2}\t{p.uid + 3}\nGid:\t0\t0\t0\t0\n{rss}Threads:\t1\n"
        )
        (d / "oom_score").write_text(f"{p.score}\n")
        (d / "oom_score_adj").write_text(f"{p.adj}\n")
        (d / "cmdline").write_bytes(b"".join(a.encode() + b"\0" for a in p.cmdline))
        v1 = self.mode in ("v1", "hybrid")
        (d / "cgroup").write_text(
            f"5:cpu:/elsewhere\n4:memory:{p.cgroup}\n0::/unified/elsewhere\n" if v1 else f"0::{p.cgroup}\n"
        )
        if p.listed and self.memory_root is not None:
            with open(self.cgroup_dir(p.cgroup) / "cgroup.procs", "a") as f:
                f.write(f"{p.pid}\n")
        return d

    def collector(self, read: Callable[[str], bytes] = read_file, **kw: object) -> Collector:
        kw.setdefault("root", self.root)  # workload names from the fake tree's /var/log/pods, not the host's
        return Collector(self.proc, read=read, **kw)  # type: ignore[arg-type]


def failing(fails: Callable[[str], BaseException | None]) -> Callable[[str], bytes]:
    """A reader that raises what `fails(path)` returns, and reads normally where it returns None."""

    def read(path: str) -> bytes:
        error = fails(path)
        if error is not None:
            raise error
        return read_file(path)

    return read


def _escape(path: str) -> str:
    return path.replace("\\", "\\134").replace(" ", "\\040").replace("\t", "\\011").replace("\n", "\\012")
