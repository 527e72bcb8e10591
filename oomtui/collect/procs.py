"""Every process (thread-group leader) from /proc, with what the OOM killer weighs.

Per process and sample: stat (identity, ppid, comm, flags), status (uid and
the RSS breakdown the badness formula uses), oom_score and oom_score_adj.

Between samples the reader keeps, per pid, the bytes it read and the
Process it made. When all four files read back byte for byte the same (an
idle process: the usual case on a host sampled every few seconds), the
previous Process is reused without parsing. stat holds the start time, so
a recycled pid never matches. cmdline and the start time do not change
while a process lives (exec aside, which renames comm), so they are
carried over under the identity (pid, start time) and cmdline is re-read
only when comm changes.

A first sample (nothing seen yet) on a host with many processes starts a
helper process (`helper.py`) reading the pids from the highest down while
we read from the lowest up; where the two meet we stop it. The split
follows whichever core is busier, and nothing waits on the helper: a pid
it did not finish is read here.

A process that exits mid-read is skipped (ENOENT/ESRCH); a file that is
unreadable for any other reason gives null. oom_score_adj, which the
format requires, falls back to the kernel's default 0 when unreadable.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Collection, Mapping
from functools import partial
from typing import NamedTuple

from oomtui.collect import parse
from oomtui.collect.files import Reader, read_file, read_or_none
from oomtui.collect.helper import FILES, GONE_ERRNOS, Fetched, Helper
from oomtui.collect.layout import CgroupLayout
from oomtui.model import ROOT, Process, parent_of

_GONE = (FileNotFoundError, ProcessLookupError)
_NO_STATUS = (None,) * 6
# Below this many processes a helper costs more to start (~10 ms) than it saves.
HELPER_ABOVE = 500
_POLL_EVERY = 32  # own processes between looks at the helper's progress


class _Gone(Exception):
    """The process exited while we read it."""


class Pending(NamedTuple):
    """A sample begun: the pids listed, and the helper reading them from the top, if any."""

    pids: list[int]
    helper: Helper | None


class _Seen(NamedTuple):
    raw: tuple[bytes | None, ...]  # stat, status, oom_score_adj, oom_score as read
    stat: parse.ProcStat | None
    process: Process


def nearest(path: str, known: Collection[str]) -> str:
    """The nearest cgroup at or above `path` that the snapshot lists."""
    current: str | None = path
    while current is not None and current not in known:
        current = parent_of(current)
    return current or ROOT


class ProcessReader:
    """`helper_above`: the process count above which a first sample uses a helper; None never does."""

    def __init__(self, proc: str, layout: CgroupLayout, read: Reader, helper_above: int | None = HELPER_ABOVE) -> None:
        self.proc = proc
        self.read = read
        self.mode = layout.mode
        self.ticks = os.sysconf("SC_CLK_TCK")
        self.helper_above = helper_above
        self._btime: int | None = None
        self._seen: dict[int, _Seen] = {}

    def begin(self) -> Pending:
        """List the pids and, on a first sample of many, start the helper.

        Called before the cgroup walk, so the helper reads while we walk.
        A reader other than read_file (tests faking failures) never gets a
        helper, which reads files by itself.
        """
        try:
            pids = sorted(int(n) for n in os.listdir(self.proc) if n.isdigit())
        except OSError:
            return Pending([], None)
        helper = None
        first = not self._seen and self.read is read_file
        if first and self.helper_above is not None and len(pids) > self.helper_above:
            with contextlib.suppress(OSError):  # no helper: we read everything ourselves
                helper = Helper(self.proc, pids[::-1])
        return Pending(pids, helper)

    def finish(self, pending: Pending, members: Mapping[int, str], cgroups: Collection[str]) -> list[Process]:
        """`members` maps pid to memory cgroup from cgroup.procs; `cgroups` lists the snapshot's paths."""
        if self._btime is None:
            self._btime = parse.btime(read_or_none(self.read, f"{self.proc}/stat"))
        pids, helper = pending
        fetched: dict[int, Fetched] = {}
        seen: dict[int, _Seen] = {}
        met = len(pids)  # where we stopped and the helper's reads take over
        for i, pid in enumerate(pids):
            if helper is not None and i % _POLL_EVERY == 0:
                fetched.update(helper.poll())
                if i + len(fetched) >= len(pids):
                    met = i
                    break
            try:
                seen[pid] = self._one(pid, members, cgroups)
            except _Gone:
                continue
        if helper is not None:
            fetched.update(helper.stop())
            for pid in pids[met:]:
                try:
                    seen[pid] = self._one(pid, members, cgroups, fetched.get(pid))
                except _Gone:
                    continue
        self._seen = seen
        return [seen[pid].process for pid in pids if pid in seen]

    def _get(self, path: str) -> bytes | None:
        try:
            return self.read(path)
        except _GONE:
            raise _Gone from None
        except OSError:
            return None

    def _one(
        self, pid: int, members: Mapping[int, str], cgroups: Collection[str], fetched: Fetched | None = None,
    ) -> _Seen:
        """One process, from the files the helper `fetched` for it, else read here."""
        base = f"{self.proc}/{pid}/"
        read_cmdline: Callable[[], bytes | None]
        if fetched is not None and len(fetched) == len(FILES):
            stat_raw, status, adj, score, cmdline = fetched
            if not (type(stat_raw) is type(status) is type(adj) is type(score) is type(cmdline) is bytes):
                stat_raw, status, adj, score, cmdline = map(_value, fetched)  # some file failed
            raw = (stat_raw, status, adj, score)
            read_cmdline = partial(_given, cmdline)
        elif fetched is not None and fetched and fetched[0] in GONE_ERRNOS:
            raise _Gone
        else:
            get = self._get
            stat_raw = get(base + "stat")
            raw = (stat_raw, get(base + "status"), get(base + "oom_score_adj"), get(base + "oom_score"))
            read_cmdline = partial(get, base + "cmdline")
        if stat_raw == b"":
            raise _Gone
        cgroup = members.get(pid) or self._cgroup(base, cgroups)
        prev = self._seen.get(pid)
        if prev is not None and prev.raw == raw and prev.process.cgroup == cgroup:
            return prev
        stat = parse.proc_stat(stat_raw) if stat_raw is not None else None
        cmdline, start_time = self._lasting(stat, prev, read_cmdline)
        uid, rss_anon, rss_file, rss_shmem, swap, pgtables = parse.status_fields(raw[1]) if raw[1] else _NO_STATUS
        adj = parse.to_int(raw[2])
        process = Process(
            pid=pid,
            comm=parse.text(stat.comm) if stat else "",
            cgroup=cgroup,
            oom_score_adj=0 if adj is None else adj,
            ppid=stat.ppid if stat else None,
            cmdline=cmdline,
            uid=uid, rss_anon=rss_anon, rss_file=rss_file, rss_shmem=rss_shmem, swap=swap, pgtables=pgtables,
            oom_score=parse.to_int(raw[3]),
            start_time=start_time,
            kernel_thread=bool(stat and stat.flags & parse.PF_KTHREAD),
        )
        return _Seen(raw, stat, process)

    def _lasting(
        self, stat: parse.ProcStat | None, prev: _Seen | None, read_cmdline: Callable[[], bytes | None],
    ) -> tuple[tuple[str, ...], float | None]:
        """cmdline and start time: carried over while the same process keeps its name, else read."""
        if stat is None:
            return (), None
        before = prev.stat if prev is not None else None
        if prev is not None and before is not None and (before.comm, before.starttime) == (stat.comm, stat.starttime):
            return prev.process.cmdline, prev.process.start_time
        start = None if self._btime is None else self._btime + stat.starttime / self.ticks
        if stat.flags & parse.PF_KTHREAD:
            return (), start  # a kernel thread has no command line to read
        return parse.cmdline(read_cmdline()), start

    def _cgroup(self, base: str, cgroups: Collection[str]) -> str:
        """For a process no cgroup.procs listed: its /proc/PID/cgroup line."""
        if self.mode == "none":
            return ROOT
        path = parse.proc_cgroup(self._get(base + "cgroup"), v1_memory=self.mode != "v2")
        return ROOT if path is None else nearest(path, cgroups)


def _value(item: bytes | int) -> bytes | None:
    """A file as the helper fetched it: its bytes, or None when unreadable; raises _Gone when the process exited."""
    if isinstance(item, bytes):
        return item
    if item in GONE_ERRNOS:
        raise _Gone
    return None


def _given(value: bytes | None) -> bytes | None:
    return value
