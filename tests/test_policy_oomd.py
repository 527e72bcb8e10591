"""oomd's kill plugins, rebuilt from the kill_by_* cases of oomd's CorePluginsTest.cpp.

oomd's fixtures put pids 123 and 456 in cgroup1, 789 in cgroup2, 111 in
cgroup3 and 888 (555 for the swap fixture) in sibling/cgroup1; the
assertions below name the same pids.
"""

from __future__ import annotations

import pytest

from oomtui.model import Pressure, PressureLine, Trend
from oomtui.policies import oomd
from oomtui.policies.base import OptionError, OptionSpec
from tests.support.daemon_snapshots import KiB, cgroup, host, pressure, process, snapshot

SPECS = {s.name: s for s in oomd.POLICIES}
PIDS = {"cgroup1": (123, 456), "cgroup2": (789,), "cgroup3": (111,), "sibling/cgroup1": (888,)}
PREFER = {"trusted.oomd_prefer": "1"}
AVOID = {"user.oomd_avoid": "1"}


def tree(data: dict[str, dict], pids: dict[str, tuple[int, ...]] | None = None, **host_kw):
    """cgroups by path (parents added), each with the given fields; pids by path suffix."""
    pids = PIDS if pids is None else pids
    paths = sorted({"/" + "/".join(p.split("/")[: i + 1]) for p in data for i in range(p.count("/") + 1)})
    cgroups = []
    for path in paths:
        fields = dict(data.get(path.lstrip("/"), {}))
        avg = fields.pop("avg", None)
        current = fields.pop("current", None)
        trend = Trend(interval=5.0, memory_current_avg=avg) if avg is not None else fields.pop("trend", None)
        cgroups.append(cgroup(path, current, trend=trend, **fields))
    procs = []
    for path in data:
        suffixes = [s for s in pids if path == s or path.endswith("/" + s)]
        if suffixes:
            procs += [process(pid, f"p{pid}", "/" + path) for pid in pids[max(suffixes, key=len)]]
    return snapshot(cgroups, procs, host_=host(**host_kw) if host_kw else None)


def killed(policy: str, snap, **options) -> set[int]:
    d = SPECS[policy].run(snap, "/", {k: str(v) for k, v in options.items()})
    assert (d.victim_cgroup is None) == (not d.killed_pids)
    return set(d.killed_pids)


def one_big(c1: dict, c2: dict, c3: dict, sibling: dict | None = None) -> dict:
    data = {"one_big/cgroup1": c1, "one_big/cgroup2": c2, "one_big/cgroup3": c3}
    if sibling is not None:
        data["sibling/cgroup1"] = sibling
    return data


def usage(current: int, avg: int | None = None, **kw) -> dict:
    return {"current": current, "avg": current if avg is None else avg, **kw}


SIZE = "oomd-size-or-growth"


@pytest.mark.parametrize(
    ("c1", "c2", "c3", "victims"),
    [
        (usage(60), usage(20), usage(20), {123, 456}),  # KillsBigCgroup
        (usage(60), usage(20, xattrs=PREFER), usage(20), {789}),  # PreferredOverridesSize
        (usage(60, xattrs=AVOID), usage(30), usage(20), {789}),  # AvoidedOverridesSize
        (usage(60), usage(30, xattrs=AVOID), usage(20, xattrs=AVOID), {123, 456}),  # AvoidedNoEffect
        (usage(60, xattrs=PREFER), usage(30, xattrs=PREFER), usage(20, xattrs=PREFER), {123, 456}),  # PreferredNoEffect
        # KillsOneOfPreferred
        (usage(60, xattrs=PREFER), usage(30, xattrs=AVOID), usage(20, xattrs=PREFER), {123, 456}),
    ],
)
def test_size_and_preferences(c1, c2, c3, victims):
    snap = tree(one_big(c1, c2, c3, sibling=usage(20, xattrs=PREFER)))
    assert killed(SIZE, snap, cgroup="one_big/*") == victims


def test_size_falls_back_to_plain_size_without_growth():
    """KillsBigCgroupGrowth, first half: no cgroup reaches 50 % of 71 and none grows, so the largest dies."""
    snap = tree({"growth_big/cgroup1": usage(21, 20), "growth_big/cgroup2": usage(20), "growth_big/cgroup3": usage(30)})
    assert killed(SIZE, snap, cgroup="growth_big/*") == {111}


@pytest.mark.parametrize(
    ("percentile", "ratio", "victims"),
    [("50", "1.25", {789}), ("20", "1.25", {123, 456}), ("0", "0", {123, 456}), ("67", "1.25", {111}),
     ("20", "10", {111})],
)
def test_growth_kill_only_among_the_largest(percentile, ratio, victims):
    """DoesntGrowthKillBelowUsageThreshold."""
    snap = tree({"growth_big/cgroup1": usage(40, 7), "growth_big/cgroup2": usage(50, 30),
                 "growth_big/cgroup3": usage(60, 60)})
    got = killed(SIZE, snap, cgroup="growth_big/*", size_threshold=50, growing_size_percentile=percentile,
                 min_growth_ratio=ratio)
    assert got == victims


def test_preferred_growth_beats_a_normal_size_kill():
    """KillsByPreferredGrowth: preferences dominate every phase."""
    snap = tree({"growth_big/cgroup1": usage(21 << 20, 5 << 20, xattrs=PREFER),
                 "growth_big/cgroup2": usage(99 << 20, 5 << 20, xattrs=PREFER),
                 "growth_big/cgroup3": usage(1000 << 20)})
    assert killed(SIZE, snap, cgroup="growth_big/*") == {789}


