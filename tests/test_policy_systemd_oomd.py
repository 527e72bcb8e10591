"""systemd-oomd's choice, rebuilt from src/oom/test-oomd-util.c (sort, pressure and threshold cases)."""

from __future__ import annotations

import dataclasses

import pytest

from oomtui.evaluate import evaluate
from oomtui.model import CgroupEdit, Trend, WhatIf, frozen_map
from oomtui.policies.base import OptionError
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
    assert [c.parts["pgscan_rate"] for c in d.ranking] == [33, 32, 2, 1, 0, U64_MAX]


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


# -- what a decision says: the trigger's figures, the victim, the notes -------------------------------

MiB = 1 << 20
LOW_SWAP_STATE = "MemAvailable 512.0 MiB vs 1.0 GiB, SwapFree 512.0 MiB vs 1.0 GiB"


def swapping(big: dict | None = None, small_swap: int = 600 * MiB, **host_kw):
    """10 GiB of memory and of swap, both down to 512 MiB: below SwapUsedLimit=90 %'s 1 GiB floors."""
    cgroups = [cgroup("/", owner_uid=0), cgroup("/a.slice", owner_uid=0),
               cgroup("/a.slice/big.service", GiB, swap=2 * GiB, owner_uid=0, **(big or {})),
               cgroup("/a.slice/small.service", 100 * MiB, swap=small_swap, owner_uid=0),
               cgroup("/b.slice", 10 * MiB, swap=100 * MiB, owner_uid=0)]
    procs = [process(1, "big", "/a.slice/big.service"), process(2, "small", "/a.slice/small.service"),
             process(3, "b", "/b.slice")]
    kw = {"mem_total": 10 * GiB, "mem_available": 512 * MiB, "swap_total": 10 * GiB, "swap_free": 512 * MiB,
          **host_kw}
    return snapshot(cgroups, procs, host_=host(**kw))


def test_a_swap_kill_names_the_leaf_its_swap_and_the_low_figures():
    d = SWAP.run(swapping(), "/", {})
    assert (d.policy, d.domain, d.triggered) == ("systemd-oomd-swap", "/", True)
    assert (d.victim_cgroup, d.killed_pids, d.freed_bytes) == ("/a.slice/big.service", (1,), 3 * GiB)
    assert d.reason == (f"systemd-oomd (swap) kills /a.slice/big.service with swap 2.0 GiB ({LOW_SWAP_STATE}); "
                        "1 process, 3.0 GiB freed")
    assert [(c.cgroup, c.score, c.why) for c in d.ranking] == [
        ("/a.slice/big.service", 2.0 * GiB, "none, swap 2.0 GiB"),
        ("/a.slice/small.service", 600.0 * MiB, "none, swap 600.0 MiB"),
        ("/b.slice", 100.0 * MiB, "none, swap 100.0 MiB"),
    ]
    assert d.ranking[0].parts == {"preference": "none", "swap_current": 2 * GiB}
    assert d.uncertain is None


def test_a_swap_kill_passes_over_an_empty_leaf_and_stops_at_five_percent():
    assert SWAP.run(swapping({"populated": False}), "/", {}).victim_cgroup == "/a.slice/small.service"
    # 5 % of 10 GiB is 512 MiB: small.service at exactly that is not "more than" it
    d = SWAP.run(swapping({"populated": False}, small_swap=512 * MiB), "/", {})
    assert d.kills_nothing and d.triggered is True
    assert (d.policy, d.domain) == ("systemd-oomd-swap", "/")
    assert d.reason == f"systemd-oomd: no populated candidate uses more than 5% of swap ({LOW_SWAP_STATE})"


@pytest.mark.parametrize(("mem_available", "swap_free", "triggered"), [
    (GiB - 1, GiB - 1, True),
    (GiB, GiB - 1, False),  # strictly below the floor, as oomd_mem_available_below compares
    (GiB - 1, GiB, False),
])
def test_the_swap_trigger_is_strictly_below_both_floors(mem_available, swap_free, triggered):
    d = SWAP.run(swapping(mem_available=mem_available, swap_free=swap_free), "/", {})
    assert d.triggered is triggered
    assert "vs 1.0 GiB, SwapFree " in d.reason


def test_the_swap_limit_is_read_in_permyriad_like_systemds_parse_permyriad():
    """33.33 % used leaves 6667 permyriad: 6667 of 10000 bytes is the floor, 6666 is below it."""
    snap = swapping(mem_total=10000, mem_available=6666, swap_total=10000, swap_free=6666)
    d = SWAP.run(snap, "/", {"swap_used_limit": "33.33"})
    assert d.triggered is True
    at_floor = swapping(mem_total=10000, mem_available=6667, swap_total=10000, swap_free=6666)
    assert SWAP.run(at_floor, "/", {"swap_used_limit": "33.33"}).triggered is False


