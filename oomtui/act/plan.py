"""What an action would do, decided from a snapshot alone.

Planning is pure so the confirmation dialog, `oomtui kill --dry-run` and the
actor all see the same list: what the user confirmed is exactly what the
actor is handed, and the actor only ever does less (when identities changed).
"""

from __future__ import annotations

import signal as signals
from collections.abc import Collection, Iterable
from dataclasses import dataclass

from oomtui.errors import UserError
from oomtui.model import ROOT, Process, Snapshot, WhatIf, Workload
from oomtui.policies.base import Decision
from oomtui.snapshot import workload_dict
from oomtui.workloads import plan_workloads

OOM_SCORE_ADJ_MIN = -1000
SPARED_ADJ = "spared: oom_score_adj -1000 (the kernel spares it in a group kill too)"
REFUSED_INIT = "refused: host init (pid 1)"
REFUSED_KTHREAD = "refused: kernel thread"
REFUSED_SELF = "refused: oomtui itself or its parent chain (the shell and terminal it runs in)"


class PlanError(UserError):
    """The asked action names nothing that can be acted on; one line for the user."""


@dataclass(frozen=True, slots=True)
class Target:
    """One process as the user saw it: pid and start time name it uniquely."""

    pid: int
    start_time: float | None
    comm: str
    cgroup: str
    footprint: int
    oom_score_adj: int
    cmdline: tuple[str, ...] = ()

    @classmethod
    def of(cls, p: Process) -> Target:
        return cls(p.pid, p.start_time, p.comm, p.cgroup, p.footprint, p.oom_score_adj, tuple(p.cmdline))

    def to_json(self) -> dict:
        return {
            "pid": self.pid, "start_time": self.start_time, "comm": self.comm,
            "cgroup": self.cgroup, "footprint": self.footprint, "oom_score_adj": self.oom_score_adj,
            "cmdline": list(self.cmdline),
        }


@dataclass(frozen=True, slots=True)
class KillPlan:
    title: str
    signal: int
    targets: tuple[Target, ...] = ()
    cgroups: tuple[str, ...] = ()
    spared: tuple[tuple[Target, str], ...] = ()
    refused: tuple[tuple[Target, str], ...] = ()
    workloads: tuple[tuple[str, Workload], ...] = ()  # (cgroup, workload) of what dies: pods, containers, units

    @property
    def signal_name(self) -> str:
        return signal_name(self.signal)

    @property
    def footprint(self) -> int:
        return sum(t.footprint for t in self.targets)

    def to_json(self) -> dict:
        return {
            "title": self.title,
            "signal": self.signal_name,
            "targets": [t.to_json() for t in self.targets],
            "cgroups": list(self.cgroups),
            "spared": [{**t.to_json(), "reason": why} for t, why in self.spared],
            "refused": [{**t.to_json(), "reason": why} for t, why in self.refused],
            **({"workloads": [{"cgroup": c, **workload_dict(w)} for c, w in self.workloads]} if self.workloads else {}),
        }


def signal_name(number: int) -> str:
    try:
        return signals.Signals(number).name
    except ValueError:
        return f"signal {number}"


def refusal(p: Process, protected_pids: Collection[int]) -> str | None:
    """Why this process must never be signalled by oomtui, or None."""
    if p.pid == 1:
        return REFUSED_INIT
    if p.kernel_thread:
        return REFUSED_KTHREAD
    if p.pid in protected_pids:
        return REFUSED_SELF
    return None


class _Builder:
    """Sorts processes into targets, spared and refused, each pid once."""

    def __init__(self, protected_pids: Collection[int]) -> None:
        self.protected = protected_pids
        self.seen: set[int] = set()
        self.targets: list[Target] = []
        self.spared: list[tuple[Target, str]] = []
        self.refused: list[tuple[Target, str]] = []

    def add(self, p: Process, *, group: bool) -> None:
        if p.pid in self.seen:
            return
        self.seen.add(p.pid)
        target = Target.of(p)
        why = refusal(p, self.protected)
        if why is not None:
            self.refused.append((target, why))
        elif group and p.oom_score_adj <= OOM_SCORE_ADJ_MIN:
            self.spared.append((target, SPARED_ADJ))
        else:
            self.targets.append(target)

    def add_all(self, procs: Iterable[Process], *, group: bool) -> None:
        for p in procs:
            self.add(p, group=group)

    def plan(self, snapshot: Snapshot, title: str, signal: int, cgroups: tuple[str, ...] = ()) -> KillPlan:
        return KillPlan(
            title, signal, tuple(self.targets), cgroups, tuple(self.spared), tuple(self.refused),
            plan_workloads(snapshot, (*cgroups, *(t.cgroup for t in self.targets))),
        )


def _verb(signal: int) -> str:
    return "kill" if signal == signals.SIGKILL else f"send {signal_name(signal)} to"


def _count(n: int) -> str:
    return f"{n} process" if n == 1 else f"{n} processes"


