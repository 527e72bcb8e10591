"""/proc/PID/oom_score worked out from what the collector already read.

Since 5.9 the kernel prints, for a task it may kill,
`(1000 + badness * 1000 / totalpages) * 2 / 3` in signed C arithmetic, where
badness is RSS + swap entries + page-table pages + oom_score_adj ×
(totalpages / 1000) and totalpages is RAM + swap in pages, never a cgroup's
(kernel-oom.md §1.9). Everything in it is in /proc/PID/status and
oom_score_adj, which a sample reads anyway, so reading oom_score too would
be a fifth file per process for a number we can compute.

What the formula cannot see, the caller reads instead: pid 1 (the kernel
shows 0 for the global init, but in a container's pid namespace pid 1 is an
ordinary task), a task without memory lines (a zombie leader whose threads
still run: the kernel finds their mm), and kernels before 5.9 (another
formula). Two rarities stay unseen: a child between vfork and exec, and a
task the OOM reaper already skips; both read 0 from the kernel.
"""

from __future__ import annotations

ADJ_MIN = -1000
FORMULA_SINCE = (5, 9)


def _c_div(a: int, b: int) -> int:
    """Division truncating toward zero, as C's `/` on signed longs."""
    q = abs(a) // b
    return q if a >= 0 else -q


def oom_score(
    footprint_pages: int, adj: int, totalpages: int, *, kernel_thread: bool = False,
) -> int:
    """The kernel's oom_score for a task using `footprint_pages` (RSS + swap + page tables)."""
    if kernel_thread or adj == ADJ_MIN or totalpages <= 0:
        return 0
    badness = footprint_pages + adj * (totalpages // 1000)
    return (1000 + _c_div(badness * 1000, totalpages)) * 2 // 3
