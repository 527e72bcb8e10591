"""kubelet-eviction: the kubelet's node-pressure eviction, which on a Kubernetes node acts before the kernel.

Every 10 s, when `memory.available` (or `allocatableMemory.available`) is
below its hard threshold, the kubelet evicts one whole pod: pods using more
than their memory request first, then lower priority, then the largest
working set above request (`rankMemoryPressure`); static, mirror and
system-critical pods are never evicted (research/k8s-names-and-eviction.md §4).

What a node does not show is said, not guessed: priority is not on the node
(assumed equal); a Burstable pod's request is inferred from its containers'
`oom_score_adj` (kubelet: 1000 − 1000·request/MemTotal, clamped to 3..999),
which only gives an interval MemTotal/1000 wide. Where the order depends on
either, the decision is `uncertain` and names the pods it could be.

The threshold: the option `threshold` (`500Mi`, `5%`) or `eviction_hard`
(the kubelet's `memory.available<500Mi,nodefs.available<10%`), with `source`
saying where it was read; else a `kubelet` Killer recorded in the snapshot
whose settings carry `threshold` or `eviction_hard` (its `source` is quoted);
else the kubelet's default 100Mi.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from oomtui.model import ROOT, Cgroup, Snapshot
from oomtui.policies.base import RANKING_MIN, Candidate, Decision, OptionSpec, PolicySpec
from oomtui.policies.daemon_common import fmt_bytes, kill_nothing, top
from oomtui.policies.kernel_rules import in_fork_order
from oomtui.workload_paths import GUARANTEED, PodPath, path_workload, pod_of

NAME = "kubelet-eviction"
DEFAULT_THRESHOLD = "100Mi"
SIGNAL = "memory.available"
SANDBOX_ADJ = -998  # the runtime's pause container
NODE_CRITICAL_ADJ = -997  # system-node-critical pods (and every Guaranteed container)
_UNITS = {"": 1, "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12, "P": 10**15, "E": 10**18,
          "Ki": 1 << 10, "Mi": 1 << 20, "Gi": 1 << 30, "Ti": 1 << 40, "Pi": 1 << 50, "Ei": 1 << 60}
_QUANTITY = re.compile(r"(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?")
_PERCENT = re.compile(r"(\d+(?:\.\d+)?)%")


@dataclass(frozen=True, slots=True)
class Threshold:
    """A hard eviction threshold: bytes, or a percentage of the signal's capacity; None: no memory threshold."""

    text: str
    value: int | None = None
    percent: float | None = None

    @property
    def never(self) -> bool:
        return self.value is None and self.percent is None

    def bytes_of(self, capacity: int | None) -> int | None:
        if self.value is not None:
            return self.value
        if self.percent is None or capacity is None:
            return None
        return int(capacity * self.percent / 100)  # kubelet: int64(float64(capacity) * percentage)


def parse_threshold(raw: str) -> Threshold | None:
    """`100Mi`, `1G`, `5%` (Kubernetes quantities); empty: not given."""
    text = raw.strip().removeprefix(f"{SIGNAL}<")
    if not text:
        return None
    m = _PERCENT.fullmatch(text)
    if m is not None:
        if text in ("0%", "100%"):  # parseThresholdStatement drops both, as written: no memory threshold
            return Threshold(f"{text} (ignored by the kubelet: no memory threshold)")
        percent = float(m.group(1))
        if percent > 100:
            raise ValueError("expected a percentage from 0 to 100")
        return Threshold(text, percent=percent)
    m = _QUANTITY.fullmatch(text)
    if m is None:
        raise ValueError("expected a quantity such as 100Mi, 1Gi, 500M, or a percentage such as 5%")
    return Threshold(text, value=int(float(m.group(1)) * _UNITS[m.group(2) or ""]))


