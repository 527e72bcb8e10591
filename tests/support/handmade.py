"""Small hand-built snapshots for policy and what-if tests.

The host has 1000 MiB and no swap, so the budget is 1000 MiB and a score of
1 weighs exactly 1 MiB: expected answers can be worked out by hand.
"""

from __future__ import annotations

from oomtui.model import Cgroup, Host, OomEvent, Process, Snapshot, WhatIf

MiB = 1 << 20


def host(kernel: str = "6.18.0", mem_total: int = 1000 * MiB, swap_total: int = 0) -> Host:
    return Host(
        hostname="test", kernel=kernel, page_size=4096, mem_total=mem_total, mem_available=mem_total // 2,
        swap_total=swap_total, swap_free=swap_total, cgroup_mode="v2",
    )


def proc(pid: int, cgroup: str, mib: float, adj: int = 0, comm: str | None = None, **kw: object) -> Process:
    return Process(
        pid=pid, comm=comm or f"p{pid}", cgroup=cgroup, oom_score_adj=adj, ppid=1,
        rss_anon=int(mib * MiB), rss_file=0, rss_shmem=0, swap=0, pgtables=0, start_time=1000.0 + pid, **kw,
    )


def cgroup(path: str, mib: float | None = None, **kw: object) -> Cgroup:
    return Cgroup(path=path, memory_current=None if mib is None else int(mib * MiB), **kw)


def snapshot(
    cgroups: list[Cgroup],
    processes: list[Process],
    whatif: WhatIf | None = None,
    oom_event: OomEvent | None = None,
    **host_kw: object,
) -> Snapshot:
    return Snapshot(
        host=host(**host_kw), cgroups=tuple(cgroups), processes=tuple(processes), taken_at=1_700_000_000.0,
        source="synthetic", whatif=whatif, oom_event=oom_event,
    )
