"""The few largest of a column of 50,000 machine integers, and their places, found mostly in C.

`heapq.nlargest` compares every value in a Python loop, and a pass picking
the places at or above a bar makes a call per value: 1.5–2.5 ms each over a
50,000-process column, several times an evaluation. A chunk whose maximum
is below the bar holds nothing wanted, and the n-th largest of the chunks'
maxima is at or below the n-th largest value (those maxima are n values at
least as large), so only the few chunks at or above it are looked into.
A column like the last one under the same key (a what-if view's, patched
at a few places) takes that one's maxima but for the chunks that differ,
found by comparing memory: the maxima themselves cost a millisecond a
column at 50,000. The places of one value (an unknown score, an unknown
RSS split) are kept for the column object likewise.
"""

from __future__ import annotations

import heapq
import threading
from array import array
from collections import OrderedDict
from collections.abc import Hashable, Iterator
from itertools import chain, compress, count, repeat
from operator import eq, ge

CHUNK = 256
KEPT = 16  # columns remembered, the least recently asked for dropped first


class Column:
    """A column of integers with the maximum of each chunk of it."""

    __slots__ = ("chunk", "maxima", "values")

    def __init__(self, values: array[int], chunk: int = CHUNK) -> None:
        self.values, self.chunk = values, chunk
        self.maxima = [max(values[i:i + chunk]) for i in range(0, len(values), chunk)]

    def like(self, values: array[int]) -> Column:
        """A column of `values`, as long as this one's, with this one's maxima where the chunks hold the same."""
        found = object.__new__(Column)
        found.values, found.chunk, found.maxima = values, self.chunk, list(self.maxima)
        old, new, chunk = memoryview(self.values), memoryview(values), self.chunk
        for k, start in enumerate(range(0, len(values), chunk)):
            if old[start:start + chunk] != new[start:start + chunk]:  # a memory comparison
                found.maxima[k] = max(values[start:start + chunk])
        return found

    def largest(self, n: int) -> list[int]:
        """`heapq.nlargest(n, values)`, the same list."""
        if n <= 0:
            return []
        if len(self.maxima) <= n:
            return heapq.nlargest(n, self.values)
        bar = heapq.nlargest(n, self.maxima)[-1]
        return heapq.nlargest(n, chain.from_iterable(
            compress(part, map(ge, part, repeat(bar))) for part in self._parts(bar)))

    def places_at_least(self, bar: int) -> list[int]:
        """The places of the values at or above `bar`, ascending."""
        out: list[int] = []
        for start in self._starts(bar):
            out.extend(self.at_least(start, bar))
        return out

    def at_least(self, start: int, bar: float) -> Iterator[int]:
        """The places of the values at or above `bar` in the chunk from `start`, ascending."""
        part = self.values[start:start + self.chunk]
        return compress(range(start, start + len(part)), map(ge, part, repeat(bar)))

    def _parts(self, bar: int) -> list[array[int]]:
        return [self.values[start:start + self.chunk] for start in self._starts(bar)]

    def _starts(self, bar: int) -> Iterator[int]:
        """Where the chunks that hold a value at or above `bar` start."""
        return compress(range(0, len(self.values), self.chunk), map(ge, self.maxima, repeat(bar)))


_lock = threading.Lock()
_kept: OrderedDict[Hashable, Column] = OrderedDict()


def column(key: Hashable, values: array[int], chunk: int = CHUNK) -> Column:
    """The Column of `values`, made from the last one asked for under `key` where it can be."""
    with _lock:
        known = _kept.get(key)
    if known is not None and known.values is values and known.chunk == chunk:
        found = known
    elif known is not None and len(known.values) == len(values) and known.chunk == chunk:
        found = known.like(values)
    else:
        found = Column(values, chunk)
    with _lock:
        _kept[key] = found
        _kept.move_to_end(key)
        while len(_kept) > KEPT:
            _kept.popitem(last=False)
    return found


_places: list[tuple[array[int], int, list[int]]] = []  # the last few answers of places_of, newest first


def places_of(values: array[int], value: int) -> list[int]:
    """The places holding `value`, ascending (do not change the list): kept for the column object, which a
    what-if view shares with its sample where the edits left the column as it was (carry)."""
    with _lock:
        for known, wanted, found in _places:
            if known is values and wanted == value:
                return found
    found = list(compress(count(), map(eq, values, repeat(value))))
    with _lock:
        _places.insert(0, (values, value, found))
        del _places[KEPT:]
    return found
