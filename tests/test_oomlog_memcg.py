"""Memory cgroup OOM reports: the domain, v1 or v2, the limits and swap, oom.group (kernel-oom.md §5.4, §5.6).

Hand-made reports in the shapes the kernels print, each with its expected
values worked out by hand from the lines.
"""

from __future__ import annotations

import pytest

from oomtui.oomlog import parse_report

KIB, PAGE = 1024, 4096
UNLIMITED = "9007199254740988"

RHEL6_MEMCG = """\
java invoked oom-killer: gfp_mask=0xd0, order=0, oom_adj=0, oom_score_adj=0
java cpuset=/ mems_allowed=0
Pid: 7001, comm: java Not tainted 2.6.32-754.el6.x86_64 #1
Call Trace:
Task in /db/job killed as a result of limit of /db
memory: usage 4096kB, limit 4096kB, failcnt 12
memory+swap: usage 7168kB, limit 12288kB, failcnt 0
[ pid ]   uid  tgid total_vm      rss cpu oom_adj oom_score_adj name
[ 7000]    27  7000    20000      200   0       0             0 mysqld_safe
[ 7001]    27  7001    90000      824   1       0           300 java
Memory cgroup out of memory: Kill process 7001 (java) score 900 or sacrifice child
Killed process 7001, UID 27, (java) total-vm:360000kB, anon-rss:3280kB, file-rss:16kB
"""


def test_v1_memcg_before_kmem_accounting_shows_memory_and_swap():
    """2.6.32 prints memory and memory+swap but no kmem line: still v1, and swap is memsw less memory."""
    result = parse_report(RHEL6_MEMCG)
    s, e = result.snapshot, result.snapshot.oom_event
    assert (e.kind, e.domain, e.killed_pid, e.killed_comm) == ("memcg", "/db", 7001, "java")
    assert s.host.cgroup_mode == "v1"
    db = s.cgroup("/db")
    assert (db.memory_current, db.memory_max) == (4096 * KIB, 4096 * KIB)
    assert (db.swap_current, db.swap_max) == (3072 * KIB, 8192 * KIB)
    assert [(p.pid, p.cgroup, p.oom_score_adj, p.uid) for p in s.processes] == [
        (7000, "/db", 0, 27), (7001, "/db/job", 300, 27)]
    assert [c.path for c in s.cgroups] == ["/", "/db", "/db/job"]
    assert e.total_pages is None  # the swap part of the limit is not known to be nothing
    assert s.host.page_size == PAGE  # 3296 kB in the kill line over 824 pages
    assert result.chosen_pid == 7001
    assert result.warnings == []


def test_a_memory_and_swap_line_alone_shows_v1_when_no_cgroup_is_named():
    """The "Task in" line lost: the domain is unknown, but 2.6.32's memory+swap: line (no kmem: yet) shows v1."""
    result = parse_report("\n".join(x for x in RHEL6_MEMCG.splitlines() if not x.startswith("Task in")))
    s = result.snapshot
    assert (s.oom_event.kind, s.oom_event.domain, s.host.cgroup_mode) == ("memcg", "/", "v1")
    assert result.warnings == ["memory cgroup OOM whose cgroup the report does not name; shown as /"]


def test_memsw_without_swap_accounting_and_below_the_memory_limit():
    """memsw usage 0: swap accounting is off (swap unknown); a memsw limit under the memory limit: no swap."""
    text = RHEL6_MEMCG.replace("memory+swap: usage 7168kB, limit 12288kB", "memory+swap: usage 0kB, limit 2048kB")
    db = parse_report(text).snapshot.cgroup("/db")
    assert (db.swap_current, db.swap_max) == (None, 0)
    text = RHEL6_MEMCG.replace("memory+swap: usage 7168kB, limit 12288kB",
                               f"memory+swap: usage 4096kB, limit {UNLIMITED}kB")
    db = parse_report(text).snapshot.cgroup("/db")
    assert (db.swap_current, db.swap_max) == (0, None)


