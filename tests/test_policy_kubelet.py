"""kubelet-eviction against hand-worked cases from the kubelet's rules.

The host has MemTotal = 1000 MiB, so MemTotal/1000 is exactly 1 MiB: a
Burstable container with oom_score_adj 900 has a request in [100 MiB,
101 MiB), and every figure below can be checked with pencil and paper.
"""

from __future__ import annotations

import dataclasses

import pytest

from oomtui.evaluate import evaluate
from oomtui.model import Cgroup, Killer, Workload
from oomtui.policies import registry
from oomtui.policies.base import OptionError
from oomtui.policies.kubelet import adj_interval, parse_eviction_hard, parse_threshold
from tests.support.handmade import MiB, proc, snapshot

KP = "/kubepods.slice"
BU = f"{KP}/kubepods-burstable.slice"
BE = f"{KP}/kubepods-besteffort.slice"
UIDS = {name: f"{i:08x}_1111_2222_3333_444455556666" for i, name in enumerate("abcdefgh", 1)}
STATIC = "6a2b1c3d4e5f60718293a4b5c6d7e8f9"
C = 1000 * MiB


def label(path: str) -> str:
    """How the decision names a pod whose names are unknown: by its UID's first 8 digits."""
    return "pod " + path.rsplit("pod", 1)[1][:8]


def pod_path(name: str, qos: str) -> str:
    if qos == "Guaranteed":
        return f"{KP}/kubepods-pod{UIDS[name]}.slice"
    parent, level = (BU, "burstable") if qos == "Burstable" else (BE, "besteffort")
    return f"{parent}/kubepods-{level}-pod{UIDS[name]}.slice"


class Node:
    """Pods with one container each (and a pause sandbox), sizes in MiB."""

    def __init__(self, root_ws: float = 400, v1: bool = False, mode: str = "v1") -> None:
        self.v1, self.mode = v1, mode  # the mode a v1 node's snapshot says: "v1", or "hybrid" (memory on v1)
        inactive = "total_inactive_file" if v1 else "inactive_file"
        if v1:
            root = Cgroup(path="/", memory_current=int((root_ws + 100) * MiB), stat={inactive: 100 * MiB})
        else:  # the v2 root has no memory.current: usage = anon + file of its memory.stat
            root = Cgroup(path="/", stat={"anon": int(root_ws * MiB), "file": 100 * MiB, inactive: 100 * MiB})
        self.cgroups = [root, Cgroup(path=KP, memory_max=900 * MiB, memory_current=500 * MiB,
                                     stat={inactive: 50 * MiB}), Cgroup(path=BU), Cgroup(path=BE)]
        self.procs: list = []
        self.pid = 100

    def pod(self, name: str, qos: str, ws: float, adj: int, limit: float | None = None, path: str | None = None):
        path = path or pod_path(name, qos)
        key = "total_inactive_file" if self.v1 else "inactive_file"
        self.cgroups.append(Cgroup(path=path, memory_current=int((ws + 1) * MiB), stat={key: MiB},
                                   memory_max=None if limit is None else int(limit * MiB)))
        pause, app = f"{path}/cri-containerd-{'0' * 63}{self.pid % 10}.scope", f"{path}/cri-containerd-{name}.scope"
        self.cgroups += [Cgroup(path=pause), Cgroup(path=app)]
        self.procs.append(proc(self.pid, pause, 0.2, adj=-998, comm="pause"))
        self.procs.append(proc(self.pid + 1, app, ws, adj=adj, comm=name))
        self.pid += 2
        return path

    def snap(self, **kw):
        snap = snapshot(self.cgroups, self.procs, mem_total=C, **kw)
        return snap.replace(host=dataclasses.replace(snap.host, cgroup_mode=self.mode)) if self.v1 else snap


def decide(snap, **options):
    [d] = evaluate(snap, "/", ["kubelet-eviction"], {"kubelet-eviction": options} if options else None)
    assert (d.policy, d.domain) == ("kubelet-eviction", "/")  # what the decision's JSON and the TUI's column say
    return d


