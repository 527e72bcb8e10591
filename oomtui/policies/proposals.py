"""The 2017 debate's proposals: `hierarchical`, `terminal` and `cgroup-aware`.

All three weigh a candidate the same way, size + score × budget / 1000 with
the kernel's total pages as the budget, so a cgroup score means what a
process's oom_score_adj means. They differ only in *which* entities
compete (shared/policies.md):

- hierarchical: at each level the child cgroups and the processes directly
  there; an independent winner is descended into, an interdependent one dies
  whole;
- terminal: every interdependent group and every process outside one, across
  the domain at once (Weiner's "biggest terminal consumer");
- cgroup-aware: leaf cgroups and interdependent subtrees, sized as Gushchin's
  series did (anon + unevictable + unreclaimable slab + kernel stack + sockets
  + swap), with the domain's own processes competing as processes; a chosen
  leaf loses its largest process, a chosen group dies whole.

Ties are broken by the larger raw size, then by path or pid, so the answer is
deterministic; `uncertain` says when that order decided. Rankings hold the top
twenty: for hierarchical, the order of picks if it went on killing (each
level's order, independent cgroups expanded in place), each with the cgroups
it was reached through.
"""

from __future__ import annotations

import heapq
from array import array
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from itertools import islice
from typing import Any, TypeVar

from oomtui.model import Process, Snapshot
from oomtui.policies import topmost
from oomtui.policies.base import Candidate, Decision, PolicySpec
from oomtui.policies.budget import total_pages
from oomtui.policies.carry import carried_columns
from oomtui.policies.kernel_rules import HOST_INIT, OOM_SCORE_ADJ_MIN, eligible
from oomtui.policies.subtree import WITH_MEMORY, subtree
from oomtui.text import human_size
from oomtui.whatif import cgroup_score, is_interdependent

RANKING_LEN = 20
T = TypeVar("T")
# Gushchin's memcg_oom_badness: LRU_ALL_ANON + unevictable + unreclaimable slab + kernel stack + sockets (+ swap).
_SERIES_V2 = ("active_anon", "inactive_anon", "unevictable", "slab_unreclaimable", "kernel_stack", "sock")
_SERIES_V1 = ("total_active_anon", "total_inactive_anon", "total_unevictable", "total_swap")
_ZEROS = (0,) * len(_SERIES_V2)  # defaults for stat.get, mapped in C: every leaf is sized on each run
_PROCESS_PARTS = ("rss_anon", "rss_file", "rss_shmem", "rss_total", "swap", "pgtables")


@dataclass(slots=True)
class Entity:
    """One competitor: a process, a cgroup killed whole, or a cgroup to descend into."""

    kind: str  # "process", "group" (dies whole), "leaf" (loses its largest process), "descend"
    path: str
    size: int
    score: int
    adjusted: int
    sizing: str = ""  # for cgroups: where the size came from ("current", "processes", "series-v2", …)
    process: Process | None = None

    @property
    def key(self) -> tuple:
        """Best first: larger adjusted, then larger raw size, then cgroups by path, processes by pid."""
        if self.process is not None:
            return (-self.adjusted, -self.size, 1, self.process.pid)
        return (-self.adjusted, -self.size, 0, self.path)

    @property
    def label(self) -> str:
        if self.process is not None:
            return f"process {self.process.pid} ({self.process.comm})"
        return {"group": "interdependent ", "leaf": "leaf ", "descend": "independent "}[self.kind] + self.path


def _search(path: str, memo: dict[str, bool], found: Callable[[str], bool],
            expand: Callable[[str], Iterable[str]]) -> bool:
    """Depth-first from `path`: true at the first cgroup `found` accepts, and then for every cgroup on
    the way to it; when none does, every visited cgroup is remembered as false. An explicit stack,
    for arbitrarily deep snapshots; linear overall, since nothing is searched twice."""
    known = memo.get(path)
    if known is not None:
        return known
    stack: list[tuple[str, str | None]] = [(path, None)]
    parent: dict[str, str | None] = {}
    while stack:
        node, up = stack.pop()
        known = memo.get(node)
        if known is False:
            continue
        parent[node] = up
        if known or found(node):
            step: str | None = node
            while step is not None:
                memo[step] = True
                step = parent[step]
            return True
        stack.extend((child, node) for child in expand(node))
    for node in parent:
        memo[node] = False
    return False


CANNOT_DIE = -(1 << 62)  # an adjusted size below any: the process cannot die (kernel_rules.eligible)


