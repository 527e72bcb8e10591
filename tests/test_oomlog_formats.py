"""Every report format the research describes, read into what the report says (expected values by hand)."""

from __future__ import annotations

from pathlib import Path

import pytest

from oomtui.oomlog import find_reports, parse_report
from oomtui.replay import replay

FIXTURES = Path(__file__).parent / "fixtures" / "oomlogs"
KIB, PAGE = 1024, 4096


def load(name: str) -> str:
    return (FIXTURES / name).read_text()


def test_61_global_report_gives_host_budget_and_sizes_without_split():
    result = parse_report(load("v61_global_dmesg.txt"))
    s, e = result.snapshot, result.snapshot.oom_event
    assert s.source == "kernel-log"
    assert (e.kind, e.domain, e.killed_pid, e.killed_comm) == ("global", "/", 473206, "doxygen")
    assert s.host.kernel == "6.1.1-arch1-1"
    assert s.host.page_size == PAGE
    assert s.host.mem_total == (4115400 - 97082) * PAGE
    assert s.host.swap_total == 25165820 * KIB
    assert e.total_pages == 4115400 - 97082 + 25165820 // 4
    doxygen = s.process(473206)
    assert doxygen.cgroup == "/user.slice/user-504.slice/session-3.scope"
    assert (doxygen.rss_anon, doxygen.rss_file, doxygen.rss_shmem) == (None, None, None)
    assert doxygen.rss_total == 2308581 * PAGE
    assert doxygen.swap == 5225427 * PAGE
    assert doxygen.pgtables == 60686336
    assert doxygen.uid == 504
    udev = s.process(412)
    assert (udev.oom_score_adj, udev.cgroup) == (-1000, "/")
    assert [p.pid for p in s.processes] == [412, 980, 473206]
    assert "Out of memory: Killed process 473206" in e.raw
    assert "oom_reaper: reaped process 473206" in e.raw
    assert result.warnings == []
    assert replay(s).kernel_agrees is True


def test_515_memcg_v2_with_multiline_stat_and_a_tie_the_table_order_decides():
    result = parse_report(load("v515_memcg_v2_dmesg_T_de.txt"))
    s, e = result.snapshot, result.snapshot.oom_event
    assert (e.kind, e.domain, e.killed_pid) == ("memcg", "/lxc/39004", 3902942)
    assert s.host.cgroup_mode == "v2"
    assert s.host.kernel == "5.15.108-1-pve"
    domain = s.cgroup("/lxc/39004")
    assert (domain.memory_current, domain.memory_max) == (204800 * KIB, 204800 * KIB)
    assert (domain.swap_current, domain.swap_max) == (0, 0)
    assert dict(domain.stat) == {"anon": 203423744, "file": 688128, "kernel_stack": 5242880, "shmem": 0}
    assert e.total_pages == 204800 // 4  # swap limit 0: the limit alone
    assert s.process(3902001).comm == "nginx: master"
    assert s.process(3902942).cgroup == "/lxc/39004/ns/system.slice/docker-a59e.scope"
    rep = replay(s)
    assert rep.kernel_agrees is True  # both php-fpm score 20073 pages; 5.3+ keeps the last scanned


def test_419_memcg_v1_one_line_stats_threads_and_a_sacrificed_child():
    result = parse_report(load("v419_memcg_v1_syslog.txt"))
    s, e = result.snapshot, result.snapshot.oom_event
    assert (e.kind, e.domain, e.killed_pid, e.killed_comm) == ("memcg", "/docker/abc", 3897, "helper")
    assert s.host.hostname == "server01"
    assert s.host.cgroup_mode == "v1"
    assert [p.pid for p in s.processes] == [3890, 3896, 3897]  # thread 3898 of 3896 is one process
    assert s.process(3896).cgroup == "/docker/abc/worker"  # "Task in" names the selected task
    assert s.cgroup("/docker/abc/worker").stat["rss"] == 96768 * KIB
    domain = s.cgroup("/docker/abc")
    assert domain.memory_max == 102400 * KIB
    assert domain.swap_max is None  # memory+swap unlimited
    assert domain.swap_current == 0
    assert result.chosen_pid == 3896
    rep = replay(s)
    assert rep.kernel_agrees is True
    assert "sacrifice child" in rep.explanation and "3896" in rep.explanation


