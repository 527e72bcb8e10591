"""A Kubernetes worker node on cgroup v2 (systemd cgroup driver, containerd).

What makes it worth opening: kubelet's oom_score_adj values decide a global
OOM far more than sizes do (BestEffort 1000 against a 7 GiB Burstable
indexer at 809), every container has memory.oom.group=1 so the kernel kills
a container whole, and two pods sit at their limits with OOM events.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from oomtui.model import Snapshot, Sysctl, Workload
from oomtui.synthetic.builder import GiB, HostBuilder, KiB, MiB, Proc, hex_id, pages, uuid4

MEM_TOTAL = 32_863_540 * KiB  # a 32 GiB VM; kubelet's capacity is MemTotal
KUBE_RESERVED = GiB
SYSTEM_RESERVED = 512 * MiB
DAY = 86400.0
CELERY = "/usr/local/bin/python /usr/local/bin/celery -A resizer worker --concurrency=4"

GUARANTEED_ADJ = -997
BESTEFFORT_ADJ = 1000
PAUSE_ADJ = -998  # the pod sandbox, and the shim (containerd's own -999, plus one)
KUBELET_ADJ = -999  # kubelet and kube-proxy set themselves


def burstable_adj(request: int, capacity: int = MEM_TOTAL) -> int:
    """kubelet's pkg/kubelet/qos/policy.go: 1000 - 1000*request/capacity, kept within [3, 999]."""
    adj = 1000 - (1000 * request) // capacity
    if adj < 1000 + GUARANTEED_ADJ:
        return 1000 + GUARANTEED_ADJ
    return BESTEFFORT_ADJ - 1 if adj == BESTEFFORT_ADJ else adj


@dataclass
class Container:
    name: str
    request: int | None
    limit: int | None
    procs: list[tuple[str, str, float, dict]]  # comm, cmdline, anon bytes, more process fields
    uid: int = 0
    restarted: float | None = None  # seconds before the snapshot; None: with the pod
    knobs: dict = field(default_factory=dict)  # cgroup knobs: fill, events, pressure


def _qos(containers: list[Container]) -> str:
    if all(c.request is None and c.limit is None for c in containers):
        return "besteffort"
    if all(c.limit is not None and c.request == c.limit for c in containers):
        return "guaranteed"
    return "burstable"


def _adj(qos: str, c: Container) -> int:
    if qos == "guaranteed":
        return GUARANTEED_ADJ
    if qos == "besteffort":
        return BESTEFFORT_ADJ
    return burstable_adj(c.request or 0)


def _pod(b: HostBuilder, shim_home: str, started: float, ns: str, name: str, containers: list[Container]) -> None:
    """A pod slice with its sandbox and containers, and the shim that runs them in containerd.service.

    Named as the collector names them as root: pod and containers from the
    kubelet's log directories, the sandbox (no log) from containerd's bundle.
    """
    qos = _qos(containers)
    uid = uuid4(b.rng)
    su = uid.replace("-", "_")
    if qos == "guaranteed":
        pod = f"/kubepods.slice/kubepods-pod{su}.slice"
    else:
        pod = f"/kubepods.slice/kubepods-{qos}.slice/kubepods-{qos}-pod{su}.slice"
    limits = [c.limit for c in containers]
    qos_class = {"guaranteed": "Guaranteed", "burstable": "Burstable", "besteffort": "BestEffort"}[qos]
    ids = {"namespace": ns, "pod": name, "pod_uid": uid, "qos": qos_class}

    def named(container: str, cid: str, source: str) -> Workload:
        return Workload(kind="k8s-container", name=f"{ns}/{name}/{container}", container=container, container_id=cid,
                        runtime="containerd", source=source, **ids)  # type: ignore[arg-type]

    b.cgroup(pod, memory_max=None if None in limits else sum(limits),  # type: ignore[arg-type]
             workload=Workload(kind="k8s-pod", name=f"{ns}/{name}", source="pod-logs", **ids))
    sandbox = hex_id(b.rng)
    shim = b.process(
        shim_home, "containerd-shim",
        ["/usr/bin/containerd-shim-runc-v2", "-namespace", "k8s.io", "-id", sandbox,
         "-address", "/run/containerd/containerd.sock"],
        started=started, anon=b.jitter(9 * MiB), file=b.jitter(6 * MiB), adj=PAUSE_ADJ,
    )
    pause = b.cgroup(f"{pod}/cri-containerd-{sandbox}.scope", oom_group=True, cache=0,
                     workload=named("POD", sandbox, "runtime"))
    b.process(pause, "pause", ["/pause"], started=started + 0.3, anon=160 * KiB, file=320 * KiB,
              adj=PAUSE_ADJ, uid=65535, parent=shim)
    for c in containers:
        cid = hex_id(b.rng)
        scope = b.cgroup(f"{pod}/cri-containerd-{cid}.scope", memory_max=c.limit, oom_group=True,
                         workload=named(c.name, cid, "pod-logs"), **c.knobs)
        begin = b.uptime - c.restarted if c.restarted is not None else started + 1.5
        adj = _adj(qos, c)
        init: Proc | None = None
        for i, (comm, cmdline, anon, more) in enumerate(c.procs):
            opts = {"uid": c.uid, "adj": adj, "cap_sys_admin": False, **more}
            p = b.process(scope, comm, cmdline, started=begin + 0.2 * i, anon=anon,
                          parent=shim if init is None else init, **opts)
            init = init or p


