"""The real kernel referees the `kernel` policy: real processes, a real memory cgroup, a real OOM kill.

Each scenario sets up a 256 MiB memory cgroup under our own (memory+swap
limited alike, so nothing escapes to swap), starts 3–6 hogs of known sizes
and oom_score_adj values (only raising adj is permitted here), disables the
cgroup's OOM killer (v1 `memory.oom_control` = 1: tasks wait instead of
dying), and starts a hog that grows until the cgroup is frozen under OOM.
It then takes a snapshot with the live collector, asks the `kernel` policy
for the cgroup's domain, re-enables the OOM killer and reads the kernel's
first kill from /dev/kmsg. The prediction must name that pid. (The kernel
may kill a second process a moment later; only the first is judged.)

A hog is a Python interpreter of about 11 MiB RSS plus its touched MiB;
with a 256 MiB limit the domain has 65536 pages, so one point of
oom_score_adj is worth 65 pages. What each scenario proves:

- several_sizes_adj0: with adj 0 everywhere, the largest resident set dies,
  among several sizes.
- grower_is_victim: the allocating process itself is the victim when it is
  the largest, and the snapshot sees its size at the freeze.
- small_dies_by_score: a 10 MiB process with adj 900 dies before a
  120 MiB one: adj outweighs a twelve-fold size difference.
- equal_sizes_adj: among equal sizes, the highest adj dies.
- adj_1000: adj 1000 is worth the whole 256 MiB budget, so a 2 MiB
  process dies before everything else.
- adj_scaled_by_domain: adj scales by the cgroup's limit, not by host RAM;
  scaled by the host's 24 GiB, the small adj-50 process would have won.
- nested_cgroups: the kernel scans the domain's whole subtree; the
  largest process sits two cgroups down.
- sibling_adj: an adj-raised process in one child cgroup dies before a
  larger one in its sibling, where the allocation happens.
- grower_with_adj: the allocating process dies for its own adj although
  three others are larger.
- six_hogs_mixed: six sizes and five adj values; the ranking, not size or
  adj alone, decides.
- grower_deep_victim_sibling: the allocation happens two cgroups down, but
  the OOM is the domain's (the only limit) and the victim sits in a sibling.
- twins_near_tie: two identical 60 MiB hogs. /proc shows them within a few
  pages (often equal), and the kernel's per-CPU counters decide: in trial
  runs it killed either twin, the later-started one (last in scan order)
  more often. The prediction must say it is uncertain and name the other
  twin; the kill must be one of the two.

The other scenarios leave wide margins (thousands of pages), so none
should be a near tie; where a prediction still says `uncertain`, any
candidate it names is accepted, as the kernel's approximate counters
decide then.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

import pytest

from oomtui.collect import collect_snapshot
from oomtui.policies import registry
from tests.support.cgroups import TestCgroup
from tests.support.hog import Hog, spawn_hog
from tests.support.kmsg import KernelLog, readable

pytestmark = pytest.mark.kernel

MIB = 1 << 20
LIMIT = 256 * MIB


@dataclass(frozen=True)
class H:
    name: str  # comm, at most 15 characters
    mib: int
    adj: int = 0
    where: str = ""  # a child cgroup of the domain ("a/x"), or the domain itself


@dataclass(frozen=True)
class Scenario:
    id: str
    static: tuple[H, ...]
    grower: H
    dies: str | None  # the hog built to lose (checks the scenario proves its point); None: a near tie


SCENARIOS = [
    Scenario("several_sizes_adj0", (H("s30", 30), H("s60", 60), H("s110", 110)), H("grow", 0), dies="s110"),
    Scenario("grower_is_victim", (H("s20", 20), H("s30", 30), H("s40", 40)), H("grow", 0), dies="grow"),
    Scenario(
        "small_dies_by_score", (H("big120", 120), H("mid40", 40), H("small10", 10, adj=900)), H("grow", 0),
        dies="small10",
    ),
    Scenario(
        "equal_sizes_adj", (H("adj0", 50), H("adj100", 50, adj=100), H("adj400", 50, adj=400)), H("grow", 0),
        dies="adj400",
    ),
    Scenario("adj_1000", (H("s100", 100), H("s60", 60), H("tiny", 2, adj=1000)), H("grow", 0), dies="tiny"),
    Scenario("adj_scaled_by_domain", (H("big150", 150), H("adj50", 20, adj=50)), H("grow", 0), dies="big150"),
    Scenario(
        "nested_cgroups", (H("a30", 30, where="a"), H("deep100", 100, where="a/x"), H("b50", 50, where="b")),
        H("grow", 0, where="b"), dies="deep100",
    ),
    Scenario(
        "sibling_adj", (H("a80", 80, where="a"), H("b40", 40, adj=600, where="b")), H("grow", 0, where="a"),
        dies="b40",
    ),
    Scenario("grower_with_adj", (H("s70a", 70), H("s70b", 70), H("s50", 50)), H("grow", 0, adj=200), dies="grow"),
    Scenario(
        "six_hogs_mixed",
        (H("m5", 5), H("m10", 10, adj=100), H("m15", 15, adj=50), H("m20", 20), H("m30", 30, adj=700), H("m40", 40)),
        H("grow", 0), dies="m30",
    ),
    Scenario(
        "grower_deep_victim_sibling", (H("top10", 10), H("a20", 20, where="a"), H("b120", 120, where="b")),
        H("grow", 0, where="a/x"), dies="b120",
    ),
    Scenario("twins_near_tie", (H("twinA", 60), H("twinB", 60), H("f40a", 40), H("f40b", 40)), H("grow", 0), dies=None),
]


def _prepare(cg: TestCgroup, sc: Scenario) -> None:
    cg.set_limit(LIMIT)
    if (cg.dir / "memory.memsw.limit_in_bytes").exists():
        cg.write("memory.memsw.limit_in_bytes", LIMIT)
    wheres = {h.where for h in (*sc.static, sc.grower) if h.where}
    for where in sorted(wheres | {w.rsplit("/", 1)[0] for w in wheres if "/" in w}, key=lambda w: w.count("/")):
        cg.child(where)


def _spawn(cg: TestCgroup, h: H, grow: bool = False) -> Hog:
    return spawn_hog(h.name, h.mib, adj=h.adj, cgroup_dir=cg.dir / h.where, grow=grow)


def _wait_under_oom(cg: TestCgroup, grower: Hog, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if "under_oom 1" in cg.read("memory.oom_control"):
            return
        assert grower.alive(), "the growing hog died before the cgroup froze under OOM"
        time.sleep(0.05)
    pytest.fail(f"the cgroup did not reach OOM within {timeout} s")


def _accepted(decision, ours: set[int]) -> set[int]:
    """The predicted victim, plus the candidates an `uncertain` prediction names."""
    named = {int(pid) for pid in re.findall(r"\b(\d+) \(", decision.uncertain or "")}
    return {decision.victim_pid} | (named & ours)


@pytest.fixture
def kernel_log_ok() -> None:
    reason = readable()
    if reason:
        pytest.skip(reason)


@pytest.mark.parametrize("sc", SCENARIOS, ids=lambda s: s.id)
def test_the_kernel_kills_the_predicted_victim(memcg: TestCgroup, kernel_log_ok: None, sc: Scenario) -> None:
    if memcg.home.version != 1:
        pytest.skip("freezing a cgroup under OOM needs cgroup v1 memory.oom_control (oom_kill_disable)")
    _prepare(memcg, sc)
    hogs: dict[str, Hog] = {}
    try:
        for h in sc.static:
            hogs[h.name] = _spawn(memcg, h)
        assert all(hog.alive() for hog in hogs.values()), "a hog died while setting up"
        memcg.write("memory.oom_control", 1)
        with KernelLog() as log:
            grower = hogs[sc.grower.name] = _spawn(memcg, sc.grower, grow=True)
            grower.start_growing()
            _wait_under_oom(memcg, grower)
            snapshot = collect_snapshot()
            decision = registry.get("kernel").run(snapshot, memcg.path)
            memcg.write("memory.oom_control", 0)
            ours = {hog.pid for hog in hogs.values()}
            kill = log.first_kill(ours)
        names = {hog.pid: name for name, hog in hogs.items()}
        ranking = "; ".join(f"{names.get(c.pid, c.pid)}={c.score}" for c in decision.ranking)
        assert kill is not None, f"no kill of our hogs reported in /dev/kmsg (saw {log.seen[-5:]})"
        assert kill.pid in _accepted(decision, ours), (
            f"kernel killed {names[kill.pid]} ({kill.pid}), policy predicted "
            f"{names.get(decision.victim_pid, decision.victim_pid)}: {decision.reason} | ranking {ranking}"
        )
        if sc.dies is None:
            assert {names.get(pid) for pid in _accepted(decision, ours)} == {"twinA", "twinB"}, decision.uncertain
        else:
            assert names.get(decision.victim_pid) == sc.dies, f"scenario does not prove its point: ranking {ranking}"
    finally:
        for hog in hogs.values():
            hog.kill()
