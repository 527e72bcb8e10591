"""One row per policy: would it act now, whom (with its command line), how much dies, why.

Rows are keyed by policy name, so the cursor stays on the chosen policy
while the numbers under it change, and drawn with Textual's Line API: a
row's strip is kept until its cells, place, cursor or the styles change, so
an edit that moves two policies' victims draws two rows, not the table
(DataTable drew it whole on any cell's change: 20–30 ms of an edit at
50,000 processes). It looks as DataTable did. The columns fit the
width (`columns_for`): the least useful go first on a narrow screen, and
VS KERNEL is there only when the snapshot records what the kernel did.
Rows come in `inforce.order`: the killers in force first, the one that
would act first at the top, with IN FORCE saying their place and the
memory still to be used before they act ("1st · 1.2G"; the Why pane has the
threshold); then the hypothetical policies, dim and marked so, and those
that cannot run here ("cannot run", REASON saying why).
"""

from __future__ import annotations

from collections import Counter
from typing import ClassVar, NamedTuple

from rich.console import Console
from rich.segment import Segment
from rich.style import Style
from rich.text import Span, Text
from textual import events
from textual.binding import Binding, BindingType
from textual.content import Content
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from oomtui.inforce import Standing
from oomtui.model import Snapshot
from oomtui.policies import registry
from oomtui.policies.base import Decision
from oomtui.text import human_size, printable
from oomtui.tui import describe, fmt
from oomtui.tui.palette import Palette
from oomtui.tui.widgets.memory_tree import CURSOR_KEYS

# key, title, width, in order of use: a narrow screen keeps the head of this list.
COLUMNS: tuple[tuple[str, str, int], ...] = (
    ("policy", "POLICY", 21),
    ("victim", "VICTIM", 34),
    ("kernel", "VS KERNEL", 11),
    ("force", "IN FORCE", 12),
    ("freed", "FREED", 10),
    ("acts", "ACTS NOW", 13),
    ("dies", "WHAT DIES", 26),
    ("sure", "CERTAINTY", 9),
)
ORDER = ("policy", "force", "acts", "victim", "kernel", "dies", "freed", "sure")
REASON_MIN = 24
ESSENTIAL = ("policy", "victim", "force", "kernel")
ORDINALS = ("1st", "2nd", "3rd")


def acts_at_cell(standing: Standing | None, place: int) -> str:
    """A policy's standing in a few words: its place among the killers in force and its distance,
    "hypothetical" for one not running here, "cannot run", "?" when nobody looked."""
    if standing is None:
        return ""
    if not standing.applicable:
        return "cannot run"
    if standing.in_force is False:
        return "hypothetical"
    if standing.acts_now:
        distance = "now"
    elif standing.distance is None:
        distance = "—"
    elif standing.distance_unit == "fraction":
        distance = f"{standing.distance * 100:.0f}pt"
    else:
        distance = fmt.compact(int(standing.distance))
    if standing.in_force is None:
        return f"? · {distance}"
    return f"{ORDINALS[place - 1] if place <= len(ORDINALS) else f'{place}th'} · {distance}"

PAD = 2  # DataTable's cell padding, both sides


def columns_for(width: int, postmortem: bool) -> tuple[tuple[str, str, int | None], ...]:
    """The columns that fit `width` cells, left to right; REASON takes the rest when it can."""
    room = width - 2  # the scrollbar and a margin
    chosen: dict[str, tuple[str, int]] = {}
    for key, title, w in COLUMNS:
        if key == "kernel" and not postmortem:
            continue
        # Beyond the essential columns, one is added only where REASON still fits beside it.
        spare = 0 if key in ESSENTIAL else REASON_MIN + PAD
        if not chosen or sum(c[1] + PAD for c in chosen.values()) + w + PAD + spare <= room:
            chosen[key] = (title, w)
    out: list[tuple[str, str, int | None]] = [(k, *chosen[k]) for k in ORDER if k in chosen]
    left = room - sum(w + PAD for _, _, w in out if w is not None)
    if left >= REASON_MIN + PAD:
        out.append(("reason", "REASON", left - PAD))
    return tuple(out)


class Look(NamedTuple):
    """The styles a row is drawn with, read from the CSS once per render (they follow focus and theme)."""

    base: Style
    header: Style
    even: Style
    odd: Style
    cursor: Style
    hover: Style
    header_hover: Style


