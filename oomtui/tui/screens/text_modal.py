"""A scrollable page of text over the main screen, closed with Esc: the help and the kill list."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static


class TextModal(ModalScreen[None]):
    """Shows `text` literally (never as markup) under `title`; subclasses give the keys that close it."""

    DEFAULT_CSS = """
    TextModal { align: center middle; }
    TextModal > VerticalScroll {
        width: 90%; max-width: 130; height: 90%; border: thick $accent; background: $surface; padding: 0 1;
    }
    """

    def __init__(self, title: str, text: Text) -> None:
        super().__init__()
        self.title_text = title
        self.text = text

    def compose(self) -> ComposeResult:
        with VerticalScroll() as box:
            box.border_title = Content(self.title_text)
            yield Static(self.text, markup=False)
