"""The oomtui Textual app.

Architecture — which timer or worker refreshes what:

- `MainScreen.refresh_timer` (`set_interval`, `--interval`, live feeds only)
  calls `tick`, which starts the `collect` thread worker (exclusive, group
  "collect") unless refresh is paused or a dialog is open. The worker reads
  the host through the feed's collector and posts `SampleFetched`
  (`can_replace`: a slow UI never piles up old samples). A sample arriving
  while a dialog is open is held and applied when the main screen resumes,
  so nothing moves under a confirmation.
- Every new sample, what-if edit, undo or domain change calls `reevaluate`:
  the `evaluate` thread worker (group "evaluate", one at a time) runs every
  policy on the sample with the edits, then posts `Evaluated` with a
  generation number. A result of a superseded generation is dropped and
  the next run starts from the latest state, so a held key never piles up
  threads. Kernel badness is computed on demand for the rows shown.
- `on_evaluated` assigns and paints inside `batch_update`: the verdicts
  table updates cells in place, the tree relabels changed rows and adds or
  removes only nodes that came or went, details and ranking are redrawn.
- Choosing a verdict row or moving the tree cursor repaints only the tree
  marks, the ranking or the details; no worker runs.
- Kill, execute and apply-edits run as async workers (group "act") that
  await a modal confirmation, then call the actor in a thread; open and
  save (group "files") await a path prompt and do file I/O in a thread;
  `copy_elsewhere` tries pyperclip in a thread after OSC 52.
- Errors in a worker become notifications (`MainScreen.on_worker_state_changed`);
  nothing reaches the terminal as a traceback.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import partial
from typing import ClassVar

from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.screen import Screen

from oomtui.act import Actor
from oomtui.tui.commands import COMMANDS, action_name
from oomtui.tui.feeds import Feed
from oomtui.tui.screens.help import HelpScreen
from oomtui.tui.screens.main import MainScreen


class OomApp(App[int]):
    CSS_PATH = "app.tcss"
    TITLE = "oomtui"
    ENABLE_COMMAND_PALETTE = True
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("question_mark,f1", "help", "Help", key_display="?", tooltip="Every key", id="help"),
        Binding("colon", "command_palette", "Commands", key_display=":", tooltip="The command palette",
                id="palette", show=False),
        Binding("q,f10", "quit", "Quit", tooltip="Leave oomtui", id="quit"),
    ]

    def __init__(self, feed: Feed, actor: Actor | None = None, *, interval: float = 2.0, read_only: bool = False,
                 protected: frozenset[int] = frozenset(), clock: Callable[[], float] | None = None) -> None:
        super().__init__()
        extra = {} if clock is None else {"clock": clock}
        self.main = MainScreen(feed, None if read_only else actor, interval=interval, read_only=read_only,
                               protected=protected, **extra)

    def get_default_screen(self) -> Screen:
        return self.main

    def action_help(self) -> None:
        if isinstance(self.screen, HelpScreen):
            return
        self.push_screen(HelpScreen([*self.main.BINDINGS, *self.BINDINGS]))

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        for title, action, help_text in COMMANDS:
            if self.main.check_action(action_name(action), ()):
                yield SystemCommand(title, help_text, partial(self.main.run_action, action))
