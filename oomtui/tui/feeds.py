"""Where the screen's samples come from: the live host, one file, or a recording.

A live view and a loaded snapshot are the same thing to the screen; the
feed only says whether new samples arrive (`live`) and, for a recording,
how to step between samples and OOM events.
"""

from __future__ import annotations

from typing import Protocol

from oomtui.errors import UserError
from oomtui.model import Snapshot
from oomtui.record import Recording
from oomtui.text import printable


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

    It opens on its first OOM event (so `]` goes on to the next), else on its
    last sample. An event shows the sample taken just before it, carrying the
    kernel's report of what it killed, so each policy's pick stands beside
    the real kill on the whole host as it was; without such a sample, the
    report alone as a kernel-log snapshot.
    """

    steps = True

    def __init__(self, recording: Recording, name: str, warnings: tuple[str, ...] = ()) -> None:
        self.recording = recording
        if recording.events:
            self.at: tuple[str, int] = ("event", 0)
            first = self.load_event(0)
        else:
            self.at = ("sample", len(recording.samples) - 1)
            first = recording.load_sample(self.at[1])
        super().__init__(first, name, warnings)

    def load_event(self, i: int) -> Snapshot:
        """Event `i` on the sample taken just before it, or on its report alone; a userspace
        killer's kill (its report is its log line) on the sample before it, or the nearest one."""
        before = self.recording.event_sample(i)
        if self.recording.events[i].killer != "kernel":
            if before is not None:
                return before
            near = self.recording.sample_at(self.recording.events[i].time)
            if near is None and not self.recording.samples:
                raise UserError("no sample recorded around this kill")
            return self.recording.load_sample(near or 0)
        report = self.recording.load_event(i)
        if before is None or report.oom_event is None:
            return report
        return before.replace(oom_event=report.oom_event)

    def _time(self) -> float:
        kind, i = self.at
        return self.recording.samples[i].time if kind == "sample" else self.recording.events[i].time

    def describe(self) -> str:
        kind, i = self.at
        if kind == "sample":
            return f"recording {self.name}, sample {i + 1} of {len(self.recording.samples)}"
        event = self.recording.events[i]
        victim = f", {event.killer} killed pid {event.victim_pid}" if event.victim_pid is not None else ""
        if event.victim_pod is not None:
            victim = f", {event.killer} evicted pod {printable(event.victim_pod, 160)}"
        sample = " (report only)" if event.sample is None else ""
        return f"recording {self.name}, OOM event {i + 1} of {len(self.recording.events)}{victim}{sample}"

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
        return self.load_event(target)
