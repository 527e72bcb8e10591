"""Kill and knob plans built from a snapshot: what dies, what is spared, what is refused."""

from __future__ import annotations

import signal

import pytest

from oomtui.act import (
    PlanError,
    Target,
    plan_cgroup_kill,
    plan_decision_kill,
    plan_knob_writes,
    plan_process_kill,
)
from oomtui.model import Cgroup, CgroupEdit, Host, Process, ProcessEdit, Snapshot, WhatIf
from oomtui.policies.base import Decision

MIB = 1 << 20


def _host(mode: str = "v2") -> Host:
    return Host("h", "6.18.0", 4096, 8 << 30, 4 << 30, 0, 0, mode)  # type: ignore[arg-type]


def _snapshot(mode: str = "v2") -> Snapshot:
    oom_group = None if mode == "v1" else False
    cgroups = (
        Cgroup("/", oom_group=None),
        Cgroup("/app", memory_max=1 << 30, oom_group=oom_group, xattrs={"user.oomd_avoid": "1"}),
        Cgroup("/app/web", oom_group=oom_group),
        Cgroup("/other", oom_group=oom_group),
    )
    procs = (
        Process(1, "systemd", "/", ppid=0, start_time=100.0, rss_anon=10 * MIB),
        Process(2, "kthreadd", "/", ppid=0, start_time=100.0, kernel_thread=True),
        Process(10, "java", "/app", ppid=1, start_time=200.0, rss_anon=500 * MIB),
        Process(11, "sshd-keep", "/app", ppid=1, start_time=201.0, rss_anon=5 * MIB, oom_score_adj=-1000),
        Process(12, "nginx", "/app/web", ppid=1, start_time=202.0, rss_anon=50 * MIB, oom_score_adj=300),
        Process(13, "bash", "/app/web", ppid=1, start_time=203.0, rss_anon=3 * MIB),
        Process(20, "other", "/other", ppid=1, start_time=204.0, rss_anon=7 * MIB),
    )
    return Snapshot(host=_host(mode), cgroups=cgroups, processes=procs, taken_at=300.0)


def _pids(items) -> list[int]:
    return [t.pid if isinstance(t, Target) else t[0].pid for t in items]


def test_process_kill_names_the_process_with_its_identity():
    plan = plan_process_kill(_snapshot(), 10)
    assert plan.title == "kill process 10 (java)"
    assert plan.signal == signal.SIGKILL
    assert plan.targets == (Target(10, 200.0, "java", "/app", 500 * MIB, 0),)
    assert plan.cgroups == () and plan.spared == () and plan.refused == ()


def test_process_kill_with_sigterm_says_so():
    plan = plan_process_kill(_snapshot(), 12, signal=signal.SIGTERM)
    assert plan.title == "send SIGTERM to process 12 (nginx)"
    assert plan.signal_name == "SIGTERM"


def test_a_process_chosen_by_hand_is_not_spared_by_its_adj():
    plan = plan_process_kill(_snapshot(), 11)
    assert _pids(plan.targets) == [11] and plan.spared == ()


@pytest.mark.parametrize(("pid", "reason"), [
    (1, "refused: host init (pid 1)"),
    (2, "refused: kernel thread"),
])
def test_init_and_kernel_threads_are_refused(pid, reason):
    plan = plan_process_kill(_snapshot(), pid)
    assert plan.targets == ()
    assert [(t.pid, why) for t, why in plan.refused] == [(pid, reason)]


def test_oomtui_and_its_ancestors_are_refused():
    plan = plan_cgroup_kill(_snapshot(), "/app", protected_pids=frozenset({13, 12}))
    assert _pids(plan.targets) == [10]
    assert sorted(_pids(plan.refused)) == [12, 13]
    assert all("oomtui itself" in why for _, why in plan.refused)