def test_an_unlimited_memory_limit_is_no_limit():
    text = RHEL6_MEMCG.replace("memory: usage 4096kB, limit 4096kB", f"memory: usage 4096kB, limit {UNLIMITED}kB")
    db = parse_report(text).snapshot.cgroup("/db")
    assert (db.memory_current, db.memory_max) == (4096 * KIB, None)


GROUP_419_V2 = f"""\
stress invoked oom-killer: gfp_mask=0x6000c0(GFP_KERNEL), nodemask=(null), order=0, oom_score_adj=0
CPU: 1 PID: 900 Comm: stress Not tainted 4.19.0-21-amd64 #1 Debian 4.19.249-2
Task in /pods/a/c1 killed as a result of limit of /pods/a
memory: usage 10240kB, limit 10240kB, failcnt 5
memory+swap: usage 10240kB, limit {UNLIMITED}kB, failcnt 0
kmem: usage 100kB, limit {UNLIMITED}kB, failcnt 0
Tasks state (memory values in pages):
[  pid  ]   uid  tgid total_vm      rss pgtables_bytes swapents oom_score_adj name
[    800]     0   800     1000      100    32768        0             0 sh
[    900]     0   900    50000     2400    65536        0             0 stress
[    901]     0   900    50000     2400    65536        0             0 stress
Memory cgroup out of memory: Kill process 900 (stress) score 940 or sacrifice child
Killed process 900 (stress) total-vm:200000kB, anon-rss:9600kB, file-rss:0kB, shmem-rss:0kB
Tasks in /pods/a are going to be killed due to memory.oom.group set
Killed process 800 (sh) total-vm:4000kB, anon-rss:400kB, file-rss:0kB, shmem-rss:0kB
Killed process 901 (stress) total-vm:200000kB, anon-rss:9600kB, file-rss:0kB, shmem-rss:0kB
"""


def test_a_group_kill_means_v2_even_where_4_19_prints_v1_style_usage_lines():
    """4.19 prints memory+swap and kmem on v2 too; only v2 has memory.oom.group. A thread's kill is its process's."""
    result = parse_report(GROUP_419_V2)
    s, e = result.snapshot, result.snapshot.oom_event
    assert s.host.cgroup_mode == "v2"
    assert (e.kind, e.domain, e.killed_pid, e.group_killed_pids) == ("memcg", "/pods/a", 900, (800,))
    assert s.cgroup("/pods/a").oom_group is True
    assert s.cgroup("/pods/a/c1").oom_group is None
    assert [(p.pid, p.cgroup) for p in s.processes] == [(800, "/pods/a"), (900, "/pods/a/c1")]
    assert s.process(900).pgtables == 65536
    assert result.warnings == []


def test_oom_group_below_the_domain_places_its_killed_processes_there():
    """Only the processes the group kill names move to its cgroup (a listed thread by its process); the rest,
    like a -1000 process the kill spared, stay in the domain."""
    text = (GROUP_419_V2.replace("Tasks in /pods/a are", "Tasks in /pods/a/c2 are")
            .replace("[    800]     0   800", "[    801]     0   800")
            .replace("[    900]     0   900    50000", "[    700]     0   700      900      100    32768        0"
                     "         -1000 pause\n[    900]     0   900    50000"))
    s = parse_report(text).snapshot
    assert [(p.pid, p.cgroup) for p in s.processes] == [(800, "/pods/a/c2"), (700, "/pods/a"), (900, "/pods/a/c1")]
    assert (s.cgroup("/pods/a/c2").oom_group, s.cgroup("/pods/a").oom_group) == (True, None)


