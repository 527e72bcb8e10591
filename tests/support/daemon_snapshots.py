"""Small snapshot fixtures for the userspace-killer tests, built from the model directly.

The daemons' own test suites describe cgroups by a handful of numbers
(memory.current, swap, pressure, an xattr); these helpers let a test say
just those numbers and leave everything else at its "not read" default.
"""

from __future__ import annotations

from oomtui.model import (
    ROOT,
    Cgroup,
    Host,
    Pressure,
    PressureLine,
    Process,
    ProcessEdit,
    Snapshot,
    Trend,
    WhatIf,
    frozen_map,
)

KiB, MiB, GiB = 1 << 10, 1 << 20, 1 << 30


def host(
    mem_total: int = 16 * GiB, mem_available: int = 8 * GiB, swap_total: int = 0, swap_free: int = 0,
    kernel: str = "6.8.0", mode: str = "v2",
) -> Host:
    return Host(
        hostname="fixture", kernel=kernel, page_size=4096, mem_total=mem_total, mem_available=mem_available,
        swap_total=swap_total, swap_free=swap_free, cgroup_mode=mode,  # type: ignore[arg-type]
    )


def pressure(avg10: float, avg60: float = 0.0) -> Pressure:
    line = PressureLine(avg10=avg10, avg60=avg60, avg300=0.0, total=0)
    return Pressure(some=line, full=line)


def cgroup(
    path: str, current: int | None = None, *, swap: int | None = None, xattrs: dict | None = None,
    stat: dict | None = None, trend: Trend | None = None, **kw,
) -> Cgroup:
    return Cgroup(
        path=path, memory_current=current, swap_current=swap, xattrs=frozen_map(xattrs),
        stat=frozen_map(stat), trend=trend, **kw,
    )


def process(pid: int, comm: str, cgroup: str = ROOT, *, rss: int = 0, oom_score: int | None = 666, **kw) -> Process:
    """`rss` counts as anonymous memory; pass rss_file etc. explicitly for more detail."""
    kw.setdefault("rss_file", 0)
    kw.setdefault("rss_shmem", 0)
    return Process(pid=pid, comm=comm, cgroup=cgroup, rss_anon=rss, oom_score=oom_score, **kw)


def snapshot(
    cgroups: list[Cgroup] | tuple[Cgroup, ...] = (), processes: list[Process] | tuple[Process, ...] = (),
    *, host_: Host | None = None, adj_edits: dict[int, int] | None = None, taken_at: float | None = 1000.0,
) -> Snapshot:
    whatif = WhatIf(processes=frozen_map({pid: ProcessEdit(oom_score_adj=a) for pid, a in (adj_edits or {}).items()}))
    return Snapshot(
        host=host_ or host(), cgroups=tuple(cgroups), processes=tuple(processes), taken_at=taken_at,
        source="synthetic", whatif=whatif,
    )