def test_310_nr_ptes_table_and_page_counts():
    result = parse_report(load("v310_global_rhel7.txt"))
    s, e = result.snapshot, result.snapshot.oom_event
    assert (e.kind, e.killed_pid) == ("global", 2188)
    assert s.process(2188).pgtables == 459 * PAGE
    assert s.process(2188).rss_total == 218062 * PAGE
    assert s.host.kernel == "3.10.0-1160.el7.x86_64"
    assert e.total_pages == 262014 - 4014
    assert s.host.swap_total == 0
    assert result.era.maximum == (4, 14)
    assert replay(s).kernel_agrees is True


def test_backport_mix_replays_with_the_rules_its_features_show():
    result = parse_report(load("backport_memcg_clamp.txt"))
    s, e = result.snapshot, result.snapshot.oom_event
    assert (e.kind, e.domain, e.killed_pid) == ("memcg", "/kubepods/podf1c2", 5740)
    assert result.era.release == "5.1"
    rep = replay(s)
    # both score below zero; ≤5.8 clamps them to 1 and ≤5.2 keeps the first scanned: pause
    assert rep.kernel_release == "5.1"
    assert "backport" in rep.era_note
    assert rep.kernel_agrees is True


def test_68_group_kill_names_the_group_and_every_process_killed():
    result = parse_report(load("v68_group_journal_iso.txt"))
    s, e = result.snapshot, result.snapshot.oom_event
    path = "/kubepods.slice/pod1/cri-a.scope"
    assert (e.kind, e.domain, e.killed_pid, e.group_killed_pids) == ("memcg", path, 68061, (68050,))
    assert s.cgroup(path).oom_group is True
    stress = s.process(68061)
    assert (stress.rss_anon, stress.rss_file, stress.rss_shmem) == (721174 * PAGE, 72 * PAGE, 0)
    assert s.taken_at == 1750790983.0
    assert e.total_pages == 3145728 // 4
    rep = replay(s)
    assert rep.kernel_agrees is True
    kernel = next(r for r in rep.policies if r.policy == "kernel")
    assert set(kernel.decision.killed_pids) == {68061, 68050}  # pause has adj -1000 and is spared


def test_16k_pages_from_the_buddy_lists_and_a_ratelimited_second_report():
    text = load("v612_global_16k_rsyslog.txt")
    infos = find_reports(text)
    assert [(i.kind, i.victim_pid) for i in infos] == [("global", 1888), ("global", 1999)]
    first = parse_report(text, 0).snapshot
    assert first.host.page_size == 16384
    assert first.process(1888).rss_anon == 943538 * 16384
    assert first.oom_event.total_pages == 523264 - 13000 + 2097136 * KIB // 16384
    second = parse_report(text)
    assert second.snapshot.oom_event.killed_pid == 1999
    victim = second.snapshot.process(1999)
    assert victim.rss_anon == 15096608 * KIB and victim.pgtables == 16960 * KIB
    assert "no task table: the report lists no processes (ratelimited, or vm.oom_dump_tasks=0)" in second.warnings
    assert "no 'invoked oom-killer' header (ratelimited or cut): allocation details are missing" in second.warnings


def test_real_618_kmsg_record_format():
    s = parse_report(load("v618_memcg_v1_kmsg.txt")).snapshot
    e = s.oom_event
    assert (e.kind, e.domain, e.killed_pid) == ("memcg", "/process_api/own/oomtui-test-a", 6661)
    assert s.host.kernel == "6.18.44-fc-v657"
    assert s.process(6661).oom_score_adj == 500
    assert s.cgroup(e.domain).stat["rss"] == 66961408
    assert replay(s).kernel_agrees is True


