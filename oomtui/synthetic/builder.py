"""Assemble a consistent synthetic host from a description of its cgroups and processes.

The sample hosts only say what runs where and how big it is; this module
plays the kernel's part so the numbers agree with each other the way they
do on a real host: pids follow start order, a cgroup's memory.current
covers its members' resident memory plus page cache and kernel memory and
is hierarchical, memory.stat and memory.events roll up to the ancestors,
and oom_score is what /proc would print for the kernel era of the host.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field, replace

from oomtui.model import (
    ROOT,
    Cgroup,
    CgroupMode,
    Host,
    Pressure,
    PressureLine,
    Process,
    Snapshot,
    Sysctl,
    Trend,
    Workload,
    frozen_map,
    parent_of,
)
from oomtui.policies.budget import kernel_version
from oomtui.workload_paths import path_workload

KiB = 1 << 10
MiB = 1 << 20
GiB = 1 << 30
PAGE = 4096
V1_UNLIMITED = 9223372036854771712  # PAGE_COUNTER_MAX * PAGE_SIZE, what v1 prints for "no limit"
TREND_INTERVAL = 5.0
RESERVED_PIDS = 300  # where the kernel restarts after wrapping
V2_EVENTS = ("low", "high", "max", "oom", "oom_kill", "oom_group_kill")  # oomd's default interval


def pages(n: float) -> int:
    """Round a size down to whole pages: the kernel accounts nothing smaller."""
    return int(n) // PAGE * PAGE


@dataclass
class Proc:
    """A process being described; pid and start time are assigned when the host is built."""

    cgroup: str
    comm: str
    cmdline: tuple[str, ...]
    started: float  # seconds after boot
    anon: int
    file: int
    shmem: int
    swap: int
    adj: int
    uid: int
    parent: Proc | None
    kernel_thread: bool
    cap_sys_admin: bool
    seq: int
    pid: int = 0


@dataclass
class CgroupSpec:
    """What a cgroup holds beyond its processes' resident memory, and its knobs."""

    path: str
    memory_max: int | None = None
    memory_high: int | None = None
    memory_low: int = 0
    memory_min: int = 0
    swap_max: int | None = None
    oom_group: bool = False
    fill: float | None = None  # fraction of memory_max to reach with page cache (a cgroup near its limit)
    cache: int | None = None  # unmapped page cache charged here; None: a plausible share
    events: dict[str, int] = field(default_factory=dict)  # local counts; ancestors see them too
    pressure: tuple[float, float] | None = None  # (some avg10, full avg10); None: the worst of its children
    xattrs: dict[str, str] = field(default_factory=dict)
    owner_uid: int = 0
    growth: float = 1.0  # memory.current / decaying average, for the trend fields
    pgscan_rate: int = 0  # pages scanned during the last interval
    pressure_since: float | None = None  # seconds before taken_at that full avg10 went above its limit
    swap_extra: int = 0  # swap charged here by processes that exited or by tmpfs
    workload: Workload | None = None  # None: what the path says, as a collector without names would


@dataclass
class Rolled:
    """A cgroup's figures with its descendants', gathered bottom-up."""

    usage: dict[str, int]
    events: dict[str, int]
    populated: bool
    stall: tuple[float, float] = (0.0, 0.0)  # (some, full) avg10
    avg: float = 0.0  # decaying average of memory.current, for the trend
    scan: int = 0  # pages scanned during the last interval, for the trend
    child_current: int = 0
    child_avg: float = 0.0


