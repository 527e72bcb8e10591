"""Killing real processes and real cgroups on this machine, through HostActor."""

from __future__ import annotations

import errno
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import pytest

from oomtui.act import (
    AuditLogError,
    HostActor,
    KillPlan,
    Outcome,
    Target,
    kill,
    plan_cgroup_kill,
    plan_process_kill,
    protected_pids,
)
from oomtui.act.kill import (
    FREEZE_WAIT,
    GONE,
    REUSED,
    Freezer,
    Hierarchy,
    cgroup_of,
    errno_words,
    kill_cgroups,
    kill_targets,
    members,
    when,
)
from oomtui.act.plan import REFUSED_INIT, REFUSED_SELF, SPARED_ADJ
from oomtui.act.procfs import facts, same_start
from oomtui.collect import collect_snapshot
from oomtui.collect.layout import CgroupLayout, detect_layout
from oomtui.model import Cgroup, Host, Process, Snapshot
from tests.support.cgroups import rmdir_patiently, v1_frozen, v2_test_cgroup
from tests.support.hog import Hog, spawn_hog, spawn_straddler
from tests.support.nobody import as_nobody
from tests.support.reuse import Newcomer
from tests.test_kill_cli import _stubborn

_FORKER = r"""
import os, signal, sys, time
with open(sys.argv[1], "w") as f:
    f.write(str(os.getpid()))
signal.signal(signal.SIGCHLD, signal.SIG_IGN)
sys.stdout.write("ready\n"); sys.stdout.flush()
while True:
    if os.fork() == 0:
        time.sleep(60)
        os._exit(0)
    time.sleep(0.02)
"""


def _forker(cgroup_dir: Path) -> Hog:
    p = subprocess.Popen([sys.executable, "-c", _FORKER, str(cgroup_dir / "cgroup.procs")], stdout=subprocess.PIPE)
    assert p.stdout is not None and p.stdout.readline().strip() == b"ready"
    return Hog("forker", p)


def _exit_code(popen: subprocess.Popen, timeout: float = 10) -> int | None:
    try:
        return popen.wait(timeout)
    except subprocess.TimeoutExpired:
        return None


