"""earlyoom's choice, rebuilt from its own unit tests (Test_is_larger*) and the recorded live runs."""

from __future__ import annotations

import itertools
import random

import pytest

from oomtui import whatif
from oomtui.model import Process
from oomtui.policies.base import OptionError
from oomtui.policies.daemon_common import Score
from oomtui.policies.earlyoom import (
    BEST,
    NEAR,
    POLICIES,
    Entry,
    Kept,
    _best,
    _start,
    _within_a_point,
    fold,
    larger_current,
)
from tests.support.daemon_snapshots import GiB, KiB, MiB, host, process, snapshot

EARLYOOM = POLICIES[0]


def entry(pid: int, oom_score: int, rss_kib: int) -> Entry:
    p = Process(pid=pid, comm=f"p{pid}", cgroup="/")
    return Entry(p, oom_score, rss_kib, Score(oom_score, "read"), False, False)


def assert_ordered(larger, procs: list[Entry]) -> None:
    """earlyoom's permute_is_larger: a later entry is larger than every earlier one, and only those."""
    for i, victim in enumerate(procs):
        for j, cur in enumerate(procs):
            assert larger(victim, cur) == (j > i), f"is pid {cur.process.pid} larger than pid {victim.process.pid}?"


# Test_is_larger: oom_score first, then RSS; a zombie main thread (RSS 0) still ranks by score.
BY_SCORE = [(100, 100, 1234), (101, 100, 1238), (102, 101, 4), (103, 102, 4), (104, 103, 0)]
# Test_is_larger_by_rss: RSS first, then score; an RSS of 0 falls back to the score.
BY_RSS = [(100, 100, 4), (101, 100, 8), (102, 101, 8), (103, 99, 12), (104, 102, 0), (105, 102, 12)]


def test_is_larger_by_score_matches_earlyoom_unit_test():
    assert_ordered(larger_current(sort_by_rss=False), [entry(*p) for p in BY_SCORE])


def test_is_larger_by_rss_matches_earlyoom_unit_test():
    assert_ordered(larger_current(sort_by_rss=True), [entry(*p) for p in BY_RSS])


@pytest.mark.parametrize(("table", "sort_by_rss"), [(BY_SCORE, False), (BY_RSS, True)])
def test_fold_finds_the_largest_whatever_the_pid_order(table, sort_by_rss):
    largest_comm = f"p{table[-1][0]}"
    for order in itertools.permutations(range(len(table))):
        procs = [
            process(1000 + slot, f"p{pid}", rss=rss * KiB, oom_score=score)
            for slot, (pid, score, rss) in zip(order, table, strict=True)
        ]
        d = EARLYOOM.run(snapshot([], procs), "/", {"sort_by_rss": str(sort_by_rss)})
        winner = next(p for p in procs if p.pid == d.victim_pid)
        assert winner.comm == largest_comm


# The live experiment of research/earlyoom-dryrun.md, as a snapshot (pids in start order).
HOGS = [
    process(12836, "hog_small", rss=213 * MiB, oom_score=672, uid=0),
    process(12837, "hog_mid", rss=613 * MiB, oom_score=683, uid=0),
    process(12838, "hog_big", rss=1213 * MiB, oom_score=700, uid=0),
    process(12839, "hog_adj", rss=113 * MiB, oom_score=1202, oom_score_adj=800, uid=0),
    process(15738, "hog_user", rss=308 * MiB, oom_score=674, uid=65534),
]
OTHERS = [process(400 + i, f"daemon{i}", rss=(5 + i) * MiB, oom_score=666, uid=0) for i in range(8)]
LIVE = snapshot([], [*OTHERS, *HOGS], host_=host(mem_total=24 * GiB, mem_available=23 * GiB))


@pytest.mark.parametrize(
    ("options", "victim"),
    [
        ({"version": "1.7"}, 12839),
        ({"version": "1.7", "avoid": "^hog_adj$"}, 12839),
        ({"version": "1.7", "avoid": "^hog_adj$", "prefer": "^hog_small$"}, 12836),
        ({}, 12839),
        ({"sort_by_rss": "true"}, 12838),
        ({"ignore": "^hog_adj$"}, 12838),
        ({"ignore_root_user": "true"}, 15738),
        ({"sort_by_rss": "true", "prefer": "^hog_small$"}, 12836),
        ({"sort_by_rss": "true", "avoid": "^hog_big$"}, 15738),
    ],
)
def test_recorded_live_runs(options, victim):
    d = EARLYOOM.run(LIVE, "/", options)
    assert d.victim_pid == victim
    assert d.killed_pids == (victim,)
    assert d.ranking[0].pid == victim