@pytest.mark.parametrize(("mem_available", "swap_free", "triggered"), [(999, 999, True), (1000, 999, False),
                                                                   (999, 1000, False)])
def test_the_swap_floors_are_whole_bytes_as_systemds_integer_arithmetic_makes_them(mem_available, swap_free, triggered):
    """10 % of 10001 bytes is 1000.1, truncated to 1000: 1000 bytes left is not below it."""
    snap = swapping(mem_total=10001, mem_available=mem_available, swap_total=10001, swap_free=swap_free)
    d = SWAP.run(snap, "/", {})
    assert d.triggered is triggered
    assert f"(MemAvailable {mem_available} B vs 1000 B, SwapFree {swap_free} B vs 1000 B)" in d.reason


def test_without_swap_or_figures_the_swap_trigger_says_why():
    no_swap = SWAP.run(swapping(swap_total=0, swap_free=0), "/", {})
    assert no_swap.triggered is False and "(no swap: ManagedOOMSwap never acts)" in no_swap.reason
    unknown = SWAP.run(swapping(mem_available=None), "/", {})
    assert unknown.triggered is None and "(memory or swap figures unknown)" in unknown.reason


def test_swap_figures_missing_everywhere_is_a_note_and_every_candidate_counts_as_zero():
    cgroups = [cgroup("/", owner_uid=0), cgroup("/a.slice", 10, owner_uid=0), cgroup("/b.slice", 20, owner_uid=0)]
    snap = snapshot(cgroups, [process(1, "a", "/a.slice")], host_=host(swap_total=1000, swap_free=0))
    d = SWAP.run(snap, "/", {"monitored": "/, /gone.slice, /lost.slice"})
    assert d.kills_nothing
    assert d.uncertain == ("monitored cgroup(s) not in this snapshot: /gone.slice, /lost.slice; "
                           "no memory.swap.current here (cgroup v1 or not read): every candidate counts as 0")
    assert [(c.cgroup, c.score, c.why) for c in d.ranking] == [("/a.slice", 0.0, "none, swap 0 B"),
                                                                ("/b.slice", 0.0, "none, swap 0 B")]


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


def test_a_preference_on_a_cgroup_of_unknown_owner_is_honoured_with_a_note():
    d = SWAP.run(preferred({"user.oomd_avoid": "1"}, None), "/", {})
    assert d.victim_cgroup == "/small.slice"
    assert d.uncertain == "owner of /big.slice or / unknown; its avoid preference was honoured"
    assert d.ranking[-1].why == "avoid, swap 900 B"


def test_a_user_owned_omit_is_ignored_for_swap_kills_with_a_note():
    d = SWAP.run(preferred({"user.oomd_omit": "1"}, 1000), "/", {})
    assert d.victim_cgroup == "/big.slice"
    assert d.uncertain == "/big.slice is owned by uid 1000: its user.oomd_omit is ignored"


def user_session(owners: dict[str, int | None], monitored_owner: int | None = 1000):
    """A user manager's cgroup under pressure (monitored), with leaves owned as given, each with an avoid."""
    unit = "/user.slice/user-1000.slice/user@1000.service"
    cgroups = [cgroup("/", owner_uid=0), cgroup("/user.slice", owner_uid=0),
               cgroup("/user.slice/user-1000.slice", owner_uid=0),
               cgroup(unit, 300, pressure=pressure(90, 90), stat={"pgscan": 20}, owner_uid=monitored_owner,
                      trend=Trend(interval=5.0, pgscan_prev=10, pressure_full_avg10_above_since=900.0))]
    procs = []
    for i, (leaf, owner) in enumerate(sorted(owners.items())):
        cgroups.append(cgroup(f"{unit}/{leaf}", 100 + i, xattrs={"user.oomd_avoid": "1"}, owner_uid=owner,
                              stat={"pgscan": 50 + i}, trend=Trend(interval=5.0, pgscan_prev=0)))
        procs.append(process(10 + i, leaf, f"{unit}/{leaf}"))
    cgroups.append(cgroup(f"{unit}/plain.scope", 1, stat={"pgscan": 1}, trend=Trend(interval=5.0, pgscan_prev=0),
                          owner_uid=1000))
    procs.append(process(99, "plain", f"{unit}/plain.scope"))
    return unit, snapshot(cgroups, procs, taken_at=1000.0)