def k8s_node(seed: int = 2) -> Snapshot:
    b = HostBuilder(
        seed=seed, hostname="ip-10-0-37-142.eu-west-1.compute.internal", kernel="6.8.0-1019-aws", mode="v2",
        mem_total=MEM_TOTAL, swap_total=0, taken_at=1764072000.0, uptime=12 * DAY + 5 * 3600.0,
        sysctl=Sysctl(overcommit_memory=1, panic_on_oom=0, oom_kill_allocating_task=0), psi=(3.21, 0.87),
    )
    _system(b)
    allocatable = pages(MEM_TOTAL - KUBE_RESERVED - SYSTEM_RESERVED)
    b.cgroup("/kubepods.slice", memory_max=allocatable)
    b.cgroup("/kubepods.slice/kubepods-burstable.slice")
    b.cgroup("/kubepods.slice/kubepods-besteffort.slice")
    shims = "/system.slice/containerd.service"
    for started, ns, name, containers in _pods(b):
        _pod(b, shims, started, ns, name, containers)
    return b.build()


def _system(b: HostBuilder) -> None:
    """The host side: kernel threads, systemd, the node agents, an admin's ssh session."""
    systemd = b.process("/init.scope", "systemd", "/sbin/init", started=0.4, anon=6 * MiB, file=7 * MiB)
    kthreadd = b.kernel_thread("kthreadd", started=0.4)
    for name in ("ksoftirqd/0", "rcu_preempt", "kswapd0", "khugepaged", "kworker/u8:1-events_unbound",
                 "jbd2/nvme0n1p1-8"):
        b.kernel_thread(name, started=0.5, parent=kthreadd)
    services = [
        ("systemd-journal", "/lib/systemd/systemd-journald", 18 * MiB, -250, 0, "systemd-journald.service"),
        ("systemd-udevd", "/lib/systemd/systemd-udevd", 5 * MiB, -1000, 0, "systemd-udevd.service"),
        ("systemd-network", "/lib/systemd/systemd-networkd", 4 * MiB, 0, 100, "systemd-networkd.service"),
        ("systemd-resolve", "/lib/systemd/systemd-resolved", 6 * MiB, 0, 101, "systemd-resolved.service"),
        ("dbus-daemon", "@dbus-daemon --system --address=systemd: --nofork --nopidfile --systemd-activation",
         3 * MiB, -900, 102, "dbus.service"),
        ("systemd-logind", "/lib/systemd/systemd-logind", 4 * MiB, 0, 0, "systemd-logind.service"),
        ("chronyd", "/usr/sbin/chronyd -F 1", 2 * MiB, 0, 118, "chrony.service"),
        ("sshd", "sshd: /usr/sbin/sshd -D [listener] 0 of 10-100 startups", 5 * MiB, -1000, 0, "ssh.service"),
        ("amazon-ssm-agen", "/snap/amazon-ssm-agent/9881/amazon-ssm-agent", 24 * MiB, 0, 0,
         "snap.amazon-ssm-agent.amazon-ssm-agent.service"),
        ("containerd", "/usr/bin/containerd", 96 * MiB, -999, 0, "containerd.service"),
        ("kubelet", "/usr/bin/kubelet --bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf "
         "--kubeconfig=/etc/kubernetes/kubelet.conf --config=/var/lib/kubelet/config.yaml "
         "--container-runtime-endpoint=unix:///run/containerd/containerd.sock", 142 * MiB, KUBELET_ADJ, 0,
         "kubelet.service"),
    ]
    for i, (comm, cmd, anon, adj, uid, unit) in enumerate(services):
        b.process(f"/system.slice/{unit}", comm, cmd, started=2.0 + i * 0.7, anon=b.jitter(anon), adj=adj,
                  uid=uid, parent=systemd)
    session = "/user.slice/user-1000.slice"
    b.cgroup(session, owner_uid=0)
    manager = b.process(f"{session}/user@1000.service/init.scope", "systemd", "/lib/systemd/systemd --user",
                        started=b.uptime - 3 * 3600, anon=5 * MiB, uid=1000, parent=systemd)
    b.process(f"{session}/user@1000.service/init.scope", "(sd-pam)", "(sd-pam)", started=b.uptime - 3 * 3600,
              anon=2 * MiB, uid=1000, parent=manager)
    priv = b.process(f"{session}/session-4.scope", "sshd", "sshd: ubuntu [priv]", started=b.uptime - 3 * 3600,
                     anon=3 * MiB, parent=systemd)
    conn = b.process(f"{session}/session-4.scope", "sshd", "sshd: ubuntu@pts/0", started=b.uptime - 3 * 3600 + 0.2,
                     anon=2 * MiB, uid=1000, parent=priv)
    shell = b.process(f"{session}/session-4.scope", "bash", "-bash", started=b.uptime - 3 * 3600 + 0.3,
                      anon=4 * MiB, uid=1000, parent=conn)
    b.process(f"{session}/session-4.scope", "htop", "htop", started=b.uptime - 600, anon=4 * MiB, uid=1000,
              parent=shell)


