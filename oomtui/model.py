"""The snapshot model: one host's memory state at one moment.

Everything is immutable so a snapshot can be shared between the refresh
worker, the policies and the UI without copies or locks. Tree queries are
answered from an index built once per snapshot, because the TUI re-runs
every policy on each keypress and a 10,000-process host must stay fast.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from itertools import chain, compress, count, repeat
from operator import attrgetter, is_
from types import MappingProxyType
from typing import Literal

CgroupMode = Literal["v2", "v1", "hybrid", "none"]
Source = Literal["live", "kernel-log", "synthetic"]
WorkloadKind = Literal["k8s-pod", "k8s-container", "container", "unit"]
WorkloadSource = Literal["path", "pod-logs", "runtime"]
KillerName = Literal["earlyoom", "nohang", "systemd-oomd", "oomd", "kubelet"]
WORKLOAD_KINDS: tuple[str, ...] = ("k8s-pod", "k8s-container", "container", "unit")
WORKLOAD_SOURCES: tuple[str, ...] = ("path", "pod-logs", "runtime")
QOS_CLASSES: tuple[str, ...] = ("Guaranteed", "Burstable", "BestEffort")
KILLER_NAMES: tuple[str, ...] = ("earlyoom", "nohang", "systemd-oomd", "oomd", "kubelet")
ROOT = "/"

_EMPTY: Mapping = MappingProxyType({})
_PID = attrgetter("pid")


class Derived(tuple):
    """A view's listing: its `origin` (a sample's listing) with other processes at `places`, ascending.

    The lineage travels with the listing, so what was worked out over the
    origin is carried over by touching the few places only
    (policies/carry.py): a pass telling 50,000 places apart costs more
    than most policies' whole work on an edit.
    """

    origin: tuple
    places: list[int]


def _derived(origin: tuple, swaps: dict[int, Process]) -> Derived:
    """`origin` with the process at each place swapped."""
    listing = list(origin)
    for i, p in swaps.items():
        listing[i] = p
    out = Derived(listing)
    out.origin, out.places = origin, sorted(swaps)
    return out


def _empty() -> Mapping:
    return _EMPTY


def frozen_map(data: Mapping | None) -> Mapping:
    """A read-only view, so a frozen dataclass stays frozen all the way down."""
    if not data:
        return _EMPTY
    return MappingProxyType(dict(data))


@dataclass(frozen=True, slots=True)
class PressureLine:
    """One PSI line; a number may be unknown (None) where a file's writer kept only some of them."""

    avg10: float | None
    avg60: float | None
    avg300: float | None
    total: int | None


@dataclass(frozen=True, slots=True)
class Pressure:
    some: PressureLine | None
    full: PressureLine | None


@dataclass(frozen=True, slots=True)
class Sysctl:
    overcommit_memory: int | None = None
    panic_on_oom: int | None = None
    oom_kill_allocating_task: int | None = None


@dataclass(frozen=True, slots=True)
class Killer:
    """An OOM killer found running (or configured) on the host, with the settings in force.

    `settings` uses the matching policy's option names, so a postmortem can
    re-run the policy as it was configured; `source` says where they were read.
    """

    name: KillerName
    pid: int | None = None
    settings: Mapping[str, str] = field(default_factory=_empty)
    source: str = ""


@dataclass(frozen=True, slots=True)
class Host:
    hostname: str
    kernel: str | None
    page_size: int
    mem_total: int | None
    mem_available: int | None
    swap_total: int | None
    swap_free: int | None
    cgroup_mode: CgroupMode
    psi: Pressure | None = None
    sysctl: Sysctl = field(default_factory=Sysctl)
    killers: tuple[Killer, ...] | None = None  # None: not looked for; (): looked for, none found


@dataclass(frozen=True, slots=True)
class Trend:
    """What one sample cannot show, carried over from earlier samples."""

    interval: float | None = None
    memory_current_prev: int | None = None
    memory_current_avg: int | None = None
    pgscan_prev: int | None = None
    pressure_full_avg10_above_since: float | None = None