@pytest.mark.parametrize("xattrs", [None, PREFER])
def test_preferring_the_natural_victim_changes_nothing(xattrs):
    """KillMemoryGrowthConsistentWithPreference."""
    snap = tree({"growth_big/cgroup1": usage(21, 5, xattrs=xattrs), "growth_big/cgroup2": usage(99, 5, xattrs=xattrs),
                 "growth_big/cgroup3": usage(30)})
    assert killed(SIZE, snap, cgroup="growth_big/*") == {789}


def test_several_patterns_form_one_peer_group():
    """KillsBigCgroupMultiCgroup."""
    snap = tree(one_big(usage(60), usage(20), usage(20), sibling=usage(100)))
    assert killed(SIZE, snap, cgroup="one_big/*,sibling/*") == {888}


def test_patterns_ignore_empty_and_dot_components_and_empty_entries():
    """"/a//*" is "a/*" and "./b/./*" is "b/*", as paths under the cgroup root; ",," separates nothing."""
    snap = tree(one_big(usage(60), usage(20), usage(20), sibling=usage(100)))
    assert killed(SIZE, snap, cgroup="/one_big//*,,./sibling/./*") == {888}
    assert killed(SIZE, snap, cgroup=" one_big/* , ") == {123, 456}
    assert killed(SIZE, snap, cgroup="/one_big/*") == {123, 456}


def test_recursive_descends_into_the_winner():
    """CanTargetRecursively: A wins at the top, then A/X among A's children; sibling (100) is not matched."""
    data = {"A": usage(60), "A/Z": usage(20), "A/X": usage(40), "B": usage(20), "B/F": usage(5), "sibling": usage(100)}
    snap = tree(data, {"A/X": (1,), "A/Z": (2,), "B/F": (3,), "sibling": (4,)})
    d = SPECS[SIZE].run(snap, "/", {"cgroup": "A,B", "recursive": "true"})
    assert d.victim_cgroup == "/A/X"
    assert "kills /A/X via /A " in d.reason


def test_a_note_from_a_level_below_is_kept():
    """A's children were never sampled before: their growth is unknown, which the descent into them says."""
    snap = tree({"A": usage(60), "A/X": {"current": 40}, "A/Z": {"current": 20}, "B": usage(20)},
                {"A/X": (1,), "A/Z": (2,), "B": (3,)})
    d = SPECS[SIZE].run(snap, "/", {"cgroup": "A,B", "recursive": "true"})
    assert d.victim_cgroup == "/A/X"
    assert d.uncertain == ("growth unknown for 2 cgroup(s) (no earlier sample): ranked without it; "
                           "a growing cgroup could be picked instead")


def test_recursive_stops_at_an_oom_group():
    data = {"A": usage(60, oom_group=True), "A/Z": usage(20), "A/X": usage(40), "B": usage(20)}
    snap = tree(data, {"A/X": (1,), "A/Z": (2,), "B": (3,)})
    d = SPECS[SIZE].run(snap, "/", {"cgroup": "A,B", "recursive": "true"})
    assert d.victim_cgroup == "/A" and set(d.killed_pids) == {1, 2}


def test_integer_min_growth_ratio_quirk():
    """Writing the default 1.25 explicitly reads as 1, so a cgroup growing 11 % becomes the victim."""
    snap = tree({"s/a": usage(40, 36), "s/b": usage(45), "s/c": usage(30)}, {"s/a": (1,), "s/b": (2,), "s/c": (3,)})
    assert killed(SIZE, snap, cgroup="s/*", growing_size_percentile=20) == {2}
    assert killed(SIZE, snap, cgroup="s/*", growing_size_percentile=20, min_growth_ratio="1.25") == {1}


def test_with_an_integer_ratio_of_1_a_steady_cgroup_grows_and_beats_a_larger_shrinking_one():
    """min_growth_ratio=1 (what "1.25" reads as): a's growth 1.00 qualifies; b halves, so it is only plain size."""
    snap = tree({"s/a": usage(100, 100), "s/b": usage(300, 600)}, {"s/a": (1,), "s/b": (2,)})
    d = SPECS[SIZE].run(snap, "/", {"cgroup": "s/*", "size_threshold": "90", "growing_size_percentile": "0",
                                    "min_growth_ratio": "1"})
    assert d.victim_cgroup == "/s/a"
    assert [(c.cgroup, c.parts["phase"], c.parts["growth"]) for c in d.ranking] == [
        ("/s/a", "growth", 1.0), ("/s/b", "plain size", 0.5)]


def test_an_average_of_one_byte_is_an_average():
    """a grew from 1 byte to 30: growth 30, the fastest of the top 100 %, where no cgroup is over 90 %."""
    snap = tree({"s/a": usage(30, 1), "s/b": usage(60), "s/c": usage(20)}, {"s/a": (1,), "s/b": (2,), "s/c": (3,)})
    d = SPECS[SIZE].run(snap, "/", {"cgroup": "s/*", "size_threshold": "90", "growing_size_percentile": "0"})
    assert d.victim_cgroup == "/s/a"
    assert d.ranking[0].why == "normal, growth: memory.current 30 B, effective 30 B, growth 30.00"


def test_the_size_phase_beats_the_rest_however_little_is_unprotected():
    """a uses 800 of 900 MiB (over half): with 1 byte unprotected it still beats b's 100 MiB. Fully protected, its
    size key is 0, as oomd's, and b's plain size wins."""
    for protected, left, victim in ((800 * MiB - 1, 1, "/b"), (800 * MiB, 0, "/c")):
        snap = tree({"b": usage(800 * MiB, memory_min=protected), "c": usage(100 * MiB)}, {"b": (1,), "c": (2,)})
        d = SPECS[SIZE].run(snap, "/", {"cgroup": "*"})
        assert d.victim_cgroup == victim
        b = next(c for c in d.ranking if c.cgroup == "/b")
        assert (b.parts["phase"], b.parts["effective_usage"]) == ("size", left)


