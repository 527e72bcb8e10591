"""Policy rules that only show on rare inputs, each pinned by the smallest host that shows it.

Each case is one a silent change got past before (see the mutation report):
tie-breaks, era boundaries, rarely combined xattrs and owners, swap terms.
"""

from __future__ import annotations

import pytest

from oomtui.evaluate import evaluate
from oomtui.model import Cgroup, Host, Process, Snapshot, Trend
from oomtui.policies.earlyoom import POLICIES as EARLYOOM_POLICIES
from oomtui.policies.oomd import POLICIES as OOMD_POLICIES
from oomtui.policies.systemd_oomd import POLICIES as SYSTEMD_OOMD_POLICIES
from tests.support import daemon_snapshots as daemon
from tests.support import handmade

MiB = 1 << 20
PAGE = 4096


def decide(snap: Snapshot, policy: str, domain: str = "/"):
    (d,) = evaluate(snap, domain, [policy])
    return d


# -- kernel --------------------------------------------------------------------------


def kernel_host(kernel: str | None, *processes: Process) -> Snapshot:
    """Memory cgroup /d with a 256 MiB limit: 65536 pages, so one point of oom_score_adj weighs 65 pages."""
    host = Host(hostname="fixture", kernel=kernel, page_size=PAGE, mem_total=16 << 30, mem_available=None,
                swap_total=0, swap_free=0, cgroup_mode="v2")
    return Snapshot(host=host, cgroups=(Cgroup("/"), Cgroup("/d", memory_max=256 * MiB)), processes=processes)


def kproc(pid: int, pages: int, start: float, adj: int = 0, ppid: int = 1) -> Process:
    return Process(pid=pid, comm=f"p{pid}", cgroup="/d", oom_score_adj=adj, ppid=ppid, rss_anon=pages * PAGE,
                   rss_file=0, rss_shmem=0, swap=0, pgtables=0, start_time=start)


@pytest.mark.parametrize(("kernel", "first_in_fork_order"), [("4.19.1", 10), ("5.4.0", 11)])
def test_a_score_of_exactly_zero_clamps_to_one_like_a_negative_one(kernel, first_in_fork_order):
    """Up to 5.8 every score below 1 becomes 1: 0 and -5 tie, and the era's fork-order rule decides.

    Process 10 scores 65 - 65 = 0 and process 11 scores 60 - 65 = -5. Before 5.3 the first scanned of
    a tie wins, from 5.3 the last: each case puts 10 where it wins, so only the clamp makes 10 the victim.
    """
    starts = {first_in_fork_order: 100.0, 21 - first_in_fork_order: 200.0}
    snap = kernel_host(kernel, kproc(10, 65, starts[10], adj=-1), kproc(11, 60, starts[11], adj=-1))
    d = decide(snap, "kernel", "/d")
    assert d.victim_pid == 10
    assert [c.score for c in d.ranking] == [1, 1]


def test_before_5_1_equal_children_sacrifice_the_first_forked():
    """oom_kill_process walks t->children in fork order and takes a child only if strictly larger."""
    snap = kernel_host(
        "4.19.50",
        kproc(40, 25600, 10.0),
        kproc(45, 5120, 20.0, ppid=40),  # forked first, though its pid is higher
        kproc(41, 5120, 30.0, ppid=40),
    )
    d = decide(snap, "kernel", "/d")
    assert d.ranking[0].pid == 40
    assert d.victim_pid == 45 and d.killed_pids == (45,)


# -- the 2017 proposals -----------------------------------------------------------------


def test_cgroup_aware_counts_a_v2_leafs_swap():
    """The series sized a v2 leaf as anon + unevictable + slab + stacks + sockets + swap."""
    stat = {"active_anon": 200 * MiB, "inactive_anon": 0, "unevictable": 0, "slab_unreclaimable": 0,
            "kernel_stack": 0, "sock": 0}
    snap = handmade.snapshot(
        [handmade.cgroup("/dry", 200, stat=stat, swap_current=0),
         handmade.cgroup("/swapping", 200, stat=stat, swap_current=50 * MiB)],
        [handmade.proc(10, "/dry", 190), handmade.proc(11, "/swapping", 190)],
    )
    d = decide(snap, "cgroup-aware")
    assert d.ranking[0].cgroup == "/swapping" and d.victim_pid == 11
    assert d.ranking[0].parts["swap_current"] == 50 * MiB
    assert d.ranking[0].parts["size"] == 250 * MiB


def test_equal_adjusted_processes_go_to_the_larger_raw_size():
    """The documented tie-break: 50 MiB at +50 weighs 100 MiB (a 1000 MiB budget), like 100 MiB at 0."""
    snap = handmade.snapshot(
        [handmade.cgroup("/r", 150)], [handmade.proc(70, "/r", 50, adj=50), handmade.proc(71, "/r", 100)])
    d = decide(snap, "hierarchical")
    assert [c.pid for c in d.ranking[:2]] == [71, 70]
    assert d.victim_pid == 71
    assert d.uncertain is None, "a larger raw size is a decision, not a tie"


# -- oomd ------------------------------------------------------------------------------


def test_oomd_prefer_wins_over_avoid_on_one_cgroup():
    kill_by_swap = next(p for p in OOMD_POLICIES if p.name == "oomd-swap")
    cgroups = [daemon.cgroup("/", owner_uid=0),
               daemon.cgroup("/both.slice", 10 * MiB, swap=100 * MiB,
                             xattrs={"trusted.oomd_prefer": "1", "trusted.oomd_avoid": "1"}),
               daemon.cgroup("/big.slice", 10 * MiB, swap=800 * MiB)]
    snap = daemon.snapshot(cgroups, [daemon.process(7, "both", "/both.slice"), daemon.process(8, "big", "/big.slice")],
                           host_=daemon.host(swap_total=1000 * MiB, swap_free=0))
    d = kill_by_swap.run(snap, "/", {})
    assert d.victim_cgroup == "/both.slice"
    assert d.ranking[0].cgroup == "/both.slice"


