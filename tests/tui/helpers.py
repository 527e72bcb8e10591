"""Running the app headless in tests: start it, let workers finish, read what it shows."""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Awaitable, Callable

from textual.message import Message
from textual.notifications import SeverityLevel
from textual.pilot import Pilot
from textual.worker import Worker, WorkerCancelled, WorkerError, WorkerState

from oomtui.model import Snapshot
from oomtui.tui.app import OomApp
from oomtui.tui.feeds import Feed, LiveFeed
from oomtui.tui.labels import FLAGS_WIDTH, UNICODE
from oomtui.tui.screens.main import DETAILS_REST, MainScreen
from oomtui.tui.tree_model import cgroup_key, process_key
from tests.tui.fixtures import RecordingActor, ScriptedCollector, small_host

SIZE = (160, 48)
GUIDES = re.compile(r"^[ │├└─▼▶]*")
Scenario = Callable[[Pilot], Awaitable[None]]


class ObservedApp(OomApp):
    """The app, keeping every notification it showed (Textual keeps only the ones still on screen)."""

    def __init__(self, *args, **kw) -> None:
        super().__init__(*args, **kw)
        self.said: list[tuple[str, str]] = []

    def notify(self, message: str, *, title: str = "", severity: SeverityLevel = "information",
               timeout: float | None = None, markup: bool = True) -> None:
        self.said.append((title, message))
        super().notify(message, title=title, severity=severity, timeout=timeout, markup=markup)


def snapshot_app(snapshot: Snapshot | None = None, **kw) -> OomApp:
    kw.setdefault("grace", 0.0)  # pilot keys are deliberate; tests of the type-ahead guard set it
    kw.setdefault("glyphs", UNICODE)
    return ObservedApp(Feed(snapshot or small_host(), "snapshot fixture"), None, **kw)


def live_app(samples: list[Snapshot] | None = None, actor: RecordingActor | None = None, **kw) -> OomApp:
    samples = samples or [small_host()]
    collector = ScriptedCollector(samples[1:] or samples)
    kw.setdefault("interval", 3600)  # tests refresh by key, not by timer
    kw.setdefault("grace", 0.0)
    kw.setdefault("glyphs", UNICODE)
    return ObservedApp(LiveFeed(collector, samples[0]), actor if actor is not None else RecordingActor(), **kw)


def run(app: OomApp, scenario: Scenario, messages: list | None = None, size: tuple[int, int] = SIZE,
        worker_errors: tuple[type[BaseException], ...] = ()) -> None:
    """Run the scenario on the app.

    A worker that raised fails the test even though the app carried on (it
    shows a notification), unless the test expects that error: `worker_errors`.
    """
    failed: list[Worker] = []

    def hook(message: Message) -> None:
        if messages is not None:
            messages.append(message)
        if (isinstance(message, Worker.StateChanged) and message.state == WorkerState.ERROR
                and not isinstance(message.worker.error, worker_errors)):
            failed.append(message.worker)

    async def go() -> None:
        async with app.run_test(size=size, message_hook=hook) as pilot:
            await settle(pilot)
            await scenario(pilot)

    asyncio.run(go())
    if failed:
        w = failed[0]
        raise AssertionError(f"worker {w.name} ({w.group}) raised {w.error!r}") from w.error


async def settle(pilot: Pilot) -> None:
    """Let workers finish and their messages be handled.

    A worker that awaits a dialog cannot finish until the test answers it, so
    while a dialog is open only the background workers are awaited.
    """
    for _ in range(3):
        dialog_open = not isinstance(pilot.app.screen, MainScreen)
        for worker in list(pilot.app.workers):
            if worker.is_finished or (dialog_open and worker.group in ("act", "files", "quit")):
                continue
            with contextlib.suppress(WorkerError, WorkerCancelled):  # `run` fails the test on the error
                await worker.wait()
        await pilot.pause()


def main(pilot: Pilot) -> MainScreen:
    return pilot.app.main  # type: ignore[attr-defined]


async def select_cgroup(pilot: Pilot, path: str) -> None:
    """Put the cursor on a cgroup and rest there, as a person does: the details follow a resting cursor."""
    assert main(pilot).memory_tree.select_key(cgroup_key(path))
    await pilot.pause(DETAILS_REST)
    await pilot.pause()


async def select_process(pilot: Pilot, pid: int) -> None:
    p = main(pilot).sample.process(pid)
    assert p is not None
    assert main(pilot).memory_tree.select_key(process_key(p))
    await pilot.pause(DETAILS_REST)
    await pilot.pause()


async def press(pilot: Pilot, *keys: str) -> None:
    await pilot.press(*keys)
    await settle(pilot)


def tree_rows(pilot: Pilot) -> list[str]:
    """Every line of the tree as drawn (flags, guides, name, columns), shown or scrolled off."""
    tree = main(pilot).memory_tree
    return [label.plain if (label := tree.label(i)) is not None else "" for i in range(len(tree.lines))]


def tree_lines(pilot: Pilot) -> list[str]:
    """Each line from its name on: without the flags column and the tree's guides."""
    return [GUIDES.sub("", row[FLAGS_WIDTH:]) for row in tree_rows(pilot)]


def cursor_row(pilot: Pilot) -> str:
    tree = main(pilot).memory_tree
    label = tree.label(tree.cursor)
    return label.plain if label is not None else ""


def decision(pilot: Pilot, policy: str):
    ev = main(pilot).evaluation
    assert ev is not None
    d = ev.decision(policy)
    assert d is not None
    return d


def notifications(pilot: Pilot) -> list[str]:
    return [f"{title} {message}" for title, message in pilot.app.said]  # type: ignore[attr-defined]