def _audit(path: Path) -> list[dict]:
    """The result lines; each follows the intent line written (and fsynced) before acting."""
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert [e["phase"] for e in lines] == ["intent", "result"] * (len(lines) // 2)
    assert all(a["asked"] == b["asked"] for a, b in zip(lines[::2], lines[1::2], strict=True))
    return lines[1::2]


@pytest.fixture
def audit(tmp_path) -> Path:
    return tmp_path / "state" / "audit.jsonl"


@pytest.fixture
def actor(audit) -> HostActor:
    return HostActor(audit_log=audit, layout=detect_layout())


@pytest.fixture
def v2cg():
    """A cgroup on the cgroup2 mount under our own v2 cgroup, for cgroup.kill and cgroup.freeze."""
    layout = detect_layout()
    if os.geteuid() != 0 or layout.v2_root is None:
        pytest.skip("needs root and a cgroup2 mount")
    with v2_test_cgroup(layout.v2_root) as (path, d):
        yield CgroupLayout("v2", layout.v2_root, layout.v2_root, None), path, d


def test_kill_one_process_leaves_its_neighbours_alive(memcg, actor, audit, hogs):
    victim = spawn_hog("victim", 8, cgroup_dir=memcg.dir)
    sentinels = [spawn_hog("sentinel", 1, cgroup_dir=memcg.dir), spawn_hog("outside", 1)]
    hogs += [victim, *sentinels]
    plan = plan_process_kill(collect_snapshot(), victim.pid, protected_pids=protected_pids())
    assert [t.pid for t in plan.targets] == [victim.pid]
    report = actor.kill(plan)
    assert [(o.pid, o.ok, o.detail) for o in report.outcomes] == [(victim.pid, True, "killed")]
    assert report.summary == "1 of 1 process killed"
    assert _exit_code(victim.popen) == -signal.SIGKILL
    assert all(s.alive() for s in sentinels)
    [entry] = _audit(audit)
    assert entry["action"] == "kill" and entry["uid"] == os.getuid()
    assert entry["asked"]["targets"][0]["pid"] == victim.pid
    assert entry["asked"]["targets"][0]["start_time"] == plan.targets[0].start_time
    assert entry["result"]["outcomes"][0]["status"] == "killed"


def test_sigterm_is_sent_as_asked(memcg, actor, hogs):
    victim = spawn_hog("victim", 0, cgroup_dir=memcg.dir)
    hogs.append(victim)
    plan = plan_process_kill(collect_snapshot(), victim.pid, signal=signal.SIGTERM)
    assert actor.kill(plan).summary == "1 of 1 process sent SIGTERM"
    assert _exit_code(victim.popen) == -signal.SIGTERM


def test_a_changed_start_time_refuses_and_signals_nothing(memcg, actor, audit, hogs):
    victim = spawn_hog("victim", 0, cgroup_dir=memcg.dir)
    hogs.append(victim)
    snap = collect_snapshot()
    seen = snap.process(victim.pid)
    assert seen is not None and seen.start_time is not None
    older = replace(seen, start_time=seen.start_time - 30)
    stale = snap.replace(processes=tuple(older if p.pid == victim.pid else p for p in snap.processes))
    report = actor.kill(plan_process_kill(stale, victim.pid))
    [o] = report.outcomes
    assert not o.ok and o.status == "changed"
    assert o.detail.startswith(f"identity changed: pid {victim.pid} now belongs to a process started at ")
    assert o.detail.endswith("refusing")
    time.sleep(0.3)
    assert victim.alive()
    assert _audit(audit)[0]["result"]["outcomes"][0]["status"] == "changed"


def test_a_target_without_a_start_time_is_refused_as_unknown(memcg, hogs):
    victim = spawn_hog("victim", 0, cgroup_dir=memcg.dir)
    hogs.append(victim)
    [o] = kill_targets([Target(victim.pid, None, "victim", "/", 0, 0)], signal.SIGKILL, ())
    assert (o.ok, o.status, o.detail) == (
        False, "changed", "identity unknown: the snapshot has no start time for it, refusing")
    time.sleep(0.3)
    assert victim.alive()


def test_a_process_that_is_already_gone_is_reported_so(memcg, actor):
    victim = spawn_hog("victim", 0, cgroup_dir=memcg.dir)
    plan = plan_process_kill(collect_snapshot(), victim.pid)
    victim.kill()
    [o] = actor.kill(plan).outcomes
    assert (o.ok, o.status, o.detail) == (False, "gone", "no such process (already gone)")


def test_refusals_hold_even_for_a_plan_built_by_hand(actor, audit):
    """The actor re-checks: init, a kernel thread, oomtui itself and its parent are never signalled.

    SIGCONT keeps the test harmless should the check ever fail; the status would then say "killed".
    """
    me, kthreadd = facts(os.getpid()), facts(2)
    assert kthreadd.kernel_thread
    chain = "refused: oomtui itself or its parent chain (the shell and terminal it runs in)"
    # Run detached, our parent is init itself, which is refused as init; only a real parent adds a row.
    parent = facts(os.getppid()) if os.getppid() != 1 else None
    ours = [me] if parent is None else [me, parent]
    targets = tuple(Target(f.pid, f.start_time, f.comm, "/", 0, 0) for f in (facts(1), kthreadd, *ours))
    report = actor.kill(KillPlan("by hand", signal.SIGCONT, targets))
    assert [(o.pid, o.status, o.detail) for o in report.outcomes] == [
        (1, "refused", "refused: host init (pid 1)"),
        (2, "refused", "refused: kernel thread"),
        *((f.pid, "refused", chain) for f in ours),
    ]
    assert report.summary == f"{len(targets)} refused"
    assert [o["status"] for o in _audit(audit)[0]["result"]["outcomes"]] == ["refused"] * len(targets)


def test_the_planner_refuses_them_from_a_live_snapshot():
    snap, protected = collect_snapshot(), protected_pids()
    for pid in (1, 2, os.getpid(), os.getppid()):
        plan = plan_process_kill(snap, pid, protected_pids=protected)
        assert plan.targets == () and [t.pid for t, _ in plan.refused] == [pid]


def _v2_snapshot(path: str, d: Path, adj: dict[int, int] | None = None) -> Snapshot:
    """The collector reads memory cgroups, and this cgroup2 mount has no memory controller: list it by hand."""
    procs = []
    for pid in (int(x) for x in (d / "cgroup.procs").read_text().split()):
        f = facts(pid)
        procs.append(Process(pid, f.comm, path, (adj or {}).get(pid, 0), ppid=f.ppid, start_time=f.start_time))
    host = Host("here", None, 4096, None, None, None, None, "v2")
    return Snapshot(host=host, cgroups=(Cgroup("/"), Cgroup(path)), processes=tuple(procs))


def _fill(cgroup_dir: Path, plain: int, forkers: int) -> list[Hog]:
    hogs = [spawn_hog(f"member{i}", 1, cgroup_dir=cgroup_dir) for i in range(plain)]
    return hogs + [_forker(cgroup_dir) for _ in range(forkers)]


def _bystanders(memcg) -> list[Hog]:
    beside = memcg.child("bystander")
    return [spawn_hog("outside", 1, cgroup_dir=beside.dir), spawn_hog("parent", 1, cgroup_dir=memcg.dir)]


def test_kill_a_v1_cgroup_of_20_with_forking_members_empties_it(memcg, actor, audit, hogs):
    victim = memcg.child("victim")
    members = _fill(victim.dir, 12, 4) + _fill(victim.child("inner").dir, 3, 1)
    bystanders = _bystanders(memcg)
    hogs += [*members, *bystanders]
    time.sleep(0.3)  # let the forkers fork
    plan = plan_cgroup_kill(collect_snapshot(), victim.path, protected_pids=protected_pids())
    assert len(plan.targets) >= 20 and plan.cgroups == (victim.path,)
    report = actor.kill(plan)
    assert victim.pids() == []
    assert all(_exit_code(m.popen) == -signal.SIGKILL for m in members)
    assert report.method == "signalled one by one; the cgroup was empty afterwards" and report.cgroups_empty
    gone = {o.pid for o in report.outcomes if o.status == "gone"}
    assert {o.pid for o in report.outcomes if o.ok} >= {t.pid for t in plan.targets} - gone
    assert all(b.alive() for b in bystanders)
    [entry] = _audit(audit)
    assert entry["asked"]["cgroups"] == [victim.path]
    assert len(entry["result"]["outcomes"]) == len(report.outcomes)


def test_kill_a_v2_cgroup_uses_cgroup_kill_and_empties_it(v2cg, audit, hogs):
    layout, path, d = v2cg
    hogs += [*_fill(d, 16, 4), spawn_hog("outside", 1)]
    time.sleep(0.3)
    plan = plan_cgroup_kill(_v2_snapshot(path, d), path, protected_pids=protected_pids())
    assert len(plan.targets) >= 20
    report = HostActor(audit, layout).kill(plan)
    assert report.method == "the kernel's cgroup.kill; the cgroup was empty afterwards"
    assert (d / "cgroup.procs").read_text() == ""
    assert (d / "cgroup.freeze").read_text().strip() == "0"  # thawed again
    assert {(o.planned, o.ok, o.status, o.detail, o.sent, o.exited) for o in report.outcomes} <= {
        (True, True, "killed", "killed", "SIGKILL", True),
        (False, True, "killed", "killed (joined the cgroup after the snapshot)", "SIGKILL", True),
    }, [o for o in report.outcomes if not o.ok]
    assert hogs[-1].alive()


def test_v2_group_kill_spares_the_planned_minus_1000_process_and_thaws(v2cg, audit, hogs):
    """cgroup.kill would take everyone, so a spared member makes the actor kill one by one, frozen."""
    layout, path, d = v2cg
    keeper = spawn_hog("keeper", 1, cgroup_dir=d)
    hogs += [keeper, *_fill(d, 4, 2)]
    # This machine forbids setting -1000, so the snapshot says it (as it would on another host).
    plan = plan_cgroup_kill(_v2_snapshot(path, d, {keeper.pid: -1000}), path)
    assert [t.pid for t, _ in plan.spared] == [keeper.pid]
    report = HostActor(audit, layout).kill(plan)
    assert report.method.startswith("frozen (cgroup.freeze)")
    assert [int(x) for x in (d / "cgroup.procs").read_text().split()] == [keeper.pid]
    assert keeper.alive()
    assert (d / "cgroup.freeze").read_text().strip() == "0"
    spared = [o for o in report.outcomes if o.status == "spared"]
    assert [o.pid for o in spared] == [keeper.pid] and "-1000" in spared[0].detail


_GRACEFUL = r"""
import os, signal, sys, time
with open(sys.argv[1], "w") as f:
    f.write(str(os.getpid()))
def leave(*_):
    if len(sys.argv) > 2:  # out of the cgroup first, as the kernel takes a dying task out before it is gone
        with open(sys.argv[2], "w") as f:
            f.write(str(os.getpid()))
    time.sleep(0.4)  # a clean shutdown that takes a moment: well within EXIT_WAIT
    os._exit(0)
signal.signal(signal.SIGTERM, leave)
sys.stdout.write("ready\n"); sys.stdout.flush()
time.sleep(3600)
"""


def _graceful(cgroup_dir: Path, leave_to: Path | None = None) -> Hog:
    """A process in the cgroup that exits 0 0.4 s after SIGTERM (moving to `leave_to` first, if given)."""
    args = [str(Path(cgroup_dir) / "cgroup.procs"), *([str(Path(leave_to) / "cgroup.procs")] if leave_to else [])]
    popen = subprocess.Popen([sys.executable, "-c", _GRACEFUL, *args], stdout=subprocess.PIPE)
    assert popen.stdout is not None and popen.stdout.readline().strip() == b"ready"
    return Hog("graceful", popen)


def test_sigterm_to_a_v2_cgroup_is_sigterm_not_cgroup_kill(v2cg, audit, hogs):
    """cgroup.kill sends SIGKILL: a SIGTERM asked for goes one by one, so a service can shut down cleanly."""
    layout, path, d = v2cg
    slow = _graceful(d)
    hogs.append(slow)
    report = HostActor(audit, layout).kill(plan_cgroup_kill(_v2_snapshot(path, d), path, signal.SIGTERM))
    assert [(o.pid, o.ok, o.detail, o.sent) for o in report.outcomes] == [
        (slow.pid, True, "sent SIGTERM; it exited", "SIGTERM")]
    assert slow.popen.wait(timeout=5) == 0  # its handler ran: not killed by SIGKILL
    assert report.method.startswith("frozen (cgroup.freeze), then signalled one by one, then thawed")
    assert (d / "cgroup.freeze").read_text().strip() == "0"


def test_v1_group_kill_spares_the_planned_minus_1000_process(memcg, actor, hogs):
    victim = memcg.child("victim")
    keeper = spawn_hog("keeper", 1, cgroup_dir=victim.dir)
    hogs += [keeper, *_fill(victim.dir, 3, 1)]
    snap = collect_snapshot()
    snap = snap.replace(processes=tuple(
        replace(p, oom_score_adj=-1000) if p.pid == keeper.pid else p for p in snap.processes))
    report = actor.kill(plan_cgroup_kill(snap, victim.path))
    assert victim.pids() == [keeper.pid] and keeper.alive()
    assert ", 1 spared" in report.summary


def test_sigterm_to_a_v1_cgroup_reports_who_exited_and_who_still_runs(memcg, actor, hogs):
    """Each member gets EXIT_WAIT to leave; one that ignores SIGTERM is reported running, and the cgroup not empty."""
    victim = memcg.child("victim")
    polite, stubborn = spawn_hog("polite", 0, cgroup_dir=victim.dir), _stubborn(victim.dir)
    hogs += [polite, stubborn]
    report = actor.kill(plan_cgroup_kill(collect_snapshot(), victim.path, signal.SIGTERM))
    assert sorted((o.pid, o.ok, o.status, o.detail, o.sent, o.exited) for o in report.outcomes) == sorted([
        (polite.pid, True, "killed", "sent SIGTERM; it exited", "SIGTERM", True),
        (stubborn.pid, False, "survived", "sent SIGTERM; still running after 2 s (it is slow to stop, or handles "
                                          "or ignores the signal)", "SIGTERM", False),
    ])
    assert (report.method, report.cgroups_empty) == (
        "signalled one by one; 1 process still in the cgroup afterwards", False)
    assert _exit_code(polite.popen) == -signal.SIGTERM and stubborn.alive()


@pytest.mark.parametrize("leaves", [False, True], ids=["stays", "leaves-the-cgroup-first"])
def test_sigterm_to_a_cgroup_waits_for_a_member_that_takes_a_moment_to_stop(memcg, actor, hogs, leaves):
    """A service that shuts down cleanly on SIGTERM is reported as exited, not as still running; so is one
    that is out of the cgroup but still finishing (the kernel takes a dying task out before it is gone)."""
    victim = memcg.child("victim")
    slow = _graceful(victim.dir, leave_to=memcg.dir if leaves else None)
    hogs.append(slow)
    report = actor.kill(plan_cgroup_kill(collect_snapshot(), victim.path, signal.SIGTERM))
    assert [(o.pid, o.ok, o.status, o.detail, o.exited) for o in report.outcomes] == [
        (slow.pid, True, "killed", "sent SIGTERM; it exited", True)]
    assert report.cgroups_empty and slow.popen.wait(timeout=5) == 0


def test_a_process_the_plan_refused_is_left_alone_and_reported_once(memcg, actor, hogs):
    """The confirmation showed it refused (the planner's protected set): the kill keeps that, whoever acts."""
    victim = memcg.child("victim")
    keeper = spawn_hog("keeper", 1, cgroup_dir=victim.dir)
    hogs += [keeper, *_fill(victim.dir, 2, 0)]
    plan = plan_cgroup_kill(collect_snapshot(), victim.path, protected_pids={keeper.pid})
    assert [(t.pid, why) for t, why in plan.refused] == [(keeper.pid, REFUSED_SELF)]
    report = actor.kill(plan)
    assert keeper.alive() and victim.pids() == [keeper.pid]
    assert [(o.status, o.detail) for o in report.outcomes if o.pid == keeper.pid] == [("refused", REFUSED_SELF)]
    assert report.method == "signalled one by one; the cgroup was empty afterwards"
    assert report.summary == "2 of 2 processes killed, 1 refused"


def test_a_process_with_only_a_thread_in_the_cgroup_is_neither_signalled_nor_reported(memcg, actor, hogs):
    """v1's cgroup.procs lists it, but it lives and is charged where its leader is: the cgroup is not empty."""
    if memcg.home.version != 1:
        pytest.skip("only cgroup v1 lets one thread sit apart from its process")
    victim = memcg.child("victim")
    member = spawn_hog("member", 1, cgroup_dir=victim.dir)
    straddler = spawn_straddler(victim.dir / "tasks")
    hogs += [member, straddler]
    plan = plan_cgroup_kill(collect_snapshot(), victim.path)
    assert [t.pid for t in plan.targets] == [member.pid]
    report = actor.kill(plan)
    assert [(o.pid, o.status) for o in report.outcomes] == [(member.pid, "killed")]
    assert straddler.alive() and victim.pids() == [straddler.pid]
    assert report.method == "signalled one by one; 1 process still in the cgroup afterwards"


_DOOMED_CHILD = r"""
import ctypes, os, signal, sys, time
sys.stdout.write("ready\n"); sys.stdout.flush()
sys.stdin.readline()
child = os.fork()
if child == 0:
    ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG: it dies with its parent
    time.sleep(60)
    os._exit(0)
sys.stdout.write(f"{child}\n"); sys.stdout.flush()
time.sleep(60)
"""


def test_a_newcomer_that_died_with_its_parent_is_not_reported(memcg, actor, hogs):
    """A child forked after the snapshot dies when the kill takes its parent: it was never the user's to see.

    Forty sleepers sit between them in v1's sorted cgroup.procs, so the child has died when its turn comes.
    """
    victim = memcg.child("victim")
    parent = Hog("parent", subprocess.Popen([sys.executable, "-c", _DOOMED_CHILD],
                                            stdin=subprocess.PIPE, stdout=subprocess.PIPE))
    hogs.append(parent)
    victim.add_pid(parent.pid)
    assert parent.popen.stdout is not None and parent.popen.stdin is not None
    assert parent.popen.stdout.readline().strip() == b"ready"
    for _ in range(40):
        hogs.append(Hog("sleeper", subprocess.Popen(["sleep", "60"])))
        victim.add_pid(hogs[-1].pid)
    plan = plan_cgroup_kill(collect_snapshot(), victim.path)
    assert len(plan.targets) == 41
    parent.popen.stdin.write(b"fork\n")
    parent.popen.stdin.flush()
    child = int(parent.popen.stdout.readline())
    report = actor.kill(plan)
    assert [(o.pid, o.status) for o in report.outcomes if not o.planned] in ([], [(child, "killed")])
    assert report.cgroups_empty and victim.pids() == []


def test_a_planned_pid_now_held_by_a_process_elsewhere_is_reported_gone(memcg, actor, hogs):
    """It exited before the kill and its pid went to a process outside the cgroup, which is left alone."""
    victim = memcg.child("victim")
    other = spawn_hog("other", 0)
    hogs.append(other)
    seen = facts(other.pid).start_time
    t = Target(other.pid, seen - 30, "java", victim.path, 1 << 20, 0)
    report = actor.kill(KillPlan(f"kill cgroup {victim.path}", signal.SIGKILL, (t,), (victim.path,)))
    assert report.outcomes == (Outcome(t.pid, "java", False, REUSED, seen - 30, "gone"),)
    assert report.summary == "1 already gone"
    time.sleep(0.2)
    assert other.alive()


def test_a_planned_process_that_is_gone_is_reported_by_its_pid(tmp_path):
    t = Target(5_000_000, 200.0, "java", "/", 1 << 20, 0)  # above the kernel's PID_MAX_LIMIT: never a real process
    report = HostActor(tmp_path / "audit.jsonl", detect_layout()).kill(
        KillPlan("kill process 5000000", signal.SIGKILL, (t,), ()))
    assert report.outcomes == (Outcome(t.pid, "java", False, GONE, 200.0, "gone"),)
    assert report.summary == "1 already gone"


def test_an_unwritable_audit_log_refuses_to_act(memcg, tmp_path, hogs):
    (tmp_path / "not-a-dir").write_text("")
    victim = spawn_hog("victim", 0, cgroup_dir=memcg.dir)
    hogs.append(victim)
    actor = HostActor(tmp_path / "not-a-dir" / "audit.jsonl", detect_layout())
    plan = plan_process_kill(collect_snapshot(), victim.pid)
    with pytest.raises(AuditLogError, match=r"cannot write the audit log .*nothing was done"):
        actor.check()
    report = actor.kill(plan)
    assert report.summary.startswith("cannot write the audit log ") and report.summary.endswith(
        "every action must be audited, so nothing was done (--audit-log FILE chooses another)")
    [t] = plan.targets  # the start time tells `oomtui kill --json` readers which process was meant
    assert report.outcomes == (Outcome(victim.pid, t.comm, False, report.summary, t.start_time, "failed"),)
    time.sleep(0.2)
    assert victim.alive()


@pytest.fixture
def few_fds():
    """A low open-file limit, as on hosts where a cgroup holds more processes than fds allowed."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (len(os.listdir("/proc/self/fd")) + 24, hard))
    yield
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def _sleepers(cgroup_dir: Path, n: int) -> subprocess.Popen:
    """A shell in the cgroup that starts n sleeping children, then sleeps itself."""
    script = f'echo $$ > "$1/cgroup.procs"; for i in $(seq {n}); do sleep 600 & done; echo ready; wait'
    p = subprocess.Popen(["sh", "-c", script, "sh", str(cgroup_dir)], stdout=subprocess.PIPE)
    assert p.stdout is not None and p.stdout.readline().strip() == b"ready"
    return p


@pytest.mark.parametrize("version", [1, 2])
def test_a_cgroup_with_more_processes_than_open_files_allowed_is_emptied(version, request, audit):
    if version == 1:
        memcg = request.getfixturevalue("memcg")
        layout, path, d = detect_layout(), memcg.path, memcg.dir
    else:
        layout, path, d = request.getfixturevalue("v2cg")
    shell = _sleepers(d, 150)
    try:
        plan = KillPlan(f"kill cgroup {path}", signal.SIGKILL, cgroups=(path,))
        request.getfixturevalue("few_fds")
        report = HostActor(audit, layout).kill(plan)
        assert [int(x) for x in (d / "cgroup.procs").read_text().split()] == []
        assert sum(o.ok for o in report.outcomes) == 151 and report.ok
    finally:
        shell.kill()
        shell.wait()


def test_start_times_match_to_the_tick_allowing_a_whole_second_shift_of_btime():
    """One tick (10 ms) apart is another process; btime's whole-second shift is the only slack."""
    start = facts(os.getpid()).start_time
    assert all(same_start(start, start + d) for d in (0.0, 0.004, -0.004, 1.0, -1.0, 1.004))
    assert not any(same_start(start, start + d) for d in (0.01, -0.01, 1.01, 0.99, 0.05, 0.5, 2.0, -2.0))
    assert not same_start(0.0, 0.005)  # exactly half a tick apart is not "less than half a tick"


def test_a_zombie_is_reported_as_already_exited(memcg, actor, hogs):
    victim = spawn_hog("victim", 0, cgroup_dir=memcg.dir)
    hogs.append(victim)
    plan = plan_process_kill(collect_snapshot(), victim.pid)
    os.kill(victim.pid, signal.SIGKILL)  # not reaped: it stays a zombie until the fixture waits
    for _ in range(200):
        if facts(victim.pid).exited:
            break
        time.sleep(0.01)
    [o] = actor.kill(plan).outcomes
    assert (o.ok, o.status, o.detail) == (False, "gone", "already exited (a zombie its parent has not reaped yet)")


def test_a_recycled_pid_is_never_signalled(memcg, actor, hogs):
    """The real race: the process the user saw dies and a new one gets its pid before the kill."""
    victim = spawn_hog("victim", 0, cgroup_dir=memcg.dir)
    plan = plan_process_kill(collect_snapshot(), victim.pid)
    victim.kill()
    time.sleep(max(0.0, plan.targets[0].start_time + 1.3 - time.time()))  # clear of the btime allowance
    newcomer = Newcomer(victim.pid, memcg.dir)
    hogs.append(newcomer)
    [o] = actor.kill(plan).outcomes
    assert (o.ok, o.status) == (False, "changed")
    assert f"now belongs to a process started at {when(facts(newcomer.pid).start_time)} (newcomer)" in o.detail
    time.sleep(0.2)
    assert newcomer.alive()


def test_cgroup_paths_are_found_under_the_hierarchy_whatever_their_first_letter():
    h = Hierarchy(Path("/sys/fs/cgroup/memory"), v2=False)
    assert h.dir("/Xorg.slice/app") == Path("/sys/fs/cgroup/memory/Xorg.slice/app")
    assert h.dir("/") == Path("/sys/fs/cgroup/memory")


def test_a_member_planned_without_a_start_time_still_dies_with_its_cgroup(memcg, actor, hogs):
    """A snapshot may lack a start time (unreadable stat): the cgroup kill takes the process all the same."""
    victim = memcg.child("victim")
    member = spawn_hog("member", 0, cgroup_dir=victim.dir)
    hogs.append(member)
    plan = KillPlan(f"kill cgroup {victim.path}", signal.SIGKILL,
                    (Target(member.pid, None, "member", victim.path, 0, 0),), (victim.path,))
    report = actor.kill(plan)
    assert _exit_code(member.popen) == -signal.SIGKILL and victim.pids() == []
    assert any(o.pid == member.pid and o.status == "killed" for o in report.outcomes)
    assert report.cgroups_empty


def test_start_times_are_shown_in_local_time_to_the_hundredth(monkeypatch):
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    try:
        assert when(1_700_000_000.25) == "2023-11-14 22:13:20.25"
        assert when(1_700_000_009.07) == "2023-11-14 22:13:29.07"
    finally:
        monkeypatch.undo()
        time.tzset()


@pytest.mark.parametrize(("error", "said"), [
    (OSError(errno.ESRCH, "No such process"), ("gone", "no such process (already gone)")),
    (FileNotFoundError(errno.ENOENT, "No such file or directory"), ("gone", "no such process (already gone)")),
    (OSError(errno.EPERM, "Operation not permitted"), ("denied", "no permission (needs root or the same user)")),
    (OSError(errno.EACCES, "Permission denied"), ("denied", "no permission (needs root or the same user)")),
    (OSError(errno.EIO, "Input/output error"), ("failed", "failed: Input/output error")),
    (OSError("no errno"), ("failed", "failed: no errno")),
])
def test_each_failure_to_signal_is_put_in_words(error, said):
    assert errno_words(error) == said


def test_a_cgroup_kill_without_memory_cgroups_fails_in_words_and_is_audited(audit):
    """Nothing can be signalled through a hierarchy that is not there; processes outside the cgroup are not touched."""
    t = Target(5_000_000, 200.0, "java", "/app", 1 << 20, 0)  # above the kernel's PID_MAX_LIMIT: never a real process
    plan = KillPlan("kill cgroup /app (1 process)", signal.SIGKILL, (t,), ("/app",))
    report = HostActor(audit, CgroupLayout("none", None, None, None)).kill(plan)
    assert report.outcomes == (
        Outcome(t.pid, "java", False, "failed: no memory cgroups are mounted", 200.0, "failed"),)
    assert report.summary == "1 failed" and report.method == "" and report.cgroups_empty is None
    [entry] = _audit(audit)
    assert entry["result"] == {"summary": "1 failed", "method": "", "cgroups_empty": None,
                               "outcomes": [o.to_json() for o in report.outcomes]}
    assert entry["action"] == "kill" and entry["asked"] == plan.to_json()


def test_a_name_with_parentheses_and_undecodable_bytes_does_not_confuse_the_identity_check(hogs):
    """/proc/PID/stat puts the name in parentheses; a name holding ") (" must not shift the fields after it."""
    name = b"x) (y \xff"
    child = subprocess.Popen([sys.executable, "-c", (
        "import sys; open('/proc/self/comm', 'wb').write(bytes.fromhex(sys.argv[1]));"
        " print('ready', flush=True); sys.stdin.read()"), name.hex()], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    hogs.append(Hog("named", child))
    assert child.stdout is not None and child.stdout.readline().strip() == b"ready"
    f = facts(child.pid)
    assert (f.comm, f.ppid, f.kernel_thread, f.exited) == ("x) (y \ufffd", os.getpid(), False, False)
    assert f.state in ("R", "S")  # running or asleep on its stdin: the state field, not a piece of the name
    seen = collect_snapshot().process(child.pid)
    assert seen is not None and seen.start_time is not None and same_start(seen.start_time, f.start_time)


def test_oomtui_and_every_ancestor_up_to_init_are_protected():
    protected = protected_pids()
    assert {os.getpid(), os.getppid(), 1} <= protected
    pid = os.getppid()
    while pid != 1:
        pid = facts(pid).ppid
        assert pid in protected


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("unshare") is None,
                    reason="needs root and unshare to hide an ancestor's /proc directory")
def test_an_ancestor_hidden_from_proc_ends_the_walk_and_keeps_what_was_seen():
    """As under hidepid=2 or in a container: oomtui still starts, protecting itself and its parent."""
    script = ("import json, os; from oomtui.act.procfs import protected_pids; "
              "print(json.dumps([os.getpid(), os.getppid(), sorted(protected_pids())]))")
    shell = 'mount -t tmpfs hidden /proc/$$ && "$0" -c "$1"'  # the shell's own /proc directory, covered
    repo = str(Path(__file__).resolve().parent.parent)
    out = subprocess.run(["unshare", "--mount", "sh", "-c", shell, sys.executable, script], capture_output=True,
                         text=True, timeout=60, check=True, env={**os.environ, "PYTHONPATH": repo})
    me, parent, protected = json.loads(out.stdout)
    assert protected == sorted({me, parent})  # the shell is protected though its ancestors could not be read


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("unshare") is None,
                    reason="needs root and unshare to hide a process's /proc directory")
