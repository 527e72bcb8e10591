"""A scrolling pane of plain `Text`: the details of the selection, the ranking.

It takes only `Text` (and `Content` for its title), so nothing shown in it
is ever read as markup. Its body draws with the Line API what a `Static`
drew, line for line (wrapped the same, selectable with the mouse), but
only the rows on screen, and each source line is wrapped once while it is
unchanged: an edit changes a few numbers in the details and reorders the
ranking (97 rows at 50,000 processes, 11 shown), and a `Static` wrapped
and drew all of them again each time.
"""

from __future__ import annotations

from typing import cast

from rich.segment import Segment
from rich.style import Style as RichStyle
from rich.text import Text
from textual.containers import VerticalScroll
from textual.content import Content
from textual.css.styles import RulesMap
from textual.geometry import Offset, Size
from textual.selection import Selection
from textual.strip import Strip
from textual.style import Style
from textual.visual import RenderOptions
from textual.widget import Widget

from oomtui.tui.fmt import Looks, looks


def _style(style: Style | str) -> Style:
    return style if isinstance(style, Style) else Style.parse(style)


def _on_line(strip: Strip, y: int) -> Strip:
    """A strip drawn from a one-line Content, its selection offsets moved to line `y` of the text."""
    segments = []
    for text, style, control in strip:
        if style is not None and (offset := style.meta.get("offset")) is not None:
            style = style + RichStyle.from_meta({"offset": (offset[0], y)})
        segments.append(Segment(text, style, control))
    return Strip(segments, strip.cell_length)


class PaneText(Widget):
    """The pane's text, each line wrapped to the width as a `Static` wraps it."""

    DEFAULT_CSS = "PaneText { height: auto; }"

    def __init__(self) -> None:
        super().__init__()
        self.text = Text("")
        self.lines: list[Text] = [Text("")]
        self.draws = 0  # source lines wrapped and drawn: what a paint cost
        self._contents: dict[Looks, Content] = {}
        self._heights: dict[Looks, int] = {}  # at `_width`
        self._width = 0
        self._strips: dict[int, tuple[tuple[object, ...], list[Strip]]] = {}
        self._rows: list[tuple[int, int]] = []  # (source line, row of it) for each row, at `_width`

    def update(self, text: Text) -> None:
        """Show `text`; lay the screen out again only when it takes more or fewer rows."""
        self.text = text
        self.lines = list(text.split("\n", allow_blank=True))
        keys = {looks(line) for line in self.lines}
        self._contents = {k: c for k, c in self._contents.items() if k in keys}
        self._heights = {k: h for k, h in self._heights.items() if k in keys}
        rows = len(self._rows)
        self._lay_rows(self._width)
        self.refresh(layout=not self._width or len(self._rows) != rows)

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        self._lay_rows(width)
        return len(self._rows)

    def get_selection(self, selection: Selection) -> tuple[str, str] | None:
        return selection.extract(self.text.plain), "\n"

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        if width != self._width:
            self._lay_rows(width)
        if not 0 <= y < len(self._rows):
            return Strip.blank(width, self.visual_style.rich_style)
        i, row = self._rows[y]
        strips = self._line_strips(i, width)
        return strips[row] if row < len(strips) else Strip.blank(width, self.visual_style.rich_style)

    def _rules(self) -> RulesMap:
        """The styles as a `Static` hands them to its Content (they read as a mapping of rules)."""
        return cast(RulesMap, self.styles)

    def _content(self, line: Text) -> Content:
        key = looks(line)
        content = self._contents.get(key)
        if content is None:
            content = self._contents[key] = Content.from_rich_text(line, self.app.console)
        return content

    def _lay_rows(self, width: int) -> None:
        if width != self._width:
            self._heights.clear()
            self._width = width
        self._strips = {i: v for i, v in self._strips.items() if i < len(self.lines)}
        rows: list[tuple[int, int]] = []
        if width:
            for i, line in enumerate(self.lines):
                key = looks(line)
                height = self._heights.get(key)
                if height is None:
                    height = self._heights[key] = self._content(line).get_height(self._rules(), width)
                rows.extend((i, r) for r in range(height))
        self._rows = rows

    def _line_strips(self, i: int, width: int) -> list[Strip]:
        """Line `i` wrapped to `width`, as `Visual.to_strips` draws a `Static`'s text."""
        line = self.lines[i]
        style = self.visual_style
        span = selection.get_span(i) if (selection := self.text_selection) is not None else None
        stamp = (looks(line), width, style, span)
        cached = self._strips.get(i)
        if cached is not None and cached[0] == stamp:
            return cached[1]
        own: Selection | None = None
        selection_style: Style | None = None
        if span is not None:
            start, end = span
            own = Selection(Offset(start, 0), None if end == -1 else Offset(end, 0))
            selection_style = Style.from_styles(self.screen.get_component_styles("screen--selection"))
        strips = self._content(line).render_strips(width, None, style,
                                                   RenderOptions(_style, self._rules(), own, selection_style))
        if i:
            strips = [_on_line(strip, i) for strip in strips]
        self._strips[i] = (stamp, strips)
        self.draws += 1
        return strips


class TextPane(VerticalScroll):
    DEFAULT_CSS = """
    TextPane { border: round $panel; }
    TextPane:focus-within { border: round $accent; }
    TextPane > PaneText { width: 1fr; }
    """

    def __init__(self, title: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.title = title
        self.border_title = Content(title)
        self.text = Text("")
        self._body = PaneText()
        self.can_focus = True

    def compose(self):
        yield self._body

    def show(self, text: Text, title: str | None = None) -> None:
        if looks(text) != looks(self.text):
            self.text = text
            self._body.update(text)
        if title is not None and title != self.title:  # setting it draws the pane again
            self.title = title
            self.border_title = Content(title)
