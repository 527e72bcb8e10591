"""SVG snapshots of the main screens at a fixed size, from fixed data (no live clock shown).

Regenerate after an intended change with `pytest tests/tui/test_snapshots.py --snapshot-update`
and look at the report before committing. SVGs can drift between Textual releases: regenerate them
(and look) when the installed Textual changes.
"""

from __future__ import annotations

import pytest

from tests.tui.helpers import SIZE, live_app, snapshot_app

SMALL = (80, 24)
MEDIUM = (120, 40)


async def _settle(pilot) -> None:
    for _ in range(3):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()


def _after(*keys: str, dialog: bool = False):
    """Settle, press `keys`, settle again (a dialog's worker waits for an answer: only pause then)."""
    async def before(pilot) -> None:
        await _settle(pilot)
        await pilot.press(*keys)
        if dialog:
            await pilot.pause()
        else:
            await _settle(pilot)

    return before


def test_main_screen(snap_compare):
    assert snap_compare(snapshot_app(), terminal_size=SIZE, run_before=_settle)


def test_victim_marked_after_jump(snap_compare):
    assert snap_compare(snapshot_app(), terminal_size=SIZE, run_before=_after("v"))


def test_kill_dialog(snap_compare):
    assert snap_compare(live_app(), terminal_size=SIZE, run_before=_after("x", dialog=True))


def test_help_screen(snap_compare):
    assert snap_compare(snapshot_app(), terminal_size=SIZE, run_before=_after("question_mark", dialog=True))


@pytest.mark.parametrize("size", [SMALL, MEDIUM], ids=["80x24", "120x40"])
def test_main_screen_small(snap_compare, size):
    assert snap_compare(snapshot_app(), terminal_size=size, run_before=_after("v"))


@pytest.mark.parametrize("size", [SMALL, MEDIUM], ids=["80x24", "120x40"])
def test_filter_and_details_pane_small(snap_compare, size):
    assert snap_compare(snapshot_app(), terminal_size=size, run_before=_after("w", "slash", *"app"))


def test_kill_dialog_small(snap_compare):
    assert snap_compare(live_app(), terminal_size=SMALL, run_before=_after("x", dialog=True))


def _kubernetes_node():
    from oomtui.samples import demo_path
    from oomtui.sources import open_path

    return open_path(demo_path()).snapshot


@pytest.mark.parametrize("size", [SMALL, SIZE], ids=["80x24", "160x48"])
def test_kubernetes_node_by_workload_name(snap_compare, size):
    """The demo node: pods with QoS badges, containers by name, the victim's pod in the verdicts."""
    assert snap_compare(snapshot_app(_kubernetes_node()), terminal_size=size, run_before=_after("v"))


def test_kill_dialog_names_the_pod(snap_compare):
    assert snap_compare(live_app([_kubernetes_node()]), terminal_size=SIZE, run_before=_after("x", dialog=True))
