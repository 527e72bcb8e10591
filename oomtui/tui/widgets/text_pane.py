"""A scrolling pane of plain `Text`: the details of the selection, the ranking.

It takes only `Text` (and `Content` for its title), so nothing shown in it
is ever read as markup.
"""

from __future__ import annotations

from rich.text import Text
from textual.containers import VerticalScroll
from textual.content import Content
from textual.widgets import Static


class TextPane(VerticalScroll):
    DEFAULT_CSS = """
    TextPane { border: round $panel; }
    TextPane:focus-within { border: round $accent; }
    TextPane > Static { width: 1fr; }
    """

    def __init__(self, title: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.border_title = Content(title)
        self.text = Text("")
        self._body = Static(self.text, markup=False)
        self.can_focus = True

    def compose(self):
        yield self._body

    def show(self, text: Text, title: str | None = None) -> None:
        if text != self.text:
            self.text = text
            self._body.update(text)
        if title is not None:
            self.border_title = Content(title)