def test_growth_without_history_is_unknown_and_ranked_without_it():
    snap = tree({"s/a": {"current": 40}, "s/b": {"current": 45}}, {"s/a": (1,), "s/b": (2,)})
    d = SPECS[SIZE].run(snap, "/", {"cgroup": "s/*", "size_threshold": "90"})
    assert set(d.killed_pids) == {2}
    assert "growth unknown" in d.uncertain
    assert d.ranking[0].parts["growth"] is None


def test_effective_usage_subtracts_distributed_protection():
    # b is larger, but memory.low protects 30 of it: a's effective usage wins the plain-size phase.
    snap = tree({"s": {"current": 100, "memory_low": 30}, "s/a": usage(40), "s/b": usage(45, memory_low=30)},
                {"s/a": (1,), "s/b": (2,)})
    d = SPECS[SIZE].run(snap, "/", {"cgroup": "s/*", "size_threshold": "90"})
    assert set(d.killed_pids) == {1}
    assert next(c for c in d.ranking if c.cgroup == "/s/b").parts["effective_usage"] == 15


def test_empty_cgroups_are_skipped():
    snap = tree(one_big(usage(60, stat={"anon": 0}), usage(30, populated=False), usage(20)))
    assert killed(SIZE, snap, cgroup="one_big/*") == {111}


def test_ties_are_reported_as_unstable():
    d = SPECS[SIZE].run(tree(one_big(usage(30), usage(30), usage(10))), "/", {"cgroup": "one_big/*"})
    assert "unstable" in d.uncertain


# -- kill_by_swap_usage --------------------------------------------------------------

SWAP = "oomd-swap"
SWAP_PIDS = {**PIDS, "sibling/cgroup1": (555,)}


def swap(n: int, **kw) -> dict:
    return {"swap": n, **kw}


def test_kills_the_biggest_swap_user():
    assert killed(SWAP, tree(one_big(swap(20), swap(60), swap(40)), SWAP_PIDS), cgroup="one_big/*") == {789}


def test_swap_multi_pattern():
    snap = tree(one_big(swap(20), swap(60), swap(40), sibling=swap(70)), SWAP_PIDS)
    assert killed(SWAP, snap, cgroup="one_big/*,sibling/*") == {555}


def test_no_swap_no_kill():
    assert killed(SWAP, tree(one_big({}, {}, {}), SWAP_PIDS), cgroup="one_big/*") == set()


def test_swap_threshold_percent_of_swap_total():
    kw = {"mem_total": 1000 * KiB, "swap_total": 100 * KiB, "swap_free": 0}
    low = tree(one_big(swap(1), swap(2), swap(3)), SWAP_PIDS, **kw)
    assert killed(SWAP, low, cgroup="one_big/*", threshold="20%") == set()
    high = tree(one_big(swap(20 << 10), swap(60 << 10), swap(40 << 10)), SWAP_PIDS, **kw)
    assert killed(SWAP, high, cgroup="one_big/*", threshold="20%") == {789}


def biased(*cgroups: tuple[int, int]):
    """cgroupN with (swap, protection) on a host of 100 KiB memory and 25 KiB swap."""
    data = {f"cgroup{i + 1}": {"current": 10**6, "memory_low": prot, "swap": s} for i, (s, prot) in enumerate(cgroups)}
    pids = {f"cgroup{i + 1}": (100 * (i + 1) + 1,) for i in range(len(cgroups))}
    return tree(data, pids, mem_total=100 * KiB, swap_total=25 * KiB, swap_free=0)


def test_biased_swap_kill():
    """BiasedSwapKillTest: swap beyond a quarter of the protection (SwapTotal/MemTotal) decides."""
    assert killed(SWAP, biased((1900, 1500), (2000, 2000), (1500, 6000)), cgroup="*", biased_swap_kill=1) == {101}


def test_biased_swap_kill_without_excess_still_kills_one():
    """A quarter of each protection (375, 500, 1500) exceeds every swap: each excess is 0, a three-way tie."""
    d = SPECS[SWAP].run(biased((350, 1500), (350, 2000), (1000, 6000)), "/", {"cgroup": "*", "biased_swap_kill": "1"})
    assert d.victim_cgroup == "/cgroup1" and d.killed_pids == (101,)
    assert [(c.score, c.why) for c in d.ranking] == [
        (0.0, "normal, swap 350 B, excess 0 B"), (0.0, "normal, swap 350 B, excess 0 B"),
        (0.0, "normal, swap 1000 B, excess 0 B")]


def test_biased_swap_kill_never_kills_a_cgroup_without_swap():
    assert killed(SWAP, biased((0, 1500)), cgroup="*", biased_swap_kill=1) == set()


# -- kill_by_pressure and kill_by_pg_scan ----------------------------------------------

PRESSURE = "oomd-pressure"


def press(avg10: float, avg60: float) -> dict:
    return {"pressure": pressure(avg10, avg60)}


def test_kills_the_highest_pressure():
    """KillsHighestPressure (on memory.pressure: snapshots do not keep io.pressure)."""
    data = one_big(press(60, 60), press(50, 70), press(80, 80), sibling=press(99, 99))
    assert killed(PRESSURE, tree(data), cgroup="one_big/*") == {111}
    assert killed(PRESSURE, tree(data), cgroup="one_big/*,sibling/*") == {888}


def test_io_pressure_is_not_in_a_snapshot():
    d = SPECS[PRESSURE].run(tree(one_big(press(60, 60), press(50, 70), press(80, 80))), "/",
                            {"cgroup": "one_big/*", "resource": "io"})
    assert d.kills_nothing and "io.pressure" in d.uncertain


PGSCAN = "oomd-pgscan"


