"""The 2017 proposals on hand-built hosts whose answers can be worked out by hand.

The handmade host has a 1000 MiB budget, so a score of 1 weighs 1 MiB globally.
"""

from __future__ import annotations

import dataclasses

import pytest

from oomtui import whatif
from oomtui.evaluate import evaluate, parse_option_args
from oomtui.model import WhatIf
from oomtui.policies import registry
from oomtui.policies.base import Candidate, Decision, OptionError, PolicySpec
from tests.support.handmade import MiB, cgroup, proc, snapshot

PROPOSALS = ("hierarchical", "terminal", "cgroup-aware")


def decide(snap, policy, domain="/", w=None):
    if w is not None:
        snap = snap.replace(whatif=w)
    (d,) = evaluate(snap, domain, [policy])
    assert (d.policy, d.domain) == (policy, domain)  # what the decision's JSON and the TUI's column are labelled
    return d


@pytest.fixture
def host():
    """/a (300 MiB) holds the largest process (150); /b (250) holds one of 240; / has one of 100."""
    return snapshot(
        [cgroup("/a", 300), cgroup("/a/x", 200), cgroup("/a/y", 100), cgroup("/b", 250)],
        [
            proc(10, "/a/x", 150), proc(11, "/a/x", 50),
            proc(12, "/a/y", 60), proc(13, "/a/y", 40),
            proc(20, "/b", 240), proc(30, "/", 100),
        ],
    )


# -- hierarchical ------------------------------------------------------------------


def test_hierarchical_descends_independent_cgroups(host):
    d = decide(host, "hierarchical")
    assert (d.victim_pid, d.victim_pid_cgroup, d.victim_cgroup) == (10, "/a/x", None)
    assert d.killed_pids == (10,)
    assert d.freed_bytes == 150 * MiB
    assert "/ → /a → /a/x" in d.reason
    assert d.triggered is None
    assert d.uncertain is None


def test_hierarchical_kills_an_interdependent_cgroup_whole(host):
    w = whatif.set_interdependent(WhatIf(), "/a", True)
    d = decide(host, "hierarchical", w=w)
    assert d.victim_cgroup == "/a"
    assert d.victim_pid is None
    assert sorted(d.killed_pids) == [10, 11, 12, 13]
    assert d.freed_bytes == 300 * MiB


def test_interdependent_kill_spares_protected_processes():
    snap = snapshot(
        [cgroup("/g", 400, oom_group=True), cgroup("/g/sub", 100), cgroup("/o", 50)],
        [
            proc(1, "/", 1), proc(5, "/g", 200), proc(6, "/g/sub", 90, adj=-1000),
            proc(7, "/g/sub", 10), proc(8, "/o", 40),
        ],
    )
    for policy in PROPOSALS:
        d = decide(snap, policy)
        assert d.victim_cgroup == "/g", policy
        assert sorted(d.killed_pids) == [5, 7], policy
        assert d.freed_bytes == 210 * MiB, policy


def test_a_score_shifts_the_choice(host):
    # /b: 250 MiB + 100 × 1 MiB = 350 MiB beats /a's 300 MiB
    d = decide(host, "hierarchical", w=whatif.set_score(WhatIf(), "/b", 100))
    assert d.victim_pid == 20
    top = d.ranking[0]
    assert top.pid == 20
    # and a negative score on /a does the same
    d = decide(host, "hierarchical", w=whatif.set_score(WhatIf(), "/a", -60))
    assert d.victim_pid == 20


def test_reasons_quote_the_real_size_and_what_a_score_made_of_it(host):
    w = whatif.set_adj(WhatIf(), 11, 150)  # 50 MiB weighed as 200 MiB
    plain = decide(host, "terminal").reason
    assert plain == "kills process 20 (p20), the biggest terminal consumer in / (240.0 MiB)"
    assert "(50.0 MiB, 200.0 MiB with oom_score_adj +150)" in decide(host, "hierarchical", w=w).reason
    w = whatif.set_adj(WhatIf(), 30, 200)
    assert "(100.0 MiB, 300.0 MiB with oom_score_adj +200)" in decide(host, "terminal", w=w).reason
    w = whatif.set_score(WhatIf(), "/b", 100)
    assert "(250.0 MiB, 350.0 MiB with score +100)" in decide(host, "cgroup-aware", w=w).reason


def test_a_process_adj_shifts_the_choice_within_a_level(host):
    d = decide(host, "hierarchical", w=whatif.set_adj(WhatIf(), 11, 150))  # 50 + 150 > 150
    assert d.victim_pid == 11


def test_score_minus_1000_is_never_picked(host):
    w = whatif.set_score(WhatIf(), "/a", -1000)
    d = decide(host, "hierarchical", w=w)
    assert d.victim_pid == 20
    assert all(not c.cgroup.startswith("/a") for c in d.ranking)
    w = whatif.set_adj(whatif.set_adj(WhatIf(), 10, -1000), 11, -1000)
    d = decide(host, "hierarchical", w=w)
    assert d.victim_pid == 12  # /a still wins at the top; /a/x has nobody to kill, so /a/y is next
    assert all(c.pid not in (10, 11) for c in d.ranking)


def test_a_process_without_memory_never_competes_and_one_byte_is_memory():
    # A zombie shows no memory at all and an OOM kill cannot free it; the smallest footprint a snapshot can hold,
    # one byte, still counts (kernel_rules.eligible).
    snap = snapshot([], [proc(80, "/", 0), proc(81, "/", 1 / MiB)])
    for policy in PROPOSALS:
        d = decide(snap, policy)
        assert (d.victim_pid, d.freed_bytes, [c.pid for c in d.ranking]) == (81, 1, [81]), policy


