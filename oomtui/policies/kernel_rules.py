"""The kernel's per-process arithmetic, era by era (research/kernel-oom.md §1).

Pure helpers other policies reuse: who the kernel may pick, the badness it
computes in pages, and the order it scans a domain in (which breaks ties).
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import compress, count, islice
from operator import attrgetter, eq, le

from oomtui.model import ROOT, Process, Snapshot
from oomtui.policies import topmost
from oomtui.policies.carry import carried_columns, in_order

OOM_SCORE_ADJ_MIN = -1000
HOST_INIT = 1
_SKIPPED = -(1 << 62)  # below any score, the least of which is about minus the domain's pages


@dataclass(frozen=True, slots=True)
class Era:
    """Which rules a kernel release follows; each bound is the last release with the old rule."""

    version: tuple[int, int]

    @property
    def root_bonus(self) -> bool:  # CAP_SYS_ADMIN tasks lose 3 %, removed in 4.17
        return self.version <= (4, 16)

    @property
    def clamp(self) -> bool:  # eligible scores at least 1; signed since 5.9
        return self.version <= (5, 8)

    @property
    def first_wins(self) -> bool:  # ties kept the first scanned; the last wins since 5.3
        return self.version <= (5, 2)

    @property
    def sacrifice_child(self) -> bool:  # "prefer children over parent", removed in 5.1
        return self.version <= (5, 0)

    @property
    def has_oom_group(self) -> bool:  # memory.oom.group arrived in 4.19
        return self.version >= (4, 19)

    @property
    def approximate_rss(self) -> bool:  # per-CPU RSS counters read approximately since 6.2
        return self.version >= (6, 2)


def has_memory(process: Process) -> bool:
    """A process without an mm (a zombie, a kernel thread) shows no memory at all."""
    return process.footprint > 0


def eligible(process: Process) -> bool:
    """oom_evaluate_task's visible checks: host init, kernel threads, no mm, adj -1000."""
    return (
        process.pid != HOST_INIT
        and not process.kernel_thread
        and process.oom_score_adj != OOM_SCORE_ADJ_MIN
        and has_memory(process)
    )


@dataclass(frozen=True, slots=True)
class Badness:
    """oom_badness() with its parts, all in pages."""

    rss: int
    swap: int
    pgtables: int
    root_bonus: int
    adj_pages: int
    points: int


class Scorer:
    """oom_badness() for one domain budget and era, set up once per scan of up to 10,000 processes."""

    __slots__ = ("adj_unit", "clamp", "first_wins", "page", "root_bonus")

    def __init__(self, total_pages: int, page_size: int, era: Era) -> None:
        self.adj_unit = total_pages // 1000  # integer division first, as the kernel does
        self.page = page_size
        self.clamp = era.clamp
        self.root_bonus = era.root_bonus
        self.first_wins = era.first_wins

    def scan(self, order: Sequence[Process], best: int = 0, margin: int = 0) -> list[tuple[int, int]]:
        """(points, tiebreak) of every process `points` scores, where the larger pair is the one the kernel keeps.

        tiebreak is the position in `order`, negated where the first scanned
        wins ties, so `max` and `heapq.nlargest` rank without a key. With
        `best`, only the pairs that can be among the `best` largest or
        within `margin` points of the largest are kept. Every process's
        points are carried over to the next scan of a listing that differs
        in a few processes (policies/carry.py): a what-if edit's.
        """
        key = ("kernel points", self.page, self.adj_unit, self.clamp, self.root_bonus)
        (points,) = carried_columns(key, order, self._every)
        column = topmost.column(key, points)
        floor = _SKIPPED + 1
        if best and len(points) > best:
            top = column.largest(best + 1)
            if top[-1] > _SKIPPED:  # more than `best` scored
                floor = min(top[-2], top[0] - margin)
        sign = -1 if self.first_wins else 1
        return [(points[i], sign * i) for i in column.places_at_least(floor)]

    def _every(self, order: Sequence[Process]) -> tuple[array[int]]:
        """`points` of every process (_SKIPPED where it skips one), written out flat: 50,000 processes a sample."""
        page, unit, clamp, bonus = self.page, self.adj_unit, self.clamp, self.root_bonus
        out: list[int] = []
        append = out.append
        for p in order:
            adj = p.oom_score_adj
            if adj == OOM_SCORE_ADJ_MIN or p.kernel_thread or p.pid == HOST_INIT:
                append(_SKIPPED)
                continue
            anon, file, shmem = p.rss_anon, p.rss_file, p.rss_shmem
            if anon is not None and file is not None and shmem is not None:
                base = anon // page + file // page + shmem // page
            elif p.rss_total is not None:
                base = p.rss_total // page
            else:
                base = (anon or 0) // page + (file or 0) // page + (shmem or 0) // page
            if swap := p.swap:
                base += swap // page
            if pgtables := p.pgtables:
                base += pgtables // page
            if base == 0 and not has_memory(p):
                append(_SKIPPED)
                continue
            if bonus and p.uid == 0:
                base -= base * 3 // 100
            points = base + adj * unit
            append(1 if clamp and points < 1 else points)
        return (array("q", out),)

    def points(self, p: Process) -> int | None:
        """The score in pages, or None where oom_evaluate_task would skip the process."""
        if p.pid == HOST_INIT or p.kernel_thread or p.oom_score_adj == OOM_SCORE_ADJ_MIN:
            return None
        page = self.page
        base = self._rss(p) + (p.swap or 0) // page + (p.pgtables or 0) // page
        if base == 0 and not has_memory(p):
            return None
        return self._adjust(base, p)[2]

    def _rss(self, p: Process) -> int:
        """The kernel sums page counters, so each byte figure becomes pages on its own first."""
        page = self.page
        if p.rss_total is not None and None in (p.rss_anon, p.rss_file, p.rss_shmem):
            return p.rss_total // page  # a kernel log before 6.8 gives only the total
        return (p.rss_anon or 0) // page + (p.rss_file or 0) // page + (p.rss_shmem or 0) // page

    def _adjust(self, base: int, p: Process) -> tuple[int, int, int]:
        bonus = base * 3 // 100 if self.root_bonus and p.uid == 0 else 0
        adj_pages = p.oom_score_adj * self.adj_unit
        points = base - bonus + adj_pages
        return bonus, adj_pages, max(points, 1) if self.clamp else points

    def parts(self, p: Process) -> Badness:
        """The same score with its parts, for a process `points` found eligible."""
        page, rss = self.page, self._rss(p)
        swap, pgtables = (p.swap or 0) // page, (p.pgtables or 0) // page
        return Badness(rss, swap, pgtables, *self._adjust(rss + swap + pgtables, p))