def scanned(now: int, prev: int | None) -> dict:
    return {"stat": {"pgscan": now}, "trend": None if prev is None else Trend(interval=5.0, pgscan_prev=prev)}


def test_pgscan_delta_decides_and_idle_cgroups_are_not_candidates():
    snap = tree(one_big(scanned(1000, 990), scanned(500, 100), scanned(7, 7)))
    d = SPECS[PGSCAN].run(snap, "/", {"cgroup": "one_big/*"})
    assert set(d.killed_pids) == {789}
    assert {c.cgroup for c in d.ranking} == {"/one_big/cgroup1", "/one_big/cgroup2"}


def test_pgscan_without_history_says_unknown():
    d = SPECS[PGSCAN].run(tree(one_big(scanned(1000, None), scanned(500, None), scanned(7, None))), "/",
                          {"cgroup": "one_big/*"})
    assert "delta unknown" in d.uncertain
    assert set(d.killed_pids) == {123, 456}


def test_default_candidates_are_the_domain_children_and_triggered_does_not_apply():
    d = SPECS[SIZE].run(tree(one_big(usage(60), usage(20), usage(20))), "/one_big", {})
    assert d.triggered is None
    assert d.victim_cgroup == "/one_big/cgroup1"


def test_bad_options():
    with pytest.raises(OptionError, match="below 100"):
        SPECS[SIZE].run(tree({}), "/", {"growing_size_percentile": "100"})
    with pytest.raises(OptionError, match="size"):
        SPECS[SWAP].run(tree({}), "/", {"threshold": "lots"})


# -- recursive=true for every plugin: rank the matched cgroups, descend into the winner, compare siblings only ---


def test_recursive_pgscan_is_oomds_own_case():
    """KillPgScanTest.CanTargetRecursively: A scanned most of A and B, then A/Z most of A's children."""
    scans = {"A": (20, 1100), "A/Z": (10, 600), "A/X": (10, 500), "B": (30, 1000), "B/F": (0, 0),
             "sibling": (50, 30000), "sibling/F": (0, 0)}
    data = {p: {"stat": {"pgscan": now}, "trend": Trend(interval=5.0, pgscan_prev=prev)} for p, (prev, now) in
            scans.items()}
    snap = tree(data, {"A/Z": (1,), "A/X": (2,), "B/F": (3,), "sibling/F": (4,)})
    d = SPECS["oomd-pgscan"].run(snap, "/", {"cgroup": "A,B", "recursive": "true"})
    assert d.victim_cgroup == "/A/Z" and d.killed_pids == (1,)


def test_recursive_swap_descends_and_skips_children_at_the_threshold():
    """A swaps most; of A's children only those strictly above the threshold count, so A/small (at it) is never
    picked and A/big is; without recursive A dies whole."""
    data = {"A": {"swap": 300 << 20}, "A/big": {"swap": 200 << 20}, "A/small": {"swap": 100 << 20},
            "A/none": {"swap": 0}, "B": {"swap": 250 << 20}, "B/x": {"swap": 250 << 20}}
    snap = tree(data, {"A/big": (1,), "A/small": (2,), "A/none": (3,), "B/x": (4,)})
    spec = SPECS["oomd-swap"]
    assert spec.run(snap, "/", {"cgroup": "A,B", "recursive": "true"}).victim_cgroup == "/A/big"
    assert spec.run(snap, "/", {"cgroup": "A,B"}).victim_cgroup == "/A"
    # a threshold between the children: only big qualifies in A; above both, A has no candidate left and
    # the search backtracks to B, whose only child qualifies
    assert spec.run(snap, "/", {"cgroup": "A,B", "recursive": "true", "threshold": "150M"}).victim_cgroup == "/A/big"
    assert spec.run(snap, "/", {"cgroup": "A,B", "recursive": "true", "threshold": "200M"}).victim_cgroup == "/B/x"


def test_recursive_pressure_compares_siblings_only():
    """B/hot has the highest pressure of all leaves, but A beats B at the top, so the choice stays in A."""
    data = {"A": {"pressure": pressure(80, 60)}, "A/x": {"pressure": pressure(30, 30)},
            "A/y": {"pressure": pressure(50, 40)}, "B": {"pressure": pressure(40, 40)},
            "B/hot": {"pressure": pressure(99, 99)}}
    snap = tree(data, {"A/x": (1,), "A/y": (2,), "B/hot": (3,)})
    d = SPECS["oomd-pressure"].run(snap, "/", {"cgroup": "A,B", "recursive": "true"})
    assert d.victim_cgroup == "/A/y"  # int(50/2 + 40/2) = 45 against int(30/2 + 30/2) = 30
    assert "via /A " in d.reason


def test_recursive_backtracks_past_empty_leaves_and_preferences_act_only_among_siblings():
    """A wins, but its children are empty: the DFS backtracks to B. A PREFER grandchild under the loser C is
    never reached: preferences only rank the siblings being compared."""
    data = {"A": usage(60), "A/e1": usage(30, stat={"anon": 0}), "A/e2": usage(30, stat={"anon": 0}),
            "B": usage(40), "B/x": usage(25), "B/y": usage(15), "C": usage(10), "C/p": usage(10, xattrs=PREFER)}
    snap = tree(data, {"B/x": (1,), "B/y": (2,), "C/p": (3,), "A/e1": (4,), "A/e2": (5,)})
    d = SPECS[SIZE].run(snap, "/", {"cgroup": "A,B,C", "recursive": "true"})
    assert d.victim_cgroup == "/B/x"


@pytest.mark.parametrize("policy", sorted(SPECS))
def test_every_plugin_has_recursive(policy):
    assert any(o.name == "recursive" for o in SPECS[policy].options)


