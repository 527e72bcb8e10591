"""Carrying out a decision that names several processes without a cgroup: exactly those, -1000 spared.

Userspace killers and what-if decisions can name a victim and others to die
with it, outside any cgroup kill. The plan must list the victim and every
named process the snapshot holds, spare the -1000 ones as a group kill does,
and say how many die.
"""

from __future__ import annotations

from oomtui.act import plan_decision_kill
from oomtui.model import Cgroup, Host, Process, Snapshot
from oomtui.policies.base import Decision

MIB = 1 << 20


def test_a_decision_naming_several_processes_plans_exactly_those_and_spares_minus_1000():
    snap = Snapshot(
        host=Host("h", "6.18.0", 4096, 8 << 30, 4 << 30, 0, 0, "v2"),
        cgroups=(Cgroup("/"), Cgroup("/app")),
        processes=(
            Process(1, "systemd", "/", ppid=0, start_time=100.0, rss_anon=10 * MIB),
            Process(10, "java", "/app", ppid=1, start_time=200.0, rss_anon=500 * MIB),
            Process(11, "keeper", "/app", ppid=1, start_time=201.0, rss_anon=5 * MIB, oom_score_adj=-1000),
            Process(12, "worker", "/app", ppid=10, start_time=202.0, rss_anon=50 * MIB),
            Process(13, "bystander", "/app", ppid=1, start_time=203.0, rss_anon=50 * MIB),
        ),
    )
    d = Decision("nohang", "/", True, "named", victim_pid=10, victim_pid_cgroup="/app",
                 killed_pids=(10, 12, 11, 999))  # 999 exited before the snapshot
    plan = plan_decision_kill(snap, d)
    assert [t.pid for t in plan.targets] == [10, 12]
    assert [(t.pid, why) for t, why in plan.spared] == [
        (11, "spared: oom_score_adj -1000 (the kernel spares it in a group kill too)")]
    assert plan.cgroups == () and plan.refused == ()
    assert plan.title == "carry out nohang's decision: kill 2 processes"
