"""Replay a recorded OOM: every policy's pick beside what the kernel actually killed.

The `kernel` policy should reproduce the kernel's choice from the report
alone; where it does not, the reason is one of a few known ones (a tie the
table order decides, sizes the report lacks, a child sacrificed by ≤5.0
kernels, counters that moved), and the result says which, with numbers.
The kernel era comes from the report's features, not its version string:
a release older than the features it prints is a backport.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from oomtui import oomlog
from oomtui.errors import UserError
from oomtui.evaluate import evaluate
from oomtui.model import ROOT, Snapshot, is_within
from oomtui.oomlog.parse import Era as FormatEra
from oomtui.oomlog.parse import gather, infer_era
from oomtui.policies.base import Decision
from oomtui.policies.budget import kernel_version, total_pages
from oomtui.policies.kernel_rules import Era, Scorer, scan_order

KERNEL = "kernel"


@dataclass(frozen=True, slots=True)
class PolicyReplay:
    policy: str
    decision: Decision
    agrees: bool | None  # kills the kernel's victim; None when the report names none


@dataclass(frozen=True, slots=True)
class ReplayResult:
    domain: str
    killed_pid: int | None
    killed_comm: str | None
    group_killed_pids: tuple[int, ...]
    kernel_release: str | None  # the release whose rules the replay used
    era_note: str | None  # why that release, when it is not the one the report printed
    policies: tuple[PolicyReplay, ...]
    kernel_agrees: bool | None
    explanation: str  # plain words: agreement, or why not


def _label(snapshot: Snapshot, pid: int | None) -> str:
    p = snapshot.process(pid) if pid is not None else None
    return f"{pid} ({p.comm})" if p else str(pid)


def _report_facts(snapshot: Snapshot) -> tuple[FormatEra | None, int | None]:
    """The era and the ≤5.0 "Kill process" pick, re-read from the report text the snapshot keeps."""
    raw = snapshot.oom_event.raw if snapshot.oom_event else None
    segs = oomlog.segments(raw) if raw else []
    if not segs:
        return None, None
    facts = gather(segs[-1])
    return infer_era(facts), facts.chosen[0] if facts.chosen else None


def _in_table_order(snapshot: Snapshot) -> Snapshot:
    """A memcg report's table is the kernel's scan order (5.3+); keep it by placing every process
    the report puts below the domain in the domain itself, unless an oom.group cgroup holds it."""
    event = snapshot.oom_event
    if event is None or event.domain == ROOT:
        return snapshot
    flagged = {c.path for c in snapshot.cgroups if c.oom_group}
    moved = tuple(
        replace(p, cgroup=event.domain)
        if p.cgroup != event.domain and is_within(p.cgroup, event.domain) and p.cgroup not in flagged
        else p
        for p in snapshot.processes
    )
    return snapshot.replace(processes=moved)


def replay_snapshot(snapshot: Snapshot, era: FormatEra | None) -> tuple[Snapshot, str | None]:
    """The snapshot as the kernel scanned it, with a release that selects the rules its format shows."""
    view = _in_table_order(snapshot) if snapshot.source == "kernel-log" else snapshot
    if era is None:
        return view, None
    printed = snapshot.host.kernel
    if printed and "inferred" in printed:
        printed = None
    release, overruled = era.rules_for(printed)
    if release == snapshot.host.kernel:
        return view, None
    note = f"{overruled} (a backport); replayed with {release} rules" if overruled else None
    return view.replace(host=replace(snapshot.host, kernel=release)), note


def _agrees(d: Decision, killed: int | None) -> bool | None:
    if killed is None:
        return None
    return d.victim_pid == killed or (d.victim_pid is None and killed in d.killed_pids)


def _why_not(snapshot: Snapshot, decision: Decision, killed: int) -> str:
    """Name the reason the kernel policy's pick differs from the kernel's, with the figures."""
    victim = snapshot.process(killed)
    if victim is None:
        return f"the kernel killed {killed}, which the report's task table does not list"
    if decision.victim_pid is None:
        victim_label = _label(snapshot, killed)
        return f"the kernel policy kills nothing here ({decision.reason}), but the kernel killed {victim_label}"
    domain = snapshot.oom_event.domain if snapshot.oom_event else "/"
    budget = total_pages(snapshot, domain)
    scorer = Scorer(budget.pages, snapshot.host.page_size, Era(kernel_version(snapshot.host.kernel)))
    pick = snapshot.process(decision.victim_pid)
    theirs, ours = scorer.points(victim), scorer.points(pick) if pick else None
    pick_label, victim_label = _label(snapshot, decision.victim_pid), _label(snapshot, killed)
    if theirs is None:
        return f"by the report's figures the victim {victim_label} cannot be picked (oom_score_adj -1000 or no memory)"
    if ours is not None and theirs == ours:
        order = [p.pid for p in scan_order(snapshot, domain)]
        first = "before" if order.index(killed) < order.index(pick.pid) else "after"  # type: ignore[union-attr]
        return (
            f"a tie at {theirs} pages between {victim_label} and {pick_label}: the report lists the victim {first} "
            f"the policy's pick, so the table order or the era's tie rule decided differently"
        )
    missing = []
    if victim.rss_anon is None and victim.rss_total is None:
        missing.append("resident sizes")
    if victim.pgtables is None:
        missing.append("page tables")
    if budget.note:
        missing.append(budget.note)
    gap = f"{pick_label} scores {ours} pages and the victim {victim_label} {theirs}"
    if missing:
        return f"by the report's figures {gap}; the report lacks {', '.join(missing)}"
    return (
        f"by the report's figures {gap}: the kernel's counters at selection differed from the ones it printed "
        "(they keep moving, and 6.2+ kernels read approximate per-CPU counts)"
    )


def replay(snapshot: Snapshot) -> ReplayResult:
    """Every policy's decision for the OOM's domain, compared with the process the kernel killed."""
    event = snapshot.oom_event
    if event is None:
        raise UserError("the snapshot records no OOM event to replay")
    era, chosen = _report_facts(snapshot)
    view, era_note = replay_snapshot(snapshot, era)
    decisions = evaluate(view, event.domain)
    killed = event.killed_pid
    results = tuple(PolicyReplay(d.policy, d, _agrees(d, killed)) for d in decisions)
    kernel = next((r for r in results if r.policy == KERNEL), None)
    agrees: bool | None = None
    if kernel is None:
        explanation = "no kernel policy is registered"
    elif killed is None:
        explanation = "the report names no victim, so there is nothing to compare"
    elif view.host.sysctl.oom_kill_allocating_task and event.kind == "global":
        agrees = True
        explanation = (
            f"vm.oom_kill_allocating_task was set: the kernel killed the allocating task {_label(view, killed)} "
            "without ranking anyone, as the kernel policy says"
        )
    elif chosen is not None and chosen != killed:
        agrees = kernel.decision.victim_pid == chosen
        picked = "picks it too" if agrees else f"picks {_label(view, kernel.decision.victim_pid)}"
        explanation = (
            f"the kernel selected {_label(view, chosen)} and killed its child {_label(view, killed)} instead "
            f"(≤5.0 'sacrifice child'); the kernel policy {picked}; the report shows no parent links, "
            "so no policy can name the child"
        )
    elif kernel.agrees:
        agrees = True
        explanation = f"the kernel policy agrees: it picks {_label(view, killed)}, the process the kernel killed"
        expected = set(event.group_killed_pids) | {killed}
        predicted = set(kernel.decision.killed_pids)
        if event.group_killed_pids and predicted != expected:
            explanation += (
                f"; the group kill differs: the kernel killed {len(expected)} process(es), "
                f"the policy predicts {len(predicted)}"
            )
    else:
        agrees = False
        explanation = "the kernel policy disagrees: " + _why_not(view, kernel.decision, killed)
    return ReplayResult(
        domain=event.domain,
        killed_pid=killed,
        killed_comm=event.killed_comm,
        group_killed_pids=event.group_killed_pids,
        kernel_release=view.host.kernel,
        era_note=era_note,
        policies=results,
        kernel_agrees=agrees,
        explanation=explanation,
    )