# -- what a decision says: victim, reason, ranking, notes ------------------------------

MiB = 1 << 20
PICKS = "oomd kills when its ruleset's detectors fire; this is whom the plugin picks then"


def test_a_size_kill_names_the_victim_its_figures_and_every_peer_in_order():
    """60 of 100 MiB is over half of the peers' total: cgroup1 dies whole, in the size phase."""
    snap = tree(one_big(usage(60 * MiB), usage(30 * MiB, 15 * MiB, xattrs=AVOID), usage(10 * MiB)))
    d = SPECS[SIZE].run(snap, "/", {"cgroup": "one_big/*"})
    assert (d.policy, d.domain, d.triggered) == (SIZE, "/", None)
    assert (d.victim_cgroup, d.killed_pids, d.freed_bytes) == ("/one_big/cgroup1", (123, 456), 60 * MiB)
    assert d.reason == (
        "oomd kill_by_memory_size_or_growth kills /one_big/cgroup1 (normal, size: memory.current 60.0 MiB, "
        f"effective 60.0 MiB, growth 1.00); {PICKS}; 2 processes, 60.0 MiB freed"
    )
    assert d.uncertain is None
    # normal before avoid whatever the size; each entry's score is its effective usage
    assert [(c.cgroup, c.score, c.pid) for c in d.ranking] == [
        ("/one_big/cgroup1", 60.0 * MiB, None), ("/one_big/cgroup3", 10.0 * MiB, None),
        ("/one_big/cgroup2", 30.0 * MiB, None),
    ]
    avoided = d.ranking[2]
    assert avoided.why == "avoid, plain size: memory.current 30.0 MiB, effective 30.0 MiB, growth 2.00"
    assert avoided.parts["preference"] == "avoid" and avoided.parts["phase"] == "plain size"
    assert d.ranking[0].parts["preference"] == "normal" and d.ranking[0].parts["memory_current"] == 60 * MiB


def test_a_single_key_plugin_scores_each_peer_by_its_key():
    snap = tree(one_big(swap(20 * MiB), swap(60 * MiB, xattrs=PREFER), swap(40 * MiB)), SWAP_PIDS)
    d = SPECS[SWAP].run(snap, "/", {"cgroup": "one_big/*"})
    assert d.reason == (f"oomd kill_by_swap_usage kills /one_big/cgroup2 (prefer, swap 60.0 MiB); {PICKS}; "
                        "1 process, 0 B freed")
    assert [(c.cgroup, c.score, c.why) for c in d.ranking] == [
        ("/one_big/cgroup2", 60.0 * MiB, "prefer, swap 60.0 MiB"),
        ("/one_big/cgroup3", 40.0 * MiB, "normal, swap 40.0 MiB"),
        ("/one_big/cgroup1", 20.0 * MiB, "normal, swap 20.0 MiB"),
    ]
    assert d.ranking[0].parts == {"preference": "prefer", "swap_current": 60 * MiB, "key": 60 * MiB, "threshold": 1}


def test_a_recursive_kill_says_the_way_down():
    data = {"A": usage(60 * MiB), "A/X": usage(40 * MiB), "A/X/leaf": usage(40 * MiB), "A/Z": usage(20 * MiB),
            "B": usage(20 * MiB)}
    snap = tree(data, {"A/X/leaf": (1,), "A/Z": (2,), "B": (3,)})
    d = SPECS[SIZE].run(snap, "/", {"cgroup": "A,B", "recursive": "true"})
    assert d.reason.startswith("oomd kill_by_memory_size_or_growth kills /A/X/leaf via /A → /A/X (normal, size: ")
    assert d.killed_pids == (1,)
    assert [c.cgroup for c in d.ranking] == ["/A/X/leaf"]  # the ranking shown is the last level's


def test_no_matching_cgroup_kills_nothing_and_says_so():
    snap = tree(one_big(usage(60), usage(20), usage(20)))
    d = SPECS[PRESSURE].run(snap, "/", {"cgroup": "nothing/*"})
    assert d.kills_nothing and (d.policy, d.domain, d.triggered) == (PRESSURE, "/", None)
    assert d.reason == "oomd kill_by_pressure: no cgroup matches the cgroup pattern"
    assert d.ranking == () and d.uncertain is None


def test_when_no_cgroup_qualifies_or_all_are_empty_nothing_dies_and_the_reason_differs():
    none_swaps = SPECS[SWAP].run(tree(one_big({}, {}, {}), SWAP_PIDS), "/one_big", {})
    assert none_swaps.kills_nothing and (none_swaps.policy, none_swaps.domain) == (SWAP, "/one_big")
    assert none_swaps.reason == f"oomd kill_by_swap_usage: no cgroup qualifies ({PICKS})"
    empty = tree(one_big(usage(60, stat={"anon": 0}), usage(30, populated=False), usage(20, stat={"anon": 0})))
    d = SPECS[SIZE].run(empty, "/", {"cgroup": "one_big/*"})
    assert d.kills_nothing and (d.policy, d.triggered) == (SIZE, None)
    assert d.reason == f"oomd kill_by_memory_size_or_growth: all kill candidate cgroups are empty ({PICKS})"
    assert [c.cgroup for c in d.ranking] == ["/one_big/cgroup1", "/one_big/cgroup2", "/one_big/cgroup3"]
    assert d.ranking[0].why.startswith("normal, size: ")


def test_a_tie_with_the_victim_is_named():
    d = SPECS[SIZE].run(tree(one_big(usage(30), usage(30), usage(10))), "/", {"cgroup": "one_big/*"})
    assert d.victim_cgroup == "/one_big/cgroup1"
    assert d.uncertain == "std::sort is unstable: /one_big/cgroup2 ties with /one_big/cgroup1; oomd may pick either"


