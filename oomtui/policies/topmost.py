"""The few largest of a column of 50,000 machine integers, and their places, found mostly in C.

`heapq.nlargest` compares every value in a Python loop, and a pass picking
the places at or above a bar makes a call per value: 1.5–2.5 ms each over a
50,000-process column, several times an evaluation. A chunk whose maximum
is below the bar holds nothing wanted, and the n-th largest of the chunks'
maxima is at or below the n-th largest value (those maxima are n values at
least as large), so only the few chunks at or above it are looked into.
"""

from __future__ import annotations

import heapq
from array import array
from itertools import chain, compress, repeat
from operator import ge

CHUNK = 256


class Column:
    """A column of integers with the maximum of each CHUNK of it."""

    __slots__ = ("maxima", "values")

    def __init__(self, values: array[int]) -> None:
        self.values = values
        self.maxima = [max(values[i:i + CHUNK]) for i in range(0, len(values), CHUNK)]

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
        for start in compress(range(0, len(self.values), CHUNK), map(ge, self.maxima, repeat(bar))):
            part = self.values[start:start + CHUNK]
            out.extend(compress(range(start, start + len(part)), map(ge, part, repeat(bar))))
        return out

    def _parts(self, bar: int) -> list[array[int]]:
        return [self.values[start:start + CHUNK]
                for start in compress(range(0, len(self.values), CHUNK), map(ge, self.maxima, repeat(bar)))]
