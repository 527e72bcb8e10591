"""systemd-oomd's choice, rebuilt from src/oom/test-oomd-util.c (sort, pressure and threshold cases)."""

from __future__ import annotations

import pytest

from oomtui.evaluate import evaluate
from oomtui.model import CgroupEdit, Trend, WhatIf, frozen_map
from oomtui.policies.systemd_oomd import POLICIES
from tests.support.daemon_snapshots import GiB, KiB, cgroup, host, pressure, process, snapshot

SWAP, PRESSURE = POLICIES
U64_MAX = 2**64 - 1

# test_oomd_sort_cgroups: (path, swap, last pgscan, pgscan, memory.current, xattrs)
SORT_CASES = [
    ("/herp.slice", 20, 0, 33, 10, {}),
    ("/derp.scope", 60, 33, 1, 20, {}),
    ("/sheep.service", 40, 1, 33, 40, {}),
    ("/zupa.slice", 10, 33, 2, 10, {}),
    ("/boop.slice", 11, 33, 33, 10, {}),
    ("/omitted.slice", 90, 0, U64_MAX, 0, {"user.oomd_omit": "1"}),
    ("/avoid.slice", 99, 0, U64_MAX, 0, {"user.oomd_avoid": "1"}),
]


def sort_snapshot(cases=SORT_CASES, parents=(), **host_kw):
    cgroups = [cgroup(path, owner_uid=0) for path in parents] + [
        cgroup(path, current, swap=swap, xattrs=xattrs, stat={"pgscan": pgscan}, owner_uid=0,
               trend=Trend(interval=1.0, pgscan_prev=last))
        for path, swap, last, pgscan, current, xattrs in cases
    ]
    procs = [process(100 + i, f"p{i}", path) for i, (path, *_) in enumerate(cases)]
    kw = {"mem_total": 16 * GiB, "mem_available": GiB, "swap_total": 1000, "swap_free": 0, **host_kw}
    return snapshot([cgroup("/", owner_uid=0), *cgroups], procs, host_=host(**kw))


def order(decision) -> list[str]:
    return [c.cgroup for c in decision.ranking]


def test_swap_order_omit_removed_avoid_last():
    d = SWAP.run(sort_snapshot(), "/", {})
    assert order(d) == ["/derp.scope", "/sheep.service", "/herp.slice", "/boop.slice", "/zupa.slice", "/avoid.slice"]
    assert d.victim_cgroup == "/derp.scope"


def test_pressure_order_by_pgscan_rate_then_memory():
    """A pgscan below last time means the cgroup was recreated: its rate counts from 0 (derp.scope, zupa.slice)."""
    d = PRESSURE.run(sort_snapshot(), "/", {})
    assert order(d) == ["/herp.slice", "/sheep.service", "/zupa.slice", "/derp.scope", "/boop.slice", "/avoid.slice"]


def test_pressure_candidates_are_below_the_monitored_cgroup():
    cases = [("/herp.slice/derp.scope/sheep.service", 40, 1, 33, 40, {}),
             ("/herp.slice/derp.scope/lamb.service", 60, 33, 1, 20, {}),
             ("/herp.slice/goat.scope", 0, 0, 99, 99, {})]
    snap = sort_snapshot(cases, parents=("/herp.slice", "/herp.slice/derp.scope"))
    d = PRESSURE.run(snap, "/", {"monitored": "/herp.slice/derp.scope"})
    assert order(d) == ["/herp.slice/derp.scope/sheep.service", "/herp.slice/derp.scope/lamb.service"]