def test_avoid_with_sort_by_rss_is_a_fold_not_a_maximum():
    """The documented quirk: the largest RSS among the non-avoided is hog_mid, but earlyoom kills hog_user."""
    d = EARLYOOM.run(LIVE, "/", {"sort_by_rss": "true", "avoid": "^hog_big$"})
    assert d.victim_pid == 15738
    # hog_big (RSS below 0) beats hog_mid by score, hog_mid beats hog_adj by RSS, hog_adj beats hog_big by
    # score: no order agrees with every pair, so the fold alone decides
    assert d.ranking[0].pid == 15738
    # Reversing the pid order of the same processes changes earlyoom's answer.
    mirrored = [process(20000 - p.pid, p.comm, rss=p.rss_anon or 0, oom_score=p.oom_score) for p in HOGS]
    d2 = EARLYOOM.run(snapshot([], mirrored), "/", {"sort_by_rss": "true", "avoid": "^hog_big$"})
    assert next(p.comm for p in mirrored if p.pid == d2.victim_pid) != "hog_user"


def test_ranking_has_ten_entries_with_their_parts():
    d = EARLYOOM.run(LIVE, "/", {"prefer": "^hog_small$"})
    assert len(d.ranking) >= 10
    small = next(c for c in d.ranking if c.pid == 12836)
    assert small.parts["oom_score"] == 672 and small.parts["score"] == 972 and small.parts["prefer"] is True


def test_1_7_refuses_options_it_does_not_have():
    d = EARLYOOM.run(LIVE, "/", {"version": "1.7", "sort_by_rss": "true"})
    assert d.kills_nothing
    assert "unrecognized option" in d.reason


def test_1_7_skips_processes_without_rss_and_pid_1():
    procs = [process(1, "init", rss=50 * MiB, oom_score=900), process(50, "zombie", rss=0, oom_score=800),
             process(60, "small", rss=MiB, oom_score=10)]
    assert EARLYOOM.run(snapshot([], procs), "/", {"version": "1.7"}).victim_pid == 60
    # The current rules keep a zombie main thread (RSS 0) and rank it by score.
    assert EARLYOOM.run(snapshot([], procs), "/", {}).victim_pid == 50


def test_oom_score_adj_minus_1000_and_kernel_threads_are_never_victims():
    procs = [process(10, "kworker", rss=0, oom_score=0, kernel_thread=True),
             process(11, "sshd", rss=900 * MiB, oom_score=1500, oom_score_adj=-1000),
             process(12, "app", rss=MiB, oom_score=667)]
    assert EARLYOOM.run(snapshot([], procs), "/", {}).victim_pid == 12