def test_empty_cgroups_are_skipped():
    # /cache is large (page cache) but holds nothing that can die; /k holds only a kernel thread
    snap = snapshot(
        [cgroup("/cache", 900), cgroup("/k", 800), cgroup("/app", 100)],
        [proc(40, "/k", 50, kernel_thread=True), proc(41, "/app", 80)],
    )
    for policy in PROPOSALS:
        d = decide(snap, policy)
        assert d.victim_pid == 41, policy
        assert {c.cgroup for c in d.ranking} == {"/app"}, policy


def test_an_interdependent_group_with_nobody_to_kill_stays_skipped_when_all_three_run_together():
    # The TUI runs the three proposals on one snapshot, sharing what one found about a subtree with the next:
    # /g (900 MiB charged) holds only a kernel thread and an adj -1000 process, so none of them may pick it.
    snap = snapshot(
        [cgroup("/g", 900, oom_group=True), cgroup("/g/sub", 400), cgroup("/app", 100)],
        [proc(40, "/g", 50, kernel_thread=True), proc(42, "/g/sub", 300, adj=-1000), proc(41, "/app", 80)],
    )
    for d in evaluate(snap, "/", PROPOSALS):
        assert (d.victim_pid, d.killed_pids) == (41, (41,)), d.policy
        assert [c.cgroup for c in d.ranking] == ["/app"], d.policy


def test_an_independent_cgroup_with_only_protected_children_is_not_a_dead_end():
    # /big and /small are the same size, and /big comes first by path, but everything in /big sits below
    # /big/shield, scored -1000: /big is no choice at /, so it neither leads nor ties there with /small.
    snap = snapshot(
        [cgroup("/big", 100), cgroup("/big/shield", 100), cgroup("/small", 100)],
        [proc(50, "/big/shield", 90), proc(51, "/small", 90)],
        whatif=whatif.set_score(WhatIf(), "/big/shield", -1000),
    )
    d = decide(snap, "hierarchical")
    assert (d.victim_pid, d.uncertain) == (51, None)
    assert [c.cgroup for c in d.ranking] == ["/small"]


def test_ties_go_to_the_larger_raw_size_then_to_path_order():
    # /p: 200 MiB with score +50 = 250; /q: 250 MiB with score 0 = 250 → /q is larger raw
    snap = snapshot(
        [cgroup("/p", 200), cgroup("/q", 250)],
        [proc(60, "/p", 190), proc(61, "/q", 240)],
        whatif=whatif.set_score(WhatIf(), "/p", 50),
    )
    d = decide(snap, "hierarchical")
    assert d.victim_pid == 61
    assert d.uncertain is None
    # equal in everything: path order decides, and the decision says so naming both
    snap = snapshot([cgroup("/q", 250), cgroup("/p", 250)], [proc(61, "/q", 240), proc(60, "/p", 240)])
    d = decide(snap, "hierarchical")
    assert d.victim_pid == 60
    assert "/p" in d.uncertain and "/q" in d.uncertain
    # the same for two processes in one cgroup: the lower pid, and uncertain
    snap = snapshot([cgroup("/r", 100)], [proc(71, "/r", 40), proc(70, "/r", 40)])
    d = decide(snap, "hierarchical")
    assert d.victim_pid == 70
    assert "process 70" in d.uncertain and "process 71" in d.uncertain


def test_two_interdependent_groups_equal_in_everything_are_a_tie_each_proposal_names():
    anon = {"active_anon": 100 * MiB, "inactive_anon": 0}
    snap = snapshot([cgroup("/q", 100, stat=anon, oom_group=True), cgroup("/p", 100, stat=anon, oom_group=True)],
                    [proc(61, "/q", 90), proc(60, "/p", 90)])
    for policy, at in (("hierarchical", " at /"), ("terminal", ""), ("cgroup-aware", "")):
        d = decide(snap, policy)
        assert (d.victim_cgroup, d.killed_pids) == ("/p", (60,)), policy
        assert d.uncertain == (f"interdependent /p and interdependent /q tie{at} (100.0 MiB); "
                               "path/pid order chose interdependent /p"), policy


def test_cgroup_size_falls_back_to_its_processes():
    snap = snapshot(
        [cgroup("/u"), cgroup("/v", 150)],
        [proc(80, "/u", 100), proc(81, "/u", 100), proc(82, "/v", 140)],
    )
    d = decide(snap, "hierarchical")
    assert d.victim_pid in (80, 81)
    top_cgroup = next(c for c in d.ranking if c.pid == d.victim_pid)
    assert top_cgroup.parts["level"] == "/u"


def test_memcg_domain_scales_scores_by_its_own_limit():
    # domain /lim has a 400 MiB limit: a score of 100 weighs 40 MiB there, not 100
    snap = snapshot(
        [cgroup("/lim", 300, memory_max=400 * MiB), cgroup("/lim/a", 150), cgroup("/lim/b", 120), cgroup("/out", 900)],
        [proc(90, "/lim/a", 140), proc(91, "/lim/b", 110), proc(92, "/out", 880)],
        whatif=whatif.set_score(WhatIf(), "/lim/b", 100),
    )
    d = decide(snap, "hierarchical", domain="/lim")
    assert d.victim_pid == 91  # 120 + 40 = 160 > 150
    assert {c.cgroup for c in d.ranking} <= {"/lim/a", "/lim/b"}
    via = next(c for c in d.ranking if c.pid == 91).parts["via"]
    assert via == [{"cgroup": "/lim/b", "size": 120 * MiB, "score": 100, "adjusted": 160 * MiB}]
    snap = snap.replace(whatif=whatif.set_score(WhatIf(), "/lim/b", 20))  # 120 + 8 < 150
    assert decide(snap, "hierarchical", domain="/lim").victim_pid == 90


