"""Live collection: the host, its memory cgroups and its processes as one Snapshot.

Sources. Per-process and per-cgroup files are read straight from /proc
and the cgroup mounts with os.open/os.read (`files.py`), not through
psutil: its `process_iter` took 1.3–1.8× the CPU of `ps` where these reads
take under half, it reads several files per process where a warm sample
reads two, and its PROCFS_PATH is a process-wide global, so fake trees in
tests could not stand in. Host-wide totals come from psutil when the
collector reads the live /proc (`host.py`).

Modules: `layout` finds the mounts, `cgroups` walks the memory hierarchy
(and learns which process is where from cgroup.procs), `procs` reads
/proc/PID, `score` computes oom_score, `host` the host-wide values,
`activity` which processes stood still since the last sample (and need
not be read again), `names` the workload names (pods, containers, units) from the cgroup paths
and the node's local files, `killers` the OOM killers in force (with
`killer_config` and `systemd_units` reading their settings), `parse` the
pure text parsers.

A Collector keeps state between samples (per-process identity cache,
per-cgroup trend), so one collector should be used by one thread at a time.
"""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

from oomtui.collect.activity import ActivityReader
from oomtui.collect.cgroups import PRESSURE_LIMIT, CgroupReader
from oomtui.collect.files import Reader, read_file
from oomtui.collect.host import read_host
from oomtui.collect.killers import KillerCache
from oomtui.collect.layout import CgroupLayout, detect_layout
from oomtui.collect.names import NameReader
from oomtui.collect.procs import ProcessReader
from oomtui.model import Snapshot

__all__ = ["CgroupLayout", "Collector", "collect_snapshot", "detect_layout"]


class Collector:
    """Takes snapshots of the live host; repeated calls are cheaper and fill `Cgroup.trend`.

    `proc` and `layout` point it at another tree (tests lay out fake ones);
    `read` replaces the file reader (tests fake failures with it);
    `pressure_limit` is the full avg10 PSI percentage that
    `trend.pressure_full_avg10_above_since` tracks (systemd-oomd's default);
    `root` is where the workload names' files (/var/log/pods, the runtimes'
    metadata) and the OOM killers' config files are: tests point it at a fake tree.
    """

    def __init__(
        self,
        proc: str | Path = "/proc",
        layout: CgroupLayout | None = None,
        *,
        read: Reader = read_file,
        pressure_limit: float = PRESSURE_LIMIT,
        root: str | Path = "/",
    ) -> None:
        self.proc = str(proc)
        self.layout = layout if layout is not None else detect_layout(proc)
        self.read = read
        self._cgroups = CgroupReader(self.layout, read, pressure_limit)
        self._procs = ProcessReader(self.proc, self.layout, read)
        self._activity = ActivityReader(self.proc, self.layout.v2_root, read)
        self._names = NameReader(str(root))
        self._killers = KillerCache(str(root), self.proc)

    def collect(self) -> Snapshot:
        """One sample, read in this thread.

        Reading in a second thread was measured slower (5,000 processes,
        200 cgroups, 2 cores): os.open and os.read release the GIL for a few
        microseconds each, so the two threads hand the GIL over at every
        syscall, and the handovers cost more CPU than the overlap saves.
        """
        now = time.time()
        host = read_host(self.proc, self.layout.mode, self.read)
        walk = self._cgroups.walk()
        cgroups = self._cgroups.read_all(walk, now)
        members, paths = walk.members, walk.paths
        if len(cgroups) < len(walk.nodes):  # removed since the walk: its processes moved, so look them up
            paths = {c.path for c in cgroups}
            members = {pid: path for pid, path in members.items() if path in paths}
        quiet = self._activity.quiet(cgroups)
        processes = self._procs.read_all(members, paths, host.mem_total, host.swap_total, quiet)
        workloads = self._names.workloads(c.path for c in cgroups)
        if workloads:
            cgroups = [c if (w := workloads.get(c.path)) is None else replace(c, workload=w) for c in cgroups]
        killers = self._killers.detect(processes, host.mem_total, host.swap_total)
        return Snapshot(
            host=replace(host, killers=killers),
            cgroups=tuple(cgroups),
            processes=tuple(processes),
            taken_at=now,
            source="live",
        )


    def close(self) -> None:
        """Close the /proc files and cgroup directories kept open between samples (dropping the collector does too)."""
        self._procs.close()
        self._cgroups.close()
        self._activity.close()


def collect_snapshot(**kw: object) -> Snapshot:
    """One snapshot of the live host; keywords as for Collector."""
    return Collector(**kw).collect()  # type: ignore[arg-type]
