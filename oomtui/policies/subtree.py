"""What a cgroup's processes add up to, taken in one pass and shared by every policy that kills it whole.

The kernel's memory.oom.group kill, the 2017 proposals' group kill, and
oomd's and systemd-oomd's cgroup kill all walk the same subtree, and a
subtree can hold most of a 50,000-process host: four walks of it were a
quarter of an evaluation. Here one walk keeps each process's pid and
footprint and which of the kills take it; each kill then selects in C.
"""

from __future__ import annotations

from itertools import compress, repeat
from operator import and_, ne

from oomtui.model import Snapshot
from oomtui.policies.kernel_rules import HOST_INIT, OOM_SCORE_ADJ_MIN


class Subtree:
    """The processes under one cgroup, in `Snapshot.processes_under` order, as columns.

    `live`: not a kernel thread (what oomd's kill signals); `killable`: nor
    adj -1000 or host init (what a memory.oom.group kill takes);
    `with_memory`: killable and with a footprint (what the kernel's takes).
    """

    __slots__ = ("footprints", "killable", "live", "pids", "with_memory")

    def __init__(self, snapshot: Snapshot, path: str) -> None:
        self.pids: list[int] = []
        self.footprints: list[int] = []
        self.live: list[bool] = []
        self.killable: list[bool] = []
        self.with_memory: list[bool] = []
        pid_, fp_ = self.pids.append, self.footprints.append
        live_, killable_, memory_ = self.live.append, self.killable.append, self.with_memory.append
        for p in snapshot.processes_under(path):
            pid_(pid := p.pid)
            fp_(fp := p.footprint)
            live_(live := not p.kernel_thread)
            killable_(ok := live and pid != HOST_INIT and p.oom_score_adj != OOM_SCORE_ADJ_MIN)
            memory_(ok and fp > 0)

    def pids_where(self, mask: list[bool]) -> list[int]:
        return list(compress(self.pids, mask))

    def footprint_where(self, mask: list[bool]) -> int:
        return sum(compress(self.footprints, mask))

    def but(self, mask: list[bool], pid: int) -> list[bool]:
        """`mask` without the process(es) of this pid."""
        return list(map(and_, mask, map(ne, self.pids, repeat(pid))))


_memo: list[tuple[Snapshot, dict[str, Subtree]]] = []


def subtree(snapshot: Snapshot, path: str) -> Subtree:
    """The Subtree of `path` in the last snapshot asked for, taken once however many policies kill it.

    A snapshot is immutable, so identity is enough; the memo holds it, so its
    id cannot be reused by another while remembered.
    """
    memo = _memo[:1]
    if memo and memo[0][0] is snapshot:
        known = memo[0][1]
    else:
        known = {}
        _memo[:] = [(snapshot, known)]
    found = known.get(path)
    if found is None:
        found = known[path] = Subtree(snapshot, path)
    return found