def badness(process: Process, total_pages: int, page_size: int, version: tuple[int, int]) -> int | None:
    """The kernel's score in pages, or None when the kernel would never pick the process."""
    return Scorer(total_pages, page_size, Era(version)).points(process)


_START = attrgetter("start_time")
_PID = attrgetter("pid")


def fork_order(processes: Iterable[Process]) -> list[Process]:
    """Start time, then pid; where the start is unknown (a kernel log) the given order stands."""
    processes = tuple(processes)
    try:  # two stable sorts keyed in C: by pid, then by start time, where a None meets a comparison and raises
        return sorted(sorted(processes, key=_PID), key=_START)
    except TypeError:
        pass
    indexed = list(enumerate(processes))
    indexed.sort(key=lambda ip: (0, ip[1].start_time, ip[1].pid) if ip[1].start_time is not None else (1, ip[0]))
    return [p for _, p in indexed]


def scan_order(snapshot: Snapshot, domain: str) -> Sequence[Process]:
    """for_each_process (fork order) globally; a pre-order memcg walk, start order inside each cgroup.

    Where the listing is in fork order already, the snapshot's own tuple,
    whose points a scan carries over to the next evaluation.
    """
    listing = snapshot.processes
    if domain == ROOT:
        return listing if in_fork_order(listing) else fork_order(listing)
    if in_fork_order(listing):  # then so is each cgroup's
        return snapshot.processes_under(domain)
    order: list[Process] = []
    for path in snapshot.walk(domain):
        here = snapshot.processes_in(path)
        order.extend(fork_order(here) if len(here) > 1 else here)
    return order


def in_fork_order(listing: Sequence[Process]) -> bool:
    """Whether a listing is in fork order already, as a collector reading /proc in pid order usually finds it.

    Remembered for the last listing and checked only around the changes
    for a what-if view of it (carry.in_order): a group kill after a global
    scan then takes the cached subtree walk instead of sorting hundreds of
    cgroups.
    """
    return in_order("fork order", listing, _follows, _whole_fork_order)


def _whole_fork_order(listing: Sequence[Process]) -> bool:
    starts = list(map(_START, listing))
    try:  # start times never fall (an unknown one, None, raises); where two are equal, the pid rises
        return all(map(le, starts, islice(starts, 1, None))) and all(
            listing[i].pid < listing[i + 1].pid for i in compress(count(), map(eq, starts, islice(starts, 1, None)))
        )
    except TypeError:
        return False


def _follows(before: Process, after: Process) -> bool:
    """Whether `after` comes after `before` in fork order: a later start, or the same one and a higher pid."""
    a, b = before.start_time, after.start_time
    if a is None or b is None:
        return False
    return a < b or (a == b and before.pid < after.pid)