def test_candidates_stop_at_oom_group_and_take_leaves():
    cgroups = [cgroup("/", owner_uid=0), cgroup("/a", 30, oom_group=True), cgroup("/a/x", 10), cgroup("/b", 50),
               cgroup("/b/y", 20, swap=500), cgroup("/b/z", 30, swap=100)]
    snap = snapshot(cgroups, [process(1, "x", "/a/x"), process(2, "y", "/b/y"), process(3, "z", "/b/z")],
                    host_=host(swap_total=1000, swap_free=0))
    d = SWAP.run(snap, "/", {})
    assert set(order(d)) == {"/a", "/b/y", "/b/z"}
    assert d.victim_cgroup == "/b/y" and d.killed_pids == (2,)
    d = SWAP.run(snap, "/", {"monitored": "/a"})
    assert order(d) == ["/a"]  # a monitored oom.group cgroup is its own candidate


def test_swap_victim_needs_more_than_five_percent_of_swap():
    cases = [("/small.slice", 50, 0, 0, 10, {}), ("/tiny.slice", 10, 0, 0, 10, {})]
    d = SWAP.run(sort_snapshot(cases), "/", {})  # 5 % of 1000 bytes is 50: not more than it
    assert d.kills_nothing and "more than 5%" in d.reason


def test_pressure_victim_skips_idle_empty_cgroups():
    cases = [("/idle.slice", 0, 0, 0, 0, {}), ("/busy.slice", 0, 5, 5, 10, {})]
    d = PRESSURE.run(sort_snapshot(cases), "/", {})
    assert d.victim_cgroup == "/busy.slice"


@pytest.mark.parametrize(
    ("used_kib", "swap_used_kib", "triggered"),
    [
        (3310136, 20971440, False),  # memory plentiful, swap full
        (20971440, 3310136, False),  # memory short, swap plentiful
        (20971440, 20971440, True),
    ],
)
def test_swap_trigger_needs_both_memory_and_swap_low(used_kib, swap_used_kib, triggered):
    """test_oomd_mem_and_swap_free_below, at SwapUsedLimit=80% (2000 permyriad free)."""
    total = 20971512 * KiB
    snap = sort_snapshot(mem_total=total, mem_available=total - used_kib * KiB, swap_total=total,
                         swap_free=total - swap_used_kib * KiB)
    assert SWAP.run(snap, "/", {"swap_used_limit": "80"}).triggered is triggered


def test_no_swap_never_triggers():
    snap = sort_snapshot(mem_total=0, mem_available=0, swap_total=0, swap_free=0)
    assert SWAP.run(snap, "/", {}).triggered is False


def pressured(avg10: float, *, since: float | None = None, pgscan_prev: int | None = 10, interval: float = 5.0):
    cgroups = [cgroup("/", owner_uid=0),
               cgroup("/herp.slice", 100, pressure=pressure(avg10, avg10), stat={"pgscan": 20}, owner_uid=0,
                      trend=Trend(interval=interval, pgscan_prev=pgscan_prev, pressure_full_avg10_above_since=since)),
               cgroup("/herp.slice/a.service", 60, stat={"pgscan": 15}),
               cgroup("/herp.slice/b.service", 40, stat={"pgscan": 5})]
    return snapshot(cgroups, [process(1, "a", "/herp.slice/a.service"), process(2, "b", "/herp.slice/b.service")],
                    taken_at=1000.0)


def test_pressure_above_the_limit():
    """test_oomd_pressure_above: 99.99 over a limit of 80 triggers (duration 0); 1.11 does not."""
    opts = {"monitored": "/herp.slice", "mem_pressure_limit": "80", "mem_pressure_duration": "0"}
    assert PRESSURE.run(pressured(99.99), "/", opts).triggered is True
    assert PRESSURE.run(pressured(1.11), "/", opts).triggered is False


def test_pressure_duration_and_reclaim_come_from_the_trend():
    opts = {"monitored": "/herp.slice"}
    assert PRESSURE.run(pressured(70, since=900.0), "/", opts).triggered is True
    assert PRESSURE.run(pressured(70, since=990.0), "/", opts).triggered is False  # above for 10 s only
    unknown = PRESSURE.run(pressured(70), "/", opts)
    assert unknown.triggered is None and "how long" in unknown.reason
    no_reclaim = PRESSURE.run(pressured(70, since=900.0, pgscan_prev=20, interval=30.0), "/", opts)
    assert no_reclaim.triggered is False


