"""One evaluation of a snapshot with the user's edits: every policy's decision,
the kernel badness of each process, and which tree rows a decision marks.

Runs in a thread worker (it can take tens of milliseconds on a big host), so
it imports no Textual and returns plain frozen values.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from oomtui import whatif
from oomtui.evaluate import evaluate
from oomtui.model import ROOT, Snapshot, WhatIf
from oomtui.policies.base import Decision
from oomtui.policies.budget import kernel_version, total_pages
from oomtui.policies.kernel_rules import badness


@dataclass(frozen=True, slots=True)
class Evaluation:
    view: Snapshot  # the sample, carrying the edits in `whatif`
    applied: Snapshot  # the sample as the edits would make it
    domain: str
    decisions: tuple[Decision, ...]
    badness: Mapping[int, int]  # pid -> kernel badness in pages against the domain's budget

    def decision(self, policy: str | None) -> Decision | None:
        return next((d for d in self.decisions if d.policy == policy), None)


def run(sample: Snapshot, edits: WhatIf, domain: str = ROOT) -> Evaluation:
    view = sample.replace(whatif=edits)
    applied = whatif.apply(view)
    if domain != ROOT and (applied.cgroup(domain) is None or applied.cgroup(domain).memory_max is None):
        domain = ROOT  # the domain cgroup vanished or lost its limit
    budget = total_pages(applied, domain).pages
    page_size = applied.host.page_size
    version = kernel_version(applied.host.kernel)
    scores = {}
    for p in applied.processes_under(domain):
        points = badness(p, budget, page_size, version)
        if points is not None:
            scores[p.pid] = points
    return Evaluation(
        view=view,
        applied=applied,
        domain=domain,
        decisions=tuple(evaluate(view, domain)),
        badness=MappingProxyType(scores),
    )


@dataclass(frozen=True, slots=True)
class Marks:
    """What the chosen decision kills, and where the kernel's real victim was."""

    dies: frozenset[int] = frozenset()
    victim_pid: int | None = None
    victim_cgroup: str | None = None
    holds: frozenset[str] = field(default_factory=frozenset)  # cgroups with something dying inside
    actual: frozenset[int] = frozenset()


def marks(snapshot: Snapshot, decision: Decision | None) -> Marks:
    event = snapshot.oom_event
    actual: frozenset[int] = frozenset()
    if event is not None:
        actual = frozenset(([event.killed_pid] if event.killed_pid is not None else []) + list(event.group_killed_pids))
    if decision is None:
        return Marks(actual=actual)
    dies = set(decision.killed_pids)
    if decision.victim_pid is not None:
        dies.add(decision.victim_pid)
    homes = {p.cgroup for pid in dies if (p := snapshot.process(pid)) is not None}
    if decision.victim_cgroup is not None:
        homes.add(decision.victim_cgroup)
    holds = set()
    for path in homes:
        holds.add(path)
        holds.update(snapshot.ancestors(path))
    return Marks(
        dies=frozenset(dies),
        victim_pid=decision.victim_pid,
        victim_cgroup=decision.victim_cgroup,
        holds=frozenset(holds),
        actual=actual,
    )
