"""A collector helper that finishes before the collector starts reading, so every pid comes through it."""

from __future__ import annotations

import time
from typing import ClassVar

from oomtui.collect import procs
from oomtui.collect.helper import Fetched, Helper


class FinishedFirst(Helper):
    """Holds back its results until it has read every pid: the collector meets it at the first pid."""

    instances: ClassVar[list[FinishedFirst]] = []

    def __init__(self, proc: str, pids: list[int]) -> None:
        super().__init__(proc, pids)
        self.held: list[tuple[int, Fetched]] = []
        deadline = time.monotonic() + 60
        while len(self.held) < len(pids) and time.monotonic() < deadline:
            self.held += super().poll()
            time.sleep(0.005)
        assert len(self.held) == len(pids), "the helper did not finish within a minute"
        self.delivered = 0
        FinishedFirst.instances.append(self)

    def poll(self) -> list[tuple[int, Fetched]]:
        out, self.held = self.held + super().poll(), []
        self.delivered += len(out)
        return out


def install(monkeypatch) -> type[FinishedFirst]:
    FinishedFirst.instances = []
    monkeypatch.setattr(procs, "Helper", FinishedFirst)
    return FinishedFirst
