"""Who the kernel killed, as each kill line says it, and the page size the lines give away (kernel-oom.md §5.7)."""

from __future__ import annotations

import pytest

from oomtui.oomlog import parse_report

KIB = 1024
HEADER = "x invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=0"
TABLE = [
    "Tasks state (memory values in pages):",
    "[  pid  ]   uid  tgid total_vm      rss pgtables_bytes swapents oom_score_adj name",
    "[    100]     0   100     1000      200    32768        1             0 keep",
    "[    200]  1000   200    90000     {rss}    65536        0           100 big",
]
SUMMARY = ("oom-kill:constraint=CONSTRAINT_NONE,nodemask=(null),cpuset=/,mems_allowed=0,global_oom,"
           "task_memcg=/user.slice,task=big,pid=200,uid=1000")
KILL_54 = ("Out of memory: Killed process {pid} (big) total-vm:360000kB, anon-rss:{anon}kB, file-rss:{file}kB, "
           "shmem-rss:{shmem}kB, UID:1000 pgtables:64kB oom_score_adj:{adj}")
KILL_51 = "Out of memory: Killed process {pid} (big) total-vm:360000kB, anon-rss:{anon}kB, file-rss:0kB, shmem-rss:0kB"
NO_PAGE_SIZE = "the report does not show the page size; 4096 bytes assumed for the task table"


def report(*lines: str, rss: int = 4000) -> str:
    return "\n".join([HEADER, *(x.format(rss=rss) for x in TABLE), *lines])


def test_a_summary_line_that_ends_the_report_names_the_victim():
    result = parse_report(report(SUMMARY))
    assert result.snapshot.oom_event.raw == report(SUMMARY)  # the report's own lines, kept for the postmortem
    e = result.snapshot.oom_event
    assert (e.kind, e.killed_pid, e.killed_comm) == ("global", 200, "big")
    assert result.snapshot.process(200).cgroup == "/user.slice"
    assert result.snapshot.host.cgroup_mode != "none"  # it names a memory cgroup: the controller is on
    assert "the report has no Killed process line; the victim comes from the oom-kill summary" in result.warnings


def test_a_victim_missing_from_the_table_takes_its_sizes_and_adj_from_the_5_4_kill_line():
    result = parse_report(report(SUMMARY.replace("pid=200", "pid=300"),
                                 KILL_54.format(pid=300, anon=8000, file=12, shmem=4, adj=-7)))
    victim = result.snapshot.process(300)
    assert (victim.cgroup, victim.oom_score_adj, victim.uid) == ("/user.slice", -7, 1000)
    assert (victim.rss_anon, victim.rss_file, victim.rss_shmem, victim.pgtables) == (
        8000 * KIB, 12 * KIB, 4 * KIB, 64 * KIB)
    assert "the victim 300 is not in the task table; its sizes come from the kill line" in result.warnings


def test_a_kill_line_before_5_4_shows_no_adj_uid_or_page_tables():
    result = parse_report("\n".join([HEADER, KILL_51.format(pid=300, anon=8000)]))
    victim = result.snapshot.process(300)
    assert (victim.oom_score_adj, victim.uid, victim.pgtables, victim.rss_anon) == (0, None, None, 8000 * KIB)
    assert "no task table: the report lists no processes (ratelimited, or vm.oom_dump_tasks=0)" in result.warnings


@pytest.mark.parametrize(("adj", "anon", "shown", "rss_anon"), [
    (-1000, 8, -1000, 8 * KIB),
    (1000, 8, 1000, 8 * KIB),
    (0, 1 << 42, 0, 1 << 52),  # 4 PiB: the most a size may be
    (-1001, 8, -1000, None),
    (1001, 8, 1000, None),
    (-5000, 8, -1000, None),
    (0, (1 << 42) + 1, 0, None),
])
def test_impossible_values_in_the_kill_line_are_clamped_or_unknown_and_named(adj, anon, shown, rss_anon):
    result = parse_report("\n".join([HEADER, KILL_54.format(pid=300, anon=anon, file=0, shmem=2, adj=adj)]))
    victim = result.snapshot.process(300)
    assert (victim.oom_score_adj, victim.rss_anon) == (shown, rss_anon)
    impossible = "the kill line of 300 shows impossible values; its sizes are unknown" in result.warnings
    assert impossible is (rss_anon is None)
    assert (victim.rss_file, victim.rss_shmem, victim.pgtables) == ((None, None, None) if impossible
                                                                    else (0, 2 * KIB, 64 * KIB))


