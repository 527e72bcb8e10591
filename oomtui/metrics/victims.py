"""A decision's predicted victim as metric labels and values (research/fleet-prometheus.md §4.1).

Labels carry only what changes when the decision changes: kind, comm,
cgroup, why the victim looks protected, and its workload's names. The pid,
sizes and scores are values or nothing, so a restarted service keeps its
series and a fleet's series count stays bounded.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from oomtui.model import ROOT, Snapshot, Workload, is_within, parent_of
from oomtui.policies.base import Decision
from oomtui.text import printable

# Label values come from process and cgroup names any user can choose: control
# characters are shown escaped, and the length is capped under Prometheus'
# usual label_value_length_limit.
LABEL_LIMIT = 256
PROTECTIONS = ("none", "configured", "oom_score_adj", "memory_min", "memory_low", "oomd_avoid")
VICTIM_LABELS = ("victim_kind", "victim_comm", "victim_cgroup", "protected", "namespace", "pod", "container", "unit")
_AVOID_XATTRS = ("trusted.oomd_avoid", "user.oomd_avoid", "user.oomd_omit")


def label(s: str) -> str:
    return printable(s, LABEL_LIMIT)


@dataclass(frozen=True, slots=True)
class Victim:
    """One (domain, policy) pair's victim: the info labels and the numeric values."""

    labels: dict[str, str]
    pid: int
    freed: int
    certain: bool


def _protection(snapshot: Snapshot, d: Decision, cgroup: str, comm: str, protect: re.Pattern[str] | None) -> str:
    """The first reason, in PROTECTIONS order, to think someone meant to spare this victim."""
    if protect is not None and any(protect.search(s) for s in (cgroup, comm, _unit(snapshot, cgroup)) if s):
        return "configured"
    p = snapshot.process(d.victim_pid) if d.victim_pid is not None else None
    if p is not None and p.oom_score_adj < 0:
        return "oom_score_adj"
    chain: list[str] = []
    current: str | None = cgroup
    while current is not None and is_within(current, d.domain):
        chain.append(current)
        current = None if current == d.domain else parent_of(current)
    cgroups = [c for c in (snapshot.cgroup(path) for path in chain) if c is not None]
    if any(c.memory_min for c in cgroups):
        return "memory_min"
    if any(c.memory_low for c in cgroups):
        return "memory_low"
    if any(c.xattrs.get(x) not in (None, "", "0") for c in cgroups for x in _AVOID_XATTRS):
        return "oomd_avoid"
    return "none"


def _unit(snapshot: Snapshot, cgroup: str) -> str:
    w = snapshot.workload_of(cgroup)
    return w.name if w is not None and w.kind == "unit" else ""


def workload_labels(w: Workload | None) -> dict[str, str]:
    """namespace, pod, container, unit: empty where unknown."""
    if w is None:
        return {"namespace": "", "pod": "", "container": "", "unit": ""}
    pod = w.pod or (w.name if w.kind == "k8s-pod" else "")
    container = w.container or (w.name if w.kind in ("k8s-container", "container") else "")
    return {
        "namespace": label(w.namespace or ""),
        "pod": label(pod),
        "container": label(container),
        "unit": label(w.name if w.kind == "unit" else ""),
    }


def victim(snapshot: Snapshot, d: Decision, protect: re.Pattern[str] | None = None) -> Victim:
    """The labels and values that describe `d`'s victim, `victim_kind="none"` when it kills nothing."""
    if d.victim_pid is not None:
        p = snapshot.process(d.victim_pid)
        kind, comm = "process", (p.comm if p is not None else "")
        cgroup = d.victim_pid_cgroup or (p.cgroup if p is not None else "")
    elif d.victim_cgroup is not None:
        kind, comm, cgroup = "cgroup", "", d.victim_cgroup
    else:
        kind, comm, cgroup = "none", "", ""
    protected = "none" if kind == "none" else _protection(snapshot, d, cgroup or ROOT, comm, protect)
    labels = {
        "victim_kind": kind,
        "victim_comm": label(comm),
        "victim_cgroup": label(cgroup),
        "protected": protected,
        **workload_labels(snapshot.workload_of(cgroup) if cgroup else None),
    }
    return Victim(labels, d.victim_pid or 0, d.freed_bytes or 0, d.uncertain is None)
