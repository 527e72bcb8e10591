"""Snapshot files written by hand, as dicts: one with every field of the format set, one with only what it requires."""

from __future__ import annotations

from typing import Any

GiB, MiB = 1 << 30, 1 << 20


def full() -> dict[str, Any]:
    """A snapshot with every field of the format set, each to a value no other field has."""
    return {
        "format": "oomtui-snapshot", "version": 1, "taken_at": 1764072000.5, "source": "kernel-log",
        "host": {
            "hostname": "web-1", "kernel": "6.8.0-45-generic", "page_size": 16384,
            "mem_total": 8 * GiB, "mem_available": 3 * GiB, "swap_total": 2 * GiB, "swap_free": GiB,
            "cgroup_mode": "hybrid",
            "psi": {"some": {"avg10": 1.5, "avg60": 2.25, "avg300": 3.125, "total": 123456},
                    "full": {"avg10": 0.5, "avg60": None, "avg300": 0.25, "total": 99}},
            "sysctl": {"overcommit_memory": 2, "panic_on_oom": 1, "oom_kill_allocating_task": 3},
            "killers": [
                {"name": "earlyoom", "pid": 812, "settings": {"prefer": "^java$", "mem_min_percent": "5"},
                 "source": "command line of pid 812"},
                {"name": "systemd-oomd", "pid": None, "settings": {}, "source": "/etc/systemd/oomd.conf"},
            ],
        },
        "cgroups": [
            {"path": "/", "memory_current": 5 * GiB, "memory_max": None, "memory_high": None, "memory_low": None,
             "memory_min": None, "swap_current": None, "swap_max": None, "owner_uid": 0, "oom_group": None,
             "stat": {"anon": 4 * GiB, "file": GiB}, "events": {}, "pressure": None, "xattrs": {}, "populated": True},
            {"path": "/app", "memory_current": 3 * GiB, "memory_max": 4 * GiB, "memory_high": 7 * 512 * MiB,
             "memory_low": 256 * MiB, "memory_min": 128 * MiB, "swap_current": MiB, "swap_max": 512 * MiB,
             "swappiness": 60, "owner_uid": 1000, "oom_group": True,
             "stat": {"anon": 2 * GiB, "total_rss": 5},
             "events": {"low": 1, "high": 2, "max": 3, "oom": 4, "oom_kill": 5, "oom_group_kill": 6},
             "pressure": {"some": {"avg10": 4.5, "avg60": 5.25, "avg300": 6.125, "total": 777}, "full": None},
             "xattrs": {"user.oomd_prefer": "1", "trusted.oomd_avoid": "yes"}, "populated": False,
             "trend": {"interval": 5.5, "memory_current_prev": 3 * GiB - MiB, "memory_current_avg": 3 * GiB - 2 * MiB,
                       "pgscan_prev": 77, "pressure_full_avg10_above_since": 1764071990.25}},
            {"path": "/app/web", "memory_current": 2 * GiB, "memory_max": None, "memory_high": None,
             "memory_low": None, "memory_min": None, "swap_current": 0, "swap_max": 0, "owner_uid": None,
             "oom_group": False, "stat": {}, "events": {"oom_kill": 1}, "pressure": None, "xattrs": {},
             "populated": None,
             "workload": {"kind": "k8s-container", "name": "shop/cart-7d9/web", "namespace": "shop",
                          "pod": "cart-7d9", "pod_uid": "0b1c-22", "qos": "Burstable", "container": "web",
                          "container_id": "abc123", "runtime": "containerd", "image": "shop/web:1.2",
                          "source": "runtime"}},
        ],
        "processes": [
            {"pid": 1, "ppid": 0, "comm": "systemd", "cmdline": ["/sbin/init", "splash"], "uid": 0, "cgroup": "/",
             "rss_anon": 3 * MiB, "rss_file": 9 * MiB, "rss_shmem": MiB, "swap": 0, "pgtables": 40960,
             "oom_score_adj": 0, "oom_score": 1, "start_time": 1764000000.75, "kernel_thread": False},
            {"pid": 2, "ppid": None, "comm": "kthreadd", "cmdline": [], "uid": None, "cgroup": "/",
             "rss_anon": None, "rss_file": None, "rss_shmem": None, "swap": None, "pgtables": None,
             "oom_score_adj": 0, "oom_score": None, "start_time": None, "kernel_thread": True},
            {"pid": 4242, "ppid": 1, "comm": "java", "cmdline": ["java", "-Xmx2g"], "uid": 1000,
             "cgroup": "/app/web", "rss_anon": 2 * GiB, "rss_file": 20 * MiB, "rss_shmem": 2 * MiB,
             "swap": 7 * MiB, "pgtables": 4 * MiB, "oom_score_adj": 1000, "oom_score": 1987,
             "start_time": 1764000100.5, "kernel_thread": False},
            {"pid": 4243, "ppid": 4242, "comm": "sidecar", "cmdline": ["sidecar"], "uid": 1001, "cgroup": "/app",
             "rss_anon": None, "rss_file": None, "rss_shmem": None, "swap": 12288, "pgtables": 8192,
             "oom_score_adj": -1000, "oom_score": 0, "start_time": 1764000200.25, "kernel_thread": False,
             "rss_total": 300 * MiB},
        ],
        "oom_event": {"kind": "memcg", "domain": "/app", "total_pages": 1048576, "killed_pid": 4242,
                      "killed_comm": "java", "group_killed_pids": [4243, 4244],
                      "raw": "Memory cgroup out of memory: Killed process 4242 (java)"},
        "whatif": {"cgroups": {"/app": {"interdependent": False, "score": -1000,
                                        "xattrs": {"user.oomd_avoid": "1", "user.oomd_prefer": None}},
                               "/app/web": {"interdependent": True, "score": 1000}},
                   "processes": {"4242": {"oom_score_adj": -500}, "1": {"oom_score_adj": None}}},
    }


def minimal() -> dict[str, Any]:
    """Only what the format requires."""
    return {"format": "oomtui-snapshot", "version": 1, "host": {}, "cgroups": [{"path": "/"}],
            "processes": [{"pid": 1, "cgroup": "/"}]}


def json_types(value: object) -> object:
    """The JSON's shape with each value replaced by its type's name, so 1 and 1.0 differ."""
    if isinstance(value, dict):
        return {k: json_types(v) for k, v in value.items()}
    if isinstance(value, list):
        return [json_types(v) for v in value]
    return type(value).__name__
