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
from collections.abc import Callable, Hashable, Sequence
from functools import partial
from itertools import compress, count
from operator import is_not
from typing import TypeVar

from oomtui.model import Process

T = TypeVar("T")
PATCHED = 8  # a listing differing from a remembered one in at most 1/PATCHED of its places is patched

_lock = threading.Lock()
_memo: dict[Hashable, tuple[Sequence[Process], list, int]] = {}  # key -> listing, values, evaluation last used
_evaluation = 0
DIFFS = 16  # answers of changed_places kept in an evaluation: the listing, the domain's, each subtree killed
_diffs: list[tuple[Sequence[Process], Sequence[Process], list[int] | None]] = []


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

    The last few answers are kept: the policies carry several results over the same two listings.
    """
    if len(listing) != len(known) or not listing:
        return None
    with _lock:
        for seen, was, answer in _diffs:
            if seen is listing and was is known:
                return answer
    changed: list[int] | None = list(compress(count(), map(is_not, listing, known)))
    if changed is not None and len(changed) * PATCHED > len(listing):
        changed = None
    with _lock:
        _diffs.insert(0, (listing, known, changed))
        del _diffs[DIFFS:]
    return changed


def carried(key: Hashable, listing: Sequence[Process], each: Callable[[Process], T],
            every: Callable[[Sequence[Process]], list[T]] | None = None) -> list[T]:
    """`every(listing)` (`each` of every process, in order, by default), or the one remembered for `key`
    patched with `each`.

    Only a tuple is remembered: it and its processes are immutable, so
    identity is enough, and the memo holds it, so its id cannot be reused
    while remembered. The list returned may be shared: callers read it only.
    """
    if every is None:
        every = partial(_each_of, each)
    if not isinstance(listing, tuple):
        return every(listing)
    with _lock:
        known = _memo.get(key)
    if known is not None and known[0] is listing:
        values = known[1]
    elif known is not None and (changed := changed_places(listing, known[0])) is not None:
        values = known[1].copy()
        for i in changed:
            values[i] = each(listing[i])
    else:
        values = every(listing)
    with _lock:
        _memo[key] = (listing, values, _evaluation)
    return values


def _each_of(each: Callable[[Process], T], listing: Sequence[Process]) -> list[T]:
    return list(map(each, listing))
