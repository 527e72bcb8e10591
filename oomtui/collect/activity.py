"""Which processes cannot have changed since the last sample, so a warm sample need not read them.

A warm sample reads each known process's status (RSS split, swap, page
tables, name, parent): an open, a read and a close, most of a sample's CPU
at 10,000 processes, though on an idle host nearly every one reads back as
before. What can change a process's status, and where it shows without
reading the process:

- The process runs (it faults pages in, frees them, renames itself,
  rewrites its argv): the CPU time of its cgroup on the unified hierarchy
  moves. cgroup v2's `cpu.stat` has `usage_usec` in every cgroup whether
  or not the cpu controller is enabled, summed over every thread and
  flushed when read, so it is exact: unchanged means no thread of any
  process listed there ran. On a hybrid host systemd keeps its unit tree
  on the unified mount too, so each service has one there. Not the root:
  its cpu.stat is the host's CPU time as the scheduler tick samples it
  (every 4 ms at 250 Hz), so a process there can run between two ticks
  unseen (a rename took under 1 ms on 6.18), and the root's processes are
  always read.
- The kernel acts on its memory while it sleeps: global reclaim and
  swap-out, THP collapse, the OOM reaper. These move /proc/vmstat's
  host-wide counters (`pgscan_kswapd`/`_direct`, `pgsteal_*` likewise,
  `thp_collapse_alloc`, `oom_kill`). Reclaim inside a cgroup at its limit
  (counted there, not in those) takes that cgroup's pages: its memory.stat
  moves (faults, charges, anon, file, mapped and swapped pages). A page
  it takes that a process elsewhere also maps (a library both use) lowers
  that process's RssFile unseen until its turn in the rotation below.
- Its parent exits (PPid changes): the process reader sees the parent's
  pid gone from /proc. oom_score_adj (written from outside) is re-read for
  every process each sample, and membership comes from cgroup.procs.

A process is quiet when its unified cgroup's CPU time and member list,
its memory cgroup's counters and the host's reclaim counters all stand as
they were; the process reader then reuses its last record. What none of
these show (another process writing into it through /proc/PID/mem or
ptrace, a file it maps truncated by someone else) is caught by reading
every process in full at least every ROTATION samples, a share of them
each sample. Where there is no unified hierarchy (a v1-only host), or its
files cannot be read, no process is quiet and every one is read.
"""

from __future__ import annotations

import os
import weakref
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from oomtui.collect.files import Reader, close_all, keep_dir, read_file, read_in, read_or_none
from oomtui.model import Cgroup

ROTATION = 16  # a quiet process is still read in full every this many samples
# Host-wide counters of the kernel taking or mapping pages of any process, whatever its cgroup: global reclaim
# (the kswapd and direct counters leave out reclaim inside a cgroup at its limit, which takes only its own
# pages and moves that cgroup's counters), khugepaged, OOM kills. Whole vmstat names.
RECLAIM = tuple(f"{name} ".encode() for name in (
    "pgscan_kswapd", "pgscan_direct", "pgscan_khugepaged", "pgsteal_kswapd", "pgsteal_direct", "pgsteal_khugepaged",
    "thp_collapse_alloc", "oom_kill"))
# A memory cgroup's counters that move when memory is charged, freed, faulted in or swapped, v1 and v2 names.
MEMORY_KEYS = ("pgfault", "pgmajfault", "pgpgin", "pgpgout", "rss", "rss_huge", "cache", "mapped_file", "anon",
               "file", "file_mapped", "shmem", "swap")


@dataclass(frozen=True, slots=True)
class Quiet:
    pids: frozenset[int]  # listed only in unified cgroups whose CPU time and members stand still
    memcgs: frozenset[str]  # memory cgroups whose counters stand still


NOTHING = Quiet(frozenset(), frozenset())


def memory_mark(c: Cgroup) -> tuple[int | None, ...] | None:
    """What moves in a memory cgroup when memory is charged to it or faulted in; None where faults are not counted.

    Not the usage (memory.current, v1 usage_in_bytes): it includes pages charged ahead to a CPU's stock and
    given back when another cgroup charges there, so it moves while nothing in the cgroup does.
    """
    if c.stat.get("pgfault") is None:
        return None
    return tuple(c.stat.get(k) for k in MEMORY_KEYS)


