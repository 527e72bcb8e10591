"""Sizes as every view and report prints them: binary units, at most 9 characters, the sign kept."""

from __future__ import annotations

import pytest

from oomtui.text import human_size

KiB, MiB, PiB = 1 << 10, 1 << 20, 1 << 50


@pytest.mark.parametrize(("n", "shown"), [
    (None, "—"),
    (0, "0 B"),
    (999, "999 B"),
    (1000, "1.0 KiB"),  # from 1000 up the next unit, so a figure never needs four digits and a unit
    (1023, "1.0 KiB"),
    (1536, "1.5 KiB"),
    (999 * KiB, "999.0 KiB"),
    (1000 * KiB, "1.0 MiB"),
    (-2048, "-2.0 KiB"),  # a shrinking cgroup's change
    (-5, "-5 B"),
    (3 * PiB // 2, "1.5 PiB"),
    (2048 * PiB, "2048.0 PiB"),  # the last unit takes whatever is left
])
def test_sizes(n, shown):
    assert human_size(n) == shown
