"""SVG snapshots of the main screens at a fixed size, from fixed data (no live clock shown).

Regenerate after an intended change with `pytest tests/tui/test_snapshots.py --snapshot-update`
and look at the report before committing. Textual is pinned to 8.2.x: SVGs drift between releases.
"""

from __future__ import annotations

from tests.tui.helpers import SIZE, live_app, snapshot_app


async def _settle(pilot) -> None:
    for _ in range(3):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()


def test_main_screen(snap_compare):
    assert snap_compare(snapshot_app(), terminal_size=SIZE, run_before=_settle)


def test_victim_marked_after_jump(snap_compare):
    async def before(pilot) -> None:
        await _settle(pilot)
        await pilot.press("v")
        await _settle(pilot)

    assert snap_compare(snapshot_app(), terminal_size=SIZE, run_before=before)


def test_kill_dialog(snap_compare):
    async def before(pilot) -> None:
        await _settle(pilot)
        await pilot.press("x")
        await pilot.pause()

    assert snap_compare(live_app(), terminal_size=SIZE, run_before=before)


def test_help_screen(snap_compare):
    async def before(pilot) -> None:
        await _settle(pilot)
        await pilot.press("question_mark")
        await pilot.pause()

    assert snap_compare(snapshot_app(), terminal_size=SIZE, run_before=before)
