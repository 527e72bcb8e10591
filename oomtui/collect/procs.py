"""Every process (thread-group leader) from /proc, with what the OOM killer weighs.

A process seen for the first time costs four reads: stat (start time,
ppid, comm, flags), status (uid and the RSS breakdown the badness formula
uses), oom_score_adj, and cmdline. After that a sample reads only what can
change on its own: status and oom_score_adj, and only oom_score_adj for a
process that stood still (below). Membership comes from the
cgroup side (`cgroups.py`), and oom_score is computed (`score.py`).

Identity. Listing /proc gives each /proc/PID directory's inode number for
free. The kernel makes that inode when the directory is first looked up
and drops it when the process is reaped, so a reused pid shows a new inode
and is read as a new process. The inode can also be remade for the same
process (its dentry evicted under memory pressure); then stat's start time
shows it is the same process, and it is simply read in full once more.

What changes without a new identity, and how each is seen:
- comm (exec, PR_SET_NAME) and ppid (reparenting): status's "Name:" and
  "PPid:" lines; a new Name re-reads stat for the raw comm.
- cmdline: exec, or a process writing over its own argv memory
  (setproctitle), which leaves no other trace. A process can only do that
  while it runs, and running moves its status (the context-switch
  counters), so cmdline is re-read whenever status changed. An idle
  process's status reads back byte for byte the same (less the "SigQ:"
  line, which counts the whole user's queued signals), and its previous
  record is reused without parsing. The counters are the leader thread's:
  another thread rewriting argv while the leader sleeps is seen once the
  leader runs.

Quiet processes. Where the unified cgroup hierarchy shows that nothing
moved since the last sample (no thread of the process ran, its memory
cgroup's counters and the host's reclaim counters stand still, its parent
is alive: `activity.py`), its status is not read and its last record
stands; every process is still read in full every activity.ROTATION
samples, and its oom_score_adj every sample.

Open files. On the live /proc, a process seen in a second sample keeps
its oom_score_adj open, and later samples re-read it with pread at offset
0: an open (a path walk through /proc) and a close cost more than the read
of so small a file. Such a file belongs to the process, not to the pid:
once it exits, reads fail with ESRCH, and a reused pid shows a new inode in
the listing and gets a file of its own. It is closed when the process goes
or the collector does; how many all collectors keep together stays within
the open-files limit (raised to its hard limit) less a reserve for the rest
of the program, and processes past that are read by path as before.
status is not kept open:
an open status holds a page-sized kernel buffer (4 KiB a process, on a
host short of memory), oom_score_adj nothing but the open file.

A process that exits mid-read is skipped (ENOENT/ESRCH); a file that is
unreadable for any other reason gives null. oom_score_adj, which the
format requires, falls back to the kernel's default 0 when unreadable.
"""

from __future__ import annotations

import os
import weakref
from collections.abc import Collection, Mapping
from typing import NamedTuple

from oomtui.collect import parse
from oomtui.collect.activity import NOTHING, ROTATION, Quiet
from oomtui.collect.files import CHUNK, FLAGS, Reader, close_all, kept, read_file, read_or_none, release, room
from oomtui.collect.host import boot_time
from oomtui.collect.layout import CgroupLayout
from oomtui.collect.score import FORMULA_SINCE, oom_score
from oomtui.model import ROOT, Process, parent_of

_GONE = (FileNotFoundError, ProcessLookupError)
_NO_STATUS = (None,) * 6


class _Gone(Exception):
    """The process exited while we read it."""


class _Known(NamedTuple):
    """What one sample leaves for the next, per pid."""

    inode: int  # of /proc/PID: another one means another process (or the same one, to be read afresh)
    stat: parse.ProcStat | None
    raw_status: bytes | None  # as first read: an idle process's reads back the same, which is quicker to tell
    status: bytes | None  # less the SigQ line
    adj: bytes | None
    process: Process


def nearest(path: str, known: Collection[str]) -> str:
    """The nearest cgroup at or above `path` that the snapshot lists."""
    current: str | None = path
    while current is not None and current not in known:
        current = parent_of(current)
    return current or ROOT


