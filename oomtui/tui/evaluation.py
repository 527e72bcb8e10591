"""One evaluation of a snapshot with the user's edits: every policy's decision,
the kernel badness of each process (on demand), and which tree rows a decision marks.

Runs in a thread worker (it can take tens of milliseconds on a big host), so
it imports no Textual and returns plain frozen values.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from oomtui import inforce, whatif
from oomtui.evaluate import evaluate
from oomtui.model import ROOT, Cgroup, Snapshot, WhatIf, is_within
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
    # The memory the decisions were made on: `sample`'s, or an earlier one's when they were carried over.
    basis: Basis | None = field(default=None, compare=False, repr=False)
    _badness: dict[int, int | None] = field(default_factory=dict, compare=False, repr=False)

    @property
    def carried(self) -> bool:
        """The decisions were made on an earlier sample (see `carry`)."""
        return self.basis is not None and self.basis.applied is not self.applied

    def age(self) -> float | None:
        """Seconds between the sample the decisions were made on and the one shown, if carried."""
        if not self.carried or self.basis is None or self.basis.taken_at is None or self.view.taken_at is None:
            return None
        return self.view.taken_at - self.basis.taken_at

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
        basis=Basis(applied, domain),
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
    if previous is None or previous.sample is not sample or previous.domain != domain or previous.carried:
        return {}
    before = previous.view.whatif
    adj_same, cgroups_same = before.processes == edits.processes, before.cgroups == edits.cgroups
    specs = registry.policies()
    return {d.policy: d for d in previous.decisions
            if (spec := specs.get(d.policy)) is not None
            and (adj_same or not spec.reads_oom_score_adj) and (cgroups_same or not spec.reads_cgroup_edits)}


STEADY_SECONDS = 10.0  # decisions carried over a steady host are at most this old
STEADY_SHARE = 0.01  # of the budget: how far memory may move and the decisions stand
STEADY_BYTES = 256 << 20  # ... but never more than this, on a host of terabytes
# % of time some task stalled on memory (host PSI some avg10, which bounds every cgroup's some and full):
STEADY_PRESSURE = 10.0  # below this in both samples,
STEADY_PRESSURE_MOVE = 1.0  # and moved by less than this


@dataclass(frozen=True, slots=True)
class Basis:
    """The sample (with the edits applied) that the decisions were made on."""

    applied: Snapshot
    domain: str

    @property
    def taken_at(self) -> float | None:
        return self.applied.taken_at

    def holds_for(self, now: Snapshot) -> bool:
        """Memory as steady as an idle host's: nothing a policy weighs moved enough to change a verdict.

        Steady means: less than STEADY_SECONDS apart; the same budget; memory stalls below
        STEADY_PRESSURE in both and moved by less than STEADY_PRESSURE_MOVE; available memory (or
        the domain's usage), and the processes' sizes summed over every process (a new or a gone one
        counts whole), each moved by less than STEADY_SHARE of the budget (at most STEADY_BYTES); no
        process changed oom_score_adj or cgroup;
        the same cgroups with the same knobs.
        """
        then = self.applied
        if then.taken_at is None or now.taken_at is None or not 0 <= now.taken_at - then.taken_at < STEADY_SECONDS:
            return False
        (budget, free_then), (budget_now, free_now) = _room(then, self.domain), _room(now, self.domain)
        if budget is None or free_then is None or free_now is None or budget_now != budget:
            return False
        stalled_then, stalled_now = _stalled(then), _stalled(now)
        if max(stalled_then, stalled_now) >= STEADY_PRESSURE or abs(stalled_now - stalled_then) >= STEADY_PRESSURE_MOVE:
            return False
        allowance = min(budget * STEADY_SHARE, STEADY_BYTES)
        return (abs(free_now - free_then) <= allowance and _same_cgroups(then, now)
                and _moved(then, now, allowance) <= allowance)


def _room(snap: Snapshot, domain: str) -> tuple[int | None, int | None]:
    """The domain's budget in bytes and what is left of it: the host's memory and swap, or a cgroup's limit."""
    host = snap.host
    if domain != ROOT:
        c = snap.cgroup(domain)
        if c is None or c.memory_max is None:
            return None, None
        return c.memory_max, None if c.memory_current is None else c.memory_max - c.memory_current
    budget = None if host.mem_total is None else host.mem_total + (host.swap_total or 0)
    free = None if host.mem_available is None else host.mem_available + (host.swap_free or 0)
    return budget, free


def _stalled(snap: Snapshot) -> float:
    psi = snap.host.psi
    return 0.0 if psi is None or psi.some is None or psi.some.avg10 is None else psi.some.avg10


def _knobs(c: Cgroup) -> tuple[object, ...]:
    return (c.memory_max, c.memory_high, c.memory_low, c.memory_min, c.swap_max, c.oom_group, c.xattrs,
            c.owner_uid, c.swappiness)


def _same_cgroups(then: Snapshot, now: Snapshot) -> bool:
    if len(then.cgroups) != len(now.cgroups):
        return False
    for c in now.cgroups:
        b = then.cgroup(c.path)
        if b is None or _knobs(b) != _knobs(c):
            return False
    return True


def _moved(then: Snapshot, now: Snapshot, enough: float) -> float:
    """Bytes the processes' sizes moved between the samples, counted up to just past `enough`;
    infinite when a process changed oom_score_adj or cgroup.

    It runs on every sample of a 10,000-process host: a process the collector found unchanged is
    the very same object in both, and costs one lookup."""
    moved = 0
    same = 0  # processes of `now` that were in `then`: when all of `then`'s, none went
    before = then.process
    for p in now.processes:
        q = before(p.pid)
        if q is p:
            same += 1
            continue
        if q is None or q.start_time != p.start_time:
            moved += p.footprint
        elif q.oom_score_adj != p.oom_score_adj or q.cgroup != p.cgroup:
            return float("inf")
        else:
            same += 1
            moved += abs(p.footprint - q.footprint)
        if moved > enough:
            return moved
    if same == len(then.processes):
        return moved
    after = now.process
    for q in then.processes:
        r = after(q.pid)
        if r is None or r.start_time != q.start_time:
            moved += q.footprint
            if moved > enough:
                break
    return moved


def carry(previous: Evaluation | None, sample: Snapshot, edits: WhatIf, domain: str) -> Evaluation | None:
    """The new `sample` with `previous`'s decisions, when memory is steady and every victim is still
    the same process; None when the policies must run again.

    Running every policy is most of an idle refresh's CPU on a big host (the collection is the rest),
    and on an idle host it names the same victims every two seconds. The tree and the sizes are the
    new sample's; who would act first is reckoned again (it is cheap and moves with memory); only the
    decisions are kept, for at most STEADY_SECONDS, and the verdicts' title says how old they are.
    """
    if previous is None or previous.basis is None or sample.oom_event is not None or sample.source != "live":
        return None
    if previous.domain != domain or previous.view.whatif != edits or not previous.decisions:
        return None
    start = provisional(sample, edits, domain)
    if start.domain != domain or not previous.basis.holds_for(start.applied):
        return None
    before = previous.basis.applied  # holds_for saw no process change cgroup; a small victim may have gone
    for d in previous.decisions:
        for pid in (d.victim_pid, *d.killed_pids):
            if pid is None:
                continue
            then, now = before.process(pid), start.applied.process(pid)
            if then is None or now is None or now.start_time != then.start_time:
                return None
        if d.victim_cgroup is not None and start.applied.cgroup(d.victim_cgroup) is None:
            return None
    ranked = inforce.order(start.applied, domain, list(previous.decisions))
    return replace(start, decisions=tuple(r.decision for r in ranked),
                   standings={r.decision.policy: r.standing for r in ranked}, basis=previous.basis)


@dataclass(frozen=True, slots=True)
class Carried:
    """`carry`'s answer, worked out beside the collection, for the screen to take if nothing moved meanwhile."""

    previous: Evaluation  # the evaluation shown when the sample was made
    edits: WhatIf
    domain: str
    evaluation: Evaluation | None  # None: the policies must run again


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
