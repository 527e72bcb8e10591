"""What the tree shows, decided without Textual: rows, children in order, filter.

The widget only diffs these answers against its nodes, so the rules (sort
keys, what a filter keeps, which cgroups a filter opens) are tested as
plain functions.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field

from oomtui import whatif, workloads
from oomtui.model import ROOT, Process, Snapshot, parent_of
from oomtui.tui.evaluation import Evaluation, Marks
from oomtui.tui.labels import CgroupRow, ProcessRow

SORTS = ("memory", "badness", "name")


@dataclass(frozen=True, slots=True)
class CgroupKey:
    """A cgroup's row: its path names it."""

    path: str


@dataclass(frozen=True, slots=True)
class ProcessKey:
    """A process's row: pid and start time, so a recycled pid is another row."""

    pid: int
    start_time: float | None


NodeKey = CgroupKey | ProcessKey


def cgroup_key(path: str) -> CgroupKey:
    return CgroupKey(path)


def process_key(p: Process) -> ProcessKey:
    return ProcessKey(p.pid, p.start_time)


def _or_least(points: int | None) -> int:
    return -(1 << 62) if points is None else points


def home_of(snap: Snapshot, p: Process) -> str:
    """The cgroup a process is listed under: its own, or the nearest one the snapshot has."""
    path: str | None = p.cgroup
    while path is not None and snap.cgroup(path) is None:
        path = parent_of(path)
    return path or ROOT


def _matches_process(p: Process, needle: str) -> bool:
    return needle in str(p.pid) or needle in p.comm.lower() or needle in " ".join(p.cmdline).lower()