class VerdictsTable(ScrollView, can_focus=True):
    """The verdicts under a fixed header: a row cursor, zebra stripes, a cell's padding each side;
    the mouse's row highlighted; Home and End go to the first and last policy."""

    BINDINGS: ClassVar[list[BindingType]] = [
        *CURSOR_KEYS,
        Binding("enter", "select", "Choose", show=False),
    ]
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "verdicts-table--header", "verdicts-table--even-row", "verdicts-table--odd-row",
        "verdicts-table--cursor", "verdicts-table--hover", "verdicts-table--header-hover",
    }
    # DataTable's own look, which this table had before it drew its rows itself.
    DEFAULT_CSS = """
    VerdictsTable {
        background: $surface;
        color: $foreground;
        height: auto;
        max-height: 100%;
        overflow-x: hidden;
        &:focus {
            background-tint: $foreground 5%;
            & > .verdicts-table--cursor {
                background: $block-cursor-background;
                color: $block-cursor-foreground;
                text-style: $block-cursor-text-style;
            }
            & > .verdicts-table--header { background-tint: $foreground 5%; }
        }
        &:dark > .verdicts-table--even-row { background: $surface-darken-1 40%; }
        & > .verdicts-table--header { text-style: bold; background: $panel; color: $foreground; }
        &:ansi > .verdicts-table--header { background: ansi_bright_blue; color: ansi_default; }
        & > .verdicts-table--odd-row { }
        & > .verdicts-table--even-row { background: $surface-lighten-1 50%; }
        & > .verdicts-table--cursor {
            background: $block-cursor-blurred-background;
            color: $block-cursor-blurred-foreground;
            text-style: $block-cursor-blurred-text-style;
        }
        & > .verdicts-table--header-hover { background: $accent 30%; }
        & > .verdicts-table--hover { background: $block-hover-background; }
    }
    """

    class PolicyChosen(Message):
        def __init__(self, policy: str) -> None:
            super().__init__()
            self.policy = policy

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.palette = Palette()
        self.columns_shown: tuple[tuple[str, str, int | None], ...] = ()
        self.shown: tuple[tuple[Decision, ...], Snapshot] | None = None
        self.standings: dict[str, Standing] = {}
        self.order: tuple[str, ...] = ()  # the policies, top to bottom
        self.draws: Counter[str] = Counter()  # strips drawn per policy ("" the header): what a paint cost
        self._cells: dict[str, tuple[Text, ...]] = {}
        self._versions: dict[str, int] = {}  # bumped when a row's cells change: its strip is drawn anew
        self._version = 0
        self._strips: dict[str, tuple[tuple, Strip]] = {}
        self._cursor: str | None = None
        self._hover: int | None = None  # the row under the mouse (-1: the header), None when keys were used
        self._look: Look | None = None
        self._title = ""

    # -- public ------------------------------------------------------------------------

    @property
    def chosen(self) -> str | None:
        """The policy under the cursor."""
        return self._cursor if self._cursor in self._cells else None

    @property
    def row_count(self) -> int:
        return len(self.order)

    @property
    def cursor_row(self) -> int:
        return self.order.index(self._cursor) if self._cursor in self._cells else 0

    def get_cell(self, policy: str, column: str) -> Text:
        """What a cell shows; KeyError for a policy or column not shown."""
        keys = [key for key, _, _ in self.columns_shown]
        if column not in keys:
            raise KeyError(column)
        return self._cells[policy][keys.index(column)]

    def places(self, decisions: tuple[Decision, ...]) -> dict[str, int]:
        """Each killer in force's place in the order (1: acts first)."""
        forced = [d.policy for d in decisions
                  if (s := self.standings.get(d.policy)) is not None and s.in_force and s.applicable]
        return {name: i for i, name in enumerate(forced, 1)}

    def cells(self, d: Decision, snapshot: Snapshot, place: int = 0) -> dict[str, Text]:
        pal = self.palette
        standing = self.standings.get(d.policy)
        aside = standing is not None and (standing.in_force is False or not standing.applicable)
        acts = registry.acts_now(d)
        widths = {key: w for key, _, w in self.columns_shown}
        victim_width = widths.get("victim") or 34
        return {
            "policy": Text(fmt.cut(d.policy, widths.get("policy") or 21), style=pal.dim if aside else "bold"),
            "force": Text(acts_at_cell(standing, place),
                          style=pal.dim if aside else (pal.critical if standing and standing.acts_now else "")),
            "acts": Text(acts, style=pal.critical if d.triggered else (pal.dim if d.triggered is False else "")),
            "victim": Text(describe.victim_with_command(d, snapshot, victim_width),
                           style=pal.victim if not d.kills_nothing else pal.dim),
            "dies": Text(describe.what_dies(d)),
            "freed": Text(human_size(d.freed_bytes).rjust(9)),
            "sure": Text("uncertain", style=pal.warning) if d.uncertain else Text("sure", style=pal.dim),
            "kernel": Text(describe.matches_kernel(d, snapshot), style=pal.actual),
            "reason": Text(printable(d.uncertain or d.reason, limit=300), style=pal.warning if d.uncertain else ""),
        }

    def show(self, decisions: tuple[Decision, ...], snapshot: Snapshot,
             standings: dict[str, Standing] | None = None) -> None:
        """Take the decisions: only the rows whose cells changed are drawn again, unless the order or the
        columns changed (then all are); the cursor stays on its policy."""
        self.shown = (decisions, snapshot)
        self.standings = standings or {}
        width = self.content_region.width  # beside no scrollbar: `columns_for` leaves room for one
        if not width:
            return
        columns = columns_for(width, snapshot.oom_event is not None)
        relaid = columns != self.columns_shown
        self.columns_shown = columns
        keys = [key for key, _, _ in columns]
        places = self.places(decisions)
        rows: dict[str, tuple[Text, ...]] = {}
        for d in decisions:
            cells = self.cells(d, snapshot, places.get(d.policy, 0))
            rows[d.policy] = tuple(cells[key] for key in keys)
        self._take(rows, relaid)

    def set_title(self, words: str) -> None:
        """The border's title, literally; set only when it changes, for setting it redraws the table."""
        if words != self._title:
            self._title = words
            self.border_title = Content(words)

    def choose(self, policy: str) -> None:
        """Put the cursor on `policy`'s row (nothing when it is not listed: a plug-in vanished)."""
        if policy in self._cells:
            self._set_cursor(policy)

    def move_cursor(self, *, row: int) -> None:
        if self.order:
            self._set_cursor(self.order[max(0, min(len(self.order) - 1, row))])

    # -- actions -----------------------------------------------------------------------

    def action_move(self, delta: int) -> None:
        self._keys_used()
        self.move_cursor(row=self.cursor_row + delta)

    def action_page(self, direction: int) -> None:
        self._keys_used()
        self.move_cursor(row=self.cursor_row + direction * self._rows_shown())

    def action_edge(self, direction: int) -> None:
        self._keys_used()
        self.move_cursor(row=0 if direction < 0 else len(self.order) - 1)

    def action_select(self) -> None:
        """Enter: choose the policy under the cursor (it already is, unless the screen chose another)."""
        self._keys_used()
        if (policy := self.chosen) is not None:
            self.post_message(self.PolicyChosen(policy))

    def on_click(self, event: events.Click) -> None:
        row = event.style.meta.get("row")
        if isinstance(row, int) and row >= 0:
            self.move_cursor(row=row)
            event.stop()

    def on_mouse_move(self, event: events.MouseMove) -> None:
        row = event.style.meta.get("row")
        self._set_hover(row if isinstance(row, int) else None)

    def on_leave(self, event: events.Leave) -> None:
        self._set_hover(None)

    def on_resize(self, event: events.Resize) -> None:
        if self.shown is not None:
            self.show(*self.shown, self.standings)
        self._scroll_to_cursor()

    # -- state -------------------------------------------------------------------------

    def _take(self, rows: dict[str, tuple[Text, ...]], relaid: bool) -> None:
        order = tuple(rows)
        moved = relaid or order != self.order
        for i, (name, cells) in enumerate(rows.items()):
            old = self._cells.get(name)
            if old is not None and not relaid and list(map(fmt.looks, old)) == list(map(fmt.looks, cells)):
                continue
            self._cells[name] = cells
            self._version += 1
            self._versions[name] = self._version
            if not moved:
                self.refresh_line(i + 1)
        if not moved:
            return
        for name in set(self._cells) - set(order):
            del self._cells[name], self._versions[name]
            self._strips.pop(name, None)
        self.order = order
        size = Size(sum(w + PAD for _, _, w in self.columns_shown if w is not None), len(order) + 1)
        if size != self.virtual_size:
            self.virtual_size = size
        self.refresh()
        if self._cursor not in self._cells and order:
            self._set_cursor(order[0])  # as the screen does: the first policy, when the chosen one went
        else:
            self._scroll_to_cursor()

    def _set_cursor(self, policy: str) -> None:
        old = self._cursor
        if policy != old:
            if old in self._cells:
                self.refresh_line(self.order.index(old) + 1)
            self._cursor = policy
            self.refresh_line(self.order.index(policy) + 1)
            self.post_message(self.PolicyChosen(policy))
        self._scroll_to_cursor()

    def _set_hover(self, row: int | None) -> None:
        if row == self._hover:
            return
        for r in (self._hover, row):
            if r is None:
                continue
            if r < 0:  # the header stays put when the rows scroll
                self.refresh(Region(0, 0, self.size.width, 1))
            else:
                self.refresh_line(r + 1)
        self._hover = row

    def _keys_used(self) -> None:
        """Keys put the mouse's highlight away, as DataTable did."""
        self._set_hover(None)

    def _rows_shown(self) -> int:
        return max(1, (self.scrollable_content_region.height or self.size.height) - 1)

    def _scroll_to_cursor(self) -> None:
        if self._cursor not in self._cells:
            return
        i, rows, top = self.order.index(self._cursor), self._rows_shown(), self.scroll_offset.y
        if i < top:
            top = i
        elif i > top + rows - 1:
            top = i - rows + 1
        if top != self.scroll_offset.y:
            self.scroll_to(y=top, animate=False, immediate=True)

    # -- drawing -----------------------------------------------------------------------

    def render_lines(self, crop: Region) -> list[Strip]:
        self._look = self._read_look()
        return super().render_lines(crop)

    def _read_look(self) -> Look:
        def rows(name: str) -> Style:
            return self.get_component_styles(name).rich_style

        return Look(self.rich_style, rows("verdicts-table--header"), rows("verdicts-table--even-row"),
                    rows("verdicts-table--odd-row"), self.get_component_rich_style("verdicts-table--cursor"),
                    self.get_component_rich_style("verdicts-table--hover"),
                    self.get_component_rich_style("verdicts-table--header-hover"))

    def render_line(self, y: int) -> Strip:
        look = self._look or self._read_look()
        width = self.size.width
        row = -1 if y == 0 else self.scroll_offset.y + y - 1
        if row >= len(self.order):
            return Strip.blank(width, look.base)
        name = "" if row < 0 else self.order[row]
        cursor = row >= 0 and name == self._cursor
        hover = row == self._hover
        stamp = (self._versions.get(name, 0), row, cursor, hover, look, width, self.columns_shown)
        cached = self._strips.get(name)
        if cached is not None and cached[0] == stamp:
            return cached[1]
        cells = tuple(Text(title, style="bold") for _, title, _ in self.columns_shown) if row < 0 else self._cells[name]
        strip = self._draw(cells, row, cursor, hover, look, width)
        self._strips[name] = (stamp, strip)
        self.draws[name] += 1
        return strip

    def _draw(self, cells: tuple[Text, ...], row: int, cursor: bool, hover: bool, look: Look, width: int) -> Strip:
        """One row as DataTable drew it: each cell over the row's stripe, padded a cell each side, the
        cursor's colours over the cell's own and its background under them; the rest of the width in
        the row's style."""
        row_style = look.header if row < 0 else (look.odd if row % 2 else look.even)
        over = Style()
        if hover:
            over += look.hover + (look.header_hover if row < 0 else Style())
        if cursor:
            over += look.cursor
        post = Style.from_color(color=over.color)
        console = self.app.console
        segments: list[Segment] = []
        used = 0
        for column, (cell, (_, _, w)) in enumerate(zip(cells, self.columns_shown, strict=True)):
            assert w is not None
            pre = row_style + Style.from_meta({"row": row, "column": column}) + over
            segments.extend(Segment.apply_style([PADDING, *_cropped(cell, w, console), PADDING], pre, post))
            used += w + PAD
        extend = row_style + over + Style.from_meta({"row": row, "column": 0, "out_of_bounds": True})
        segments.append(Segment(" " * max(0, width - used), extend))
        return Strip(segments).crop(0, width).adjust_cell_length(width, look.base).simplify()


PADDING = Segment(" ", Style.null())


def _cropped(cell: Text, width: int, console: Console) -> list[Segment]:
    """A cell's text on one line of `width` cells, as Rich renders a Text with no_wrap: its own style
    under its spans, cut at the width or padded to it with unstyled spaces."""
    if "\t" in cell.plain or "\n" in cell.plain:  # not from `printable`, which escapes both: Rich's own way
        return console.render_lines(cell, console.options.update_dimensions(width, 1).update(no_wrap=True),
                                    style=Style.null(), pad=True)[0]
    spans = [Span(0, len(cell), cell.style), *cell.spans] if cell.style else cell.spans
    return Segment.adjust_line_length(list(Text(cell.plain, spans=spans).render(console)), width,
                                      style=Style.null(), pad=True)

