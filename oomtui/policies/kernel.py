"""`kernel`: what the Linux OOM killer would kill in a domain, for the snapshot's kernel release.

The rules and their sources are in research/kernel-oom.md §1–2; the era
switches (clamp, root bonus, tie order, sacrifice child, oom.group) live in
kernel_rules.Era. Real OOM kills referee this module (tests/test_kernel_referee.py).
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

from oomtui.model import ROOT, Process, Snapshot, is_within, parent_of
from oomtui.policies.base import RANKING_MIN, Candidate, Decision, PolicySpec
from oomtui.policies.budget import kernel_version, total_pages
from oomtui.policies.kernel_rules import (
    HOST_INIT,
    OOM_SCORE_ADJ_MIN,
    Era,
    Scorer,
    badness,
    in_fork_order,
    scan_order,
)
from oomtui.policies.subtree import WITH_MEMORY, subtree
from oomtui.whatif import is_interdependent

__all__ = ["POLICIES", "badness", "decide", "scan_order"]

NAME = "kernel"
# Pages the kernel's approximate per-CPU RSS reads (6.2+) were measured below /proc (issue 3).
PERCPU_ERROR_PAGES = 64
# /proc prints kB, one figure per summed counter: allow a page of drift for each of them.
ROUNDING_PAGES = 5
UNSEEN = "no snapshot shows an unreaped earlier victim (it stops the round) or a vfork child (skipped)"


class Scored(NamedTuple):
    points: int
    process: Process


def _label(p: Process) -> str:
    return f"{p.pid} ({p.comm})"


def _candidate(s: Scored, scorer: Scorer, total: int) -> Candidate:
    p = s.process
    b = scorer.parts(p)
    adj = f" + adj {p.oom_score_adj}×{total // 1000}" if p.oom_score_adj else ""
    bonus = f" - root 3% {b.root_bonus}" if b.root_bonus else ""
    raw = b.rss + b.swap + b.pgtables - b.root_bonus + b.adj_pages
    clamped = f" (clamped from {raw})" if raw != b.points else ""
    why = f"rss {b.rss} + swap {b.swap} + pgtables {b.pgtables}{bonus}{adj} = {b.points} pages{clamped}"
    parts: dict[str, Any] = {
        "rss": b.rss, "swap": b.swap, "pgtables": b.pgtables, "adj": p.oom_score_adj,
        "adj_pages": b.adj_pages, "total_pages": total, "badness": b.points, "oom_score_read": p.oom_score,
    }
    if b.root_bonus:
        parts["root_bonus"] = b.root_bonus
    return Candidate(cgroup=p.cgroup, score=b.points, why=why, pid=p.pid, parts=parts)


def _ranked(scanned: list[tuple[int, int]], order: Sequence[Process], n: int) -> list[Scored]:
    """The n best of a Scorer.scan, best first: a partial sort, since only the top is shown."""
    return _scored(heapq.nlargest(n, scanned), order)


def _scored(pairs: list[tuple[int, int]], order: Sequence[Process]) -> list[Scored]:
    return [Scored(points, order[abs(tiebreak)]) for points, tiebreak in pairs]


def _sacrificed_child(chosen: Scored, scanned: list[tuple[int, int]], order: Sequence[Process]) -> Scored | None:
    """Up to 5.0 the chosen task's highest-scoring eligible child (first in fork order) dies instead."""
    best: Scored | None = None
    children = sorted((abs(t), points) for points, t in scanned if order[abs(t)].ppid == chosen.process.pid)
    for position, points in children:
        if best is None or points > best.points:
            best = Scored(points, order[position])
    return best


def _group(snapshot: Snapshot, victim: Process, domain: str) -> str | None:
    """mem_cgroup_get_oom_group: the highest flagged cgroup from the victim's up to the domain."""
    if victim.cgroup == ROOT:
        return None
    highest = None
    path: str | None = victim.cgroup
    while path is not None:
        if is_interdependent(snapshot, path):
            highest = path
        if path == domain:
            break
        path = parent_of(path)
    return highest


