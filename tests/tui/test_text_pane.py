"""A pane shows each new text whole: it lays out again when the text takes more or fewer lines;
it draws the rows on screen only, each line again only when it changed; the mouse selects its text."""

from __future__ import annotations

import asyncio

from rich.text import Text
from textual.app import App, ComposeResult

from oomtui.tui.widgets.text_pane import TextPane


class _PaneApp(App):
    def compose(self) -> ComposeResult:
        yield TextPane("Details", id="pane")


def _shown(app: App) -> list[str]:
    return [line.text.rstrip() for line in app.query_one(TextPane)._body.render_lines(
        app.query_one(TextPane)._body.region.reset_offset)]


def test_a_pane_follows_its_text_as_lines_come_go_and_change() -> None:
    async def go() -> None:
        app = _PaneApp()
        async with app.run_test(size=(60, 20)) as pilot:
            pane = app.query_one(TextPane)
            pane.show(Text("a: 1\nb: 2"))
            await pilot.pause()
            assert pane._body.size.height == 2
            pane.show(Text("a: 1\nb: 3"))  # same lines: no new layout, new words
            await pilot.pause()
            assert _shown(app) == ["a: 1", "b: 3"]
            pane.show(Text("a: 1\nb: 3\nc: 4\nd: 5"))
            await pilot.pause()
            assert pane._body.size.height == 4 and _shown(app)[-1] == "d: 5"
            pane.show(Text("a: 1\n" + "word " * 30))  # the long line wraps: taller, though as many lines
            await pilot.pause()
            tall = pane._body.size.height
            assert tall > 2
            pane.show(Text("a: 1\n" + "ward " * 30))  # other words, wrapped the same: shown without a layout
            await pilot.pause()
            assert pane._body.size.height == tall and "ward ward" in " ".join(_shown(app))
            pane.show(Text("a: 1\n" + "ward " * 45))  # wraps onto more lines: taller, every word shown
            await pilot.pause()
            assert pane._body.size.height > tall and " ".join(_shown(app)).count("ward") == 45
            pane.show(Text("a: 1\nb"))
            await pilot.pause()
            assert pane._body.size.height == 2 and _shown(app) == ["a: 1", "b"]

    asyncio.run(go())


def test_a_pane_draws_only_the_lines_on_screen_and_again_only_those_that_changed() -> None:
    async def go() -> None:
        app = _PaneApp()
        async with app.run_test(size=(60, 20)) as pilot:
            pane = app.query_one(TextPane)
            lines = [f"{i}: " + "word " * 20 for i in range(100)]  # each wraps: 200 rows, 18 shown
            before = pane._body.draws
            pane.show(Text("\n".join(lines)))
            await pilot.pause()
            assert pane._body.size.height > 100
            assert 0 < pane._body.draws - before <= 18, "the lines on screen, not the 100"
            drawn = pane._body.draws
            lines[2] = "2: " + "ward " * 20  # as many rows as before: the others stay where they were
            pane.show(Text("\n".join(lines)))
            await pilot.pause()
            assert pane._body.draws == drawn + 1, "only the line that changed"
            assert "2: ward ward" in _shown(app)[4]

    asyncio.run(go())


def test_the_mouse_selects_a_panes_text_for_copying() -> None:
    async def go() -> None:
        app = _PaneApp()
        async with app.run_test(size=(60, 20)) as pilot:
            app.query_one(TextPane).show(Text("first line\nsecond line\nthird line"))
            await pilot.pause()
            # The pane's border, then its lines: from "line" on the first to "third" on the third.
            await pilot.mouse_down(TextPane, offset=(7, 1))
            await pilot.hover(TextPane, offset=(5, 3))
            await pilot.mouse_up(TextPane, offset=(5, 3))
            await pilot.pause()
            assert app.screen.get_selected_text() == "line\nsecond line\nthird"

    asyncio.run(go())
