"""What a cgroup's processes add up to, taken in one pass and shared by every policy that kills it whole.

The kernel's memory.oom.group kill, the 2017 proposals' group kill, and
oomd's and systemd-oomd's cgroup kill all walk the same subtree, and a
subtree can hold most of a 50,000-process host: four walks of it were a
quarter of an evaluation. Here one walk keeps each process's pid and
footprint and which of the kills take it; each kill then selects in C.
The walk's facts are carried over to the same subtree of a what-if view
(policies/carry.py), where only the edited processes are read again.
"""

from __future__ import annotations

from array import array
from collections.abc import Sequence
from itertools import compress, repeat
from operator import and_, ne, truth

from oomtui.model import Process, Snapshot
from oomtui.policies.carry import carried_columns
from oomtui.policies.kernel_rules import HOST_INIT, OOM_SCORE_ADJ_MIN

LIVE, KILLABLE, WITH_MEMORY = 1, 2, 4  # the bits of a process's flags


def _every_facts(processes: Sequence[Process]) -> tuple[array[int], array[int], array[int]]:
    """Each process's pid, footprint and flags, written out flat: a subtree can hold most of a
    50,000-process host."""
    pids, footprints, flags = array("q"), array("q"), array("b")
    for p in processes:
        pids.append(pid := p.pid)
        footprints.append(footprint := p.footprint)
        if p.kernel_thread:
            flags.append(0)
        elif pid == HOST_INIT or p.oom_score_adj == OOM_SCORE_ADJ_MIN:
            flags.append(LIVE)
        else:
            flags.append(LIVE | KILLABLE | WITH_MEMORY if footprint > 0 else LIVE | KILLABLE)
    return pids, footprints, flags


class Subtree:
    """The processes under one cgroup, in `Snapshot.processes_under` order, as columns.

    `live`: not a kernel thread (what oomd's kill signals); `killable`: nor
    adj -1000 or host init (what a memory.oom.group kill takes);
    `with_memory`: killable and with a footprint (what the kernel's takes).
    Each mask is made when a kill first asks for it.
    """

    __slots__ = ("_flags", "_masks", "footprints", "pids")

    def __init__(self, snapshot: Snapshot, path: str) -> None:
        self.pids, self.footprints, self._flags = carried_columns(
            ("subtree", path), snapshot.processes_under(path), _every_facts)
        self._masks: dict[int, list[bool]] = {}

    @property
    def live(self) -> list[bool]:
        return self._mask(LIVE)

    @property
    def killable(self) -> list[bool]:
        return self._mask(KILLABLE)

    @property
    def with_memory(self) -> list[bool]:
        return self._mask(WITH_MEMORY)

    def _mask(self, bit: int) -> list[bool]:
        found = self._masks.get(bit)
        if found is None:
            found = self._masks[bit] = list(map(truth, map(and_, self._flags, repeat(bit))))
        return found

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
