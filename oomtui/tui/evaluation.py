"""One evaluation of a snapshot with the user's edits: every policy's decision,
the kernel badness of each process (on demand), and which tree rows a decision marks.

Runs in a thread worker (it can take tens of milliseconds on a big host), so
it imports no Textual and returns plain frozen values.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from oomtui import inforce, whatif
from oomtui.evaluate import evaluate
from oomtui.model import ROOT, Snapshot, WhatIf, is_within
from oomtui.policies import registry
from oomtui.policies.base import Decision
from oomtui.policies.budget import kernel_version, total_pages
from oomtui.policies.kernel_rules import badness
from oomtui.replay import replay


@dataclass(frozen=True, slots=True)
class Evaluation:
    view: Snapshot  # the sample, carrying the edits in `whatif`
    applied: Snapshot  # the sample as the edits would make it
    domain: str
    decisions: tuple[Decision, ...]
    budget: int  # the domain's total pages, which scales oom_score_adj
    # Each policy's standing on this host (in force, acts at, distance); `decisions` are in `inforce.order`.
    standings: dict[str, inforce.Standing] = field(default_factory=dict, compare=False)
    sample: Snapshot | None = field(default=None, compare=False, repr=False)  # what `view` overlays
    _badness: dict[int, int | None] = field(default_factory=dict, compare=False, repr=False)

    def standing(self, policy: str | None) -> inforce.Standing | None:
        return self.standings.get(policy) if policy is not None else None

    def decision(self, policy: str | None) -> Decision | None:
        return next((d for d in self.decisions if d.policy == policy), None)

    def badness(self, pid: int) -> int | None:
        """Kernel badness in pages against the domain's budget; None outside the domain or ineligible.

        Computed when a row asks for it: the tree shows a few hundred rows of a
        10,000-process host, and the edit-to-verdict time counts every millisecond.
        """
        if pid not in self._badness:
            p = self.applied.process(pid)
            inside = p is not None and is_within(p.cgroup, self.domain)
            host = self.applied.host
            self._badness[pid] = (
                badness(p, self.budget, host.page_size, kernel_version(host.kernel)) if inside else None  # type: ignore[arg-type]
            )
        return self._badness[pid]


def run(sample: Snapshot, edits: WhatIf, domain: str = ROOT, previous: Evaluation | None = None) -> Evaluation:
    """`previous`, the last evaluation shown, lends the decisions an edit cannot have changed.

    The policies run with the settings of the killers in force (`host.killers`, live or as a
    snapshot recorded them), and come out in `inforce.order`: who would act first at the top.
    """
    start = provisional(sample, edits, domain)
    view, applied, domain = start.view, start.applied, start.domain
    names = list(registry.policies())
    options = inforce.merged_options(sample, None)
    event = sample.oom_event
    if sample.source == "kernel-log" and event is not None and event.domain == domain:
        # As `oomtui preview` and `import-oom` do: the kernel's rules from the report's features, its table order.
        replayed = {r.policy: r.decision for r in replay(applied).policies}
        decisions = [replayed[n] if n in replayed else evaluate(applied, domain, [n], options)[0] for n in names]
    else:
        kept = _reusable(previous, sample, edits, domain)
        todo = [n for n in names if n not in kept]
        fresh = iter(evaluate(applied, domain, todo, options) if todo else ())  # applied: no second overlay
        decisions = [kept[n] if n in kept else next(fresh) for n in names]
    ranked = inforce.order(applied, domain, decisions)
    return Evaluation(
        view=view,
        applied=applied,
        domain=domain,
        decisions=tuple(r.decision for r in ranked),
        budget=start.budget,
        standings={r.decision.policy: r.standing for r in ranked},
        sample=sample,
    )


def provisional(sample: Snapshot, edits: WhatIf, domain: str = ROOT) -> Evaluation:
    """The sample with the edits before any policy has run: no decisions yet, but all the tree needs
    (rows, badness), so the screen can show the host while the policies run (a second on 50,000 processes)."""
    view = sample.with_replaced({}, {}, edits)  # reuses the sample's index: no re-index per edit
    applied = whatif.apply(view)
    if domain != ROOT and ((c := applied.cgroup(domain)) is None or c.memory_max is None):
        domain = ROOT  # the domain cgroup vanished or lost its limit
    return Evaluation(view=view, applied=applied, domain=domain, decisions=(),
                      budget=total_pages(applied, domain).pages, sample=sample)


def _reusable(previous: Evaluation | None, sample: Snapshot, edits: WhatIf, domain: str) -> dict[str, Decision]:
    """Decisions from `previous` that no edit made since could have changed.

    oomd and systemd-oomd ignore oom_score_adj, earlyoom and nohang the
    cgroup knobs; on a 10,000-process host re-running them is a third of an
    evaluation, for the one edit a user repeats most.
    """
    if previous is None or previous.sample is not sample or previous.domain != domain:
        return {}
    before = previous.view.whatif
    adj_same, cgroups_same = before.processes == edits.processes, before.cgroups == edits.cgroups
    specs = registry.policies()
    return {d.policy: d for d in previous.decisions
            if (spec := specs.get(d.policy)) is not None
            and (adj_same or not spec.reads_oom_score_adj) and (cgroups_same or not spec.reads_cgroup_edits)}


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