def reclaim_mark(vmstat: bytes | None) -> tuple[bytes, ...] | None:
    """/proc/vmstat's lines of the kernel reclaiming, swapping, collapsing or reaping memory."""
    if not vmstat:
        return None
    return tuple(line for line in vmstat.split(b"\n") if line.startswith(RECLAIM))


def cpu_usage(stat: bytes | None) -> int | None:
    """`usage_usec` from a cgroup v2 cpu.stat."""
    for line in (stat or b"").split(b"\n"):
        key, _, value = line.partition(b" ")
        if key == b"usage_usec":
            try:
                return int(value)
            except ValueError:
                return None
    return None


class ActivityReader:
    """Keeps each sample's marks to tell the next which processes stood still."""

    def __init__(self, proc: str, v2_root: Path | None, read: Reader) -> None:
        self.proc = proc
        self.root = None if v2_root is None else str(v2_root)
        self.read = read
        self._cpu: dict[str, tuple[int, bytes, int]] = {}  # unified path -> (inode, cgroup.procs, usage_usec)
        self._memory: dict[str, tuple[int | None, ...]] = {}
        self._reclaim: tuple[bytes, ...] | None = None
        self._pids: dict[str, tuple[bytes, list[int]]] = {}  # unified path -> its cgroup.procs, parsed
        self._dirs: dict[str, tuple[int, int]] = {}  # unified path -> (inode, an fd open on its directory)
        self._keeps = read is read_file
        weakref.finalize(self, close_all, self._dirs)

    def quiet(self, cgroups: Iterable[Cgroup]) -> Quiet:
        """Since the last call: the processes and memory cgroups nothing moved in (none on the first call)."""
        if self.root is None:
            return NOTHING
        reclaim = reclaim_mark(read_or_none(self.read, f"{self.proc}/vmstat"))
        host_still = reclaim is not None and reclaim == self._reclaim
        self._reclaim = reclaim
        memory = {c.path: m for c in cgroups if (m := memory_mark(c)) is not None}
        before, self._memory = self._memory, memory
        cpu = self._walk()
        was, self._cpu = self._cpu, cpu
        if not host_still:
            return NOTHING
        still: set[int] = set()
        moving: set[int] = set()
        parsed: dict[str, tuple[bytes, list[int]]] = {}
        for path, mark in cpu.items():
            known = self._pids.get(path)
            pids = known[1] if known is not None and known[0] == mark[1] else _pids(mark[1])
            parsed[path] = (mark[1], pids)
            (still if path != "/" and was.get(path) == mark else moving).update(pids)
        self._pids = parsed
        return Quiet(frozenset(still - moving), frozenset(p for p, m in memory.items() if before.get(p) == m))

    def close(self) -> None:
        """Close the directories kept open; the next walk opens them again."""
        close_all(self._dirs)

    def _walk(self) -> dict[str, tuple[int, bytes, int]]:
        """Every unified cgroup with readable members and CPU time, by path below the mount.

        On the live hierarchy each directory is kept open between samples and read relative to it,
        as the memory walk does (cgroups.py, "Open directories")."""
        assert self.root is not None
        out: dict[str, tuple[int, bytes, int]] = {}
        dirs: dict[str, tuple[int, int]] = {}
        try:
            stack = [(self.root, "/", os.stat(self.root).st_ino)]
        except OSError:
            return out
        try:
            while stack:
                directory, path, inode = stack.pop()
                fd = keep_dir(self._dirs, dirs, path, directory, inode) if self._keeps else None
                try:
                    with os.scandir(directory if fd is None else fd) as it:
                        for e in it:
                            if e.is_dir(follow_symlinks=False):
                                stack.append((f"{directory}/{e.name}", f"{path.rstrip('/')}/{e.name}", e.inode()))
                except OSError:
                    continue
                procs = read_in(self.read, directory, fd, "cgroup.procs")
                usage = cpu_usage(read_in(self.read, directory, fd, "cpu.stat"))
                if procs is not None and usage is not None:
                    out[path] = (inode, procs, usage)
        finally:
            close_all(self._dirs)  # those of cgroups no longer walked
            self._dirs = dirs
        return out


def _pids(procs: bytes) -> list[int]:
    return [int(p) for p in procs.split() if p.isdigit()]
