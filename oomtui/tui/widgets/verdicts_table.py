"""One row per policy: would it act now, whom (with its command line), how much dies, why.

Rows are keyed by policy name and updated cell by cell, so the cursor stays
on the chosen policy while the numbers under it change. The columns fit the
width (`columns_for`): the least useful go first on a narrow screen, and
VS KERNEL is there only when the snapshot records what the kernel did.
Rows come in `inforce.order`: the killers in force first, the one that
would act first at the top, with IN FORCE saying their place and the
memory still to be used before they act ("1st · 1.2G"; the Why pane has the
threshold); then the hypothetical policies, dim and marked so, and those
that cannot run here ("cannot run", REASON saying why). The rows are laid out again only when that
order changes.
"""

from __future__ import annotations

from rich.text import Text
from textual import events
from textual.coordinate import Coordinate
from textual.message import Message
from textual.widgets import DataTable
from textual.widgets.data_table import RowDoesNotExist

from oomtui.inforce import Standing
from oomtui.model import Snapshot
from oomtui.policies import registry
from oomtui.policies.base import Decision
from oomtui.text import human_size, printable
from oomtui.tui import describe, fmt
from oomtui.tui.palette import Palette

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


class VerdictsTable(DataTable[Text]):
    DEFAULT_CSS = "VerdictsTable { overflow-x: hidden; }"

    class PolicyChosen(Message):
        def __init__(self, policy: str) -> None:
            super().__init__()
            self.policy = policy

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self.palette = Palette()
        self.columns_shown: tuple[tuple[str, str, int | None], ...] = ()
        self.shown: tuple[tuple[Decision, ...], Snapshot] | None = None
        self.standings: dict[str, Standing] = {}

    @property
    def chosen(self) -> str | None:
        if not self.row_count or self.cursor_row < 0:
            return None
        return self.coordinate_to_cell_key(Coordinate(self.cursor_row, 0)).row_key.value

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
        """Update rows in place: add new policies, change cells, drop vanished ones; lay the rows out
        again (the cursor staying on its policy) when the order changes."""
        self.shown = (decisions, snapshot)
        self.standings = standings or {}
        if not self._fit():
            return
        keys = [key for key, _, _ in self.columns_shown]
        wanted = [d.policy for d in decisions]
        chosen = None
        if [k.value for k in self.ordered_keys()] != wanted:
            chosen = self.chosen
            self.clear()
        have = {k.value for k in self.rows if k.value is not None}
        for name in have - set(wanted):
            self.remove_row(name)
        places = self.places(decisions)
        for d in decisions:
            cells = self.cells(d, snapshot, places.get(d.policy, 0))
            if d.policy not in have:
                self.add_row(*(cells[key] for key in keys), key=d.policy)
                continue
            for key in keys:
                if self.get_cell(d.policy, key) != cells[key]:
                    self.update_cell(d.policy, key, cells[key])
        if chosen is not None:
            self.choose(chosen)

    def _fit(self) -> bool:
        """Columns for the current width; when they change, the rows are made again. False before a size."""
        # The width beside no scrollbar, which `columns_for` leaves room for: whether the rows' scrollbar
        # is taken off `scrollable_content_region` yet depends on when they came (before or after a layout).
        width = self.content_region.width
        if not width:
            return False
        postmortem = self.shown is not None and self.shown[1].oom_event is not None
        wanted = columns_for(width, postmortem)
        if wanted == self.columns_shown:
            return True
        chosen = self.chosen
        self.clear(columns=True)
        self.columns_shown = wanted
        for key, title, w in wanted:
            self.add_column(Text(title, style="bold"), key=key, width=w)
        if self.shown is not None:
            decisions, snapshot = self.shown
            keys = [key for key, _, _ in wanted]
            places = self.places(decisions)
            for d in decisions:
                cells = self.cells(d, snapshot, places.get(d.policy, 0))
                self.add_row(*(cells[key] for key in keys), key=d.policy)
        if chosen is not None:
            self.choose(chosen)
        return True

    def ordered_keys(self) -> list:
        return [self.coordinate_to_cell_key(Coordinate(i, 0)).row_key for i in range(self.row_count)]

    def on_resize(self, event: events.Resize) -> None:
        if self.shown is not None:
            self.show(*self.shown, self.standings)

    def choose(self, policy: str) -> None:
        try:
            self.move_cursor(row=self.get_row_index(policy))
        except RowDoesNotExist:  # the policy is not listed (a plug-in vanished)
            return

    def _on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.row_key.value is not None:
            self.post_message(self.PolicyChosen(event.row_key.value))