class HostBuilder:
    """Collects cgroups and processes, then builds one consistent Snapshot."""

    def __init__(
        self, *, seed: int, hostname: str, kernel: str, mode: CgroupMode, mem_total: int,
        swap_total: int, taken_at: float, uptime: float, sysctl: Sysctl,
        psi: tuple[float, float] | None = (0.0, 0.0), swap_accounting: bool = True, trend: bool = False,
        pid_max: int = 4194304,
    ) -> None:
        self.pid_max = pid_max
        self.rng = random.Random(seed)
        self.hostname, self.kernel, self.mode = hostname, kernel, mode
        self.mem_total, self.swap_total = mem_total, swap_total
        self.taken_at, self.uptime = taken_at, uptime
        self.sysctl, self.psi = sysctl, psi
        self.swap_accounting, self.trend = swap_accounting, trend
        self.specs: dict[str, CgroupSpec] = {ROOT: CgroupSpec(ROOT)}
        self.procs: list[Proc] = []

    @property
    def v1(self) -> bool:
        return self.mode in ("v1", "hybrid")

    # -- description -------------------------------------------------------

    def cgroup(self, path: str, **knobs: object) -> str:
        """Declare a cgroup (its missing ancestors too); later calls update its knobs."""
        parent = parent_of(path)
        if parent is not None and parent not in self.specs:
            self.cgroup(parent)
        spec = self.specs.setdefault(path, CgroupSpec(path))
        for key, value in knobs.items():
            if not hasattr(spec, key):
                raise TypeError(f"unknown cgroup knob {key}")
            setattr(spec, key, value)
        return path

    def process(
        self, cgroup: str, comm: str, cmdline: list[str] | tuple[str, ...] | str, *, started: float,
        anon: float = 0, file: float | None = None, shmem: float = 0, swap: float = 0, adj: int = 0,
        uid: int = 0, parent: Proc | None = None, cap_sys_admin: bool | None = None,
    ) -> Proc:
        """Describe a process; sizes in bytes are rounded to pages, `file` defaults to mapped libraries."""
        if cgroup not in self.specs:
            self.cgroup(cgroup)
        if isinstance(cmdline, str):  # a title a process set over its argv ("postgres: ...") reads as one string
            titled = cmdline.split(" ", 1)[0].endswith(":") or cmdline.startswith("(")
            cmdline = [cmdline] if titled else cmdline.split()
        mapped = file if file is not None else min(anon * self.rng.uniform(0.1, 0.4) + self.rng.uniform(2, 8) * MiB,
                                                   60 * MiB)
        p = Proc(
            cgroup=cgroup, comm=comm[:15], cmdline=tuple(cmdline), started=started,
            anon=pages(anon), file=pages(mapped), shmem=pages(shmem),
            swap=pages(swap) if self.swap_total else 0, adj=adj, uid=uid, parent=parent,
            kernel_thread=False, cap_sys_admin=uid == 0 if cap_sys_admin is None else cap_sys_admin,
            seq=len(self.procs),
        )
        self.procs.append(p)
        return p

    def kernel_thread(self, comm: str, *, started: float, parent: Proc | None = None) -> Proc:
        p = Proc(
            cgroup=ROOT, comm=comm[:15], cmdline=(), started=started, anon=0, file=0, shmem=0, swap=0,
            adj=0, uid=0, parent=parent, kernel_thread=True, cap_sys_admin=True, seq=len(self.procs),
        )
        self.procs.append(p)
        return p

    def jitter(self, value: float, spread: float = 0.15) -> float:
        return value * self.rng.uniform(1 - spread, 1 + spread)

    # -- the kernel's part -------------------------------------------------

    def _assign_pids(self) -> None:
        """Pids in fork order, with about one short-lived fork a minute in between; they wrap at pid_max."""
        pid, last, used = 0, 0.0, set()
        for p in sorted(self.procs, key=lambda p: (p.started, p.seq)):
            churn = int((p.started - last) / 60)
            pid = pid + 1 if pid < 2 else pid + self.rng.randint(1, 40) + churn
            while pid > self.pid_max or pid in used:
                pid = RESERVED_PIDS + (pid - self.pid_max) % (self.pid_max - RESERVED_PIDS) if pid > self.pid_max \
                    else pid + 1
            used.add(pid)
            p.pid, last = pid, p.started

    def _total_pages(self) -> int:
        return self.mem_total // PAGE + self.swap_total // PAGE

    def _oom_score(self, p: Proc, pgtables: int) -> int:
        """/proc/PID/oom_score as this host's kernel era computes it (kernel-oom.md §1.3, §1.9)."""
        if p.kernel_thread or p.pid == 1 or p.adj == -1000:
            return 0
        total = self._total_pages()
        points = (p.anon + p.file + p.shmem) // PAGE + p.swap // PAGE + pgtables // PAGE
        era = kernel_version(self.kernel)
        if era <= (4, 16) and p.cap_sys_admin:
            points -= points * 3 // 100
        points += p.adj * (total // 1000)
        if era <= (5, 8):
            return max(points, 1) * 1000 // total
        scaled = abs(points * 1000) // total * (1 if points >= 0 else -1)  # C division truncates
        return (1000 + scaled) * 2 // 3

    @staticmethod
    def _pgtables(p: Proc) -> int:
        resident = p.anon + p.file + p.shmem + p.swap
        return (resident // (2 * MiB) + 3) * PAGE

    def _pressure(self, spec: tuple[float, float] | None) -> Pressure | None:
        if spec is None:
            return None

        def line(avg10: float) -> PressureLine:
            avg60 = round(avg10 * self.rng.uniform(0.6, 0.9), 2)
            avg300 = round(avg60 * self.rng.uniform(0.4, 0.8), 2)
            total = int(self.uptime * 1e6 * avg300 / 100 * self.rng.uniform(0.2, 0.6))
            return PressureLine(round(avg10, 2), avg60, avg300, total)

        some, full = spec
        return Pressure(some=line(some), full=line(full))

    def build(self) -> Snapshot:
        self._assign_pids()
        boot = self.taken_at - self.uptime
        members: dict[str, list[Proc]] = {}
        processes = []
        pgtables: dict[int, int] = {}
        for p in sorted(self.procs, key=lambda p: p.pid):
            members.setdefault(p.cgroup, []).append(p)
            pt = 0 if p.kernel_thread else self._pgtables(p)
            pgtables[p.pid] = pt
            known = not p.kernel_thread
            processes.append(Process(
                pid=p.pid, ppid=(p.parent.pid if p.parent else 0), comm=p.comm, cmdline=p.cmdline,
                uid=p.uid, cgroup=p.cgroup,
                rss_anon=p.anon if known else None, rss_file=p.file if known else None,
                rss_shmem=p.shmem if known else None, swap=p.swap if known else None,
                pgtables=pt if known else None, oom_score_adj=p.adj, oom_score=self._oom_score(p, pt),
                start_time=round(boot + p.started, 2), kernel_thread=p.kernel_thread,
            ))
        local = {path: self._local_usage(spec, members.get(path, []), pgtables) for path, spec in self.specs.items()}
        order = sorted(self.specs, key=lambda path: path.split("/")[1:] if path != ROOT else [])  # pre-order
        rolled = self._roll_up(order, local, members)
        cgroups = [self._named(self._cgroup(path, local[path], rolled[path])) for path in order]
        return Snapshot(
            host=self._host(rolled[ROOT].usage), cgroups=tuple(cgroups), processes=tuple(processes),
            taken_at=self.taken_at, source="synthetic",
        )

    def _roll_up(
        self, order: list[str], local: dict[str, dict[str, int]], members: dict[str, list[Proc]],
    ) -> dict[str, Rolled]:
        """Hierarchical figures: each cgroup's own plus all its descendants', as v2 files report them."""
        rolled = {
            path: Rolled(dict(local[path]), dict(self.specs[path].events), bool(members.get(path))) for path in order
        }
        for path in reversed(order):  # children before their parents
            r, spec = rolled[path], self.specs[path]
            self._fill(spec, local[path], r.usage)
            if spec.pressure is not None:
                r.stall = spec.pressure
            current = self._current(r.usage)
            r.avg = current / spec.growth if spec.growth != 1.0 else r.child_avg + current - r.child_current
            r.scan += spec.pgscan_rate
            parent = parent_of(path)
            if parent is None:
                continue
            up, above = rolled[parent], self.specs[parent]
            if above.pressure is None and r.stall[1] >= up.stall[1]:
                up.stall = r.stall  # a stall below is a stall here too: the worst child's
                above.pressure_since = spec.pressure_since
            for k, v in r.usage.items():
                up.usage[k] += v
            for k, v in r.events.items():
                up.events[k] = up.events.get(k, 0) + v
            up.populated = up.populated or r.populated
            up.scan += r.scan
            up.child_current += current
            up.child_avg += r.avg
        return rolled

    def _local_usage(self, spec: CgroupSpec, procs: list[Proc], pgtables: dict[int, int]) -> dict[str, int]:
        """Bytes charged to this cgroup alone, by kind."""
        live = [p for p in procs if not p.kernel_thread]
        anon = sum(p.anon for p in live)
        shmem = max((p.shmem for p in live), default=0)  # one shared segment, charged once
        mapped = sum(p.file for p in live)
        stacks = sum(self.rng.randint(1, 40) for _ in live) * 16 * KiB
        pt = sum(pgtables[p.pid] for p in live)
        slab = pages(self.jitter(0.02 * (anon + mapped) + 2 * MiB * bool(live)))
        cache = spec.cache if spec.cache is not None else pages(mapped * self.rng.uniform(0.3, 1.5))
        usage = {
            "anon": anon, "shmem": shmem, "mapped": mapped, "cache": cache, "kernel_stack": stacks,
            "pagetables": pt, "slab": slab, "sock": pages(self.rng.randint(0, 64) * KiB) if live else 0,
            "swap": sum(p.swap for p in live) + spec.swap_extra,
        }
        return usage

    def _fill(self, spec: CgroupSpec, own: dict[str, int], tot: dict[str, int]) -> None:
        """Top up (or trim) this cgroup's own page cache so its subtree uses `fill` of its limit."""
        if spec.fill is None or spec.memory_max is None:
            return
        delta = pages(spec.memory_max * spec.fill) - self._current(tot)
        delta = max(delta, -own["cache"])
        own["cache"] += delta
        tot["cache"] += delta

    def _current(self, t: dict[str, int]) -> int:
        """memory.current (v2) or usage_in_bytes (v1, which leaves kernel memory out)."""
        user = t["anon"] + t["mapped"] + t["cache"] + t["shmem"]
        return user if self.v1 else user + t["kernel_stack"] + t["pagetables"] + t["slab"] + t["sock"]

    def _named(self, c: Cgroup) -> Cgroup:
        w = self.specs[c.path].workload or path_workload(c.path)
        return c if w is None else replace(c, workload=w)

    def _cgroup(self, path: str, own: dict[str, int], r: Rolled) -> Cgroup:
        spec, tot, events = self.specs[path], r.usage, r.events
        file = tot["mapped"] + tot["cache"] + tot["shmem"]
        kernel = tot["kernel_stack"] + tot["pagetables"] + tot["slab"]
        current = self._current(tot)
        if spec.memory_max is not None and current > spec.memory_max:
            raise ValueError(f"{path}: described usage {current} exceeds its limit {spec.memory_max}")
        stat = self._stat_v1(spec, own, tot) if self.v1 else self._stat_v2(tot, file, kernel)
        swap_current = tot["swap"] if self.swap_accounting else None
        if self.v1:
            swap_max = None if spec.swap_max is None or not self.swap_accounting else spec.swap_max
            return Cgroup(
                path=path, memory_current=current,
                memory_max=spec.memory_max, swap_current=swap_current, swap_max=swap_max,
                stat=frozen_map(stat), events=frozen_map({"oom_kill": events.get("oom_kill", 0),
                                                          "under_oom": events.get("under_oom", 0)}),
                owner_uid=spec.owner_uid, swappiness=60,
            )
        if r.scan > stat["pgscan"]:
            stat["pgscan"] = r.scan * self.rng.randint(5, 40)
        root = path == ROOT
        trend = None
        if self.trend and not root:
            avg = int(r.avg)
            since = spec.pressure_since
            trend = Trend(
                interval=TREND_INTERVAL,
                memory_current_prev=int(current - (current - avg) / 4),
                memory_current_avg=avg,
                pgscan_prev=stat["pgscan"] - r.scan,
                pressure_full_avg10_above_since=None if since is None else round(self.taken_at - since, 2),
            )
        return Cgroup(
            path=path, memory_current=current, memory_max=spec.memory_max, memory_high=spec.memory_high,
            memory_low=None if root else spec.memory_low, memory_min=None if root else spec.memory_min,
            swap_current=swap_current, swap_max=spec.swap_max, oom_group=None if root else spec.oom_group,
            stat=frozen_map(stat),
            events=frozen_map({} if root else {k: events.get(k, 0) for k in V2_EVENTS}),
            pressure=self._pressure(self.psi if root else r.stall),
            xattrs=frozen_map(spec.xattrs), owner_uid=spec.owner_uid, populated=None if root else r.populated,
            trend=trend,
        )

    def _stat_v2(self, t: dict[str, int], file: int, kernel: int) -> dict[str, int]:
        """memory.stat as a v2 kernel prints it (hierarchical), in its key order."""
        r = self.rng
        active_anon = pages(t["anon"] * r.uniform(0.6, 0.95))
        active_file = pages((file - t["shmem"]) * r.uniform(0.3, 0.7))
        activity = (t["anon"] + file) // PAGE
        pgscan = int(activity * r.uniform(0, 3)) if t["swap"] or t["cache"] else 0
        pswpout = t["swap"] // PAGE + r.randint(0, 500) if t["swap"] else 0
        faults = int(activity * r.uniform(2, 30))
        return {
            "anon": t["anon"], "file": file, "kernel": kernel, "kernel_stack": t["kernel_stack"],
            "pagetables": t["pagetables"], "sec_pagetables": 0, "percpu": pages(t["slab"] // 20),
            "sock": t["sock"], "vmalloc": 0, "shmem": t["shmem"], "zswap": 0, "zswapped": 0,
            "file_mapped": t["mapped"], "file_dirty": pages(t["cache"] * r.uniform(0, 0.01)),
            "file_writeback": 0, "swapcached": pages(t["swap"] * r.uniform(0, 0.05)),
            "anon_thp": pages(t["anon"] * r.uniform(0, 0.2)) // (2 * MiB) * 2 * MiB, "file_thp": 0,
            "shmem_thp": 0, "inactive_anon": t["anon"] + t["shmem"] - active_anon, "active_anon": active_anon,
            "inactive_file": file - t["shmem"] - active_file, "active_file": active_file, "unevictable": 0,
            "slab_reclaimable": pages(t["slab"] * 0.6), "slab_unreclaimable": t["slab"] - pages(t["slab"] * 0.6),
            "slab": t["slab"], "workingset_refault_anon": pswpout // 3,
            "workingset_refault_file": pgscan // 4, "workingset_activate_anon": pswpout // 9,
            "workingset_activate_file": pgscan // 9, "workingset_restore_anon": pswpout // 20,
            "workingset_restore_file": pgscan // 20, "workingset_nodereclaim": 0,
            "pswpin": pswpout // 3, "pswpout": pswpout, "pgscan": pgscan, "pgsteal": pgscan * 9 // 10,
            "pgscan_kswapd": pgscan * 3 // 4, "pgscan_direct": pgscan - pgscan * 3 // 4,
            "pgscan_khugepaged": 0, "pgsteal_kswapd": pgscan * 3 // 4 * 9 // 10,
            "pgsteal_direct": pgscan * 9 // 10 - pgscan * 3 // 4 * 9 // 10, "pgsteal_khugepaged": 0,
            "pgfault": faults, "pgmajfault": faults // 400, "pgrefill": pgscan // 2,
            "pgactivate": faults // 50, "pgdeactivate": pgscan // 3, "pglazyfree": 0, "pglazyfreed": 0,
            "thp_fault_alloc": t["anon"] // (64 * MiB), "thp_collapse_alloc": t["anon"] // (256 * MiB),
        }

    def _stat_v1(self, spec: CgroupSpec, own: dict[str, int], tot: dict[str, int]) -> dict[str, int]:
        """memory.stat as v1 prints it: local keys, the hierarchical limits, then total_* keys."""

        def block(u: dict[str, int], seed: int) -> dict[str, int]:
            r = random.Random(seed)
            cache = u["mapped"] + u["cache"] + u["shmem"]
            activity = (u["anon"] + cache) // PAGE
            active_anon = pages(u["anon"] * r.uniform(0.6, 0.95))
            active_file = pages((cache - u["shmem"]) * r.uniform(0.3, 0.7))
            huge = pages(u["anon"] * r.uniform(0, 0.2)) // (2 * MiB) * 2 * MiB
            block = {
                "cache": cache, "rss": u["anon"], "rss_huge": huge,
                "shmem": u["shmem"], "mapped_file": u["mapped"], "dirty": pages(u["cache"] * r.uniform(0, 0.01)),
                "writeback": 0,
            }
            if self.swap_accounting:
                block["swap"] = u["swap"]
            block.update({
                "pgpgin": activity * 3, "pgpgout": activity * 2, "pgfault": activity * r.randint(2, 30),
                "pgmajfault": activity // 200, "inactive_anon": u["anon"] + u["shmem"] - active_anon,
                "active_anon": active_anon, "inactive_file": cache - u["shmem"] - active_file,
                "active_file": active_file, "unevictable": 0,
            })
            return block

        seed = self.rng.randint(0, 1 << 30)
        local = block(own, seed)
        out = dict(local)
        limit = min(
            (m for p in [spec.path, *_ancestors(spec.path)] if (m := self.specs[p].memory_max) is not None),
            default=V1_UNLIMITED,
        )
        out["hierarchical_memory_limit"] = limit
        if self.swap_accounting:
            out["hierarchical_memsw_limit"] = V1_UNLIMITED if spec.swap_max is None else limit + spec.swap_max
        out.update({f"total_{k}": v for k, v in block(tot, seed).items()})
        return out

    def _host(self, t: dict[str, int]) -> Host:
        """meminfo consistent with the root's totals: available is what reclaim could free on top of free."""
        used = t["anon"] + t["shmem"] + t["mapped"] + t["cache"] + t["kernel_stack"] + t["pagetables"] + t["slab"]
        if used > self.mem_total:
            raise ValueError(f"described usage {used} exceeds MemTotal {self.mem_total}")
        reclaimable = t["cache"] // 2 + t["slab"] * 3 // 10
        available = self.mem_total - used - self.mem_total // 60 + reclaimable
        swap_used = t["swap"] if self.swap_accounting else sum(p.swap for p in self.procs)
        return Host(
            hostname=self.hostname, kernel=self.kernel, page_size=PAGE, mem_total=self.mem_total,
            mem_available=pages(max(available, self.mem_total // 50)), swap_total=self.swap_total,
            swap_free=self.swap_total - swap_used, cgroup_mode=self.mode, psi=self._pressure(self.psi),
            sysctl=self.sysctl,
        )


def _ancestors(path: str) -> list[str]:
    out = []
    parent = parent_of(path)
    while parent is not None:
        out.append(parent)
        parent = parent_of(parent)
    return out


def hex_id(rng: random.Random, length: int = 64) -> str:
    return "".join(rng.choice("0123456789abcdef") for _ in range(length))


def uuid4(rng: random.Random) -> str:
    h = hex_id(rng, 32)
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) % 4]}{h[17:20]}-{h[20:]}"