def test_truncated_mid_table_imports_with_a_warning_naming_what_is_missing():
    lines = load("v61_global_dmesg.txt").splitlines()
    cut = next(i for i, x in enumerate(lines) if "firefox" in x) + 1
    result = parse_report("\n".join(lines[:cut]))
    assert [p.pid for p in result.snapshot.processes] == [412, 980]
    assert result.snapshot.oom_event.killed_pid is None
    assert ("the report ends inside the task table after 2 row(s): later tasks and the kill line are missing, "
            "so the victim is unknown") in result.warnings


def test_a_garbled_row_is_skipped_and_counted():
    text = load("v61_global_dmesg.txt").replace("   250000    52000", "   250000    5x000")
    result = parse_report(text)
    assert 980 not in {p.pid for p in result.snapshot.processes}
    assert ("1 task table row(s) could not be read and are missing (task 980: a column is not a number)"
            in result.warnings)


@pytest.mark.parametrize("name", sorted(p.name for p in FIXTURES.iterdir()))
def test_every_fixture_survives_the_snapshot_format(name, tmp_path):
    from oomtui import snapshot

    s = parse_report(load(name)).snapshot
    snapshot.save(s, tmp_path / "s.json.gz")
    again = snapshot.load(tmp_path / "s.json.gz")
    assert snapshot.to_dict(again) == snapshot.to_dict(s)


def test_early_50_summary_continued_in_a_second_record_and_sysrq():
    text = "\n".join([
        "kworker/0:2 invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=-1, oom_score_adj=0",
        "oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=/,mems_allowed=0",
        ",oom_memcg=/batch,task_memcg=/batch/job,task=job,pid=77,uid=0",
        "Memory cgroup out of memory: Killed process 77 (job) total-vm:100kB, anon-rss:40kB, file-rss:0kB, "
        "shmem-rss:0kB",
    ])
    result = parse_report(text)
    e = result.snapshot.oom_event
    assert (e.kind, e.domain, e.killed_pid) == ("memcg", "/batch", 77)
    assert result.snapshot.process(77).cgroup == "/batch/job"
    assert "triggered by sysrq-f (order=-1), not by a failed allocation" in result.warnings


def test_rhel6_kill_line_and_memory_limit_reached():
    text = "\n".join([
        "java invoked oom-killer: gfp_mask=0xd0, order=0, oom_adj=0, oom_score_adj=0",
        "Memory limit reached of cgroup /db",
        "memory: usage 2048kB, limit 2048kB, failcnt 1",
        "Memory cgroup out of memory: Kill process 215701 (java) score 900 or sacrifice child",
        "Killed process 215701, UID 679, (java) total-vm:11017300kB, anon-rss:1000kB, file-rss:24kB",
    ])
    s = parse_report(text).snapshot
    assert (s.oom_event.kind, s.oom_event.domain, s.oom_event.killed_pid) == ("memcg", "/db", 215701)
    java = s.process(215701)
    assert (java.uid, java.rss_anon, java.rss_file, java.rss_shmem) == (679, 1000 * KIB, 24 * KIB, None)


def test_oom_kill_allocating_task_and_panic_on_oom_are_read_from_the_report():
    text = load("v61_global_dmesg.txt")
    plain = parse_report(text).snapshot.host.sysctl
    assert (plain.oom_kill_allocating_task, plain.panic_on_oom) == (None, None)  # not shown: unknown, not set
    memcg = parse_report(load("v618_memcg_v1_kmsg.txt")).snapshot.host.sysctl  # "Memory cgroup out of memory: …"
    assert memcg.oom_kill_allocating_task is None
    s = parse_report(text.replace("Out of memory: Killed", "Out of memory (oom_kill_allocating_task): Killed")).snapshot
    assert s.host.sysctl.oom_kill_allocating_task == 1
    rep = replay(s)
    assert rep.kernel_agrees is True and "allocating task" in rep.explanation
    panic_line = "Kernel panic - not syncing: Out of memory: system-wide panic_on_oom is enabled"
    panic = "\n".join([*text.splitlines()[:30], panic_line])
    result = parse_report(panic)
    assert result.snapshot.host.sysctl.panic_on_oom == 1
    assert result.snapshot.oom_event.killed_pid is None
    assert "the kernel panicked (system-wide panic_on_oom) instead of killing" in result.warnings


