"""A small self-hosting server running Podman containers on cgroup v2 (systemd driver, crun).

What makes it worth opening: every container's processes sit in crun's
`container` sub-cgroup of its `libpod-<id>.scope`, with conmon in a scope of
its own outside it; a Podman pod groups prometheus and grafana under one
slice with its infra container; the notebook container keeps hitting its
`--memory` limit; and no container sets memory.oom.group, so the kernel
kills one process of a multi-process container. Names and images are what
the collector reads from containers/storage's containers.json.
"""

from __future__ import annotations

from oomtui.model import Snapshot, Sysctl, Workload
from oomtui.synthetic.builder import GiB, HostBuilder, KiB, MiB, Proc, hex_id

DAY = 86400.0
CONMON_ADJ = -1000  # conmon protects itself so it can report the container's exit
MACHINE = "/machine.slice"


def podman_v2(seed: int = 4) -> Snapshot:
    b = HostBuilder(
        seed=seed, hostname="homelab.lan", kernel="6.11.4-301.fc41.x86_64", mode="v2",
        mem_total=15_993_112 * KiB, swap_total=8 * GiB, taken_at=1764079200.0, uptime=9 * DAY + 3600.0,
        sysctl=Sysctl(overcommit_memory=0, panic_on_oom=0, oom_kill_allocating_task=0), psi=(6.12, 2.04),
    )
    systemd = b.process("/init.scope", "systemd", "/usr/lib/systemd/systemd --switched-root --system",
                        started=0.4, anon=11 * MiB, file=9 * MiB)
    kthreadd = b.kernel_thread("kthreadd", started=0.4)
    for name in ("ksoftirqd/0", "kswapd0", "khugepaged", "kworker/u16:3-events_unbound"):
        b.kernel_thread(name, started=0.5, parent=kthreadd)
    for i, (unit, comm, cmd, anon, adj, uid) in enumerate([
        ("systemd-journald.service", "systemd-journal", "/usr/lib/systemd/systemd-journald", 24 * MiB, -250, 0),
        ("systemd-oomd.service", "systemd-oomd", "/usr/lib/systemd/systemd-oomd", 3 * MiB, -900, 998),
        ("sshd.service", "sshd", "sshd: /usr/sbin/sshd -D [listener] 0 of 10-100 startups", 5 * MiB, -1000, 0),
        ("chronyd.service", "chronyd", "/usr/sbin/chronyd -F 2", 2 * MiB, 0, 994),
    ]):
        b.process(f"/system.slice/{unit}", comm, cmd, started=2.0 + i, anon=b.jitter(anon), adj=adj, uid=uid,
                  parent=systemd)
    b.cgroup(MACHINE)
    for name, image, started, limit, knobs, procs in _containers(b):
        _container(b, systemd, MACHINE, name, image, started, limit, knobs, procs)
    pod_id = hex_id(b.rng)
    pod = b.cgroup(f"{MACHINE}/machine-libpod_pod_{pod_id}.slice")
    _container(b, systemd, pod, "monitoring-infra", "localhost/podman-pause:5.2.5-1729209600", 600.0, None, {},
               [("catatonit", "/catatonit -P", 0.3 * MiB, {})])
    for name, image, started, limit, knobs, procs in _pod_members():
        _container(b, systemd, pod, name, image, started, limit, knobs, procs)
    return b.build()


def _container(
    b: HostBuilder, systemd: Proc, parent: str, name: str, image: str, started: float, limit: int | None,
    knobs: dict, procs: list[tuple[str, str, float, dict]],
) -> None:
    """`podman run --name NAME`: conmon's scope beside the container's, processes in crun's sub-cgroup."""
    cid = hex_id(b.rng)
    conmon = b.process(f"{parent}/libpod-conmon-{cid}.scope", "conmon",
                       ["/usr/bin/conmon", "--api-version", "1", "-c", cid, "-u", cid, "-r", "/usr/bin/crun",
                        "-n", name, "--exit-dir", "/run/libpod/exits"],
                       started=started, anon=b.jitter(0.6 * MiB), file=1 * MiB, adj=CONMON_ADJ, parent=systemd)
    named = Workload(kind="container", name=name, container=name, container_id=cid, runtime="podman", image=image,
                     source="runtime")
    scope = b.cgroup(f"{parent}/libpod-{cid}.scope", memory_max=limit, workload=named, **knobs)
    init: Proc | None = None
    for i, (comm, cmd, anon, more) in enumerate(procs):
        p = b.process(f"{scope}/container", comm, cmd, started=started + 0.3 + 0.1 * i, anon=anon,
                      parent=init or conmon, cap_sys_admin=False, **more)
        init = init or p


def _containers(b: HostBuilder) -> list[tuple[str, str, float, int | None, dict, list[tuple[str, str, float, dict]]]]:
    """(--name, image, start in seconds after boot, --memory, cgroup knobs, processes)."""
    up = b.uptime
    return [
        ("postgres", "docker.io/library/postgres:16.4", 40.0, GiB, {}, [
            ("postgres", "postgres", 22 * MiB, {"uid": 999, "shmem": 130 * MiB, "file": 30 * MiB}),
            ("postgres", "postgres: checkpointer", 3 * MiB, {"uid": 999, "shmem": 90 * MiB}),
            ("postgres", "postgres: gitea gitea 10.88.0.5(41234) idle", 11 * MiB, {"uid": 999, "shmem": 40 * MiB}),
        ]),
        ("gitea", "docker.io/gitea/gitea:1.22.3", 45.0, None, {}, [
            ("gitea", "/usr/local/bin/gitea web", 240 * MiB, {"uid": 1000, "file": 60 * MiB}),
        ]),
        ("caddy", "docker.io/library/caddy:2.8.4", 50.0, 256 * MiB, {}, [
            ("caddy", "caddy run --config /etc/caddy/Caddyfile --adapter caddyfile", 38 * MiB, {}),
        ]),
        ("notebook", "quay.io/jupyter/scipy-notebook:2024-10-14", up - 2 * 3600, 4 * GiB,
         {"fill": 0.991, "pressure": (31.2, 22.7),
          "events": {"high": 0, "max": 2210, "oom": 2, "oom_kill": 2, "oom_group_kill": 0}}, [
            ("jupyter-lab", "/opt/conda/bin/python /opt/conda/bin/jupyter-lab --ip=0.0.0.0", 180 * MiB,
             {"uid": 1000}),
            ("python", "/opt/conda/bin/python -m ipykernel_launcher -f /home/jovyan/.local/kernel-1.json",
             2.6 * GiB, {"uid": 1000}),
            ("python", "/opt/conda/bin/python -m ipykernel_launcher -f /home/jovyan/.local/kernel-2.json",
             520 * MiB, {"uid": 1000}),
        ]),
    ]


def _pod_members() -> list[tuple[str, str, float, int | None, dict, list[tuple[str, str, float, dict]]]]:
    return [
        ("monitoring-prometheus", "quay.io/prometheus/prometheus:v2.54.1", 601.0, 2 * GiB, {}, [
            ("prometheus", "/bin/prometheus --config.file=/etc/prometheus/prometheus.yml "
             "--storage.tsdb.retention.time=30d", 610 * MiB, {"uid": 65534, "file": 300 * MiB}),
        ]),
        ("monitoring-grafana", "docker.io/grafana/grafana:11.2.2", 602.0, 512 * MiB, {}, [
            ("grafana", "grafana server --homepath=/usr/share/grafana", 96 * MiB, {"uid": 472}),
        ]),
    ]