def test_a_process_whose_proc_directory_cannot_be_read_is_never_signalled(hogs):
    """Its identity cannot be checked, so it is not killed, though its pidfd opened."""
    hog = spawn_hog("hidden", 0)
    hogs.append(hog)
    seen = collect_snapshot().process(hog.pid)
    assert seen is not None
    script = ("import json, signal, sys; from oomtui.act.kill import kill_targets; from oomtui.act.plan import Target; "
              "t = Target(**json.loads(sys.argv[1])); t = Target(t.pid, t.start_time, t.comm, t.cgroup, t.footprint, "
              "t.oom_score_adj, tuple(t.cmdline)); "
              "print(json.dumps([[o.status, o.ok] for o in kill_targets([t], signal.SIGKILL, frozenset())]))")
    shell = 'mount -t tmpfs hidden "/proc/$2" && "$0" -c "$1" "$3"'
    repo = str(Path(__file__).resolve().parent.parent)
    out = subprocess.run(["unshare", "--mount", "sh", "-c", shell, sys.executable, script, str(hog.pid),
                          json.dumps(Target.of(seen).to_json())], capture_output=True, text=True, timeout=60,
                         check=True, env={**os.environ, "PYTHONPATH": repo})
    assert json.loads(out.stdout) == [["gone", False]]
    assert hog.popen.poll() is None, "the hidden process was killed"
    assert same_start(facts(hog.pid).start_time, seen.start_time)


