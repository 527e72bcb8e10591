"""earlyoom's choice, rebuilt from its own unit tests (Test_is_larger*) and the recorded live runs."""

from __future__ import annotations

import itertools

import pytest

from oomtui import whatif
from oomtui.model import Process
from oomtui.policies.base import OptionError
from oomtui.policies.daemon_common import Score
from oomtui.policies.earlyoom import POLICIES, Entry, larger_current
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
    assert EARLYOOM.run(snap, "/", {"version": "1.7"}).triggered is True
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

