"""Running the app headless in tests: start it, let workers finish, read what it shows."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

from textual.message import Message
from textual.pilot import Pilot
from textual.worker import Worker, WorkerCancelled, WorkerError, WorkerState

from oomtui.model import Snapshot
from oomtui.tui.app import OomApp
from oomtui.tui.feeds import Feed, LiveFeed
from oomtui.tui.screens.main import MainScreen
from oomtui.tui.tree_model import cgroup_key, process_key
from tests.tui.fixtures import RecordingActor, ScriptedCollector, small_host

SIZE = (160, 48)
Scenario = Callable[[Pilot], Awaitable[None]]


def snapshot_app(snapshot: Snapshot | None = None, **kw) -> OomApp:
    return OomApp(Feed(snapshot or small_host(), "snapshot fixture"), None, **kw)


def live_app(samples: list[Snapshot] | None = None, actor: RecordingActor | None = None, **kw) -> OomApp:
    samples = samples or [small_host()]
    collector = ScriptedCollector(samples[1:] or samples)
    kw.setdefault("interval", 3600)  # tests refresh by key, not by timer
    return OomApp(LiveFeed(collector, samples[0]), actor if actor is not None else RecordingActor(), **kw)


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
            if worker.is_finished or (dialog_open and worker.group in ("act", "files")):
                continue
            with contextlib.suppress(WorkerError, WorkerCancelled):  # `run` fails the test on the error
                await worker.wait()
        await pilot.pause()


def main(pilot: Pilot) -> MainScreen:
    return pilot.app.main  # type: ignore[attr-defined]


async def select_cgroup(pilot: Pilot, path: str) -> None:
    assert main(pilot).tree.select_key(cgroup_key(path))
    await pilot.pause()


async def select_process(pilot: Pilot, pid: int) -> None:
    p = main(pilot).sample.process(pid)
    assert p is not None
    assert main(pilot).tree.select_key(process_key(p))
    await pilot.pause()


async def press(pilot: Pilot, *keys: str) -> None:
    await pilot.press(*keys)
    await settle(pilot)


def tree_lines(pilot: Pilot) -> list[str]:
    tree = main(pilot).tree
    return [line.node.label.plain for line in tree._tree_lines]


def decision(pilot: Pilot, policy: str):
    ev = main(pilot).evaluation
    assert ev is not None
    d = ev.decision(policy)
    assert d is not None
    return d


def notifications(pilot: Pilot) -> list[str]:
    return [f"{n.title} {n.message}" for n in pilot.app._notifications]