def _group_kill(snapshot: Snapshot, group: str, victim: Process) -> tuple[Sequence[int], int]:
    """Who dies with the victim (pids, in scan order), and the bytes they free.

    That is the group's whole subtree except adj -1000, host init and what
    has no mm. A group can hold most of a host: where the listing is in
    fork order, the subtree's scan order is the tree's, and the walk is the
    one the other policies' cgroup kills share.
    """
    spared = victim.pid
    if in_fork_order(snapshot.processes):
        return subtree(snapshot, group).but(WITH_MEMORY, spared)
    others: list[int] = []
    freed = 0
    for p in scan_order(snapshot, group):
        if p.oom_score_adj == OOM_SCORE_ADJ_MIN or p.kernel_thread or (pid := p.pid) == HOST_INIT or pid == spared:
            continue
        if (footprint := p.footprint) > 0:
            others.append(pid)
            freed += footprint
    return others, freed


def _margin(era: Era) -> tuple[int, str]:
    if era.approximate_rss:
        return PERCPU_ERROR_PAGES + ROUNDING_PAGES, "the kernel's approximate per-CPU RSS counters and its scan order"
    return ROUNDING_PAGES, "the kernel's scan order and counter drift since the snapshot"


def _near_tie(ranked: list[Scored], scanned: list[tuple[int, int]], order: Sequence[Process], era: Era) -> str | None:
    top = ranked[0]
    margin, decider = _margin(era)
    floor = top.points - margin
    if ranked[-1].points < floor or len(ranked) == len(scanned):  # the shown top holds every near one
        near = [s for s in ranked[1:] if s.points >= floor]
    else:
        near = _scored(sorted((s for s in scanned if s[0] >= floor), reverse=True), order)[1:]
    if not near:
        return None
    names = ", ".join(f"{_label(s.process)} at {s.points}" for s in near[:5])
    more = f" and {len(near) - 5} more" if len(near) > 5 else ""
    keeps = "first" if era.first_wins else "last"
    return (
        f"{_label(top.process)} at {top.points} pages is within {margin} pages of {names}{more}: {decider} "
        f"decide (of equal scores the kernel keeps the {keeps} scanned); {UNSEEN}"
    )


def _unknown_sizes(ranked: list[Scored]) -> str | None:
    """Counted as 0 where a snapshot lacks a figure (a kernel log without swap, say): the ranking may move."""
    gaps = [s.process for s in ranked[:2] if s.process.rss is None or s.process.swap is None]
    if not gaps:
        return None
    return f"sizes partly unknown for {', '.join(_label(p) for p in gaps)} (counted as 0)"


def _marked(snapshot: Snapshot, domain: str) -> list[str]:
    """Every cgroup in the domain is_interdependent calls so, from one pass over the flags and the edits."""
    marked = {c.path for c in snapshot.cgroups if c.oom_group}
    for path, edit in snapshot.whatif.cgroups.items():
        if edit.interdependent:
            marked.add(path)
        elif edit.interdependent is False:
            marked.discard(path)
    marked.discard(ROOT)
    return sorted(p for p in marked if is_within(p, domain))


def _mark_notes(snapshot: Snapshot, domain: str, era: Era, v2: bool) -> list[str]:
    """What the kernel ignores of the user's marks, said so nobody expects it."""
    notes = []
    marked = [] if v2 and era.has_oom_group else _marked(snapshot, domain)
    if marked:
        why = "kernels before 4.19 have" if v2 else "the memory controller is on cgroup v1 here, which has"
        notes.append(f"{why} no memory.oom.group, so the interdependent mark on {', '.join(marked[:3])} is ignored")
    above = [a for a in snapshot.ancestors(domain) if is_interdependent(snapshot, a)]  # none above the root
    if above and v2 and era.has_oom_group:
        notes.append(f"memory.oom.group on {above[-1]} lies above the domain and does not widen this kill")
    scores = sorted(p for p, e in snapshot.whatif.cgroups.items() if e.score is not None and is_within(p, domain))
    if scores:
        notes.append(f"the kernel has no per-cgroup score: the score on {', '.join(scores[:3])} is ignored")
    return notes


def _no_kill(domain: str, reason: str, ranking: tuple[Candidate, ...] = (), uncertain: str | None = None) -> Decision:
    return Decision(policy=NAME, domain=domain, triggered=None, reason=reason, ranking=ranking, uncertain=uncertain)


