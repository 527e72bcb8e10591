"""Per-process results carried from one evaluation to the next, over a listing that differs in a few processes.

The TUI re-runs the policies on each what-if edit. The view an edit makes
holds the sample's own process objects but for the few edited, so what a
policy worked out for each process of the sample holds for all the others:
it is copied and those few are worked out again. At 50,000 processes one
pass that reads every process's sizes costs 40–100 ms, most of it waiting
on memory, while telling the changed places apart touches each process once,
without reading it: a few milliseconds.
"""

from __future__ import annotations

import threading
from array import array
from collections.abc import Callable, Hashable, Sequence
from itertools import compress, count, islice
from operator import is_not
from typing import TypeAlias

from oomtui.model import Process

PATCHED = 8  # a listing differing from a remembered one in at most 1/PATCHED of its places is patched

_lock = threading.Lock()
_memo: dict[Hashable, tuple[Sequence[Process], _Columns, int]] = {}  # key -> listing, values, evaluation last used
_evaluation = 0
_orders: dict[Hashable, tuple[Sequence[Process], bool]] = {}  # key -> the last listing asked, in order or not
DIFFS = 16  # answers of changed_places kept in an evaluation: the listing, the domain's, each subtree killed
_diffs: list[tuple[Sequence[Process], Sequence[Process], list[int]]] = []


def next_evaluation() -> None:
    """Forget what neither this evaluation nor the last used: at most two evaluations' worth is held.

    An evaluation keeps a few results of 50,000 values each; a domain or a
    subtree not asked for again would otherwise hold an old sample alive.
    """
    global _evaluation
    with _lock:
        _evaluation += 1
        for key in [k for k, (_, _, used) in _memo.items() if used < _evaluation - 1]:
            del _memo[key]
        _diffs.clear()


def changed_places(listing: Sequence[Process], known: Sequence[Process]) -> list[int] | None:
    """Where `listing` holds other objects than `known`, or None when they differ in length or in too many.

    Two listings of the same sample (a view's `Derived`, or the sample's own)
    differ at most where either was changed: those places are looked at,
    and nothing else. Otherwise the last few answers are kept: the policies
    carry several results over the same two listings.
    """
    if len(listing) != len(known) or not listing:
        return None
    origin = getattr(listing, "origin", listing)
    if origin is getattr(known, "origin", known):
        candidates = {*getattr(listing, "places", ()), *getattr(known, "places", ())}
        return [i for i in sorted(candidates) if listing[i] is not known[i]]
    with _lock:
        for seen, was, answer in _diffs:
            if seen is listing and was is known:
                return answer
    most = len(listing) // PATCHED  # past this many, stop looking: a new sample differs everywhere
    found = list(islice(compress(count(), map(is_not, listing, known)), most + 1))
    if len(found) > most:
        return None  # not kept: it would hold the old sample alive, to be freed at the next edit
    with _lock:
        _diffs.insert(0, (listing, known, found))
        del _diffs[DIFFS:]
    return found


def in_order(key: Hashable, listing: Sequence[Process], follows: Callable[[Process, Process], bool],
             whole: Callable[[Sequence[Process]], bool]) -> bool:
    """Whether each process `follows` the one before, as `whole` checks a listing at once.

    The answer for the last listing asked under `key` is kept, and a listing
    that differs in a few places from one found in order is checked around
    those places only: a what-if view's.
    """
    with _lock:
        known = _orders.get(key)
    if known is not None and known[0] is listing:
        return known[1]
    changed = changed_places(listing, known[0]) if known is not None and known[1] else None
    if changed is not None:
        answer = all(follows(listing[i - 1], listing[i]) for i in {j for c in changed for j in (c, c + 1)}
                     if 0 < i < len(listing))
    else:
        answer = whole(listing)
    with _lock:
        _orders[key] = (listing, answer)
    return answer


Columns: TypeAlias = "tuple[array[int], ...]"


def carried_columns(key: Hashable, listing: Sequence[Process], every: Callable[[Sequence[Process]], Columns]
                    ) -> Columns:
    """`every(listing)`: columns of machine integers, one a figure of each process, in the listing's
    order; or the columns remembered for `key`, where the listing holds other processes than the one
    remembered, with `every` of each of those alone (a column they change is copied first; one they
    leave as it was is returned as the same object, and so are the columns when none changes).

    Only a tuple is remembered: it and its processes are immutable, so
    identity is enough, and the memo holds it, so its id cannot be reused
    while remembered. The arrays returned may be shared: callers read them
    only. Machine integers, since a copy is then a memcpy and a pass in C
    reads them in a row, where a list of 50,000 int objects made one by one
    over a sample has each waiting on memory; `every` takes all of a
    policy's figures of a process in one visit to it.
    """
    if not isinstance(listing, tuple):
        return every(listing)
    with _lock:
        known = _memo.get(key)
    if known is not None and known[0] is listing:
        columns = known[1]
    elif known is not None and (changed := changed_places(listing, known[0])) is not None:
        columns = known[1].patched([(i, every((listing[i],))) for i in changed])
    else:
        columns = _Columns(every(listing))
    with _lock:
        _memo[key] = (listing, columns, _evaluation)
    return columns.arrays


class _Columns:
    """A listing's columns, patched copy-on-write: a column no patch changes is the same object, so what
    was worked out from it can be recognised and kept (policies/subtree.py)."""

    __slots__ = ("arrays",)

    def __init__(self, arrays: Columns) -> None:
        self.arrays = arrays

    def patched(self, updates: list[tuple[int, Columns]]) -> _Columns:
        """These columns with, at each place, the one process's figures; self where none differs."""
        arrays = list(self.arrays)
        copied = [False] * len(arrays)
        for place, one in updates:
            for k, value in enumerate(one):
                if arrays[k][place] != value[0]:
                    if not copied[k]:
                        arrays[k], copied[k] = arrays[k][:], True
                    arrays[k][place] = value[0]
        return _Columns(tuple(arrays)) if any(copied) else self
