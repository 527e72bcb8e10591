"""Did the prediction match? A real kill beside what oomtui predicted on the sample just before it.

Pure: a kill event (`oomlog.follow`), the snapshot taken before it, and
the decisions evaluated on that snapshot for the event's domain (in
`inforce.order`'s order) give a verdict — which policy's prediction the
kill is judged against (the kernel's for a kernel kill, the daemon's
in-force policies for oomd or systemd-oomd), whether it named the victim,
which killer oomtui expected to act first, and every policy's pick.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from oomtui.errors import UsageError
from oomtui.evaluate import Options, check_domain
from oomtui.inforce import KERNEL, KILLER_POLICIES, Ranked, evaluate_in_force, first_to_act, killer_of
from oomtui.model import ROOT, Snapshot
from oomtui.oomlog.follow import KillEvent
from oomtui.policies.base import Decision
from oomtui.text import printable
from oomtui.workload_paths import pod_of

COMM_LEN = 15  # the kernel prints task->comm, at most 15 characters


@dataclass(frozen=True, slots=True)
class Verdict:
    event: KillEvent
    matched: bool | None  # None: cannot be told (no sample before, the domain or victim not in it)
    judged_by: tuple[str, ...]  # the policies whose picks the kill is compared with
    predicted: str | None  # their pick, in words
    first_expected: str | None  # the killer in force oomtui ordered first
    note: str
    picks: dict[str, str | None] = field(default_factory=dict)  # every policy's pick, in words

    @property
    def first_acted(self) -> bool | None:
        """Whether the killer that acted is the one oomtui ordered first (None where none was ordered)."""
        if self.first_expected is None:
            return None
        return (killer_of(self.first_expected) or KERNEL) == self.event.killer

    def to_json(self) -> dict[str, Any]:
        return {"event": self.event.to_json(), "matched": self.matched, "judged_by": list(self.judged_by),
                "predicted": self.predicted, "first_expected": self.first_expected, "first_acted": self.first_acted,
                "note": self.note, "picks": dict(self.picks)}

    def summary(self) -> str:
        said = {True: "as predicted", False: "not as predicted", None: "prediction unknown"}[self.matched]
        return f"{self.event.describe()}: {said}" + (f" ({printable(self.note)})" if self.note else "")


def pick(d: Decision) -> str | None:
    """A decision's victim in words: `pid 123` or `cgroup /a`, None when it kills nothing."""
    if d.victim_pid is not None:
        return f"pid {d.victim_pid}"
    if d.victim_cgroup is not None:
        return f"cgroup {d.victim_cgroup}"
    return None


def pod_cgroup(snapshot: Snapshot, pod: str, uid: str | None) -> str | None:
    """The cgroup of the pod the kubelet names (namespace/name, and its UID where logged), or None."""
    for c in snapshot.cgroups:
        found = pod_of(c.path)
        if found is None or found.path != c.path:
            continue
        w = c.workload
        if (uid is not None and found.uid == uid) or (
                w is not None and w.namespace is not None and f"{w.namespace}/{w.pod}" == pod):
            return c.path
    return None


def _hits(d: Decision, event: KillEvent) -> bool:
    if event.pid is not None:
        return d.victim_pid == event.pid or event.pid in d.killed_pids
    return d.victim_cgroup is not None and d.victim_cgroup == event.cgroup


def judge(event: KillEvent, before: Snapshot | None, ranked: Sequence[Ranked]) -> Verdict:
    """The verdict on one kill, from the sample before it and the decisions made on it."""
    picks = {r.decision.policy: pick(r.decision) for r in ranked}
    first = first_to_act(ranked)
    first_name = first.decision.policy if first is not None else None
    judged = KILLER_POLICIES.get(event.killer, (KERNEL,))
    mine = [r for r in ranked if r.decision.policy in judged and r.standing.applicable
            and (event.killer == "kernel" or r.standing.in_force is not False)]

    def verdict(matched: bool | None, predicted: str | None, note: str) -> Verdict:
        return Verdict(event, matched, tuple(r.decision.policy for r in mine) or judged, predicted, first_name,
                       note, picks)

    if before is None:
        return verdict(None, None, "no sample was taken before it")
    if event.group_member:
        return verdict(None, None, "killed with its oom.group; the verdict is on the process chosen")
    if not mine:
        return verdict(None, None, f"no {event.killer} policy was evaluated for {event.domain or 'this kill'}")
    if event.pod is not None and event.cgroup is None:
        return verdict(None, None, f"pod {event.pod} was not in the sample before (or its name not known there)")
    if event.pid is not None:
        p = before.process(event.pid)
        if p is None:
            return verdict(None, None, f"pid {event.pid} started after the sample")
        if event.comm is not None and p.comm[:COMM_LEN] != event.comm[:COMM_LEN]:
            return verdict(None, None, f"pid {event.pid} was {p.comm!r} in the sample: a different process")
    predicted = "; ".join(f"{r.decision.policy}: {pick(r.decision) or 'nothing'}" for r in mine)
    if any(_hits(r.decision, event) for r in mine):
        return verdict(True, predicted, "")
    return verdict(False, predicted, "")


def verdict_for(event: KillEvent, before: Snapshot | None, given: Options | None = None) -> Verdict:
    """Evaluate every policy on the sample before the kill, for the kill's domain, and judge it.

    A daemon's kill is judged on the host as a whole (`/`): oomd and
    systemd-oomd watch their cgroups, not one OOM domain. A pod the kubelet
    evicted is found in the sample by its UID or name: the verdict's event
    carries its cgroup.
    """
    domain = event.domain if event.killer == "kernel" and event.domain else ROOT
    if before is None:
        return judge(event, None, [])
    if event.pod is not None and event.cgroup is None:
        event = replace(event, cgroup=pod_cgroup(before, event.pod, event.pod_uid))
    try:
        check_domain(before, domain)
    except UsageError:
        return Verdict(event, None, (KERNEL,), None, None, f"{domain} is not a limited cgroup in the sample before")
    return judge(event, before, evaluate_in_force(before, domain, None, given))


@dataclass
class Scoreboard:
    """Predicted against actual kills over a session: what the TUI's tally and a recording's summary count."""

    verdicts: list[Verdict] = field(default_factory=list)

    def add(self, verdict: Verdict) -> None:
        if not verdict.event.group_member:  # a group's members share the chosen process's verdict
            self.verdicts.append(verdict)

    def count(self, matched: bool | None) -> int:
        return sum(1 for v in self.verdicts if v.matched is matched)

    def summary(self) -> str:
        n = len(self.verdicts)
        if not n:
            return "no OOM kill seen yet"
        return (f"{n} kill{'s' if n != 1 else ''}: {self.count(True)} as predicted, {self.count(False)} not, "
                f"{self.count(None)} unknown")