def _override(snapshot: Snapshot, domain: str) -> str | None:
    """panic_on_oom and oom_kill_allocating_task act before any scan (check_panic_on_oom, out_of_memory)."""
    sysctl = snapshot.host.sysctl
    if sysctl.panic_on_oom == 2 or (sysctl.panic_on_oom == 1 and domain == ROOT):
        kind = "every OOM" if sysctl.panic_on_oom == 2 else "a global OOM"
        return f"vm.panic_on_oom={sysctl.panic_on_oom}: {kind} panics the host instead of killing a process"
    if sysctl.oom_kill_allocating_task and domain == ROOT:
        return (
            "vm.oom_kill_allocating_task is set: a global OOM kills whichever task is allocating, which no "
            "snapshot can name (the ranking applies only if that task is unkillable)"
        )
    return None


def decide(snapshot: Snapshot, domain: str, options: Mapping[str, Any]) -> Decision:
    """The kernel's choice for an OOM in `domain`, with the scores that led to it."""
    if domain != ROOT and snapshot.cgroup(domain) is None:
        return _no_kill(domain, f"no cgroup {domain} in this snapshot")
    host = snapshot.host
    era = Era(kernel_version(host.kernel))
    budget = total_pages(snapshot, domain)
    order = scan_order(snapshot, domain)
    scorer = Scorer(budget.pages, host.page_size, era)
    margin = _margin(era)[0]
    scanned = scorer.scan(order, 0 if era.sacrifice_child else RANKING_MIN, margin)  # a sacrificed child: any score
    ranked = _ranked(scanned, order, RANKING_MIN)
    ranking = tuple(_candidate(s, scorer, budget.pages) for s in ranked)
    caveats = [n for n in (budget.note, None if host.kernel else "kernel release unknown: current rules") if n]

    override = _override(snapshot, domain)
    if override:
        return _no_kill(domain, override, ranking, "; ".join(caveats) or None)
    if not ranked:
        then = "the host panics (System is deadlocked on memory)" if domain == ROOT else "the charge fails"
        return _no_kill(domain, f"no killable process in {domain}: {then}", ranking, "; ".join(caveats) or None)

    chosen = ranked[0]
    victim = chosen
    clauses = [
        f"{_label(chosen.process)} has the highest badness in {domain}: "
        f"{chosen.points} pages of a {budget.pages}-page budget"
    ]
    if len(ranked) > 1:
        clauses[0] += f", next {_label(ranked[1].process)} at {ranked[1].points}"
    if era.sacrifice_child:
        child = _sacrificed_child(chosen, scanned, order)
        if child is not None:
            victim = child
            clauses.append(f"kernels up to 5.0 sacrifice its child {_label(child.process)} instead")

    v2 = host.cgroup_mode == "v2"
    killed, freed = [victim.process.pid], victim.process.footprint
    group = _group(snapshot, victim.process, domain) if v2 and era.has_oom_group else None
    if group is not None:
        others, more = _group_kill(snapshot, group, victim.process)
        killed += others
        freed += more
        clauses.append(f"memory.oom.group on {group} kills {len(others)} more with it")
    clauses += _mark_notes(snapshot, domain, era, v2)

    doubts = [d for d in (_near_tie(ranked, scanned, order, era), _unknown_sizes(ranked)) if d]
    uncertain = "; ".join([*doubts, *caveats]) or None
    return Decision(
        policy=NAME,
        domain=domain,
        triggered=None,
        reason="; ".join(clauses),
        victim_pid=victim.process.pid,
        victim_pid_cgroup=victim.process.cgroup,
        victim_cgroup=group,
        killed_pids=tuple(killed),
        freed_bytes=freed,
        ranking=ranking,
        uncertain=uncertain,
    )


POLICIES = (
    PolicySpec(
        name=NAME,
        title="Linux kernel OOM killer",
        summary="The process with the highest badness (rss + swap + page tables + scaled oom_score_adj) "
        "in the domain, by the rules of the snapshot's kernel release, widened by memory.oom.group.",
        decide=decide,
    ),
)