def test_a_plugin_is_offered_as_oomd_names_it_with_the_common_options_first():
    """The policy list shows the plugin's name; oomd acts when a ruleset fires and never reads oom_score_adj."""
    extra = OptionSpec("resource", str, "memory", "memory or io")
    spec = oomd._plugin("oomd-x", "kill_by_pressure", "highest pressure", oomd.rank_pressure, (extra,))
    assert (spec.name, spec.title, spec.summary) == ("oomd-x", "oomd kill_by_pressure", "highest pressure")
    assert (spec.acts_when, spec.reads_oom_score_adj) == ("by ruleset", False)
    assert [o.name for o in spec.options] == ["cgroup", "recursive", "resource"]
    d = spec.run(tree(one_big(press(60, 60), press(50, 70), press(80, 80))), "/", {"cgroup": "one_big/*"})
    assert d.policy == "oomd-x" and d.victim_cgroup == "/one_big/cgroup3"
    assert d.reason.startswith("oomd kill_by_pressure kills /one_big/cgroup3 (normal, full pressure avg10 80, ")


# -- each plugin's figures, worked by hand ----------------------------------------------------------------------


def size_peers(**c_fields):
    """s (memory.low 10 MiB) over a (100 MiB, was 50, low 20), b (300 MiB, steady) and c (60 MiB, first seen)."""
    data = {"s": {"current": 460 * MiB, "memory_low": 10 * MiB},
            "s/a": usage(100 * MiB, 50 * MiB, memory_low=20 * MiB), "s/b": usage(300 * MiB),
            "s/c": {"current": 60 * MiB, **c_fields}}
    return tree(data, {"s/a": (1,), "s/b": (2,), "s/c": (3,)})


def test_size_or_growth_figures_protection_threshold_and_floor():
    """s's 10 MiB of protection goes to a, the only child asking for any (20 MiB), so a's effective usage is 90 MiB.
    Half of 460 MiB is 230 MiB: b is over it. The top 20 % of three is one cgroup: the growth floor is b's 300 MiB."""
    d = SPECS[SIZE].run(size_peers(), "/", {"cgroup": "s/*"})
    assert d.victim_cgroup == "/s/b"
    assert [(c.cgroup, c.score, c.why) for c in d.ranking] == [
        ("/s/b", 300.0 * MiB, "normal, size: memory.current 300.0 MiB, effective 300.0 MiB, growth 1.00"),
        ("/s/a", 90.0 * MiB, "normal, plain size: memory.current 100.0 MiB, effective 90.0 MiB, growth 2.00"),
        ("/s/c", 60.0 * MiB, "normal, plain size: memory.current 60.0 MiB, effective 60.0 MiB, growth unknown"),
    ]
    assert dict(d.ranking[1].parts) == {
        "preference": "normal", "phase": "plain size", "memory_current": 100 * MiB, "protection": 10 * MiB,
        "effective_usage": 90 * MiB, "growth": 2.0, "size_threshold": 230 * MiB, "growth_floor": 300 * MiB}
    assert d.uncertain == ("growth unknown for 1 cgroup(s) (no earlier sample): ranked without it; "
                           "a growing cgroup could be picked instead")


def test_growth_among_the_top_half_beats_plain_size():
    """With nobody over 70 % and the floor at the second of three (90 MiB), a grows 2x from exactly the floor."""
    d = SPECS[SIZE].run(size_peers(avg=0), "/", {"cgroup": "s/*", "size_threshold": "70",
                                                 "growing_size_percentile": "50"})
    assert d.victim_cgroup == "/s/a"
    assert d.ranking[0].why == "normal, growth: memory.current 100.0 MiB, effective 90.0 MiB, growth 2.00"
    assert d.ranking[0].parts["growth_floor"] == 90 * MiB
    # an average of 0 reads as growth 0, not unknown
    assert d.ranking[2].why == "normal, plain size: memory.current 60.0 MiB, effective 60.0 MiB, growth 0.00"
    assert d.uncertain is None


@pytest.mark.parametrize(("a", "c", "victim"), [(50, 20, {123, 456}), (49, 21, {789})])
def test_exactly_the_size_threshold_is_over_it_and_exactly_the_growth_ratio_grows(a, c, victim):
    """Of 100, a has 50 (the threshold) or 49 (below it); b grows by exactly 1.25 and is in the top 100 %."""
    snap = tree(one_big(usage(a, 45), usage(30, 24), usage(c)))
    assert killed(SIZE, snap, cgroup="one_big/*", growing_size_percentile=0) == victim


def test_swap_figures_with_the_protection_bias():
    """SwapTotal/MemTotal = 1/4: cgroup1 swaps 1900 with 1500 protected, so 1900 - 375 = 1525 is its excess."""
    d = SPECS[SWAP].run(biased((1900, 1500), (2000, 2000)), "/", {"cgroup": "*", "biased_swap_kill": "1"})
    assert [(c.cgroup, c.score, c.why) for c in d.ranking] == [
        ("/cgroup1", 1525.0, "normal, swap 1.9 KiB, excess 1.5 KiB"),
        ("/cgroup2", 1500.0, "normal, swap 2.0 KiB, excess 1.5 KiB"),
    ]
    assert dict(d.ranking[0].parts) == {"preference": "normal", "swap_current": 1900, "key": 1525, "threshold": 1}