def test_one_snapshot_asked_about_one_domain_then_another_answers_each(host):
    # The TUI asks again about the same snapshot when the user moves to another domain.
    for domain, victim in (("/a", 10), ("/b", 20), ("/a/y", 12), ("/a", 10)):
        for policy in PROPOSALS:
            d = decide(host, policy, domain=domain)
            assert d.victim_pid == victim and {c.cgroup for c in d.ranking} <= {
                c.path for c in host.cgroups if c.path.startswith(domain)}, (domain, policy)


def test_an_interdependent_domain_dies_whole():
    snap = snapshot(
        [cgroup("/job", 300, memory_max=400 * MiB, oom_group=True), cgroup("/job/w", 200)],
        [proc(95, "/job", 50), proc(96, "/job/w", 190)],
    )
    for policy in PROPOSALS:
        d = decide(snap, policy, domain="/job")
        assert d.victim_cgroup == "/job", policy
        assert sorted(d.killed_pids) == [95, 96], policy


def test_nothing_to_kill_says_so():
    snap = snapshot([cgroup("/a", 10)], [proc(1, "/", 50), proc(2, "/a", 10, adj=-1000)])
    for policy in PROPOSALS:
        d = decide(snap, policy)
        assert d.kills_nothing, policy
        assert d.killed_pids == () and d.freed_bytes is None
        assert "nothing to kill" in d.reason


# -- terminal -------------------------------------------------------------------------


def test_terminal_and_hierarchical_disagree(host):
    # hierarchical enters /a (the bigger cgroup) and kills its 150 MiB process;
    # terminal compares every process at once and kills the 240 MiB one in /b
    h = decide(host, "hierarchical")
    t = decide(host, "terminal")
    assert (h.victim_pid, t.victim_pid) == (10, 20)
    assert [c.pid for c in t.ranking] == [20, 10, 30, 12, 11, 13]


def test_terminal_compares_groups_with_loose_processes(host):
    w = whatif.set_interdependent(WhatIf(), "/a/y", True)  # a 100 MiB group
    w = whatif.set_score(w, "/a/y", 200)  # weighs 300 MiB: beats the 240 MiB process
    d = decide(host, "terminal", w=w)
    assert d.victim_cgroup == "/a/y"
    assert sorted(d.killed_pids) == [12, 13]
    assert d.ranking[0].pid is None and d.ranking[0].cgroup == "/a/y"
    assert d.ranking[1].pid == 20


def test_terminal_takes_the_outermost_group_and_ignores_independent_scores(host):
    w = whatif.set_interdependent(whatif.set_interdependent(WhatIf(), "/a", True), "/a/x", True)
    w = whatif.set_score(w, "/b", 500)  # /b is independent: terminal cannot honour it
    d = decide(host, "terminal", w=w)
    assert d.victim_cgroup == "/a"
    assert sorted(d.killed_pids) == [10, 11, 12, 13]
    assert "do not apply" in d.reason
    assert [c.cgroup for c in d.ranking if c.pid is None] == ["/a"]


# -- cgroup-aware ------------------------------------------------------------------------


def test_cgroup_aware_compares_leaves_and_kills_the_largest_inside(host):
    d = decide(host, "cgroup-aware")
    # leaves /b 250, /a/x 200, /a/y 100 and the root's own process 100: /b wins
    assert d.victim_pid == 20
    # /a/y and the root's process tie at 100 MiB: cgroups come before processes
    assert [(c.cgroup, c.pid) for c in d.ranking] == [("/b", None), ("/a/x", None), ("/a/y", None), ("/", 30)]
    assert [c.parts.get("would_kill") for c in d.ranking] == [20, 10, 12, None]
    assert "leaf /b" in d.reason


def test_cgroup_aware_ignores_the_nesting_that_hierarchical_follows():
    # /team has two leaves of 150 and 155 MiB (305 in all); /solo is one 250 MiB leaf
    snap = snapshot(
        [cgroup("/team", 305), cgroup("/team/a", 150), cgroup("/team/b", 155), cgroup("/solo", 250)],
        [proc(1, "/", 1), proc(100, "/team/a", 140), proc(101, "/team/b", 145), proc(102, "/solo", 240)],
    )
    assert decide(snap, "hierarchical").victim_pid == 101
    assert decide(snap, "cgroup-aware").victim_pid == 102


def test_cgroup_aware_sizes_leaves_as_the_series_did():
    # /cachey has 600 MiB charged, mostly page cache; /anony has 300 MiB of anon memory
    stat_cache = {"active_anon": 50 * MiB, "inactive_anon": 0, "active_file": 550 * MiB, "unevictable": 0}
    stat_anon = {"active_anon": 200 * MiB, "inactive_anon": 90 * MiB, "kernel_stack": MiB, "sock": 0,
                 "unevictable": 0, "slab_unreclaimable": 9 * MiB}
    snap = snapshot(
        [cgroup("/cachey", 600, stat=stat_cache), cgroup("/anony", 300, stat=stat_anon, swap_current=0)],
        [proc(110, "/cachey", 590), proc(111, "/anony", 290)],
    )
    aware = decide(snap, "cgroup-aware")
    assert aware.victim_pid == 111
    assert aware.ranking[0].parts["size"] == 300 * MiB
    assert aware.ranking[1].parts["size"] == 50 * MiB
    assert decide(snap, "hierarchical").victim_pid == 110  # memory.current counts the cache


