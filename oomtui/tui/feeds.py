"""Where the screen's samples come from: the live host, one file, or a recording.

A live view and a loaded snapshot are the same thing to the screen; the
feed only says whether new samples arrive (`live`) and, for a recording,
how to step between samples and OOM events.
"""

from __future__ import annotations

from typing import Protocol

from oomtui.model import Snapshot
from oomtui.record import Recording


class Collects(Protocol):
    def collect(self) -> Snapshot: ...


class Feed:
    live = False
    steps = False

    def __init__(self, first: Snapshot, name: str, warnings: tuple[str, ...] = ()) -> None:
        self.first = first
        self.name = name
        self.warnings = warnings

    def describe(self) -> str:
        return self.name

    def fetch(self) -> Snapshot:
        """A new sample (live feeds only; called from a thread worker)."""
        raise NotImplementedError("only a live feed fetches")

    def step(self, direction: int) -> Snapshot | None:
        raise NotImplementedError("only a recording steps")

    def step_event(self, direction: int) -> Snapshot | None:
        raise NotImplementedError("only a recording steps")


class LiveFeed(Feed):
    live = True

    def __init__(self, collector: Collects, first: Snapshot) -> None:
        super().__init__(first, "live")
        self.collector = collector

    def fetch(self) -> Snapshot:
        return self.collector.collect()


class RecordingFeed(Feed):
    """A recording directory: step through its samples (t/T) and its OOM events ([/]).

    An event shows the kernel's own report as a kernel-log snapshot, so each
    policy's pick stands beside the process the kernel actually killed.
    """

    steps = True

    def __init__(self, recording: Recording, first: Snapshot, name: str, warnings: tuple[str, ...] = ()) -> None:
        super().__init__(first, name, warnings)
        self.recording = recording
        if recording.samples:
            self.at: tuple[str, int] = ("sample", len(recording.samples) - 1)
        else:
            self.at = ("event", len(recording.events) - 1)

    def _time(self) -> float:
        kind, i = self.at
        return self.recording.samples[i].time if kind == "sample" else self.recording.events[i].time

    def describe(self) -> str:
        kind, i = self.at
        if kind == "sample":
            return f"recording {self.name}, sample {i + 1} of {len(self.recording.samples)}"
        event = self.recording.events[i]
        victim = f", the kernel killed pid {event.victim_pid}" if event.victim_pid is not None else ""
        return f"recording {self.name}, OOM event {i + 1} of {len(self.recording.events)}{victim}"

    def step(self, direction: int) -> Snapshot | None:
        """The next (1) or previous (-1) sample, or None at either end."""
        kind, i = self.at
        samples = self.recording.samples
        if kind == "sample":
            target = i + direction
        else:
            before = self.recording.sample_at(self._time())
            target = (-1 if before is None else before) + (1 if direction > 0 else 0)
        if not 0 <= target < len(samples):
            return None
        self.at = ("sample", target)
        return self.recording.load_sample(target)

    def step_event(self, direction: int) -> Snapshot | None:
        """The next or previous OOM event, as the kernel reported it; None when there is none."""
        now = self._time()
        kind = self.at[0]
        events = list(enumerate(self.recording.events))
        if direction > 0:
            later = [j for j, e in events if e.time > now or (kind == "sample" and e.time == now)]
            target = later[0] if later else None
        else:
            earlier = [j for j, e in events if e.time < now]
            target = earlier[-1] if earlier else None
        if target is None:
            return None
        self.at = ("event", target)
        return self.recording.load_event(target)
