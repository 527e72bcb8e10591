"""A systemd database server on cgroup v2, watched by systemd-oomd (and oomd preference xattrs).

What makes it worth opening: postgresql.service runs under MemoryMax with
its shared buffers counted in every backend's RSS (the kernel counts them
per process, the cgroup once), swap is in use, one user's services are
over systemd-oomd's pressure limit, and the cgroups carry the preference
xattrs each daemon reads, some of which the daemon will ignore.
"""

from __future__ import annotations

from oomtui.model import Snapshot, Sysctl
from oomtui.synthetic.builder import GiB, HostBuilder, KiB, MiB

DAY = 86400.0
PG = "/system.slice/postgresql.service"
PG_CONF = "/usr/lib/postgresql/16/bin/postgres -D /var/lib/postgresql/16/main " \
          "-c config_file=/etc/postgresql/16/main/postgresql.conf"
POSTGRES_UID, WWW_UID, REDIS_UID, ALICE, BOB = 113, 33, 114, 1000, 1001


def systemd_server(seed: int = 3) -> Snapshot:
    b = HostBuilder(
        seed=seed, hostname="db01.example.net", kernel="6.8.0-48-generic", mode="v2",
        mem_total=16_365_420 * KiB, swap_total=4 * GiB, taken_at=1764075600.0, uptime=41 * DAY + 7200.0,
        sysctl=Sysctl(overcommit_memory=0, panic_on_oom=0, oom_kill_allocating_task=0), psi=(21.64, 9.38),
        trend=True,
    )
    systemd = b.process("/init.scope", "systemd", "/sbin/init", started=0.5, anon=9 * MiB, file=8 * MiB)
    kthreadd = b.kernel_thread("kthreadd", started=0.5)
    for name in ("rcu_preempt", "ksoftirqd/0", "ksoftirqd/1", "ksoftirqd/2", "ksoftirqd/3", "kswapd0",
                 "kcompactd0", "khugepaged", "kworker/u8:2-events_unbound", "jbd2/sda2-8"):
        b.kernel_thread(name, started=0.6, parent=kthreadd)
    _services(b, systemd)
    _postgres(b, systemd)
    _users(b, systemd)
    return b.build()


