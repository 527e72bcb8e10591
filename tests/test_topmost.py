"""The largest few of a column and their places, found chunk by chunk, are exactly heapq's and a full pass's."""

from __future__ import annotations

import heapq
import random
from array import array

from oomtui.policies.topmost import CHUNK, Column


def _columns():
    rng = random.Random(11)
    yield array("q")
    yield array("q", [5])
    yield array("q", [3] * (CHUNK * 3 + 7))  # one value everywhere: every chunk ties
    for size in (CHUNK - 1, CHUNK, CHUNK * 5 + 1, 20000):
        yield array("q", (rng.randrange(-50, 50) for _ in range(size)))  # many ties
        yield array("q", (rng.randrange(-(1 << 62), 1 << 62) for _ in range(size)))
    rising = array("q", range(CHUNK * 40))
    yield rising
    yield array("q", reversed(rising))


def test_the_largest_are_heapqs():
    for values in _columns():
        column = Column(values)
        for n in (0, 1, 2, 21, CHUNK + 3, len(values), len(values) + 5):
            assert column.largest(n) == heapq.nlargest(n, values), (len(values), n)


def test_the_places_at_or_above_a_bar_are_a_full_passs():
    rng = random.Random(12)
    for values in _columns():
        column = Column(values)
        bars = [rng.choice(values) for _ in range(5)] if values else [0]
        for bar in [*bars, -(1 << 63), (1 << 63) - 1]:
            assert column.places_at_least(bar) == [i for i, v in enumerate(values) if v >= bar]


def test_a_column_like_the_last_under_its_key_has_the_maxima_of_one_made_afresh():
    from oomtui.policies.topmost import column

    rng = random.Random(13)
    values = array("q", (rng.randrange(-1000, 1000) for _ in range(CHUNK * 9 + 5)))
    first = column("test like", values)
    assert column("test like", values) is first
    for _ in range(20):
        patched = values[:]
        for place in rng.sample(range(len(values)), rng.randrange(1, 4)):
            patched[place] = rng.randrange(-3000, 3000)  # above the chunk's maximum, or below it
        found = column("test like", patched)
        assert found.maxima == Column(patched).maxima
        assert found.largest(7) == heapq.nlargest(7, patched)
        values = patched
    shorter = values[:-1]
    assert column("test like", shorter).maxima == Column(shorter).maxima


def test_the_places_of_a_value_are_a_full_passs_and_kept_for_the_same_column():
    from oomtui.policies.topmost import places_of

    rng = random.Random(14)
    values = array("q", (rng.choice((-1, 0, 5, 7)) for _ in range(CHUNK * 3)))
    for value in (-1, 0, 9):
        assert places_of(values, value) == [i for i, v in enumerate(values) if v == value]
    assert places_of(values, -1) is places_of(values, -1)
    changed = values[:]
    changed[3] = 9
    assert places_of(changed, 9) == [3] and places_of(values, 9) == []