def test_the_request_intervals_invert_the_kubelets_formula():
    assert adj_interval(900, C) == (100 * MiB, 101 * MiB - 1)
    assert adj_interval(999, C) == (0, 2 * MiB - 1)  # no request at all gives 999 too
    assert adj_interval(3, C) == (997 * MiB, None)
    assert adj_interval(1000, C) is None and adj_interval(-5, C) is None
    assert adj_interval(4, C) == (996 * MiB, 997 * MiB - 1) and adj_interval(998, C) == (2 * MiB, 3 * MiB - 1)
    for request in (0, 1, 100 * MiB + 7, 512 * MiB, 996 * MiB, C):  # kubelet's policy.go, then the inverse
        adj = max(3, min(999, 1000 - 1000 * request // C))
        low, high = adj_interval(adj, C)
        assert low <= request and (high is None or request <= high)


def test_the_intervals_are_whole_bytes_on_a_real_memtotal():
    odd = 16318480 * 1024  # MemTotal of a 16 GB machine: not a multiple of 1000
    assert adj_interval(900, odd) == (1671012352, 1687722475)  # ⌈100·odd/1000⌉, ⌈101·odd/1000⌉ − 1
    assert adj_interval(999, odd) == (0, 33420247) and adj_interval(3, odd) == (16659993150, None)
    assert adj_interval(997, odd) == (50130371, 66840494)  # 3·odd/1000 = 50130370.56: rounded up to a whole byte
    def kubelet(request: int) -> int:  # pkg/kubelet/qos/policy.go for a Burstable container
        return max(3, min(999, 1000 - 1000 * request // odd))

    for adj in (3, 4, 5, 500, 900, 997, 998, 999):  # each interval is exactly the requests that give its adj
        low, high = adj_interval(adj, odd)
        assert kubelet(low) == adj and (low == 0 or kubelet(low - 1) != adj)
        assert high is None if adj == 3 else kubelet(high) == adj and kubelet(high + 1) != adj


def test_pods_over_their_request_go_first_then_the_most_above_it():
    n = Node()
    a = n.pod("a", "Burstable", 300, 900)  # request ≈ 100 MiB: 200 MiB over
    n.pod("b", "Guaranteed", 450, -997, limit=500)  # 50 MiB under its request
    c = n.pod("c", "BestEffort", 50, 1000)  # request 0: 50 MiB over
    d = decide(n.snap())
    assert d.victim_cgroup == a and d.freed_bytes == 300 * MiB
    assert set(d.killed_pids) == {100, 101}  # the whole pod: sandbox and container
    assert [x.cgroup for x in d.ranking] == [a, c, pod_path("b", "Guaranteed")]
    assert [x.parts["exceeds_request"] for x in d.ranking] == ["yes", "yes", "no"]
    # c shares a's group: only an unknown priority could put it first; b never
    assert "priority is not on the node" in d.uncertain
    assert label(c) in d.uncertain and label(pod_path("b", "Guaranteed")) not in d.uncertain


def test_a_besteffort_pod_using_memory_is_over_its_request_of_0():
    n = Node()
    n.pod("a", "Burstable", 520, 500)  # request ≈ 500 MiB: about 20 MiB over
    c = n.pod("c", "BestEffort", 60, 1000)  # 60 MiB over a request of 0
    n.pod("b", "Guaranteed", 5, -997, limit=10)
    d = decide(n.snap())
    assert d.victim_cgroup == c
    assert d.ranking[0].parts["request_low"] == d.ranking[0].parts["request_high"] == 0


def test_critical_pods_are_never_chosen():
    n = Node()
    static = n.pod("a", "Burstable", 600, 900, path=f"{BU}/kubepods-burstable-pod{STATIC}.slice")
    node_critical = n.pod("b", "Burstable", 500, -997)  # system-node-critical: -997 outside Guaranteed
    small = n.pod("c", "Burstable", 20, 999)
    d = decide(n.snap())
    assert d.victim_cgroup == small
    assert static not in [x.cgroup for x in d.ranking] and node_critical not in [x.cgroup for x in d.ranking]
    assert d.uncertain == (f"never evicted: {label(static)} (static pod (its UID is the manifest's hash)), "
                           f"{label(node_critical)} (system-node-critical (oom_score_adj -997 in a Burstable pod))")


def test_only_critical_pods_means_no_eviction():
    n = Node()
    n.pod("b", "Burstable", 500, -997)
    d = decide(n.snap())
    assert d.kills_nothing and "every pod is critical" in d.reason


def test_an_interval_that_could_reverse_the_order_makes_it_uncertain():
    n = Node()
    a = n.pod("a", "Burstable", 100.8, 900)  # request in [100, 101) MiB: 0.8 MiB over at most, maybe under
    c = n.pod("c", "BestEffort", 0.5, 1000)  # exactly 0.5 MiB over
    d = decide(n.snap())
    assert d.victim_cgroup == c  # at the interval's middle a is 0.3 MiB over
    assert d.ranking[1].parts["exceeds_request"] == "maybe"
    assert "intervals" in d.uncertain and label(a) in d.uncertain.split("intervals:")[1]


def test_a_working_set_at_an_intervals_edge_is_not_over_that_edge():
    """adj 900: a request in [100 MiB, 101 MiB - 1]. The kubelet counts a pod as over its request only when
    the working set is strictly above it, so at the top of the interval it is only maybe over, at the bottom
    surely not, and one byte past the top surely over."""
    n = Node()
    top, bottom, past = (n.pod("a", "Burstable", 101 - 1 / MiB, 900), n.pod("b", "Burstable", 100, 900),
                         n.pod("c", "Burstable", 101, 900))
    d = decide(n.snap())
    assert [(c.cgroup, c.parts["exceeds_request"]) for c in d.ranking] == [
        (past, "yes"), (top, "maybe"), (bottom, "no")]


@pytest.mark.parametrize(("victim", "close", "far"), [(300, 299.5, 250), (50, 49.5, 40)])
def test_a_rival_within_the_intervals_width_could_go_first_one_further_only_by_priority(victim, close, far):
    """All three over their requests (adj 900: [100, 101) MiB), or none: the victim is at least 199 MiB + 1 B
    (or -51 MiB + 1 B) above its request. The close pod is at most 199.5 (-50.5) MiB above its own, so with
    its request at the bottom and the victim's at the top it would go first; the far one only with a lower
    priority."""
    n = Node()
    v, c, f = (n.pod("a", "Burstable", victim, 900), n.pod("b", "Burstable", close, 900),
               n.pod("c", "Burstable", far, 900))
    d = decide(n.snap())
    assert d.victim_cgroup == v
    assert d.uncertain == (f"requests inferred from oom_score_adj are intervals: {label(c)} could go first; "
                           f"priority is not on the node (assumed equal): with a lower priority, {label(f)} "
                           "would go first")


def test_more_inactive_file_than_usage_is_a_working_set_of_0_not_over_a_request_of_0():
    n = Node()
    path = n.pod("a", "BestEffort", 0, 1000)
    i = next(i for i, c in enumerate(n.cgroups) if c.path == path)
    n.cgroups[i] = dataclasses.replace(n.cgroups[i], stat={"inactive_file": 2 * MiB})  # 1 MiB charged in all
    [c] = decide(n.snap()).ranking
    assert (c.parts["working_set"], c.parts["exceeds_request"]) == (0, "no")


def test_exact_requests_far_apart_leave_no_interval_doubt():
    n = Node()
    n.pod("a", "Guaranteed", 100, -997, limit=400)
    n.pod("c", "BestEffort", 30, 1000)
    d = decide(n.snap())
    assert d.victim_cgroup == pod_path("c", "BestEffort")
    assert d.uncertain is None  # different groups: neither priority nor an interval can change it


@pytest.mark.parametrize(("v1", "mode"), [(False, "v2"), (True, "v1"), (True, "hybrid")])
def test_signals_are_computed_exactly(v1, mode):
    n = Node(root_ws=400, v1=v1, mode=mode)
    n.pod("c", "BestEffort", 30, 1000)
    d = decide(n.snap())
    # memory.available = 1000 − (usage 500 − inactive 100) = 600 MiB;
    # allocatable = 900 − (500 − 50) = 450 MiB; both above 100 MiB; the pod: 31 MiB − 1 MiB inactive
    assert d.triggered is False and d.ranking[0].parts["working_set"] == 30 * MiB
    assert "memory.available 600.0 MiB" in d.reason and "allocatableMemory.available 450.0 MiB" in d.reason
    assert "the kubelet's default" in d.reason


def test_threshold_from_the_options_and_from_the_kubelets_config():
    n = Node(root_ws=400)
    n.pod("c", "BestEffort", 30, 1000)
    assert decide(n.snap(), threshold="700Mi").triggered is True  # 600 MiB available < 700 MiB
    assert decide(n.snap(), threshold="50%").triggered is False  # allocatable 450 is not below 50 % of 900
    assert decide(n.snap(), threshold="51%").triggered is True  # 450 < 459 MiB; 600 is not below 510
    assert decide(n.snap(), threshold="40%").triggered is False  # 400 MiB and 360 MiB
    d = decide(n.snap(), eviction_hard="memory.available<1Gi,nodefs.available<10%",
               source="/var/lib/kubelet/config.yaml")
    assert d.triggered is True and "from /var/lib/kubelet/config.yaml" in d.reason
    assert decide(n.snap(), eviction_hard="nodefs.available<10%").triggered is False  # no memory threshold
    killer = Killer(name="kubelet", pid=812, settings={"eviction_hard": "memory.available<650Mi"},
                    source="/var/lib/kubelet/config.yaml")
    snap = n.snap()
    recorded = snap.replace(host=dataclasses.replace(snap.host, killers=(killer,)))
    d = decide(recorded)
    assert d.triggered is True and "memory.available<650Mi" not in d.reason and "650Mi" in d.reason
    flag = Killer(name="kubelet", pid=812, settings={"threshold": "700Mi"}, source="--eviction-hard of pid 812")
    d = decide(snap.replace(host=dataclasses.replace(snap.host, killers=(flag,))))  # as the collector records it
    assert d.triggered is True and "from --eviction-hard of pid 812" in d.reason


def test_bad_thresholds_are_one_line_errors():
    spec = registry.get("kubelet-eviction")
    for key, raw in (("threshold", "lots"), ("threshold", "120%"), ("eviction_hard", "memory.available")):
        with pytest.raises(OptionError):
            spec.resolve_options({key: raw})
    assert parse_threshold("1G").value == 10**9 and parse_threshold("memory.available<2Gi").value == 2 << 30
    assert parse_eviction_hard("memory.available<5%").percent == 5


def test_not_a_kubernetes_node_or_not_the_node_domain():
    n = Node()
    assert "no Kubernetes pod" in decide(n.snap()).reason
    n.pod("c", "BestEffort", 30, 1000)
    [d] = evaluate(n.snap(), KP, ["kubelet-eviction"])
    assert d.kills_nothing and "domain /" in d.reason
    assert (d.policy, d.domain) == ("kubelet-eviction", KP)


def test_it_sits_beside_the_other_policies():
    spec = registry.policies()["kubelet-eviction"]
    assert spec.reads_oom_score_adj and not spec.reads_cgroup_edits


def option_error(key: str, raw: str) -> str:
    with pytest.raises(OptionError) as e:
        registry.get("kubelet-eviction").resolve_options({key: raw})
    return str(e.value)


def test_threshold_quantities_and_percentages_as_the_kubelet_reads_them():
    assert parse_threshold("123").value == 123  # a plain number is bytes
    assert parse_threshold("1.5Gi").value == 3 << 29 and parse_threshold("2k").value == 2000
    assert parse_threshold(" 5% ").percent == 5 and parse_threshold("100%").value is None
    assert parse_threshold("99.5%").percent == 99.5  # up to 100 %
    assert parse_threshold("100.0%").percent == 100  # only the exact text "100%" means none to the kubelet
    assert option_error("threshold", "100.5%") == (
        "kubelet-eviction.threshold='100.5%': expected a percentage from 0 to 100")
    assert option_error("threshold", "5 Mi") == ("kubelet-eviction.threshold='5 Mi': expected a quantity such as "
                                                 "100Mi, 1Gi, 500M, or a percentage such as 5%")


@pytest.mark.parametrize(("key", "raw"), [("threshold", "0%"), ("threshold", "100%"),
                                         ("eviction_hard", "memory.available<100%,nodefs.available<10%")])
def test_a_threshold_of_0_or_100_percent_is_none_as_the_kubelet_ignores_it(key, raw):
    # pkg/kubelet/eviction/helpers.go, parseThresholdStatement: `if val == "0%" || val == "100%"`: no threshold
    n = Node(root_ws=400)
    n.pod("c", "BestEffort", 30, 1000)
    d = decide(n.snap(), **{key: raw})
    assert d.triggered is False
    assert "memory.available 600.0 MiB (no threshold)" in d.reason
    assert "(ignored by the kubelet: no memory threshold)" in d.reason


def test_eviction_hard_as_the_kubelet_flag_writes_it():
    assert parse_eviction_hard("nodefs.available<10%;memory.available<1Gi").value == 1 << 30
    assert parse_eviction_hard(" nodefs.available<10% , memory.available<2Gi ").value == 2 << 30
    assert parse_eviction_hard("  ") is None
    for bad in ("nodefs.available<", "memory.available<<1Gi", "nodefs.available"):
        message = option_error("eviction_hard", bad)
        assert message.startswith(f"kubelet-eviction.eviction_hard={bad!r}: ")
    assert "expected SIGNAL<VALUE pairs separated by commas, not 'nodefs.available<'" in option_error(
        "eviction_hard", "imagefs.available<15%,nodefs.available<")
    n = Node(root_ws=400)
    n.pod("c", "BestEffort", 30, 1000)
    d = decide(n.snap(), eviction_hard="nodefs.available<10%")
    assert d.triggered is False and d.reason.endswith(
        "(memory.available 600.0 MiB (no threshold); allocatableMemory.available 450.0 MiB (no threshold); "
        "threshold none (evictionHard sets no memory.available) from option eviction_hard); "
        "2 processes, 30.0 MiB freed")
    assert "threshold 5% from option threshold" in decide(n.snap(), threshold="5%").reason


def named(n: Node, path: str, name: str) -> None:
    """Give a pod the name the runtime's metadata would (namespace/pod)."""
    i = next(i for i, c in enumerate(n.cgroups) if c.path == path)
    n.cgroups[i] = dataclasses.replace(n.cgroups[i], workload=Workload(kind="k8s-pod", name=name))


def test_each_pod_line_says_its_request_and_whether_it_is_over():
    n = Node()
    a = n.pod("a", "Burstable", 300, 900)  # request [100, 101) MiB: middle 100.5 MiB
    n.pod("b", "Guaranteed", 450, -997, limit=500)
    n.pod("d", "Burstable", 40, 500)  # [500, 501) MiB: under
    n.pod("e", "Burstable", 60, 3)  # adj 3: a request of 997 MiB or more
    g = n.pod("g", "Guaranteed", 10, -997)  # no limit in the snapshot
    d = decide(n.snap())
    assert d.reason == (
        f"kubelet evicts pod {label(a)}: Burstable, working set 300.0 MiB, request 100.5 MiB ± 512.0 KiB (inferred), "
        "over request: yes, priority unknown (memory.available 600.0 MiB (threshold 100.0 MiB); "
        "allocatableMemory.available 450.0 MiB (threshold 100.0 MiB); threshold 100Mi from the kubelet's default); "
        "2 processes, 300.0 MiB freed")
    assert [x.why.split(", priority")[0] for x in d.ranking] == [
        "Burstable, working set 300.0 MiB, request 100.5 MiB ± 512.0 KiB (inferred), over request: yes",
        "Guaranteed, working set 10.0 MiB, request unknown (unknown), over request: maybe",
        "Guaranteed, working set 450.0 MiB, request 500.0 MiB (exact), over request: no",
        "Burstable, working set 40.0 MiB, request 500.5 MiB ± 512.0 KiB (inferred), over request: no",
        "Burstable, working set 60.0 MiB, request ≥ 997.0 MiB (unknown), over request: no",
    ]
    mid = (100 * MiB + 101 * MiB - 1) // 2
    assert d.ranking[0].score == 300 * MiB - mid and d.ranking[2].score == -50 * MiB
    assert dict(d.ranking[0].parts) == {
        "qos": "Burstable", "working_set": 300 * MiB, "request_low": 100 * MiB, "request_high": 101 * MiB - 1,
        "request": "inferred", "exceeds_request": "yes", "priority": None}
    assert d.ranking[4].parts["request_low"] == 997 * MiB and d.ranking[4].parts["request_high"] is None
    assert d.uncertain == (
        f"priority is not on the node (assumed equal): with a lower priority, {label(g)} would go first; "
        f"{g}: Guaranteed, but no memory limit in the snapshot")


def test_a_burstable_pod_with_only_its_sandbox_left_has_an_unknown_request():
    # b's container has exited (only the pause process is left): no container adj to read a request from.
    n = Node()
    a = n.pod("a", "Burstable", 300, 900)
    b = n.pod("b", "Burstable", 20, 950)
    n.procs = [p for p in n.procs if p.comm != "b"]
    d = decide(n.snap())
    assert d.victim_cgroup == a and d.killed_pids == (100, 101)
    assert [(x.cgroup, x.why) for x in d.ranking] == [
        (a, "Burstable, working set 300.0 MiB, request 100.5 MiB ± 512.0 KiB (inferred), over request: yes, "
            "priority unknown"),
        (b, "Burstable, working set 20.0 MiB, request unknown (unknown), over request: maybe, priority unknown")]
    assert (d.ranking[1].parts["request_low"], d.ranking[1].parts["request_high"]) == (0, None)
    assert d.uncertain == (f"priority is not on the node (assumed equal): with a lower priority, {label(b)} "
                           "would go first")


def test_without_memtotal_no_request_is_read_and_the_doubt_says_why():
    n = Node()
    a = n.pod("a", "Burstable", 300, 900)
    c = n.pod("c", "BestEffort", 50, 1000)
    s = n.snap()
    d = decide(s.replace(host=dataclasses.replace(s.host, mem_total=None)))
    assert d.victim_cgroup == a and d.triggered is None  # memory.available needs MemTotal too
    assert [x.why.split(", priority")[0] for x in d.ranking] == [
        "Burstable, working set 300.0 MiB, request unknown (unknown), over request: maybe",
        "BestEffort, working set 50.0 MiB, request 0 B (exact), over request: yes"]
    assert d.uncertain == (f"requests inferred from oom_score_adj are intervals: {label(c)} could go first; "
                           f"{a}: MemTotal unknown, so its containers' requests are too")


def test_a_container_adj_off_the_kubelets_formula_leaves_only_a_lower_bound():
    # adj 1000 is never a Burstable container's (the formula gives 3..999): its request is unknown, so the pod's
    # is at least the other container's 100 MiB, with no upper bound.
    n = Node()
    a = n.pod("a", "Burstable", 300, 900)
    odd = f"{a}/cri-containerd-{'1' * 64}.scope"
    n.cgroups.insert(next(i for i, c in enumerate(n.cgroups) if c.path.endswith("cri-containerd-a.scope")),
                     Cgroup(path=odd))
    n.procs.append(proc(9, odd, 10, adj=1000, comm="odd"))
    d = decide(n.snap())
    assert d.ranking[0].why.startswith("Burstable, working set 300.0 MiB, request ≥ 100.0 MiB (unknown), over "
                                       "request: maybe")
    assert d.uncertain == f"{odd}: oom_score_adj 1000 does not come from the kubelet's formula; request unknown"


def test_ties_critical_pods_and_kube_system_are_named_in_the_doubts():
    n = Node()
    for name in "abcdef":
        named(n, n.pod(name, "BestEffort", 50, 1000), f"shop/cart-{name}")
    named(n, n.pod("g", "Burstable", 30, 999), "kube-system/coredns-1")
    named(n, n.pod("h", "Burstable", 500, -997), "kube-system/kube-proxy-2")  # its request is beside the point
    four = Node()
    for name in "abcde":
        named(four, four.pod(name, "BestEffort", 50, 1000), f"shop/cart-{name}")
    assert decide(four.snap()).uncertain == ("ties with shop/cart-d, shop/cart-c, shop/cart-b, shop/cart-a: "
                                             "the kubelet's sort is unstable")
    d = decide(n.snap())
    assert d.victim_cgroup == pod_path("f", "BestEffort")  # equal keys: the kubelet's unstable sort picks any
    assert d.uncertain == (
        "ties with shop/cart-e, shop/cart-d, shop/cart-c, shop/cart-b and 1 more: the kubelet's sort is unstable; "
        "priority is not on the node (assumed equal): with a lower priority, kube-system/coredns-1 would go first; "
        "never evicted: kube-system/kube-proxy-2 (system-node-critical (oom_score_adj -997 in a Burstable pod)); "
        "priority classes are not on the node: kube-system/coredns-1 may have a critical one, which would spare them")
    assert d.ranking[6].why.startswith("Burstable, working set 30.0 MiB, request 1024.0 KiB ± 1.0 MiB (inferred)")


def test_a_signal_that_cannot_be_computed_is_unknown_not_zero():
    n = Node(root_ws=400)
    n.pod("c", "BestEffort", 30, 1000)
    s = n.snap()
    bare_root = s.replace(cgroups=(Cgroup(path="/", stat={"anon": 5}), *(c for c in s.cgroups if c.path != "/")))
    d = decide(bare_root)
    assert d.triggered is None  # allocatable is not below, memory.available unknown
    assert "(memory.available unknown (threshold 100.0 MiB); allocatableMemory.available 450.0 MiB" in d.reason
    assert decide(bare_root, threshold="500Mi").triggered is True  # allocatable 450 MiB < 500 MiB decides
    no_usage = s.replace(cgroups=tuple(dataclasses.replace(c, memory_current=None) if c.path == KP else c
                                       for c in s.cgroups))
    assert "allocatableMemory.available unknown (threshold 100.0 MiB)" in decide(no_usage).reason
    unlimited = s.replace(cgroups=tuple(dataclasses.replace(c, memory_max=None) if c.path == KP else c
                                        for c in s.cgroups))
    d = decide(unlimited, threshold="5%")
    assert "(memory.available 600.0 MiB (threshold 50.0 MiB); threshold 5% from option threshold)" in d.reason


def test_a_cgroupfs_v1_pod_with_two_containers_conmon_and_a_kernel_thread():
    # Each container's request comes from its first process's adj (by start time, kernel threads aside); the
    # sandbox (-998) and CRI-O's conmon are no containers. Requests [100, 101) + [200, 201) MiB.
    uid, a, b = "11111111-2222-3333-4444-555555555555", "a" * 64, "b" * 64
    pod = f"/kubepods/burstable/pod{uid}"
    cgroups = [Cgroup("/", memory_current=500 * MiB, stat={"total_inactive_file": 100 * MiB}),
               Cgroup("/kubepods", memory_max=900 * MiB, memory_current=300 * MiB,
                      stat={"total_inactive_file": 50 * MiB}),
               Cgroup("/kubepods/burstable"),
               Cgroup(pod, memory_current=250 * MiB, stat={"total_inactive_file": 10 * MiB}),
               Cgroup(f"{pod}/{'c' * 64}"), Cgroup(f"{pod}/{a}"), Cgroup(f"{pod}/{b}"),
               Cgroup(f"{pod}/crio-conmon-{a}.scope")]
    procs = [proc(100, f"{pod}/{'c' * 64}", 0.2, adj=-998, comm="pause"), proc(101, f"{pod}/{a}", 100, adj=900),
             dataclasses.replace(proc(99, f"{pod}/{a}", 10, adj=0), start_time=5000.0),  # forked later, lower pid
             proc(102, f"{pod}/{b}", 100, adj=800), proc(103, f"{pod}/crio-conmon-{a}.scope", 1, adj=-999),
             dataclasses.replace(proc(2, f"{pod}/{b}", 0, adj=-500), kernel_thread=True)]
    snap = snapshot(cgroups, procs, mem_total=C)
    d = decide(snap.replace(host=dataclasses.replace(snap.host, cgroup_mode="v1")))
    assert d.reason == (
        "kubelet evicts pod pod 11111111: Burstable, working set 240.0 MiB, request 301.0 MiB ± 1024.0 KiB "
        "(inferred), over request: no, priority unknown (memory.available 600.0 MiB (threshold 100.0 MiB); "
        "allocatableMemory.available 650.0 MiB (threshold 100.0 MiB); threshold 100Mi from the kubelet's default); "
        "5 processes, 240.0 MiB freed")
    assert d.uncertain is None and d.victim_cgroup == pod
    assert sorted(d.killed_pids) == [99, 100, 101, 102, 103] and d.freed_bytes == 240 * MiB
    assert (d.ranking[0].parts["request_low"], d.ranking[0].parts["request_high"]) == (300 * MiB, 302 * MiB - 2)


def test_a_pod_without_memory_figures_is_ranked_first_as_the_kubelet_does():
    n = Node()
    n.pod("a", "Burstable", 300, 900)
    c = n.pod("c", "BestEffort", 50, 1000)
    s = n.snap()
    stat = {"anon": 40 * MiB, "file": 10 * MiB, "inactive_file": MiB}  # only the root's usage is anon + file
    d = decide(s.replace(cgroups=tuple(dataclasses.replace(x, memory_current=None, stat=stat) if x.path == c else x
                                       for x in s.cgroups)))
    assert d.victim_cgroup == c and d.freed_bytes is None
    assert d.reason.startswith(f"kubelet evicts pod {label(c)}: BestEffort, working set unknown, request 0 B "
                               "(exact), over request: yes, priority unknown (")
    assert d.reason.endswith("; 2 processes, unknown freed")
    assert d.ranking[0].score == 0.0 and d.ranking[0].parts["working_set"] is None
    assert d.uncertain is None  # a pod with stats never goes before one without, however far over its request
    e = n.pod("e", "Burstable", 10, 999)
    s = n.snap()
    d = decide(s.replace(cgroups=tuple(dataclasses.replace(x, memory_current=None, stat=stat) if x.path in (c, e)
                                       else x for x in s.cgroups)))
    assert d.victim_cgroup in (c, e)
    assert d.uncertain == f"ties with {label(({c, e} - {d.victim_cgroup}).pop())}: the kubelet's sort is unstable"


def test_kinds_kubepods_slice_and_a_one_process_pod():
    uid, kp = "0000000a_1111_2222_3333_444455556666", "/kubelet.slice/kubelet-kubepods.slice"
    pod = f"{kp}/kubelet-kubepods-besteffort.slice/kubelet-kubepods-besteffort-pod{uid}.slice"
    app = f"{pod}/cri-containerd-{'e' * 64}.scope"
    cgroups = [Cgroup("/", stat={"anon": 400 * MiB, "file": 100 * MiB, "inactive_file": 100 * MiB}),
               Cgroup("/kubelet.slice"), Cgroup(kp, memory_max=800 * MiB, memory_current=300 * MiB, stat={}),
               Cgroup(f"{kp}/kubelet-kubepods-besteffort.slice"),
               Cgroup(pod, memory_current=40 * MiB, stat={"inactive_file": 0}), Cgroup(app)]
    snap = snapshot(cgroups, [proc(5, app, 40, adj=1000)], mem_total=C)
    # no inactive_file in the kubepods memory.stat: nothing to subtract, allocatable is exactly 800 - 300 MiB
    assert decide(snap, threshold=str(500 * MiB + 1)).triggered is True
    assert decide(snap, threshold=str(500 * MiB)).triggered is False
    d = decide(snap)
    assert d.reason == (
        "kubelet evicts pod pod 0000000a: BestEffort, working set 40.0 MiB, request 0 B (exact), over request: yes, "
        "priority unknown (memory.available 600.0 MiB (threshold 100.0 MiB); allocatableMemory.available 500.0 MiB "
        "(threshold 100.0 MiB); threshold 100Mi from the kubelet's default); 1 process, 40.0 MiB freed")


def test_a_process_in_the_pod_cgroup_itself_dies_with_the_pod():
    # Sandboxed runtimes (Kata, gVisor) run their shim in the pod's own cgroup, beside the containers' cgroups.
    n = Node()
    a = n.pod("a", "BestEffort", 60, 1000)
    n.procs.append(proc(7, a, 5, adj=-998, comm="shim"))
    d = decide(n.snap())
    assert d.victim_cgroup == a and sorted(d.killed_pids) == [7, 100, 101]
    assert d.reason.endswith("; 3 processes, 60.0 MiB freed")


def test_what_the_kubelet_would_not_evict_is_said_in_full():
    n = Node()
    assert decide(n.snap()).reason == "no Kubernetes pod with a process in this snapshot"
    n.pod("b", "Burstable", 500, -997)
    d = decide(n.snap())
    assert d.reason == (
        "kubelet: every pod is critical (memory.available 600.0 MiB (threshold 100.0 MiB); "
        "allocatableMemory.available 450.0 MiB (threshold 100.0 MiB); threshold 100Mi from the kubelet's default)")
    assert d.uncertain == (f"never evicted: {label(pod_path('b', 'Burstable'))} (system-node-critical "
                           "(oom_score_adj -997 in a Burstable pod))")
    assert d.triggered is False and d.ranking == ()
    [elsewhere] = evaluate(n.snap(), KP, ["kubelet-eviction"])
    assert elsewhere.reason == "the kubelet evicts for the node's memory signals: preview it in the domain /"
    assert elsewhere.triggered is None


@pytest.mark.parametrize("fork_order", [True, False])
def test_a_containers_first_process_may_sit_in_a_cgroup_below_it(fork_order):
    # The container's request comes from the adj of its earliest process, which here runs in a cgroup
    # below the container's (started at 1050, before the app at 1101); the listing in fork order or not.
    n = Node()
    a = n.pod("a", "Burstable", 300, 900)
    inner = f"{a}/cri-containerd-a.scope/init"
    n.cgroups.append(Cgroup(path=inner))
    first = proc(50, inner, 1, adj=800)
    n.procs = [first, *n.procs] if fork_order else [*n.procs, first]
    d = decide(n.snap())
    assert d.victim_cgroup == a and sorted(d.killed_pids) == [50, 100, 101]
    assert (d.ranking[0].parts["request_low"], d.ranking[0].parts["request_high"]) == (200 * MiB, 201 * MiB - 1)


def test_a_containers_first_process_is_the_earliest_started_not_the_first_listed():
    # A process started later but listed first (a listing out of fork order): the app's adj 900 still decides.
    n = Node()
    a = n.pod("a", "Burstable", 300, 900)
    n.procs.insert(0, dataclasses.replace(proc(200, f"{a}/cri-containerd-a.scope", 1, adj=500), start_time=9000.0))
    d = decide(n.snap())
    assert (d.ranking[0].parts["request_low"], d.ranking[0].parts["request_high"]) == (100 * MiB, 101 * MiB - 1)


def test_the_requests_spread_is_half_its_intervals_width_in_whole_bytes():
    """MemTotal 1,123,700 kB: adj 900 gives a request in [115,066,880, 116,217,548] bytes, 1,150,669 wide, so
    ± 575,334 B (561.85 KiB, shown 561.8), not the 575,334.5 B a true half would round up to 561.9."""
    n = Node()
    n.pod("a", "Burstable", 300, 900)
    s = n.snap()
    d = decide(s.replace(host=dataclasses.replace(s.host, mem_total=1123700 * 1024)))
    assert d.ranking[0].why.startswith("Burstable, working set 300.0 MiB, request 110.3 MiB ± 561.8 KiB (inferred)")


@pytest.mark.parametrize(("settings", "source", "threshold"), [
    ({}, "/var/lib/kubelet/config.yaml", "threshold 100Mi from the kubelet's default"),
    ({"threshold": "lots"}, "--eviction-hard of pid 812", "threshold 100Mi from the kubelet's default"),
    ({"eviction_hard": "memory.available<lots"}, "", "threshold 100Mi from the kubelet's default"),
    ({"eviction_hard": "memory.available<700Mi"}, "", "threshold 700Mi from the kubelet's settings"),
])
def test_a_recorded_kubelet_without_a_readable_threshold_leaves_the_default(settings, source, threshold):
    """A kubelet found running whose settings give no memory threshold (none recorded, or one that does not
    parse) is evicting at its default; one recorded with no source is quoted as the kubelet's settings."""
    n = Node(root_ws=400)
    n.pod("c", "BestEffort", 30, 1000)
    s = n.snap()
    killer = Killer(name="kubelet", pid=812, settings=settings, source=source)
    d = decide(s.replace(host=dataclasses.replace(s.host, killers=(killer,))))
    assert d.triggered is (threshold.endswith("settings"))  # 600 MiB available: below 700Mi, not below 100Mi
    assert f"; {threshold}); 2 processes" in d.reason


def test_a_cgroupfs_kind_node_nests_kubepods_below_the_kubelets_cgroup_root():
    """kind with the cgroupfs driver sets cgroupRoot /kubelet: pods under /kubelet/kubepods, whose limit gives
    allocatableMemory.available."""
    uid = "0000000b-1111-2222-3333-444455556666"
    pod = f"/kubelet/kubepods/besteffort/pod{uid}"
    cgroups = [Cgroup("/", memory_current=500 * MiB, stat={"total_inactive_file": 100 * MiB}), Cgroup("/kubelet"),
               Cgroup("/kubelet/kubepods", memory_max=800 * MiB, memory_current=300 * MiB, stat={}),
               Cgroup("/kubelet/kubepods/besteffort"), Cgroup(pod, memory_current=40 * MiB, stat={}),
               Cgroup(f"{pod}/{'e' * 64}")]
    snap = snapshot(cgroups, [proc(5, f"{pod}/{'e' * 64}", 40, adj=1000)], mem_total=C)
    d = decide(snap.replace(host=dataclasses.replace(snap.host, cgroup_mode="v1")))
    assert d.victim_cgroup == pod
    assert ("(memory.available 600.0 MiB (threshold 100.0 MiB); allocatableMemory.available 500.0 MiB "
            "(threshold 100.0 MiB); threshold 100Mi") in d.reason


def crio_pod(n: Node, path: str, ws: float, adj: int) -> str:
    """A CRI-O pod with one container: its conmon's cgroup created before its container's, as CRI-O does."""
    cid = "f" * 64
    n.cgroups += [Cgroup(path=path, memory_current=int(ws * MiB), stat={"inactive_file": 0}),
                  Cgroup(path=f"{path}/crio-conmon-{cid}.scope"), Cgroup(path=f"{path}/crio-{cid}.scope")]
    n.procs += [proc(n.pid, f"{path}/crio-conmon-{cid}.scope", 1, adj=-999, comm="conmon"),
                proc(n.pid + 1, f"{path}/crio-{cid}.scope", ws, adj=adj, comm="app")]
    n.pid += 2
    return path


def test_conmon_listed_first_is_passed_over_and_only_a_cgroups_own_name_makes_it_conmon():
    """A CRI-O pod's conmon cgroup comes before its container's; the second node runs inside a cgroup whose
    name has conmon- in it, which says nothing about the containers below it."""
    nested = "/machine.slice/libpod-conmon-7.scope/kubepods"
    for path in (pod_path("a", "Burstable"), f"{nested}/burstable/pod{UIDS['a'].replace('_', '-')}"):
        n = Node()
        if path.startswith(nested):
            n.cgroups += [Cgroup("/machine.slice"), Cgroup("/machine.slice/libpod-conmon-7.scope"), Cgroup(nested),
                          Cgroup(f"{nested}/burstable")]
        a = crio_pod(n, path, 300, 900)
        d = decide(n.snap())
        assert d.victim_cgroup == a and sorted(d.killed_pids) == [100, 101]
        assert d.ranking[0].why.startswith("Burstable, working set 300.0 MiB, request 100.5 MiB ± 512.0 KiB "
                                           "(inferred), over request: yes")


def test_an_empty_container_cgroup_is_no_container_in_a_listing_out_of_fork_order():
    """A container that has exited may leave its cgroup behind, empty: it says no request. The listing is out
    of fork order (a later process listed first), so each container's first process is looked for in full."""
    n = Node()
    a = n.pod("a", "Burstable", 300, 900)
    n.cgroups.append(Cgroup(path=f"{a}/cri-containerd-{'1' * 64}.scope"))
    n.procs.insert(0, dataclasses.replace(proc(200, f"{a}/cri-containerd-a.scope", 1, adj=500), start_time=9000.0))
    d = decide(n.snap())
    assert (d.ranking[0].parts["request_low"], d.ranking[0].parts["request_high"]) == (100 * MiB, 101 * MiB - 1)


def test_a_process_whose_start_is_unknown_counts_as_its_containers_first():
    """Its start time unread (None), it is taken as started at boot, before one started half a second in."""
    n = Node()
    a = n.pod("a", "Burstable", 300, 900)
    app = f"{a}/cri-containerd-a.scope"
    n.procs = [p if p.cgroup != app else dataclasses.replace(p, start_time=0.5) for p in n.procs]
    n.procs.append(dataclasses.replace(proc(200, app, 1, adj=800), start_time=None))
    d = decide(n.snap())
    assert (d.ranking[0].parts["request_low"], d.ranking[0].parts["request_high"]) == (200 * MiB, 201 * MiB - 1)


def test_a_pod_left_without_processes_is_skipped_and_the_pods_after_it_still_count():
    n = Node()
    gone = n.pod("a", "BestEffort", 0, 1000)
    n.procs = []  # its sandbox and container have exited; the cgroup lingers until the kubelet removes it
    c = n.pod("c", "BestEffort", 50, 1000)
    d = decide(n.snap())
    assert d.victim_cgroup == c and gone not in [x.cgroup for x in d.ranking]


def test_a_pod_recorded_as_another_kind_of_workload_is_named_by_its_path():
    """A snapshot may say a pod's cgroup is a unit (its .slice): that name is no pod's, so the path stands in."""
    n = Node()
    a = n.pod("a", "BestEffort", 50, 1000)
    i = next(i for i, c in enumerate(n.cgroups) if c.path == a)
    n.cgroups[i] = dataclasses.replace(n.cgroups[i], workload=Workload(kind="unit", name=a.rsplit("/", 1)[1]))
    assert decide(n.snap()).reason.startswith(f"kubelet evicts pod {a}: BestEffort")


def test_a_pod_using_nothing_trails_a_guaranteed_pod_short_of_its_limit_only_by_priority():
    """b (adj 900, working set 0) is at least 100 MiB under its request; a (Guaranteed, 400 MiB) is
    100 MiB − 1 B under its: no request in b's interval puts b first, only a lower priority could."""
    n = Node()
    a = n.pod("a", "Guaranteed", 300 + 1 / MiB, -997, limit=400)
    b = n.pod("b", "Burstable", 0, 900)
    d = decide(n.snap())
    assert d.victim_cgroup == a
    assert d.uncertain == (f"priority is not on the node (assumed equal): with a lower priority, {label(b)} "
                           "would go first")