def test_cgroup_aware_sizes_by_the_series_among_more_leaves_than_it_shows():
    # 20 leaves of 100 MiB charged, 1 MiB of it anon, and one of 50 MiB charged, all anon: only by memory.current
    # would the anon leaf fall outside the twenty shown; by the series it leads them.
    cache = {"active_anon": MiB, "inactive_anon": 0, "active_file": 99 * MiB}
    cgroups = [cgroup(f"/c{i:02}", 100, stat=cache) for i in range(20)]
    cgroups.append(cgroup("/anon", 50, stat={"active_anon": 50 * MiB, "inactive_anon": 0}))
    procs = [proc(200 + i, f"/c{i:02}", 1) for i in range(20)] + [proc(300, "/anon", 48)]
    d = decide(snapshot(cgroups, procs), "cgroup-aware")
    assert d.victim_pid == 300
    assert d.reason == ("leaf /anon is the largest memory cgroup in / after scores (50.0 MiB); "
                        "kills its largest process 300 (p300)")
    assert [(c.cgroup, c.parts["size"]) for c in d.ranking[:3]] == [("/anon", 50 * MiB), ("/c00", MiB),
                                                                    ("/c01", MiB)]
    assert len(d.ranking) == 20


def test_the_twenty_shown_are_the_largest_after_adj_even_where_adj_decides_the_cut():
    # Twenty processes of 101 MiB, and one of 600.75 MiB whose adj -500 takes 500 MiB (the 1000 MiB budget / 1000
    # per point): 100.75 MiB after adj, 21st. It is left out of the rankings, which show twenty.
    procs = [proc(100 + i, "/", 101) for i in range(20)] + [proc(200, "/", 600.75, adj=-500)]
    snap = snapshot([], procs)
    for policy in PROPOSALS:
        assert [c.pid for c in decide(snap, policy).ranking] == list(range(100, 120)), policy


def test_at_the_twentieth_place_a_tie_after_adj_goes_to_the_larger_process_not_to_a_fraction():
    # One page over 1000 MiB: the budget is 1,048,580,096 bytes, and one adj point weighs a thousandth of it,
    # 1,048,580 bytes (the kernel's integer division drops the .096). p300 (101 MiB + 5 B) and p301 (100 MiB
    # + 1 B, adj 1) both weigh 101 MiB + 5 B: the larger raw size takes the last of the twenty places.
    procs = [proc(100 + i, "/", 200) for i in range(19)]
    procs += [proc(300, "/", 101 + 5 / MiB), proc(301, "/", 100 + 1 / MiB, adj=1)]
    snap = snapshot([], procs, mem_total=1000 * MiB + 4096)
    for policy in ("terminal", "cgroup-aware"):
        ranking = decide(snap, policy).ranking
        assert [c.pid for c in ranking] == [*range(100, 119), 300], policy
        assert ranking[-1].score == 101 * MiB + 5, policy


def test_terminal_ranks_more_groups_than_it_shows_by_memory_current_and_score():
    # 23 interdependent groups, twenty shown: /scored (10 MiB, score +95: 105), then twenty of 100 MiB (page
    # cache mostly) of which nineteen fit; /p ties them at 100 MiB only with its score +10, so the larger raw
    # size goes first; /anon (50 MiB, all anon) would lead only by the series' size.
    cache = {"active_anon": MiB, "inactive_anon": 0, "active_file": 99 * MiB}
    cgroups = [cgroup(f"/c{i:02}", 100, stat=cache, oom_group=True) for i in range(20)]
    cgroups += [cgroup("/anon", 50, stat={"active_anon": 50 * MiB, "inactive_anon": 0}, oom_group=True),
                cgroup("/scored", 10, stat=cache, oom_group=True), cgroup("/p", 90, stat=cache, oom_group=True)]
    procs = [proc(200 + i, c.path, 1) for i, c in enumerate(cgroups)]
    w = whatif.set_score(whatif.set_score(WhatIf(), "/scored", 95), "/p", 10)
    d = decide(snapshot(cgroups, procs), "terminal", w=w)
    assert [c.cgroup for c in d.ranking] == ["/scored", *(f"/c{i:02}" for i in range(19))]
    assert d.reason == "kills interdependent /scored whole, the biggest terminal consumer in / (1 process)"


def test_cgroup_aware_kills_the_largest_after_adj_in_the_leaf(host):
    d = decide(host, "cgroup-aware", w=whatif.set_score(whatif.set_adj(WhatIf(), 11, 150), "/a/x", 100))
    assert d.ranking[0].cgroup == "/a/x"
    assert d.victim_pid == 11


# -- rankings and evaluate ----------------------------------------------------------------


def test_rankings_hold_at_least_ten_entries_with_their_parts():
    cgroups = [cgroup(f"/s{i}", 10 + i) for i in range(12)]
    procs = [proc(200 + i, f"/s{i % 12}", 1 + i) for i in range(24)]
    snap = snapshot(cgroups, procs)
    for policy in PROPOSALS:
        d = decide(snap, policy)
        assert len(d.ranking) >= 10, policy
        for c in d.ranking:
            assert isinstance(c, Candidate)
            assert {"size", "score", "adjusted"} <= set(c.parts)
            assert c.score == c.parts["adjusted"]
        first = d.ranking[0]
        assert (first.pid == d.victim_pid) if first.pid is not None else (first.cgroup in (d.victim_cgroup,
                                                                                               d.victim_pid_cgroup))


def test_decisions_are_deterministic(host):
    assert evaluate(host, names=PROPOSALS) == evaluate(host, names=PROPOSALS)


def test_a_failing_policy_does_not_break_the_others(host, monkeypatch):
    def broken(snapshot, domain, options):
        raise RuntimeError("boom\nsecond line")

    spec = PolicySpec(name="broken", title="Broken", summary="raises", decide=broken)
    table = {**registry.policies(), "broken": spec}
    monkeypatch.setattr(registry, "policies", lambda: table)
    monkeypatch.setattr(registry, "get", table.__getitem__)
    decisions = evaluate(host, names=["hierarchical", "broken", "terminal"])
    assert [d.policy for d in decisions] == ["hierarchical", "broken", "terminal"]
    assert isinstance(decisions[1], Decision)
    assert decisions[1].reason == "policy failed: RuntimeError: boom"
    assert decisions[1].kills_nothing
    assert decisions[0].victim_pid == 10 and decisions[2].victim_pid == 20