RHEL6_GLOBAL = """\
java invoked oom-killer: gfp_mask=0x201da, order=0, oom_adj=0, oom_score_adj=0
java cpuset=/ mems_allowed=0
Pid: 28656, comm: java Not tainted 2.6.32-431.el6.x86_64 #1
Mem-Info:
Free swap  = 0kB
Total swap = 0kB
2097151 pages RAM
81869 pages reserved
[ pid ]   uid  tgid total_vm      rss cpu oom_adj oom_score_adj name
[  549]     0   549     2662      118   1     -17         -1000 udevd
[ 1185]     0  1185    62991     1252   0       0             0 rsyslogd
[28656]   602 28656   965531   437298   0       0             0 java
Out of memory: Kill process 28656 (java) score 853 or sacrifice child
Killed process 28656, UID 602, (java) total-vm:3862124kB, anon-rss:1749168kB, file-rss:24kB
"""


def test_rhel6_table_with_cpu_and_oom_adj_columns_keeps_every_row():
    """2.6.32–3.x print oom_adj (-17 = never kill) beside oom_score_adj: a negative oom_adj is no garbled size."""
    result = parse_report(RHEL6_GLOBAL)
    s = result.snapshot
    assert [(p.pid, p.comm, p.oom_score_adj) for p in s.processes] == [
        (549, "udevd", -1000), (1185, "rsyslogd", 0), (28656, "java", 0)]
    java = s.process(28656)
    assert (java.uid, java.rss_total, java.pgtables, java.swap) == (602, 437298 * PAGE, None, None)
    # no buddy lists: the kill line's 1749192 kB over the table's 437298 pages says 4 kB pages
    assert s.host.page_size == PAGE
    assert s.host.mem_total == (2097151 - 81869) * PAGE
    assert (s.host.kernel, s.oom_event.kind, s.oom_event.killed_pid) == ("2.6.32-431.el6.x86_64", "global", 28656)
    assert result.warnings == []


def test_2632_table_without_oom_score_adj_reads_oom_adj():
    """Before 2.6.36 the table has only oom_adj: -17 is OOM_DISABLE, 15 the most, the rest scale as the kernel does."""
    lines = RHEL6_GLOBAL.replace(" oom_score_adj name", " name").splitlines()
    rows = ["[  549]     0   549     2662      118   1     -17 udevd",
            "[  600]     0   600     2662      118   1      15 batch",
            "[  601]     0   601     2662      118   1      -5 sshd",
            "[28656]   602 28656   965531   437298   0       3 java"]
    text = "\n".join([*lines[:9], *rows, *lines[12:]])
    result = parse_report(text)
    assert [(p.pid, p.oom_score_adj) for p in result.snapshot.processes] == [
        (549, -1000), (600, 1000), (601, -294), (28656, 176)]
    assert result.warnings == []


def test_419_kill_process_naming_a_thread_puts_its_process_in_the_task_cgroup():
    """4.19 scans a memcg thread by thread, so 'Kill process' may name a thread; 'Task in' is its process's cgroup."""
    text = load("v419_memcg_v1_syslog.txt").replace("Kill process 3896 (java)", "Kill process 3898 (java)")
    result = parse_report(text)
    s = result.snapshot
    assert s.process(3896).cgroup == "/docker/abc/worker"
    assert (s.process(3897).cgroup, s.oom_event.killed_pid, result.chosen_pid) == ("/docker/abc", 3897, 3898)
