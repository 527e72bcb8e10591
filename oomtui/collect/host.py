"""The host-wide part of a snapshot: memory totals, PSI and the OOM sysctls.

Memory and swap totals and the boot time come from psutil when the
collector reads the /proc psutil reads (its PROCFS_PATH, a process-wide
global); a collector pointed at another tree (a test's fake one) parses
that tree's files the same way psutil does.
"""

from __future__ import annotations

import os

import psutil

from oomtui.collect import parse
from oomtui.collect.files import Reader, read_or_none
from oomtui.model import CgroupMode, Host, Sysctl


def read_host(proc: str, mode: CgroupMode, read: Reader) -> Host:
    """Everything comes from `proc` (hostname and release included) so a fake tree stands in."""

    def text(name: str) -> str | None:
        data = read_or_none(read, f"{proc}/{name}")
        return None if data is None else parse.text(data).strip()

    def sysctl(name: str) -> int | None:
        return parse.to_int(read_or_none(read, f"{proc}/sys/vm/{name}"))

    mem_total, mem_available, swap_total, swap_free = _memory(proc, read)
    return Host(
        hostname=text("sys/kernel/hostname") or "",
        kernel=text("sys/kernel/osrelease"),
        page_size=os.sysconf("SC_PAGE_SIZE"),
        mem_total=mem_total,
        mem_available=mem_available,
        swap_total=swap_total,
        swap_free=swap_free,
        cgroup_mode=mode,
        psi=parse.pressure(read_or_none(read, f"{proc}/pressure/memory")),
        sysctl=Sysctl(
            overcommit_memory=sysctl("overcommit_memory"),
            panic_on_oom=sysctl("panic_on_oom"),
            oom_kill_allocating_task=sysctl("oom_kill_allocating_task"),
        ),
    )


def _memory(proc: str, read: Reader) -> tuple[int | None, int | None, int | None, int | None]:
    """MemTotal, MemAvailable, SwapTotal and SwapFree in bytes."""
    if proc == psutil.PROCFS_PATH:
        try:
            mem, swap = psutil.virtual_memory(), psutil.swap_memory()
            return mem.total, mem.available, swap.total, swap.free
        except (OSError, RuntimeError, ValueError):
            pass  # an unreadable or unusual meminfo: what can be parsed of it below
    info = parse.meminfo(read_or_none(read, f"{proc}/meminfo"))
    return info.get("MemTotal"), info.get("MemAvailable"), info.get("SwapTotal"), info.get("SwapFree")


def boot_time(proc: str, read: Reader) -> int | None:
    """When the host booted, epoch seconds (/proc/stat `btime`)."""
    if proc == psutil.PROCFS_PATH:
        try:
            return int(psutil.boot_time())
        except (OSError, RuntimeError, ValueError):
            pass
    return parse.btime(read_or_none(read, f"{proc}/stat"))