def test_cgroup_kill_takes_the_subtree_and_spares_minus_1000():
    plan = plan_cgroup_kill(_snapshot(), "/app")
    assert plan.title == "kill cgroup /app (3 processes)"
    assert plan.cgroups == ("/app",)
    assert _pids(plan.targets) == [10, 12, 13]
    assert [(t.pid, why) for t, why in plan.spared] == [
        (11, "spared: oom_score_adj -1000 (the kernel spares it in a group kill too)"),
    ]
    assert 20 not in _pids(plan.targets)
    assert plan.footprint == (500 + 50 + 3) * MIB


def test_unknown_pid_and_cgroup_and_the_root_are_errors():
    with pytest.raises(PlanError, match=r"^no process 999 \(it is not running, or has exited since the sample\)$"):
        plan_process_kill(_snapshot(), 999)
    with pytest.raises(PlanError, match=r"^no cgroup /nope \(it does not exist, or was removed since the sample\)$"):
        plan_cgroup_kill(_snapshot(), "/nope")
    with pytest.raises(PlanError, match=r"^refusing to kill the root cgroup: that is every process on the host$"):
        plan_cgroup_kill(_snapshot(), "/")


def test_a_cgroup_of_one_process_says_process():
    assert plan_cgroup_kill(_snapshot(), "/other").title == "kill cgroup /other (1 process)"
    term = plan_cgroup_kill(_snapshot(), "/other", signal.SIGTERM)
    assert (term.title, term.signal) == ("send SIGTERM to cgroup /other (1 process)", signal.SIGTERM)


def test_decision_with_a_victim_process():
    d = Decision("kernel", "/", None, "largest", victim_pid=10, victim_pid_cgroup="/app", killed_pids=(10,))
    plan = plan_decision_kill(_snapshot(), d)
    assert plan.title == "carry out kernel's decision: kill process 10 (java)"
    assert _pids(plan.targets) == [10] and plan.signal == signal.SIGKILL
    term = plan_decision_kill(_snapshot(), d, signal.SIGTERM)
    assert term.title == "carry out kernel's decision: send SIGTERM to process 10 (java)"
    assert term.signal == signal.SIGTERM


def test_decision_with_a_group_kill_spares_minus_1000_but_not_the_victim():
    d = Decision("kernel", "/", None, "oom.group", victim_pid=12, victim_pid_cgroup="/app/web",
                 victim_cgroup="/app", killed_pids=(12, 10, 13))
    plan = plan_decision_kill(_snapshot(), d)
    assert plan.title == "carry out kernel's decision: kill cgroup /app (3 processes)"
    assert _pids(plan.targets) == [12, 10, 13]
    assert _pids(plan.spared) == [11]
    assert plan.cgroups == ("/app",)


def test_a_decision_naming_a_minus_1000_victim_kills_it_as_named():
    """The victim a policy names is its pick, as a process chosen by hand: only group members are spared."""
    d = Decision("earlyoom", "/", None, "largest", victim_pid=11, victim_pid_cgroup="/app", killed_pids=(11,))
    plan = plan_decision_kill(_snapshot(), d)
    assert _pids(plan.targets) == [11] and plan.spared == ()


def test_decision_that_kills_nothing_is_an_error():
    d = Decision("earlyoom", "/", False, "memory is fine")
    with pytest.raises(PlanError, match="would kill nothing: memory is fine"):
        plan_decision_kill(_snapshot(), d)


