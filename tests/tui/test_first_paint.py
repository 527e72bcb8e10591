"""The host shows at once: the tree and its details are painted before the policies have run
(a second or more on 50,000 processes), the verdicts saying they are coming."""

from __future__ import annotations

import asyncio
import threading

import pytest

from oomtui.policies.registry import policies
from oomtui.tui import evaluation
from tests.tui.fixtures import small_host
from tests.tui.helpers import SIZE, main, settle, snapshot_app, tree_lines


def test_the_tree_shows_while_the_policies_run(monkeypatch: pytest.MonkeyPatch) -> None:
    gate = threading.Event()
    real = evaluation.run

    def slow(*args, **kwargs):
        gate.wait(10)
        return real(*args, **kwargs)

    monkeypatch.setattr(evaluation, "run", slow)
    app = snapshot_app(small_host())
    seen: dict[str, object] = {}

    async def go() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            await pilot.pause()
            screen = main(pilot)
            seen["evaluation"] = screen.evaluation
            seen["rows"] = tree_lines(pilot)
            seen["title"] = str(screen.verdicts.border_title)
            seen["ranking"] = screen.query_one("#ranking").text.plain
            seen["details"] = screen.query_one("#details").text.plain
            gate.set()
            await settle(pilot)
            seen["after"] = str(screen.verdicts.border_title)
            seen["verdicts"] = screen.verdicts.row_count
            seen["rows after"] = tree_lines(pilot)

    try:
        asyncio.run(go())
    finally:
        gate.set()
    assert seen["evaluation"] is None  # the policies had not run yet
    rows = seen["rows"]
    assert isinstance(rows, list) and len(rows) > 1 and rows == seen["rows after"]
    assert "evaluating" in str(seen["title"]) and "evaluating" not in str(seen["after"])
    assert "Evaluating" in str(seen["ranking"]) and seen["details"]
    assert seen["verdicts"] == len(policies())