def test_a_swap_threshold_in_percent_is_of_swaptotal_and_strict():
    """20 % of 100 KiB is 20480 bytes: a cgroup swapping exactly that is not over it."""
    kw = {"mem_total": 1000 * KiB, "swap_total": 100 * KiB, "swap_free": 0}
    snap = tree(one_big(swap(20480), swap(20481), swap(100)), SWAP_PIDS, **kw)
    d = SPECS[SWAP].run(snap, "/", {"cgroup": "one_big/*", "threshold": "20%"})
    assert [c.cgroup for c in d.ranking] == ["/one_big/cgroup2"]
    assert d.ranking[0].parts["threshold"] == 20480
    sized = SPECS[SWAP].run(snap, "/", {"cgroup": "one_big/*", "threshold": "0.02"})  # MiB: 20971 bytes
    assert sized.kills_nothing and sized.ranking == ()


def test_no_swap_figures_at_all_is_a_note():
    d = SPECS[SWAP].run(tree(one_big({}, {}, {}), SWAP_PIDS), "/", {"cgroup": "one_big/*"})
    assert d.uncertain == "no swap figures for these cgroups (cgroup v1 or not read): none counts as swapping"
    zero = SPECS[SWAP].run(tree(one_big(swap(0), {}, {}), SWAP_PIDS), "/", {"cgroup": "one_big/*"})
    assert zero.uncertain is None


def test_pressure_key_truncates_the_half_sum_and_unknown_pressure_is_left_out():
    d = SPECS[PRESSURE].run(tree(one_big(press(33.5, 10.3), press(21.9, 21.9), {})), "/", {"cgroup": "one_big/*"})
    assert [(c.cgroup, c.score, c.why) for c in d.ranking] == [
        ("/one_big/cgroup1", 21.0, "normal, full pressure avg10 33.5, avg60 10.3"),
        ("/one_big/cgroup2", 21.0, "normal, full pressure avg10 21.9, avg60 21.9"),
    ]
    assert dict(d.ranking[0].parts) == {"preference": "normal", "avg10": 33.5, "avg60": 10.3, "key": 21}
    assert d.uncertain == ("memory.pressure unknown for 1 cgroup(s) (cgroup v1 or not read); "
                           "std::sort is unstable: /one_big/cgroup2 ties with /one_big/cgroup1; oomd may pick either")
    assert d.victim_cgroup == "/one_big/cgroup1"


def test_a_pressure_line_missing_either_average_is_unknown_wherever_it_comes():
    """A file's writer kept only avg10 for cgroup1 and only avg60 for cgroup2: both are left out, cgroup3 is ranked."""
    def half(avg10, avg60):
        return {"pressure": Pressure(some=None, full=PressureLine(avg10=avg10, avg60=avg60, avg300=None, total=None))}
    d = SPECS[PRESSURE].run(tree(one_big(half(90.0, None), half(None, 90.0), press(4.0, 2.0))), "/",
                            {"cgroup": "one_big/*"})
    assert [(c.cgroup, c.score) for c in d.ranking] == [("/one_big/cgroup3", 3.0)]
    assert d.victim_cgroup == "/one_big/cgroup3"
    assert d.uncertain == "memory.pressure unknown for 2 cgroup(s) (cgroup v1 or not read)"
    known = SPECS[PRESSURE].run(tree(one_big(press(4.0, 2.0), press(1.0, 1.0), press(0.0, 0.0))), "/",
                                {"cgroup": "one_big/*"})
    assert [c.score for c in known.ranking] == [3.0, 1.0, 0.0] and known.uncertain is None


def test_io_pressure_ranks_nothing():
    d = SPECS[PRESSURE].run(tree(one_big(press(60, 60), press(50, 70), press(80, 80))), "/",
                            {"cgroup": "one_big/*", "resource": "io"})
    assert d.ranking == () and d.uncertain == "snapshots do not record io.pressure; nothing to rank by"
    assert d.reason == f"oomd kill_by_pressure: no cgroup qualifies ({PICKS})"


def test_pgscan_figures_and_notes():
    d = SPECS[PGSCAN].run(tree(one_big(scanned(1000, 990), scanned(500, None), scanned(7, 7))), "/",
                          {"cgroup": "one_big/*"})
    assert [(c.cgroup, c.score, c.why) for c in d.ranking] == [
        ("/one_big/cgroup2", 500.0, "normal, pgscan 500 in total (delta unknown)"),
        ("/one_big/cgroup1", 10.0, "normal, pgscan +10 since the last sample"),
    ]
    assert dict(d.ranking[1].parts) == {"preference": "normal", "pgscan": 1000, "delta": 10}
    assert dict(d.ranking[0].parts) == {"preference": "normal", "pgscan": 500, "delta": None}
    assert d.uncertain == ("pgscan delta unknown for 1 cgroup(s) (no earlier sample; oomd itself waits a tick): "
                           "ranked by total pgscan instead")
    v1 = SPECS[PGSCAN].run(tree(one_big({}, {}, {})), "/", {"cgroup": "one_big/*"})
    assert v1.uncertain == "memory.stat has no pgscan here (cgroup v1 or not read)"
    # one page scanned since the last sample is a scan; two without an earlier sample are counted
    d = SPECS[PGSCAN].run(tree(one_big(scanned(8, 7), scanned(5, None), scanned(6, None))), "/",
                          {"cgroup": "one_big/*"})
    assert [(c.cgroup, c.score) for c in d.ranking] == [("/one_big/cgroup3", 6.0), ("/one_big/cgroup2", 5.0),
                                                        ("/one_big/cgroup1", 1.0)]
    assert d.uncertain.startswith("pgscan delta unknown for 2 cgroup(s) ")
    # a peer without pgscan is passed over, not the end of the ranking
    partly = SPECS[PGSCAN].run(tree(one_big({}, scanned(50, 20), {})), "/", {"cgroup": "one_big/*"})
    assert [(c.cgroup, c.score) for c in partly.ranking] == [("/one_big/cgroup2", 30.0)]
    assert partly.victim_cgroup == "/one_big/cgroup2" and partly.uncertain is None