def test_a_ratelimited_table_leaves_a_4_19_victim_in_the_task_cgroup():
    """No table: the victim comes from its kill line, in the cgroup 'Task in' names when it is the task selected."""
    text = "\n".join([
        "Task in /pods/a/c1 killed as a result of limit of /pods/a",
        "memory: usage 10240kB, limit 10240kB, failcnt 5",
        "Memory cgroup out of memory: Kill process 900 (stress) score 940 or sacrifice child",
        "Killed process 900 (stress) total-vm:200000kB, anon-rss:9600kB, file-rss:0kB, shmem-rss:0kB",
    ])
    s = parse_report(text).snapshot
    assert [(p.pid, p.cgroup, p.rss_anon) for p in s.processes] == [(900, "/pods/a/c1", 9600 * KIB)]


def test_paths_that_are_not_cgroup_paths_are_named_and_ignored():
    text = (GROUP_419_V2.replace("Task in /pods/a/c1 killed", "Task in pods//c1 killed")
            .replace("Tasks in /pods/a are", "Tasks in /pods/a/ are"))
    result = parse_report(text)
    s = result.snapshot
    assert s.process(900).cgroup == "/pods/a"
    assert s.host.cgroup_mode == "v1"  # no group kill is left to show v2
    assert "task cgroup 'pods//c1' is not a cgroup path; ignored" in result.warnings
    assert "oom.group cgroup '/pods/a/' is not a cgroup path; ignored" in result.warnings


SUMMARY_ONLY = """\
oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=/,mems_allowed=0,oom_memcg={oom},task_memcg={task},\
task=job,pid=77,uid=0
Killed process 77 (job) total-vm:100kB, anon-rss:40kB, file-rss:0kB, shmem-rss:0kB"""


def test_the_constraint_alone_says_memcg_when_the_domain_path_is_garbled():
    result = parse_report(SUMMARY_ONLY.format(oom="batch", task="/batch/job"))
    s, e = result.snapshot, result.snapshot.oom_event
    assert (e.kind, e.domain, e.killed_pid) == ("memcg", "/", 77)
    assert s.process(77).cgroup == "/batch/job"
    assert s.host.cgroup_mode == "v1"  # the report names a memory cgroup below the root
    assert "oom_memcg 'batch' is not a cgroup path; ignored" in result.warnings
    assert "memory cgroup OOM whose cgroup the report does not name; shown as /" in result.warnings


def test_a_summary_naming_only_the_root_shows_no_cgroup_mode():
    s = parse_report(SUMMARY_ONLY.format(oom="/", task="/")).snapshot
    assert (s.oom_event.kind, s.oom_event.domain, s.host.cgroup_mode) == ("memcg", "/", "none")


USAGE = "memory: usage 2048kB, limit 2048kB, failcnt 3"
KILL_9 = "Killed process 9 (web) total-vm:100kB, anon-rss:2048kB, file-rss:0kB, shmem-rss:0kB"
SUMMARY_9 = "oom-kill:constraint=CONSTRAINT_{},nodemask=(null),cpuset=/,mems_allowed=0,{}"


@pytest.mark.parametrize(("lines", "domain"), [
    (["Task in /svc/web/w1 killed as a result of limit of /svc/web", USAGE, f"Memory cgroup out of memory: {KILL_9}"],
     "/svc/web"),
    ([USAGE, "Memory cgroup stats for /svc/web: cache:0KB rss:2048KB", f"Memory cgroup out of memory: {KILL_9}"],
     "/svc/web"),
    ([USAGE, SUMMARY_9.format("MEMCG", "oom_memcg=/svc/web")], "/svc/web"),
    ([SUMMARY_9.format("NONE", "global_oom,task_memcg=/svc/web/w1,task=web,pid=9,uid=0"), f"Out of memory: {KILL_9}"],
     "/"),
])
def test_a_named_memory_cgroup_shows_v1_when_the_usage_lines_are_lost(lines, domain):
    """No memory+swap:, kmem: or swap: line survived (ratelimited, or a summary cut short): a memory cgroup
    below the root that the report names, the victim's or the OOM domain, still shows the controller is on."""
    s = parse_report("\n".join(lines)).snapshot
    assert (s.oom_event.domain, s.host.cgroup_mode) == (domain, "v1")


