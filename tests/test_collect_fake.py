"""The collector on fake v2, v1 and hybrid trees: values, nulls, failures, order, trend."""

import os
import shutil

import pytest

from oomtui.collect import collect_snapshot
from oomtui.model import Pressure, PressureLine
from oomtui.snapshot import dumps, from_dict, parse_json
from tests.support.fakehost import BTIME, TICKS, FakeHost, FakeProc, failing

MiB = 1 << 20


def test_v2_cgroups_and_processes(tmp_path):
    host = FakeHost(tmp_path, "v2")
    host.add_cgroup("/app", {"memory.max": "536870912\n", "memory.high": "268435456", "memory.low": "4096",
                             "memory.oom.group": "1", "memory.swap.max": "0", "memory.swap.current": "12288"})
    host.add_cgroup("/app/web")
    host.add_process(FakeProc(pid=42, comm="web (x) y", cgroup="/app/web", adj=500, score=777, ppid=7, uid=33,
                              rss_anon_kb=2048, swap_kb=16, pte_kb=12, starttime=250, cmdline=("nginx", "-g", "")))
    s = host.collector().collect()

    assert s.host.cgroup_mode == "v2"
    assert [c.path for c in s.cgroups] == ["/", "/app", "/app/web"]
    app = s.cgroup("/app")
    assert (app.memory_max, app.memory_high, app.memory_low, app.memory_min) == (512 * MiB, 256 * MiB, 4096, 0)
    assert (app.swap_current, app.swap_max, app.oom_group, app.populated) == (12288, 0, True, True)
    assert app.stat == {"anon": 4096, "file": 8192, "pgscan": 5}
    assert app.events["oom_kill"] == 0 and set(app.events) >= {"low", "high", "max", "oom", "oom_group_kill"}
    assert app.pressure == Pressure(PressureLine(1.5, 0.75, 0.1, 123456), PressureLine(0.5, 0.25, 0.05, 65432))
    assert app.owner_uid == os.stat(host.cgroup_dir("/app")).st_uid
    assert app.swappiness is None
    web = s.cgroup("/app/web")
    assert web.memory_max is None and web.memory_high is None and web.swap_max is None  # "max"

    p = s.process(42)
    assert (p.comm, p.cgroup, p.ppid, p.uid) == ("web (x) y", "/app/web", 7, 33)
    assert p.cmdline == ("nginx", "-g", "")
    assert (p.rss_anon, p.rss_file, p.rss_shmem, p.swap, p.pgtables) == (2048 * 1024, 50 * 1024, 4 * 1024,
                                                                         16 * 1024, 12 * 1024)
    # oom_score by the kernel's formula (fake osrelease 6.1), not the file's 777: totalpages is
    # (16384000 + 2048000) kB / 4 KiB = 4608000, badness 532 + 500 × 4608 pages
    assert (p.oom_score_adj, p.oom_score, p.kernel_thread) == (500, (1000 + 2304532 * 1000 // 4608000) * 2 // 3, False)
    assert p.start_time == pytest.approx(BTIME + 250 / TICKS)


def test_v2_snapshot_round_trips_through_the_file_format(tmp_path):
    host = FakeHost(tmp_path, "v2")
    host.add_cgroup("/a")
    host.add_process(FakeProc(pid=5, cgroup="/a"))
    s = host.collector().collect()
    again = from_dict(parse_json(dumps(s), "x"))
    assert dumps(again) == dumps(s)
    assert again.host.hostname == "fakehost" and again.host.kernel == "6.1.0-fake"
    assert again.host.mem_total == 16384000 * 1024 and again.host.swap_free == 1024000 * 1024
    assert again.host.sysctl.overcommit_memory == 1
    assert again.host.psi.full.total == 65432


def test_v1_cgroups_limits_swap_and_oom_control(tmp_path):
    host = FakeHost(tmp_path, "v1")
    host.add_cgroup("/docker", {"memory.limit_in_bytes": "1073741824", "memory.usage_in_bytes": "104857600",
                                "memory.memsw.usage_in_bytes": "115343360",
                                "memory.memsw.limit_in_bytes": "2147483648", "memory.swappiness": "10",
                                "memory.oom_control": "oom_kill_disable 1\nunder_oom 1\noom_kill 3\n"})
    host.add_process(FakeProc(pid=9, cgroup="/docker"))
    s = host.collector().collect()

    assert s.host.cgroup_mode == "v1"
    d = s.cgroup("/docker")
    assert (d.memory_current, d.memory_max) == (100 * MiB, 1024 * MiB)
    assert (d.swap_current, d.swap_max) == (10 * MiB, 1024 * MiB)
    assert d.events == {"oom_kill": 3, "under_oom": 1}
    assert d.swappiness == 10
    assert d.oom_group is None and d.populated is None and d.pressure is None and d.memory_high is None
    assert d.stat["total_rss"] == 4096
    root = s.cgroup("/")
    assert root.memory_max is None and root.swap_max is None  # the huge "unlimited" number
    assert s.process(9).cgroup == "/docker"


def test_v1_without_swap_accounting(tmp_path):
    host = FakeHost(tmp_path, "v1")
    host.add_cgroup("/a", {"memory.memsw.usage_in_bytes": None, "memory.memsw.limit_in_bytes": None})
    c = host.collector().collect().cgroup("/a")
    assert c.swap_current is None and c.swap_max is None
    assert c.memory_current == MiB


def test_hybrid_follows_the_v1_memory_hierarchy(tmp_path):
    host = FakeHost(tmp_path, "hybrid")
    host.add_cgroup("/system.slice/db.service", {"memory.limit_in_bytes": "268435456"})
    host.add_process(FakeProc(pid=30, cgroup="/system.slice/db.service"))
    host.add_process(FakeProc(pid=31, cgroup="/system.slice/db.service", listed=False))
    s = host.collector().collect()
    assert s.host.cgroup_mode == "hybrid"
    assert [c.path for c in s.cgroups] == ["/", "/system.slice", "/system.slice/db.service"]
    assert s.cgroup("/system.slice/db.service").memory_max == 256 * MiB
    # one from cgroup.procs, one from the `memory` line of /proc/PID/cgroup
    assert s.process(30).cgroup == s.process(31).cgroup == "/system.slice/db.service"


def test_no_memory_controller(tmp_path):
    host = FakeHost(tmp_path, "none")
    host.add_process(FakeProc(pid=3))
    s = host.collector().collect()
    assert s.host.cgroup_mode == "none"
    assert [c.path for c in s.cgroups] == ["/"]
    assert s.process(3).cgroup == "/"


def test_unlisted_process_found_from_its_cgroup_file_v2(tmp_path):
    host = FakeHost(tmp_path, "v2")
    host.add_cgroup("/a/b")
    host.add_process(FakeProc(pid=8, cgroup="/a/b", listed=False))
    host.add_process(FakeProc(pid=9, cgroup="/gone/meanwhile", listed=False))
    s = host.collector().collect()
    assert s.process(8).cgroup == "/a/b"
    assert s.process(9).cgroup == "/"  # nearest cgroup the snapshot lists


def test_v2_children_without_the_memory_controller_fold_into_their_parent(tmp_path):
    host = FakeHost(tmp_path, "v2")
    host.add_cgroup("/svc", {"cgroup.subtree_control": "pids\n"})
    host.add_cgroup("/svc/worker")
    host.add_process(FakeProc(pid=11, cgroup="/svc/worker"))
    s = host.collector().collect()
    assert [c.path for c in s.cgroups] == ["/", "/svc"]
    assert s.process(11).cgroup == "/svc"


def test_missing_files_are_null(tmp_path):
    host = FakeHost(tmp_path, "v2")
    host.add_cgroup("/a", {name: None for name in ("memory.current", "memory.swap.current", "memory.swap.max",
                                                   "memory.stat", "memory.pressure", "cgroup.events",
                                                   "memory.oom.group")})
    host.add_process(FakeProc(pid=4, cgroup="/a", rss_anon_kb=None, flags=0x00200040, cmdline=()))
    (host.proc / "meminfo").unlink()
    (host.proc / "pressure" / "memory").unlink()
    s = host.collector().collect()
    a = s.cgroup("/a")
    assert (a.memory_current, a.swap_current, a.swap_max, a.oom_group, a.populated, a.pressure) == (None,) * 6
    assert a.stat == {}
    p = s.process(4)
    assert p.kernel_thread and p.cmdline == ()
    assert (p.rss_anon, p.rss_file, p.swap, p.pgtables) == (None,) * 4
    assert s.host.mem_total is None and s.host.psi is None


def test_permission_errors_give_nulls_and_never_raise(tmp_path):
    host = FakeHost(tmp_path, "v1")
    host.add_cgroup("/locked")
    host.add_process(FakeProc(pid=21, cgroup="/locked", adj=-500))
    host.add_process(FakeProc(pid=22, cgroup="/locked", comm="hidden"))
    denied = ("/locked/memory.stat", "/locked/memory.usage_in_bytes", "/locked/cgroup.procs",
              "/21/status", "/21/cmdline", "/22/stat", "/22/oom_score", "/22/oom_score_adj", "/proc/stat",
              "/sys/vm/panic_on_oom")
    read = failing(lambda path: PermissionError(13, "denied", path) if path.endswith(denied) else None)
    s = host.collector(read=read).collect()

    locked = s.cgroup("/locked")
    assert locked.memory_current is None and locked.stat == {}
    assert locked.memory_max is None and locked.swappiness == 60
    p = s.process(21)
    assert p.cgroup == "/locked"  # from /proc/21/cgroup, since cgroup.procs was denied
    assert (p.uid, p.rss_anon, p.start_time) == (None, None, None)  # no btime: start unknown
    assert p.cmdline == () and p.oom_score_adj == -500 and p.ppid == 1
    hidden = s.process(22)
    assert (hidden.comm, hidden.ppid, hidden.start_time, hidden.uid) == ("", 1, None, 1000)  # ppid from status
    assert hidden.oom_score is None and hidden.oom_score_adj == 0  # the format has no null adj
    assert s.host.sysctl.panic_on_oom is None and s.host.sysctl.overcommit_memory == 1


def test_processes_vanishing_mid_read_are_skipped(tmp_path):
    host = FakeHost(tmp_path, "v2")
    for pid in (50, 51, 52, 53):
        host.add_process(FakeProc(pid=pid))

    def fails(path):
        if path.endswith("/50/stat"):  # exited after /proc was listed
            shutil.rmtree(host.proc / "50")
        if path.endswith("/51/status"):
            return ProcessLookupError(3, "No such process")
        if path.endswith("/52/oom_score_adj"):
            return FileNotFoundError(2, "gone")
        return None

    s = host.collector(read=failing(fails)).collect()
    assert [p.pid for p in s.processes] == [53]


def test_empty_stat_means_gone_and_junk_is_tolerated(tmp_path):
    host = FakeHost(tmp_path, "v2")
    host.add_process(FakeProc(pid=60))
    host.add_process(FakeProc(pid=61))
    host.add_process(FakeProc(pid=62))
    (host.proc / "60" / "stat").write_text("")
    (host.proc / "61" / "stat").write_text("61 (truncated")
    (host.proc / "62" / "oom_score").write_text("lots\n")
    host.write("cgroup v2/cgroup.procs", "62\nnot-a-pid\n")
    host.write("proc/meminfo", "MemTotal: many kB\nbroken\n")
    s = host.collector().collect()
    assert 60 not in {p.pid for p in s.processes}
    assert s.process(61).comm == "" and s.process(61).start_time is None
    assert s.process(62).oom_score is None
    assert s.host.mem_total is None


def test_vanished_cgroup_is_skipped(tmp_path):
    host = FakeHost(tmp_path, "v2")
    host.add_cgroup("/a/b")
    host.add_cgroup("/c")

    def fails(path):
        if path.endswith("/a/cgroup.procs"):
            shutil.rmtree(host.cgroup_dir("/a/b"))
        return None

    # siblings by inode: on the test's filesystem a reused inode may make /c's the lower
    siblings = sorted(("/a", "/c"), key=lambda path: os.stat(host.cgroup_dir(path)).st_ino)
    s = host.collector(read=failing(fails)).collect()
    assert [c.path for c in s.cgroups] == ["/", *siblings]


def test_a_process_moved_out_of_a_cgroup_removed_mid_sample_is_where_it_went(tmp_path):
    """Listed in /a/b, which is emptied and removed before its files are read: the snapshot must still load."""
    host = FakeHost(tmp_path, "v2")
    host.add_cgroup("/a/b")
    host.add_cgroup("/c")
    host.add_process(FakeProc(pid=70, cgroup="/a/b"))

    def fails(path):
        if path.endswith("/a/memory.max") and host.cgroup_dir("/a/b").exists():
            (host.proc / "70" / "cgroup").write_text("0::/c\n")
            shutil.rmtree(host.cgroup_dir("/a/b"))
        return None

    # siblings by inode: on the test's filesystem a reused inode may make /c's the lower
    siblings = sorted(("/a", "/c"), key=lambda path: os.stat(host.cgroup_dir(path)).st_ino)
    s = host.collector(read=failing(fails)).collect()
    assert [c.path for c in s.cgroups] == ["/", *siblings]
    assert s.process(70).cgroup == "/c"
    assert dumps(from_dict(parse_json(dumps(s), "x"))) == dumps(s)


def test_siblings_in_inode_order_parents_first(tmp_path):
    host = FakeHost(tmp_path, "v2")
    for name in ("zeta", "alpha", "mid", "alpha/inner", "zeta/inner"):
        host.add_cgroup(f"/{name}")
    s = host.collector().collect()
    paths = [c.path for c in s.cgroups]
    by_inode = sorted(["/zeta", "/alpha", "/mid"], key=lambda p: os.stat(host.cgroup_dir(p)).st_ino)
    assert [p for p in paths if p.count("/") == 1 and p != "/"] == by_inode
    for c in s.cgroups[1:]:
        assert paths.index(c.parent_path) < paths.index(c.path)


def test_xattrs_present_ones_only(tmp_path):
    host = FakeHost(tmp_path, "v2")
    d = host.add_cgroup("/pref")
    try:
        os.setxattr(d, "user.oomd_avoid", b"1")
        os.setxattr(d, "user.unrelated", b"x")
    except OSError as e:
        pytest.skip(f"this filesystem takes no user xattrs: {e}")
    s = host.collector().collect()
    assert s.cgroup("/pref").xattrs == {"user.oomd_avoid": "1"}
    assert s.cgroup("/").xattrs == {}


def psi_full(avg10: float) -> str:
    return f"some avg10=90.00 avg60=1.00 avg300=1.00 total=5\nfull avg10={avg10:.2f} avg60=1.00 avg300=1.00 total=5\n"


def test_trend_carries_over_between_samples(tmp_path, monkeypatch):
    host = FakeHost(tmp_path, "v2")
    d = host.add_cgroup("/g", {"memory.current": "4000"})
    clock = iter([1000.0, 1005.0, 1010.0, 1015.0])
    monkeypatch.setattr("oomtui.collect.time.time", lambda: next(clock))
    c = host.collector()
    assert c.collect().cgroup("/g").trend is None  # nothing earlier to compare with

    (d / "memory.current").write_text("8000")
    (d / "memory.stat").write_text("pgscan 9\n")
    (d / "memory.pressure").write_text(psi_full(70.0))
    t = c.collect().cgroup("/g").trend
    assert t.interval == 5.0
    assert t.memory_current_prev == 4000
    assert t.memory_current_avg == round(4000 / 4 * 3 / 4 + 8000 / 4)
    assert t.pgscan_prev == 5
    assert t.pressure_full_avg10_above_since == 1005.0

    t = c.collect().cgroup("/g").trend
    assert t.pressure_full_avg10_above_since == 1005.0  # still above: the clock keeps its start
    assert t.pgscan_prev == 9 and t.memory_current_prev == 8000

    (d / "memory.pressure").write_text(psi_full(60.0))
    assert c.collect().cgroup("/g").trend.pressure_full_avg10_above_since is None


def test_recreated_cgroup_starts_a_new_trend(tmp_path):
    host = FakeHost(tmp_path, "v2")
    d = host.add_cgroup("/g")
    c = host.collector()
    c.collect()
    d.rename(d.with_name("old"))  # keeps the old inode in use, so the new one differs
    host.add_cgroup("/g")
    s = c.collect()
    assert s.cgroup("/g").trend is None
    assert s.cgroup("/old").trend is None


def test_cmdline_cache_follows_exec_argv_rewrites_and_pid_reuse(tmp_path):
    host = FakeHost(tmp_path, "v2")
    d = host.add_process(FakeProc(pid=70, comm="bash", cmdline=("bash",), starttime=100))
    c = host.collector()
    assert c.collect().process(70).cmdline == ("bash",)

    def rewrite(comm: str, starttime: int, cmdline: bytes, switches: int) -> None:
        stat = (d / "stat").read_text().split(") ", 1)[1].split()
        stat[19] = str(starttime)
        (d / "stat").write_text(f"70 ({comm}) " + " ".join(stat))
        (d / "cmdline").write_bytes(cmdline)
        status = (d / "status").read_text().split("\n", 1)[1].split("voluntary_ctxt_switches")[0]
        (d / "status").write_text(f"Name:\t{comm}\n{status}voluntary_ctxt_switches:\t{switches}\n")

    (d / "cmdline").write_bytes(b"bash\0-c\0true\0")  # changed behind a status that did not: never read
    assert c.collect().process(70).cmdline == ("bash",)
    rewrite("bash", 100, b"bash\0-c\0true\0", 1)  # it ran (and rewrote its argv): status moved
    assert c.collect().process(70).cmdline == ("bash", "-c", "true")
    rewrite("sleep", 100, b"sleep\x0010\0", 2)  # exec renames comm
    p = c.collect().process(70)
    assert (p.comm, p.cmdline) == ("sleep", ("sleep", "10"))
    d.rename(d.with_name("old"))  # keeps the old inode in use, so the new directory's differs
    d = host.add_process(FakeProc(pid=70, comm="sleep", cmdline=("sleep", "99"), starttime=900))  # pid reused
    p = c.collect().process(70)
    assert p.cmdline == ("sleep", "99") and p.start_time == pytest.approx(BTIME + 900 / TICKS)


def test_collect_snapshot_one_shot(tmp_path):
    host = FakeHost(tmp_path, "v1")
    host.add_process(FakeProc(pid=77))
    s = collect_snapshot(proc=host.proc)
    assert s.source == "live" and s.process(77) is not None and s.host.cgroup_mode == "v1"
    assert s.cgroup("/").trend is None


def test_undecodable_names_stay_distinct_and_saveable(tmp_path):
    host = FakeHost(tmp_path, "v1")
    root = os.fsencode(host.cgroup_dir("/"))
    for raw in (b"bad\xff", b"bad\xfe"):
        os.mkdir(root + b"/" + raw)
    with open(root + b"/bad\xff/cgroup.procs", "w") as f:
        f.write("80\n")
    host.add_process(FakeProc(pid=80, comm="x", listed=False))
    host.add_process(FakeProc(pid=81, comm="y", listed=False))
    (host.proc / "81" / "cgroup").write_bytes(b"4:memory:/bad\xfe\n0::/\n")
    (host.proc / "81" / "stat").write_bytes((host.proc / "81" / "stat").read_bytes().replace(b"(y)", b"(y\xff)"))
    s = host.collector().collect()
    assert sorted(c.path for c in s.cgroups) == ["/", r"/bad\xfe", r"/bad\xff"]
    assert s.process(80).cgroup == r"/bad\xff"  # from cgroup.procs
    assert s.process(81).cgroup == r"/bad\xfe"  # from /proc/81/cgroup, in the same form
    assert s.process(81).comm == r"y\xff"
    assert from_dict(parse_json(dumps(s), "x")).process(81).comm == r"y\xff"


def test_changes_show_in_the_next_sample_and_idle_processes_are_reused(tmp_path):
    host = FakeHost(tmp_path, "v2")
    host.add_cgroup("/a")
    busy = host.add_process(FakeProc(pid=90, rss_anon_kb=100, adj=0))
    host.add_process(FakeProc(pid=91))
    c = host.collector()
    first = c.collect()
    (busy / "status").write_text((busy / "status").read_text().replace("RssAnon:\t     100", "RssAnon:\t    5000"))
    (busy / "oom_score_adj").write_text("700\n")
    second = c.collect()
    assert second.process(90).rss_anon == 5000 * 1024 and second.process(90).oom_score_adj == 700
    assert second.process(91) is first.process(91)  # nothing it reads changed
    idle = host.proc / "91" / "status"
    for queued in ("3", "4"):  # the whole user's pending signals: no change of this process
        idle.write_text(idle.read_text().replace("Threads:", f"SigQ:\t{queued}/63000\nThreads:", 1)
                        if "SigQ" not in idle.read_text() else idle.read_text().replace("3/63000", "4/63000"))
        assert c.collect().process(91) is first.process(91)
    host.write("cgroup v2/cgroup.procs", "")
    host.write("cgroup v2/a/cgroup.procs", "91\n")  # moved to another cgroup
    assert c.collect().process(91).cgroup == "/a"