def test_parse_option_args():
    assert parse_option_args([]) == {}
    with pytest.raises(OptionError, match=r"POLICY\.KEY=VALUE"):
        parse_option_args(["novalue"])
    with pytest.raises(OptionError, match="no option"):
        parse_option_args(["hierarchical.size=1"])
    with pytest.raises(Exception, match="unknown policy"):
        parse_option_args(["nosuch.key=1"])


def test_cgroups_nested_deeper_than_the_recursion_limit():
    depth = 3000
    paths = ["/c" * (i + 1) for i in range(depth)]
    snap = snapshot(
        [cgroup(path, 100) for path in paths] + [cgroup("/side", 50)],
        [proc(300, paths[-1], 90), proc(301, "/side", 40)],
    )
    for policy in PROPOSALS:
        d = decide(snap, policy)
        assert d.victim_pid == 300, (policy, d.reason)
    assert "2996 more" in decide(snap, "hierarchical").reason
    w = whatif.set_interdependent(WhatIf(), paths[1], True)
    assert decide(snap, "hierarchical", w=w).victim_cgroup == paths[1]


# -- the words a user reads ----------------------------------------------------------------


def whys(d: Decision) -> list[tuple[int | None, str, str]]:
    return [(c.pid, c.cgroup, c.why) for c in d.ranking]


def test_each_pick_says_where_it_was_found_and_through_which_cgroups(host):
    d = decide(host, "hierarchical")
    assert d.reason == "descends / → /a → /a/x and kills process 10 (p10), the largest in /a/x after scores (150.0 MiB)"
    assert whys(d) == [
        (10, "/a/x", "footprint 150.0 MiB at /a/x; via /a 300.0 MiB, /a/x 200.0 MiB"),
        (11, "/a/x", "footprint 50.0 MiB at /a/x; via /a 300.0 MiB, /a/x 200.0 MiB"),
        (12, "/a/y", "footprint 60.0 MiB at /a/y; via /a 300.0 MiB, /a/y 100.0 MiB"),
        (13, "/a/y", "footprint 40.0 MiB at /a/y; via /a 300.0 MiB, /a/y 100.0 MiB"),
        (20, "/b", "footprint 240.0 MiB at /b; via /b 250.0 MiB"),
        (30, "/", "footprint 100.0 MiB at /"),
    ]
    assert dict(d.ranking[0].parts) == {
        "size": 150 * MiB, "rss_anon": 150 * MiB, "rss_file": 0, "rss_shmem": 0, "rss_total": None, "swap": 0,
        "pgtables": 0, "score": 0, "score_bytes": 0, "adjusted": 150 * MiB, "level": "/a/x",
        "via": [{"cgroup": "/a", "size": 300 * MiB, "score": 0, "adjusted": 300 * MiB},
                {"cgroup": "/a/x", "size": 200 * MiB, "score": 0, "adjusted": 200 * MiB}],
    }


@pytest.fixture
def edited():
    """/a/y interdependent with score +200 (100 MiB weighs 300), /a score +30 (330), /b score -10 (240)."""
    w = whatif.set_score(whatif.set_interdependent(WhatIf(), "/a/y", True), "/a/y", 200)
    return whatif.set_score(whatif.set_score(w, "/a", 30), "/b", -10)


def test_scores_show_in_every_reason_and_ranking_line(host, edited):
    d = decide(host, "hierarchical", w=edited)
    assert d.reason == ("descends / → /a and kills interdependent /a/y whole, the largest in /a after scores "
                        "(2 processes)")
    assert (d.victim_cgroup, d.killed_pids, d.freed_bytes) == ("/a/y", (12, 13), 100 * MiB)
    assert whys(d)[0] == (None, "/a/y", "whole group 100.0 MiB, score +200 → 200.0 MiB at /a; "
                                        "via /a 330.0 MiB (score +30)")
    assert whys(d)[3] == (20, "/b", "footprint 240.0 MiB at /b; via /b 240.0 MiB (score -10)")
    parts = d.ranking[0].parts
    assert (parts["score"], parts["score_bytes"], parts["adjusted"]) == (200, 200 * MiB, 300 * MiB)
    assert parts["via"] == [{"cgroup": "/a", "size": 300 * MiB, "score": 30, "adjusted": 330 * MiB}]

    d = decide(host, "terminal", w=edited)
    assert d.reason == ("kills interdependent /a/y whole, the biggest terminal consumer in /; scores on 2 "
                        "independent cgroups do not apply here (2 processes)")
    assert [c.pid for c in d.ranking] == [None, 20, 10, 30, 11]
    assert d.ranking[0].why == "whole group 100.0 MiB, score +200 → 200.0 MiB"

    d = decide(host, "cgroup-aware", w=edited)
    assert d.reason == "kills interdependent /a/y whole, the largest memory cgroup in / after scores (2 processes)"
    assert whys(d) == [
        (None, "/a/y", "whole group 100.0 MiB, score +200 → 200.0 MiB"),
        (None, "/b", "leaf 250.0 MiB, score -10 → -10.0 MiB; its largest: process 20 (p20)"),
        (None, "/a/x", "leaf 200.0 MiB; its largest: process 10 (p10)"),
        (30, "/", "footprint 100.0 MiB"),
    ]
    assert d.ranking[1].parts["score_bytes"] == -10 * MiB and d.ranking[1].parts["adjusted"] == 240 * MiB


