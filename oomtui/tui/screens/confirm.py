"""Confirmation dialogs: Cancel is focused, `y` confirms, `n` and Esc cancel.

They list exactly what will happen (every process that dies, every write)
before anything happens; the answer is a bool returned to the awaiting
worker. The kill dialog also offers `t`, the same processes sent SIGTERM
(a plan built before it opened), and keeps the plan chosen in `chosen`.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, DataTable, Static

from oomtui.act import KillPlan, KnobWrite
from oomtui.text import human_size, printable
from oomtui.tui import describe


class ConfirmScreen(ModalScreen[bool]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "answer(True)", "Yes", id="confirm.yes", tooltip="Do it"),
        Binding("n,escape", "answer(False)", "No", id="confirm.no", tooltip="Cancel: nothing happens"),
    ]
    DEFAULT_CSS = """
    ConfirmScreen { align: center middle; }
    ConfirmScreen > Vertical {
        width: 90%; max-width: 140; height: auto; max-height: 90%;
        border: thick $error; background: $surface; padding: 0 1;
    }
    ConfirmScreen #question { margin: 1 0; }
    ConfirmScreen DataTable { height: auto; max-height: 20; }
    ConfirmScreen #notes { color: $text-muted; }
    ConfirmScreen Horizontal { height: auto; align: right middle; margin-top: 1; }
    ConfirmScreen Button { margin-left: 2; }
    """

    def __init__(self, title: str, question: Text, yes_label: str) -> None:
        super().__init__()
        self.title_text = title
        self.question = question
        self.yes_label = yes_label

    def body(self) -> ComposeResult:
        yield from ()

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = Content(self.title_text)
            yield Static(self.question, id="question", markup=False)
            yield from self.body()
            with Horizontal():
                yield Button(Content(self.yes_label + " (y)"), variant="error", id="yes")
                yield from self.more_buttons()
                yield Button(Content("Cancel (n/Esc)"), variant="primary", id="cancel")

    def more_buttons(self) -> ComposeResult:
        yield from ()

    def on_mount(self) -> None:
        self.query_one("#cancel", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id in ("yes", "cancel"):
            self.dismiss(event.button.id == "yes")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)


class KillDialog(ConfirmScreen):
    """Names the signal and every process that dies: pid, start time, name, cgroup, size.

    `gentler` is the same kill with SIGTERM, offered on `t`: a process may
    then clean up first, or ignore it.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("t", "gentler", "SIGTERM", id="confirm.gentler", tooltip="Send SIGTERM instead"),
    ]

    def __init__(self, plan: KillPlan, gentler: KillPlan | None = None) -> None:
        n = len(plan.targets)
        question = Text()
        question.append(f"Send {plan.signal_name} to {n} process{'es' if n != 1 else ''}", style="bold")
        question.append(f" ({human_size(plan.footprint)} in all)?\n")
        question.append(printable(plan.title, limit=300))
        if plan.cgroups:
            question.append("\ncgroup" + ("s" if len(plan.cgroups) > 1 else "") + ": ")
            question.append(", ".join(printable(c, limit=200) for c in plan.cgroups))
        if gentler is not None:
            question.append(f"\nt sends {gentler.signal_name} to the same processes instead: "
                            "each may clean up first, or ignore it and live.")
        super().__init__(f"Kill — {plan.signal_name}", question, f"Kill {n}")
        self.plan = plan
        self.gentler = gentler
        self.chosen = plan

    def more_buttons(self) -> ComposeResult:
        if self.gentler is not None:
            yield Button(Content(f"{self.gentler.signal_name} (t)"), variant="warning", id="gentler")

    @on(Button.Pressed, "#gentler")
    def gentler_pressed(self) -> None:
        self.action_gentler()

    def action_gentler(self) -> None:
        if self.gentler is not None:
            self.chosen = self.gentler
            self.dismiss(True)

    def body(self) -> ComposeResult:
        table = DataTable(id="targets", cursor_type="none", zebra_stripes=True)
        for title in ("PID", "STARTED", "NAME", "CGROUP", "SIZE", "ADJ"):
            table.add_column(Text(title, style="bold"), key=title.lower())
        for t in self.plan.targets:
            table.add_row(
                Text(str(t.pid)),
                Text(describe.when(t.start_time)),
                Text(printable(t.comm, limit=40)),
                Text(printable(t.cgroup, limit=60)),
                Text(human_size(t.footprint)),
                Text(str(t.oom_score_adj)),
                key=str(t.pid),
            )
        yield table
        notes = Text()
        for target, why in (*self.plan.spared, *self.plan.refused):
            notes.append(f"{target.pid} {printable(target.comm, limit=40)}: {printable(why, limit=200)}\n")
        if notes:
            yield Static(notes, id="notes", markup=False)


class ApplyDialog(ConfirmScreen):
    """Lists each write to the live kernel before any is made."""

    def __init__(self, writes: list[KnobWrite]) -> None:
        n = len(writes)
        question = Text(f"Make {n} write{'s' if n != 1 else ''} to the live host?", style="bold")
        super().__init__("Apply what-if edits to the live kernel", question, f"Write {n}")
        self.writes = writes

    def body(self) -> ComposeResult:
        yield Static(describe.lines(f"• {w.description}" for w in self.writes), id="writes", markup=False)