@dataclass(frozen=True, slots=True)
class Workload:
    """Who runs in a cgroup, in its users' words: a pod, a container, a unit.

    Set on the cgroup that is the workload, not on its ancestors; fields
    nobody could read stay None rather than guessed.
    """

    kind: WorkloadKind
    name: str
    namespace: str | None = None
    pod: str | None = None
    pod_uid: str | None = None
    qos: str | None = None
    container: str | None = None
    container_id: str | None = None
    runtime: str | None = None
    image: str | None = None
    source: WorkloadSource = "path"


@dataclass(frozen=True, slots=True)
class Cgroup:
    path: str
    memory_current: int | None = None
    memory_max: int | None = None
    memory_high: int | None = None
    memory_low: int | None = None
    memory_min: int | None = None
    swap_current: int | None = None
    swap_max: int | None = None
    oom_group: bool | None = None
    stat: Mapping[str, int] = field(default_factory=_empty)
    events: Mapping[str, int] = field(default_factory=_empty)
    pressure: Pressure | None = None
    xattrs: Mapping[str, str] = field(default_factory=_empty)
    owner_uid: int | None = None
    populated: bool | None = None
    trend: Trend | None = None
    swappiness: int | None = None
    workload: Workload | None = None

    @property
    def name(self) -> str:
        return "/" if self.path == ROOT else self.path.rsplit("/", 1)[1]

    @property
    def parent_path(self) -> str | None:
        return parent_of(self.path)


@dataclass(frozen=True, slots=True)
class Process:
    pid: int
    comm: str
    cgroup: str
    oom_score_adj: int = 0
    ppid: int | None = None
    cmdline: tuple[str, ...] = ()
    uid: int | None = None
    rss_anon: int | None = None
    rss_file: int | None = None
    rss_shmem: int | None = None
    swap: int | None = None
    pgtables: int | None = None
    oom_score: int | None = None
    start_time: float | None = None
    kernel_thread: bool = False
    rss_total: int | None = None  # the resident total where its split is unknown (kernel logs before 6.8)
    _footprint: int | None = field(default=None, init=False, repr=False, compare=False)  # see `footprint`

    @property
    def rss(self) -> int | None:
        """RssAnon + RssFile + RssShmem, else the known total, else None."""
        anon, file, shmem = self.rss_anon, self.rss_file, self.rss_shmem
        if anon is None or file is None or shmem is None:
            return self.rss_total
        return anon + file + shmem

    @property
    def footprint(self) -> int:
        """What the kernel counts for badness, in bytes; unknown parts count 0.

        Written out flat and kept once worked out (a process is immutable):
        every policy reads it for every process of a sample, and at 50,000
        processes reading the five sizes again cost a third of an evaluation.
        """
        known = self._footprint
        if known is not None:
            return known
        anon, file, shmem = self.rss_anon, self.rss_file, self.rss_shmem
        if anon is not None and file is not None and shmem is not None:
            rss = anon + file + shmem
        elif self.rss_total is not None:
            rss = self.rss_total
        else:
            rss = (anon or 0) + (file or 0) + (shmem or 0)
        total = rss + (self.swap or 0) + (self.pgtables or 0)
        object.__setattr__(self, "_footprint", total)
        return total


@dataclass(frozen=True, slots=True)
class OomEvent:
    kind: Literal["global", "memcg"]
    domain: str
    total_pages: int | None = None
    killed_pid: int | None = None
    killed_comm: str | None = None
    group_killed_pids: tuple[int, ...] = ()
    raw: str | None = None


@dataclass(frozen=True, slots=True)
class CgroupEdit:
    interdependent: bool | None = None
    score: int | None = None
    xattrs: Mapping[str, str | None] = field(default_factory=_empty)


@dataclass(frozen=True, slots=True)
class ProcessEdit:
    oom_score_adj: int | None = None


@dataclass(frozen=True, slots=True)
class WhatIf:
    cgroups: Mapping[str, CgroupEdit] = field(default_factory=_empty)
    processes: Mapping[int, ProcessEdit] = field(default_factory=_empty)

    def is_empty(self) -> bool:
        return not self.cgroups and not self.processes


def parent_of(path: str) -> str | None:
    if path == ROOT:
        return None
    head = path.rsplit("/", 1)[0]
    return head or ROOT


def is_within(path: str, ancestor: str) -> bool:
    """Whether `path` is `ancestor` or lies below it."""
    if ancestor == ROOT:
        return True
    return path == ancestor or path.startswith(ancestor + "/")


