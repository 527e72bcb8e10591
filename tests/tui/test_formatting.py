"""Numbers as the tree, tables and panes print them."""

from __future__ import annotations

from oomtui.text import UNKNOWN, human_size
from oomtui.tui import fmt


def test_sizes_use_binary_units_and_fit_a_column():
    assert human_size(None) == UNKNOWN
    assert human_size(0) == "0 B"
    assert human_size(999) == "999 B"
    assert human_size(1536) == "1.5 KiB"
    assert human_size(1010 * (1 << 20)) == "1.0 GiB"
    assert human_size(3 * (1 << 30) // 2) == "1.5 GiB"
    assert all(len(human_size(n)) <= 9 for n in (10**k + 7 for k in range(16)))


def test_compact_sizes_fit_four_cells():
    assert [fmt.compact(n) for n in (None, 0, 512, 1536, 120 << 20, 7 << 30)] == ["?", "0", "512", "1.5K", "120M",
                                                                                 "7.0G"]
    assert all(len(fmt.compact(10**k + 7)) <= 4 for k in range(14))


def test_limit_levels_follow_glances():
    assert [fmt.level(f) for f in (None, 0.49, 0.5, 0.7, 0.9, 1.2)] == [
        "ok", "ok", "careful", "warning", "critical", "critical"]
    assert fmt.bar(0.5, 8) == "████░░░░"
    assert fmt.bar(1.7, 4) == "████"
