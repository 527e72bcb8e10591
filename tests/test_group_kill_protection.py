"""A cgroup kill spares every process that is oom_score_adj -1000 when it runs, not only when planned.

The plan lists -1000 processes as spared, but between the confirmation and the
kill a member can turn -1000 (a database protecting itself) or a newcomer
that is -1000 can join the cgroup. The actor re-reads each live member's
oom_score_adj, as the kernel's own group kill does, and must leave them alive.

Lowering oom_score_adj needs CAP_SYS_RESOURCE, which some hosts (containers,
this build machine) lack even for root. There the test shows the process's
/proc/PID/oom_score_adj as -1000 with a bind mount in a private mount namespace
of the test process: the actor reads exactly what it would read from a
process that really is -1000, and nobody else on the host sees the change.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from oomtui.act import HostActor, Outcome, plan_cgroup_kill, plan_process_kill, protected_pids
from oomtui.act.procfs import facts
from oomtui.collect import collect_snapshot
from oomtui.collect.layout import CgroupLayout, detect_layout
from oomtui.model import Cgroup, Host, Process, Snapshot
from tests.support.cgroups import v2_test_cgroup
from tests.support.hog import Hog, spawn_hog

CLONE_NEWNS = 0x00020000
_private_namespace = False


def _enter_private_mount_namespace() -> None:
    """Once per test process: our own copy of the mounts, so a bind mount here reaches no one else."""
    global _private_namespace
    if _private_namespace:
        return
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(CLONE_NEWNS) != 0:
        pytest.fail(f"unshare(CLONE_NEWNS): {os.strerror(ctypes.get_errno())} (a threaded test process?)")
    subprocess.run(["mount", "--make-rprivate", "/"], check=True)
    _private_namespace = True


@contextlib.contextmanager
def shown_as(pid: int, name: str, content: str, scratch: Path) -> Iterator[None]:
    """/proc/PID/NAME reads `content` for this test process (a bind mount in its own mount namespace)."""
    _enter_private_mount_namespace()
    target = Path(f"/proc/{pid}/{name}")
    shown = scratch / f"{name}-{pid}"
    shown.write_text(content)
    subprocess.run(["mount", "--bind", str(shown), str(target)], check=True)
    try:
        assert target.read_text() == content
        yield
    finally:
        subprocess.run(["umount", str(target)], check=False, capture_output=True)


@contextlib.contextmanager
def minus_1000(pid: int, scratch: Path) -> Iterator[None]:
    """Make `pid` oom_score_adj -1000: for real where allowed, else as /proc shows it to us."""
    adj = Path(f"/proc/{pid}/oom_score_adj")
    with contextlib.suppress(PermissionError):  # no CAP_SYS_RESOURCE
        adj.write_text("-1000")
    if adj.read_text().strip() == "-1000":
        yield
        return
    with shown_as(pid, "oom_score_adj", "-1000\n", scratch):
        yield


@pytest.fixture
def audit(tmp_path) -> Path:
    return tmp_path / "audit.jsonl"


@pytest.fixture(autouse=True)
def root_only():
    if os.geteuid() != 0:
        pytest.skip("needs root to kill cgroups and to show a process as -1000")


def _check_report(report, spared: list[Hog], killed: list[Hog]) -> None:
    time.sleep(0.2)
    assert all(h.alive() for h in spared), "a -1000 process was killed"
    assert not any(h.alive() for h in killed)
    by_pid = {o.pid: o for o in report.outcomes}
    for h in spared:
        assert by_pid[h.pid].status == "spared" and "-1000" in by_pid[h.pid].detail
    assert f", {len(spared)} spared" in report.summary


def test_v1_group_kill_spares_a_member_that_turned_minus_1000_and_a_minus_1000_newcomer(memcg, audit, hogs, tmp_path):
    victim = memcg.child("victim")
    keeper = spawn_hog("keeper", 1, cgroup_dir=victim.dir)
    members = [spawn_hog(f"member{i}", 1, cgroup_dir=victim.dir) for i in range(3)]
    hogs += [keeper, *members]
    plan = plan_cgroup_kill(collect_snapshot(), victim.path, protected_pids=protected_pids())
    assert keeper.pid in {t.pid for t in plan.targets}, "planned as an ordinary member"
    newcomer = spawn_hog("newcomer", 1, cgroup_dir=victim.dir)
    hogs.append(newcomer)
    with minus_1000(keeper.pid, tmp_path), minus_1000(newcomer.pid, tmp_path):
        report = HostActor(audit, detect_layout()).kill(plan)
        _check_report(report, [keeper, newcomer], members)
        assert sorted(victim.pids()) == sorted([keeper.pid, newcomer.pid])


def test_v2_group_kill_never_uses_cgroup_kill_over_a_process_that_turned_minus_1000(audit, hogs, tmp_path):
    """cgroup.kill spares nobody: a member that is -1000 when the kill runs makes the actor go one by one."""
    layout = detect_layout()
    if layout.v2_root is None:
        pytest.skip("needs a cgroup2 mount")
    with v2_test_cgroup(layout.v2_root) as (path, d):
        members = [spawn_hog(f"member{i}", 1, cgroup_dir=d) for i in range(3)]
        keeper = spawn_hog("keeper", 1, cgroup_dir=d)
        hogs += [keeper, *members]
        plan = _v2_plan(path, d)
        assert keeper.pid in {t.pid for t in plan.targets}
        with minus_1000(keeper.pid, tmp_path):
            report = HostActor(audit, CgroupLayout("v2", layout.v2_root, layout.v2_root, None)).kill(plan)
            _check_report(report, [keeper], members)
            assert report.method != "the kernel's cgroup.kill"
            assert [int(x) for x in (d / "cgroup.procs").read_text().split()] == [keeper.pid]
            assert (d / "cgroup.freeze").read_text().strip() == "0"


def _v2_plan(path: str, d: Path):
    """The collector reads memory cgroups and this cgroup2 mount has none: plan from the cgroup's own list."""
    procs = []
    for pid in (int(x) for x in (d / "cgroup.procs").read_text().split()):
        f = facts(pid)
        procs.append(Process(pid, f.comm, path, 0, ppid=f.ppid, start_time=f.start_time))
    snap = Snapshot(host=Host("here", None, 4096, None, None, None, None, "v2"),
                    cgroups=(Cgroup("/"), Cgroup(path)), processes=tuple(procs))
    return plan_cgroup_kill(snap, path, protected_pids=protected_pids())


