"""The kernel's numbers that several policies share: total pages and the kernel era.

total_pages is the budget the kernel scales `oom_score_adj` by
(kernel-oom.md §1.6): the 2017 proposals reuse it so a cgroup score means
the same fraction of the domain as a process's adj does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from oomtui.model import ROOT, Snapshot

CURRENT = (99, 0)  # unknown kernel: the current rules
_VERSION = re.compile(r"^(\d+)\.(\d+)")


def kernel_version(release: str | None) -> tuple[int, int]:
    """(major, minor) of a `uname -r` string; unknown means current."""
    m = _VERSION.match(release or "")
    return (int(m.group(1)), int(m.group(2))) if m else CURRENT


@dataclass(frozen=True, slots=True)
class Budget:
    pages: int
    note: str | None = None  # why the figure may be off, or None


def total_pages(snapshot: Snapshot, domain: str = ROOT) -> Budget:
    """totalpages as constrained_alloc() sets it for a global or memcg OOM."""
    host = snapshot.host
    page = host.page_size
    swap_pages = (host.swap_total or 0) // page
    swap_note = None if host.swap_total is not None else "host swap total unknown; counted as none"
    if (
        domain == ROOT
        and snapshot.oom_event is not None
        and snapshot.oom_event.domain == ROOT
        and snapshot.oom_event.total_pages is not None
    ):
        return Budget(snapshot.oom_event.total_pages)
    if domain == ROOT:
        if host.mem_total is None:
            return Budget(1, "host memory total unknown")
        return Budget(host.mem_total // page + swap_pages, swap_note)
    cg = snapshot.cgroup(domain)
    if cg is None or cg.memory_max is None:
        return Budget(1, f"{domain} has no memory limit")
    pages = cg.memory_max // page
    if cg.swappiness != 0:
        swap_limit = swap_pages if cg.swap_max is None else min(cg.swap_max // page, swap_pages)
        pages += swap_limit
    return Budget(pages or 1, swap_note)