def test_a_score_weighs_whole_bytes():
    # One page over 1000 MiB: a point of adj weighs 1,048,580,096 / 1000 bytes, of which the whole 1,048,580.
    snap = snapshot([], [proc(300, "/", 100, adj=1)], mem_total=1000 * MiB + 4096)
    for policy in PROPOSALS:
        [c] = decide(snap, policy).ranking
        assert (c.score, c.parts["score_bytes"], c.parts["adjusted"]) == (
            100 * MiB + 1_048_580, 1_048_580, 100 * MiB + 1_048_580), policy
        assert all(type(v) is int for v in (c.score, c.parts["score_bytes"], c.parts["adjusted"])), policy


def test_a_reason_quotes_the_whole_bytes_a_score_weighs_in_a_small_domain():
    # /m may use 100 pages (409,600 bytes): a score of -1 weighs -409.6 bytes, and the whole -410 is what the
    # leaf's adjusted size, its parts and its reason all take (250,000 - 410 = 249,590).
    snap = snapshot([cgroup("/m", memory_max=100 * 4096), cgroup("/m/c"), cgroup("/m/d")],
                    [proc(70, "/m/c", 250_000 / MiB), proc(71, "/m/d", 100_000 / MiB)],
                    whatif=whatif.set_score(WhatIf(), "/m/c", -1))
    d = decide(snap, "cgroup-aware", domain="/m")
    assert whys(d) == [(None, "/m/c", "leaf 244.1 KiB, score -1 → -410 B; its largest: process 70 (p70)"),
                       (None, "/m/d", "leaf 97.7 KiB; its largest: process 71 (p71)")]
    assert (d.ranking[0].parts["score_bytes"], d.ranking[0].score) == (-410, 249_590)


@pytest.mark.parametrize(("scored", "noted"), [(201, True), (202, False)])
def test_an_unsure_budget_is_noted_only_where_a_score_weighs_on_the_first_two(scored, noted):
    # Without SwapTotal the budget may be short; a score of 1 (1 MiB here) cannot lift the third (100 MiB)
    # past the first two (300 and 200 MiB), so only a score on one of those is worth the note.
    procs = [proc(pid, "/", mib, adj=int(pid == scored)) for pid, mib in ((200, 300), (201, 200), (202, 100))]
    snap = snapshot([], procs, swap_total=None)
    for policy in PROPOSALS:
        d = decide(snap, policy)
        assert [c.pid for c in d.ranking] == [200, 201, 202], policy
        assert d.uncertain == ("scores scale by a budget that may be off: host swap total unknown; counted as none"
                               if noted else None), policy
    tied = snapshot([], [proc(200, "/", 300, adj=1), proc(201, "/", 300, adj=1)], swap_total=None)
    assert decide(tied, "terminal").uncertain == (
        "process 200 (p200) and process 201 (p201) tie (301.0 MiB); path/pid order chose process 200 (p200); "
        "scores scale by a budget that may be off: host swap total unknown; counted as none")


@pytest.mark.parametrize(("edit", "noted"), [
    ("adj 41", {"hierarchical", "cgroup-aware"}), ("adj 42", set()), ("score /c", set()), ("/a whole", set())])
def test_an_unsure_budget_is_noted_where_a_score_weighs_on_a_choice_below_the_first(edit, noted):
    # Levels (hierarchical) or leaves (cgroup-aware) /a 300, /b 200, /c 100 MiB; inside /a processes 40, 41, 42
    # of 150, 100, 50 MiB. 40 (or /a, made interdependent) dies either way, but a score on 41 weighs on the choice
    # inside /a: the second there. One on 42 or /c, each third in its ranking, cannot lift it past the first two.
    procs = [proc(40, "/a", 150), proc(41, "/a", 100, adj=int(edit == "adj 41")),
             proc(42, "/a", 50, adj=int(edit == "adj 42")), proc(50, "/b", 190), proc(60, "/c", 90)]
    w = whatif.set_score(WhatIf(), "/c", 1) if edit in ("score /c", "/a whole") else None
    if edit == "/a whole":
        w = whatif.set_interdependent(w, "/a", True)
    snap = snapshot([cgroup("/a", 300), cgroup("/b", 200), cgroup("/c", 100)], procs, swap_total=None)
    for policy in PROPOSALS:
        d = decide(snap, policy, w=w)
        victim = d.victim_cgroup if edit == "/a whole" else d.victim_pid
        assert victim == ("/a" if edit == "/a whole" else 50 if policy == "terminal" else 40), policy
        assert d.uncertain == ("scores scale by a budget that may be off: host swap total unknown; counted as none"
                               if policy in noted else None), policy


def test_one_ignored_score_and_one_process_are_singular(host):
    w = whatif.set_interdependent(whatif.set_score(WhatIf(), "/a", 5), "/b", True)
    d = decide(host.replace(processes=tuple(p for p in host.processes if p.pid != 30)), "terminal", w=w)
    assert d.reason == ("kills interdependent /b whole, the biggest terminal consumer in /; scores on 1 "
                        "independent cgroup do not apply here (1 process)")


def test_ties_name_both_and_say_that_order_chose():
    snap = snapshot([cgroup("/r", 100)], [proc(71, "/r", 40), proc(70, "/r", 40)])
    chose = "(40.0 MiB); path/pid order chose process 70 (p70)"
    assert decide(snap, "hierarchical").uncertain == f"process 70 (p70) and process 71 (p71) tie at /r {chose}"
    assert decide(snap, "terminal").uncertain == f"process 70 (p70) and process 71 (p71) tie {chose}"
    d = decide(snap, "cgroup-aware")
    assert d.reason == ("leaf /r is the largest memory cgroup in / after scores (100.0 MiB); "
                        "kills its largest process 70 (p70)")
    assert d.uncertain == f"process 70 (p70) and process 71 (p71) tie inside /r {chose}"