def test_pressure_kills_honour_the_monitored_owners_and_roots_preferences_only():
    """Below a user-owned unit, an avoid counts on a cgroup of that user or of root, not of another user."""
    unit, snap = user_session({"mine.scope": 1000, "roots.scope": 0, "other.scope": 1001})
    d = PRESSURE.run(snap, "/", {"monitored": unit})
    assert d.triggered is True
    assert d.victim_cgroup == f"{unit}/other.scope"
    prefs = {c.cgroup.rsplit("/", 1)[1]: c.parts["preference"] for c in d.ranking}
    assert prefs == {"mine.scope": "avoid", "roots.scope": "avoid", "other.scope": "none", "plain.scope": "none"}
    assert d.uncertain == f"{unit}/other.scope is owned by uid 1001: its user.oomd_avoid is ignored"


def test_an_unknown_monitored_owner_honours_the_preference_with_a_note():
    unit, snap = user_session({"mine.scope": 1000}, monitored_owner=None)
    d = PRESSURE.run(snap, "/", {"monitored": unit})
    assert d.victim_cgroup == f"{unit}/plain.scope"
    assert d.uncertain == f"owner of {unit}/mine.scope or {unit} unknown; its avoid preference was honoured"


def test_a_pressure_kill_names_the_monitored_cgroup_the_rate_and_the_pressure():
    d = PRESSURE.run(pressured(70, since=900.0), "/", {"monitored": "/herp.slice"})
    assert (d.policy, d.domain, d.triggered, d.victim_cgroup, d.killed_pids) == (
        "systemd-oomd-pressure", "/", True, "/herp.slice/a.service", (1,))
    assert d.reason == ("systemd-oomd (pressure on /herp.slice) kills /herp.slice/a.service with pgscan rate unknown, "
                        "memory.current 60 B (/herp.slice full avg10 70% (limit 60% for 30 s)); 1 process, 60 B freed")
    assert d.uncertain == "pgscan rate unknown for 2 candidate(s) (no earlier sample): ranked by memory.current"
    assert [(c.cgroup, c.score, c.why) for c in d.ranking] == [
        ("/herp.slice/a.service", 0.0, "none, pgscan rate unknown, memory.current 60 B"),
        ("/herp.slice/b.service", 0.0, "none, pgscan rate unknown, memory.current 40 B"),
    ]
    assert d.ranking[0].parts == {"preference": "none", "pgscan_rate": None, "pgscan": 15, "memory_current": 60}


def test_a_rate_known_for_every_candidate_leaves_no_note_and_is_the_score():
    unit, snap = user_session({"mine.scope": 1000})
    d = PRESSURE.run(snap, "/", {"monitored": unit})
    assert [(c.cgroup.rsplit("/", 1)[1], c.score) for c in d.ranking] == [("plain.scope", 1.0), ("mine.scope", 50.0)]
    assert "with pgscan rate 1, memory.current 1 B" in d.reason and d.uncertain is None


@pytest.mark.parametrize(("kw", "opts", "triggered", "says"), [
    ({"since": 900.0}, {}, True, "(limit 60% for 30 s)); "),
    ({"since": 970.0}, {}, True, "(limit 60% for 30 s)); "),  # exactly the duration
    ({"since": 970.5}, {}, False, "; not for long enough)"),
    ({"since": 900.0, "pgscan_prev": 20, "interval": 30.0}, {}, False, "; no recent reclaim)"),
    ({"since": 900.0, "pgscan_prev": 20, "interval": 29.0}, {}, None, "; recent reclaim unknown)"),
    ({"since": 900.0, "pgscan_prev": None}, {}, None, "; recent reclaim unknown)"),
    ({}, {}, None, "; how long unknown)"),
    ({"pgscan_prev": None}, {}, None, "; how long and recent reclaim unknown)"),
    ({}, {"mem_pressure_duration": "0"}, True, "(limit 60% for 0 s)); "),
    # the collector keeps "above since" against 60 %: for another limit how long is unknown
    ({"since": 900.0}, {"mem_pressure_limit": "50"}, None, "(limit 50% for 30 s); how long unknown)"),
])
def test_the_pressure_trigger_needs_both_duration_and_recent_reclaim(kw, opts, triggered, says):
    d = PRESSURE.run(pressured(70, **kw), "/", {"monitored": "/herp.slice", **opts})
    assert d.triggered is triggered
    assert says in d.reason


def test_pressure_at_the_limit_is_not_above_it():
    d = PRESSURE.run(pressured(60, since=900.0), "/", {"monitored": "/herp.slice"})
    assert d.triggered is False
    assert "(/herp.slice full avg10 60% (limit 60% for 30 s)); " in d.reason


def test_a_monitored_cgroup_missing_from_the_snapshot_has_unknown_pressure():
    d = PRESSURE.run(sort_snapshot(), "/", {"monitored": "/gone.slice"})
    assert d.triggered is None and d.kills_nothing
    assert d.reason == ("systemd-oomd: no populated candidate below /gone.slice with memory or reclaim "
                        "(memory pressure of /gone.slice unknown)")
    assert d.uncertain == "monitored cgroup(s) not in this snapshot: /gone.slice"