# -- systemd-oomd ------------------------------------------------------------------------


def test_systemd_oomd_honours_roots_omit_under_a_user_owned_monitored_cgroup():
    """user@1000.service is owned by 1000; a unit below it owned by root keeps its user.oomd_omit."""
    pressure_kill = next(p for p in SYSTEMD_OOMD_POLICIES if "pressure" in p.name)
    monitored = "/user.slice/user-1000.slice/user@1000.service"
    parents = ["/user.slice", "/user.slice/user-1000.slice"]
    trend = Trend(interval=1.0, pgscan_prev=0)
    cgroups = [daemon.cgroup("/", owner_uid=0), *(daemon.cgroup(p, owner_uid=0) for p in parents),
               daemon.cgroup(monitored, owner_uid=1000),
               daemon.cgroup(f"{monitored}/admin.scope", 10 * MiB, stat={"pgscan": 900}, trend=trend, owner_uid=0,
                             xattrs={"user.oomd_omit": "1"}),
               daemon.cgroup(f"{monitored}/app.scope", 10 * MiB, stat={"pgscan": 10}, trend=trend, owner_uid=1000)]
    procs = [daemon.process(7, "admin", f"{monitored}/admin.scope"), daemon.process(8, "app", f"{monitored}/app.scope")]
    d = pressure_kill.run(daemon.snapshot(cgroups, procs), "/", {"monitored": monitored})
    assert [c.cgroup for c in d.ranking] == [f"{monitored}/app.scope"]
    assert d.victim_cgroup == f"{monitored}/app.scope"


# -- earlyoom ----------------------------------------------------------------------------


@pytest.mark.parametrize(("version", "victim"), [("current", 20), ("1.7", 2)])
def test_earlyoom_since_1_8_never_considers_pid_2_even_as_a_user_process(version, victim):
    """In a container's pid namespace pid 2 is an ordinary process; earlyoom 1.8+ skips pid <= 2 anyway."""
    procs = [daemon.process(1, "init", rss=10 * MiB, oom_score=10, uid=0),
             daemon.process(2, "worker", rss=900 * MiB, oom_score=900, uid=1000),
             daemon.process(20, "app", rss=300 * MiB, oom_score=300, uid=1000)]
    d = EARLYOOM_POLICIES[0].run(daemon.snapshot([], procs), "/", {"version": version})
    assert d.victim_pid == victim


def test_each_memory_counter_is_whole_pages_before_the_sum():
    """The kernel counts anon, file and shmem pages apart; a hand-made file may give bytes off a page boundary.

    Process 10 has 1.5 pages of anon and 0.5 of file: 1 page, not 2, so it ties with process 11 (1 page)
    and, since 5.3, the later forked (11) wins the tie.
    """
    half = PAGE // 2
    unaligned = Process(pid=10, comm="p10", cgroup="/d", rss_anon=PAGE + half, rss_file=half, rss_shmem=0, swap=0,
                        pgtables=0, start_time=100.0)
    snap = kernel_host("6.6.0", unaligned, kproc(11, 1, 200.0))
    d = decide(snap, "kernel", "/d")
    assert d.victim_pid == 11
    assert [c.score for c in d.ranking] == [1, 1]


def test_a_domain_with_nothing_to_kill_still_names_the_policy_and_the_domain():
    """Only a -1000 process in /d: every kernel-side policy says so for /d, with an empty ranking."""
    snap = kernel_host("6.6.0", kproc(10, 100, 1.0, adj=-1000))
    for policy in ("kernel", "hierarchical", "terminal", "cgroup-aware"):
        d = decide(snap, policy, "/d")
        assert (d.policy, d.domain, d.victim_pid, d.victim_cgroup, d.killed_pids) == (policy, "/d", None, None, ())
        assert d.ranking == () and d.uncertain is None and d.kills_nothing
    assert decide(snap, "hierarchical", "/d").reason == (
        "nothing to kill in /d: no process with memory outside score -1000, kernel threads and init")
    unknown = decide(kernel_host(None, kproc(10, 100, 1.0, adj=-1000)), "kernel", "/d")
    assert unknown.kills_nothing and unknown.uncertain == "kernel release unknown: current rules"


def test_oomd_pressure_weighs_avg10_and_avg60_alike():
    """kill_by_pressure ranks by int(avg10/2 + avg60/2): a 80/0 spike outranks a steady 0/60."""
    pressure_kill = next(p for p in OOMD_POLICIES if p.name == "oomd-pressure")
    cgroups = [daemon.cgroup("/", owner_uid=0),
               daemon.cgroup("/spike.slice", 10 * MiB, pressure=daemon.pressure(80.0, 0.0)),
               daemon.cgroup("/steady.slice", 10 * MiB, pressure=daemon.pressure(0.0, 60.0))]
    snap = daemon.snapshot(cgroups, [daemon.process(7, "spike", "/spike.slice"),
                                     daemon.process(8, "steady", "/steady.slice")])
    d = pressure_kill.run(snap, "/", {})
    assert [(c.cgroup, c.parts["key"]) for c in d.ranking] == [("/spike.slice", 40), ("/steady.slice", 30)]
    assert d.victim_cgroup == "/spike.slice"
