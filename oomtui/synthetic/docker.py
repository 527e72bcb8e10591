"""A legacy Docker host on cgroup v1 (Ubuntu 18.04, kernel 4.15, cgroupfs driver).

What makes it worth opening: there is no memory.oom.group on v1, so the
kernel kills one process even in a multi-process container; there is no
PSI before 4.20 and no swap accounting without `swapaccount=1`, so those
are null; a 4.15 kernel still gives root processes 3 % off their badness
(but not container roots, whose CAP_SYS_ADMIN Docker drops); and the
billing container keeps hitting its limit.
"""

from __future__ import annotations

from oomtui.model import Snapshot, Sysctl, Workload
from oomtui.synthetic.builder import GiB, HostBuilder, KiB, MiB, Proc, hex_id

DAY = 86400.0
SHIM_ADJ = -999
DOCKERD_ADJ = -500  # docker.service: OOMScoreAdjust=-500


def docker_v1(seed: int = 1) -> Snapshot:
    b = HostBuilder(
        seed=seed, hostname="legacy-app01", kernel="4.15.0-213-generic", mode="v1",
        mem_total=8_152_872 * KiB, swap_total=2 * GiB, taken_at=1764068400.0, uptime=187 * DAY + 3 * 3600.0,
        sysctl=Sysctl(overcommit_memory=0, panic_on_oom=0, oom_kill_allocating_task=0), psi=None,
        swap_accounting=False, pid_max=32768,
    )
    systemd = b.process("/init.scope", "systemd", "/sbin/init splash", started=1.1, anon=5 * MiB, file=6 * MiB)
    kthreadd = b.kernel_thread("kthreadd", started=1.1)
    for name in ("ksoftirqd/0", "ksoftirqd/1", "kswapd0", "khugepaged", "kworker/u4:1", "jbd2/xvda1-8"):
        b.kernel_thread(name, started=1.2, parent=kthreadd)
    for i, (unit, comm, cmd, anon, adj, uid) in enumerate([
        ("systemd-journald.service", "systemd-journal", "/lib/systemd/systemd-journald", 21 * MiB, -250, 0),
        ("systemd-udevd.service", "systemd-udevd", "/lib/systemd/systemd-udevd", 4 * MiB, -1000, 0),
        ("cron.service", "cron", "/usr/sbin/cron -f", 1 * MiB, 0, 0),
        ("rsyslog.service", "rsyslogd", "/usr/sbin/rsyslogd -n", 3 * MiB, 0, 102),
        ("ssh.service", "sshd", "/usr/sbin/sshd -D", 4 * MiB, -1000, 0),
        ("docker.service", "dockerd", "/usr/bin/dockerd -H fd:// --containerd=/run/containerd/containerd.sock",
         88 * MiB, DOCKERD_ADJ, 0),
    ]):
        b.process(f"/system.slice/{unit}", comm, cmd, started=4.0 + i, anon=b.jitter(anon), adj=adj, uid=uid,
                  parent=systemd)
    containerd = b.process("/system.slice/containerd.service", "containerd", "/usr/bin/containerd",
                           started=3.5, anon=34 * MiB, adj=-999, parent=systemd)
    b.cgroup("/docker")
    for name, image, started, limit, knobs, procs in _containers(b):
        cid = hex_id(b.rng)
        named = Workload(kind="container", name=name, container=name, container_id=cid, runtime="docker",
                         image=image, source="runtime")  # config.v2.json's Name and Config.Image
        path = b.cgroup(f"/docker/{cid}", memory_max=limit, workload=named, **knobs)
        shim = b.process("/system.slice/containerd.service", "containerd-shim",
                         ["containerd-shim", "-namespace", "moby", "-workdir",
                          f"/var/lib/containerd/io.containerd.runtime.v1.linux/moby/{cid}",
                          "-address", "/run/containerd/containerd.sock", "-containerd-binary", "/usr/bin/containerd",
                          "-runtime-root", "/var/run/docker/runtime-runc"],
                         started=started, anon=b.jitter(5 * MiB), file=3 * MiB, adj=SHIM_ADJ, parent=containerd)
        init: Proc | None = None
        for i, (comm, cmd, anon, more) in enumerate(procs):
            p = b.process(path, comm, cmd, started=started + 0.5 + 0.1 * i, anon=anon,
                          parent=init or shim, cap_sys_admin=False, **more)
            init = init or p
    priv = b.process("/user.slice/user-1000.slice/session-1187.scope", "sshd", "sshd: deploy [priv]",
                     started=b.uptime - 900, anon=3 * MiB, parent=systemd)
    conn = b.process("/user.slice/user-1000.slice/session-1187.scope", "sshd", "sshd: deploy@pts/1",
                     started=b.uptime - 899, anon=2 * MiB, uid=1000, parent=priv)
    sh = b.process("/user.slice/user-1000.slice/session-1187.scope", "bash", "-bash", started=b.uptime - 898,
                   anon=4 * MiB, uid=1000, parent=conn)
    b.process("/user.slice/user-1000.slice/session-1187.scope", "docker", "docker logs -f billing --tail 200",
              started=b.uptime - 300, anon=14 * MiB, uid=1000, parent=sh)
    return b.build()


def _containers(b: HostBuilder) -> list[tuple[str, str, float, int | None, dict, list[tuple[str, str, int, dict]]]]:
    """(--name, image, start in seconds after boot, --memory, cgroup knobs, processes) per `docker run`."""
    up = b.uptime
    php = "php-fpm: pool www"
    return [
        ("mysql", "mysql:5.7.44", 60.0, 2 * GiB, {}, [
            ("mysqld", "mysqld --innodb-buffer-pool-size=1G", 1320 * MiB, {"uid": 999, "file": 30 * MiB}),
        ]),
        ("redis", "redis:6.2-alpine", 62.0, None, {}, [
            ("redis-server", "redis-server *:6379 --appendonly yes", 610 * MiB, {"uid": 999, "file": 5 * MiB}),
        ]),
        ("elasticsearch", "docker.elastic.co/elasticsearch/elasticsearch:7.17.25", 64.0, 4 * GiB, {}, [
            ("java", "/usr/share/elasticsearch/jdk/bin/java -Xms2g -Xmx2g -XX:+UseG1GC "
             "-Des.path.home=/usr/share/elasticsearch org.elasticsearch.bootstrap.Elasticsearch",
             int(2.55 * GiB), {"uid": 1000, "file": 180 * MiB, "swap": 240 * MiB}),
        ]),
        ("nginx", "nginx:1.24", 70.0, 256 * MiB, {}, [
            ("nginx", "nginx: master process nginx -g daemon off;", 3 * MiB, {"file": 4 * MiB}),
            ("nginx", "nginx: worker process", 14 * MiB, {"uid": 101, "file": 4 * MiB}),
            ("nginx", "nginx: worker process", 12 * MiB, {"uid": 101, "file": 4 * MiB}),
        ]),
        ("billing", "registry.internal:5000/billing:2024.11.3", up - 6 * 3600, GiB,
         {"fill": 0.992, "events": {"oom_kill": 4, "under_oom": 0}}, [
            ("java", "java -Xmx768m -jar /opt/billing/billing.jar", 846 * MiB, {"uid": 0, "file": 41 * MiB}),
        ]),
        ("legacy-php", "php:7.2-fpm", up - 20 * DAY, None, {}, [
            ("php-fpm", "php-fpm: master process (/usr/local/etc/php-fpm.conf)", 12 * MiB, {"file": 10 * MiB}),
            *((php, php, (96 + 17 * i) * MiB, {"uid": 33, "file": 10 * MiB}) for i in range(5)),
        ]),
    ]
