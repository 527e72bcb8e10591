"""The snapshot format (shared/snapshot-format.md) field by field, through both ways a snapshot is read.

A file (`load`/`loads`: typed decoding, and the field-by-field check for a
file it refuses) and the remote stream (`from_dict`) must read every field
into the model as the format says, fill the same defaults for what is
absent, write it back unchanged, and refuse the same input with the same
one line naming the JSON path.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from oomtui import snapshot
from oomtui.model import CgroupEdit, Killer, OomEvent, PressureLine, ProcessEdit, Trend, Workload
from oomtui.snapshot import SnapshotError, dumps, from_dict, loads, to_dict
from tests.support.snapshot_files import GiB, MiB, full, json_types, minimal


def read_both(d: dict[str, Any]) -> snapshot.Snapshot:
    """The snapshot as a file and as the remote stream read it: the same, or the test fails."""
    from_file, from_stream = loads(json.dumps(d).encode(), "f.json"), from_dict(d)
    assert to_dict(from_file) == to_dict(from_stream)
    assert (from_file.host, from_file.cgroups, from_file.processes) == (
        from_stream.host, from_stream.cgroups, from_stream.processes)
    assert (from_file.oom_event, from_file.whatif) == (from_stream.oom_event, from_stream.whatif)
    return from_file


def refusal(d: Any) -> str:
    """The one line a file and the remote stream give for `d` (the file's without its leading name)."""
    with pytest.raises(SnapshotError) as as_file:
        loads(json.dumps(d).encode(), "f.json")
    with pytest.raises(SnapshotError) as as_stream:
        from_dict(d)
    line = as_file.value.args[0]
    assert line == f"f.json: {as_stream.value.args[0]}"
    assert "\n" not in line
    return line.removeprefix("f.json: ")


# -- every field, read and written back ------------------------------------------------


def test_every_field_is_read_and_written_back_unchanged():
    s = read_both(full())
    written = json.loads(dumps(s))
    assert written == full()
    assert json_types(written) == json_types(full())


def test_every_field_lands_where_the_format_says():
    s = read_both(full())
    assert (s.taken_at, s.source) == (1764072000.5, "kernel-log")
    h = s.host
    assert (h.hostname, h.kernel, h.page_size, h.cgroup_mode) == ("web-1", "6.8.0-45-generic", 16384, "hybrid")
    assert (h.mem_total, h.mem_available, h.swap_total, h.swap_free) == (8 * GiB, 3 * GiB, 2 * GiB, GiB)
    assert h.psi.some == PressureLine(avg10=1.5, avg60=2.25, avg300=3.125, total=123456)
    assert h.psi.full == PressureLine(avg10=0.5, avg60=None, avg300=0.25, total=99)
    assert (h.sysctl.overcommit_memory, h.sysctl.panic_on_oom, h.sysctl.oom_kill_allocating_task) == (2, 1, 3)
    assert h.killers == (
        Killer(name="earlyoom", pid=812, settings={"prefer": "^java$", "mem_min_percent": "5"},
               source="command line of pid 812"),
        Killer(name="systemd-oomd", pid=None, settings={}, source="/etc/systemd/oomd.conf"),
    )
    app = s.cgroup("/app")
    assert (app.memory_current, app.memory_max, app.memory_high, app.memory_low, app.memory_min) == (
        3 * GiB, 4 * GiB, 7 * 512 * MiB, 256 * MiB, 128 * MiB)
    assert (app.swap_current, app.swap_max, app.swappiness, app.owner_uid) == (MiB, 512 * MiB, 60, 1000)
    assert (app.oom_group, app.populated) == (True, False)
    assert dict(app.stat) == {"anon": 2 * GiB, "total_rss": 5}
    assert app.events["oom_group_kill"] == 6 and app.events["low"] == 1
    assert dict(app.xattrs) == {"user.oomd_prefer": "1", "trusted.oomd_avoid": "yes"}
    assert app.pressure.some == PressureLine(avg10=4.5, avg60=5.25, avg300=6.125, total=777)
    assert app.pressure.full is None
    assert app.trend == Trend(interval=5.5, memory_current_prev=3 * GiB - MiB, memory_current_avg=3 * GiB - 2 * MiB,
                              pgscan_prev=77, pressure_full_avg10_above_since=1764071990.25)
    assert s.cgroup("/app/web").workload == Workload(
        kind="k8s-container", name="shop/cart-7d9/web", namespace="shop", pod="cart-7d9", pod_uid="0b1c-22",
        qos="Burstable", container="web", container_id="abc123", runtime="containerd", image="shop/web:1.2",
        source="runtime")
    assert (s.cgroup("/").populated, s.cgroup("/app/web").oom_group, s.cgroup("/").owner_uid) == (True, False, 0)
    java = s.process(4242)
    assert (java.comm, java.cmdline, java.cgroup, java.ppid, java.uid) == (
        "java", ("java", "-Xmx2g"), "/app/web", 1, 1000)
    assert (java.rss_anon, java.rss_file, java.rss_shmem, java.swap, java.pgtables) == (
        2 * GiB, 20 * MiB, 2 * MiB, 7 * MiB, 4 * MiB)
    assert (java.oom_score_adj, java.oom_score, java.start_time, java.kernel_thread) == (
        1000, 1987, 1764000100.5, False)
    assert java.rss == 2 * GiB + 22 * MiB and java.rss_total is None
    sidecar = s.process(4243)
    assert (sidecar.oom_score_adj, sidecar.rss_total, sidecar.rss) == (-1000, 300 * MiB, 300 * MiB)
    assert s.process(2).kernel_thread is True and s.process(2).cmdline == ()
    assert s.oom_event == OomEvent(kind="memcg", domain="/app", total_pages=1048576, killed_pid=4242,
                                   killed_comm="java", group_killed_pids=(4243, 4244),
                                   raw="Memory cgroup out of memory: Killed process 4242 (java)")
    assert dict(s.whatif.cgroups) == {
        "/app": CgroupEdit(interdependent=False, score=-1000,
                           xattrs={"user.oomd_avoid": "1", "user.oomd_prefer": None}),
        "/app/web": CgroupEdit(interdependent=True, score=1000),
    }
    assert dict(s.whatif.processes) == {4242: ProcessEdit(oom_score_adj=-500), 1: ProcessEdit(oom_score_adj=None)}


def test_what_is_absent_gets_the_formats_defaults():
    s = read_both(minimal())
    assert json.loads(dumps(s)) == {
        "format": "oomtui-snapshot", "version": 1, "taken_at": None, "source": "live",
        "host": {"hostname": "", "kernel": None, "page_size": 4096, "mem_total": None, "mem_available": None,
                 "swap_total": None, "swap_free": None, "cgroup_mode": "none", "psi": None,
                 "sysctl": {"overcommit_memory": None, "panic_on_oom": None, "oom_kill_allocating_task": None}},
        "cgroups": [{"path": "/", "memory_current": None, "memory_max": None, "memory_high": None,
                     "memory_low": None, "memory_min": None, "swap_current": None, "swap_max": None,
                     "owner_uid": None, "oom_group": None, "stat": {}, "events": {}, "pressure": None, "xattrs": {},
                     "populated": None}],
        "processes": [{"pid": 1, "ppid": None, "comm": "", "cmdline": [], "uid": None, "cgroup": "/",
                       "rss_anon": None, "rss_file": None, "rss_shmem": None, "swap": None, "pgtables": None,
                       "oom_score_adj": 0, "oom_score": None, "start_time": None, "kernel_thread": False}],
    }
    assert s.host.killers is None and s.oom_event is None and s.whatif.is_empty()


def test_nulls_where_the_format_allows_them_read_as_absent():
    d = minimal()
    d.update(taken_at=None, source=None, oom_event=None, whatif=None)
    d["host"].update({k: None for k in ("hostname", "kernel", "page_size", "psi", "sysctl", "killers")})
    d["cgroups"][0].update({k: None for k in ("stat", "events", "xattrs", "pressure", "trend", "workload")})
    d["processes"][0].update({k: None for k in ("comm", "cmdline", "oom_score_adj", "kernel_thread")})
    assert to_dict(read_both(d)) == to_dict(read_both(minimal()))


def test_a_process_with_a_null_comm_keeps_every_other_field():
    """Older files have null comm, cmdline, adj or kernel_thread: such a file is decoded another way."""
    d, expected = full(), full()
    d["processes"][3]["comm"], expected["processes"][3]["comm"] = None, ""
    assert json.loads(dumps(read_both(d))) == expected


def test_a_whatif_file_names_its_paths_from_whatif():
    """`preview --whatif FILE` reads a bare what-if object: its paths start at `whatif`."""
    assert snapshot.whatif_from_dict(full()["whatif"]) == read_both(full()).whatif
    with pytest.raises(SnapshotError) as refused:
        snapshot.whatif_from_dict({"cgroups": {"/app": {"score": -1001}}})
    assert refused.value.args[0] == 'whatif.cgroups["/app"].score: expected an integer from -1000 to 1000, got -1001'


def test_optional_objects_with_only_their_required_fields():
    d = minimal()
    d["host"]["killers"] = [{"name": "oomd"}, {"name": "kubelet", "pid": 1}]
    d["host"]["psi"] = {}
    d["cgroups"].append({"path": "/user.slice", "trend": {}, "pressure": {"some": None},
                         "workload": {"kind": "unit", "name": "user.slice"}})
    d["oom_event"] = {"kind": "global", "domain": "/"}
    d["whatif"] = {"cgroups": {"/user.slice": {}}, "processes": {}}
    s = read_both(d)
    assert s.host.killers == (Killer(name="oomd", pid=None, settings={}, source=""), Killer(name="kubelet", pid=1))
    assert s.host.psi.some is None and s.host.psi.full is None
    c = s.cgroup("/user.slice")
    assert c.trend == Trend() and c.pressure.some is None and c.pressure.full is None
    assert c.workload == Workload(kind="unit", name="user.slice", source="path")
    assert s.oom_event == OomEvent(kind="global", domain="/")
    assert dict(s.whatif.cgroups) == {"/user.slice": CgroupEdit()}
    assert json.loads(dumps(s))["whatif"] == {"cgroups": {"/user.slice": {}}, "processes": {}}


def test_a_host_without_processes_loads():
    d = minimal()
    d["processes"] = []
    assert read_both(d).processes == ()


def test_an_integer_start_time_reads_as_seconds_with_a_fraction():
    d = minimal()
    d["processes"][0]["start_time"] = 1764000000
    s = read_both(d)
    assert s.processes[0].start_time == 1764000000.0
    assert type(json.loads(dumps(s))["processes"][0]["start_time"]) is float


@pytest.mark.parametrize("adj", [-1000, 1000])
def test_oom_score_adj_at_either_end_of_its_range_loads(adj):
    d = minimal()
    d["processes"][0]["oom_score_adj"] = adj
    assert read_both(d).processes[0] == snapshot.Process(pid=1, comm="", cgroup="/", oom_score_adj=adj)


def test_smallest_page_size_and_killer_pid_load():
    d = minimal()
    d["host"].update(page_size=1, killers=[{"name": "nohang", "pid": 1}])
    s = read_both(d)
    assert s.host.page_size == 1 and s.host.killers[0].pid == 1


# -- refusals: one line naming the JSON path ------------------------------------------

GONE = object()  # the field is deleted
CGROUP_INTS = ("memory_current", "memory_max", "memory_high", "memory_low", "memory_min", "swap_current",
               "swap_max", "owner_uid", "swappiness")
PROCESS_INTS = ("ppid", "uid", "rss_anon", "rss_file", "rss_shmem", "rss_total", "swap", "pgtables", "oom_score")
WORKLOAD_STRS = ("namespace", "pod", "pod_uid", "container", "container_id", "runtime", "image")
PATH_LIKE = 'expected a cgroup path like "/" or "/a/b", got'

REFUSED: list[tuple[tuple, object, str]] = [
    (("format",), GONE, '$.format: expected "oomtui-snapshot", got null (not an oomtui snapshot)'),
    (("version",), "1", '$.version: this oomtui reads version 1, got "1"'),
    (("version",), GONE, "$.version: this oomtui reads version 1, got null"),
    (("version",), 12345678901234567890123, "$.version: this oomtui reads version 1, got 12345678901234567890"),
    (("version",), True, "$.version: this oomtui reads version 1, got boolean"),
    (("version",), 1.0, "$.version: this oomtui reads version 1, got 1.0"),
    (("source",), "cloud", '$.source: expected live, kernel-log or synthetic, got "cloud"'),
    (("source",), "x" * 20, f'$.source: expected live, kernel-log or synthetic, got "{"x" * 20}"'),
    (("source",), "x" * 21, "$.source: expected live, kernel-log or synthetic, got a string"),
    (("source",), 1.5, "$.source: expected string, got number"),
    (("taken_at",), "now", '$.taken_at: expected number, got "now"'),
    (("taken_at",), True, "$.taken_at: expected number, got boolean"),
    (("cgroups",), {}, "$.cgroups: expected list, got an object"),
    (("processes",), GONE, "$.processes: required field is missing"),
    (("host",), [], "$.host: expected object, got a list"),
    # host
    (("host", "cgroup_mode"), "v3", 'host.cgroup_mode: expected one of v2, v1, hybrid, none, got "v3"'),
    (("host", "cgroup_mode"), 2, "host.cgroup_mode: expected string, got integer"),
    (("host", "sysctl"), [1], "host.sysctl: expected object, got a list"),
    (("host", "sysctl"), [], "host.sysctl: expected object, got a list"),
    (("host", "sysctl"), 0, "host.sysctl: expected object, got integer"),
    *[(("host", "sysctl", k), "1", f'host.sysctl.{k}: expected integer, got "1"')
      for k in ("overcommit_memory", "panic_on_oom", "oom_kill_allocating_task")],
    *[(("host", k), 5, f"host.{k}: expected string, got integer") for k in ("hostname", "kernel")],
    *[(("host", k), "x", f'host.{k}: expected integer, got "x"')
      for k in ("page_size", "mem_total", "mem_available", "swap_total", "swap_free")],
    (("host", "psi"), "high", 'host.psi: expected object, got "high"'),
    (("host", "psi", "some"), [], "host.psi.some: expected object, got a list"),
    *[(("host", "psi", "full", k), GONE, f"host.psi.full.{k}: required field is missing")
      for k in ("avg10", "avg60", "avg300", "total")],
    (("host", "psi", "some", "total"), 1.5, "host.psi.some.total: expected integer, got number"),
    (("host", "psi", "some", "avg60"), "x", 'host.psi.some.avg60: expected number, got "x"'),
    (("host", "killers"), {}, "host.killers: expected list, got an object"),
    (("host", "killers", 1), "oomd", 'host.killers[1]: expected object, got "oomd"'),
    (("host", "killers", 1, "name"), "oom-killer",
     'host.killers[1].name: expected one of earlyoom, nohang, systemd-oomd, oomd, kubelet, got "oom-killer"'),
    (("host", "killers", 0, "name"), GONE, "host.killers[0].name: required field is missing"),
    (("host", "killers", 0, "pid"), 0, "host.killers[0].pid: expected a pid of at least 1, got 0"),
    (("host", "killers", 0, "pid"), -5, "host.killers[0].pid: expected a pid of at least 1, got -5"),
    (("host", "killers", 0, "pid"), "812", 'host.killers[0].pid: expected integer, got "812"'),
    (("host", "killers", 0, "settings"), [], "host.killers[0].settings: expected object, got a list"),
    (("host", "killers", 0, "settings", "prefer"), 5, "host.killers[0].settings.prefer: expected string, got integer"),
    (("host", "killers", 0, "source"), 5, "host.killers[0].source: expected string, got integer"),
    # cgroups
    (("cgroups", 1), "app", 'cgroups[1]: expected object, got "app"'),
    (("cgroups", 1, "path"), GONE, "cgroups[1].path: required field is missing"),
    (("cgroups", 1, "path"), 5, "cgroups[1].path: expected string, got integer"),
    (("cgroups", 1, "path"), "/app/", f'cgroups[1].path: {PATH_LIKE} "/app/"'),
    (("cgroups", 1, "path"), "", f'cgroups[1].path: {PATH_LIKE} ""'),
    *[(("cgroups", 1, k), "1", f'cgroups[1].{k}: expected integer, got "1"') for k in CGROUP_INTS],
    (("cgroups", 1, "oom_group"), "yes", 'cgroups[1].oom_group: expected boolean, got "yes"'),
    (("cgroups", 1, "populated"), 0, "cgroups[1].populated: expected boolean, got integer"),
    (("cgroups", 1, "stat"), [], "cgroups[1].stat: expected object, got a list"),
    (("cgroups", 1, "stat", "anon"), "1", 'cgroups[1].stat.anon: expected integer, got "1"'),
    (("cgroups", 1, "events"), "x", 'cgroups[1].events: expected object, got "x"'),
    (("cgroups", 1, "events", "oom"), None, "cgroups[1].events.oom: expected integer, got null"),
    (("cgroups", 1, "xattrs"), [], "cgroups[1].xattrs: expected object, got a list"),
    (("cgroups", 1, "xattrs", "user.oomd_prefer"), 1,
     "cgroups[1].xattrs.user.oomd_prefer: expected string, got integer"),
    (("cgroups", 1, "pressure"), [], "cgroups[1].pressure: expected object, got a list"),
    (("cgroups", 1, "pressure", "some", "avg10"), "x", 'cgroups[1].pressure.some.avg10: expected number, got "x"'),
    (("cgroups", 1, "pressure", "some", "avg300"), GONE, "cgroups[1].pressure.some.avg300: required field is missing"),
    (("cgroups", 1, "trend"), [], "cgroups[1].trend: expected object, got a list"),
    *[(("cgroups", 1, "trend", k), "5", f'cgroups[1].trend.{k}: expected number, got "5"')
      for k in ("interval", "pressure_full_avg10_above_since")],
    *[(("cgroups", 1, "trend", k), 1.5, f"cgroups[1].trend.{k}: expected integer, got number")
      for k in ("memory_current_prev", "memory_current_avg", "pgscan_prev")],
    (("cgroups", 2, "workload"), "pod", 'cgroups[2].workload: expected object, got "pod"'),
    (("cgroups", 2, "workload", "kind"), "vm",
     'cgroups[2].workload.kind: expected one of k8s-pod, k8s-container, container, unit, got "vm"'),
    (("cgroups", 2, "workload", "kind"), GONE, "cgroups[2].workload.kind: required field is missing"),
    (("cgroups", 2, "workload", "kind"), 1, "cgroups[2].workload.kind: expected string, got integer"),
    (("cgroups", 2, "workload", "name"), GONE, "cgroups[2].workload.name: required field is missing"),
    (("cgroups", 2, "workload", "name"), 5, "cgroups[2].workload.name: expected string, got integer"),
    (("cgroups", 2, "workload", "qos"), "Gold",
     'cgroups[2].workload.qos: expected one of Guaranteed, Burstable, BestEffort, got "Gold"'),
    (("cgroups", 2, "workload", "source"), "guess",
     'cgroups[2].workload.source: expected one of path, pod-logs, runtime, got "guess"'),
    *[(("cgroups", 2, "workload", k), 5, f"cgroups[2].workload.{k}: expected string, got integer")
      for k in WORKLOAD_STRS],
    # processes
    (("processes", 2), [], "processes[2]: expected object, got a list"),
    (("processes", 2, "pid"), "4242", 'processes[2].pid: expected integer, got "4242"'),
    (("processes", 2, "pid"), True, "processes[2].pid: expected integer, got boolean"),
    (("processes", 2, "pid"), 4242.0, "processes[2].pid: expected integer, got number"),
    (("processes", 2, "cgroup"), GONE, "processes[2].cgroup: required field is missing"),
    (("processes", 2, "cgroup"), 5, "processes[2].cgroup: expected string, got integer"),
    (("processes", 2, "cgroup"), "/app/web/", f'processes[2].cgroup: {PATH_LIKE} "/app/web/"'),
    (("processes", 2, "comm"), 5, "processes[2].comm: expected string, got integer"),
    (("processes", 2, "cmdline"), "java", 'processes[2].cmdline: expected list, got "java"'),
    (("processes", 2, "cmdline", 1), None, "processes[2].cmdline[1]: expected string, got null"),
    (("processes", 2, "oom_score_adj"), "0", 'processes[2].oom_score_adj: expected integer, got "0"'),
    (("processes", 2, "oom_score_adj"), 999.5, "processes[2].oom_score_adj: expected integer, got number"),
    (("processes", 2, "start_time"), "x", 'processes[2].start_time: expected number, got "x"'),
    (("processes", 2, "kernel_thread"), 0, "processes[2].kernel_thread: expected boolean, got integer"),
    *[(("processes", 2, k), "1", f'processes[2].{k}: expected integer, got "1"') for k in PROCESS_INTS],
    # oom_event
    (("oom_event",), [], "$.oom_event: expected object, got a list"),
    (("oom_event", "kind"), "oops", '$.oom_event.kind: expected "global" or "memcg", got "oops"'),
    (("oom_event", "kind"), GONE, "$.oom_event.kind: required field is missing"),
    (("oom_event", "kind"), 1, "$.oom_event.kind: expected string, got integer"),
    (("oom_event", "domain"), GONE, "$.oom_event.domain: required field is missing"),
    (("oom_event", "domain"), "app", f'$.oom_event.domain: {PATH_LIKE} "app"'),
    *[(("oom_event", k), "x", f'$.oom_event.{k}: expected integer, got "x"') for k in ("total_pages", "killed_pid")],
    *[(("oom_event", k), 5, f"$.oom_event.{k}: expected string, got integer") for k in ("killed_comm", "raw")],
    (("oom_event", "group_killed_pids"), "4243", '$.oom_event.group_killed_pids: expected list, got "4243"'),
    (("oom_event", "group_killed_pids", 1), "4244", '$.oom_event.group_killed_pids[1]: expected integer, got "4244"'),
    # whatif
    (("whatif",), [], "$.whatif: expected object, got a list"),
    (("whatif", "cgroups"), ["/app"], "$.whatif.cgroups: expected object, got a list"),
    (("whatif", "cgroups"), [], "$.whatif.cgroups: expected object, got a list"),
    (("whatif", "cgroups"), {"app": {}}, f'$.whatif.cgroups["app"]: {PATH_LIKE} "app"'),
    (("whatif", "cgroups", "/app"), 3, '$.whatif.cgroups["/app"]: expected object, got integer'),
    (("whatif", "cgroups", "/app", "interdependent"), "yes",
     '$.whatif.cgroups["/app"].interdependent: expected boolean, got "yes"'),
    (("whatif", "cgroups", "/app", "score"), 1001,
     '$.whatif.cgroups["/app"].score: expected an integer from -1000 to 1000, got 1001'),
    (("whatif", "cgroups", "/app", "score"), -1001,
     '$.whatif.cgroups["/app"].score: expected an integer from -1000 to 1000, got -1001'),
    (("whatif", "cgroups", "/app", "score"), "5", '$.whatif.cgroups["/app"].score: expected integer, got "5"'),
    (("whatif", "cgroups", "/app", "xattrs"), ["x"], '$.whatif.cgroups["/app"].xattrs: expected object, got a list'),
    (("whatif", "cgroups", "/app", "xattrs"), False, '$.whatif.cgroups["/app"].xattrs: expected object, got boolean'),
    (("whatif", "cgroups", "/app", "xattrs", "user.oomd_avoid"), 1,
     '$.whatif.cgroups["/app"].xattrs.user.oomd_avoid: expected string, got integer'),
    (("whatif", "processes"), [4242], "$.whatif.processes: expected object, got a list"),
    (("whatif", "processes"), "", '$.whatif.processes: expected object, got ""'),
    (("whatif", "processes"), {"pid4242": {}}, '$.whatif.processes["pid4242"]: expected a pid as a string of digits'),
    (("whatif", "processes"), {"-1": {}}, '$.whatif.processes["-1"]: expected a pid as a string of digits'),
    (("whatif", "processes"), {"²": {}}, '$.whatif.processes["\\u00b2"]: expected a pid as a string of digits'),
    (("whatif", "processes"), {"٣": {}}, '$.whatif.processes["\\u0663"]: expected a pid as a string of digits'),
    # the typed decoding's pattern ^[0-9]+$ lets a final newline through: the field-by-field check names it
    (("whatif", "processes"), {"4242\n": {}}, '$.whatif.processes["4242\\n"]: expected a pid as a string of digits'),
    (("whatif", "processes", "4242"), 5, '$.whatif.processes["4242"]: expected object, got integer'),
    (("whatif", "processes", "4242", "oom_score_adj"), 2000,
     '$.whatif.processes["4242"].oom_score_adj: expected an integer from -1000 to 1000, got 2000'),
]


def _edited(where: tuple, value: object) -> dict[str, Any]:
    d = full()
    *parents, last = where
    target: Any = d
    for key in parents:
        target = target[key]
    if value is GONE:
        del target[last]
    else:
        target[last] = value
    return d


def _case_id(where: tuple, value: object) -> str:
    """Letters, digits, dots and dashes only: mutmut passes the test ids back to pytest on its command line."""
    return re.sub(r"[^A-Za-z0-9.-]+", "-", f"{'.'.join(map(str, where))}-{'gone' if value is GONE else value}")[:60]


@pytest.mark.parametrize(("where", "value", "line"), REFUSED, ids=[_case_id(w, v) for w, v, _ in REFUSED])
def test_a_field_against_the_format_is_refused_in_one_line_naming_it(where, value, line):
    assert refusal(_edited(where, value)) == line