def test_a_process_outside_the_leaves_competes_as_a_process():
    snap = snapshot([cgroup("/s", 100), cgroup("/s/leaf", 20)],
                    [proc(40, "/s", 80), proc(41, "/s/leaf", 20), proc(42, "/", 30)])
    d = decide(snap, "cgroup-aware")
    assert d.reason == ("kills process 40 (p40): a process outside any leaf cgroup, larger than every cgroup in / "
                        "after scores (80.0 MiB)")
    assert whys(d) == [
        (40, "/s", "footprint 80.0 MiB (in an inner cgroup: competes as a process)"),
        (42, "/", "footprint 30.0 MiB"),
        (None, "/s/leaf", "leaf 20.0 MiB; its largest: process 41 (p41)"),
    ]
    assert d.ranking[2].parts["would_kill"] == 41 and (d.victim_pid, d.freed_bytes) == (40, 80 * MiB)


def test_the_domain_dying_whole_and_nothing_to_kill_in_words():
    snap = snapshot([cgroup("/job", 300, memory_max=400 * MiB, oom_group=True), cgroup("/job/w", 200)],
                    [proc(95, "/job", 50), proc(96, "/job/w", 190)])
    for policy in PROPOSALS:
        d = decide(snap, policy, domain="/job")
        assert d.reason == "the domain /job is interdependent: it dies whole (2 processes)", policy
        assert whys(d) == [(None, "/job", "whole group 300.0 MiB")] and d.freed_bytes == 240 * MiB
        assert d.uncertain is None and d.triggered is None
    snap = snapshot([cgroup("/a", 10)], [proc(1, "/", 50), proc(2, "/a", 10, adj=-1000)])
    for policy in PROPOSALS:
        d = decide(snap, policy)
        assert d.reason == ("nothing to kill in /: no process with memory outside score -1000, kernel threads "
                            "and init"), policy
        assert d.ranking == () and d.uncertain is None


def test_a_score_on_an_unknown_budget_makes_the_pick_uncertain(host, edited):
    no_swap_figure = host.replace(host=dataclasses.replace(host.host, swap_total=None))
    note = "scores scale by a budget that may be off: host swap total unknown; counted as none"
    for policy in PROPOSALS:
        assert decide(no_swap_figure, policy, w=edited).uncertain == note, policy
        assert decide(no_swap_figure, policy).uncertain is None, policy  # no score weighs on the pick


def test_cgroup_aware_shows_where_each_leafs_size_came_from():
    # v2: anon 290 + unevictable 3 + slab 9 + stack 1 + sock 2, and 4 MiB swapped: 309 MiB (page cache left out).
    # v1: total_ anon 120 + unevictable 5 + swap 7: 132 MiB. No memory.stat nor memory.current: its processes, 110.
    v2 = {"active_anon": 200 * MiB, "inactive_anon": 90 * MiB, "kernel_stack": MiB, "sock": 2 * MiB,
          "unevictable": 3 * MiB, "slab_unreclaimable": 9 * MiB, "active_file": 500 * MiB}
    v1 = {"total_active_anon": 100 * MiB, "total_inactive_anon": 20 * MiB, "total_unevictable": 5 * MiB,
          "total_swap": 7 * MiB, "total_active_file": 900 * MiB}
    snap = snapshot([cgroup("/v2", 900, stat=v2, swap_current=4 * MiB), cgroup("/v1", 1000, stat=v1), cgroup("/bare")],
                    [proc(110, "/v2", 200), proc(111, "/v1", 100), proc(112, "/bare", 60), proc(113, "/bare", 50)])
    d = decide(snap, "cgroup-aware")
    assert d.reason == ("leaf /v2 is the largest memory cgroup in / after scores (309.0 MiB); "
                        "kills its largest process 110 (p110)")
    assert [dict(c.parts) for c in d.ranking] == [
        {"size": 309 * MiB, "active_anon": 200 * MiB, "inactive_anon": 90 * MiB, "unevictable": 3 * MiB,
         "slab_unreclaimable": 9 * MiB, "kernel_stack": MiB, "sock": 2 * MiB, "swap_current": 4 * MiB,
         "score": 0, "score_bytes": 0, "adjusted": 309 * MiB, "would_kill": 110},
        {"size": 132 * MiB, "total_active_anon": 100 * MiB, "total_inactive_anon": 20 * MiB,
         "total_unevictable": 5 * MiB, "total_swap": 7 * MiB, "score": 0, "score_bytes": 0, "adjusted": 132 * MiB,
         "would_kill": 111},
        {"size": 110 * MiB, "processes_footprint": 110 * MiB, "score": 0, "score_bytes": 0, "adjusted": 110 * MiB,
         "would_kill": 112},
    ]
    d = decide(snap, "hierarchical")  # memory.current and swap.current: /v1 (1000 MiB) before /v2 (904 MiB)
    assert [(c.pid, c.parts["via"][0]["size"]) for c in d.ranking] == [
        (111, 1000 * MiB), (110, 904 * MiB), (112, 110 * MiB), (113, 110 * MiB)]
    w = whatif.set_interdependent(WhatIf(), "/v2", True)
    assert dict(decide(snap, "terminal", w=w).ranking[0].parts) == {
        "size": 904 * MiB, "memory_current": 900 * MiB, "swap_current": 4 * MiB, "score": 0, "score_bytes": 0,
        "adjusted": 904 * MiB}