@dataclass(frozen=True, slots=True)
class TreeModel:
    evaluation: Evaluation
    marks: Marks
    sort: str = "memory"
    needle: str = ""
    kill_recent: Collection[str] = frozenset()
    kernel_threads: bool = False  # hidden by default, as htop does: they are never OOM victims
    visible: tuple[frozenset[str], frozenset[int]] | None = None  # what a filter keeps; None: all
    raw_names: bool = False  # cgroup rows show the path's last part, not the workload's name
    # Killed processes no longer in the sample ("ghosts"), shown dimmed with K in their cgroup as last seen.
    ghosts: Mapping[ProcessKey, Process] = field(default_factory=dict)
    ghost_homes: Mapping[str, tuple[Process, ...]] = field(default_factory=dict)

    @classmethod
    def build(cls, evaluation: Evaluation, marks: Marks, sort: str = "memory", needle: str = "",
              kill_recent: Collection[str] = frozenset(), kernel_threads: bool = False,
              raw_names: bool = False, ghosts: Collection[Process] = ()) -> TreeModel:
        view = evaluation.view
        gone = {process_key(g): g for g in ghosts if not _running(view, process_key(g))}
        homes: dict[str, tuple[Process, ...]] = {}
        for g in gone.values():
            home = home_of(view, g)
            homes[home] = (*homes.get(home, ()), g)
        visible = filter_visible(view, needle, gone.values()) if needle else None
        return cls(evaluation, marks, sort, needle, kill_recent, kernel_threads, visible, raw_names, gone, homes)

    def cgroup_name(self, path: str) -> str:
        """The name a cgroup's row shows: its workload's, with a QoS badge on pods (a container under its
        pod's row by its own name alone, as the narrow column needs), unless raw names are asked for."""
        view = self.evaluation.view
        if self.raw_names:
            return workloads.raw_name(path)
        w = workloads.own_workload(view, path)
        parent = parent_of(path)
        pod = workloads.own_workload(view, parent) if parent is not None else None
        if w is not None and w.kind == "k8s-container" and pod is not None and w.name.startswith(pod.name + "/"):
            return w.name.removeprefix(pod.name + "/")  # under its pod's row, which has the name and badge
        return workloads.tree_label(view, path)

    def _procs(self, path: str) -> list[Process]:
        procs = [*self.evaluation.view.processes_in(path), *self.ghost_homes.get(path, ())]
        if self.ghosts:  # a killed process its parent has not reaped yet: its ghost stands in for it
            procs = [p for p in procs if process_key(p) not in self.ghosts or p is self.ghosts[process_key(p)]]
        if self.kernel_threads:
            return procs
        return [p for p in procs if not p.kernel_thread]

    def opened_by_filter(self) -> set[str]:
        """Cgroups a filter opens so its matches are on screen."""
        visible = self.visible
        if visible is None:
            return set()
        return {path for path in visible[0] if self.children(path)}

    # -- order ----------------------------------------------------------------

    def _cgroup_sort_key(self, path: str) -> tuple:
        snap = self.evaluation.view
        if self.sort == "name":
            return (self.cgroup_name(path).lower(), path)
        if self.sort == "badness":
            best = max((_or_least(self.evaluation.badness(p.pid)) for p in snap.processes_under(path)),
                       default=-(1 << 62))
            return (-best, path)
        c = snap.cgroup(path)
        size = c.memory_current if c is not None and c.memory_current is not None else snap.subtree_footprint(path)
        return (-size, path)

    def _process_sort_key(self, p: Process) -> tuple:
        if self.sort == "name":
            return (p.comm.lower(), p.pid)
        if self.sort == "badness":
            gone = process_key(p) in self.ghosts
            return (-_or_least(None if gone else self.evaluation.badness(p.pid)), p.pid)
        return (-p.footprint, p.pid)

    def children(self, path: str) -> list[NodeKey]:
        """Child cgroups, then the cgroup's own processes, each in the chosen order."""
        snap = self.evaluation.view
        visible = self.visible
        kids = list(snap.children(path))
        procs = self._procs(path)
        if visible is not None:
            kids = [k for k in kids if k in visible[0]]
            procs = [p for p in procs if p.pid in visible[1]]
        kids.sort(key=self._cgroup_sort_key)
        procs.sort(key=self._process_sort_key)
        return [cgroup_key(k) for k in kids] + [process_key(p) for p in procs]

    def expandable(self, path: str) -> bool:
        snap = self.evaluation.view
        if self.visible is None:  # asked of every shown cgroup on every paint: no lists built
            return bool(snap.children(path)) or path in self.ghost_homes or any(
                self.kernel_threads or not p.kernel_thread for p in snap.processes_in(path))
        return bool(self.children(path))

    def path_to(self, key: NodeKey) -> list[str] | None:
        """Cgroups from the root down to the one holding `key` (exclusive of a cgroup key itself)."""
        snap = self.evaluation.view
        if isinstance(key, CgroupKey):
            if snap.cgroup(key.path) is None:
                return None
            return list(reversed(snap.ancestors(key.path)))
        p = self.ghosts.get(key) or (snap.process(key.pid) if _present(snap, key) else None)
        if p is None:
            return None
        home = home_of(snap, p)
        return [*reversed(snap.ancestors(home)), home]

    # -- rows -----------------------------------------------------------------

    def cgroup_row(self, path: str, depth: int) -> CgroupRow | None:
        ev = self.evaluation
        c = ev.applied.cgroup(path)
        if c is None:
            return None
        edit = ev.view.whatif.cgroups.get(path)
        return CgroupRow(
            cgroup=ev.view.cgroup(path) or c,
            name=self.cgroup_name(path),
            depth=depth,
            expandable=self.expandable(path),
            interdependent=whatif.is_interdependent(ev.view, path),
            score=None if edit is None else edit.score,
            edited=edit is not None,
            domain=path == ev.domain and path != ROOT,
            dies_whole=self.marks.victim_cgroup == path,
            holds_victim=path in self.marks.holds,
            kill_recent=path in self.kill_recent,
        )

    def process_row(self, pid: int, depth: int) -> ProcessRow | None:
        ev = self.evaluation
        p = ev.view.process(pid)
        applied = ev.applied.process(pid)
        if p is None or applied is None:
            return None
        return ProcessRow(
            process=p,
            depth=depth,
            adj=applied.oom_score_adj,
            adj_edited=pid in ev.view.whatif.processes,
            badness=ev.badness(pid),
            dies=pid in self.marks.dies,
            victim=pid == self.marks.victim_pid,
            actual=pid in self.marks.actual,
        )

    def row_of(self, key: ProcessKey, depth: int) -> ProcessRow | None:
        """The row of that very process: the living one, or its ghost after a kill; None if it is neither."""
        g = self.ghosts.get(key)
        if g is None:
            return self.process_row(key.pid, depth) if _present(self.evaluation.view, key) else None
        return ProcessRow(process=g, depth=depth, adj=g.oom_score_adj, adj_edited=False, badness=None, dies=False,
                          victim=False, actual=True, gone=True)