def _services(b: HostBuilder, systemd) -> None:
    for i, (unit, comm, cmd, anon, adj, uid, knobs) in enumerate([
        ("systemd-journald.service", "systemd-journal", "/usr/lib/systemd/systemd-journald", 42 * MiB, -250, 0, {}),
        ("systemd-udevd.service", "systemd-udevd", "/usr/lib/systemd/systemd-udevd", 6 * MiB, -1000, 0, {}),
        ("systemd-oomd.service", "systemd-oomd", "/usr/lib/systemd/systemd-oomd", 3 * MiB, -900, 108,
         {"xattrs": {"user.oomd_omit": "1"}}),
        ("systemd-resolved.service", "systemd-resolve", "/usr/lib/systemd/systemd-resolved", 8 * MiB, 0, 101, {}),
        ("dbus.service", "dbus-daemon", "@dbus-daemon --system --address=systemd: --nofork --nopidfile "
         "--systemd-activation --syslog-only", 4 * MiB, -900, 102, {}),
        ("systemd-logind.service", "systemd-logind", "/usr/lib/systemd/systemd-logind", 5 * MiB, 0, 0, {}),
        ("cron.service", "cron", "/usr/sbin/cron -f -P", 2 * MiB, 0, 0, {}),
        ("rsyslog.service", "rsyslogd", "/usr/sbin/rsyslogd -n -iNONE", 7 * MiB, 0, 104, {}),
        ("ssh.service", "sshd", "sshd: /usr/sbin/sshd -D [listener] 0 of 10-100 startups", 6 * MiB, -1000, 0,
         {"xattrs": {"user.oomd_omit": "1"}}),
        ("prometheus-node-exporter.service", "prometheus-node", "/usr/bin/prometheus-node-exporter", 24 * MiB, 0,
         65534, {}),
    ]):
        b.cgroup(f"/system.slice/{unit}", pressure=(0.0, 0.0), **knobs)
        b.process(f"/system.slice/{unit}", comm, cmd, started=3.0 + i, anon=b.jitter(anon), adj=adj, uid=uid,
                  parent=systemd)
    app = b.cgroup("/system.slice/shop.service", memory_max=2 * GiB, memory_high=int(1.8 * GiB), oom_group=True,
                   pressure=(4.12, 1.01), growth=1.08, pgscan_rate=1840)
    master = b.process(app, "gunicorn", "/srv/shop/venv/bin/python3 /srv/shop/venv/bin/gunicorn shop.wsgi "
                       "--workers 4 --bind 127.0.0.1:8000", started=30.0, anon=38 * MiB, uid=WWW_UID, parent=systemd)
    for i, size in enumerate((268, 301, 244, 389)):
        b.process(app, "gunicorn", master.cmdline, started=b.uptime - DAY + i * 3600, anon=size * MiB,
                  swap=b.jitter(20 * MiB), uid=WWW_UID, parent=master)
    nginx = b.cgroup("/system.slice/nginx.service", pressure=(0.0, 0.0))
    master = b.process(nginx, "nginx", "nginx: master process /usr/sbin/nginx -g daemon on; master_process on;",
                       started=31.0, anon=3 * MiB, parent=systemd)
    for _ in range(4):
        b.process(nginx, "nginx", "nginx: worker process", started=31.2, anon=b.jitter(11 * MiB), uid=WWW_UID,
                  parent=master)
    redis = b.cgroup("/system.slice/redis-server.service", xattrs={"trusted.oomd_avoid": "1"},
                     pressure=(0.51, 0.0), growth=1.01)
    b.process(redis, "redis-server", "/usr/bin/redis-server 127.0.0.1:6379", started=29.0, anon=702 * MiB,
              swap=64 * MiB, uid=REDIS_UID, parent=systemd)
    backup = b.cgroup("/system.slice/backup.service", xattrs={"trusted.oomd_prefer": "1"}, pressure=(6.3, 2.2),
                      growth=2.13, pgscan_rate=48211, swap_extra=12 * MiB)
    b.process(backup, "restic", "/usr/bin/restic backup --one-file-system /srv /var/lib/postgresql-dumps",
              started=b.uptime - 1500, anon=1180 * MiB, swap=410 * MiB, parent=systemd)


def _postgres(b: HostBuilder, systemd) -> None:
    """Debian's unit: the postmaster at -900, backends reset to 0 (PG_OOM_ADJUST_VALUE=0)."""
    b.cgroup(PG, memory_max=6 * GiB, memory_high=int(5.5 * GiB), memory_low=GiB,
             xattrs={"user.oomd_avoid": "1"}, pressure=(14.2, 6.05), growth=1.12, pgscan_rate=22120,
             events={"low": 0, "high": 8812, "max": 0})
    post = b.process(PG, "postgres", PG_CONF, started=35.0, anon=22 * MiB, shmem=1960 * MiB, file=48 * MiB,
                     adj=-900, uid=POSTGRES_UID, parent=systemd)
    helpers = [("checkpointer", 1540), ("background writer", 1120), ("walwriter", 18),
               ("autovacuum launcher", 6), ("logical replication launcher", 4)]
    for name, shm in helpers:
        b.process(PG, "postgres", f"postgres: 16/main: {name}", started=35.3, anon=b.jitter(3 * MiB),
                  shmem=shm * MiB, file=20 * MiB, uid=POSTGRES_UID, parent=post)
    for i in range(7):
        b.process(PG, "postgres", f"postgres: 16/main: shop shop 127.0.0.1({41000 + 37 * i}) idle",
                  started=b.uptime - DAY + 500 * i, anon=b.jitter(16 * MiB), shmem=b.jitter(300 * MiB),
                  file=22 * MiB, swap=b.jitter(4 * MiB), uid=POSTGRES_UID, parent=post)
    b.process(PG, "postgres", "postgres: 16/main: autovacuum worker shop", started=b.uptime - 90,
              anon=210 * MiB, shmem=380 * MiB, file=22 * MiB, uid=POSTGRES_UID, parent=post)
    b.process(PG, "postgres", "postgres: 16/main: analyst warehouse [local] SELECT", started=b.uptime - 2400,
              anon=1930 * MiB, shmem=1210 * MiB, file=24 * MiB, swap=305 * MiB, uid=POSTGRES_UID, parent=post)