def test_a_named_hierarchy_called_memory_is_not_the_memory_controller(memcg, audit, hogs, tmp_path):
    """v1: the member's cgroup is read from the line whose controllers include "memory", not "name=memory…"."""
    victim = memcg.child("victim")
    member = spawn_hog("member", 1, cgroup_dir=victim.dir)
    hogs.append(member)
    plan = plan_cgroup_kill(collect_snapshot(), victim.path, protected_pids=protected_pids())
    real = Path(f"/proc/{member.pid}/cgroup").read_text()
    with shown_as(member.pid, "cgroup", f"99:name=memory_accounting:/elsewhere\n{real}", tmp_path):
        report = HostActor(audit, detect_layout()).kill(plan)
    assert [(o.pid, o.status) for o in report.outcomes] == [(member.pid, "killed")]
    assert member.popen.wait(10) == -9


def test_planned_members_that_died_or_moved_out_before_the_kill_are_reported_and_left_alone(memcg, audit, hogs):
    """Between confirmation and kill one member exits and another is moved out: neither is signalled."""
    victim, elsewhere = memcg.child("victim"), memcg.child("elsewhere")
    gone, moved, stays = (spawn_hog(name, 1, cgroup_dir=victim.dir) for name in ("gone", "moved", "stays"))
    hogs += [gone, moved, stays]
    plan = plan_cgroup_kill(collect_snapshot(), victim.path, protected_pids=protected_pids())
    assert {t.pid for t in plan.targets} == {gone.pid, moved.pid, stays.pid}
    gone.kill()
    elsewhere.add_pid(moved.pid)
    report = HostActor(audit, detect_layout()).kill(plan)
    by_pid = {o.pid: o for o in report.outcomes}
    start = {t.pid: t.start_time for t in plan.targets}
    assert by_pid[gone.pid] == Outcome(gone.pid, "gone", False, "no such process (already gone)", start[gone.pid],
                                       "gone")
    assert by_pid[moved.pid] == Outcome(moved.pid, "moved", False, "left the cgroup before the kill; not signalled",
                                        start[moved.pid], "changed")
    assert by_pid[stays.pid].status == "killed"
    time.sleep(0.2)
    assert moved.alive() and elsewhere.pids() == [moved.pid]


def test_a_process_whose_stat_cannot_be_read_is_not_signalled(memcg, audit, hogs, tmp_path):
    """No identity, no signal: a stat that does not parse fails in words and the process lives."""
    member = spawn_hog("member", 0, cgroup_dir=memcg.dir)
    hogs.append(member)
    plan = plan_process_kill(collect_snapshot(), member.pid)
    with shown_as(member.pid, "stat", f"{member.pid} (member) S\n", tmp_path):
        report = HostActor(audit, detect_layout()).kill(plan)
    assert [(o.pid, o.ok, o.status, o.detail) for o in report.outcomes] == [
        (member.pid, False, "failed", "failed: /proc/PID/stat could not be read")]
    time.sleep(0.2)
    assert member.alive()
