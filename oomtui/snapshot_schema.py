"""The snapshot format (shared/snapshot-format.md) as msgspec Structs, for typed decoding.

msgspec checks every type while it parses and stops at the first wrong one,
so a file shaped wrong builds nothing big; and a Struct is a fraction of
the size of a dict. Unknown fields are skipped unbuilt (the format's
forward-compatibility rule). Ranges and enumerations are constraints here
too; what spans records (unique pids, parents before children) is checked
on the model. `gc=False`: these hold no cycles, and a collector pass over a
million tracked objects costs more than the decode.
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from oomtui import model

CgroupPath = Annotated[str, Meta(pattern=r"^/(?:[^/]+(?:/[^/]+)*)?$")]
Adj = Annotated[int, Meta(ge=-1000, le=1000)]
Pid = Annotated[int, Meta(ge=1)]
Ints = dict[str, int]


class PressureLine(msgspec.Struct, gc=False):
    avg10: float | None
    avg60: float | None
    avg300: float | None
    total: int | None


class Pressure(msgspec.Struct, gc=False):
    some: PressureLine | None = None
    full: PressureLine | None = None


class Trend(msgspec.Struct, gc=False):
    interval: float | None = None
    memory_current_prev: int | None = None
    memory_current_avg: int | None = None
    pgscan_prev: int | None = None
    pressure_full_avg10_above_since: float | None = None


class Workload(msgspec.Struct, gc=False):
    kind: Literal["k8s-pod", "k8s-container", "container", "unit"]
    name: str
    namespace: str | None = None
    pod: str | None = None
    pod_uid: str | None = None
    qos: Literal["Guaranteed", "Burstable", "BestEffort"] | None = None
    container: str | None = None
    container_id: str | None = None
    runtime: str | None = None
    image: str | None = None
    source: Literal["path", "pod-logs", "runtime"] | None = None


class Cgroup(msgspec.Struct, gc=False):
    path: CgroupPath
    memory_current: int | None = None
    memory_max: int | None = None
    memory_high: int | None = None
    memory_low: int | None = None
    memory_min: int | None = None
    swap_current: int | None = None
    swap_max: int | None = None
    swappiness: int | None = None
    oom_group: bool | None = None
    stat: Ints | None = None
    events: Ints | None = None
    pressure: Pressure | None = None
    xattrs: dict[str, str] | None = None
    owner_uid: int | None = None
    populated: bool | None = None
    trend: Trend | None = None
    workload: Workload | None = None


class Process(msgspec.Struct, gc=False):
    pid: Pid
    cgroup: CgroupPath
    comm: str | None = None
    cmdline: tuple[str, ...] | None = None
    ppid: int | None = None
    uid: int | None = None
    rss_anon: int | None = None
    rss_file: int | None = None
    rss_shmem: int | None = None
    rss_total: int | None = None
    swap: int | None = None
    pgtables: int | None = None
    oom_score_adj: Adj | None = None
    oom_score: int | None = None
    start_time: float | None = None
    kernel_thread: bool | None = None


class Killer(msgspec.Struct, gc=False):
    name: Literal["earlyoom", "nohang", "systemd-oomd", "oomd", "kubelet"]
    pid: Pid | None = None
    settings: dict[str, str] | None = None
    source: str | None = None


class Sysctl(msgspec.Struct, gc=False):
    overcommit_memory: int | None = None
    panic_on_oom: int | None = None
    oom_kill_allocating_task: int | None = None


class Host(msgspec.Struct, gc=False):
    hostname: str | None = None
    kernel: str | None = None
    page_size: Annotated[int, Meta(gt=0)] | None = None
    mem_total: int | None = None
    mem_available: int | None = None
    swap_total: int | None = None
    swap_free: int | None = None
    cgroup_mode: Literal["v2", "v1", "hybrid", "none"] = "none"
    psi: Pressure | None = None
    sysctl: Sysctl | None = None
    killers: list[Killer] | None = None


class OomEvent(msgspec.Struct, gc=False):
    kind: Literal["global", "memcg"]
    domain: CgroupPath
    total_pages: int | None = None
    killed_pid: int | None = None
    killed_comm: str | None = None
    group_killed_pids: list[int] | None = None
    raw: str | None = None


class CgroupEdit(msgspec.Struct, gc=False):
    interdependent: bool | None = None
    score: Adj | None = None
    xattrs: dict[str, str | None] | None = None


class ProcessEdit(msgspec.Struct, gc=False):
    oom_score_adj: Adj | None = None


class WhatIf(msgspec.Struct, gc=False):
    cgroups: dict[CgroupPath, CgroupEdit] | None = None
    processes: dict[Annotated[str, Meta(pattern=r"^[0-9]+$")], ProcessEdit] | None = None


class _Top(msgspec.Struct, gc=False, kw_only=True):
    format: Literal["oomtui-snapshot"]
    version: Literal[1]
    host: Host
    cgroups: list[Cgroup]
    taken_at: float | None = None
    source: Literal["live", "kernel-log", "synthetic"] | None = None
    oom_event: OomEvent | None = None
    whatif: WhatIf | None = None


class Snapshot(_Top, kw_only=True):
    processes: list[Process]


class ModelSnapshot(_Top, kw_only=True):
    """Processes decoded straight into the model's: no second object each, where every field is as the format says.

    The model's types admit no null `comm`, `cmdline`, `oom_score_adj` or
    `kernel_thread` (older files have them) and carry no ranges: a file this
    refuses goes to `Snapshot`, and the ranges are checked after.
    """

    processes: list[model.Process]


DECODER = msgspec.json.Decoder(Snapshot)
MODEL_DECODER = msgspec.json.Decoder(ModelSnapshot)