def _present(snap: Snapshot, key: ProcessKey) -> bool:
    """That very process is in the sample, not another that took its pid."""
    p = snap.process(key.pid)
    return p is not None and p.start_time == key.start_time


def _running(snap: Snapshot, key: ProcessKey) -> bool:
    """Present with memory: a killed process that is gone, or a zombie not yet reaped, is not."""
    p = snap.process(key.pid)
    return _present(snap, key) and p is not None and (p.kernel_thread or p.footprint > 0)


def filter_visible(snap: Snapshot, needle: str,
                   ghosts: Collection[Process] = ()) -> tuple[frozenset[str], frozenset[int]]:
    """A process (or a killed one's ghost) is kept when it matches or sits in a matching cgroup's subtree;
    cgroups are kept when they match (raw path or any workload name), lie below a match, or lead to something kept."""
    needle = needle.lower()
    matched = {c.path for c in snap.cgroups if workloads.matches(snap, c.path, needle)}
    cgroups = {c.path for c in snap.cgroups if c.path in matched or any(a in matched for a in snap.ancestors(c.path))}
    pids: set[int] = set()
    for p in (*snap.processes, *ghosts):
        home = home_of(snap, p)
        if home in cgroups or _matches_process(p, needle):
            pids.add(p.pid)
            cgroups.add(home)
    for path in list(cgroups):
        cgroups.update(snap.ancestors(path))
    return frozenset(cgroups), frozenset(pids)


@dataclass(frozen=True, slots=True)
class Line:
    """One shown row of the tree, before any label is made.

    `guides[i]` says whether a later sibling follows at depth i + 1, which
    decides the `│` drawn in that column; `last` whether this row is the
    last of its siblings.
    """

    key: NodeKey
    depth: int
    guides: tuple[bool, ...] = ()
    last: bool = True
    expandable: bool = False
    expanded: bool = False
    parent: int = -1  # the line number of the parent cgroup; -1 for the root


def flatten(model: TreeModel, opened: Collection[str]) -> tuple[Line, ...]:
    """Every row shown when the cgroups in `opened` are open, in screen order.

    Only keys and the tree's shape are computed here; labels are made by the
    widget for the rows on screen, so the cost of a paint does not grow with
    the size of the host beyond this walk over the open cgroups.
    """
    expandable = model.expandable(ROOT)
    out = [Line(cgroup_key(ROOT), 0, (), True, expandable, expandable and ROOT in opened, -1)]
    if out[0].expanded:
        _walk(model, ROOT, 1, (), 0, opened, out)
    return tuple(out)


def _walk(model: TreeModel, path: str, depth: int, guides: tuple[bool, ...], parent: int,
          opened: Collection[str], out: list[Line]) -> None:
    kids = model.children(path)
    for i, key in enumerate(kids):
        last = i == len(kids) - 1
        if not isinstance(key, CgroupKey):
            out.append(Line(key, depth, guides, last, False, False, parent))
            continue
        child = key.path
        expandable = model.expandable(child)
        is_open = expandable and child in opened
        out.append(Line(key, depth, guides, last, expandable, is_open, parent))
        if is_open:
            _walk(model, child, depth + 1, (*guides, not last), len(out) - 1, opened, out)
