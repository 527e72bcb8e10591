"""What a cgroup's processes add up to, taken in one pass and shared by every policy that kills it whole.

The kernel's memory.oom.group kill, the 2017 proposals' group kill, and
oomd's and systemd-oomd's cgroup kill all walk the same subtree, and a
subtree can hold most of a 50,000-process host: four walks of it were a
quarter of an evaluation. Here one walk keeps each process's pid and
footprint and which of the kills take it; each kill then selects in C,
once. The walk's facts are carried over to the same subtree of a what-if
view (policies/carry.py), where only the edited processes are read again;
where the edits changed none of them, the view shares the sample's
Subtree and what it selected.
"""

from __future__ import annotations

from array import array
from collections.abc import Sequence
from itertools import compress, repeat
from operator import and_

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

    The kinds a kill takes, by flag bit: LIVE, not a kernel thread (what
    oomd's kill signals); KILLABLE, nor adj -1000 or host init (what a
    memory.oom.group kill takes); WITH_MEMORY, killable and with a
    footprint (what the kernel's takes). Each kind's pids and footprint are
    selected when first asked for, and kept.
    """

    __slots__ = ("_flags", "_selected", "columns", "footprints", "pids")

    def __init__(self, columns: tuple[array[int], ...]) -> None:
        self.columns = columns
        self.pids, self.footprints, self._flags = columns
        self._selected: dict[int, tuple[tuple[int, ...], int]] = {}

    def pids_of(self, bit: int) -> tuple[int, ...]:
        return self._select(bit)[0]

    def footprint_of(self, bit: int) -> int:
        return self._select(bit)[1]

    def but(self, bit: int, pid: int) -> tuple[tuple[int, ...], int]:
        """The pids of a kind and their footprint, without the process(es) of this pid (found in C)."""
        pids, total = self._select(bit)
        at = 0
        while (at := _find(self.pids, pid, at)) >= 0:
            if self._flags[at] & bit:
                total -= self.footprints[at]
            at += 1
        while (at := _find(pids, pid, 0)) >= 0:
            pids = pids[:at] + pids[at + 1:]
        return pids, total

    def _select(self, bit: int) -> tuple[tuple[int, ...], int]:
        found = self._selected.get(bit)
        if found is None:
            mask = list(map(and_, self._flags, repeat(bit)))
            found = self._selected[bit] = (tuple(compress(self.pids, mask)), sum(compress(self.footprints, mask)))
        return found


def _find(values: Sequence[int], value: int, start: int) -> int:
    """The first place of `value` from `start` on, or -1."""
    try:
        return values.index(value, start)
    except ValueError:
        return -1


_memo: list[tuple[Snapshot, dict[str, Subtree]]] = []
_before: dict[str, Subtree] = {}  # the snapshot's before: a view whose edits left a subtree as it was shares it


def subtree(snapshot: Snapshot, path: str) -> Subtree:
    """The Subtree of `path` in the last snapshot asked for, taken once however many policies kill it.

    A snapshot is immutable, so identity is enough; the memo holds it, so its
    id cannot be reused by another while remembered.
    """
    memo = _memo[:1]
    if memo and memo[0][0] is snapshot:
        known = memo[0][1]
    else:
        if memo:
            _before.clear()
            _before.update(memo[0][1])
        known = {}
        _memo[:] = [(snapshot, known)]
    found = known.get(path)
    if found is None:
        columns = carried_columns(("subtree", path), snapshot.processes_under(path), _every_facts)
        same = _before.get(path)
        found = known[path] = same if same is not None and same.columns is columns else Subtree(columns)
    return found