def test_whatif_adj_recomputes_oom_score_with_the_kernel_formula():
    # 16 GiB, no swap: totalpages 4194304; 100 MiB = 25600 pages; adj 800 adds 800 * 4194 pages.
    procs = [process(10, "big", rss=2 * GiB, oom_score=800), process(11, "edited", rss=100 * MiB, oom_score=672)]
    d = EARLYOOM.run(whatif.apply(snapshot([], procs, adj_edits={11: 800})), "/", {})
    assert d.victim_pid == 11
    edited = d.ranking[0]
    expected = (1000 + (25600 + 800 * 4194) * 1000 // 4194304) * 2 // 3
    assert edited.parts["oom_score"] == expected and edited.parts["oom_score_source"] == "computed"
    assert "computed from the kernel formula" in d.uncertain


def test_trigger_differs_between_1_7_and_current():
    # 1 GiB available of 16 GiB (6 %) is low for 1.7; against available + 4 GiB anon (20 %) it is not.
    procs = [process(10, "app", rss=4 * GiB, oom_score=900)]
    snap = snapshot([], procs, host_=host(mem_total=16 * GiB, mem_available=GiB))
    old = EARLYOOM.run(snap, "/", {"version": "1.7"})
    assert old.triggered is True and "(mem avail 6.25% (min 10%), swap free 0.00% (min 10%): SIGTERM)" in old.reason
    assert old.uncertain is None  # 1.7 reads MemTotal: nothing estimated
    assert EARLYOOM.run(snap, "/", {}).triggered is False
    calm = snapshot([], procs, host_=host(mem_total=16 * GiB, mem_available=12 * GiB))
    assert EARLYOOM.run(calm, "/", {"version": "1.7"}).triggered is False
    swap_full = host(mem_total=16 * GiB, mem_available=GiB // 2, swap_total=8 * GiB, swap_free=4 * GiB)
    assert EARLYOOM.run(snapshot([], procs, host_=swap_full), "/", {"version": "1.7"}).triggered is False


def test_bad_options_are_one_line_errors():
    with pytest.raises(OptionError, match="bad regular expression"):
        EARLYOOM.run(LIVE, "/", {"prefer": "("})
    with pytest.raises(OptionError, match=r"1\.7 and later"):
        EARLYOOM.run(LIVE, "/", {"version": "1.5"})


def test_1_7_never_picks_a_negative_badness():
    """1.7 starts from a zeroed victim, so --avoid can push everyone out; the current rules start at -9999."""
    procs = [process(10, "a", rss=MiB, oom_score=100), process(11, "b", rss=2 * MiB, oom_score=150)]
    snap = snapshot([], procs)
    assert EARLYOOM.run(snap, "/", {"version": "1.7", "avoid": "."}).kills_nothing
    assert EARLYOOM.run(snap, "/", {"avoid": "."}).victim_pid == 11
    # a badness of 0 equals the zeroed victim's, and a larger RSS then takes the place
    zero = snapshot([], [process(10, "a", rss=MiB, oom_score=0), process(11, "b", rss=2 * MiB, oom_score=0)])
    assert EARLYOOM.run(zero, "/", {"version": "1.7"}).victim_pid == 11


# Worked by hand with --sort-by-rss: RSS decides only between two positive RSS; a zombie main thread
# (RSS 0) or an --avoid-ed process (RSS pushed below 0) is compared by oom_score first. Pairwise:
#   zombie_hi (score 1000, RSS 0) beats all; zombie_mid (950, 0) beats big (900) and small (800) by score;
#   big (900, 100 MiB) beats small (800, 50 MiB) by RSS; avoided (score 990, RSS 200 MiB - 3 GiB) beats
#   zombie_mid, big and small by score and loses to zombie_hi. One order agrees with every pair:
CONSISTENT = [("zombie_hi", 1000, 0), ("avoided", 990, 200 * MiB), ("zombie_mid", 950, 0),
              ("big", 900, 100 * MiB), ("small", 800, 50 * MiB)]


def test_sort_by_rss_ranking_agrees_with_every_pairwise_comparison_whatever_the_pid_order():
    for order in itertools.permutations(range(len(CONSISTENT))):
        procs = [process(3000 + slot, comm, rss=rss, oom_score=score)
                 for slot, (comm, score, rss) in zip(order, CONSISTENT, strict=True)]
        d = EARLYOOM.run(snapshot([], procs), "/", {"sort_by_rss": "true", "avoid": "^avoided$"})
        comms = {p.pid: p.comm for p in procs}
        assert [comms[c.pid] for c in d.ranking] == [comm for comm, _, _ in CONSISTENT], order
        assert comms[d.victim_pid] == "zombie_hi"
        assert "pid-order fold" not in d.reason  # with a consistent order, the fold ends at its first



# -- what a decision says: the victim in earlyoom's words, each entry's part in the fold, the trigger ----------

NOT_ACTING = "mem avail 90.31% (min 10%), swap free 0.00% (min 10%): not acting"  # 23 GiB of 23 GiB + 2528 MiB anon


def test_the_reason_names_the_victim_as_earlyoom_logs_it_and_the_trigger_state():
    d = EARLYOOM.run(LIVE, "/", {})
    assert (d.policy, d.domain, d.triggered) == ("earlyoom", "/", False)
    assert d.reason == (f"earlyoom picks pid 12839 'hog_adj': oom_score 1202, VmRSS 113 MiB ({NOT_ACTING}); "
                        "113.0 MiB freed")
    assert d.uncertain is None
    assert [(c.pid, c.score, c.why) for c in d.ranking[:6]] == [
        (12839, 1202, "victim: 'hog_adj': oom_score 1202, VmRSS 113 MiB"),
        (12838, 700, "held the place (step 11 of the fold): 'hog_big': oom_score 700, VmRSS 1213 MiB"),
        (12837, 683, "held the place (step 10 of the fold): 'hog_mid': oom_score 683, VmRSS 613 MiB"),
        (15738, 674, "'hog_user': oom_score 674, VmRSS 308 MiB"),
        (12836, 672, "held the place (step 9 of the fold): 'hog_small': oom_score 672, VmRSS 213 MiB"),
        (407, 666, "held the place (step 8 of the fold): 'daemon7': oom_score 666, VmRSS 12 MiB"),
    ]
    assert {c.cgroup for c in d.ranking} == {"/"}
    assert d.ranking[0].parts == {"oom_score": 1202, "oom_score_source": "read", "score": 1202, "rss_kib": 113 * 1024,
                                  "prefer": False, "avoid": False, "oom_score_adj": 800}
    assert (d.victim_pid, d.victim_pid_cgroup, d.freed_bytes) == (12839, "/", 113 * MiB)


def test_1_7_measures_available_memory_against_memtotal():
    d = EARLYOOM.run(LIVE, "/", {"version": "1.7"})
    assert d.reason == ("earlyoom 1.7 picks pid 12839 'hog_adj': oom_score 1202, VmRSS 113 MiB "
                        "(mem avail 95.83% (min 10%), swap free 0.00% (min 10%): not acting); 113.0 MiB freed")


def test_prefer_and_avoid_show_in_the_key_they_change():
    d = EARLYOOM.run(LIVE, "/", {"prefer": "^hog_small$", "avoid": "^hog_adj$"})
    assert d.victim_pid == 12836
    assert d.ranking[0].why == "victim: 'hog_small': oom_score 972 (--prefer), VmRSS 213 MiB"
    adj = next(c for c in d.ranking if c.pid == 12839)
    assert adj.score == 902 and adj.why.endswith("'hog_adj': oom_score 902 (--avoid), VmRSS 113 MiB")
    assert adj.parts["avoid"] is True and adj.parts["prefer"] is False
    by_rss = EARLYOOM.run(LIVE, "/", {"sort_by_rss": "true", "prefer": "^hog_small$"})
    assert by_rss.ranking[0].why == "victim: 'hog_small': oom_score 672, VmRSS 3285 MiB (--prefer)"
    assert by_rss.reason.startswith("earlyoom picks pid 12836 'hog_small': oom_score 672, VmRSS 3285 MiB (--prefer) (")
    assert by_rss.ranking[0].score == 213 * 1024 + 3 * 1024 * 1024


def test_a_fold_that_ends_away_from_the_pairwise_first_says_so():
    d = EARLYOOM.run(LIVE, "/", {"sort_by_rss": "true", "avoid": "^hog_big$"})
    assert d.reason == (
        "earlyoom picks pid 15738 'hog_user': oom_score 674, VmRSS 308 MiB "
        f"({NOT_ACTING}); the pairwise ranking puts pid 12838 first, but the pid-order fold "
        "(12837 → 12838 → 12839 → 15738) ends here; 308.0 MiB freed"
    )
    assert [c.pid for c in d.ranking[:3]] == [15738, 12838, 12837]
    assert d.ranking[1].why == ("held the place (step 11 of the fold): "
                                "'hog_big': oom_score 700, VmRSS -1859 MiB (--avoid)")


def test_a_domain_other_than_the_root_is_not_what_earlyoom_watches():
    d = EARLYOOM.run(LIVE, "/user.slice", {})
    assert d.victim_pid == 12839 and d.domain == "/user.slice"
    assert d.reason.endswith(f"({NOT_ACTING}); it watches the whole host, not /user.slice; 113.0 MiB freed")
    nothing = EARLYOOM.run(snapshot([], []), "/user.slice", {})
    assert nothing.kills_nothing and nothing.ranking == ()
    assert (nothing.policy, nothing.domain, nothing.triggered) == ("earlyoom", "/user.slice", False)
    assert nothing.reason == ("earlyoom finds no process to kill (mem avail 100.00% (min 10%), swap free 0.00% "
                              "(min 10%): not acting); it watches the whole host, not /user.slice")


def test_1_7_names_every_option_it_lacks():
    d = EARLYOOM.run(LIVE, "/", {"version": "1.7", "sort_by_rss": "1", "ignore": "x", "ignore_root_user": "yes"})
    assert (d.policy, d.domain, d.triggered, d.ranking) == ("earlyoom", "/", None, ())
    assert d.reason == ("earlyoom 1.7 has no --ignore, --ignore-root-user, --sort-by-rss: "
                        "it would exit with 'unrecognized option'")
    assert EARLYOOM.run(LIVE, "/", {"version": "1.8", "ignore_root_user": "yes"}).victim_pid == 15738


def test_scores_within_a_point_of_the_victims_are_named():
    procs = [process(10, "a", rss=MiB, oom_score=700), process(11, "b", rss=2 * MiB, oom_score=701),
             process(12, "c", rss=3 * MiB, oom_score=702), process(13, "d", rss=MiB, oom_score=699),
             process(14, "e", rss=MiB, oom_score=701)]
    d = EARLYOOM.run(snapshot([], procs), "/", {})
    assert d.victim_pid == 12
    assert d.uncertain == ("oom_score is rounded and moves with memory use; pid 11 (oom_score 701), "
                           "pid 14 (oom_score 701) within a point")
    assert EARLYOOM.run(snapshot([], procs), "/", {"sort_by_rss": "true"}).uncertain is None
    # four within a point before the victim in pid order: still three named
    procs = [*(process(10 + i, f"n{i}", rss=MiB, oom_score=700) for i in range(4)),
             process(14, "v", rss=MiB, oom_score=701)]
    d = EARLYOOM.run(snapshot([], procs), "/", {})
    assert d.victim_pid == 14 and d.uncertain.count("(oom_score 700)") == 3


def test_processes_without_a_score_or_rss_are_left_out_and_counted():
    procs = [process(10, "a", rss=MiB, oom_score=700), process(11, "norss", rss=None, oom_score=900),
             process(12, "noscore", rss=GiB, oom_score=None)]
    no_total = host(mem_total=None, mem_available=None)
    d = EARLYOOM.run(snapshot([], procs, host_=no_total), "/", {})
    assert d.victim_pid == 10 and d.triggered is None
    assert "(memory or swap figures unknown, so whether it acts now is unknown)" in d.reason
    assert d.uncertain == ("oom_score of pid 12 unknown (no MemTotal to compute it from); they were left out; "
                           "2 processes without oom_score or RSS left out")


# Trigger: since 1.8 "mem avail" is MemAvailable / (MemAvailable + AnonPages), AnonPages here the RssAnon sum.
ESTIMATED = "AnonPages estimated as the sum of the processes' RssAnon"


HALF = GiB // 2


@pytest.mark.parametrize(("available", "anon", "swap", "options", "triggered", "state", "note"), [
    (GiB, 9 * GiB, None, {}, True, "mem avail 10.00% (min 10%), swap free 0.00% (min 10%): SIGTERM", ESTIMATED),
    (HALF, 9 * GiB + HALF, None, {}, True, "mem avail 5.00% (min 10%), swap free 0.00% (min 10%): SIGKILL", ESTIMATED),
    (HALF, 9 * GiB + HALF, 4 * GiB, {}, False,
     "mem avail 5.00% (min 10%), swap free 50.00% (min 10%): not acting", None),
    (HALF, 9 * GiB + HALF, GiB, {"swap_min_percent": "25"}, True,
     "mem avail 5.00% (min 10%), swap free 12.50% (min 25%): SIGKILL", ESTIMATED),
    (HALF, 9 * GiB + HALF, GiB, {"swap_min_percent": "20"}, True,
     "mem avail 5.00% (min 10%), swap free 12.50% (min 20%): SIGTERM", ESTIMATED),
    (GiB + 2 * MiB, 9 * GiB, None, {}, False,
     "mem avail 10.02% (min 10%), swap free 0.00% (min 10%): not acting", ESTIMATED),
    (704 * MiB, 5696 * MiB, None, {}, False,
     "mem avail 11.00% (min 10%), swap free 0.00% (min 10%): not acting", None),  # a point away is not near
    (1472 * MiB, 11328 * MiB, None, {}, False,
     "mem avail 11.50% (min 10%), swap free 0.00% (min 10%): not acting", None),  # more than a point from -m
    (2 * GiB, 9 * GiB, None, {}, False, "mem avail 18.18% (min 10%), swap free 0.00% (min 10%): not acting", None),
    (2 * GiB, 9 * GiB, None, {"mem_min_percent": "20"}, True,
     "mem avail 18.18% (min 20%), swap free 0.00% (min 10%): SIGTERM", ESTIMATED),
    (768 * MiB, 9472 * MiB, 2 * GiB, {"swap_min_percent": "25"}, True,  # free swap exactly at -s counts, as in -m
     "mem avail 7.50% (min 10%), swap free 25.00% (min 25%): SIGTERM", ESTIMATED),
])
def test_the_trigger_terms_and_kills_at_half_the_minimum(available, anon, swap, options, triggered, state, note):
    """swap is free swap of 8 GiB (None: no swap, which counts as 0 % free); near -m the AnonPages estimate
    could tip the balance, so it is noted."""
    swap_total, swap_free = (0, 0) if swap is None else (8 * GiB, swap)
    snap = snapshot([], [process(10, "hog", rss=anon, oom_score=900)],
                    host_=host(mem_total=16 * GiB, mem_available=available, swap_total=swap_total, swap_free=swap_free))
    d = EARLYOOM.run(snap, "/", options)
    assert d.triggered is triggered
    assert f"({state})" in d.reason
    assert d.uncertain == note


@pytest.mark.parametrize(("raw", "rules"), [("1.7", "earlyoom 1.7"), (" V1.7.0 ", "earlyoom 1.7"), ("1.8", "earlyoom"),
                                            ("current", "earlyoom"), ("Latest", "earlyoom"), ("master", "earlyoom"),
                                            ("", "earlyoom")])
def test_versions_as_written_select_the_rules(raw, rules):
    assert EARLYOOM.run(LIVE, "/", {"version": raw}).reason.startswith(f"{rules} picks pid 12839 ")


@pytest.mark.parametrize(("raw", "message"), [
    ("1", 'expected a version such as "1.7", "1.8" or "current"'),
    ("one.seven", 'expected a version such as "1.7", "1.8" or "current"'),
    ("1.6", "only earlyoom 1.7 and later are emulated"),
    ("0.12", "only earlyoom 1.7 and later are emulated"),
])
def test_versions_before_1_7_or_unreadable_are_refused(raw, message):
    with pytest.raises(OptionError) as refused:
        EARLYOOM.run(LIVE, "/", {"version": raw})
    assert str(refused.value) == f"earlyoom.version={raw!r}: {message}"


def test_a_comm_matching_both_prefer_and_avoid_nets_zero_and_shows_both():
    d = EARLYOOM.run(LIVE, "/", {"prefer": "^hog_", "avoid": "_adj$"})
    adj = next(c for c in d.ranking if c.pid == 12839)
    assert adj.score == 1202 and adj.why.endswith("'hog_adj': oom_score 1202 (--prefer) (--avoid), VmRSS 113 MiB")
    assert d.victim_pid == 12839


def test_a_total_rss_stands_in_where_its_parts_were_not_read():
    procs = [process(10, "parts", rss=200 * MiB, oom_score=700),
             process(11, "total", rss=None, rss_file=None, rss_shmem=None, rss_total=300 * MiB, oom_score=700)]
    d = EARLYOOM.run(snapshot([], procs), "/", {})
    assert d.victim_pid == 11 and d.ranking[0].parts["rss_kib"] == 300 * 1024
    # the parts, shared memory included, make the RSS when all three were read; the total only stands in for them
    procs = [process(10, "parts", rss=200 * MiB, rss_file=50 * MiB, rss_shmem=100 * MiB, oom_score=700),
             process(11, "total", rss=100 * MiB, rss_file=None, rss_total=300 * MiB, oom_score=700)]
    d = EARLYOOM.run(snapshot([], procs), "/", {})
    assert [(c.pid, c.parts["rss_kib"]) for c in d.ranking] == [(10, 350 * 1024), (11, 300 * 1024)]


def test_at_most_three_scores_within_a_point_are_named():
    procs = [process(10, "v", rss=5 * MiB, oom_score=701), *(process(11 + i, f"n{i}", rss=MiB, oom_score=700 + (i == 2))
                                                              for i in range(4))]
    d = EARLYOOM.run(snapshot([], procs), "/", {})
    assert d.victim_pid == 10
    assert d.uncertain == ("oom_score is rounded and moves with memory use; pid 11 (oom_score 700), "
                           "pid 12 (oom_score 700), pid 13 (oom_score 701) within a point")


def test_pid_2_and_pid_1_are_skipped_by_the_current_rules_only_pid_1_by_1_7():
    procs = [process(1, "init", rss=MiB, oom_score=900), process(2, "app", rss=MiB, oom_score=800),
             process(3, "other", rss=MiB, oom_score=700)]
    assert EARLYOOM.run(snapshot([], procs), "/", {}).victim_pid == 3
    assert EARLYOOM.run(snapshot([], procs), "/", {"version": "1.7"}).victim_pid == 2


def test_a_bad_regex_names_the_option():
    with pytest.raises(OptionError) as refused:
        EARLYOOM.run(LIVE, "/", {"avoid": "["})
    assert str(refused.value).startswith("earlyoom.avoid='[': bad regular expression: ")


def test_with_sort_by_rss_any_positive_rss_compares_by_rss():
    """1 KiB is a positive RSS: the 100 MiB process keeps the place against it despite the lower oom_score."""
    procs = [process(10, "big", rss=100 * MiB, oom_score=500), process(11, "tiny", rss=KiB, oom_score=900)]
    assert EARLYOOM.run(snapshot([], procs), "/", {"sort_by_rss": "true"}).victim_pid == 10
    # and the other way round: the 100 MiB process takes the place from the 1 KiB one
    procs = [process(10, "tiny", rss=KiB, oom_score=900), process(11, "big", rss=100 * MiB, oom_score=500)]
    d = EARLYOOM.run(snapshot([], procs), "/", {"sort_by_rss": "true"})
    assert d.victim_pid == 11 and [c.pid for c in d.ranking] == [11, 10]


def test_with_sort_by_rss_equal_rss_ranks_by_oom_score():
    procs = [process(10, "a", rss=100 * MiB, oom_score=500), process(11, "b", rss=100 * MiB, oom_score=600),
             process(12, "c", rss=100 * MiB, oom_score=550)]
    d = EARLYOOM.run(snapshot([], procs), "/", {"sort_by_rss": "true"})
    assert [c.pid for c in d.ranking] == [11, 12, 10]


@pytest.mark.parametrize("seed", range(6))
def test_the_keys_kept_by_score_give_the_fold_the_ranking_and_the_near_ones_of_all(seed):
    """Walked as the policy walks (a key below the floor is never offered), the kept keys decide as all of them do."""
    rng = random.Random(seed)
    keys = [(rng.choice((5, 40, 41, 42, 43, 900)) + rng.randrange(3) * (seed % 2), rng.randrange(4), -i)
            for i in range(600)]  # few scores and RSS: ties everywhere, many within a point of the best
    kept_by = Kept()
    kept = [k for k in keys if k[0] >= kept_by.floor and kept_by.wanted(k)]
    for old in (False, True):
        assert fold(kept, False, _start(old)) == fold(keys, False, _start(old))
    assert _best(kept, False, BEST) == _best(keys, False, BEST)
    near = [itertools.islice(_within_a_point(walked, max(keys)[0]), NEAR) for walked in (kept, keys)]
    assert [*near[0]] == [*near[1]]
    assert len(kept) < len(keys) / 4
    assert kept_by.floor == sorted(keys, reverse=True)[BEST - 1][0]  # later keys below the BEST-th score are skipped


def test_with_sort_by_rss_a_zombie_of_equal_score_ranks_below_any_positive_rss():
    """RSS 0 against 100 MiB compares by score, then RSS: at equal oom_score the 100 MiB process is larger,
    whichever of the two earlyoom reaches first, so it keeps the place and heads the ranking."""
    procs = [process(10, "tiny", rss=KiB, oom_score=100), process(11, "worker", rss=100 * MiB, oom_score=500),
             process(12, "zombie", rss=0, oom_score=500)]
    d = EARLYOOM.run(snapshot([], procs), "/", {"sort_by_rss": "true"})
    assert (d.victim_pid, [c.pid for c in d.ranking]) == (11, [11, 12, 10])
    assert "pid-order fold" not in d.reason  # the ranking's first is the fold's victim


UNKNOWN = "(memory or swap figures unknown, so whether it acts now is unknown)"


@pytest.mark.parametrize(("figures", "anon", "state"), [
    ({"mem_total": None, "mem_available": GiB}, 4 * GiB, UNKNOWN),  # MemTotal unread: not trusted for either rule
    ({"mem_available": 0}, None, UNKNOWN),  # 0 available of 0 + no RssAnon read: no percentage, not 0 / 0
    ({"swap_total": 8 * GiB, "swap_free": None}, 4 * GiB, UNKNOWN),
    ({"mem_available": GiB // 2, "swap_total": 1, "swap_free": 1}, 9 * GiB + GiB // 2,  # all of a 1-byte swap free
     "(mem avail 5.00% (min 10%), swap free 100.00% (min 10%): not acting)"),
])
def test_memory_and_swap_figures_that_give_no_percentage_leave_the_trigger_unknown(figures, anon, state):
    snap = snapshot([], [process(10, "hog", rss=anon, rss_total=GiB, oom_score=900)], host_=host(**figures))
    d = EARLYOOM.run(snap, "/", {})
    assert d.triggered is (False if "not acting" in state else None) and d.victim_pid == 10
    assert state in d.reason


def test_computed_scores_are_noted_only_for_processes_earlyoom_compares():
    """A what-if on a process a rule skips (a zero RSS in 1.7, root under --ignore-root-user) changes no score
    earlyoom reads, so nothing is said about it."""
    procs = [process(10, "app", rss=100 * MiB, oom_score=900), process(11, "zombie", rss=0, oom_score=600),
             process(12, "rootd", rss=MiB, oom_score=500, uid=0)]
    snap = whatif.apply(snapshot([], procs, adj_edits={11: 500, 12: 400}))
    both = ("oom_score of pid 11, 12 computed from the kernel formula (what-if oom_score_adj); "
            "the real value may differ by a point")
    assert EARLYOOM.run(snap, "/", {}).uncertain == both
    assert EARLYOOM.run(snap, "/", {"version": "1.7"}).uncertain == both.replace("pid 11, 12", "pid 12")
    assert EARLYOOM.run(snap, "/", {"ignore_root_user": "true"}).uncertain == both.replace("pid 11, 12", "pid 11")


def test_a_process_walked_after_the_best_are_kept_is_still_counted_if_its_rss_is_unknown():
    """21 processes fill what the decision keeps; of the later, lower ones, those missing one RSS part (and
    no total to stand in) are unreadable, and said so, as earlier ones would be."""
    procs = [process(10 + i, f"p{i}", rss=MiB, oom_score=800 + 2 * i) for i in range(BEST)]
    procs += [process(100, "noanon", rss=None, oom_score=10),
              process(101, "nofile", rss=MiB, rss_file=None, oom_score=10),
              process(102, "noshmem", rss=MiB, rss_shmem=None, oom_score=10),
              process(103, "low", rss=MiB, oom_score=10)]
    d = EARLYOOM.run(snapshot([], procs), "/", {})
    assert d.victim_pid == 10 + BEST - 1
    assert d.uncertain == "3 processes without oom_score or RSS left out"


def test_a_score_walked_late_enters_the_ranking_when_it_beats_the_least_kept():
    """21 processes (scores 700..800, then 600..690) fill what the decision keeps; pid 31's 625 is above the
    least of them (600) though below most, so it ranks 19th, before 620."""
    scores = [*range(700, 801, 10), *range(600, 691, 10), 625]
    d = EARLYOOM.run(snapshot([], [process(10 + i, f"p{i}", rss=MiB, oom_score=s) for i, s in enumerate(scores)]),
                     "/", {})
    assert [c.score for c in d.ranking] == [*range(800, 629, -10), 625, 620]
