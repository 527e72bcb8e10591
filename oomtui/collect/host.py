"""The host-wide part of a snapshot: memory totals, PSI and the OOM sysctls."""

from __future__ import annotations

import os

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

    mem = parse.meminfo(read_or_none(read, f"{proc}/meminfo"))
    return Host(
        hostname=text("sys/kernel/hostname") or "",
        kernel=text("sys/kernel/osrelease"),
        page_size=os.sysconf("SC_PAGE_SIZE"),
        mem_total=mem.get("MemTotal"),
        mem_available=mem.get("MemAvailable"),
        swap_total=mem.get("SwapTotal"),
        swap_free=mem.get("SwapFree"),
        cgroup_mode=mode,
        psi=parse.pressure(read_or_none(read, f"{proc}/pressure/memory")),
        sysctl=Sysctl(
            overcommit_memory=sysctl("overcommit_memory"),
            panic_on_oom=sysctl("panic_on_oom"),
            oom_kill_allocating_task=sysctl("oom_kill_allocating_task"),
        ),
    )
