"""Confirmation dialogs: Cancel is focused, `y` confirms, `n` and Esc cancel.

They list exactly what will happen (every process that dies, every write)
before anything happens; the answer is a bool returned to the awaiting
worker. A `y` within `grace` seconds of the dialog opening was typed
before the dialog could be read, and is ignored. The kill dialog's `t`
switches the signal between SIGKILL and SIGTERM (the same processes, a plan
built before it opened); either is then sent only by `y`, and the plan
chosen is kept in `chosen`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
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
from oomtui.tui import describe, fmt
from oomtui.workloads import workload_text

WORKLOADS_SHOWN = 6


class ConfirmScreen(ModalScreen[bool]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "answer(True)", "Yes", id="confirm.yes", tooltip="Do it"),
        Binding("n,escape", "answer(False)", "No", id="confirm.no", tooltip="Cancel: nothing happens"),
    ]
    DEFAULT_CSS = """
    ConfirmScreen { align: center middle; }
    ConfirmScreen > Vertical {
        width: 96%; max-width: 140; height: auto; max-height: 90%;
        border: thick $error; background: $surface; padding: 0 1;
    }
    ConfirmScreen #question { margin: 1 0; }
    ConfirmScreen DataTable { height: auto; max-height: 20; }
    ConfirmScreen #notes { color: $text-muted; }
    ConfirmScreen Horizontal { height: auto; align: right middle; margin-top: 1; }
    ConfirmScreen Button { margin-left: 2; }
    """

    def __init__(self, title: str, question: Text, yes_label: str, *, grace: float = 0.5,
                 clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self.title_text = title
        self.question = question
        self.yes_label = yes_label
        self.grace = grace
        self.clock = clock
        self.opened_at = clock()

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
            self.action_answer(event.button.id == "yes")

    def too_soon(self) -> bool:
        """A yes this soon after opening was typed ahead: ignore it and say so."""
        if self.clock() - self.opened_at >= self.grace:
            return False
        self.notify("Ignored: that key came before this dialog could be read. Press it again.",
                    severity="warning", markup=False)
        return True

    def action_answer(self, yes: bool) -> None:
        if yes and self.too_soon():
            return
        self.dismiss(yes)


class KillDialog(ConfirmScreen):
    """Names the signal and every process that dies: pid, start time, name, command, cgroup, size.

    `gentler` is the same kill with SIGTERM: `t` switches to it (and back),
    and `y` sends whichever is shown, so SIGTERM is confirmed as
    deliberately as SIGKILL.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("t", "switch_signal", "Switch signal", id="confirm.signal",
                tooltip="Switch between SIGKILL and SIGTERM; y then sends it"),
    ]

    def __init__(self, plan: KillPlan, gentler: KillPlan | None = None, *, grace: float = 0.5,
                 clock: Callable[[], float] = time.monotonic,
                 cmdlines: Mapping[int, tuple[str, ...]] | None = None) -> None:
        super().__init__(f"Kill — {plan.signal_name}", self._question(plan, gentler), f"Kill {len(plan.targets)}",
                         grace=grace, clock=clock)
        self.plan = plan
        self.gentler = gentler
        self.chosen = plan
        self.cmdlines = cmdlines or {}  # pid: argv, as the sample read it

    @staticmethod
    def _question(chosen: KillPlan, other: KillPlan | None) -> Text:
        n = len(chosen.targets)
        question = Text()
        question.append(f"Send {chosen.signal_name} to {n} process{'es' if n != 1 else ''}", style="bold")
        question.append(f" ({human_size(chosen.footprint)} in all)?\n")
        for _, w in chosen.workloads[:WORKLOADS_SHOWN]:  # which pod, container or unit dies, by name: first
            question.append("in ")
            question.append(fmt.cut(workload_text(w), 300), style="bold")
            question.append("\n")
        if len(chosen.workloads) > WORKLOADS_SHOWN:
            question.append(f"… and {len(chosen.workloads) - WORKLOADS_SHOWN} more workloads\n")
        question.append(printable(chosen.title, limit=300))
        if chosen.cgroups:
            question.append("\ncgroup" + ("s" if len(chosen.cgroups) > 1 else "") + ": ")
            question.append(", ".join(printable(c, limit=200) for c in chosen.cgroups))
        if other is not None:
            question.append(f"\nt switches to {other.signal_name} for the same processes"
                            + (" (each may clean up first, or ignore it and live)"
                               if other.signal_name == "SIGTERM" else "") + "; y then sends it.")
        return question

    def more_buttons(self) -> ComposeResult:
        if self.gentler is not None:
            yield Button(Content(f"Use {self.gentler.signal_name} (t)"), variant="warning", id="gentler")

    @on(Button.Pressed, "#gentler")
    def gentler_pressed(self) -> None:
        self.action_switch_signal()

    def action_switch_signal(self) -> None:
        """Only switches: the answer still needs `y`."""
        if self.gentler is None:
            return
        other = self.gentler if self.chosen is self.plan else self.plan
        self.question = self._question(other, self.chosen)
        self.query_one("#question", Static).update(self.question)
        self.query_one("#gentler", Button).label = Content(f"Use {self.chosen.signal_name} (t)")
        self.query_one("#yes", Button).label = Content(f"Send {other.signal_name} to {len(other.targets)} (y)")
        self.chosen = other
        box = self.query_one(Vertical)
        box.border_title = Content(f"Kill — {other.signal_name}")

    def body(self) -> ComposeResult:
        """What tells a process apart comes first (pid, name, size, command); the rest scrolls on a console."""
        table: DataTable[Text] = DataTable(id="targets", cursor_type="none", zebra_stripes=True)
        for title in ("PID", "NAME", "SIZE", "ADJ", "COMMAND", "CGROUP", "STARTED (UTC)"):
            table.add_column(Text(title, style="bold"), key=title.split()[0].lower())
        command = max(16, min(48, self.app.size.width - 62))
        for t in self.plan.targets:
            table.add_row(
                Text(str(t.pid)),
                Text(printable(t.comm, limit=40)),
                Text(human_size(t.footprint)),
                Text(str(t.oom_score_adj)),
                Text(fmt.command(self.cmdlines.get(t.pid, ()), command)),
                Text(fmt.cut(t.cgroup, 40)),
                Text(describe.when(t.start_time).removesuffix(" UTC")),
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

    def __init__(self, writes: list[KnobWrite], *, grace: float = 0.5,
                 clock: Callable[[], float] = time.monotonic) -> None:
        n = len(writes)
        question = Text(f"Make {n} write{'s' if n != 1 else ''} to the live host?", style="bold")
        super().__init__("Apply what-if edits to the live kernel", question, f"Write {n}", grace=grace, clock=clock)
        self.writes = writes

    def body(self) -> ComposeResult:
        yield Static(describe.lines(f"• {w.description}" for w in self.writes), id="writes", markup=False)
