"""OOM domains as a fleet sees them: their limit, the headroom left, and which ones to export.

Limit and headroom follow research/fleet-prometheus.md §4.1: a cgroup's
limit is its memory limit plus the swap it may use; its headroom is the
limit less the working set (`memory.current` less inactive file pages,
cAdvisor's convention: reclaimable cache does not bring an OOM closer) and
less the swap in use. For `/` the limit is MemTotal + SwapTotal (the
kernel's `totalpages`) and the headroom MemAvailable + SwapFree.
"""

from __future__ import annotations

from dataclasses import dataclass

from oomtui.model import ROOT, Cgroup, Snapshot

# memory.stat's key for reclaimable file cache: v2, then v1's hierarchical total.
_INACTIVE_FILE = ("inactive_file", "total_inactive_file")


@dataclass(frozen=True, slots=True)
class DomainState:
    """One OOM domain's numbers; None where the snapshot lacks what they need."""

    path: str
    limit: int | None
    headroom: int | None
    oom_kills: int | None

    @property
    def ratio(self) -> float | None:
        """Headroom as a share of the limit, the sort key (least first)."""
        if self.limit is None or self.headroom is None or self.limit <= 0:
            return None
        return self.headroom / self.limit


def _sum(*parts: int | None) -> int | None:
    return None if any(p is None for p in parts) else sum(p for p in parts if p is not None)


def _usable_swap(c: Cgroup, swap_total: int | None) -> int | None:
    """`min(swap.max, SwapTotal)`; an unlimited swap.max means all of SwapTotal."""
    if swap_total is None:
        return None
    return swap_total if c.swap_max is None else min(c.swap_max, swap_total)


def _working_set(c: Cgroup) -> int | None:
    if c.memory_current is None:
        return None
    inactive = next((c.stat[k] for k in _INACTIVE_FILE if k in c.stat), 0)
    return max(c.memory_current - inactive, 0)


def domain_state(snapshot: Snapshot, path: str) -> DomainState:
    """Limit, headroom and the kernel's OOM kill count for `/` or a limited cgroup."""
    h = snapshot.host
    c = snapshot.cgroup(path)
    kills = None if c is None else c.events.get("oom_kill")
    if path == ROOT:
        return DomainState(ROOT, _sum(h.mem_total, h.swap_total), _sum(h.mem_available, h.swap_free), kills)
    if c is None or c.memory_max is None:
        return DomainState(path, None, None, kills)
    limit = _sum(c.memory_max, _usable_swap(c, h.swap_total))
    used = _sum(_working_set(c), c.swap_current or 0)
    headroom = None if limit is None or used is None else limit - used
    return DomainState(path, limit, headroom, kills)


def pick_domains(snapshot: Snapshot, cap: int) -> tuple[list[DomainState], int]:
    """`/` first, then limited cgroups by headroom ratio, least first, `cap` in all; and how many there were.

    A cgroup whose headroom cannot be computed sorts last: a fleet wants the
    domains nearest to an OOM, and those it can say nothing about are not.
    """
    limited = [domain_state(snapshot, p) for p in snapshot.limited_cgroups()]
    limited.sort(key=lambda d: (d.ratio is None, d.ratio if d.ratio is not None else 0.0, d.path))
    chosen = [domain_state(snapshot, ROOT), *limited][: max(cap, 1)]
    return chosen, 1 + len(limited)
