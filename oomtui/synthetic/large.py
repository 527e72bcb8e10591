"""A large host for benchmarks and scale tests: by default 10,000 processes in 2,000 cgroups.

It is shaped like a busy Kubernetes node on cgroup v2 (pods with a sandbox
and a container each, system services, ssh sessions), so the tree has the
depth and fan-out the TUI and the policies meet in production.
"""

from __future__ import annotations

import math

from oomtui.model import Snapshot, Sysctl
from oomtui.synthetic.builder import GiB, HostBuilder, MiB, hex_id, pages, uuid4
from oomtui.synthetic.k8s import BESTEFFORT_ADJ, GUARANTEED_ADJ, PAUSE_ADJ, burstable_adj

FIXED = (
    "/init.scope", "/system.slice", "/user.slice", "/kubepods.slice",
    "/kubepods.slice/kubepods-burstable.slice", "/kubepods.slice/kubepods-besteffort.slice",
)
MEM_TOTAL = 1536 * GiB  # per 10,000 processes (or fewer): what their described usage fits in


def large_host(processes: int = 10000, cgroups: int = 2000, seed: int = 7) -> Snapshot:
    """A deterministic host with exactly `processes` processes and `cgroups` cgroups (root included).

    MemTotal grows with the process count (1.5 TiB per 10,000), so the
    processes' usage fits at any size asked for.
    """
    mem_total = MEM_TOTAL * max(1, -(-processes // 10000))
    spare = cgroups - 1 - len(FIXED)
    if spare < 3 or processes < cgroups + processes // 50 + 1:
        raise ValueError("a large host needs at least 10 cgroups and more processes than cgroups")
    b = HostBuilder(
        seed=seed, hostname="big-node-017", kernel="6.12.0-55.el10.x86_64", mode="v2", mem_total=mem_total,
        swap_total=0, taken_at=1764079200.0, uptime=30 * 86400.0,
        sysctl=Sysctl(overcommit_memory=1, panic_on_oom=0, oom_kill_allocating_task=0), psi=(1.2, 0.1),
    )
    for path in FIXED:
        b.cgroup(path)
    users = spare // 20
    services = spare // 10
    pods = (spare - 2 * users - services) // 3
    services = spare - 2 * users - 3 * pods
    systemd = b.process("/init.scope", "systemd", "/usr/lib/systemd/systemd --switched-root --system",
                        started=0.5, anon=12 * MiB)
    kthreadd = b.kernel_thread("kthreadd", started=0.5)
    for i in range(processes // 50 - 1):
        b.kernel_thread(f"kworker/{i % 64}:{i // 64}", started=0.6 + i / 1000, parent=kthreadd)
    homes: list[tuple[str, str, int]] = []  # (cgroup, kind, adj) where extra processes may go
    for i in range(services):
        unit = f"/system.slice/svc-{i:04d}.service"
        b.cgroup(unit)
        adj = b.rng.choice((0, 0, 0, -500, -900, 100))
        homes.append((unit, "service", adj))
    for i in range(users):
        uid = 1000 + i
        slice_ = b.cgroup(f"/user.slice/user-{uid}.slice", owner_uid=0)
        homes.append((b.cgroup(f"{slice_}/session-{i + 1}.scope"), "session", 0))
    containers: list[tuple[str, str, str]] = []  # (pod, container, qos)
    for _ in range(pods):
        qos = b.rng.choices(("guaranteed", "burstable", "besteffort"), (2, 6, 2))[0]
        pod_uid = uuid4(b.rng).replace("-", "_")
        pod = (f"/kubepods.slice/kubepods-pod{pod_uid}.slice" if qos == "guaranteed"
               else f"/kubepods.slice/kubepods-{qos}.slice/kubepods-{qos}-pod{pod_uid}.slice")
        b.cgroup(pod)
        b.process(b.cgroup(f"{pod}/cri-containerd-{hex_id(b.rng)}.scope", oom_group=True), "pause", "/pause",
                  started=_when(b), anon=160 * 1024, file=320 * 1024, adj=PAUSE_ADJ, uid=65535, parent=systemd)
        ctr = b.cgroup(f"{pod}/cri-containerd-{hex_id(b.rng)}.scope", oom_group=True)
        containers.append((pod, ctr, qos))
        homes.append((ctr, qos, 0))
    if len(b.specs) != cgroups:
        raise AssertionError(f"built {len(b.specs)} cgroups, wanted {cgroups}")
    left = processes - len(b.procs)
    chosen = homes + [b.rng.choice(homes) for _ in range(left - len(homes))]
    requests = {ctr: pages(b.rng.uniform(64, 2048) * MiB) for _, ctr, _ in containers}
    leaders: dict[str, object] = {}
    for cgroup, kind, adj in chosen:
        anon = min(math.exp(b.rng.gauss(math.log(24 * MiB), 1.1)), 6 * GiB)
        if kind in ("guaranteed", "burstable", "besteffort"):
            adj = {"guaranteed": GUARANTEED_ADJ, "besteffort": BESTEFFORT_ADJ}.get(
                kind, burstable_adj(requests[cgroup], mem_total))
        comm = {"service": "daemon", "session": "bash"}.get(kind, "app")
        p = b.process(cgroup, f"{comm}-{len(b.procs) % 997}", [f"/usr/bin/{comm}", "--worker", str(len(b.procs))],
                      started=_when(b), anon=anon, adj=adj, uid=0 if kind == "service" else 1000,
                      parent=leaders.get(cgroup, systemd), cap_sys_admin=kind == "service")  # type: ignore[arg-type]
        leaders.setdefault(cgroup, p)
    _limits(b, containers)
    return b.build()


def _when(b: HostBuilder) -> float:
    return b.rng.uniform(10.0, b.uptime - 60)


def _limits(b: HostBuilder, containers: list[tuple[str, str, str]]) -> None:
    """Limits with room for page cache and kernel memory, on containers and their pods, except BestEffort."""
    resident: dict[str, int] = {}
    for p in b.procs:
        resident[p.cgroup] = resident.get(p.cgroup, 0) + p.anon + p.file + p.shmem
    for pod, ctr, qos in containers:
        if qos == "besteffort":
            continue
        limit = pages(2.5 * resident.get(ctr, 0) + 64 * MiB)
        b.cgroup(ctr, memory_max=limit)
        b.cgroup(pod, memory_max=limit)
