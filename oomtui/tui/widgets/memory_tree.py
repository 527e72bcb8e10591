"""The cgroup/process tree: a Line-API `ScrollView` that draws only the rows on screen.

The rows come from `tree_model.flatten`, a pure list of keys in screen
order; a label is made only for a row the terminal shows, and kept while
its row value is unchanged, so a paint costs the same on 500 processes as
on 50,000. The first line is the column header and stays put while the
rows scroll under it. The cursor follows an identity (cgroup path, or pid
with start time), not a line number; when that row vanishes (killed), it
moves to the next sibling, else to the parent. Only Textual's public API
is used (a test greps for private names).
"""

from __future__ import annotations

from typing import ClassVar, NamedTuple

from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from oomtui.model import ROOT
from oomtui.tui import labels
from oomtui.tui.palette import Palette
from oomtui.tui.tree_model import CgroupKey, Line, NodeKey, TreeModel, cgroup_key, flatten


class Stamp(NamedTuple):
    """What a row's label is drawn from: the same stamp, the same label."""

    row: labels.Row
    line: Line
    focused_cursor: bool
    cursor: bool
    layout: labels.Layout
    base: Style


class Paint(NamedTuple):
    """The width, base style, column layout and rows shown of one paint."""

    width: int
    base: Style
    layout: labels.Layout
    rows: int


Cached = tuple[Stamp, Strip]
KEPT_SCREENS = 1  # labels kept for this many screens of rows above and below the one shown


# The cursor's keys in the tree and the verdicts: each has the actions move, page and edge.
CURSOR_KEYS: list[BindingType] = [
    Binding("up", "move(-1)", "Up", show=False),
    Binding("down", "move(1)", "Down", show=False),
    Binding("pageup", "page(-1)", "Page up", show=False),
    Binding("pagedown", "page(1)", "Page down", show=False),
    Binding("home,ctrl+home", "edge(-1)", "First", show=False),
    Binding("end,ctrl+end", "edge(1)", "Last", show=False),
]