def test_each_outcome_says_what_was_sent_and_whether_it_exited(memcg, hogs):
    polite = spawn_hog("polite", 0, cgroup_dir=memcg.dir)
    stubborn = _stubborn(memcg.dir)
    hogs += [polite, stubborn]
    seen = {h.pid: facts(h.pid) for h in (polite, stubborn)}
    snap = collect_snapshot()
    targets = [Target.of(p) for h in (polite, stubborn) if (p := snap.process(h.pid)) is not None]
    assert kill_targets(targets, signal.SIGTERM, protected_pids()) == [
        Outcome(polite.pid, "polite", True, "sent SIGTERM; it exited", seen[polite.pid].start_time, "killed",
                True, "SIGTERM", True),
        Outcome(stubborn.pid, seen[stubborn.pid].comm, False,
                "sent SIGTERM; still running after 2 s (it is slow to stop, or handles or ignores the signal)",
                seen[stubborn.pid].start_time, "survived", True, "SIGTERM", False),
    ]
    assert kill_targets(targets[1:], signal.SIGKILL, protected_pids()) == [
        Outcome(stubborn.pid, seen[stubborn.pid].comm, True, "killed", seen[stubborn.pid].start_time, "killed",
                True, "SIGKILL", True),
    ]



def test_a_thread_id_is_refused_as_not_a_process(hogs):
    """A thread's id is in /proc too, but signalling it would hit its whole process: pidfd_open says EINVAL."""
    child = subprocess.Popen([sys.executable, "-c", (
        "import sys, threading, time; t = threading.Thread(target=time.sleep, args=(600,), daemon=True); t.start();"
        " print(t.native_id, flush=True); sys.stdin.read()")], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    hogs.append(Hog("threaded", child))
    assert child.stdout is not None
    tid = int(child.stdout.readline())
    # No start time either, so even a kernel that opened a pidfd for it would refuse before any signal.
    assert kill_targets([Target(tid, None, "worker", "/", 0, 0)], signal.SIGKILL, protected_pids()) == [
        Outcome(tid, "worker", False, f"failed: {tid} is not a process id (a thread id?)", None, "failed")]
    assert child.poll() is None


def _v1_hierarchy() -> Hierarchy:
    layout = detect_layout()
    assert layout.memory_root is not None
    return Hierarchy(Path(layout.memory_root), v2=False)


def _target(hog: Hog, cgroup: str) -> Target:
    f = facts(hog.pid)
    return Target(hog.pid, f.start_time, f.comm, cgroup, 0, 0)


def test_a_user_cannot_kill_roots_process_and_is_told_why(hogs):
    """oomtui run by an ordinary user: the kernel refuses the signal, the words say what would be needed."""
    victim = spawn_hog("roots", 0)
    hogs.append(victim)
    t = _target(victim, "/")
    said = json.loads(as_nobody(lambda: json.dumps(kill_targets([t], signal.SIGKILL, ())[0].to_json())))
    assert (said["status"], said["ok"], said["sent"], said["detail"]) == (
        "denied", False, None, "no permission (needs root or the same user)")
    time.sleep(0.2)
    assert victim.alive()


def _summary(outcomes: list[Outcome]) -> list[tuple]:
    return sorted((o.pid, o.comm, o.ok, o.status, o.planned, o.sent, o.exited, o.detail) for o in outcomes)


def test_a_group_kill_reports_each_process_once_and_what_joined_after_the_snapshot(memcg, hogs):
    """Spared and refused members were reported by the plan; newcomers are told apart, even one left alone."""
    victim = memcg.child("victim")
    keeper, guard, member = (spawn_hog(name, 0, cgroup_dir=victim.dir) for name in ("keeper", "guard", "member"))
    hogs += [keeper, guard, member]
    keep, guarded, target = (_target(h, victim.path) for h in (keeper, guard, member))
    plan = KillPlan(f"kill cgroup {victim.path}", signal.SIGKILL, (target,), (victim.path,),
                    ((keep, SPARED_ADJ),), ((guarded, REFUSED_SELF),))
    late, shell = (spawn_hog(name, 0, cgroup_dir=victim.dir) for name in ("late", "shell"))
    hogs += [late, shell]
    late_start = facts(late.pid).start_time
    # "shell" stands for oomtui's own session moving into the cgroup after the snapshot: refused, unplanned.
    outcomes, method, empty = kill_cgroups(plan, _v1_hierarchy(), {guard.pid, shell.pid})
    assert _summary(outcomes) == sorted([
        (member.pid, "member", True, "killed", True, "SIGKILL", True, "killed"),
        (late.pid, "late", True, "killed", False, "SIGKILL", True, "killed (joined the cgroup after the snapshot)"),
        (shell.pid, "?", False, "refused", False, None, None, f"{REFUSED_SELF} (joined the cgroup after the snapshot)"),
    ])
    assert (method, empty) == ("signalled one by one; the cgroup was empty afterwards", True)
    assert sorted(victim.pids()) == sorted([keeper.pid, guard.pid, shell.pid])
    [seen] = [o.start_time for o in outcomes if o.pid == late.pid]
    assert seen is not None and same_start(late_start, seen)  # the newcomer's own start, read at the kill


def test_a_member_that_cannot_die_is_reported_stuck_once_the_deadline_passes(memcg, hogs, monkeypatch):
    """A frozen process takes SIGKILL only when thawed: the kill gives up after its deadline and says so."""
    monkeypatch.setattr(kill, "GROUP_DEADLINE", 0.5)
    victim = memcg.child("victim")
    stuck = spawn_hog("stuck", 0, cgroup_dir=victim.dir)
    hogs.append(stuck)
    plan = KillPlan(f"kill cgroup {victim.path}", signal.SIGKILL, (_target(stuck, victim.path),), (victim.path,))
    with ThreadPoolExecutor(1) as pool, v1_frozen(stuck.pid):  # thawed first, so a kill that never gives up ends
        outcomes, method, empty = pool.submit(kill_cgroups, plan, _v1_hierarchy(), protected_pids()).result(30)
        assert victim.pids() == [stuck.pid]
    assert _summary(outcomes) == [(stuck.pid, "stuck", True, "killed", True, "SIGKILL", False,
                                   "sent SIGKILL, but it had not exited after 0.5 s (stuck in the kernel?)")]
    assert (method, empty) == ("signalled one by one; 1 process still in the cgroup afterwards", False)
    assert _exit_code(stuck.popen) == -signal.SIGKILL  # thawed, it dies of the signal it was sent


@pytest.mark.parametrize(("lines", "v2", "path"), [
    ("5:cpu,memory:/shop/cart:7\n0::/other\n", False, "/shop/cart:7"),  # co-mounted controllers, ':' in a name
    ("5:cpu,memory:/shop/cart:7\n0::/other:x\n", True, "/other:x"),
    ("3:name=memory:/fake\n0::/x\n", False, None),
])
def test_the_cgroup_a_member_is_in_now_is_read_from_its_hierarchys_line(tmp_path, lines, v2, path):
    """The re-check that a member is still inside the killed cgroup reads /proc/PID/cgroup (here a copy)."""
    (tmp_path / "cgroup").write_text(lines)
    fd = os.open(tmp_path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        assert cgroup_of(fd, v2) == path
    finally:
        os.close(fd)


def test_members_are_listed_parents_first_once_each_skipping_cgroups_that_vanished(tmp_path):
    (tmp_path / "b").mkdir()
    (tmp_path / "a").mkdir()  # removed mid-walk: its files are gone
    (tmp_path / "cgroup.procs").write_text("30\n10\n")
    (tmp_path / "b" / "cgroup.procs").write_text("50\n30\n")
    assert members([tmp_path, tmp_path / "gone"]) == [30, 10, 50]


def test_more_targets_than_pidfds_held_at_once_are_all_killed_and_reported(memcg):
    shell = _sleepers(memcg.dir, kill.CHUNK + 20)
    try:
        pids = [pid for pid in memcg.pids() if pid != shell.pid]
        targets = [Target(pid, facts(pid).start_time, "sleep", memcg.path, 0, 0) for pid in pids]
        outcomes = kill_targets(targets, signal.SIGKILL, protected_pids())
        assert sorted((o.pid, o.status) for o in outcomes) == sorted((pid, "killed") for pid in pids)
    finally:
        shell.kill()
        shell.wait()


def test_a_v2_cgroup_removed_since_the_snapshot_reports_its_members_gone(v2cg, audit):
    layout, path, _ = v2cg
    gone = f"{path}/removed"
    t = Target(5_000_000, 200.0, "java", gone, 1 << 20, 0)  # above the kernel's PID_MAX_LIMIT: never a real process
    report = HostActor(audit, layout).kill(KillPlan(f"kill cgroup {gone}", signal.SIGKILL, (t,), (gone,)))
    assert report.outcomes == (Outcome(t.pid, "java", False, GONE, 200.0, "gone"),)
    assert (report.summary, report.cgroups_empty) == ("1 already gone", True)


def _frozen_race(tmp_path: Path, *pids: int) -> Hierarchy:
    """A v2 memory tree whose /app lists `pids`, laid out by hand: it holds still a race the kernel's would not.

    Between listing a cgroup's members and looking at each, one may exit or move away; here they stay listed.
    """
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "cgroup.procs").write_text("".join(f"{pid}\n" for pid in pids))
    (tmp_path / "app" / "cgroup.kill").write_text("")
    return Hierarchy(tmp_path, True)


def test_a_member_gone_by_the_time_it_is_looked_at_still_lets_the_kernel_kill_the_cgroup(tmp_path):
    t = Target(5_000_000, 200.0, "java", "/app", 1 << 20, 0)  # above the kernel's PID_MAX_LIMIT: never a real process
    hierarchy = _frozen_race(tmp_path, t.pid)
    outcomes, method, _ = kill_cgroups(KillPlan("kill cgroup /app", signal.SIGKILL, (t,), ("/app",)), hierarchy, ())
    assert outcomes == [Outcome(t.pid, "java", False, GONE, 200.0, "gone")]
    assert method.startswith("the kernel's cgroup.kill;")
    assert (tmp_path / "app" / "cgroup.kill").read_text() == "1"


def test_processes_that_only_passed_through_the_cgroup_during_the_kill_are_not_reported(tmp_path, hogs):
    """Not planned and never signalled: one that vanished, one that left for another cgroup (it lives on)."""
    passer = spawn_hog("passer", 0)
    hogs.append(passer)
    hierarchy = _frozen_race(tmp_path, 5_000_000, passer.pid)
    outcomes, method, _ = kill_cgroups(KillPlan("kill cgroup /app", signal.SIGKILL, (), ("/app",)), hierarchy, ())
    assert outcomes == []
    assert method.startswith("frozen (cgroup.freeze), then signalled one by one, then thawed;")
    assert passer.alive()


def test_a_group_kill_reports_planned_members_that_left_or_were_refused_at_once_just_once(memcg, tmp_path, hogs):
    """A copy of the cgroup's member list holds a race still: its pids are looked at in turn, as listed.

    A planned member already elsewhere, which then exits on its own, was not killed by us; one refused before its
    facts were read (host init) is the planned process all the same, reported once; a vanished newcomer is skipped
    without cutting the report short.
    """
    fake = tmp_path / memcg.path.lstrip("/")
    fake.mkdir(parents=True)
    leaver = spawn_hog("leaver", 0)  # in our own cgroup: it left the killed one
    member = spawn_hog("member", 0, cgroup_dir=memcg.dir)
    hogs += [leaver, member]
    init = facts(1)
    targets = (_target(leaver, memcg.path), Target(1, init.start_time, init.comm, memcg.path, 0, 0),
               _target(member, memcg.path))
    (fake / "cgroup.procs").write_text(f"5000000\n{leaver.pid}\n1\n{member.pid}\n")  # 5000000: above PID_MAX_LIMIT
    plan = KillPlan(f"kill cgroup {memcg.path}", signal.SIGTERM, targets, (memcg.path,))
    with ThreadPoolExecutor(1) as pool:
        running = pool.submit(kill_cgroups, plan, Hierarchy(tmp_path, v2=False), ())
        assert _exit_code(member.popen) == -signal.SIGTERM  # signalled after the leaver was looked at
        assert leaver.popen.stdin is not None
        leaver.popen.stdin.close()  # it exits while the kill waits for the listed members to leave
        assert _exit_code(leaver.popen) == 0
        outcomes, method, empty = running.result(30)
    assert _summary(outcomes) == sorted([
        (leaver.pid, "leaver", False, "gone", True, None, None, "exited on its own during the kill"),
        (1, init.comm, False, "refused", True, None, None, REFUSED_INIT),
        (member.pid, "member", True, "killed", True, "SIGTERM", True, "sent SIGTERM; it exited"),
    ])
    assert [o.start_time for o in outcomes if o.pid == 1] == [init.start_time]
    assert (method, empty) == ("signalled one by one; 3 processes still in the cgroup afterwards", False)


_KILLER_INSIDE = r"""
import json, os, signal, sys
from pathlib import Path
from oomtui.act.kill import Hierarchy, kill_cgroups
from oomtui.act.plan import KillPlan, Target
root, path, pid, start = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
Path(root, path.lstrip("/"), "cgroup.procs").write_text(str(os.getpid()))
plan = KillPlan(f"kill cgroup {path}", signal.SIGKILL, (Target(pid, start, "victim", path, 0, 0),), (path,))
outcomes, method, empty = kill_cgroups(plan, Hierarchy(Path(root), v2=True), {os.getpid()})
print(json.dumps([method, sorted((o.pid, o.status) for o in outcomes)]))
"""


def test_a_killer_inside_the_v2_cgroup_it_kills_never_freezes_itself(v2cg, hogs):
    """oomtui run from a shell inside the cgroup: freezing it would freeze the kill halfway, for good."""
    layout, path, d = v2cg
    victim = Hog("victim", subprocess.Popen(["sleep", "60"]))
    hogs.append(victim)
    (d / "cgroup.procs").write_text(str(victim.pid))
    killer = subprocess.Popen([sys.executable, "-c", _KILLER_INSIDE, str(layout.v2_root), path, str(victim.pid),
                               repr(facts(victim.pid).start_time)], stdout=subprocess.PIPE, text=True)
    try:
        out, _ = killer.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        (d / "cgroup.freeze").write_text("0")  # thawed, it finishes and is reaped below
        killer.communicate()
        pytest.fail("the kill froze the cgroup its own process is in")
    method, outcomes = json.loads(out)
    assert method == "signalled one by one; the cgroup was empty afterwards"
    assert outcomes == [[victim.pid, "killed"], [killer.pid, "refused"]]
    assert _exit_code(victim.popen) == -signal.SIGKILL


def test_a_v2_cgroup_its_owner_froze_is_killed_and_left_frozen(v2cg, audit, hogs):
    """oomtui thaws only what it froze: a freeze someone else made (systemctl freeze, a checkpoint) stays."""
    layout, path, d = v2cg
    member = spawn_hog("member", 0, cgroup_dir=d)
    hogs.append(member)
    (d / "cgroup.freeze").write_text("1")
    report = HostActor(audit, layout).kill(plan_cgroup_kill(_v2_snapshot(path, d), path))
    assert [(o.pid, o.status) for o in report.outcomes] == [(member.pid, "killed")]
    assert _exit_code(member.popen) == -signal.SIGKILL
    assert (d / "cgroup.freeze").read_text().strip() == "1"


_SUPERVISOR = r"""
import os, signal, sys, time
with open(sys.argv[1], "w") as f:
    f.write(str(os.getpid()))
def rescue(*_):
    try:  # its worker out of the cgroup being killed, before the kill gets to it
        with open(sys.argv[3], "w") as f:
            f.write(sys.argv[2])
    except OSError:
        pass
    os._exit(0)
signal.signal(signal.SIGTERM, rescue)
sys.stdout.write("ready\n"); sys.stdout.flush()
time.sleep(3600)
"""


def test_a_v2_group_kill_signals_every_member_before_any_can_act_on_its_signal(v2cg, audit, hogs):
    """Frozen, a supervisor's SIGTERM handler cannot move its worker out of the cgroup before the kill reaches it.

    The supervisor is signalled first (parents' cgroups first), then a crowd, then the worker: unfrozen, the
    handler would have all that time to run.
    """
    layout, path, d = v2cg
    app, away = d / "app", d / "away"
    crowd_dir, worker_dir = app / "crowd", app / "worker"
    for c in (app, away, crowd_dir, worker_dir):
        c.mkdir()
    crowd = None
    try:
        worker = spawn_hog("worker", 0, cgroup_dir=worker_dir)
        hogs.append(worker)
        supervisor = subprocess.Popen([sys.executable, "-c", _SUPERVISOR, str(app / "cgroup.procs"), str(worker.pid),
                                       str(away / "cgroup.procs")], stdout=subprocess.PIPE)
        hogs.append(Hog("supervisor", supervisor))
        assert supervisor.stdout is not None and supervisor.stdout.readline().strip() == b"ready"
        crowd = _sleepers(crowd_dir, 60)
        plan = KillPlan(f"kill cgroup {path}/app", signal.SIGTERM, (
            _target(hogs[-1], f"{path}/app"), _target(worker, f"{path}/app/worker")), (f"{path}/app",))
        report = HostActor(audit, layout).kill(plan)
        assert _exit_code(worker.popen) == -signal.SIGTERM  # not rescued
        assert _exit_code(supervisor) == 0  # its handler ran, once thawed
        assert [(o.pid, o.status, o.detail) for o in report.outcomes if o.planned] == [
            (supervisor.pid, "killed", "sent SIGTERM; it exited"), (worker.pid, "killed", "sent SIGTERM; it exited")]
        assert report.method.startswith("frozen (cgroup.freeze), then signalled one by one, then thawed;")
    finally:
        (d / "cgroup.kill").write_text("1")  # only what this test started is in there
        if crowd is not None:
            crowd.wait()
        for c in (worker_dir, crowd_dir, away, app):
            rmdir_patiently(c)


_SPINNER = "while True: pass"


def test_the_freezer_holds_a_v2_cgroup_frozen_until_it_is_done_and_thaws_it(v2cg, hogs):
    """The one-by-one kill runs inside it: busy members, which take a while to stop, are all stopped first."""
    _, _, d = v2cg
    for _ in range(6):
        hogs.append(Hog("spinner", subprocess.Popen([sys.executable, "-c", _SPINNER])))
        (d / "cgroup.procs").write_text(str(hogs[-1].pid))
    with Freezer([d]):
        assert "frozen 1" in (d / "cgroup.events").read_text().splitlines()
        assert (d / "cgroup.freeze").read_text().strip() == "1"
    assert (d / "cgroup.freeze").read_text().strip() == "0"
    assert all(h.alive() for h in hogs)


def test_a_cgroup_removed_while_frozen_needs_no_thaw(v2cg):
    """The kill empties a cgroup, its manager may remove it before oomtui thaws it: the kill goes on."""
    _, _, d = v2cg
    child = d / "child"
    child.mkdir()
    with Freezer([child]):
        assert "frozen 1" in (child / "cgroup.events").read_text().splitlines()
        child.rmdir()
    assert not child.exists()


def test_a_cgroup_that_never_says_it_is_frozen_is_killed_unfrozen_after_a_while_and_thawed(tmp_path):
    """A member in uninterruptible sleep can keep a cgroup from freezing: the kill must not wait for it forever.

    A real cgroup freezes at once here, so this one is laid out by hand, its cgroup.events stuck at "frozen 0".
    """
    d = tmp_path / "stuck"
    d.mkdir()
    (d / "cgroup.freeze").write_text("0\n")
    (d / "cgroup.events").write_text("populated 1\nfrozen 0\n")
    inside: list[str] = []

    def run_kill() -> None:
        with Freezer([d]):
            inside.append((d / "cgroup.freeze").read_text())

    worker = threading.Thread(target=run_kill, daemon=True)
    worker.start()
    worker.join(FREEZE_WAIT + 10)
    assert inside == ["1"]
    assert (d / "cgroup.freeze").read_text() == "0"


def test_a_pid_recycled_into_the_cgroup_during_the_kill_is_told_apart_from_the_member_that_had_it(memcg, hogs):
    """The member killed first is reported once; the newcomer that got its pid is killed too, as a newcomer."""
    victim = memcg.child("victim")
    first, stuck = (spawn_hog(name, 0, cgroup_dir=victim.dir) for name in ("first", "stuck"))
    hogs += [first, stuck]
    plan = KillPlan(f"kill cgroup {victim.path}", signal.SIGKILL,
                    (_target(first, victim.path), _target(stuck, victim.path)), (victim.path,))
    with ThreadPoolExecutor(1) as pool:
        with v1_frozen(stuck.pid):  # keeps the kill's passes going until the newcomer is in
            running = pool.submit(kill_cgroups, plan, _v1_hierarchy(), protected_pids())
            assert _exit_code(first.popen) == -signal.SIGKILL  # reaped: its pid is free
            status = Newcomer(first.pid, victim.dir, name="sleep").status()
            assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL
        outcomes, method, empty = running.result(30)
    [reused] = [o.start_time for o in outcomes if not o.planned]
    assert reused is not None and not same_start(plan.targets[0].start_time or 0.0, reused)
    assert _summary(outcomes) == sorted([
        (first.pid, "first", True, "killed", True, "SIGKILL", True, "killed"),
        (first.pid, "sleep", True, "killed", False, "SIGKILL", True, "killed (joined the cgroup after the snapshot)"),
        (stuck.pid, "stuck", True, "killed", True, "SIGKILL", True, "killed"),
    ])
    assert (method, empty) == ("signalled one by one; the cgroup was empty afterwards", True)


def test_a_process_whose_main_thread_exited_while_others_run_is_killed_not_taken_for_a_zombie(memcg, hogs):
    """/proc/PID/stat says Z of the leader, yet the process lives on in its other threads."""
    child = subprocess.Popen([sys.executable, "-c", (
        "import ctypes, os, sys, threading, time; open(sys.argv[1], 'w').write(str(os.getpid()));"
        " threading.Thread(target=time.sleep, args=(600,)).start(); print('ready', flush=True);"
        " ctypes.CDLL(None).pthread_exit(None)"), str(memcg.dir / "cgroup.procs")], stdout=subprocess.PIPE)
    hogs.append(Hog("leaderless", child))
    assert child.stdout is not None and child.stdout.readline().strip() == b"ready"
    for _ in range(200):
        if facts(child.pid).state == "Z":
            break
        time.sleep(0.01)
    f = facts(child.pid)
    assert f.state == "Z" and not f.exited
    [o] = kill_targets([Target(child.pid, f.start_time, f.comm, memcg.path, 0, 0)], signal.SIGKILL, protected_pids())
    assert (o.ok, o.status, o.detail) == (True, "killed", "killed")
    assert _exit_code(child) == -signal.SIGKILL

