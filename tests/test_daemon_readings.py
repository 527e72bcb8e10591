"""What earlyoom and nohang read from /proc, as a snapshot gives it them, and what a cgroup kill frees.

A what-if oom_score_adj makes the recorded oom_score stale, so it is
recomputed as proc_oom_score() prints it; these numbers are worked by hand
for a 16 GiB host without swap (4194304 pages; one point of adj is 4194 pages).
"""

from __future__ import annotations

import pytest

from oomtui import whatif
from oomtui.policies.daemon_common import kernel_oom_score, readings
from oomtui.policies.earlyoom import POLICIES as EARLYOOM_POLICIES
from oomtui.policies.nohang import POLICIES as NOHANG_POLICIES
from oomtui.policies.systemd_oomd import POLICIES as SYSTEMD_OOMD_POLICIES
from tests.support.daemon_snapshots import GiB, MiB, cgroup, host, process, snapshot

EARLYOOM, NOHANG = EARLYOOM_POLICIES[0], NOHANG_POLICIES[0]
SWAP = SYSTEMD_OOMD_POLICIES[0]
PAGE = 4096


@pytest.mark.parametrize(("kernel", "rss", "adj", "score"), [
    ("6.8.0", GiB, 0, 708),  # (1000 + 262144 * 1000 / 4194304) * 2 / 3 = (1000 + 62) * 2 / 3
    ("6.8.0", GiB, 500, 1041),  # 262144 + 500 * 4194 pages: 562 per mille
    ("5.9.0", 100 * PAGE, -500, 334),  # 100 - 2097000 pages: -499.93 truncates towards 0 in C, to -499
    ("6.8.0", 100 * PAGE, -999, 1),  # -998.9 truncates to -998: (1000 - 998) * 2 / 3
    ("5.8.18", GiB, 500, 562),  # until 5.8: points * 1000 / totalpages, no offset
    ("5.8.18", GiB, 0, 62),
    ("5.8.18", 100 * PAGE, -500, 0),  # the badness clamps at 1 page: 1000 / 4194304 is 0
])
def test_oom_score_as_proc_oom_score_prints_it(kernel, rss, adj, score):
    snap = snapshot([], [], host_=host(kernel=kernel))
    assert kernel_oom_score(snap, process(10, "x", rss=rss, oom_score_adj=adj)) == score


def test_an_unkillable_process_reads_zero():
    snap = snapshot([], [], host_=host())
    assert kernel_oom_score(snap, process(10, "x", rss=GiB, oom_score_adj=-1000)) == 0


def test_a_whatif_adj_changes_the_score_both_killers_read():
    procs = [process(10, "big", rss=2 * GiB, oom_score=800), process(11, "edited", rss=GiB, oom_score=708)]
    snap = whatif.apply(snapshot([], procs, adj_edits={11: 500}))
    for policy in (EARLYOOM, NOHANG):
        d = policy.run(snap, "/", {})
        assert d.victim_pid == 11 and d.ranking[0].parts["oom_score"] == 1041, policy.name
        assert d.ranking[0].parts["oom_score_source"] == "computed"
        assert d.uncertain == ("oom_score of pid 11 computed from the kernel formula (what-if oom_score_adj); "
                               "the real value may differ by a point")
        assert d.ranking[1].parts["oom_score_source"] == "read"


def test_both_killers_share_one_walk_of_a_snapshot_and_a_new_snapshot_is_walked_anew():
    """Each keypress asks earlyoom and nohang about the same snapshot: the second reuses the first's walk,
    while a what-if (a new snapshot) is read again, with its recomputed score."""
    procs = [process(10, "big", rss=2 * GiB, oom_score=800), process(11, "edited", rss=GiB, oom_score=708)]
    plain = snapshot([], procs)
    first = readings(plain)
    assert readings(plain) is first and list(first.codes) == [800, 708]
    assert list(readings(whatif.apply(snapshot([], procs, adj_edits={11: 500}))).codes) == [800, 1041]
    assert readings(plain) is not first and list(readings(plain).codes) == [800, 708]  # one remembered at a time


