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
- `MainScreen.kill_timer` (live, where /dev/kmsg, the journal or syslog opened) polls `KillFollower`,
  `JournalKillFollower` (journalctl, a child process stopped on unmount) and `SyslogKillFollower` without
  blocking, each kill once; each kill is judged (`verdict_for` on the sample before it) in a `judge_kill`
  thread worker, which posts `KillJudged`: banner, K mark, kill list (`l`), scoreboard.
- Errors in a worker become notifications (`MainScreen.on_worker_state_changed`);
  nothing reaches the terminal as a traceback.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable, Mapping
from functools import partial
from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual import events, work
from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.screen import Screen

from oomtui.act import Actor
from oomtui.oomlog.journal import JournalSource
from oomtui.oomlog.syslog import SyslogSource
from oomtui.policies.registry import policies
from oomtui.tui.actions import ACTIONS
from oomtui.tui.feeds import Feed
from oomtui.tui.labels import ASCII, UNICODE, Glyphs
from oomtui.tui.screens.confirm import ConfirmScreen
from oomtui.tui.screens.help import HelpScreen
from oomtui.tui.screens.main import GRACE_SECONDS, MainScreen

ASCII_TERMS = ("linux", "vt100", "vt102", "vt220", "dumb")


def choose_glyphs(env: Mapping[str, str] | None = None, encoding: str | None = None) -> Glyphs:
    """ASCII marks where Unicode may not show: OOMTUI_ASCII=1 asks for them (=0 refuses them),
    and so do a Linux VT or a serial terminal (whose fonts lack ☠ ◎ ✎) and a non-UTF-8 locale."""
    env = os.environ if env is None else env
    asked = env.get("OOMTUI_ASCII", "")
    if asked:
        return ASCII if asked not in ("0", "no", "false") else UNICODE
    encoding = encoding if encoding is not None else (getattr(sys.stdout, "encoding", None) or "utf-8")
    if env.get("TERM", "") in ASCII_TERMS or "utf" not in encoding.lower().replace("-", ""):
        return ASCII
    return UNICODE


class OomApp(App[int]):
    CSS_PATH = str(Path(__file__).with_name("app.tcss"))  # absolute: subclasses live elsewhere
    TITLE = "oomtui"
    ENABLE_COMMAND_PALETTE = True
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("question_mark,f1", "help", "Help", key_display="?", tooltip="Every key", id="help"),
        Binding("colon", "command_palette", "Commands", key_display=":", tooltip="The command palette",
                id="palette", show=False),
        Binding("q,f10", "quit", "Quit", tooltip="Leave oomtui (asks when what-if edits are unsaved)", id="quit"),
    ]

    def __init__(self, feed: Feed, actor: Actor | None = None, *, interval: float = 2.0, read_only: bool = False,
                 protected: frozenset[int] = frozenset(), clock: Callable[[], float] | None = None,
                 glyphs: Glyphs | None = None, grace: float = GRACE_SECONDS, kmsg: str | None = None,
                 journal: JournalSource | None = None, syslog: SyslogSource | None = None) -> None:
        super().__init__()
        extra = {} if clock is None else {"clock": clock}
        self.main = MainScreen(feed, None if read_only else actor, interval=interval, read_only=read_only,
                               protected=protected, glyphs=glyphs or choose_glyphs(), grace=grace, kmsg=kmsg,
                               journal=journal, syslog=syslog, **extra)

    def get_default_screen(self) -> Screen:
        return self.main

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.InputEvent):  # the user is here: no whole-heap collection just now
            self.main.pacer.touch()
        await super().on_event(event)

    def action_help(self) -> None:
        if isinstance(self.screen, HelpScreen):
            return
        self.push_screen(HelpScreen([b for b in (*self.main.BINDINGS, *self.BINDINGS) if isinstance(b, Binding)]))

    async def action_quit(self) -> None:
        """Unsaved what-if edits are work: ask before they go."""
        n = self.main.unsaved_edits()
        if not n:
            self.exit()
            return
        self.ask_quit(n)

    @work(exclusive=True, group="quit", exit_on_error=False)
    async def ask_quit(self, n: int) -> None:
        if isinstance(self.screen, ConfirmScreen):
            return
        question = Text(f"Quit with {n} unsaved what-if edit{'s' if n != 1 else ''}?", style="bold")
        question.append("\nCtrl+S saves them with the snapshot first.")
        if await self.push_screen_wait(ConfirmScreen("Quit", question, "Quit", grace=0.0)):
            self.exit()

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        main = self.main
        for a in ACTIONS:
            if a.palette is None or not main.check_action(a.name, ()):
                continue
            if a.dangerous and not main.can_act():
                continue
            yield SystemCommand(a.palette, a.help, partial(main.run_action, a.action))
        for name, spec in policies().items():
            yield SystemCommand(f"policy: {name}", spec.title, partial(main.choose_policy, name))