def test_knob_writes_leave_out_edits_equal_to_the_host():
    whatif = WhatIf(
        cgroups={
            "/app": CgroupEdit(
                interdependent=True, score=500, xattrs={"user.oomd_avoid": "1", "user.oomd_prefer": "1"},
            ),
            "/app/web": CgroupEdit(interdependent=False, xattrs={"user.oomd_omit": None}),
            "/other": CgroupEdit(xattrs={"user.oomd_avoid": None}),
        },
        processes={10: ProcessEdit(oom_score_adj=500), 12: ProcessEdit(oom_score_adj=300), 999: ProcessEdit(1)},
    )
    writes = plan_knob_writes(_snapshot(), whatif)
    assert [(w.kind, w.cgroup, w.pid, w.name, w.value) for w in writes] == [
        ("oom_group", "/app", None, None, True),
        ("xattr", "/app", None, "user.oomd_prefer", "1"),
        ("oom_score_adj", None, 10, None, 500),
    ]
    assert writes[2].start_time == 200.0
    assert [w.description for w in writes] == [
        "mark cgroup /app interdependent (memory.oom.group 1)",
        "set xattr user.oomd_prefer='1' on cgroup /app",
        "set oom_score_adj of process 10 (java) from 0 to 500",
    ]


def test_knob_writes_on_v1_still_ask_for_oom_group_so_the_user_hears_why_not():
    writes = plan_knob_writes(_snapshot("v1"), WhatIf(cgroups={
        "/app": CgroupEdit(interdependent=True), "/other": CgroupEdit(interdependent=False),
    }))
    assert [(w.kind, w.cgroup, w.value) for w in writes] == [("oom_group", "/app", True)]


def test_knob_writes_skip_what_is_gone_or_unchanged_and_say_what_they_change():
    snap = _snapshot()
    snap = Snapshot(host=snap.host, processes=snap.processes, taken_at=snap.taken_at, cgroups=tuple(
        Cgroup(c.path, oom_group=True, xattrs=c.xattrs) if c.path == "/other" else c for c in snap.cgroups))
    writes = plan_knob_writes(snap, WhatIf(cgroups={
        "/gone": CgroupEdit(interdependent=True),
        "/other": CgroupEdit(interdependent=False),
        "/app": CgroupEdit(interdependent=False, xattrs={"user.oomd_avoid": None}),
    }, processes={12: ProcessEdit(oom_score_adj=300), 999: ProcessEdit(1), 13: ProcessEdit(oom_score_adj=100)}))
    assert [(w.kind, w.cgroup, w.name, w.value, w.description) for w in writes] == [
        ("oom_group", "/other", None, False, "mark cgroup /other independent (memory.oom.group 0)"),
        ("xattr", "/app", "user.oomd_avoid", None, "remove xattr user.oomd_avoid from cgroup /app"),
        ("oom_score_adj", None, None, 100, "set oom_score_adj of process 13 (bash) from 0 to 100"),
    ]


def _seen(pid: int, comm: str, cgroup: str, mib: int, adj: int, start: float) -> dict:
    return {"pid": pid, "start_time": start, "comm": comm, "cgroup": cgroup, "footprint": mib * MIB,
            "oom_score_adj": adj, "cmdline": []}


def test_the_plan_as_audited_and_printed_by_dry_run_names_every_process_and_why():
    plan = plan_cgroup_kill(_snapshot(), "/app", signal.SIGTERM, protected_pids=frozenset({13}))
    assert plan.to_json() == {
        "title": "send SIGTERM to cgroup /app (2 processes)",
        "signal": "SIGTERM",
        "targets": [_seen(10, "java", "/app", 500, 0, 200.0), _seen(12, "nginx", "/app/web", 50, 300, 202.0)],
        "cgroups": ["/app"],
        "spared": [{**_seen(11, "sshd-keep", "/app", 5, -1000, 201.0),
                    "reason": "spared: oom_score_adj -1000 (the kernel spares it in a group kill too)"}],
        "refused": [{**_seen(13, "bash", "/app/web", 3, 0, 203.0),
                     "reason": "refused: oomtui itself or its parent chain (the shell and terminal it runs in)"}],
    }


def test_a_target_keeps_the_command_line_the_confirmation_shows():
    p = Process(30, "java", "/app", ppid=1, start_time=1.0, cmdline=("java", "-jar", "cart.jar"))
    assert Target.of(p).cmdline == ("java", "-jar", "cart.jar")
    assert Target.of(p).to_json()["cmdline"] == ["java", "-jar", "cart.jar"]