def test_a_garbled_task_memcg_falls_back_to_the_domain():
    result = parse_report(SUMMARY_ONLY.format(oom="/batch", task="job"))
    assert result.snapshot.process(77).cgroup == "/batch"
    assert "task_memcg 'job' is not a cgroup path; ignored" in result.warnings


def test_memcg_domain_from_the_stats_line_when_nothing_else_names_it():
    text = "\n".join([
        "memory: usage 2048kB, limit 2048kB, failcnt 3",
        "Memory cgroup stats for /svc/web: cache:0KB rss:2048KB",
        "Memory cgroup out of memory: Killed process 9 (web) total-vm:100kB, anon-rss:2048kB, file-rss:0kB, "
        "shmem-rss:0kB",
    ])
    s = parse_report(text).snapshot
    assert (s.oom_event.kind, s.oom_event.domain) == ("memcg", "/svc/web")
    web = s.cgroup("/svc/web")
    assert (web.memory_max, dict(web.stat)) == (2048 * KIB, {"cache": 0, "rss": 2048 * KIB})


def test_a_memcg_kill_line_alone_is_a_memcg_oom_of_unknown_cgroup():
    result = parse_report("Memory cgroup out of memory: Killed process 9 (web) total-vm:100kB, anon-rss:2048kB, "
                          "file-rss:0kB, shmem-rss:0kB")
    e = result.snapshot.oom_event
    assert (e.kind, e.domain, e.killed_pid) == ("memcg", "/", 9)
    assert "memory cgroup OOM whose cgroup the report does not name; shown as /" in result.warnings


def test_memcg_budget_is_the_limit_when_swap_is_limited_to_nothing():
    v2 = "\n".join([
        "memory: usage 2kB, limit 2kB, failcnt 3",
        "swap: usage 0kB, limit {swap}kB, failcnt 0",
        "oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=/,mems_allowed=0,oom_memcg=/t,task_memcg=/t,"
        "task=x,pid=5,uid=0",
        "Memory cgroup out of memory: Killed process 5 (x) total-vm:100kB, anon-rss:0kB, file-rss:0kB, "
        "shmem-rss:0kB, UID:0 pgtables:4kB oom_score_adj:0",
    ])
    s = parse_report(v2.format(swap=0)).snapshot
    assert (s.host.cgroup_mode, s.oom_event.total_pages) == ("v2", 1)  # a 2 kB limit is still one page
    assert s.cgroup("/t").swap_max == 0
    s = parse_report(v2.format(swap=4096)).snapshot
    assert (s.oom_event.total_pages, s.cgroup("/t").swap_max) == (None, 4096 * KIB)
    s = parse_report(v2.format(swap=UNLIMITED)).snapshot
    assert (s.oom_event.total_pages, s.cgroup("/t").swap_max) == (None, None)
    s = parse_report(v2.format(swap=0).replace("limit 2kB", f"limit {UNLIMITED}kB")).snapshot
    assert (s.oom_event.total_pages, s.cgroup("/t").memory_max) == (None, None)  # no limit: the host's budget


def test_a_garbled_limit_cgroup_is_named_and_the_domain_unknown():
    result = parse_report(RHEL6_MEMCG.replace("limit of /db", "limit of db/"))
    assert (result.snapshot.oom_event.kind, result.snapshot.oom_event.domain) == ("memcg", "/")
    assert result.warnings[:2] == ["cgroup 'db/' is not a cgroup path; ignored",
                                   "memory cgroup OOM whose cgroup the report does not name; shown as /"]


