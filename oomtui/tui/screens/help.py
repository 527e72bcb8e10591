"""Every key, generated from the bindings themselves, so it cannot fall out of date."""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType

from oomtui.tui.screens.text_modal import TextModal

EXTRA = (
    ("↑ ↓ PgUp PgDn Home End", "Move in the focused tree or table"),
    ("Enter, Space", "Open or close a cgroup; choose a verdict row"),
    ("Tab, Shift+Tab", "Move between the tree, the verdicts and the panes"),
    ("y, n, Esc", "In a confirmation: yes, no, cancel (Cancel is focused)"),
    ("t", "In the kill dialog: send SIGTERM to the same processes instead of SIGKILL"),
)


NAMES = {
    "slash": "/", "backslash": "\\", "plus": "+", "minus": "-", "equals_sign": "=", "question_mark": "?",
    "colon": ":", "left_square_bracket": "[", "right_square_bracket": "]", "escape": "Esc",
}


def _keys(binding: Binding) -> str:
    """Every key of a binding (the footer shows only the first)."""
    keys = [k.strip() for k in binding.key.split(",")]
    return ", ".join(NAMES.get(k, k.upper() if k.startswith("f") and k[1:].isdigit() else k) for k in keys)


def help_text(bindings: Iterable[Binding]) -> Text:
    t = Text()
    seen: set[str] = set()
    for b in bindings:
        if not b.description or b.action in seen or b.action.startswith("locked"):
            continue
        seen.add(b.action)
        t.append(f"{_keys(b):>22}  ", style="bold")
        t.append(b.description)
        if b.tooltip:
            t.append(f" — {b.tooltip}", style="dim")
        t.append("\n")
    t.append("\n")
    for keys, what in EXTRA:
        t.append(f"{keys:>22}  ", style="bold")
        t.append(what + "\n")
    return t


class HelpScreen(TextModal):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,q,question_mark,f1", "dismiss", "Close", id="help.close")]

    def __init__(self, bindings: Iterable[Binding]) -> None:
        super().__init__("Keys — Esc closes", help_text(bindings))
