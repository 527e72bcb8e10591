"""The real OOM kills seen this session, newest first, each with oomtui's verdict, and the scoreboard."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.widgets import Static

from oomtui.tui.screens.text_modal import TextModal


class KillsScreen(TextModal):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,q,l", "dismiss", "Close", id="kills.close")]

    def __init__(self, text: Text) -> None:
        super().__init__("OOM kills this session — Esc closes", text)

    def show(self, text: Text) -> None:
        """A kill that arrives while the list is open: the list as it now stands."""
        self.text = text
        self.query_one(Static).update(text)