def test_a_paste_that_stops_inside_the_memory_stat_dump_keeps_what_it_shows():
    result = parse_report("\n".join([
        "php invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=0",
        "memory: usage 8kB, limit 8kB, failcnt 1",
        "swap: usage 0kB, limit 0kB, failcnt 0",
        "Memory cgroup stats for /lxc/7:",
        "anon 4096",
        "file 0",
    ]))
    s = result.snapshot
    assert (s.oom_event.kind, s.oom_event.domain, s.oom_event.killed_pid) == ("memcg", "/lxc/7", None)
    assert dict(s.cgroup("/lxc/7").stat) == {"anon": 4096, "file": 0}
    assert "the report has no kill line: the victim is unknown" in result.warnings


def test_2_6_memcg_report_with_mem_info_and_no_kill_line_is_still_a_memcg_oom():
    """2.6.3x print the global Mem-Info after the memcg lines too; ratelimiting may eat the kill lines."""
    lines = RHEL6_MEMCG.splitlines()
    result = parse_report("\n".join([*lines[:7], "Mem-Info:", "Total swap = 0kB", "1000 pages RAM", *lines[7:10]]))
    e = result.snapshot.oom_event
    assert (e.kind, e.domain, e.killed_pid) == ("memcg", "/db", None)
    assert [p.pid for p in result.snapshot.processes] == [7000, 7001]


def test_a_4_19_report_cut_to_task_in_and_an_unprefixed_kill_is_a_memcg_oom():
    result = parse_report("\n".join([
        "Task in /pods/a/c1 killed as a result of limit of /pods/a",
        "Killed process 900 (stress) total-vm:200000kB, anon-rss:9600kB, file-rss:0kB, shmem-rss:0kB",
    ]))
    s = result.snapshot
    assert (s.oom_event.kind, s.oom_event.domain, s.process(900).cgroup) == ("memcg", "/pods/a", "/pods/a/c1")
    assert s.host.hostname == ""  # dmesg names no host


def test_a_memory_usage_line_alone_makes_a_memcg_oom_of_unknown_cgroup():
    result = parse_report("\n".join([
        "memory: usage 2048kB, limit 2048kB, failcnt 3",
        "Killed process 9 (web) total-vm:100kB, anon-rss:2048kB, file-rss:0kB, shmem-rss:0kB",
    ]))
    assert (result.snapshot.oom_event.kind, result.snapshot.oom_event.domain) == ("memcg", "/")
    assert result.snapshot.cgroup("/").memory_max is None  # the limit is the unnamed cgroup's, not the root's
    assert "memory cgroup OOM whose cgroup the report does not name; shown as /" in result.warnings


def test_swap_in_use_from_the_swap_and_memsw_lines():
    v2 = "\n".join(["memory: usage 2048kB, limit 4096kB, failcnt 3", "swap: usage 100kB, limit 4096kB, failcnt 0",
                    "Memory cgroup stats for /t:",
                    "Memory cgroup out of memory: Killed process 5 (x) total-vm:100kB, anon-rss:0kB, file-rss:0kB, "
                    "shmem-rss:0kB"])
    t = parse_report(v2).snapshot.cgroup("/t")
    assert (t.memory_current, t.swap_current, t.swap_max) == (2048 * KIB, 100 * KIB, 4096 * KIB)
    text = RHEL6_MEMCG.replace("memory: usage 4096kB", "memory: usage 3072kB").replace(
        "memory+swap: usage 7168kB", "memory+swap: usage 3584kB")
    db = parse_report(text).snapshot.cgroup("/db")
    assert (db.memory_current, db.swap_current) == (3072 * KIB, 512 * KIB)


def test_a_group_kill_of_a_process_the_table_does_not_list_is_counted():
    text = GROUP_419_V2 + ("Killed process 950 (sh) total-vm:4000kB, anon-rss:400kB, file-rss:0kB, "
                           "shmem-rss:0kB\n")
    assert parse_report(text).snapshot.oom_event.group_killed_pids == (800, 950)
