"""Every process (thread-group leader) from /proc, with what the OOM killer weighs.

Per process and sample: stat (identity, ppid, comm, flags), status (uid and
the RSS breakdown the badness formula uses), oom_score and oom_score_adj.
cmdline and the start time do not change while a process lives (exec
aside, which renames comm), so they are kept between samples under the
process's identity (pid, start time in ticks) and re-read only when comm
changes.

A process that exits mid-read is skipped (ENOENT/ESRCH); a file that is
unreadable for any other reason gives null. oom_score_adj, which the
format requires, falls back to the kernel's default 0 when unreadable.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Mapping
from typing import NamedTuple

from oomtui.collect import parse
from oomtui.collect.files import Reader, read_or_none
from oomtui.collect.layout import CgroupLayout
from oomtui.model import ROOT, Process, parent_of

_GONE = (FileNotFoundError, ProcessLookupError)


class _Gone(Exception):
    """The process exited while we read it."""


class _Known(NamedTuple):
    raw_comm: bytes
    comm: str
    cmdline: tuple[str, ...]
    start_time: float | None


_UNKNOWN = _Known(b"", "", (), None)


def nearest(path: str, known: Collection[str]) -> str:
    """The nearest cgroup at or above `path` that the snapshot lists."""
    current: str | None = path
    while current is not None and current not in known:
        current = parent_of(current)
    return current or ROOT


_NO_STATUS = (None,) * 6


class ProcessReader:
    def __init__(self, proc: str, layout: CgroupLayout, read: Reader) -> None:
        self.proc = proc
        self.read = read
        self.mode = layout.mode
        self.ticks = os.sysconf("SC_CLK_TCK")
        self._btime: int | None = None
        self._known: dict[tuple[int, int], _Known] = {}

    def read_all(self, members: Mapping[int, str], cgroups: Collection[str]) -> list[Process]:
        """`members` maps pid to memory cgroup from cgroup.procs; `cgroups` lists the snapshot's paths."""
        if self._btime is None:
            self._btime = parse.btime(read_or_none(self.read, f"{self.proc}/stat"))
        try:
            pids = sorted(int(n) for n in os.listdir(self.proc) if n.isdigit())
        except OSError:
            return []
        known: dict[tuple[int, int], _Known] = {}
        out = []
        for pid in pids:
            try:
                out.append(self._one(pid, members, cgroups, known))
            except _Gone:
                continue
        self._known = known
        return out

    def _get(self, path: str) -> bytes | None:
        try:
            return self.read(path)
        except _GONE:
            raise _Gone from None
        except OSError:
            return None

    def _one(
        self, pid: int, members: Mapping[int, str], cgroups: Collection[str], known: dict[tuple[int, int], _Known],
    ) -> Process:
        base = f"{self.proc}/{pid}"
        raw = self._get(f"{base}/stat")
        if raw == b"":
            raise _Gone
        stat = parse.proc_stat(raw) if raw is not None else None
        status = self._get(f"{base}/status")
        ident = self._identity(pid, base, stat, known) if stat is not None else _UNKNOWN
        adj = parse.to_int(self._get(f"{base}/oom_score_adj"))
        score = parse.to_int(self._get(f"{base}/oom_score"))
        uid, rss_anon, rss_file, rss_shmem, swap, pgtables = parse.status_fields(status) if status else _NO_STATUS
        return Process(
            pid=pid,
            comm=ident.comm,
            cgroup=members.get(pid) or self._cgroup(base, cgroups),
            oom_score_adj=0 if adj is None else adj,
            ppid=stat.ppid if stat else None,
            cmdline=ident.cmdline,
            uid=uid, rss_anon=rss_anon, rss_file=rss_file, rss_shmem=rss_shmem, swap=swap, pgtables=pgtables,
            oom_score=score,
            start_time=ident.start_time,
            kernel_thread=bool(stat and stat.flags & parse.PF_KTHREAD),
        )

    def _identity(
        self, pid: int, base: str, stat: parse.ProcStat, known: dict[tuple[int, int], _Known],
    ) -> _Known:
        key = (pid, stat.starttime)
        ident = self._known.get(key)
        if ident is None or ident.raw_comm != stat.comm:
            start = None if self._btime is None else self._btime + stat.starttime / self.ticks
            ident = _Known(stat.comm, parse.text(stat.comm), parse.cmdline(self._get(f"{base}/cmdline")), start)
        known[key] = ident
        return ident

    def _cgroup(self, base: str, cgroups: Collection[str]) -> str:
        """For a process no cgroup.procs listed: its /proc/PID/cgroup line."""
        if self.mode == "none":
            return ROOT
        path = parse.proc_cgroup(self._get(f"{base}/cgroup"), v1_memory=self.mode != "v2")
        return ROOT if path is None else nearest(path, cgroups)