@pytest.mark.parametrize(("xattr", "pref"), [("trusted.oomd_prefer", "prefer"), ("user.oomd_prefer", "prefer"),
                                             ("trusted.oomd_avoid", "avoid"), ("user.oomd_avoid", "avoid"),
                                             ("user.oomd_ooms", "normal")])
def test_each_preference_xattr_counts_by_its_presence(xattr, pref):
    """oomd reads both namespaces; the value does not matter, even an empty one."""
    snap = tree(one_big(usage(60), usage(20, xattrs={xattr: ""}), usage(10)))
    d = SPECS[SIZE].run(snap, "/", {"cgroup": "one_big/*"})
    assert next(c for c in d.ranking if c.cgroup == "/one_big/cgroup2").parts["preference"] == pref
    assert d.victim_cgroup == ("/one_big/cgroup2" if pref == "prefer" else "/one_big/cgroup1")
    assert d.ranking[-1].cgroup == ("/one_big/cgroup2" if pref == "avoid" else "/one_big/cgroup3")


def test_the_root_pattern_with_recursive_descends_from_the_root():
    """oomd's docs: "/" is the root; with recursive=true the pattern is written without the trailing '*'."""
    data = {"X": usage(60), "X/leaf": usage(60), "B": usage(20)}
    snap = tree(data, {"X/leaf": (1,), "B": (2,)})
    d = SPECS[SIZE].run(snap, "/", {"cgroup": "/", "recursive": "true"})
    assert d.victim_cgroup == "/X/leaf"
    assert "kills /X/leaf via / → /X (" in d.reason
    assert SPECS[SIZE].run(snap, "/", {"cgroup": "X/*"}).victim_cgroup == "/X/leaf"


def test_patterns_match_only_within_the_domain():
    snap = tree(one_big(usage(60), usage(20), usage(20), sibling=usage(100)))
    assert SPECS[SIZE].run(snap, "/one_big", {"cgroup": "*/*"}).victim_cgroup == "/one_big/cgroup1"
    assert SPECS[SIZE].run(snap, "/sibling", {"cgroup": "*/*"}).victim_cgroup == "/sibling/cgroup1"


def test_an_unread_memory_current_counts_as_zero_with_no_protection():
    snap = tree({"s": {"memory_low": 10 * MiB}, "s/a": usage(100 * MiB), "s/b": {"memory_low": 10 * MiB}},
                {"s/a": (1,), "s/b": (2,)})
    d = SPECS[SIZE].run(snap, "/", {"cgroup": "s/*"})
    b = next(c for c in d.ranking if c.cgroup == "/s/b")
    assert (b.parts["memory_current"], b.parts["protection"], b.parts["effective_usage"]) == (0, 0, 0)


def test_a_tie_note_names_three_of_the_equals():
    data = {f"t/c{i}": usage(10) for i in range(5)}
    d = SPECS[SIZE].run(tree(data, {f"t/c{i}": (i + 1,) for i in range(5)}), "/", {"cgroup": "t/*"})
    assert d.victim_cgroup == "/t/c0"
    assert d.uncertain == "std::sort is unstable: /t/c1, /t/c2, /t/c3 ties with /t/c0; oomd may pick either"


def test_a_child_gets_at_most_the_protection_it_asks_for_however_much_its_parent_has():
    """s protects 200 MiB but its children ask for 20 MiB in all: a keeps its 20 MiB (the share is capped at 1)."""
    data = {"s": {"current": 460 * MiB, "memory_min": 200 * MiB},
            "s/a": usage(100 * MiB, memory_low=20 * MiB), "s/b": usage(300 * MiB), "s/c": usage(60 * MiB)}
    d = SPECS[SIZE].run(tree(data, {"s/a": (1,), "s/b": (2,), "s/c": (3,)}), "/", {"cgroup": "s/*"})
    a = next(c for c in d.ranking if c.cgroup == "/s/a")
    assert (a.parts["protection"], a.parts["effective_usage"]) == (20 * MiB, 80 * MiB)
    assert a.why == "normal, plain size: memory.current 100.0 MiB, effective 80.0 MiB, growth 1.00"


def test_the_growth_top_rounds_up_so_67_percent_of_three_takes_all_three():
    """100 - 33 = 67 % of three cgroups is 2.01, rounded up to all three: the floor is c's 60 MiB, so c, growing 3x,
    beats a's 2x. Nobody is over 70 % of 460 MiB (322 MiB)."""
    d = SPECS[SIZE].run(size_peers(avg=20 * MiB), "/", {"cgroup": "s/*", "size_threshold": "70",
                                                       "growing_size_percentile": "33"})
    assert d.victim_cgroup == "/s/c"
    assert [(c.cgroup, c.parts["phase"], c.parts["growth_floor"]) for c in d.ranking] == [
        ("/s/c", "growth", 60 * MiB), ("/s/a", "growth", 60 * MiB), ("/s/b", "plain size", 60 * MiB)]


def test_a_percentage_of_an_unknown_swaptotal_is_0_bytes():
    snap = tree({"a": {"current": 100, "swap": 2 * MiB}}, {"a": (1,)}, swap_total=None, swap_free=None)
    d = SPECS[SWAP].run(snap, "/", {"cgroup": "*", "threshold": "100%"})
    assert d.victim_cgroup == "/a" and d.ranking[0].parts["threshold"] == 0


def test_a_cgroup_without_a_swap_figure_is_not_swapping_even_over_a_threshold_of_0():
    snap = tree({"a": {"current": 100, "swap": 5}, "b": {"current": 100}}, {"a": (1,), "b": (2,)})
    d = SPECS[SWAP].run(snap, "/", {"cgroup": "*", "threshold": "0"})
    assert [(c.cgroup, c.parts["threshold"]) for c in d.ranking] == [("/a", 0)]
