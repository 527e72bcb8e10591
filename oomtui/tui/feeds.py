"""Where the screen's samples come from: the live host, one file, or a recording.

A live view and a loaded snapshot are the same thing to the screen; the
feed only says whether new samples arrive (`live`) and, for a recording,
how to step between samples and OOM events.
"""

from __future__ import annotations

from typing import Protocol

from oomtui.model import Snapshot


class Collects(Protocol):
    def collect(self) -> Snapshot: ...


class Feed:
    live = False
    steps = False

    def __init__(self, first: Snapshot, name: str) -> None:
        self.first = first
        self.name = name

    def describe(self) -> str:
        return self.name

    def fetch(self) -> Snapshot:
        """A new sample (live feeds only; called from a thread worker)."""
        raise NotImplementedError("only a live feed fetches")


class LiveFeed(Feed):
    live = True

    def __init__(self, collector: Collects, first: Snapshot) -> None:
        super().__init__(first, "live")
        self.collector = collector

    def fetch(self) -> Snapshot:
        return self.collector.collect()