def test_a_counter_the_kernel_does_not_print_counts_0_in_the_leafs_size_and_parts():
    # memory.stat of kernels before 4.18 has no sock line: the series' size is anon 90 + unevictable 2 + slab 3
    # + stack 1 MiB, and the parts say 0 for the missing counter.
    stat = {"active_anon": 60 * MiB, "inactive_anon": 30 * MiB, "unevictable": 2 * MiB, "slab_unreclaimable": 3 * MiB,
            "kernel_stack": MiB}
    d = decide(snapshot([cgroup("/old", 200, stat=stat)], [proc(120, "/old", 90)]), "cgroup-aware")
    assert dict(d.ranking[0].parts) == {
        "size": 96 * MiB, "active_anon": 60 * MiB, "inactive_anon": 30 * MiB, "unevictable": 2 * MiB,
        "slab_unreclaimable": 3 * MiB, "kernel_stack": MiB, "sock": 0, "swap_current": None, "score": 0,
        "score_bytes": 0, "adjusted": 96 * MiB, "would_kill": 120}


def test_a_v1_leaf_without_swap_accounting_and_a_pick_at_the_domain_level():
    # v1 without swap accounting prints no total_swap: the series' size is anon 100 + unevictable 5 MiB, and
    # the parts say 0 swapped.
    stat = {"total_active_anon": 80 * MiB, "total_inactive_anon": 20 * MiB, "total_unevictable": 5 * MiB}
    snap = snapshot([cgroup("/v1", 150, stat=stat)], [proc(130, "/v1", 100), proc(131, "/", 200)])
    assert dict(decide(snap, "cgroup-aware").ranking[1].parts) == {
        "size": 105 * MiB, **stat, "total_swap": 0, "score": 0, "score_bytes": 0, "adjusted": 105 * MiB,
        "would_kill": 130}
    assert decide(snap, "hierarchical").reason == ("kills process 131 (p131), the largest in / after scores "
                                                   "(200.0 MiB)")


@pytest.mark.parametrize("depth", [5, 8])
def test_a_long_descent_is_abridged_in_the_middle(depth):
    paths = ["/c" * (i + 1) for i in range(depth)]
    snap = snapshot([cgroup(p, 100 - i) for i, p in enumerate(paths)] + [cgroup("/side", 50)],
                    [proc(300, paths[-1], 90), proc(301, "/side", 40)])
    d = decide(snap, "hierarchical", w=whatif.set_score(WhatIf(), paths[-1], 7))
    sizes = [f"{p} {100 - i}.0 MiB" for i, p in enumerate(paths[:-1])] + [f"{paths[-1]} {108 - depth}.0 MiB (score +7)"]
    if depth == 5:  # six levels and five cgroups: short enough to show whole
        levels, via = ["/", *paths], sizes
    else:  # nine levels: the first two, how many left out, the last three
        levels, via = ["/", "/c", "… 4 more …", *paths[-3:]], [*sizes[:2], "… 3 more …", *sizes[-3:]]
    assert d.reason == (f"descends {' → '.join(levels)} and kills process 300 (p300), the largest in {paths[-1]} "
                        "after scores (90.0 MiB)")
    assert d.ranking[0].why == f"footprint 90.0 MiB at {paths[-1]}; via {', '.join(via)}"
    assert len(d.ranking[0].parts["via"]) == depth


def test_a_group_kill_spares_init_kernel_threads_and_minus_1000():
    snap = snapshot([cgroup("/g", 400, oom_group=True), cgroup("/o", 50)],
                    [proc(1, "/g", 5), proc(5, "/g", 200), proc(6, "/g", 50, kernel_thread=True),
                     proc(7, "/g", 10, adj=-1000), proc(9, "/o", 40)])
    for policy in PROPOSALS:
        d = decide(snap, policy)
        assert (d.victim_cgroup, d.killed_pids, d.freed_bytes) == ("/g", (5,), 200 * MiB), policy
        assert d.reason.endswith(" (1 process)"), policy


def test_terminal_counts_only_the_independent_scores_it_cannot_honour(host):
    # the domain's own score and scores inside an interdependent group are not independent cgroups' scores
    w = whatif.set_score(whatif.set_score(whatif.set_score(WhatIf(), "/", 50), "/a/x", 5), "/a", 10)
    d = decide(host, "terminal", w=whatif.set_interdependent(w, "/a", True))
    assert d.reason == "kills interdependent /a whole, the biggest terminal consumer in / (4 processes)"
    assert [(c.pid, c.cgroup) for c in d.ranking] == [(None, "/a"), (20, "/b"), (30, "/")]


def test_an_interdependent_group_scored_minus_1000_and_all_inside_it_are_spared(host):
    w = whatif.set_score(whatif.set_interdependent(WhatIf(), "/a", True), "/a", -1000)
    for policy in PROPOSALS:
        d = decide(host, policy, w=w)
        assert d.victim_pid == 20, policy
        assert [c.cgroup for c in d.ranking] == ["/b", "/"], policy


def test_the_best_processes_of_some_cgroups_are_those_weighing_each_one_finds():
    """terminal and cgroup-aware weigh the processes of chosen cgroups out of the whole domain's columns."""
    import random

    from oomtui.model import ROOT
    from oomtui.policies.proposals import RANKING_LEN, Tree
    from oomtui.synthetic import large_host

    sample = large_host(processes=3000, cgroups=300, seed=10)
    rng = random.Random(3)
    for domain in (ROOT, *sample.limited_cgroups()[:3]):
        tree = Tree.build(sample, domain)
        for share in (1.0, 0.5, 0.1):
            chosen = set(rng.sample(tree.order, max(1, int(len(tree.order) * share))))
            paths = [path for path in tree.order if path in chosen]
            weighed = sorted((e for path in paths for e in tree.processes(path)), key=lambda e: e.key)
            assert tree.top_processes(paths, RANKING_LEN) == weighed[:RANKING_LEN], (domain, share)