def _pods(b: HostBuilder) -> list[tuple[float, str, str, list[Container]]]:
    """(pod start in seconds after boot, namespace, pod, containers); requests and limits as their manifests say."""
    up = b.uptime
    java = "java -XX:MaxRAMPercentage=75 -XX:+ExitOnOutOfMemoryError -jar /app/checkout.jar"
    pg_backend = {"file": 40 * MiB, "shmem": 380 * MiB}
    return [
        (40.0, "kube-system", "kube-proxy-x7k2p", [Container("kube-proxy", None, None, [
            ("kube-proxy", "/usr/local/bin/kube-proxy --config=/var/lib/kube-proxy/config.conf "
             "--hostname-override=ip-10-0-37-142", 38 * MiB, {"adj": KUBELET_ADJ}),
        ])]),
        (45.0, "kube-system", "coredns-5d78c9869d-4xkqz", [Container("coredns", 70 * MiB, 170 * MiB, [
            ("coredns", "/coredns -conf /etc/coredns/Corefile", 31 * MiB, {}),
        ], uid=65532)]),
        (52.0, "logging", "fluent-bit-9gk2m", [Container("fluent-bit", 100 * MiB, 500 * MiB, [
            ("fluent-bit", "/fluent-bit/bin/fluent-bit -c /fluent-bit/etc/fluent-bit.conf", 84 * MiB, {}),
        ])]),
        (55.0, "monitoring", "node-exporter-tq8vw", [Container("node-exporter", 50 * MiB, 180 * MiB, [
            ("node_exporter", "/bin/node_exporter --path.rootfs=/host --web.listen-address=:9100", 22 * MiB, {}),
        ], uid=65534)]),
        (2 * DAY, "shop", "orders-db-0", [
            Container("postgres", 4 * GiB, 4 * GiB, [
                ("postgres", "postgres -c shared_buffers=1GB -c max_connections=200", 18 * MiB,
                 {"shmem": 1010 * MiB, "file": 60 * MiB}),
                ("postgres", "postgres: checkpointer", 3 * MiB, {"shmem": 880 * MiB, "file": 20 * MiB}),
                ("postgres", "postgres: background writer", 2 * MiB, {"shmem": 640 * MiB, "file": 20 * MiB}),
                ("postgres", "postgres: walwriter", 2 * MiB, {"shmem": 16 * MiB, "file": 20 * MiB}),
                ("postgres", "postgres: autovacuum launcher", 3 * MiB, {"shmem": 4 * MiB, "file": 20 * MiB}),
                ("postgres", "postgres: orders orders 10.0.41.7(52344) idle", 14 * MiB, pg_backend),
                ("postgres", "postgres: orders orders 10.0.41.7(52360) SELECT", 310 * MiB,
                 {**pg_backend, "shmem": 720 * MiB}),
                ("postgres", "postgres: orders orders 10.0.12.9(40112) idle", 12 * MiB, pg_backend),
            ], uid=999, knobs={"pressure": (1.2, 0.3)}),
            Container("postgres-exporter", 128 * MiB, 128 * MiB, [
                ("postgres_export", "/bin/postgres_exporter --collector.stat_statements", 21 * MiB, {}),
            ], uid=65534),
        ]),
        (3 * DAY, "shop", "cart-redis-0", [Container("redis", 2 * GiB, 2 * GiB, [
            ("redis-server", "redis-server *:6379", 1430 * MiB, {"file": 8 * MiB}),
        ], uid=999)]),
        (5 * DAY, "shop", "checkout-7d9f8b6c5-k2x4p", [
            Container("checkout", GiB, 2 * GiB, [
                ("java", java, 1815 * MiB, {"file": 54 * MiB}),
            ], uid=10001, restarted=2 * 3600.0, knobs={
                "fill": 0.986, "pressure": (28.41, 19.72),
                "events": {"high": 0, "max": 1523, "oom": 3, "oom_kill": 3, "oom_group_kill": 3},
            }),
            Container("envoy", 128 * MiB, 256 * MiB, [
                ("envoy", "envoy -c /etc/envoy/envoy.yaml --service-cluster checkout", 47 * MiB, {}),
            ], uid=101),
        ]),
        (6 * DAY, "shop", "web-6b8c9d7f4-zp5nq", [
            Container("web", 256 * MiB, 512 * MiB, [
                ("node", "node /app/server.js", 188 * MiB, {}),
            ], uid=1000),
            Container("nginx", 64 * MiB, 128 * MiB, [
                ("nginx", "nginx: master process nginx -g daemon off;", 2 * MiB, {}),
                ("nginx", "nginx: worker process", 9 * MiB, {"uid": 101}),
                ("nginx", "nginx: worker process", 8 * MiB, {"uid": 101}),
            ]),
        ]),
        (up - 3 * 3600, "media", "image-resizer-84f6d9c7b-wq2lm", [Container("image-resizer", 512 * MiB, GiB, [
            ("celery", CELERY, 80 * MiB, {"file": 18 * MiB}),
            ("celery", CELERY, 201 * MiB, {"file": 18 * MiB}),
            ("celery", CELERY, 188 * MiB, {"file": 18 * MiB}),
            ("celery", CELERY, 236 * MiB, {"file": 18 * MiB}),
            ("celery", CELERY, 97 * MiB, {"file": 18 * MiB}),
        ], uid=1000, restarted=20 * 60.0, knobs={
            "fill": 0.973, "pressure": (12.08, 7.15),
            "events": {"high": 0, "max": 412, "oom": 1, "oom_kill": 5, "oom_group_kill": 1},
        })]),
        (8 * DAY, "search", "indexer-0", [Container("search-indexer", 6 * GiB, None, [
            ("java", "java -Xms6g -Xmx7g -jar /opt/indexer/indexer.jar", int(7.2 * GiB), {"file": 120 * MiB}),
        ], uid=1000)]),
        (up - 40 * 60, "reports", "monthly-report-29372160-mx6tq", [Container("report-generator", None, None, [
            ("python3", "python3 -m reports.monthly --month 2025-10", 912 * MiB, {}),
        ], uid=1000)]),
        (up - 25 * 60, "default", "debug-shell", [Container("debug", None, None, [
            ("bash", "/bin/bash", 4 * MiB, {}),
            ("curl", "curl -s http://checkout.shop.svc:8080/health", 6 * MiB, {}),
        ])]),
    ]