def _process(snapshot: Snapshot, pid: int) -> Process:
    p = snapshot.process(pid)
    if p is None:
        raise PlanError(f"no process {pid} (it is not running, or has exited since the sample)")
    return p


def _check_cgroup(snapshot: Snapshot, path: str) -> None:
    if snapshot.cgroup(path) is None:
        raise PlanError(f"no cgroup {path} (it does not exist, or was removed since the sample)")
    if path == ROOT:
        raise PlanError("refusing to kill the root cgroup: that is every process on the host")


def plan_process_kill(
    snapshot: Snapshot, pid: int, signal: int = signals.SIGKILL, protected_pids: Collection[int] = frozenset(),
) -> KillPlan:
    """One process, chosen by the user: its oom_score_adj does not spare it."""
    p = _process(snapshot, pid)
    b = _Builder(protected_pids)
    b.add(p, group=False)
    return b.plan(snapshot, f"{_verb(signal)} process {p.pid} ({p.comm})", signal)


def plan_cgroup_kill(
    snapshot: Snapshot, path: str, signal: int = signals.SIGKILL, protected_pids: Collection[int] = frozenset(),
) -> KillPlan:
    """A whole cgroup subtree, sparing -1000 processes as the kernel's group kill does."""
    _check_cgroup(snapshot, path)
    b = _Builder(protected_pids)
    b.add_all(snapshot.processes_under(path), group=True)
    return b.plan(snapshot, f"{_verb(signal)} cgroup {path} ({_count(len(b.targets))})", signal, (path,))


def plan_decision_kill(
    snapshot: Snapshot, decision: Decision, signal: int = signals.SIGKILL,
    protected_pids: Collection[int] = frozenset(),
) -> KillPlan:
    """What a policy's decision kills: its victim, the others it names, its cgroup whole."""
    if decision.kills_nothing:
        raise PlanError(f"policy {decision.policy} would kill nothing: {decision.reason}")
    b = _Builder(protected_pids)
    if decision.victim_pid is not None:
        b.add(_process(snapshot, decision.victim_pid), group=False)
    b.add_all((p for pid in decision.killed_pids if (p := snapshot.process(pid)) is not None), group=True)
    cgroups: tuple[str, ...] = ()
    if decision.victim_cgroup is not None:
        _check_cgroup(snapshot, decision.victim_cgroup)
        b.add_all(snapshot.processes_under(decision.victim_cgroup), group=True)
        cgroups = (decision.victim_cgroup,)
        what = f"cgroup {decision.victim_cgroup} ({_count(len(b.targets))})"
    elif len(b.targets) == 1:
        what = f"process {b.targets[0].pid} ({b.targets[0].comm})"
    else:
        what = _count(len(b.targets))
    return b.plan(snapshot, f"carry out {decision.policy}'s decision: {_verb(signal)} {what}", signal, cgroups)


# -- knobs ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class KnobWrite:
    """One exact write to the host: a process's oom_score_adj, a cgroup's oom.group or xattr."""

    kind: str  # "oom_score_adj" | "oom_group" | "xattr"
    description: str
    value: int | bool | str | None  # None removes an xattr
    pid: int | None = None
    start_time: float | None = None
    cgroup: str | None = None
    name: str | None = None

    def to_json(self) -> dict:
        return {
            "kind": self.kind, "pid": self.pid, "start_time": self.start_time, "cgroup": self.cgroup,
            "name": self.name, "value": self.value, "description": self.description,
        }


def plan_knob_writes(snapshot: Snapshot, whatif: WhatIf) -> list[KnobWrite]:
    """The writes that make the host match the what-if edits; edits equal to the host are left out.

    Cgroup scores have no kernel knob (they live only in oomtui's what-if), so
    they produce no write.
    """
    writes: list[KnobWrite] = []
    for path, edit in whatif.cgroups.items():
        cg = snapshot.cgroup(path)
        if cg is None:
            continue
        if edit.interdependent is not None and edit.interdependent != bool(cg.oom_group):
            state = "interdependent (memory.oom.group 1)" if edit.interdependent else "independent (memory.oom.group 0)"
            writes.append(KnobWrite("oom_group", f"mark cgroup {path} {state}", edit.interdependent, cgroup=path))
        for name, value in edit.xattrs.items():
            if cg.xattrs.get(name) == value:
                continue
            what = f"remove xattr {name} from cgroup {path}" if value is None else (
                f"set xattr {name}={value!r} on cgroup {path}"
            )
            writes.append(KnobWrite("xattr", what, value, cgroup=path, name=name))
    for pid, pedit in whatif.processes.items():
        p = snapshot.process(pid)
        if p is None or pedit.oom_score_adj is None or pedit.oom_score_adj == p.oom_score_adj:
            continue
        writes.append(KnobWrite(
            "oom_score_adj",
            f"set oom_score_adj of process {pid} ({p.comm}) from {p.oom_score_adj} to {pedit.oom_score_adj}",
            pedit.oom_score_adj, pid=pid, start_time=p.start_time,
        ))
    return writes