def _users(b: HostBuilder, systemd) -> None:
    """alice administers over ssh; bob's notebook and dask worker run as his user services."""
    b.cgroup("/user.slice", pressure=(33.1, 18.2), growth=1.3)
    managers = {}
    for uid, since in ((ALICE, 5 * 3600), (BOB, 3 * DAY)):
        svc = f"/user.slice/user-{uid}.slice/user@{uid}.service"
        b.cgroup(svc, owner_uid=uid, pressure=(0.0, 0.0))
        b.cgroup(f"{svc}/app.slice", owner_uid=uid)
        mgr = managers[uid] = b.process(f"{svc}/init.scope", "systemd", "/usr/lib/systemd/systemd --user",
                        started=b.uptime - since, anon=7 * MiB, uid=uid, parent=systemd)
        b.process(f"{svc}/init.scope", "(sd-pam)", "(sd-pam)", started=b.uptime - since, anon=2 * MiB, uid=uid,
                  parent=mgr)
        b.cgroup(f"{svc}/init.scope", owner_uid=uid)
    scope = "/user.slice/user-1000.slice/session-212.scope"
    priv = b.process(scope, "sshd", "sshd: alice [priv]", started=b.uptime - 5 * 3600, anon=3 * MiB, parent=systemd)
    conn = b.process(scope, "sshd", "sshd: alice@pts/0", started=b.uptime - 5 * 3600 + 0.3, anon=2 * MiB,
                     uid=ALICE, parent=priv)
    tmux = b.process(scope, "tmux: server", "tmux", started=b.uptime - 5 * 3600 + 2, anon=4 * MiB, uid=ALICE,
                     parent=conn)
    sh = b.process(scope, "bash", "-bash", started=b.uptime - 5 * 3600 + 3, anon=5 * MiB, uid=ALICE, parent=tmux)
    b.process(scope, "psql", "psql -d shop", started=b.uptime - 700, anon=9 * MiB, uid=ALICE, parent=sh)
    bob = "/user.slice/user-1001.slice/user@1001.service"
    b.cgroup(bob, pressure=(71.4, 64.52), pressure_since=41.0, growth=1.45, pgscan_rate=91533)
    jupyter = b.cgroup(f"{bob}/app.slice/jupyter.service", owner_uid=BOB, xattrs={"user.oomd_avoid": "1"},
                       pressure=(72.0, 65.1), pressure_since=41.0, growth=1.71, pgscan_rate=74211)
    lab = b.process(jupyter, "jupyter-lab", "/home/bob/.venv/bin/python3 /home/bob/.venv/bin/jupyter-lab --no-browser",
                    started=b.uptime - 3 * DAY + 60, anon=212 * MiB, swap=40 * MiB, uid=BOB,
                    parent=managers[BOB])
    b.process(jupyter, "python3", "/home/bob/.venv/bin/python3 -m ipykernel_launcher -f "
              "/home/bob/.local/share/jupyter/runtime/kernel-5f1c.json", started=b.uptime - 3 * 3600,
              anon=3310 * MiB, swap=910 * MiB, uid=BOB, parent=lab)
    dask = b.cgroup(f"{bob}/app.slice/dask-worker@1.service", owner_uid=BOB, pressure=(69.3, 61.2),
                    pressure_since=38.0, growth=1.22, pgscan_rate=31322)
    b.process(dask, "dask-worker", "/home/bob/.venv/bin/python3 /home/bob/.venv/bin/dask-worker "
              "tcp://127.0.0.1:8786 --nworkers 1 --memory-limit 0", started=b.uptime - 3 * 3600 + 30,
              anon=1390 * MiB, swap=212 * MiB, uid=BOB, parent=managers[BOB])