def test_an_unread_score_is_computed_and_said_so_and_many_pids_are_cut_short():
    procs = [process(10 + i, f"p{i}", rss=(i + 1) * MiB, oom_score=None) for i in range(6)]
    procs.append(process(30, "edited", rss=GiB, oom_score=1))
    snap = whatif.apply(snapshot([], procs, adj_edits={30: 0}))
    d = NOHANG.run(snap, "/", {})
    assert d.victim_pid == 30 and d.ranking[0].score == 708
    assert d.uncertain == ("oom_score of pid 10, 11, 12, 13, 14 and 2 more computed from the kernel formula "
                           "(what-if edits or unread oom_score); the real value may differ by a point")


def test_only_the_edited_process_is_recomputed():
    """The others keep the score as read, even where the formula would say otherwise."""
    procs = [process(10, "a", rss=MiB, oom_score=900), process(11, "b", rss=MiB, oom_score=5),
             process(12, "c", rss=MiB, oom_score=3)]
    d = NOHANG.run(whatif.apply(snapshot([], procs, adj_edits={11: 0})), "/", {})
    assert [(c.pid, c.score) for c in d.ranking] == [(10, 900), (11, 666), (12, 3)]
    assert "oom_score of pid 11 computed" in d.uncertain


def test_without_memtotal_an_edited_score_is_unknown_not_the_stale_one_read():
    """pid 11's adj was raised to 1000: its oom_score as read (600) no longer holds, and nothing can recompute it."""
    procs = [process(10, "a", rss=MiB, oom_score=700), process(11, "b", rss=MiB, oom_score=600)]
    no_total = host(mem_total=None, mem_available=None)
    snap = whatif.apply(snapshot([], procs, host_=no_total, adj_edits={11: 1000}))
    for policy in (EARLYOOM, NOHANG):
        d = policy.run(snap, "/", {})
        assert d.victim_pid == 10 and [c.pid for c in d.ranking] == [10], policy.name
        assert d.uncertain.startswith("oom_score of pid 11 unknown (no MemTotal to compute it from); "
                                      "they were left out")


def test_the_walk_is_in_pid_order_whatever_order_the_snapshot_lists():
    """Equal scores: earlyoom keeps the first it saw, nohang's stable sort the first listed; /proc lists by pid."""
    procs = [process(30, "late", rss=MiB, oom_score=700), process(20, "early", rss=MiB, oom_score=700),
             process(25, "mid", rss=MiB, oom_score=650)]
    snap = snapshot([], procs)
    assert EARLYOOM.run(snap, "/", {}).victim_pid == 20
    assert NOHANG.run(snap, "/", {}).victim_pid == 20
    assert [c.pid for c in NOHANG.run(snap, "/", {}).ranking] == [20, 30, 25]
    edited = whatif.apply(snapshot([], procs, adj_edits={25: 100}))
    assert NOHANG.run(edited, "/", {}).victim_pid == 25
    # out of order in one place only: 25 comes before 30 in /proc
    procs = [process(20, "first", rss=MiB, oom_score=600), process(30, "late", rss=MiB, oom_score=700),
             process(25, "mid", rss=MiB, oom_score=700)]
    assert EARLYOOM.run(snapshot([], procs), "/", {}).victim_pid == 25
    assert NOHANG.run(snapshot([], procs), "/", {}).victim_pid == 25


def test_a_cgroup_killers_ranking_shows_twenty_entries_at_most():
    cgroups = [cgroup("/", owner_uid=0)] + [cgroup(f"/s{i:02}.slice", MiB, swap=(i + 1) * MiB, owner_uid=0)
                                            for i in range(25)]
    d = SWAP.run(snapshot(cgroups, [process(1, "a", "/s24.slice")], host_=host(swap_total=GiB, swap_free=0)), "/", {})
    assert len(d.ranking) == 20 and d.ranking[0].cgroup == "/s24.slice" and d.ranking[-1].cgroup == "/s05.slice"