class ProcessReader:
    def __init__(self, proc: str, layout: CgroupLayout, read: Reader) -> None:
        self.proc = proc
        self.read = read
        self.mode = layout.mode
        self.ticks = os.sysconf("SC_CLK_TCK")
        self.page_size = os.sysconf("SC_PAGE_SIZE")
        self._btime: int | None = None
        self._computes_score: bool | None = None
        self._totalpages: int | None = None
        self._known: dict[int, _Known] = {}
        self._samples = 0  # which share of the quiet processes is read in full this sample (activity.ROTATION)
        # pid -> (inode of /proc/PID, its oom_score_adj's fd): see "Open files" above
        self._open: dict[int, tuple[int, int]] = {}
        live = read is read_file and os.path.realpath(proc) == "/proc"
        self._keeps = live
        weakref.finalize(self, close_all, self._open)

    def close(self) -> None:
        """Close the files kept open; the next sample reads by path (and opens them again)."""
        close_all(self._open)

    def read_all(
        self, members: Mapping[int, str], cgroups: Collection[str], mem_total: int | None, swap_total: int | None,
        quiet: Quiet = NOTHING,
    ) -> list[Process]:
        """`members` maps pid to memory cgroup from cgroup.procs; `cgroups` lists the snapshot's paths.

        `mem_total` and `swap_total` (bytes) give the totalpages oom_score is computed against;
        `quiet` says which known processes cannot have changed (activity.py): their status is not read.
        """
        if self._btime is None:
            self._btime = boot_time(self.proc, self.read)
        if self._computes_score is None:
            version = parse.kernel_version(read_or_none(self.read, f"{self.proc}/sys/kernel/osrelease"))
            self._computes_score = version is not None and version >= FORMULA_SINCE
        totalpages = None
        if self._computes_score and mem_total is not None:
            totalpages = (mem_total + (swap_total or 0)) // self.page_size
        rescore = totalpages != self._totalpages
        self._totalpages = totalpages
        try:
            with os.scandir(self.proc) as it:
                entries = [(int(e.name), e.inode()) for e in it if e.name.isdigit()]
        except OSError:
            entries = []
        entries.sort()
        known, read, proc, held = self._known, self.read, self.proc, self._open
        kept: dict[int, _Known] = {}
        pread = os.pread
        self._samples += 1
        turn = self._samples % ROTATION
        quiet_pids, quiet_memcgs = (quiet.pids, quiet.memcgs) if not rescore else ((), ())
        listed = {pid for pid, _ in entries} if quiet_pids else ()  # whose parents are alive
        for pid, inode in entries:
            prev = known.get(pid)
            try:
                if prev is None or prev.inode != inode:
                    kept[pid] = self._first(pid, inode, members, cgroups)
                    continue
                # The usual case written out (an idle process: both files as before), as it runs for every
                # process of every sample; anything else goes to _again. A process that stood still keeps its
                # status as last read: nothing that would change it moved, not it, not its memory, not its
                # parent (see activity.py).
                before = prev.process
                still = (pid in quiet_pids and (pid + turn) % ROTATION and before.cgroup in quiet_memcgs
                         and members.get(pid) == before.cgroup and (not before.ppid or before.ppid in listed)
                         and prev.raw_status is not None)
                base = f"{proc}/{pid}/"
                raw: bytes | None
                adj: bytes | None
                fd = held.get(pid)
                if fd is None or fd[0] != inode:
                    fd = self._hold(pid, inode, base)
                try:
                    raw = prev.raw_status if still else read(base + "status")
                    adj = read(base + "oom_score_adj") if fd is None else pread(fd[1], CHUNK, 0)
                except _GONE:
                    continue
                except OSError:
                    raw = prev.raw_status if still else self._get(base + "status")
                    adj = self._get(base + "oom_score_adj")
                # status as before, or as before but for SigQ (on a busy host root's moves every sample)
                same = raw == prev.raw_status or (raw is not None and parse.without_sigq(raw) == prev.status)
                if same and adj == prev.adj and members.get(pid) == prev.process.cgroup and not rescore:
                    kept[pid] = prev
                else:
                    kept[pid] = self._again(pid, prev, (raw, adj), members, cgroups, rescore)
            except _Gone:
                continue
        self._known = kept
        for pid in [pid for pid, (inode, _) in held.items() if (k := kept.get(pid)) is None or k.inode != inode]:
            release(held.pop(pid))
        return [k.process for k in kept.values()]

    def _hold(self, pid: int, inode: int, base: str) -> tuple[int, int] | None:
        """Open a known process's oom_score_adj to keep, where the limit leaves room."""
        old = self._open.pop(pid, None)
        if old is not None:
            release(old)
        if not self._keeps or room() <= 0:
            return None
        try:
            fd = os.open(base + "oom_score_adj", FLAGS)
        except OSError:
            return None
        self._open[pid] = held = kept(inode, fd)
        return held

    def _get(self, path: str) -> bytes | None:
        try:
            return self.read(path)
        except _GONE:
            raise _Gone from None
        except OSError:
            return None

    def _again(
        self, pid: int, prev: _Known, read: tuple[bytes | None, bytes | None], members: Mapping[int, str],
        cgroups: Collection[str], rescore: bool,
    ) -> _Known:
        """A process read before, whose status and oom_score_adj were `read`: more only where they say it changed."""
        base = f"{self.proc}/{pid}/"
        raw, adj = read
        status = prev.status if raw == prev.raw_status else parse.without_sigq(raw)
        cgroup = members.get(pid) or self._cgroup(base, cgroups)
        before = prev.process
        if status == prev.status and adj == prev.adj and cgroup == before.cgroup and not rescore:
            return prev
        stat, cmdline = prev.stat, before.cmdline
        if status != prev.status and stat is not None and not stat.flags & parse.PF_KTHREAD:
            if status is None or prev.status is None or parse.status_name(status) != parse.status_name(prev.status):
                stat_raw = self._get(base + "stat")
                if stat_raw == b"":
                    raise _Gone
                fresh = parse.proc_stat(stat_raw) if stat_raw is not None else None
                if fresh is None or fresh.starttime != stat.starttime:
                    return self._first(pid, prev.inode, members, cgroups)
                stat = fresh
            cmdline = parse.cmdline(self._get(base + "cmdline"))
        return self._record(pid, prev.inode, stat, (raw, status), adj, cmdline, before.start_time, cgroup)

    def _first(self, pid: int, inode: int, members: Mapping[int, str], cgroups: Collection[str]) -> _Known:
        """A process not seen before (or whose identity is in doubt): everything, once."""
        base = f"{self.proc}/{pid}/"
        stat_raw = self._get(base + "stat")
        if stat_raw == b"":
            raise _Gone
        stat = parse.proc_stat(stat_raw) if stat_raw is not None else None
        raw = self._get(base + "status")
        adj = self._get(base + "oom_score_adj")
        kthread = stat is not None and bool(stat.flags & parse.PF_KTHREAD)
        cmdline = () if stat is None or kthread else parse.cmdline(self._get(base + "cmdline"))
        start = None
        if stat is not None and self._btime is not None:
            start = self._btime + stat.starttime / self.ticks
        cgroup = members.get(pid) or self._cgroup(base, cgroups)
        return self._record(pid, inode, stat, (raw, parse.without_sigq(raw)), adj, cmdline, start, cgroup)

    def _record(
        self, pid: int, inode: int, stat: parse.ProcStat | None, statuses: tuple[bytes | None, bytes | None],
        adj_raw: bytes | None, cmdline: tuple[str, ...], start: float | None, cgroup: str,
    ) -> _Known:
        """`statuses`: status as read, and less its SigQ line."""
        raw, status = statuses
        uid, rss_anon, rss_file, rss_shmem, swap, pgtables = parse.status_fields(status) if status else _NO_STATUS
        adj = parse.to_int(adj_raw)
        kthread = bool(stat and stat.flags & parse.PF_KTHREAD)
        ppid = parse.status_ppid(status) if status else None
        process = Process(
            pid=pid,
            comm=parse.text(stat.comm) if stat else "",
            cgroup=cgroup,
            oom_score_adj=0 if adj is None else adj,
            ppid=ppid if ppid is not None or stat is None else stat.ppid,
            cmdline=cmdline,
            uid=uid, rss_anon=rss_anon, rss_file=rss_file, rss_shmem=rss_shmem, swap=swap, pgtables=pgtables,
            oom_score=self._score(pid, adj, kthread, rss_anon, rss_file, rss_shmem, swap, pgtables),
            start_time=start,
            kernel_thread=kthread,
        )
        return _Known(inode, stat, raw, status, adj_raw, process)

    def _score(self, pid: int, adj: int | None, kthread: bool, *sizes: int | None) -> int | None:
        """oom_score by the kernel's formula where its inputs are known, else read (see score.py)."""
        totalpages = self._totalpages
        if kthread and totalpages is not None:
            return 0
        if totalpages is None or pid == 1 or adj is None or None in sizes:
            return parse.to_int(read_or_none(self.read, f"{self.proc}/{pid}/oom_score"))
        pages = sum(size for size in sizes if size is not None) // self.page_size
        return oom_score(pages, adj, totalpages)

    def _cgroup(self, base: str, cgroups: Collection[str]) -> str:
        """For a process no cgroup.procs listed: its /proc/PID/cgroup line."""
        if self.mode == "none":
            return ROOT
        path = parse.proc_cgroup(self._get(base + "cgroup"), v1_memory=self.mode != "v2")
        return ROOT if path is None else nearest(path, cgroups)