class Snapshot:
    """A host at one moment, with tree queries answered from a one-time index."""

    __slots__ = (
        "_base",
        "_by_path",
        "_by_pid",
        "_children",
        "_edited",
        "_homes",
        "_places",
        "_procs_in",
        "_starts",
        "_subtree_procs",
        "_subtree_sizes",
        "_swapped",
        "cgroups",
        "host",
        "oom_event",
        "processes",
        "source",
        "taken_at",
        "whatif",
    )
    # Declared for readers and the type checker; set once in __init__ (or with_replaced) and never again.
    taken_at: float | None
    source: Source
    host: Host
    cgroups: tuple[Cgroup, ...]
    processes: tuple[Process, ...]
    oom_event: OomEvent | None
    whatif: WhatIf
    _by_path: Mapping[str, Cgroup]
    _children: Mapping[str, tuple[str, ...]]
    _procs_in: Mapping[str, tuple[Process, ...]]
    _by_pid: Mapping[int, Process]
    _subtree_procs: dict[str, tuple[Process, ...]]
    _subtree_sizes: dict[str, int]
    # A view's lineage: the sample it was made from and, by pid, its processes that stand in for the
    # sample's, with their cgroups; a sample's own: None and empty.
    _base: Snapshot | None
    _swapped: Mapping[int, Process]
    _homes: Mapping[int, str]
    _edited: frozenset[str]  # cgroups replaced or holding a swapped process
    _places: dict[int, int]  # a sample's: each process's place in `processes`, by id (made for its first view)
    _starts: dict[str, int]  # a sample's: where each cgroup's processes start in processes_under(ROOT)

    def __init__(
        self,
        *,
        host: Host,
        cgroups: tuple[Cgroup, ...],
        processes: tuple[Process, ...],
        taken_at: float | None = None,
        source: Source = "live",
        oom_event: OomEvent | None = None,
        whatif: WhatIf | None = None,
    ) -> None:
        by_path = {c.path: c for c in cgroups}
        if ROOT not in by_path:
            root = Cgroup(path=ROOT)
            cgroups = (root, *cgroups)
            by_path[ROOT] = root
        children: dict[str, list[str]] = {path: [] for path in by_path}
        for c in cgroups:
            parent = parent_of(c.path)
            while parent is not None and parent not in by_path:
                parent = parent_of(parent)
            if parent is not None:
                children[parent].append(c.path)
        procs_in: dict[str, list[Process]] = {}
        for p in processes:
            home: str | None = p.cgroup
            while home is not None and home not in by_path:
                home = parent_of(home)
            procs_in.setdefault(home or ROOT, []).append(p)
        object.__setattr__(self, "taken_at", taken_at)
        for name, value in (
            ("source", source),
            ("host", host),
            ("cgroups", tuple(cgroups)),
            ("processes", tuple(processes)),
            ("oom_event", oom_event),
            ("whatif", whatif or WhatIf()),
            ("_by_path", by_path),
            ("_children", {k: tuple(v) for k, v in children.items()}),
            ("_procs_in", {k: tuple(v) for k, v in procs_in.items()}),
            ("_by_pid", {p.pid: p for p in processes}),
            ("_subtree_procs", {}),
            ("_subtree_sizes", {}),
            ("_base", None),
            ("_swapped", _EMPTY),
            ("_homes", _EMPTY),
            ("_edited", frozenset()),
            ("_places", {}),
            ("_starts", {}),
        ):
            object.__setattr__(self, name, value)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("Snapshot is immutable")

    def replace(self, **changes: object) -> Snapshot:
        """A new snapshot with some top-level fields changed."""
        fields = {
            "host": self.host,
            "cgroups": self.cgroups,
            "processes": self.processes,
            "taken_at": self.taken_at,
            "source": self.source,
            "oom_event": self.oom_event,
            "whatif": self.whatif,
        }
        fields.update(changes)
        return Snapshot(**fields)  # type: ignore[arg-type]

    def with_replaced(
        self,
        cgroups: Mapping[str, Cgroup],
        processes: Mapping[int, Process],
        whatif: WhatIf,
    ) -> Snapshot:
        """A view where some cgroups and processes are swapped for edited copies.

        Paths and pids stay the same, so the tree index is reused: a few
        what-if edits on a 50,000-process host cost a few dict copies, not a
        re-index. A view of a view is made from the same sample, and its
        listings are `Derived` from the sample's.
        """
        base = self._base or self
        by_path = self._by_path
        cgroup_list = self.cgroups
        changed_cgroups = {k: v for k, v in cgroups.items() if k in by_path and v.path == k}
        if changed_cgroups:
            by_path = {**by_path, **changed_cgroups}
            cgroup_list = tuple(by_path[c.path] for c in self.cgroups)
        by_pid = self._by_pid
        process_list = self.processes
        procs_in = self._procs_in
        subtree_cache, sizes_cache = self._subtree_procs, self._subtree_sizes
        swapped, homes, edited = self._swapped, self._homes, self._edited.union(changed_cgroups)
        changed = {
            pid: p for pid, p in processes.items() if pid in by_pid and p.pid == pid and p.cgroup == by_pid[pid].cgroup
        }
        if changed:
            by_pid = {**by_pid, **changed}
            swapped = {**swapped, **changed}
            homes = dict(homes)
            procs_in = dict(procs_in)
            for pid, p in changed.items():
                home = homes[pid] = self._home(p.cgroup)
                procs_in[home] = tuple(changed.get(q.pid, q) for q in procs_in[home])
            process_list = base._swapped_in(swapped)
            edited = edited.union(homes.values())
            subtree_cache, sizes_cache = {}, {}
        view = object.__new__(Snapshot)
        for name, value in (
            ("taken_at", self.taken_at),
            ("source", self.source),
            ("host", self.host),
            ("cgroups", cgroup_list),
            ("processes", process_list),
            ("oom_event", self.oom_event),
            ("whatif", whatif),
            ("_by_path", by_path),
            ("_children", self._children),
            ("_procs_in", procs_in),
            ("_by_pid", by_pid),
            ("_subtree_procs", subtree_cache),
            ("_subtree_sizes", sizes_cache),
            ("_base", base),
            ("_swapped", swapped),
            ("_homes", homes),
            ("_edited", edited),
            ("_places", {}),
            ("_starts", {}),
        ):
            object.__setattr__(view, name, value)
        return view

    def _home(self, path: str) -> str:
        """The cgroup a process of `path` is listed in: the nearest one the snapshot holds."""
        home: str | None = path
        while home is not None and home not in self._by_path:
            home = parent_of(home)
        return home or ROOT

    def _swapped_in(self, swapped: Mapping[int, Process]) -> tuple[Process, ...]:
        """This sample's `processes` with those of these pids swapped."""
        if len(self._by_pid) != len(self.processes):  # a pid listed twice (a broken file): each is swapped
            return tuple(map(swapped.get, map(_PID, self.processes), self.processes))
        return _derived(self.processes, {self._place_of(self._by_pid[pid]): p for pid, p in swapped.items()})

    def _place_of(self, process: Process) -> int:
        """The place of one of this sample's processes in `processes`: found by pid where the listing is
        in pid order (as collectors read /proc), else from an index by identity made once."""
        listing = self.processes
        at = bisect_left(listing, process.pid, key=_PID)
        if at < len(listing) and listing[at] is process:
            return at
        if not self._places:
            self._places.update(zip(map(id, listing), count(), strict=False))  # in C
        return self._places[id(process)]

    def start_under(self, path: str, cgroup: str) -> int | None:
        """Where `cgroup`'s own processes start in `processes_under(path)`; None where it is not below it.

        A pre-order walk lists a subtree together, so that is the cgroup's
        start in `processes_under(ROOT)` less the path's; those starts are
        made once for a sample and its views (their cgroups hold as many).
        """
        sample = self._base or self
        starts = sample._starts
        if not starts:
            at = 0
            for c in sample.walk(ROOT):
                starts[c] = at
                at += len(sample._procs_in.get(c, ()))
        top, here = starts.get(path), starts.get(cgroup)
        return None if top is None or here is None or not is_within(cgroup, path) else here - top

    # -- lookups -----------------------------------------------------------

    def cgroup(self, path: str) -> Cgroup | None:
        return self._by_path.get(path)

    def process(self, pid: int) -> Process | None:
        return self._by_pid.get(pid)

    def children(self, path: str) -> tuple[str, ...]:
        """Child cgroup paths in snapshot order (the kernel's creation order when live)."""
        return self._children.get(path, ())

    def ancestors(self, path: str) -> list[str]:
        """From the parent up to the root, nearest first."""
        out = []
        parent = parent_of(path)
        while parent is not None:
            if parent in self._by_path:
                out.append(parent)
            parent = parent_of(parent)
        return out

    def processes_in(self, path: str) -> tuple[Process, ...]:
        """Processes whose memory cgroup is exactly `path`."""
        return self._procs_in.get(path, ())

    def walk(self, path: str = ROOT) -> Iterator[str]:
        """Pre-order walk of the subtree, as the kernel's memcg iterator visits it."""
        stack = [path]
        while stack:
            current = stack.pop()
            yield current
            stack.extend(reversed(self._children.get(current, ())))

    def processes_under(self, path: str) -> tuple[Process, ...]:
        """Processes in the subtree, in pre-order cgroup walk order (a view's: its sample's, `Derived`)."""
        cached = self._subtree_procs.get(path)
        if cached is None:
            if (base := self._lineage()) is not None:
                origin = base.processes_under(path)
                swaps = {i: new for i, _, new in self._swaps_under(base, path)}
                cached = _derived(origin, swaps) if swaps else origin
            else:
                cached = tuple(chain.from_iterable(map(self._procs_in.get, self.walk(path), repeat(()))))
            self._subtree_procs[path] = cached
        return cached

    def subtree_footprint(self, path: str) -> int:
        """Sum of the kernel footprints of every process in the subtree, in bytes (kept, as the subtree is)."""
        size = self._subtree_sizes.get(path)
        if size is None:
            if (base := self._lineage()) is not None:
                size = base.subtree_footprint(path) + sum(
                    new.footprint - old.footprint
                    for _, old, new in self._swaps_under(base, path))
            else:
                size = sum(p.footprint for p in self.processes_under(path))
            self._subtree_sizes[path] = size
        return size

    def lineage(self) -> tuple[Snapshot, frozenset[str]] | None:
        """The sample this view was made from, and the cgroups where the two differ: each one edited or
        holding an edited process. None for a sample.

        What a policy worked out for a part of the sample's tree that holds
        none of these stands for the view's too.
        """
        base = self._base
        return None if base is None or base is self else (base, self._edited)

    def _lineage(self) -> Snapshot | None:
        """The sample this view stands in for with some processes swapped; None for a sample or a view of
        cgroup edits only."""
        base = self._base
        if base is None or base is self or not self._swapped or len(base._by_pid) != len(base.processes):
            return None  # a pid listed twice (a broken file): its listings are made afresh
        return base

    def _swaps_under(self, base: Snapshot, path: str) -> Iterator[tuple[int, Process, Process]]:
        """(place in the sample's `processes_under(path)`, the sample's process, this view's) of each
        swapped process under `path`."""
        for pid, new in self._swapped.items():
            home = self._homes[pid]
            start = base.start_under(path, home)
            if start is not None:
                old = base._by_pid[pid]
                i = next(compress(count(), map(is_, base._procs_in.get(home, ()), repeat(old))), None)
                if i is not None:
                    yield start + i, old, new

    def limited_cgroups(self) -> list[str]:
        """Cgroups that can be an OOM domain of their own: those with a limit."""
        return [c.path for c in self.cgroups if c.path != ROOT and c.memory_max is not None]

    def domains(self) -> list[str]:
        return [ROOT, *self.limited_cgroups()]

    def workload_of(self, path: str) -> Workload | None:
        """The workload of the cgroup or of its nearest ancestor that has one."""
        current: str | None = path
        while current is not None:
            c = self._by_path.get(current)
            if c is not None and c.workload is not None:
                return c.workload
            current = parent_of(current)
        return None

    def domain_of(self, path: str) -> str:
        """The nearest limited cgroup at or above `path`, or the root."""
        current: str | None = path
        while current is not None and current != ROOT:
            c = self._by_path.get(current)
            if c is not None and c.memory_max is not None:
                return current
            current = parent_of(current)
        return ROOT