def test_a_cgroup_kill_frees_memory_current_and_swap_or_else_the_processes_footprint():
    cgroups = [cgroup("/", owner_uid=0), cgroup("/a.slice", 300 * MiB, swap=200 * MiB, owner_uid=0),
               cgroup("/b.slice", None, swap=100 * MiB, owner_uid=0)]
    procs = [process(1, "a", "/a.slice", rss=50 * MiB), process(2, "kworker", "/a.slice", kernel_thread=True),
             process(3, "b1", "/b.slice", rss=40 * MiB, rss_file=2 * MiB), process(4, "b2", "/b.slice", rss=MiB)]
    snap = snapshot(cgroups, procs, host_=host(swap_total=GiB, swap_free=0))
    a = SWAP.run(snap, "/", {"monitored": "/a.slice"})
    assert (a.killed_pids, a.freed_bytes) == ((1,), 500 * MiB)
    assert a.reason.endswith("; 1 process, 500.0 MiB freed")
    b = SWAP.run(snap, "/", {"monitored": "/b.slice"})
    assert (b.killed_pids, b.freed_bytes) == ((3, 4), 43 * MiB)
    assert b.reason.endswith("; 2 processes, 43.0 MiB freed")


def test_sizes_read_in_the_largest_whole_unit():
    procs = [process(10, "kib", rss=1536, oom_score=900), process(11, "b", rss=1023, oom_score=800),
             process(12, "gib", rss=3 * GiB // 2, oom_score=700)]
    d = EARLYOOM.run(snapshot([], procs), "/", {})
    assert d.reason.endswith("; 1.5 KiB freed")
    assert EARLYOOM.run(snapshot([], procs[1:2]), "/", {}).reason.endswith("; 1023 B freed")
    assert EARLYOOM.run(snapshot([], procs[2:]), "/", {}).reason.endswith("; 1.5 GiB freed")


def test_a_ranking_shows_twenty_entries_at_most():
    procs = [process(100 + i, f"p{i}", rss=MiB, oom_score=500 + i) for i in range(25)]
    for policy in (EARLYOOM, NOHANG):
        d = policy.run(snapshot([], procs), "/", {})
        assert len(d.ranking) == 20 and d.ranking[0].pid == 124, policy.name
        assert [c.pid for c in d.ranking] == list(range(124, 104, -1))


def test_an_empty_regex_is_no_regex():
    procs = [process(10, "a", rss=MiB, oom_score=700), process(11, "b", rss=MiB, oom_score=600)]
    d = EARLYOOM.run(snapshot([], procs), "/", {"prefer": "", "avoid": "", "ignore": ""})
    assert d.victim_pid == 10 and d.ranking[0].parts["prefer"] is False


def test_a_whatif_on_a_process_that_has_gone_changes_nothing():
    procs = [process(10, "a", rss=MiB, oom_score=700), process(11, "b", rss=MiB, oom_score=600)]
    snap = whatif.apply(snapshot([], procs, adj_edits={5: 900, 99: 900}))
    for policy in (EARLYOOM, NOHANG):
        d = policy.run(snap, "/", {})
        assert d.victim_pid == 10 and d.uncertain is None, policy.name


def test_five_pids_are_named_in_full():
    procs = [process(10 + i, f"p{i}", rss=(i + 1) * 200 * MiB, oom_score=None) for i in range(5)]
    d = NOHANG.run(snapshot([], procs), "/", {})
    assert d.uncertain == ("oom_score of pid 10, 11, 12, 13, 14 computed from the kernel formula "
                           "(what-if edits or unread oom_score); the real value may differ by a point")


@pytest.mark.parametrize(("rss", "freed"), [(1024, "1.0 KiB"), (MiB, "1.0 MiB"), (GiB, "1.0 GiB")])
def test_a_size_of_exactly_one_unit_is_shown_in_that_unit(rss, freed):
    d = EARLYOOM.run(snapshot([], [process(10, "a", rss=rss, oom_score=900)]), "/", {})
    assert d.reason.endswith(f"; {freed} freed")