KILL_44 = "Killed process 200 (big) total-vm:360000kB, anon-rss:{anon}kB, file-rss:{file}kB"


@pytest.mark.parametrize(("rss", "line", "page"), [
    (4000, KILL_54.format(pid=200, anon=4000, file=8000, shmem=4000, adj=100), 4096),  # anon + file + shmem
    (100, KILL_54.format(pid=200, anon=0, file=400, shmem=40, adj=100), 4096),  # 440 kB: a tenth over 4 kB
    (100, KILL_44.format(anon=360, file=0), 4096),  # a tenth under, before shmem-rss was printed
    (4000, KILL_54.format(pid=200, anon=32000, file=0, shmem=0, adj=100), 8192),
    (4000, KILL_54.format(pid=200, anon=60000, file=4000, shmem=0, adj=100), 16384),
    (4000, KILL_44.format(anon=280000, file=0), 65536),
    (65, KILL_44.format(anon=260, file=0), 4096),  # the fewest pages that still tell
])
def test_page_size_from_the_kill_line_over_the_table_when_there_are_no_buddy_lists(rss, line, page):
    result = parse_report(report(line, rss=rss))
    assert result.snapshot.host.page_size == page
    assert result.snapshot.process(200).rss_total == rss * page
    assert NO_PAGE_SIZE not in result.warnings


@pytest.mark.parametrize(("rss", "line"), [
    (4000, KILL_54.format(pid=200, anon=18000, file=0, shmem=0, adj=100)),  # 4.5: no page size is that near
    (100, KILL_44.format(anon=441, file=0)),  # just over a tenth off 4 kB
    (100, KILL_44.format(anon=359, file=0)),  # just under
    (64, KILL_44.format(anon=256, file=0)),  # too few pages to tell
])
def test_no_page_size_from_a_ratio_that_does_not_tell(rss, line):
    result = parse_report(report(line, rss=rss))
    assert result.snapshot.host.page_size == 4096
    assert NO_PAGE_SIZE in result.warnings


def test_a_victim_whose_leader_exited_is_found_by_its_tgid():
    """The table lists the threads that still have memory; the kill line names the process."""
    lines = [HEADER, *(x.format(rss=4000) for x in TABLE)]
    lines[-1] = lines[-1].replace("[    200]  1000   200", "[    201]  1000   200")
    result = parse_report("\n".join([*lines, KILL_54.format(pid=200, anon=16000, file=0, shmem=0, adj=100)]))
    victim = result.snapshot.process(200)
    assert (victim.comm, victim.rss_total, victim.oom_score_adj) == ("big", 4000 * 4096, 100)
    assert result.snapshot.oom_event.killed_pid == 200
    assert not any("not in the task table" in w for w in result.warnings)


def test_the_buddy_lists_smallest_block_is_the_page_size():
    lines = ["Mem-Info:", "Node 0 DMA: 1*64kB (U) 0*128kB = 64kB", "Node 0 Normal: 2*4kB (U) = 8kB"]
    result = parse_report("\n".join([HEADER, *lines, *(x.format(rss=10) for x in TABLE),
                                     KILL_51.format(pid=200, anon=640)]))
    assert result.snapshot.host.page_size == 65536
    odd = parse_report("\n".join([HEADER, "Mem-Info:", "Node 0 DMA: 1*32kB (U) = 32kB",
                                  *(x.format(rss=10) for x in TABLE), KILL_51.format(pid=200, anon=40)]))
    assert odd.snapshot.host.page_size == 4096 and NO_PAGE_SIZE in odd.warnings


def test_panic_on_oom_instead_of_a_kill():
    for kind, value in (("system-wide", 1), ("compulsory", 2)):
        result = parse_report(report(f"Kernel panic - not syncing: Out of memory: {kind} panic_on_oom is enabled"))
        assert result.snapshot.host.sysctl.panic_on_oom == value
        assert f"the kernel panicked ({kind} panic_on_oom) instead of killing" in result.warnings
        assert result.snapshot.oom_event.killed_pid is None


