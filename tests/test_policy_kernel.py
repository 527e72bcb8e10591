"""The `kernel` policy on snapshots built in code, one rule (and one kernel era) at a time.

Each fixture is laid out so that the rule under test, and only it, decides
the victim: the expected pid follows from research/kernel-oom.md §1–2, and
getting the rule wrong picks a different process.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from oomtui import whatif
from oomtui.model import Cgroup, CgroupEdit, Host, Process, ProcessEdit, Snapshot, Sysctl, WhatIf
from oomtui.policies import registry
from oomtui.policies.kernel import badness, decide, scan_order

PAGE = 4096
MIB = 1 << 20
LIMIT = 256 * MIB  # 65536 pages: adj scales by 65


def host(kernel: str | None = "6.6.14", mode: str = "v2", **sysctl: int) -> Host:
    return Host(
        hostname="fixture", kernel=kernel, page_size=PAGE, mem_total=16 << 30, mem_available=None,
        swap_total=0, swap_free=0, cgroup_mode=mode, sysctl=Sysctl(**sysctl),  # type: ignore[arg-type]
    )


_next_start = iter(range(1000, 10**6))


def proc(pid: int, cgroup: str, mib: float = 10, *, adj: int = 0, start: float | None = None, **kw) -> Process:
    """A process of `mib` MiB anonymous memory, started after every earlier one unless `start` says."""
    return Process(
        pid=pid, comm=kw.pop("comm", f"p{pid}"), cgroup=cgroup, oom_score_adj=adj,
        rss_anon=int(mib * MIB), rss_file=0, rss_shmem=0, swap=0, pgtables=0,
        start_time=float(next(_next_start)) if start is None else start, **kw,
    )


def snap(*processes: Process, kernel: str | None = "6.6.14", mode: str = "v2", cgroups=(), whatif=None,
         **sysctl: int) -> Snapshot:
    """Cgroup /d (256 MiB limit) with any extra cgroups; parents are added where missing."""
    paths = {"/d": Cgroup("/d", memory_max=LIMIT)}
    for c in cgroups:
        paths[c.path] = c
    for p in processes:
        paths.setdefault(p.cgroup, Cgroup(p.cgroup)) if p.cgroup != "/" else None
    ordered = sorted(paths.values(), key=lambda c: c.path.count("/"))
    return Snapshot(host=host(kernel, mode, **sysctl), cgroups=tuple(ordered), processes=processes,
                    whatif=whatif)


def victim(s: Snapshot, domain: str = "/d") -> int | None:
    return decide(s, domain, {}).victim_pid


# -- candidates and the formula ---------------------------------------------------


def test_registered_under_its_name():
    assert registry.get("kernel").name == "kernel"


def test_candidates_exclude_kernel_threads_init_unkillable_and_memoryless():
    s = snap(
        proc(1, "/d", 200, comm="init"),
        proc(2, "/d", 190, comm="kthreadd", kernel_thread=True),
        proc(3, "/d", 180, adj=-1000),
        Process(pid=4, comm="zombie", cgroup="/d", start_time=1.0),
        Process(pid=5, comm="empty", cgroup="/d", rss_anon=0, rss_file=0, rss_shmem=0, swap=0, pgtables=0),
        proc(6, "/d", 5),
        proc(7, "/d", 1),
    )
    d = decide(s, "/d", {})
    assert [c.pid for c in d.ranking] == [6, 7]
    assert d.victim_pid == 6 and d.killed_pids == (6,)


@pytest.mark.parametrize("pgtables", [2048, 1])
def test_a_process_under_one_page_still_has_an_mm_and_its_adj_counts(pgtables):
    # The kernel skips only tasks without an mm: 2 KiB of page tables (a ppc64 fragment, say), or even one byte,
    # is 0 pages, and adj 1000 alone gives 1000 × 65 = 65000 points, far above 40 MiB (10240 pages). Nothing at
    # all: no mm.
    tiny = Process(pid=8, comm="tiny", cgroup="/d", oom_score_adj=1000, rss_anon=0, rss_file=0, rss_shmem=0,
                   swap=0, pgtables=pgtables)
    gone = Process(pid=9, comm="gone", cgroup="/d", oom_score_adj=1000, rss_anon=0, rss_file=0, rss_shmem=0,
                   swap=0, pgtables=0)
    assert badness(tiny, LIMIT // PAGE, PAGE, (6, 6)) == 65000 and badness(gone, LIMIT // PAGE, PAGE, (6, 6)) is None
    d = decide(snap(proc(10, "/d", 40), tiny, gone), "/d", {})
    assert d.victim_pid == 8 and [(c.pid, c.score) for c in d.ranking] == [(8, 65000), (10, 10240)]
    assert d.ranking[0].why == "rss 0 + swap 0 + pgtables 0 + adj 1000×65 = 65000 pages"


def test_each_byte_figure_becomes_pages_before_the_sum():
    # 3.5 pages anon + 0.5 page file + 2 pages of page tables + 1 page swap: the kernel's counters give 3+0+2+1.
    p = Process(pid=9, comm="x", cgroup="/d", rss_anon=3 * PAGE + 2048, rss_file=2048, rss_shmem=0,
                swap=PAGE, pgtables=2 * PAGE)
    assert badness(p, 65536, PAGE, (6, 6)) == 6
    assert badness(p, 65536, PAGE, (6, 6)) != (p.footprint // PAGE)


def test_a_kernel_log_total_without_its_split_still_counts():
    p = Process(pid=9, comm="x", cgroup="/d", rss_total=10 * PAGE + 100, swap=None, pgtables=PAGE)  # 10 whole pages
    assert badness(p, 65536, PAGE, (6, 6)) == 11
    d = decide(snap(p), "/d", {})
    assert [c.score for c in d.ranking] == [11]
    assert d.reason == "9 (x) has the highest badness in /d: 11 pages of a 65536-page budget"


def test_a_partly_known_split_counts_what_is_known():
    # No total and no file figure: 7 whole pages of anon and 3 of shmem, plus 2 of page tables; file counts 0.
    p = Process(pid=9, comm="x", cgroup="/d", rss_anon=7 * PAGE + 100, rss_file=None, rss_shmem=3 * PAGE, swap=0,
                pgtables=2 * PAGE)
    assert badness(p, 65536, PAGE, (6, 6)) == 12
    d = decide(snap(p, proc(10, "/d", 1 / 256), kernel="6.1.0"), "/d", {})  # 10 holds one page: 11 apart, past 5
    assert [(c.pid, c.score) for c in d.ranking] == [(9, 12), (10, 1)]
    assert d.reason == "9 (x) has the highest badness in /d: 12 pages of a 65536-page budget, next 10 (p10) at 1"
    assert d.uncertain == "sizes partly unknown for 9 (x) (counted as 0)"


@pytest.mark.parametrize("who", [
    dict(pid=1), dict(pid=2, kernel_thread=True), dict(pid=3, oom_score_adj=-1000),
])
def test_init_kernel_threads_and_adj_minus_1000_have_no_badness(who):
    p = Process(**{"comm": "x", "cgroup": "/d", "rss_anon": 100 * MIB, "rss_file": 0, "rss_shmem": 0, "swap": 0,
                   "pgtables": 0, **who})
    assert badness(p, 65536, PAGE, (6, 6)) is None


def test_adj_scales_by_the_domain_budget_with_integer_division_first():
    small, big = proc(10, "/d", 2, adj=500), proc(11, "/d", 20)
    d = decide(snap(small, big), "/d", {})
    first = d.ranking[0]
    assert first.pid == 10
    assert first.parts["adj_pages"] == 500 * (65536 // 1000) == 32500
    assert first.parts["total_pages"] == 65536
    assert first.parts["badness"] == 512 + 32500


def test_a_domain_under_4_mib_makes_adj_meaningless():
    tiny = Cgroup("/d", memory_max=3 * MIB)  # 768 pages: 768 // 1000 == 0
    s = snap(proc(10, "/d", 0.5, adj=1000), proc(11, "/d", 1), cgroups=[tiny])
    d = decide(s, "/d", {})
    assert d.victim_pid == 11
    assert d.ranking[1].parts["adj_pages"] == 0


def test_the_global_domain_uses_ram_plus_swap():
    s = snap(proc(10, "/d", 100), proc(11, "/d", 10, adj=10))
    d = decide(s, "/", {})
    per_adj = (16 << 30) // PAGE // 1000  # 4194 pages per adj point
    assert d.ranking[0].pid == 11 and d.ranking[0].parts["adj_pages"] == 10 * per_adj
    assert d.ranking[0].why == "rss 2560 + swap 0 + pgtables 0 + adj 10×4194 = 44500 pages"
    assert decide(s, "/d", {}).victim_pid == 10  # in the memcg the same adj is worth 650 pages only


def test_oom_score_as_read_is_shown_but_not_used():
    s = snap(proc(10, "/d", 10, oom_score=999), proc(11, "/d", 20, oom_score=1))
    d = decide(s, "/d", {})
    assert d.victim_pid == 11
    assert {c.pid: c.parts["oom_score_read"] for c in d.ranking} == {10: 999, 11: 1}


# -- eras -------------------------------------------------------------------------


@pytest.mark.parametrize(("kernel", "winner"), [("4.14.300", 11), ("4.16.0", 11), ("4.17.0", 10), ("6.6.0", 10)])
def test_root_bonus_only_up_to_4_16(kernel, winner):
    # uid 0 at 100 MiB loses 3 % (to 97 MiB) on 4.14 and falls behind the 98 MiB user process.
    s = snap(proc(10, "/d", 100, uid=0), proc(11, "/d", 98, uid=1000), kernel=kernel)
    assert victim(s) == winner


@pytest.mark.parametrize(
    ("kernel", "winner"), [("4.19.1", 12), ("5.4.0", 11), ("5.8.0", 11), ("5.9.0", 12), ("5.10.0", 12)]
)
def test_negative_scores_clamp_to_one_up_to_5_8(kernel, winner):
    # All three scores are negative. Up to 5.8 they all clamp to 1 and tie: the first scanned (12) wins
    # before 5.3, the last (11) from 5.3. Since 5.9 the sign stays and the least negative (12) wins.
    s = snap(proc(12, "/d", 2, adj=-100), proc(10, "/d", 1, adj=-900), proc(11, "/d", 1, adj=-800), kernel=kernel)
    d = decide(s, "/d", {})
    assert d.victim_pid == winner
    if kernel in ("5.9.0", "5.10.0"):
        assert all(c.score < 0 for c in d.ranking)
    else:
        assert {c.score for c in d.ranking} == {1} and "clamped" in d.ranking[0].why


@pytest.mark.parametrize(("kernel", "winner"), [("4.19.0", 21), ("5.2.9", 21), ("5.3.0", 20), ("6.6.0", 20)])
def test_global_ties_follow_fork_order_not_pids(kernel, winner):
    # pid 21 started first (pids wrap), so fork order is 21, 20: the first wins up to 5.2, the last since 5.3.
    s = snap(proc(20, "/a", 30, start=200.0), proc(21, "/b", 30, start=100.0), kernel=kernel)
    assert [p.pid for p in scan_order(s, "/")] == [21, 20]
    d = decide(s, "/", {})
    assert d.victim_pid == winner
    other = 41 - winner
    assert d.uncertain is not None and f"{other} (p{other})" in d.uncertain


@pytest.mark.parametrize(("kernel", "winner"), [("4.19.0", 31), ("6.6.0", 30)])
def test_memcg_ties_follow_the_cgroup_walk(kernel, winner):
    # /d/a is walked before /d/b although its process started later; inside /d/b, start order.
    s = snap(
        proc(32, "/d/b", 30, start=50.0), proc(31, "/d/a", 30, start=300.0), proc(30, "/d/b", 30, start=60.0),
        kernel=kernel, cgroups=[Cgroup("/d/a"), Cgroup("/d/b")],
    )
    assert [p.pid for p in scan_order(s, "/d")] == [31, 32, 30]
    assert victim(s) == winner


@pytest.mark.parametrize(("kernel", "expected"), [("4.14.0", 41), ("4.19.50", 41), ("5.0.21", 41), ("5.1.0", 40)])
def test_kernels_up_to_5_0_sacrifice_the_largest_child(kernel, expected):
    s = snap(
        proc(40, "/d", 100, uid=1000),
        proc(41, "/d", 20, ppid=40), proc(42, "/d", 30, ppid=40, adj=-1000), proc(43, "/d", 5, ppid=40),
        proc(44, "/", 50, ppid=40),  # outside the memcg domain: never a candidate
        kernel=kernel,
    )
    d = decide(s, "/d", {})
    assert d.ranking[0].pid == 40
    assert d.victim_pid == expected and d.killed_pids == (expected,)
    assert ("sacrifice" in d.reason) == (expected == 41)


def test_unknown_kernel_follows_the_current_rules():
    s = snap(proc(10, "/d", 1, adj=-900), proc(11, "/d", 1, adj=-800), kernel=None)
    d = decide(s, "/d", {})
    assert d.victim_pid == 11 and d.ranking[0].score < 0
    assert "kernel release unknown" in (d.uncertain or "")


# -- near ties --------------------------------------------------------------------


def near_pair(kernel: str, pages_apart: int) -> Snapshot:
    a = proc(50, "/d", 40)
    b = Process(pid=51, comm="b", cgroup="/d", rss_anon=40 * MIB - pages_apart * PAGE, rss_file=0, rss_shmem=0,
                swap=0, pgtables=0, start_time=1e7)
    return snap(a, b, kernel=kernel)


def test_a_near_tie_on_6_2_plus_names_the_other_candidate():
    d = decide(near_pair("6.6.0", 40), "/d", {})
    assert d.victim_pid == 50
    assert d.uncertain is not None and "51 (b)" in d.uncertain and "per-CPU" in d.uncertain


def test_before_6_2_only_rounding_makes_a_tie_uncertain():
    assert decide(near_pair("5.10.0", 40), "/d", {}).uncertain is None
    assert "51 (b)" in (decide(near_pair("5.10.0", 2), "/d", {}).uncertain or "")


def test_a_clear_margin_is_decisive():
    assert decide(near_pair("6.6.0", 2000), "/d", {}).uncertain is None


def test_a_missing_figure_makes_the_prediction_uncertain():
    no_swap = Process(pid=52, comm="noswap", cgroup="/d", rss_anon=30 * MIB, rss_file=0, rss_shmem=0, swap=None)
    d = decide(snap(proc(53, "/d", 40), no_swap), "/d", {})
    assert d.victim_pid == 53
    assert "sizes partly unknown" in (d.uncertain or "") and "52 (noswap)" in (d.uncertain or "")
    assert decide(snap(proc(53, "/d", 40), proc(54, "/d", 30)), "/d", {}).uncertain is None


# -- memory.oom.group -------------------------------------------------------------


def group_snapshot(*flags: str, mode: str = "v2", kernel: str = "6.6.0", domain_limit_on: str = "/d") -> Snapshot:
    cgroups = [Cgroup(path, oom_group=(path in flags) if mode == "v2" else None,
                      memory_max=LIMIT if path == domain_limit_on else None)
               for path in ("/d", "/d/a", "/d/a/b", "/d/c")]
    return snap(
        proc(60, "/d/a/b", 100), proc(61, "/d/a/b", 10), proc(62, "/d/a/b", 10, adj=-1000),
        proc(63, "/d/a", 10, adj=-999), proc(64, "/d/c", 10), proc(65, "/d", 10),
        kernel=kernel, mode=mode, cgroups=cgroups,
    )


@pytest.mark.parametrize(
    ("flags", "group", "killed"),
    [
        ((), None, {60}),
        (("/d/a/b",), "/d/a/b", {60, 61}),
        (("/d/a/b", "/d/a"), "/d/a", {60, 61, 63}),
        (("/d/a",), "/d/a", {60, 61, 63}),
        (("/d", "/d/a/b"), "/d", {60, 61, 63, 64, 65}),
        (("/d/c",), None, {60}),  # a flag off the victim's path does nothing
    ],
)
def test_oom_group_kills_the_highest_flagged_cgroup_up_to_the_domain(flags, group, killed):
    d = decide(group_snapshot(*flags), "/d", {})
    assert d.victim_pid == 60 and d.killed_pids[0] == 60
    assert d.victim_cgroup == group
    assert set(d.killed_pids) == killed
    assert 62 not in d.killed_pids  # adj -1000 is spared even inside the group
    s = group_snapshot(*flags)
    assert d.freed_bytes == sum(s.process(pid).footprint for pid in killed)


def test_a_flag_above_the_domain_is_ignored():
    s = group_snapshot("/d", domain_limit_on="/d/a")
    d = decide(s, "/d/a", {})
    assert d.killed_pids == (60,) and d.victim_cgroup is None
    assert "above the domain" in d.reason


def test_oom_group_spares_host_init():
    s = snap(proc(1, "/d/a", 1), proc(70, "/d/a", 50), proc(71, "/d/a", 5),
             cgroups=[Cgroup("/d/a", oom_group=True)])
    assert set(decide(s, "/d", {}).killed_pids) == {70, 71}


def test_a_group_kill_takes_every_member_with_any_memory_whatever_the_listing_order():
    """One byte is memory (the process has an mm); a zombie shows none and is not killed. The same whether the
    listing is in fork order or has to be sorted into it."""
    members = (proc(70, "/d/a", 50), proc(71, "/d/a", 1 / MIB),
               Process(pid=72, comm="zombie", cgroup="/d/a", start_time=float(next(_next_start))))
    for listing in (members, members[::-1]):
        d = decide(snap(*listing, cgroups=[Cgroup("/d/a", oom_group=True)]), "/d", {})
        assert (d.killed_pids, d.freed_bytes) == ((70, 71), 50 * MIB + 1)


def test_a_victim_in_the_root_cgroup_kills_nobody_else():
    s = snap(proc(80, "/", 200), proc(81, "/d", 10), cgroups=[Cgroup("/d", memory_max=LIMIT, oom_group=True)])
    d = decide(s, "/", {})
    assert d.victim_pid == 80 and d.killed_pids == (80,) and d.victim_cgroup is None


def test_a_global_oom_walks_up_to_the_top_flag():
    s = group_snapshot("/d/a/b", "/d")
    assert set(decide(s, "/", {}).killed_pids) == {60, 61, 63, 64, 65}


@pytest.mark.parametrize("mode", ["v1", "hybrid"])
def test_cgroup_v1_has_no_oom_group_and_says_the_mark_is_ignored(mode):
    s = group_snapshot(mode=mode)
    s = s.replace(whatif=WhatIf(cgroups={"/d/a": CgroupEdit(interdependent=True)}))
    d = decide(s, "/d", {})
    assert d.killed_pids == (60,)
    assert "no memory.oom.group" in d.reason and "/d/a" in d.reason


def test_kernels_before_4_19_have_no_oom_group():
    d = decide(group_snapshot("/d/a", kernel="4.14.0"), "/d", {})
    assert d.killed_pids == (60,) and "before 4.19" in d.reason


def test_whatif_interdependent_acts_as_oom_group_on_v2():
    s = group_snapshot().replace(whatif=WhatIf(cgroups={"/d/a/b": CgroupEdit(interdependent=True)}))
    assert set(decide(s, "/d", {}).killed_pids) == {60, 61}


def test_whatif_can_unset_a_flag():
    s = group_snapshot("/d/a").replace(whatif=WhatIf(cgroups={"/d/a": CgroupEdit(interdependent=False)}))
    assert decide(s, "/d", {}).killed_pids == (60,)


# -- what-if ----------------------------------------------------------------------


def test_whatif_adj_override_changes_the_victim():
    s = snap(proc(90, "/d", 100), proc(91, "/d", 10))
    assert victim(s) == 90
    edited = whatif.apply(s.replace(whatif=WhatIf(processes={91: ProcessEdit(oom_score_adj=500)})))
    d = decide(edited, "/d", {})
    assert d.victim_pid == 91 and d.ranking[0].parts["adj"] == 500


def test_a_cgroup_score_is_ignored_and_the_reason_says_so():
    s = snap(proc(90, "/d/a", 100), proc(91, "/d/b", 10))
    plain = decide(s, "/d", {})
    scored = decide(s.replace(whatif=WhatIf(cgroups={"/d/a": CgroupEdit(score=-1000)})), "/d", {})
    assert scored.victim_pid == plain.victim_pid == 90
    assert "no per-cgroup score" in scored.reason and "no per-cgroup score" not in plain.reason


# -- sysctls ----------------------------------------------------------------------


@pytest.mark.parametrize(("panic", "domain", "kills"), [(1, "/", False), (1, "/d", True), (2, "/d", False)])
def test_panic_on_oom(panic, domain, kills):
    s = snap(proc(100, "/d", 50), panic_on_oom=panic)
    d = decide(s, domain, {})
    assert (d.victim_pid == 100, d.domain) == (kills, domain)
    if not kills:
        assert d.killed_pids == () and "panic_on_oom" in d.reason
        assert d.ranking[0].pid == 100  # the user still sees whom it would have been


def test_a_panic_still_says_what_may_be_off_in_the_ranking_it_shows():
    d = decide(snap(proc(100, "/d", 50), kernel=None, panic_on_oom=2), "/d", {})
    assert (d.killed_pids, d.uncertain) == ((), "kernel release unknown: current rules")


@pytest.mark.parametrize(("domain", "kills"), [("/", False), ("/d", True)])
def test_oom_kill_allocating_task_names_no_victim_for_a_global_oom(domain, kills):
    d = decide(snap(proc(110, "/d", 50), oom_kill_allocating_task=1), domain, {})
    assert (d.victim_pid == 110) == kills
    if not kills:
        assert "allocating" in d.reason and d.killed_pids == ()


# -- the decision as a whole -------------------------------------------------------


def test_decision_fields():
    s = snap(*(proc(200 + i, "/d", 5 + i) for i in range(12)))
    d = decide(s, "/d", {})
    assert d.policy == "kernel" and d.domain == "/d" and d.triggered is None
    assert d.victim_pid == 211 and d.victim_pid_cgroup == "/d" and d.killed_pids == (211,)
    assert d.freed_bytes == s.process(211).footprint
    assert len(d.ranking) >= 10
    assert [c.score for c in d.ranking] == sorted((c.score for c in d.ranking), reverse=True)
    assert set(d.ranking[0].parts) >= {"rss", "swap", "pgtables", "adj", "adj_pages", "total_pages", "badness",
                                       "oom_score_read"}
    assert "\n" not in d.reason and "211 (p211)" in d.reason


def test_no_candidates_and_unknown_domains_kill_nothing():
    d = decide(snap(proc(1, "/d", 50), proc(120, "/d", 5, adj=-1000)), "/d", {})
    assert d.kills_nothing and "no killable process" in d.reason
    d = decide(snap(proc(121, "/d", 5)), "/nope", {})
    assert d.kills_nothing and "/nope" in d.reason and d.domain == "/nope"



# -- the words a user reads -------------------------------------------------------


def pages(pid: int, anon: int, file: int = 0, shmem: int = 0, swap: int = 0, pgtables: int = 0, adj: int = 0,
          uid: int = 1000) -> Process:
    """A process whose figures are whole pages, so every part of its badness can be read off."""
    return Process(pid=pid, comm=f"p{pid}", cgroup="/d", oom_score_adj=adj, uid=uid, rss_anon=anon * PAGE,
                   rss_file=file * PAGE, rss_shmem=shmem * PAGE, swap=swap * PAGE, pgtables=pgtables * PAGE,
                   start_time=float(pid))


@pytest.mark.parametrize("kernel", ["6.6.0", "4.14.0"])
def test_each_candidate_shows_the_parts_of_its_badness(kernel):
    # rss 20000 + 3000 + 1000 = 24000, swap 500, page tables 40: 24540; up to 4.16 root loses 24540 * 3 // 100 = 736.
    # 9000 + 20 + 300 × (65536 // 1000 = 65) = 28520 wins; 100 - 500 × 65 = -32400, clamped to 1 up to 5.8.
    s = snap(pages(10, 20000, 3000, 1000, 500, 40, uid=0), pages(11, 9000, pgtables=20, adj=300),
             pages(12, 100, adj=-500), kernel=kernel)
    d = decide(s, "/d", {})
    old = kernel == "4.14.0"
    root = 24540 - 736 if old else 24540
    assert d.victim_pid == 11
    assert d.reason == (f"11 (p11) has the highest badness in /d: 28520 pages of a 65536-page budget, "
                        f"next 10 (p10) at {root}")
    assert [(c.pid, c.score, c.why) for c in d.ranking] == [
        (11, 28520, "rss 9000 + swap 0 + pgtables 20 + adj 300×65 = 28520 pages"),
        (10, root, f"rss 24000 + swap 500 + pgtables 40{' - root 3% 736' if old else ''} = {root} pages"),
        (12, 1 if old else -32400, "rss 100 + swap 0 + pgtables 0 + adj -500×65 = "
         + ("1 pages (clamped from -32400)" if old else "-32400 pages")),
    ]
    assert dict(d.ranking[1].parts) == {
        "rss": 24000, "swap": 500, "pgtables": 40, "adj": 0, "adj_pages": 0, "total_pages": 65536, "badness": root,
        "oom_score_read": None, **({"root_bonus": 736} if old else {}),
    }
    assert d.ranking[2].parts["adj_pages"] == -32500 and d.ranking[2].parts["badness"] == (1 if old else -32400)
    assert d.uncertain is None and d.freed_bytes == 9020 * PAGE


@pytest.mark.parametrize(("kernel", "killed"), [("4.14.0", 41), ("5.0.0", 41), ("5.1.0", 40)])
def test_the_first_of_equal_children_is_sacrificed_and_the_reason_names_it(kernel, killed):
    # 41 and 43 score alike: the kernel's strict `child_points > victim_points` keeps the first in its child list.
    s = snap(proc(40, "/d", 100, start=1.0), proc(41, "/d", 20, ppid=40, start=2.0),
             proc(42, "/d", 30, ppid=40, adj=-1000, start=3.0), proc(43, "/d", 20, ppid=40, start=4.0),
             proc(45, "/d", 20, ppid=44, start=5.0), kernel=kernel)
    d = decide(s, "/d", {})
    head = "40 (p40) has the highest badness in /d: 25600 pages of a 65536-page budget, next 41 (p41) at 5120"
    assert d.reason == head + ("; kernels up to 5.0 sacrifice its child 41 (p41) instead" if killed == 41 else "")
    assert d.victim_pid == killed and d.killed_pids == (killed,) and d.freed_bytes == s.process(killed).footprint


def test_the_reasons_of_a_group_kill_and_of_the_marks_the_kernel_ignores():
    d = decide(group_snapshot("/d/a"), "/d", {})
    head = "60 (p60) has the highest badness in /d: 25600 pages of a 65536-page budget"
    assert d.reason == f"{head}, next 64 (p64) at 2560; memory.oom.group on /d/a kills 2 more with it"
    assert d.killed_pids[0] == 60 and set(d.killed_pids) == {60, 61, 63}
    d = decide(group_snapshot("/d", "/d/a/b"), "/d", {})
    assert d.reason.endswith("; memory.oom.group on /d kills 4 more with it")
    marks = {path: CgroupEdit(interdependent=True) for path in ("/d", "/d/a", "/d/a/b", "/d/c", "/elsewhere")}
    d = decide(group_snapshot(mode="v1").replace(whatif=WhatIf(cgroups=marks)), "/d", {})
    assert d.reason == (f"{head}, next 64 (p64) at 2560; the memory controller is on cgroup v1 here, which has "
                        "no memory.oom.group, so the interdependent mark on /d, /d/a, /d/a/b is ignored")
    d = decide(group_snapshot("/d/a", kernel="4.14.0"), "/d", {})
    assert d.reason == (f"{head}, next 65 (p65) at 2560; kernels before 4.19 have no memory.oom.group, "
                        "so the interdependent mark on /d/a is ignored")
    d = decide(group_snapshot("/d", domain_limit_on="/d/a"), "/d/a", {})
    assert d.reason == ("60 (p60) has the highest badness in /d/a: 25600 pages of a 65536-page budget, next 61 (p61) "
                        "at 2560; memory.oom.group on /d lies above the domain and does not widen this kill")
    d = decide(group_snapshot("/d", "/d/a", domain_limit_on="/d/a/b"), "/d/a/b", {})  # the highest flag is named
    assert d.reason.endswith("; memory.oom.group on /d lies above the domain and does not widen this kill")
    scores = {path: CgroupEdit(score=5) for path in ("/d/a", "/d/b", "/d/c", "/d/e", "/elsewhere")}
    d = decide(snap(proc(90, "/d/a", 100), proc(91, "/d/b", 10), whatif=WhatIf(cgroups=scores)), "/d", {})
    assert d.reason.endswith("; the kernel has no per-cgroup score: the score on /d/a, /d/b, /d/c is ignored")


def test_the_reasons_when_nothing_is_killed():
    def reason(s: Snapshot, domain: str) -> str:
        return decide(s, domain, {}).reason

    assert reason(snap(proc(100, "/d", 50), panic_on_oom=1), "/") == (
        "vm.panic_on_oom=1: a global OOM panics the host instead of killing a process")
    assert reason(snap(proc(100, "/d", 50), panic_on_oom=2), "/d") == (
        "vm.panic_on_oom=2: every OOM panics the host instead of killing a process")
    assert reason(snap(proc(110, "/d", 50), oom_kill_allocating_task=1), "/") == (
        "vm.oom_kill_allocating_task is set: a global OOM kills whichever task is allocating, which no snapshot "
        "can name (the ranking applies only if that task is unkillable)")
    unkillable = snap(proc(1, "/d", 50), proc(120, "/d", 5, adj=-1000), kernel=None)
    assert reason(unkillable, "/d") == "no killable process in /d: the charge fails"
    d = decide(unkillable, "/", {})
    assert d.reason == "no killable process in /: the host panics (System is deadlocked on memory)"
    assert d.uncertain == "kernel release unknown: current rules"
    assert reason(snap(proc(121, "/d", 5)), "/nope") == "no cgroup /nope in this snapshot"


@pytest.mark.parametrize(("kernel", "apart", "margin", "decider", "keeps"), [
    ("6.6.0", 40, 69, "the kernel's approximate per-CPU RSS counters and its scan order", "last"),
    ("6.2.0", 69, 69, "the kernel's approximate per-CPU RSS counters and its scan order", "last"),
    ("6.1.0", 5, 5, "the kernel's scan order and counter drift since the snapshot", "last"),
    ("5.2.0", 0, 5, "the kernel's scan order and counter drift since the snapshot", "first"),
])
def test_a_near_tie_says_how_near_and_what_decides(kernel, apart, margin, decider, keeps):
    d = decide(near_pair(kernel, apart), "/d", {})
    assert d.uncertain == (
        f"50 (p50) at 10240 pages is within {margin} pages of 51 (b) at {10240 - apart}: {decider} decide (of equal "
        f"scores the kernel keeps the {keeps} scanned); no snapshot shows an unreaped earlier victim (it stops "
        "the round) or a vfork child (skipped)")
    assert decide(near_pair(kernel, margin + 1), "/d", {}).uncertain is None


@pytest.mark.parametrize(("kernel", "tied", "victim", "named"), [
    ("6.6.0", 12, 311, [310, 309, 308, 307, 306]),  # the last scanned is kept: the rivals from the end back
    ("5.2.0", 12, 300, [301, 302, 303, 304, 305]),  # the first scanned is kept: the rivals from the start on
    ("6.6.0", 7, 306, [305, 304, 303, 302, 301]),
    ("6.6.0", 6, 305, [304, 303, 302, 301, 300]),  # exactly five rivals: all named, none counted
])
def test_a_tie_wider_than_the_ranking_names_five_and_counts_the_rest(kernel, tied, victim, named):
    # Twelve (seven, six) processes of 40 MiB (10240 pages) tie; one of 30 MiB is far off. The ranking shows at
    # most ten, but the doubt counts every rival: five by name, the rest as a number.
    s = snap(*(proc(pid, "/d", 40, start=float(pid)) for pid in range(300, 300 + tied)),
             proc(312, "/d", 30, start=1.0), kernel=kernel)
    d = decide(s, "/d", {})
    margin, decider = (69, "the kernel's approximate per-CPU RSS counters and its scan order") if kernel == "6.6.0" \
        else (5, "the kernel's scan order and counter drift since the snapshot")
    keeps = "last" if kernel == "6.6.0" else "first"
    assert d.victim_pid == victim and len(d.ranking) == min(tied + 1, 10)
    rivals = ", ".join(f"{pid} (p{pid}) at 10240" for pid in named) + (f" and {tied - 6} more" if tied > 6 else "")
    assert d.uncertain == (
        f"{victim} (p{victim}) at 10240 pages is within {margin} pages of {rivals}: {decider} "
        f"decide (of equal scores the kernel keeps the {keeps} scanned); no snapshot shows an unreaped earlier "
        "victim (it stops the round) or a vfork child (skipped)")


NEAR = ("the kernel's approximate per-CPU RSS counters and its scan order decide (of equal scores the kernel keeps "
        "the last scanned); no snapshot shows an unreaped earlier victim (it stops the round) or a vfork child "
        "(skipped)")


@pytest.mark.parametrize(("sizes", "victim", "named", "more"), [
    # Twelve tie at 10240 pages and the last scanned sits exactly 69 pages (6.2+'s margin) below them.
    ([10240] * 12 + [10171], 311, "310 (p310) at 10240, 309 (p309) at 10240, 308 (p308) at 10240, 307 (p307) at "
     "10240, 306 (p306) at 10240", 7),
    # One at 10240 leads eleven exactly 69 pages below it: the ranking's tenth is one of them, the rest follow.
    ([10240] + [10171] * 11, 300, "311 (p311) at 10171, 310 (p310) at 10171, 309 (p309) at 10171, 308 (p308) at "
     "10171, 307 (p307) at 10171", 6),
])
def test_a_rival_exactly_at_the_margin_is_counted_though_scanned_after_the_ranking_filled(sizes, victim, named,
                                                                                          more):
    s = snap(*(pages(300 + i, n) for i, n in enumerate(sizes)))
    d = decide(s, "/d", {})
    assert d.victim_pid == victim and len(d.ranking) == 10
    assert d.uncertain == f"{victim} (p{victim}) at 10240 pages is within 69 pages of {named} and {more} more: {NEAR}"


@pytest.mark.parametrize(("kernel", "killed"), [("5.0.0", 41), ("5.1.0", 40)])
def test_a_child_far_below_the_ranking_is_still_sacrificed(kernel, killed):
    # The kernel takes the chosen task's highest-scoring child, however small (strict > from 0): ten others of
    # 12800 pages fill the ranking, and the child of 256 pages, scanned last, is in none of it.
    child = replace(pages(41, 256), ppid=40, start_time=100.0)
    s = snap(pages(40, 25600), *(pages(pid, 12800) for pid in range(50, 60)), child, kernel=kernel)
    d = decide(s, "/d", {})
    head = "40 (p40) has the highest badness in /d: 25600 pages of a 65536-page budget, next 50 (p50) at 12800"
    assert d.reason == head + ("; kernels up to 5.0 sacrifice its child 41 (p41) instead" if killed == 41 else "")
    assert d.killed_pids == (killed,) and 41 not in [c.pid for c in d.ranking]


def test_every_doubt_and_caveat_is_listed():
    d = decide(snap(*near_pair("6.6.0", 40).processes, kernel=None), "/d", {})
    assert d.uncertain == f"50 (p50) at 10240 pages is within 69 pages of 51 (b) at 10200: {NEAR}; kernel release " \
        "unknown: current rules"
    caveats = "/e has no memory limit; kernel release unknown: current rules"
    d = decide(snap(proc(130, "/e", 50), kernel=None, panic_on_oom=2), "/e", {})
    assert (d.reason, d.uncertain) == ("vm.panic_on_oom=2: every OOM panics the host instead of killing a process",
                                       caveats)
    d = decide(snap(proc(131, "/e", 5, adj=-1000), kernel=None), "/e", {})
    assert (d.reason, d.uncertain) == ("no killable process in /e: the charge fails", caveats)


def test_missing_figures_count_as_nothing_even_where_a_page_is_one_byte():
    # The format allows any positive page size. Each process lacks one RSS part, its swap and its page tables:
    # all three hold 1000 bytes, 1000 pages here, and tie, so the last scanned is kept. No swap total: none.
    ps = [Process(pid=pid, comm=f"p{pid}", cgroup="/d", rss_anon=anon, rss_file=file, rss_shmem=shmem,
                  start_time=float(pid)) for pid, anon, file, shmem in
          ((1001, None, 600, 400), (1002, 700, None, 300), (1003, 500, 500, None))]
    assert [badness(p, 1000, 1, (6, 6)) for p in ps] == [1000, 1000, 1000]
    s = snap(*ps)
    s = s.replace(host=replace(s.host, page_size=1, swap_total=None))
    d = decide(s, "/d", {})
    assert d.reason == ("1003 (p1003) has the highest badness in /d: 1000 pages of a 268435456-page budget, next "
                        "1002 (p1002) at 1000")
    assert [(c.pid, c.score, c.why) for c in d.ranking] == [
        (pid, 1000, "rss 1000 + swap 0 + pgtables 0 = 1000 pages") for pid in (1003, 1002, 1001)]
    assert d.uncertain == (
        f"1003 (p1003) at 1000 pages is within 69 pages of 1002 (p1002) at 1000, 1001 (p1001) at 1000: {NEAR}; "
        "sizes partly unknown for 1003 (p1003), 1002 (p1002) (counted as 0); host swap total unknown; counted as none")


def test_marks_the_kernel_ignores_leave_out_the_root_and_unset_flags():
    marks = {"/": CgroupEdit(interdependent=True), "/d/c": CgroupEdit(interdependent=True)}
    d = decide(group_snapshot(mode="v1").replace(whatif=WhatIf(cgroups=marks)), "/", {})
    assert d.reason.endswith("which has no memory.oom.group, so the interdependent mark on /d/c is ignored")
    unset = WhatIf(cgroups={"/d/a": CgroupEdit(interdependent=False)})
    d = decide(group_snapshot("/d/a", "/d/c", kernel="4.14.0").replace(whatif=unset), "/d", {})
    assert d.reason.endswith("kernels before 4.19 have no memory.oom.group, so the interdependent mark on /d/c is "
                             "ignored")
    assert "memory.oom.group" not in decide(group_snapshot("/d/a", kernel="4.14.0").replace(whatif=unset), "/d",
                                            {}).reason
    scored = WhatIf(cgroups={"/d/a": CgroupEdit(score=3)})  # an edit that leaves the flag alone
    d = decide(group_snapshot("/d/a", kernel="4.14.0").replace(whatif=scored), "/d", {})
    assert d.reason.endswith("kernels before 4.19 have no memory.oom.group, so the interdependent mark on /d/a is "
                             "ignored; the kernel has no per-cgroup score: the score on /d/a is ignored")


def test_unknown_sizes_name_the_top_two_only():
    no_swap = [Process(pid=pid, comm=f"n{pid}", cgroup="/d", rss_anon=mib * MIB, rss_file=0, rss_shmem=0, swap=None)
               for pid, mib in ((52, 30), (54, 20))]
    d = decide(snap(proc(53, "/d", 40), *no_swap), "/d", {})
    assert d.uncertain == "sizes partly unknown for 52 (n52) (counted as 0)"
    d = decide(snap(proc(53, "/d", 10), *no_swap), "/d", {})
    assert d.uncertain == "sizes partly unknown for 52 (n52), 54 (n54) (counted as 0)"
    no_rss = Process(pid=55, comm="log", cgroup="/d", rss_anon=None, rss_file=None, rss_shmem=None, rss_total=50 * MIB,
                     swap=0)
    d = decide(snap(proc(53, "/d", 40), no_rss), "/d", {})
    assert d.victim_pid == 55 and d.uncertain is None  # a kernel log's total is a known size


@pytest.mark.parametrize(("kernel", "killed"), [("4.18.20", {60}), ("4.19.0", {60, 61, 63})])
def test_oom_group_arrived_in_4_19(kernel, killed):
    assert set(decide(group_snapshot("/d/a", kernel=kernel), "/d", {}).killed_pids) == killed
