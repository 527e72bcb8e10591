"""Small hosts built in code, a scripted collector and a recording actor for the TUI tests."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from oomtui.act import KillPlan, KillReport, KnobResult, KnobWrite, Outcome
from oomtui.model import Cgroup, Host, Process, Snapshot, frozen_map

MiB = 1 << 20
GiB = 1 << 30
T0 = 1_764_000_000.0


def host() -> Host:
    return Host(hostname="testhost", kernel="6.6.0", page_size=4096, mem_total=8 * GiB,
                mem_available=2 * GiB, swap_total=0, swap_free=0, cgroup_mode="v2")


def proc(pid: int, comm: str, cgroup: str, anon: int, *, adj: int = 0, start: float | None = None) -> Process:
    return Process(pid=pid, comm=comm, cgroup=cgroup, oom_score_adj=adj, ppid=1, cmdline=(comm, "--serve"),
                   uid=1000, rss_anon=anon, rss_file=4 * MiB, rss_shmem=0, swap=0, pgtables=64 * 1024,
                   oom_score=None, start_time=T0 + (pid if start is None else start))


def small_host(**renames: str) -> Snapshot:
    """Two slices; /user.slice/app has a limit and memory.oom.group, db.service has a limit.

    `renames` replaces process names by pid as a string (for hostile-name tests).
    """
    cgroups = (
        Cgroup(path="/", memory_current=6 * GiB),
        Cgroup(path="/system.slice", memory_current=1 * GiB),
        Cgroup(path="/system.slice/db.service", memory_current=900 * MiB, memory_max=1 * GiB, oom_group=False,
               events=frozen_map({"oom": 3, "oom_kill": 2})),
        Cgroup(path="/user.slice", memory_current=3 * GiB),
        Cgroup(path="/user.slice/app", memory_current=2500 * MiB, memory_max=4 * GiB, oom_group=True,
               events=frozen_map({"oom_kill": 0})),
        Cgroup(path="/user.slice/app/worker", memory_current=1 * GiB, oom_group=False),
    )
    processes = [
        proc(1, "systemd", "/", 8 * MiB),
        Process(pid=2, comm="kthreadd", cgroup="/", kernel_thread=True, start_time=T0),
        proc(100, "postgres", "/system.slice/db.service", 800 * MiB),
        proc(101, "postgres-wal", "/system.slice/db.service", 50 * MiB),
        proc(200, "app-main", "/user.slice/app", 1200 * MiB),
        proc(201, "app-worker", "/user.slice/app/worker", 900 * MiB),
        proc(202, "app-helper", "/user.slice/app/worker", 100 * MiB),
        proc(300, "bash", "/user.slice", 10 * MiB),
    ]
    processes = [dataclasses.replace(p, comm=renames.get(str(p.pid), p.comm)) for p in processes]
    return Snapshot(host=host(), cgroups=cgroups, processes=tuple(processes), taken_at=T0 + 1000, source="synthetic")


def grown(snap: Snapshot, pid: int, anon: int, taken_at: float | None = None) -> Snapshot:
    """The same host a moment later with one process at a new size."""
    procs = tuple(dataclasses.replace(p, rss_anon=anon) if p.pid == pid else p for p in snap.processes)
    return snap.replace(processes=procs, taken_at=taken_at or (snap.taken_at or 0) + 2)


class ScriptedCollector:
    """Hands out the given samples in turn, then keeps repeating the last."""

    def __init__(self, samples: Sequence[Snapshot]) -> None:
        self.samples = list(samples)
        self.calls = 0

    def collect(self) -> Snapshot:
        sample = self.samples[min(self.calls, len(self.samples) - 1)]
        self.calls += 1
        return sample


class RecordingActor:
    """An actor that records what it was handed and reports every process killed."""

    def __init__(self) -> None:
        self.plans: list[KillPlan] = []
        self.writes: list[list[KnobWrite]] = []

    def kill(self, plan: KillPlan) -> KillReport:
        self.plans.append(plan)
        outcomes = tuple(Outcome(pid=t.pid, comm=t.comm, ok=True, detail="killed", start_time=t.start_time,
                                 status="killed") for t in plan.targets)
        return KillReport(plan=plan, outcomes=outcomes, summary=f"{len(outcomes)} of {len(outcomes)} killed")

    def apply(self, writes: Sequence[KnobWrite]) -> list[KnobResult]:
        self.writes.append(list(writes))
        return [KnobResult(write=w, ok=True, detail="written") for w in writes]
