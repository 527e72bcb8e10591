"""The real OOM kills seen this session, newest first, each with oomtui's verdict, and the scoreboard."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static


class KillsScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,q,l", "dismiss", "Close", id="kills.close")]
    DEFAULT_CSS = """
    KillsScreen { align: center middle; }
    KillsScreen > VerticalScroll {
        width: 90%; max-width: 130; height: 80%; border: thick $accent; background: $surface; padding: 0 1;
    }
    """

    def __init__(self, text: Text) -> None:
        super().__init__()
        self.text = text

    def compose(self) -> ComposeResult:
        with VerticalScroll() as box:
            box.border_title = Content("OOM kills this session — Esc closes")
            yield Static(self.text, markup=False, id="kills")
