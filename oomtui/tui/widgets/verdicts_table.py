"""One row per policy: would it act now, whom, how much dies, why.

Rows are keyed by policy name and updated cell by cell, so the cursor stays
on the chosen policy while the numbers under it change.
"""

from __future__ import annotations

from rich.text import Text
from textual.message import Message
from textual.widgets import DataTable

from oomtui.model import Snapshot
from oomtui.policies import registry
from oomtui.policies.base import Decision
from oomtui.text import human_size, printable
from oomtui.tui import describe
from oomtui.tui.palette import Palette

COLUMNS = (
    ("policy", "POLICY", 21),
    ("acts", "ACTS NOW", 13),
    ("victim", "VICTIM", 30),
    ("dies", "WHAT DIES", 25),
    ("freed", "FREED", 10),
    ("sure", "CERTAINTY", 9),
    ("kernel", "VS KERNEL", 9),
    ("reason", "REASON", None),
)


class VerdictsTable(DataTable):
    class PolicyChosen(Message):
        def __init__(self, policy: str) -> None:
            super().__init__()
            self.policy = policy

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self.palette = Palette()
        for key, title, width in COLUMNS:
            self.add_column(Text(title, style="bold"), key=key, width=width)

    @property
    def chosen(self) -> str | None:
        if not self.row_count or self.cursor_row < 0:
            return None
        return self.coordinate_to_cell_key((self.cursor_row, 0)).row_key.value

    def cells(self, d: Decision, snapshot: Snapshot) -> dict[str, Text]:
        pal = self.palette
        acts = registry.acts_now(d)
        return {
            "policy": Text(printable(d.policy, limit=60)),
            "acts": Text(acts, style=pal.critical if d.triggered else (pal.dim if d.triggered is False else "")),
            "victim": Text(describe.victim(d, snapshot, short=True),
                           style=pal.victim if not d.kills_nothing else pal.dim),
            "dies": Text(describe.what_dies(d)),
            "freed": Text(human_size(d.freed_bytes).rjust(9)),
            "sure": Text("uncertain", style=pal.warning) if d.uncertain else Text("sure", style=pal.dim),
            "kernel": Text(describe.matches_kernel(d, snapshot), style=pal.actual),
            "reason": Text(printable(d.uncertain or d.reason, limit=300), style=pal.warning if d.uncertain else ""),
        }

    def show(self, decisions: tuple[Decision, ...], snapshot: Snapshot) -> None:
        """Update rows in place: add new policies, change cells, drop vanished ones."""
        wanted = [d.policy for d in decisions]
        have = {k.value for k in self.rows}
        for name in have - set(wanted):
            self.remove_row(name)
        for d in decisions:
            cells = self.cells(d, snapshot)
            if d.policy not in have:
                self.add_row(*(cells[key] for key, _, _ in COLUMNS), key=d.policy)
                continue
            for key, value in cells.items():
                if self.get_cell(d.policy, key) != value:
                    self.update_cell(d.policy, key, value)

    def choose(self, policy: str) -> None:
        try:
            self.move_cursor(row=self.get_row_index(policy))
        except Exception:  # the policy is not listed (a plug-in vanished)
            return

    def _on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.row_key.value is not None:
            self.post_message(self.PolicyChosen(event.row_key.value))