def _every_weighed(processes: Sequence[Process], budget: int) -> tuple[array[int], array[int]]:
    """Each process's adjusted size (footprint + oom_score_adj × budget / 1000, or CANNOT_DIE where
    kernel_rules.eligible says no) and footprint, written out flat: 50,000 processes a new sample."""
    adjusted, footprints = array("q"), array("q")
    for p in processes:
        footprints.append(fp := p.footprint)
        adj = p.oom_score_adj
        adjusted.append(CANNOT_DIE if adj == OOM_SCORE_ADJ_MIN or p.pid == HOST_INIT or p.kernel_thread or fp <= 0
                        else fp + adj * budget // 1000)
    return adjusted, footprints


@dataclass
class Tree:
    """One pass over the domain's subtree: what each policy needs to weigh candidates.

    Built once per snapshot and domain and shared by the three policies (the
    TUI runs all of them on every keypress, on hosts of 10,000 processes).
    """

    snapshot: Snapshot
    domain: str
    budget: int
    budget_note: str | None
    order: list[str]
    interdependent_paths: set[str] = field(default_factory=set)
    scores: dict[str, int] = field(default_factory=dict)  # cgroup scores from the what-if
    _has_eligible: dict[str, bool] = field(default_factory=dict)
    _reachable: dict[str, bool] = field(default_factory=dict)
    _group_kills: dict[str, tuple[tuple[int, ...], int]] = field(default_factory=dict)

    @classmethod
    def build(cls, snapshot: Snapshot, domain: str) -> Tree:
        b = total_pages(snapshot, domain)
        tree = cls(snapshot, domain, b.pages * snapshot.host.page_size, b.note, list(snapshot.walk(domain)))
        tree.interdependent_paths = {path for path in tree.order if is_interdependent(snapshot, path)}
        tree.scores = {path: cgroup_score(snapshot, path) for path in snapshot.whatif.cgroups}
        return tree

    def has_eligible(self, path: str) -> bool:
        """Whether any process in the subtree could die; stops at the first found."""
        return _search(path, self._has_eligible, self._eligible_here, self.snapshot.children)

    def reachable(self, path: str) -> bool:
        """hierarchical: whether killing (interdependent) or descending (independent) finds a victim."""
        return _search(path, self._reachable, self._victim_here, self._descend)

    def _eligible_here(self, path: str) -> bool:
        return any(eligible(p) for p in self.snapshot.processes_in(path))

    def _victim_here(self, path: str) -> bool:
        return self.has_eligible(path) if self.interdependent(path) else self._eligible_here(path)

    def _descend(self, path: str) -> list[str]:
        if self.interdependent(path):
            return []
        return [c for c in self.snapshot.children(path) if self.score(c) != OOM_SCORE_ADJ_MIN]

    def adjusted(self, size: int, score: int) -> int:
        return size + score * self.budget // 1000

    def process(self, p: Process, fp: int) -> Entity:
        return Entity("process", p.cgroup, fp, p.oom_score_adj, self.adjusted(fp, p.oom_score_adj), process=p)

    def processes(self, path: str) -> list[Entity]:
        """The processes directly in a cgroup that could die."""
        return [self.process(p, p.footprint) for p in self.snapshot.processes_in(path) if eligible(p)]

    def top_processes(self, paths: list[str], n: int) -> list[Entity]:
        """The n best processes directly in these cgroups, weighed without building an Entity for each.

        Every process of the domain is weighed once and carried over to the
        next what-if view (policies/carry.py); these cgroups' places in the
        domain's listing, which lists each cgroup's processes together, then
        select in C.
        """
        b = self.budget
        listing = self.snapshot.processes_under(self.domain)
        adjusted, footprints = carried_columns(("weighed", self.domain, b), listing,
                                               partial(_every_weighed, budget=b))
        column = topmost.column(("weighed", self.domain, b, tuple(paths)), self._only(adjusted, paths))
        best = column.largest(n)
        bar = max(best[-1], CANNOT_DIE + 1) if best else CANNOT_DIE + 1
        found = [(-adjusted[i], -footprints[i], listing[i].pid, i) for i in column.places_at_least(bar)]
        return [self.process(listing[i], -neg_fp) for _, neg_fp, _, i in heapq.nsmallest(n, found)]

    def _only(self, adjusted: array[int], paths: list[str]) -> array[int]:
        """`adjusted` at the places of these cgroups' own processes in the domain's listing
        (`processes_under`, each cgroup's together), CANNOT_DIE elsewhere."""
        s = self.snapshot
        out = array("q", (CANNOT_DIE,)) * len(adjusted)
        for path in paths:
            if (here := len(s.processes_in(path))) and (at := s.start_under(self.domain, path)) is not None:
                out[at:at + here] = adjusted[at:at + here]
        return out

    def top_cgroups(self, found: list[tuple[str, str]], n: int, *, series: bool = False) -> list[Entity]:
        """The n best of these (path, kind) cgroups, sized as the series did or by memory.current, weighed
        without building an Entity for each."""
        measure = self._series if series else self._current
        keyed = []
        for path, kind in found:
            size = measure(path)[0]
            keyed.append((-self.adjusted(size, self.score(path)), -size, path, kind))
        return [self.cgroup(path, kind, series) for _, _, path, kind in heapq.nsmallest(n, keyed)]

    def cgroup(self, path: str, kind: str, series: bool = False) -> Entity:
        size, used = self._series(path) if series else self._current(path)
        score = self.score(path)
        return Entity(kind, path, size, score, self.adjusted(size, score), used)

    def _current(self, path: str) -> tuple[int, str]:
        """What killing it would free: memory.current + swap.current, else its processes' footprints."""
        c = self.snapshot.cgroup(path)
        if c is not None and c.memory_current is not None:
            return c.memory_current + (c.swap_current or 0), "current"
        return self.snapshot.subtree_footprint(path), "processes"

    def _series(self, path: str) -> tuple[int, str]:
        """The series' footprint from memory.stat (hierarchical), falling back like _current."""
        c = self.snapshot.cgroup(path)
        if c is not None and "active_anon" in c.stat:
            return sum(map(c.stat.get, _SERIES_V2, _ZEROS)) + (c.swap_current or 0), "series-v2"
        if c is not None and "total_active_anon" in c.stat:
            return sum(map(c.stat.get, _SERIES_V1, _ZEROS)), "series-v1"
        return self._current(path)

    def size_parts(self, e: Entity) -> dict[str, Any]:
        """Where a candidate's size came from, for the ranking (only the shown few need it)."""
        if e.process is not None:
            return {k: getattr(e.process, k) for k in _PROCESS_PARTS}
        c = self.snapshot.cgroup(e.path)
        if c is None or e.sizing == "processes":
            return {"processes_footprint": self.snapshot.subtree_footprint(e.path)}
        if e.sizing == "current":
            return {"memory_current": c.memory_current, "swap_current": c.swap_current}
        if e.sizing == "series-v2":
            return {**{k: c.stat.get(k, 0) for k in _SERIES_V2}, "swap_current": c.swap_current}
        return {k: c.stat.get(k, 0) for k in _SERIES_V1}

    def score(self, path: str) -> int:
        return self.scores.get(path, 0)

    def group_kill(self, path: str) -> tuple[tuple[int, ...], int]:
        """The pids an interdependent cgroup's kill takes, and their size: as the kernel's memory.oom.group
        kill, which the patches used, all but -1000, kernel threads, init and what has no mm left (a
        zombie: the kill skips it as already exiting).

        Remembered: the three policies often pick the same group, and a big
        one holds thousands of processes.
        """
        known = self._group_kills.get(path)
        if known is None:
            tree = subtree(self.snapshot, path)
            known = self._group_kills[path] = tree.pids_of(WITH_MEMORY), tree.footprint_of(WITH_MEMORY)
        return known

    def interdependent(self, path: str) -> bool:
        return path in self.interdependent_paths


_memo: list[tuple[Snapshot, str, Tree]] = []


def tree_for(snapshot: Snapshot, domain: str) -> Tree:
    """The Tree of the last snapshot and domain asked for, built again only when they change.

    A snapshot is immutable, so identity is enough; the memo holds it, so its
    id cannot be reused by another while remembered.
    """
    memo = _memo[:1]
    if memo and memo[0][0] is snapshot and memo[0][1] == domain:
        return memo[0][2]
    tree = Tree.build(snapshot, domain)
    _memo[:] = [(snapshot, domain, tree)]
    return tree


# -- shared decision building ------------------------------------------------------


def _tie(ranked: list[Entity], where: str = "") -> str | None:
    """A note when the top two differ only in path or pid order."""
    if len(ranked) < 2:
        return None
    a, b = ranked[0], ranked[1]
    if (a.adjusted, a.size) != (b.adjusted, b.size):
        return None
    return f"{a.label} and {b.label} tie{where} ({human_size(a.adjusted)}); path/pid order chose {a.label}"


def _sized(e: Entity) -> str:
    """The size a reason quotes: the real one, and what the score made of it when one is set."""
    if not e.score:
        return human_size(e.size)
    knob = "oom_score_adj" if e.process is not None else "score"
    return f"{human_size(e.size)}, {human_size(e.adjusted)} with {knob} {e.score:+d}"


def _why(e: Entity, budget: int, note: str) -> str:
    what = {"process": "footprint", "group": "whole group", "leaf": "leaf"}[e.kind]  # a descent is never a pick
    bias = f", score {e.score:+d} → {human_size(e.score * budget // 1000)}" if e.score else ""
    return f"{what} {human_size(e.size)}{bias}{note}"


def _candidate(e: Entity, tree: Tree, note: str = "", extra: Mapping[str, Any] | None = None) -> Candidate:
    budget = tree.budget
    parts = {"size": e.size, **tree.size_parts(e), "score": e.score, "score_bytes": e.score * budget // 1000,
             "adjusted": e.adjusted, **(extra or {})}
    pid = e.process.pid if e.process is not None else None
    return Candidate(cgroup=e.path, score=e.adjusted, why=_why(e, budget, note), pid=pid, parts=parts)


def _kill_process(name: str, tree: Tree, p: Process, reason: str, ranking: tuple[Candidate, ...],
                  uncertain: str | None) -> Decision:
    return Decision(
        policy=name, domain=tree.domain, triggered=None, reason=reason,
        victim_pid=p.pid, victim_pid_cgroup=p.cgroup, killed_pids=(p.pid,), freed_bytes=p.footprint,
        ranking=ranking, uncertain=uncertain,
    )


def _kill_group(name: str, tree: Tree, path: str, reason: str, ranking: tuple[Candidate, ...],
                uncertain: str | None) -> Decision:
    pids, freed = tree.group_kill(path)
    return Decision(
        policy=name, domain=tree.domain, triggered=None,
        reason=f"{reason} ({len(pids)} process{'es' if len(pids) != 1 else ''})",
        victim_cgroup=path, killed_pids=pids, freed_bytes=freed, ranking=ranking, uncertain=uncertain,
    )


def _nothing(name: str, tree: Tree) -> Decision:
    return Decision(
        policy=name, domain=tree.domain, triggered=None,
        reason=f"nothing to kill in {tree.domain}: no process with memory outside score -1000, "
               "kernel threads and init",
    )


def _uncertain(tree: Tree, notes: list[str | None], top: list[Entity]) -> str | None:
    """Ties decided by order, and a budget that may be off where a score weighs on the pick: on one of
    `top`, the first two of each ranking that led to it."""
    out = [n for n in notes if n]
    if tree.budget_note and any(e.score for e in top):
        out.append(f"scores scale by a budget that may be off: {tree.budget_note}")
    return "; ".join(out) or None


def _whole_domain(name: str, tree: Tree) -> Decision:
    e = tree.cgroup(tree.domain, "group")
    return _kill_group(name, tree, tree.domain, f"the domain {tree.domain} is interdependent: it dies whole",
                       (_candidate(e, tree),), None)


# -- hierarchical --------------------------------------------------------------------


def _level(tree: Tree, path: str) -> list[Entity]:
    out = tree.processes(path)
    for child in tree.snapshot.children(path):
        if tree.score(child) != OOM_SCORE_ADJ_MIN and tree.reachable(child):
            out.append(tree.cgroup(child, "group" if tree.interdependent(child) else "descend"))
    out.sort(key=lambda e: e.key)
    return out


Chain = tuple[tuple[str, list[Entity], Entity | None], ...]  # (level, its ranking, the cgroup descended from it)


def _picks(tree: Tree) -> Iterator[tuple[Entity, Chain]]:
    """The order of picks if the policy went on: each level's order, independent cgroups expanded in place.

    An explicit stack, not recursion: a snapshot may nest cgroups deeper than Python's recursion limit.
    """
    first = _level(tree, tree.domain)
    frames = [(tree.domain, first, iter(first))]
    via: list[Entity] = []  # the independent cgroup descended into from each frame but the last
    while frames:
        e = next(frames[-1][2], None)
        if e is None:
            frames.pop()
            if via:
                via.pop()
        elif e.kind == "descend":
            ranked = _level(tree, e.path)
            via.append(e)
            frames.append((e.path, ranked, iter(ranked)))
        else:
            yield e, tuple((level, ranked, d) for (level, ranked, _), d in zip(frames, [*via, None], strict=True))


def _abridged(items: list[T], keep: int = 6) -> list[T | str]:
    """At most `keep` items of a long descent, its start and its end, so a line stays short."""
    if len(items) <= keep:
        whole: list[T | str] = list(items)
        return whole
    return [*items[:2], f"… {len(items) - keep + 1} more …", *items[-(keep - 3):]]


def _hier_candidate(e: Entity, chain: Chain, tree: Tree) -> Candidate:
    """A pick with the independent cgroups it was reached through, whose scores weighed on it too."""
    via = [d for _, _, d in chain if d is not None]
    note = f" at {chain[-1][0]}"
    if via:
        note += "; via " + ", ".join(
            d
            if isinstance(d, str)
            else f"{d.path} {human_size(d.adjusted)}" + (f" (score {d.score:+d})" if d.score else "")
            for d in _abridged(via)
        )
    extra = {"level": chain[-1][0],
             "via": [{"cgroup": d.path, "size": d.size, "score": d.score, "adjusted": d.adjusted} for d in via]}
    return _candidate(e, tree, note, extra)


def decide_hierarchical(snapshot: Snapshot, domain: str, options: Mapping[str, Any]) -> Decision:
    name = "hierarchical"
    tree = tree_for(snapshot, domain)
    if tree.interdependent(domain) and tree.has_eligible(domain):
        return _whole_domain(name, tree)
    picks = list(islice(_picks(tree), RANKING_LEN))
    ranking = tuple(_hier_candidate(e, chain, tree) for e, chain in picks)
    if not picks:
        return _nothing(name, tree)
    victim, chain = picks[0]
    kills = f"descends {' → '.join(_abridged([level for level, _, _ in chain]))} and kills" if len(chain) > 1 else (
        "kills")
    where = chain[-1][0]
    uncertain = _uncertain(tree, [_tie(ranked, f" at {level}") for level, ranked, _ in chain],
                           [e for _, ranked, _ in chain for e in ranked[:2]])
    if victim.kind == "group":
        return _kill_group(name, tree, victim.path,
                           f"{kills} interdependent {victim.path} whole, "
                           f"the largest in {where} after scores", ranking, uncertain)
    p = victim.process
    assert p is not None
    return _kill_process(name, tree, p, f"{kills} {victim.label}, "
                         f"the largest in {where} after scores ({_sized(victim)})", ranking, uncertain)


# -- terminal --------------------------------------------------------------------------


def _terminals(tree: Tree) -> tuple[list[Entity], int]:
    """The best of every interdependent group (outermost) and every process outside one; and how
    many independent cgroups carry a score this flat view cannot honour."""
    s = tree.snapshot
    groups: list[tuple[str, str]] = []
    loose: list[str] = []  # cgroups whose own processes compete one by one
    ignored = 0
    stack = [tree.domain]
    while stack:
        path = stack.pop()
        if tree.interdependent(path):
            if tree.score(path) != OOM_SCORE_ADJ_MIN and tree.has_eligible(path):
                groups.append((path, "group"))
            continue
        if path != tree.domain and tree.score(path):
            ignored += 1
        loose.append(path)
        stack.extend(reversed(s.children(path)))
    best = [*tree.top_cgroups(groups, RANKING_LEN), *tree.top_processes(loose, RANKING_LEN)]
    best = heapq.nsmallest(RANKING_LEN, best, key=lambda e: e.key)
    return best, ignored


def decide_terminal(snapshot: Snapshot, domain: str, options: Mapping[str, Any]) -> Decision:
    name = "terminal"
    tree = tree_for(snapshot, domain)
    if tree.interdependent(domain) and tree.has_eligible(domain):
        return _whole_domain(name, tree)
    ranked, ignored = _terminals(tree)
    ranking = tuple(_candidate(e, tree) for e in ranked)
    if not ranked:
        return _nothing(name, tree)
    victim = ranked[0]
    ignored_note = (
        f"; scores on {ignored} independent cgroup{'s' if ignored != 1 else ''} do not apply here"
        if ignored else ""
    )
    uncertain = _uncertain(tree, [_tie(ranked)], ranked[:2])
    if victim.kind == "group":
        return _kill_group(name, tree, victim.path, f"kills interdependent {victim.path} whole, the biggest "
                           f"terminal consumer in {domain}{ignored_note}", ranking, uncertain)
    p = victim.process
    assert p is not None
    return _kill_process(name, tree, p, f"kills {victim.label}, the biggest terminal consumer in {domain} "
                         f"({_sized(victim)}){ignored_note}", ranking, uncertain)


# -- cgroup-aware ------------------------------------------------------------------------


def _largest(tree: Tree, path: str) -> tuple[list[Entity], str | None]:
    """Processes of a leaf, largest badness first (footprint + oom_score_adj × budget / 1000)."""
    ranked = sorted(tree.processes(path), key=lambda e: e.key)
    return ranked, _tie(ranked, f" inside {path}")


def _aware_entities(tree: Tree) -> list[Entity]:
    """The best of the leaf and interdependent cgroups, and of the processes outside them."""
    s = tree.snapshot
    groups: list[tuple[str, str]] = []
    loose: list[str] = []
    stack = [tree.domain]
    while stack:
        path = stack.pop()
        children = s.children(path)
        if path != tree.domain and (tree.interdependent(path) or not children):
            if tree.score(path) != OOM_SCORE_ADJ_MIN and tree.has_eligible(path):
                groups.append((path, "group" if tree.interdependent(path) else "leaf"))
            continue
        loose.append(path)
        stack.extend(reversed(children))
    best = [*tree.top_cgroups(groups, RANKING_LEN, series=True), *tree.top_processes(loose, RANKING_LEN)]
    return heapq.nsmallest(RANKING_LEN, best, key=lambda e: e.key)


def _aware_candidate(tree: Tree, e: Entity) -> Candidate:
    if e.kind == "leaf":
        largest = _largest(tree, e.path)[0][0]
        assert largest.process is not None
        return _candidate(e, tree, f"; its largest: {largest.label}", {"would_kill": largest.process.pid})
    if e.process is not None and e.path != tree.domain and tree.snapshot.children(e.path):
        return _candidate(e, tree, " (in an inner cgroup: competes as a process)")
    return _candidate(e, tree)


def decide_cgroup_aware(snapshot: Snapshot, domain: str, options: Mapping[str, Any]) -> Decision:
    name = "cgroup-aware"
    tree = tree_for(snapshot, domain)
    if tree.interdependent(domain) and tree.has_eligible(domain):
        return _whole_domain(name, tree)
    ranked = _aware_entities(tree)
    ranking = tuple(_aware_candidate(tree, e) for e in ranked)
    if not ranked:
        return _nothing(name, tree)
    victim = ranked[0]
    if victim.kind == "group":
        return _kill_group(name, tree, victim.path, f"kills interdependent {victim.path} whole, the largest "
                           f"memory cgroup in {domain} after scores", ranking,
                           _uncertain(tree, [_tie(ranked)], ranked[:2]))
    if victim.kind == "leaf":
        inside, tie = _largest(tree, victim.path)
        chosen = inside[0]
        assert chosen.process is not None
        return _kill_process(name, tree, chosen.process,
                             f"leaf {victim.path} is the largest memory cgroup in {domain} after scores "
                             f"({_sized(victim)}); kills its largest {chosen.label}", ranking,
                             _uncertain(tree, [_tie(ranked), tie], [*ranked[:2], *inside[:2]]))
    p = victim.process
    assert p is not None
    return _kill_process(name, tree, p, f"kills {victim.label}: a process outside any leaf cgroup, larger than "
                         f"every cgroup in {domain} after scores ({_sized(victim)})", ranking,
                         _uncertain(tree, [_tie(ranked)], ranked[:2]))


POLICIES = (
    PolicySpec(
        name="hierarchical",
        title="Hierarchical (2017 proposal)",
        summary="Descend from the domain: at each level the largest child cgroup or process after scores; "
                "an interdependent cgroup dies whole, an independent one is descended into.",
        decide=decide_hierarchical,
    ),
    PolicySpec(
        name="terminal",
        title="Biggest terminal consumer",
        summary="All interdependent groups and all processes outside them compete at once; the largest "
                "after scores dies.",
        decide=decide_terminal,
    ),
    PolicySpec(
        name="cgroup-aware",
        title="Cgroup-aware OOM killer (Gushchin 2017-18)",
        summary="Leaf cgroups and interdependent subtrees compete by memory footprint plus score; a leaf "
                "loses its largest process, a group dies whole.",
        decide=decide_cgroup_aware,
    ),
)