def preferred(xattrs: dict, owner: int | None):
    cgroups = [cgroup("/", owner_uid=0), cgroup("/big.slice", 10, swap=900, xattrs=xattrs, owner_uid=owner),
               cgroup("/small.slice", 10, swap=100, owner_uid=0)]
    return snapshot(cgroups, [process(1, "big", "/big.slice"), process(2, "small", "/small.slice")],
                    host_=host(swap_total=1000, swap_free=0))


@pytest.mark.parametrize(
    ("xattrs", "owner", "victim"),
    [
        ({"user.oomd_avoid": "1"}, 0, "/small.slice"),
        ({"user.oomd_avoid": "0"}, 0, "/big.slice"),  # parsed as a boolean: "0" is unset
        ({"user.oomd_omit": "1", "user.oomd_avoid": "1"}, 0, "/small.slice"),
        ({"user.oomd_avoid": "1"}, 1000, "/big.slice"),  # not root's: ignored for swap kills
    ],
)
def test_preferences(xattrs, owner, victim):
    d = SWAP.run(preferred(xattrs, owner), "/", {})
    assert d.victim_cgroup == victim
    if "user.oomd_omit" in xattrs:
        assert "/big.slice" not in order(d)


def test_avoided_cgroups_stay_eligible():
    cgroups = [cgroup("/", owner_uid=0), cgroup("/only.slice", 10, swap=900, xattrs={"user.oomd_avoid": "1"},
                                                 owner_uid=0)]
    snap = snapshot(cgroups, [process(1, "only", "/only.slice")], host_=host(swap_total=1000, swap_free=0))
    assert SWAP.run(snap, "/", {}).victim_cgroup == "/only.slice"


def test_a_cgroup_without_processes_is_passed_over():
    """Killing it would kill nothing; systemd-oomd goes on to the next candidate."""
    cgroups = [cgroup("/", owner_uid=0), cgroup("/cache.slice", 900, stat={"pgscan": 50}, populated=False),
               cgroup("/app.slice", 100, stat={"pgscan": 5})]
    d = PRESSURE.run(snapshot(cgroups, [process(7, "app", "/app.slice")]), "/", {})
    assert order(d)[0] == "/cache.slice"
    assert d.victim_cgroup == "/app.slice" and d.killed_pids == (7,)


def test_whatif_preference_reaches_the_policy():
    """A user's what-if avoid on the biggest swapper moves the kill to the next cgroup."""
    snap = preferred({}, 0)
    edits = WhatIf(cgroups=frozen_map({"/big.slice": CgroupEdit(xattrs=frozen_map({"user.oomd_avoid": "1"}))}))
    [before] = evaluate(snap, "/", ["systemd-oomd-swap"])
    [after] = evaluate(snap.replace(whatif=edits), "/", ["systemd-oomd-swap"])
    assert (before.victim_cgroup, after.victim_cgroup) == ("/big.slice", "/small.slice")


@pytest.mark.parametrize("value", ["1", "yes", "Y", "TRUE", "t", "On"])
def test_every_spelling_parse_boolean_takes_as_true_sets_the_preference(value):
    assert SWAP.run(preferred({"user.oomd_avoid": value}, 0), "/", {}).victim_cgroup == "/small.slice"
    omitted = SWAP.run(preferred({"user.oomd_omit": value}, 0), "/", {})
    assert [c.cgroup for c in omitted.ranking] == ["/small.slice"]


@pytest.mark.parametrize("value", ["0", "off", "", " 1", "1\n", "2", "yess"])
def test_anything_else_leaves_the_preference_unset(value):
    """systemd parses the xattr as written: a space or newline makes it invalid, which counts as unset."""
    d = SWAP.run(preferred({"user.oomd_avoid": value, "user.oomd_omit": value}, 0), "/", {})
    assert d.victim_cgroup == "/big.slice" and d.ranking[0].parts["preference"] == "none"
