"""A scrolling pane of plain `Text`: the details of the selection, the ranking.

It takes only `Text` (and `Content` for its title), so nothing shown in it
is ever read as markup.
"""

from __future__ import annotations

from rich.cells import cell_len
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
        self.title = title
        self.border_title = Content(title)
        self.text = Text("")
        self._body = Static(self.text, markup=False)
        self.can_focus = True

    def compose(self):
        yield self._body

    def show(self, text: Text, title: str | None = None) -> None:
        if text != self.text:
            layout = not self._same_height(self.text, text)
            self.text = text
            self._body.update(text, layout=layout)
        if title is not None and title != self.title:  # setting it draws the pane again
            self.title = title
            self.border_title = Content(title)

    def _same_height(self, old: Text, new: Text) -> bool:
        """Whether `new` takes the lines `old` took, so the screen need not lay out again.

        A layout pass re-renders every widget on the screen; a what-if edit
        changes numbers in these panes, rarely their number of lines.
        """
        width = self._body.size.width
        if not width:
            return False
        before, after = old.plain.split("\n"), new.plain.split("\n")
        if len(before) != len(after):
            return False
        # Wrapping is per line: a line wraps as it did if it is unchanged, and not at all if it fits;
        # a changed long line is wrapped as the Static will wrap it (the layout pass costs 50–80 ms).
        changed = [(a, b) for a, b in zip(before, after, strict=True)
                   if a != b and max(cell_len(a), cell_len(b)) > width]
        rules = self._body.styles.get_render_rules() if changed else {}
        return all(Content(a).get_height(rules, width) == Content(b).get_height(rules, width) for a, b in changed)

