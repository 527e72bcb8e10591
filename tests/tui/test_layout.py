"""The screen at 80x24, 120x40 and 200x50: the tree keeps most of it, the status keeps what matters."""

from __future__ import annotations

import pytest

from tests.tui.helpers import live_app, main, press, run, select_process, snapshot_app


def _shown(pilot, selector: str) -> bool:
    return main(pilot).query_one(selector).display and main(pilot).query_one(selector).region.height > 0


@pytest.mark.parametrize(("size", "rows"), [((80, 24), 10), ((120, 40), 18), ((200, 50), 25)])
def test_the_tree_keeps_most_of_the_screen_even_with_the_filter_open(size, rows):
    async def scenario(pilot):
        tree = main(pilot).memory_tree
        assert tree.size.height - 1 >= rows, f"{tree.size.height - 1} tree rows at {size}"
        await press(pilot, "slash")
        assert tree.size.height - 1 >= rows - 1, "the filter bar takes one row, not the tree"
        assert tree.size.width >= size[0] * 0.6

    run(snapshot_app(), scenario, size=size)


def test_details_and_why_fold_under_the_tree_on_a_narrow_screen_and_w_shows_them():
    async def scenario(pilot):
        assert not _shown(pilot, "#details") and _shown(pilot, "#verdicts")
        await press(pilot, "w")
        assert _shown(pilot, "#details") and _shown(pilot, "#ranking")
        assert not _shown(pilot, "#verdicts"), "on 24 rows the panes take the verdicts' place"
        assert main(pilot).query_one("#details").region.y > main(pilot).memory_tree.region.y
        await press(pilot, "w")
        assert not _shown(pilot, "#details") and _shown(pilot, "#verdicts")

    run(snapshot_app(), scenario, size=(80, 24))


def test_wide_screens_show_the_panes_beside_the_tree():
    async def scenario(pilot):
        details = main(pilot).query_one("#details")
        assert _shown(pilot, "#details") and _shown(pilot, "#verdicts")
        assert details.region.x > main(pilot).memory_tree.region.x
        await press(pilot, "w")
        assert not _shown(pilot, "#details")

    run(snapshot_app(), scenario, size=(200, 50))


def test_the_status_line_keeps_mode_paused_and_edits_at_80_columns():
    async def scenario(pilot):
        screen = main(pilot)
        await select_process(pilot, 300)
        await press(pilot, "plus", "z")
        status = screen.status_text().plain[:80]
        assert status.lstrip().startswith("live")
        assert "PAUSED" in status and "✎ 1 what-if edit" in status

    run(live_app(), scenario, size=(80, 24))


@pytest.mark.parametrize("width", [80, 120, 200])
def test_verdict_columns_fit_the_width_and_vs_kernel_comes_early(width):
    from tests.tui.test_app import _memcg_event_host

    async def scenario(pilot):
        table = main(pilot).verdicts
        keys = [key for key, _, _ in table.columns_shown]
        assert keys[:1] == ["policy"] and "victim" in keys and "kernel" in keys
        assert table.virtual_size.width <= table.scrollable_content_region.width + 1, "no sideways scrolling"

    run(snapshot_app(_memcg_event_host()), scenario, size=(width, 40))


@pytest.mark.parametrize("size", [(120, 40), (160, 48)])
def test_verdict_columns_fit_beside_the_scrollbar_the_rows_bring(size):
    """More policies than rows shown: the columns fill the width beside the scrollbar that comes with
    them, whether the verdicts came before the first layout or after it."""
    async def scenario(pilot):
        table = main(pilot).verdicts
        assert table.show_vertical_scrollbar
        assert table.virtual_size.width == table.scrollable_content_region.width, "filled, none under the scrollbar"

    run(snapshot_app(), scenario, size=size)