def parse_eviction_hard(raw: str) -> Threshold | None:
    """The kubelet's --eviction-hard (`memory.available<100Mi,nodefs.available<10%`): its memory threshold.

    Setting evictionHard replaces every default, so one without a
    memory.available entry means the kubelet never evicts for memory.
    """
    if not raw.strip():
        return None
    for part in raw.replace(";", ",").split(","):
        signal, sep, value = part.strip().partition("<")
        if sep and signal.strip() == SIGNAL:
            return parse_threshold(value)
        if not sep or not value.strip():
            raise ValueError(f"expected SIGNAL<VALUE pairs separated by commas, not {part.strip()!r}")
    return Threshold("none (evictionHard sets no memory.available)")


# -- signals ---------------------------------------------------------------------------------------


def working_set(c: Cgroup | None, v1: bool, root: bool = False) -> int | None:
    """usage − inactive_file, floored at 0 (cAdvisor); the v2 root has no memory.current: anon + file."""
    if c is None:
        return None
    usage = c.memory_current
    if usage is None and root and not v1 and "anon" in c.stat and "file" in c.stat:
        usage = c.stat["anon"] + c.stat["file"]
    if usage is None:
        return None
    inactive = c.stat.get("total_inactive_file" if v1 else "inactive_file", 0)
    return max(usage - inactive, 0)


def kubepods(snapshot: Snapshot) -> Cgroup | None:
    """The cgroup all pods sit under (`kubepods`, `kubepods.slice`, kind's `kubelet-kubepods.slice`)."""
    for path in snapshot.walk():
        stem = path.rsplit("/", 1)[-1].removesuffix(".slice")
        if stem == "kubepods" or stem.endswith("-kubepods"):
            return snapshot.cgroup(path)
    return None


@dataclass(frozen=True, slots=True)
class Signal:
    name: str
    available: int | None
    threshold: int | None

    @property
    def below(self) -> bool | None:
        if self.available is None or self.threshold is None:
            return None
        return self.available < self.threshold

    def words(self) -> str:
        limit = "no threshold" if self.threshold is None else f"threshold {fmt_bytes(self.threshold)}"
        return f"{self.name} {fmt_bytes(self.available)} ({limit})"


def signals(snapshot: Snapshot, threshold: Threshold) -> list[Signal]:
    v1 = snapshot.host.cgroup_mode in ("v1", "hybrid")
    capacity = snapshot.host.mem_total
    root_ws = working_set(snapshot.cgroup(ROOT), v1, root=True)
    node = None if capacity is None or root_ws is None else capacity - root_ws
    out = [Signal(SIGNAL, node, threshold.bytes_of(capacity))]
    pods = kubepods(snapshot)
    if pods is not None and pods.memory_max is not None:
        ws = working_set(pods, v1)
        out.append(Signal("allocatableMemory.available", None if ws is None else pods.memory_max - ws,
                          threshold.bytes_of(pods.memory_max)))
    return out


# -- pods and their requests ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Request:
    low: int
    high: int | None  # None: no upper bound known
    how: str  # "exact", "inferred" or "unknown"

    @property
    def mid(self) -> int:
        return self.low if self.high is None else (self.low + self.high) // 2