class MemoryTree(ScrollView, can_focus=True):
    """Cgroups with their processes, one line each, under a fixed header line."""

    BINDINGS: ClassVar[list[BindingType]] = [
        *CURSOR_KEYS,
        Binding("enter,space", "toggle_open", "Open/close", show=False),
        Binding("right", "open", "Open", show=False),
        Binding("left", "close", "Close or go to the parent", show=False),
    ]
    COMPONENT_CLASSES: ClassVar[set[str]] = {"memory-tree--cursor", "memory-tree--header"}
    DEFAULT_CSS = """
    MemoryTree { scrollbar-size-vertical: 1; overflow-x: hidden; }
    MemoryTree > .memory-tree--cursor { background: $block-cursor-blurred-background; }
    MemoryTree:focus > .memory-tree--cursor {
        background: $block-cursor-background; color: $block-cursor-foreground; text-style: bold;
    }
    MemoryTree > .memory-tree--header { color: $text-muted; text-style: bold; }
    """

    class SelectionChanged(Message):
        def __init__(self, key: NodeKey) -> None:
            super().__init__()
            self.key = key

    def __init__(self, *, id: str | None = None, glyphs: labels.Glyphs = labels.UNICODE) -> None:
        super().__init__(id=id)
        self.glyphs = glyphs
        self.palette = Palette()
        self.model: TreeModel | None = None
        self.selected: NodeKey = cgroup_key(ROOT)
        self.cursor = 0
        self.lines: tuple[Line, ...] = ()
        self.index: dict[NodeKey, int] = {}
        self.opened: set[str] = {ROOT}
        self._needle = ""
        self._cache: dict[NodeKey, Cached] = {}
        self._paint: Paint | None = None  # set while Textual asks for the lines of a paint

    # -- public ------------------------------------------------------------------------

    def show(self, model: TreeModel) -> None:
        """Take a new model; the cursor stays on the same identity, or next to where it was."""
        if model.needle != self._needle:
            self._needle = model.needle
            self.opened |= model.opened_by_filter()
        old_lines = self.lines
        self.model = model
        self._reflatten()
        self._reseat(old_lines)
        self._prune()
        if not self._drawn_as_is(old_lines):  # a refresh on an idle host draws the same rows: skip its repaint
            self.refresh()

    def select_key(self, key: NodeKey) -> bool:
        """Open the cgroups leading to `key` and put the cursor on it; False if it is not shown."""
        if self.model is None:
            return False
        path = self.model.path_to(key)
        if path is None:
            return False
        if not set(path) <= self.opened:
            self.opened.update(path)
            self._reflatten()
        line = self.index.get(key)
        if line is None:
            return False
        self.move_to(line)
        return True

    def relabel_all(self) -> None:
        """After a theme change: every label again, with the new colours."""
        self._cache.clear()
        self.refresh()

    def layout_now(self) -> labels.Layout:
        return labels.layout(self.scrollable_content_region.width or self.size.width)

    def label(self, i: int) -> Text | None:
        """Line `i` as drawn (without the cursor's style); None past the end or for a vanished row."""
        if self.model is None or not 0 <= i < len(self.lines):
            return None
        line = self.lines[i]
        row = self._row(line)
        if row is None:
            return None
        return self._text(line, row, self.layout_now())

    def move_to(self, i: int) -> None:
        """Put the cursor on line `i` (clamped), scroll it into view, and say so if the selection changed."""
        if not self.lines:
            return
        i = max(0, min(len(self.lines) - 1, i))
        old, self.cursor = self.cursor, i
        self.refresh_line(old + 1)
        self.refresh_line(i + 1)
        self._scroll_to_cursor()
        key = self.lines[i].key
        if key != self.selected:
            self.selected = key
            self.post_message(self.SelectionChanged(key))

    # -- actions -----------------------------------------------------------------------

    def action_move(self, delta: int) -> None:
        self.move_to(self.cursor + delta)

    def action_page(self, direction: int) -> None:
        self.move_to(self.cursor + direction * max(1, self._rows_shown() - 1))

    def action_edge(self, direction: int) -> None:
        self.move_to(0 if direction < 0 else len(self.lines) - 1)

    def action_toggle_open(self) -> None:
        self._set_open(self.cursor, None)

    def action_open(self) -> None:
        self._set_open(self.cursor, True)

    def action_close(self) -> None:
        """Close an open cgroup; on anything else go to its parent, as file managers do."""
        if not self.lines:
            return
        line = self.lines[self.cursor]
        if line.expanded:
            self._set_open(self.cursor, False)
        elif line.parent >= 0:
            self.move_to(line.parent)

    def on_click(self, event: events.Click) -> None:
        """A click selects a row; a click on the selected row, or on its ▶/▼, opens or closes it."""
        offset = event.get_content_offset(self)
        if offset is None or offset.y < 1:
            return
        i = self.scroll_offset.y + offset.y - 1
        if not 0 <= i < len(self.lines):
            return
        line = self.lines[i]
        prefix = labels.FLAGS_WIDTH + len(labels.guide_prefix(line.depth, line.guides, line.last, False, False,
                                                             self.glyphs))
        on_icon = line.expandable and prefix <= offset.x < prefix + 2
        if i == self.cursor or on_icon:
            self.move_to(i)
            self._set_open(i, None)
        else:
            self.move_to(i)

    # -- drawing -----------------------------------------------------------------------

    def _stamp(self, i: int, lay: labels.Layout, base: Style) -> Stamp | None:
        """What line `i`'s label is drawn from; None for a blank line."""
        if self.model is None or i >= len(self.lines):
            return None
        line = self.lines[i]
        row = self._row(line)
        if row is None:
            return None
        cursor = i == self.cursor
        return Stamp(row, line, cursor and self.has_focus, cursor, lay, base)

    def _drawn_as_is(self, old_lines: tuple[Line, ...]) -> bool:
        """Whether the screen shows the same lines as before, each label drawn from what it would be drawn
        from now."""
        width = self.scrollable_content_region.width or self.size.width
        lay, base, top, rows = labels.layout(width), self.rich_style, self.scroll_offset.y, self._rows_shown()
        if old_lines[top:top + rows] != self.lines[top:top + rows]:
            return False
        for i in range(top, min(top + rows, len(self.lines))):
            stamp = self._stamp(i, lay, base)
            cached = self._cache.get(self.lines[i].key)
            if stamp is not None and (cached is None or cached[0] != stamp):
                return False
        return True

    def render_lines(self, crop: Region) -> list[Strip]:
        self._paint = self._read_paint()
        try:
            return super().render_lines(crop)
        finally:
            self._paint = None

    def _read_paint(self) -> Paint:
        """What every line of a paint shares, read once: Textual works the base style out afresh on
        each read (walking the ancestors), which was a third of an edit's 20 new labels."""
        width = self.scrollable_content_region.width or self.size.width
        return Paint(width, self.rich_style, labels.layout(width), self._rows_shown())

    def render_line(self, y: int) -> Strip:
        width, base, lay, rows = self._paint or self._read_paint()
        if y == 0:
            header = labels.header(lay)
            header.stylize(self.get_component_rich_style("memory-tree--header"))
            return self._strip(header, width, base)
        i = self.scroll_offset.y + y - 1
        stamp = self._stamp(i, lay, base)
        if stamp is None:
            return Strip.blank(width, base)
        line = stamp.line
        cached = self._cache.get(line.key)
        if cached is not None and cached[0] == stamp:
            return cached[1]
        text = self._text(line, stamp.row, lay)
        if stamp.cursor:
            text.stylize(self.get_component_rich_style("memory-tree--cursor"))
        strip = self._strip(text, width, base)
        self._cache[line.key] = (stamp, strip)
        if len(self._cache) > (2 * KEPT_SCREENS + 2) * rows:  # the window and a screen more
            self._prune()
        return strip

    def _prune(self) -> None:
        """Keep the labels of the rows on screen and `KEPT_SCREENS` screens either side: each is a few KB
        of Strips, and scrolling through 10,000 rows kept them all, for the sweeps to walk."""
        rows = self._rows_shown()
        top = self.scroll_offset.y
        near = {line.key for line in self.lines[max(0, top - KEPT_SCREENS * rows):top + (KEPT_SCREENS + 1) * rows]}
        self._cache = {k: v for k, v in self._cache.items() if k in near}

    def _strip(self, text: Text, width: int, base: Style) -> Strip:
        segments = list(text.render(self.app.console, end=""))
        return Strip(segments).crop_extend(0, width, base).apply_style(base)

    def _text(self, line: Line, row: labels.Row, lay: labels.Layout) -> Text:
        prefix = labels.guide_prefix(line.depth, line.guides, line.last, line.expandable, line.expanded, self.glyphs)
        if isinstance(row, labels.CgroupRow):
            return labels.cgroup_label(row, lay, self.glyphs, self.palette, prefix)
        return labels.process_label(row, lay, self.glyphs, self.palette, prefix)

    def _row(self, line: Line) -> labels.Row | None:
        assert self.model is not None
        key = line.key
        if isinstance(key, CgroupKey):
            return self.model.cgroup_row(key.path, line.depth)
        return self.model.row_of(key, line.depth)

    # -- shape -------------------------------------------------------------------------

    def _reflatten(self) -> None:
        assert self.model is not None
        self.lines = flatten(self.model, self.opened)
        self.index = {line.key: i for i, line in enumerate(self.lines)}
        width = self.scrollable_content_region.width or self.size.width
        self.virtual_size = Size(width, len(self.lines) + 1)

    def _set_open(self, i: int, want: bool | None) -> None:
        if self.model is None or not 0 <= i < len(self.lines):
            return
        line = self.lines[i]
        if not line.expandable or line.expanded == want or not isinstance(line.key, CgroupKey):
            return
        path = line.key.path
        if line.expanded:
            self.opened.discard(path)
        else:
            self.opened.add(path)
        self._reflatten()
        self.cursor = self.index.get(self.selected, i)
        self.refresh()

    def _reseat(self, old_lines: tuple[Line, ...]) -> None:
        """Find the selection's line again; a vanished row gives way to its next sibling, else its parent."""
        assert self.model is not None
        key = self.selected
        line = self.index.get(key)
        if line is None and self.model.path_to(key) is None:
            line = self._successor(old_lines)
        if line is None:
            line = self._nearest_shown(key)
        self.cursor = line
        new = self.lines[line].key
        if new != key:
            self.selected = new
            self.post_message(self.SelectionChanged(new))
        self._scroll_to_cursor()

    def _successor(self, old_lines: tuple[Line, ...]) -> int | None:
        old = next((j for j, ln in enumerate(old_lines) if ln.key == self.selected), None)
        if old is None:
            return None
        gone = old_lines[old]
        for ln in old_lines[old + 1:]:
            if ln.depth < gone.depth:
                break
            if ln.parent == gone.parent and ln.key in self.index:
                return self.index[ln.key]
        parent = gone.parent
        while parent >= 0:
            if old_lines[parent].key in self.index:
                return self.index[old_lines[parent].key]
            parent = old_lines[parent].parent
        return None

    def _nearest_shown(self, key: NodeKey) -> int:
        assert self.model is not None
        for path in reversed(self.model.path_to(key) or [ROOT]):
            line = self.index.get(cgroup_key(path))
            if line is not None:
                return line
        return 0

    def _rows_shown(self) -> int:
        return max(1, (self.scrollable_content_region.height or self.size.height) - 1)

    def _scroll_to_cursor(self) -> None:
        rows = self._rows_shown()
        top = self.scroll_offset.y
        if self.cursor < top:
            top = self.cursor
        elif self.cursor > top + rows - 1:
            top = self.cursor - rows + 1
        if top != self.scroll_offset.y:
            self.scroll_to(y=top, animate=False, immediate=True)

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()

    def on_resize(self, event: events.Resize) -> None:
        self._cache.clear()
        if self.model is not None:
            self._reflatten()
            self._scroll_to_cursor()