@pytest.mark.parametrize("line", [
    "Out of memory and no killable processes...",
    "Kernel panic - not syncing: Out of memory and no killable processes...",  # ≤4.x panics on it
])
def test_no_killable_process(line):
    result = parse_report(report(line))
    assert "the kernel found no killable process" in result.warnings
    assert result.snapshot.host.sysctl.panic_on_oom is None
    assert not any("panicked" in w for w in result.warnings)


def test_oom_kill_allocating_task_shows_on_the_kill_process_line_before_5_1():
    result = parse_report(report("Out of memory (oom_kill_allocating_task): Kill process 200 (big) score 0 or "
                                 "sacrifice child", "Killed process 200 (big) total-vm:360000kB, anon-rss:16000kB, "
                                 "file-rss:0kB, shmem-rss:0kB"))
    assert result.snapshot.host.sysctl.oom_kill_allocating_task == 1
    assert result.snapshot.oom_event.kind == "global"


def test_no_kill_line_at_all():
    result = parse_report("\n".join([HEADER, *(x.format(rss=10) for x in TABLE), "Mem-Info:"]))
    assert result.snapshot.oom_event.killed_pid is None
    assert "the report has no kill line: the victim is unknown" in result.warnings
    empty = parse_report("\n".join([HEADER, *TABLE[:2]]))
    assert "the task table has no rows" in empty.warnings


@pytest.mark.parametrize("constraint", ["CONSTRAINT_CPUSET", "CONSTRAINT_MEMORY_POLICY"])
def test_a_global_oom_of_some_nodes_says_the_budget_is_unknown(constraint):
    """Early 5.0 printed ,global_oom and the rest of the summary as a record of its own."""
    result = parse_report("\n".join([
        HEADER, *(x.format(rss=10) for x in TABLE),
        f"oom-kill:constraint={constraint},nodemask=0,cpuset=/,mems_allowed=0",
        ",global_oom,task_memcg=/,task=big,pid=200,uid=1000",
        KILL_51.format(pid=200, anon=40)]))
    assert (result.snapshot.oom_event.kind, result.snapshot.oom_event.domain) == ("global", "/")
    assert (f"{constraint}: the kernel counted only the allowed nodes' pages, which the report omits"
            in result.warnings)


def test_a_kill_line_naming_a_thread_is_its_process():
    """The kernel prints the thread that still holds the memory (find_lock_task_mm), not always the leader."""
    lines = [HEADER, *(x.format(rss=4000) for x in TABLE)]
    lines.append(lines[-1].replace("[    200]  1000   200", "[    201]  1000   200"))
    result = parse_report("\n".join([*lines, KILL_54.format(pid=201, anon=16000, file=0, shmem=0, adj=100)]))
    e = result.snapshot.oom_event
    assert (e.killed_pid, e.killed_comm) == (200, "big")
    assert [p.pid for p in result.snapshot.processes] == [100, 200]


def test_a_reaper_line_names_a_victim_the_report_does_not_list():
    result = parse_report("\n".join([HEADER, "oom_reaper: reaped process 77 (x), now anon-rss:0kB, file-rss:0kB, "
                                             "shmem-rss:0kB"]))
    e = result.snapshot.oom_event
    assert (e.killed_pid, e.killed_comm) == (77, None)
    assert "no kill line: the victim (77) is named only by the oom_reaper line" in result.warnings


def test_a_stray_reaper_line_inside_a_report_does_not_displace_its_kill_line():
    """The reaper runs in its own thread: its line for an earlier victim (whose report the log lost) can land
    in the middle of the next report, before that report's own kill line."""
    stray = "oom_reaper: reaped process 77 (x), now anon-rss:0kB, file-rss:0kB, shmem-rss:0kB"
    text = "\n".join([HEADER, stray, *(x.format(rss=4000) for x in TABLE),
                      KILL_54.format(pid=200, anon=16000, file=0, shmem=0, adj=100)])
    result = parse_report(text)
    e = result.snapshot.oom_event
    assert (e.killed_pid, e.killed_comm) == (200, "big")
    assert not any("oom_reaper" in w for w in result.warnings), result.warnings


def test_a_garbled_stats_cgroup_is_left_out():
    result = parse_report("\n".join([HEADER, "Memory cgroup stats for t/: rss:4KB", "Memory limit reached of cgroup /t",
                                     KILL_51.format(pid=5, anon=4)]))
    assert [c.path for c in result.snapshot.cgroups] == ["/", "/t"]