def adj_interval(adj: int, capacity: int) -> tuple[int, int | None] | None:
    """The requests for which the kubelet sets this oom_score_adj on a Burstable container; None if none do."""
    if adj == 999:
        return 0, -(-2 * capacity // 1000) - 1
    if adj == 3:
        return -(-997 * capacity // 1000), None
    if 4 <= adj <= 998:
        k = 1000 - adj
        return -(-k * capacity // 1000), -(-(k + 1) * capacity // 1000) - 1
    return None


@dataclass(frozen=True, slots=True)
class Pod:
    path: str
    name: str
    qos: str
    working_set: int | None
    request: Request
    critical: str | None  # why it is never evicted
    notes: tuple[str, ...]

    def exceeds(self) -> tuple[bool, bool]:
        """(could be over its request, surely is), over the request's interval: the kubelet's first key."""
        ws, r = self.working_set, self.request
        if ws is None:
            return True, True  # the kubelet ranks pods without stats first
        return ws > r.low, r.high is not None and ws > r.high

    def above(self) -> tuple[float, float]:
        """The working set above request: (least, most) over the request's interval."""
        ws = self.working_set or 0
        return (float("-inf") if self.request.high is None else ws - self.request.high), float(ws - self.request.low)


def _containers(snapshot: Snapshot, pod: str, in_order: bool) -> list[tuple[str, int]]:
    """(container cgroup, oom_score_adj of its first process), sandboxes and conmon left out.

    The containers are the pod's child cgroups; a container's first process
    is its earliest started (then lowest pid), kernel threads aside;
    `in_order`: the listing is in fork order.
    """
    out = []
    for child in snapshot.children(pod):
        if "conmon-" in child.rsplit("/", 1)[-1]:
            continue
        firsts = [f for f in (_first(snapshot, path, in_order) for path in snapshot.walk(child)) if f is not None]
        if firsts and (adj := min(firsts)[2]) != SANDBOX_ADJ:
            out.append((child, adj))
    return out


def _first(snapshot: Snapshot, path: str, in_order: bool) -> tuple[float, int, int] | None:
    """(start, pid, adj) of the first process directly in the cgroup, kernel threads aside.

    A listing in fork order lists each cgroup's processes in fork order, so
    the first one is the earliest: at 50,000 processes in 500 pods the
    other thirty thousand are never looked at.
    """
    keys = ((p.start_time or 0.0, p.pid, p.oom_score_adj) for p in snapshot.processes_in(path) if not p.kernel_thread)
    return next(keys, None) if in_order else min(keys, default=None)


def _request(snapshot: Snapshot, path: str, qos: str, containers: list[tuple[str, int]]) -> tuple[Request, list[str]]:
    if qos == "BestEffort":
        return Request(0, 0, "exact"), []
    c = snapshot.cgroup(path)
    if qos == GUARANTEED:
        if c is not None and c.memory_max is not None:
            return Request(c.memory_max, c.memory_max, "exact"), []
        return Request(0, None, "unknown"), [f"{path}: Guaranteed, but no memory limit in the snapshot"]
    if not containers:
        return Request(0, None, "unknown"), []
    capacity = snapshot.host.mem_total
    if capacity is None:  # the formula divides by MemTotal: without it no adj says anything
        return Request(0, None, "unknown"), [f"{path}: MemTotal unknown, so its containers' requests are too"]
    low, notes = 0, []
    high: int | None = 0
    for child, adj in containers:
        found = adj_interval(adj, capacity)
        if found is None:
            notes.append(f"{child}: oom_score_adj {adj} does not come from the kubelet's formula; request unknown")
            high = None
            continue
        low += found[0]
        high = None if high is None or found[1] is None else high + found[1]
    return Request(low, high, "inferred" if high is not None else "unknown"), notes


def _critical(static: bool, qos: str, containers: list[tuple[str, int]]) -> str | None:
    if static:
        return "static pod (its UID is the manifest's hash)"
    if qos != GUARANTEED and any(adj == NODE_CRITICAL_ADJ for _, adj in containers):
        return f"system-node-critical (oom_score_adj {NODE_CRITICAL_ADJ} in a {qos} pod)"
    return None


def pods(snapshot: Snapshot) -> list[Pod]:
    """Every active pod (with a process) on the node, by its cgroup.

    A what-if view's are its sample's but for the pods holding an edit: at
    50,000 processes in 500 pods, reading them all again was a quarter of
    an edit's evaluation.
    """
    lineage = snapshot.lineage()
    base, edited = lineage if lineage is not None else (snapshot, frozenset())
    known = _memo[0] if _memo else None
    if known is None or known[0] is not base:
        in_order = in_fork_order(base.processes)
        known = (base, {c.path: _pod(base, c, where, in_order) for c in base.cgroups
                        if (where := pod_of(c.path)) is not None and where.path == c.path})
        _memo[:] = [known]
    found = known[1]
    if edited:  # the other pods hold the sample's processes, in its order
        in_order = in_fork_order(snapshot.processes)
        found = dict(found)
        for path in edited:
            if (pod := pod_of(path)) is not None and pod.path in found:
                c = snapshot.cgroup(pod.path)
                found[pod.path] = None if c is None else _pod(snapshot, c, pod, in_order)
    return [p for p in found.values() if p is not None]


_memo: list[tuple[Snapshot, dict[str, Pod | None]]] = []  # the last sample's pods, by pod cgroup


def _pod(snapshot: Snapshot, c: Cgroup, found: PodPath, in_order: bool) -> Pod | None:
    """The pod of this pod cgroup (`found` from its path), or None when it holds no process but kernel threads."""
    if all(p.kernel_thread for path in snapshot.walk(c.path) for p in snapshot.processes_in(path)):
        return None  # stops at the first process that is no kernel thread
    containers = _containers(snapshot, c.path, in_order)
    request, notes = _request(snapshot, c.path, found.qos, containers)
    critical = _critical(found.static, found.qos, containers)
    w = c.workload or path_workload(c.path)
    return Pod(
        path=c.path, name=w.name if w is not None and w.kind == "k8s-pod" else c.path, qos=found.qos,
        working_set=working_set(c, snapshot.host.cgroup_mode in ("v1", "hybrid")), request=request,
        critical=critical, notes=() if critical else tuple(notes),  # a request never matters for those
    )


# -- the decision ---------------------------------------------------------------------------------------


def _key(p: Pod) -> tuple[bool, float, str]:
    """Assuming equal priorities and each request at its interval's middle: larger first."""
    ws = p.working_set
    if ws is None:
        return True, float("inf"), p.path
    return ws > p.request.mid, float(ws - p.request.mid), p.path


def _candidate(p: Pod) -> Candidate:
    r = p.request
    if r.high == r.low:
        req = fmt_bytes(r.low)
    elif r.high is None:
        req = f"≥ {fmt_bytes(r.low)}" if r.low else "unknown"
    else:
        req = f"{fmt_bytes(r.mid)} ± {fmt_bytes((r.high - r.low + 1) // 2)}"
    could, sure = p.exceeds()
    over = "yes" if sure else "maybe" if could else "no"
    ws = fmt_bytes(p.working_set)
    why = f"{p.qos}, working set {ws}, request {req} ({r.how}), over request: {over}, priority unknown"
    score = _key(p)[1]
    return Candidate(cgroup=p.path, score=score if p.working_set is not None else 0.0, why=why, parts={
        "qos": p.qos, "working_set": p.working_set, "request_low": r.low, "request_high": r.high,
        "request": r.how, "exceeds_request": over, "priority": None,
    })


def _rivals(victim: Pod, others: list[Pod]) -> tuple[list[str], list[str], list[str]]:
    """Pods that could go first instead: by the requests' intervals, by an exact tie, by priority."""
    if victim.working_set is None:  # the kubelet sorts pods without stats before all others, whatever they use
        return [], [o.name for o in others if o.working_set is None], []
    v_could, v_sure = victim.exceeds()
    v_least = victim.above()[0]
    v_exact = victim.request.high == victim.request.low
    by_interval: list[str] = []
    ties: list[str] = []
    by_priority: list[str] = []
    for o in others:
        o_could, o_sure = o.exceeds()
        same_group = (o_could and v_could) or (not o_sure and not v_sure)
        ahead = (o_could and not v_sure) or (same_group and o.above()[1] >= v_least)
        if ahead:
            (ties if v_exact and o.request.high == o.request.low else by_interval).append(o.name)
        elif same_group:
            by_priority.append(o.name)
    return by_interval, ties, by_priority


def _names(names: list[str], limit: int = 4) -> str:
    more = f" and {len(names) - limit} more" if len(names) > limit else ""
    return ", ".join(names[:limit]) + more


def _threshold(snapshot: Snapshot, opts: Mapping[str, Any]) -> tuple[Threshold, str]:
    """The option, else the kubelet's settings recorded in the snapshot, else the default; and where from."""
    source = opts["source"]
    if opts["threshold"] is not None:
        return opts["threshold"], source or "option threshold"
    if opts["eviction_hard"] is not None:
        return opts["eviction_hard"], source or "option eviction_hard"
    for k in snapshot.host.killers or ():
        if k.name == "kubelet":
            try:
                t = parse_threshold(k.settings.get("threshold", "")) or parse_eviction_hard(
                    k.settings.get("eviction_hard", ""))
            except ValueError:
                t = None
            if t is not None:
                return t, k.source or "the kubelet's settings"
    return Threshold(DEFAULT_THRESHOLD, value=100 << 20), "the kubelet's default"


def decide(snapshot: Snapshot, domain: str, opts: Mapping[str, Any]) -> Decision:
    threshold, source = _threshold(snapshot, opts)
    found = signals(snapshot, threshold)
    below = [s.below for s in found]
    triggered = False if threshold.never else True if True in below else (None if None in below else False)
    state = "; ".join(s.words() for s in found) + f"; threshold {threshold.text} from {source}"
    if domain != ROOT:
        return kill_nothing(NAME, domain, None, [], "the kubelet evicts for the node's memory signals: "
                            "preview it in the domain /", [])
    everyone = pods(snapshot)
    if not everyone:
        return kill_nothing(NAME, domain, None, [], "no Kubernetes pod with a process in this snapshot", [])
    notes = [n for p in everyone for n in p.notes]
    skipped = [p for p in everyone if p.critical]
    eligible = sorted((p for p in everyone if not p.critical), key=_key, reverse=True)
    if skipped:
        notes.append("never evicted: " + _names([f"{p.name} ({p.critical})" for p in skipped]))
    system = [p.name for p in eligible if p.name.startswith("kube-system/")]
    if system:
        notes.append(f"priority classes are not on the node: {_names(system)} may have a critical one, "
                     "which would spare them")
    ranking = top([_candidate(p) for p in eligible[: 2 * RANKING_MIN]])
    if not eligible:
        return kill_nothing(NAME, domain, triggered, [], f"kubelet: every pod is critical ({state})", notes)
    victim = eligible[0]
    by_interval, ties, by_priority = _rivals(victim, eligible[1:])
    doubts = []
    if by_interval:
        doubts.append(f"requests inferred from oom_score_adj are intervals: {_names(by_interval)} could go first")
    if ties:
        doubts.append(f"ties with {_names(ties)}: the kubelet's sort is unstable")
    if by_priority:
        doubts.append(f"priority is not on the node (assumed equal): with a lower priority, "
                      f"{_names(by_priority)} would go first")
    ws = fmt_bytes(victim.working_set)
    pids = tuple(p.pid for p in snapshot.processes_under(victim.path) if not p.kernel_thread)
    reason = (f"kubelet evicts pod {victim.name}: {_candidate(victim).why} ({state}); "
              f"{len(pids)} process{'es' if len(pids) != 1 else ''}, {ws} freed")
    return Decision(
        policy=NAME, domain=domain, triggered=triggered, victim_cgroup=victim.path, killed_pids=pids,
        freed_bytes=victim.working_set, ranking=ranking, reason=reason,
        uncertain="; ".join([*doubts, *notes]) or None,
    )


POLICIES = (
    PolicySpec(
        name=NAME,
        title="kubelet node-pressure eviction",
        summary="When memory.available drops below the eviction threshold, the pod most over its memory request",
        decide=decide,
        acts_when="below its threshold",
        reads_cgroup_edits=False,
        options=(
            OptionSpec("threshold", parse_threshold, None, "memory.available threshold: 100Mi, 1Gi, 5% "
                       "(default: the kubelet's settings in the snapshot, else 100Mi)"),
            OptionSpec("eviction_hard", parse_eviction_hard, None,
                       "the kubelet's evictionHard, e.g. memory.available<500Mi,nodefs.available<10%"),
            OptionSpec("source", str, "", "where the threshold was read, in words (e.g. /var/lib/kubelet/config.yaml)"),
        ),
    ),
)