def test_pressure_unknown_is_said_and_the_root_reads_the_hosts_psi():
    d = PRESSURE.run(pressured(70, since=900.0).replace(taken_at=None), "/", {"monitored": "/herp.slice"})
    assert d.triggered is None and "how long unknown" in d.reason
    snap = pressured(70, since=900.0)
    root = PRESSURE.run(snap, "/", {})
    assert root.triggered is None and "(memory pressure of / unknown)" in root.reason
    hot = snap.replace(host=dataclasses.replace(snap.host, psi=pressure(95)))
    assert "(/ full avg10 95% (limit 60% for 0 s)" in PRESSURE.run(hot, "/", {"mem_pressure_duration": "0"}).reason


def test_the_first_monitored_cgroup_under_pressure_is_the_one_whose_leaves_are_ranked():
    snap = pressured(70, since=900.0)
    calm = snap.replace(cgroups=(*snap.cgroups, cgroup("/calm.slice", 5, pressure=pressure(1), owner_uid=0)))
    d = PRESSURE.run(calm, "/", {"monitored": "/calm.slice,/herp.slice"})
    assert d.triggered is True and d.victim_cgroup == "/herp.slice/a.service"
    d = PRESSURE.run(calm, "/", {"monitored": "/calm.slice"})
    assert d.triggered is False and [c.cgroup for c in d.ranking] == ["/calm.slice"]


def test_a_leaf_that_never_scanned_and_holds_no_memory_is_not_a_victim():
    cgroups = [cgroup("/", owner_uid=0), cgroup("/idle.slice", 0), cgroup("/fresh.slice", 0, stat={"pgscan": 3}),
               cgroup("/cold.slice", 5, stat={"pgscan": 0})]
    procs = [process(1, "idle", "/idle.slice"), process(2, "fresh", "/fresh.slice"), process(3, "cold", "/cold.slice")]
    d = PRESSURE.run(snapshot(cgroups, procs), "/", {})
    assert d.victim_cgroup == "/cold.slice"  # ranked by memory.current: 5 before 0 and 0
    only_idle = PRESSURE.run(snapshot(cgroups[:2], procs[:1]), "/", {})
    assert only_idle.kills_nothing
    assert only_idle.reason.startswith("systemd-oomd: no populated candidate below / with memory or reclaim (")
    fresh = PRESSURE.run(snapshot([cgroups[0], cgroups[2]], [procs[1]]), "/", {})
    assert fresh.victim_cgroup == "/fresh.slice"
    # a pgscan of 0 is no reclaim either
    zero = PRESSURE.run(snapshot([cgroups[0], cgroup("/zero.slice", 0, stat={"pgscan": 0})],
                                 [process(4, "zero", "/zero.slice")]), "/", {})
    assert zero.kills_nothing


def test_a_duration_with_an_unknown_unit_is_refused():
    with pytest.raises(OptionError):
        PRESSURE.run(pressured(70), "/", {"mem_pressure_duration": "30X"})


@pytest.mark.parametrize("root_owner", [0, None])
def test_swap_kills_take_the_root_as_owned_by_root_whatever_the_snapshot_says(root_owner):
    """The prefix of a swap kill is the root cgroup, uid 0 by definition: uid 1's avoid is ignored."""
    cgroups = [cgroup("/", owner_uid=root_owner),
               cgroup("/big.slice", 10, swap=900, xattrs={"user.oomd_avoid": "1"}, owner_uid=1),
               cgroup("/small.slice", 10, swap=100, owner_uid=0)]
    snap = snapshot(cgroups, [process(1, "big", "/big.slice"), process(2, "small", "/small.slice")],
                    host_=host(swap_total=1000, swap_free=0))
    d = SWAP.run(snap, "/", {})
    assert d.victim_cgroup == "/big.slice"
    assert d.uncertain == "/big.slice is owned by uid 1: its user.oomd_avoid is ignored"


def test_a_tie_note_names_three_of_the_equals():
    cgroups = [cgroup("/", owner_uid=0)] + [cgroup(f"/t{i}.slice", 10, swap=600, owner_uid=0) for i in range(5)]
    procs = [process(i + 1, f"p{i}", f"/t{i}.slice") for i in range(5)]
    d = SWAP.run(snapshot(cgroups, procs, host_=host(swap_total=1000, swap_free=0)), "/", {})
    assert d.victim_cgroup == "/t0.slice"
    assert d.uncertain == "qsort leaves ties unordered: /t1.slice, /t2.slice, /t3.slice ties with /t0.slice"
