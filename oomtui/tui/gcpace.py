"""Keeps Python's cycle collector off the samples, whose full passes stalled every key.

A 10,000-process sample is about 25,000 objects the collector tracks. Each
sample made enough of them to start a full collection, which walks every
tracked object while holding the GIL — 150–275 ms CPU at 10,000 processes,
in whichever thread allocated last, so the UI thread waited for it: those
were the keys over 100 ms, and about a tenth of the idle CPU.

Samples and evaluations hold no reference cycles, so reference counting
frees them once nothing points at them. Two things make that so and cheap:

- `Parcel`: a worker's arguments handed over once. Textual keeps a worker's
  arguments with the worker, and a finished worker lingers in a reference
  cycle until a full collection, so a sample passed as an argument lived
  (with its 25,000 objects) until the very pass that costs the stall.
- `Pacer.settle`, called when a sample is made: moves everything then
  alive out of the collector's sight (`gc.freeze`), so a collection walks
  only what was made since. Objects frozen are still freed by reference
  counting; only cyclic garbage frozen with them (Textual's, ~150 KB a
  sample) waits, for the full sweep every `SWEEP_SECONDS`, which bounds it.
- `Pacer.retire`: the screen hands over what it stops pointing at, and the
  next `settle` (in a worker) drops it: freeing a 10,000-process sample
  takes ~10 ms, which the UI thread spent on every new sample's repaint.
"""

from __future__ import annotations

import gc
import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")

SWEEP_SECONDS = 120.0  # one full collection this often: the cycles frozen meanwhile are freed


class Parcel(Generic[T]):
    """A value a worker takes once, so the finished worker keeps no reference to it."""

    __slots__ = ("_value",)

    def __init__(self, value: T) -> None:
        self._value: T | None = value

    def take(self) -> T:
        value, self._value = self._value, None
        if value is None:
            raise RuntimeError("a parcel is taken once")
        return value


class Pacer:
    """When the collector looks: young objects as usual, the whole heap every `sweep` seconds."""

    def __init__(self, sweep: float = SWEEP_SECONDS, clock: Callable[[], float] = time.monotonic) -> None:
        self.sweep = sweep
        self.clock = clock
        self.swept = clock()
        self.sweeps = 0
        self._lock = threading.Lock()  # settled from the collect and evaluate workers
        self._retired: list[object] = []

    def retire(self, *objects: object) -> None:
        """Keep `objects` alive until the next `settle`, so the last reference is dropped in a worker."""
        with self._lock:
            self._retired.extend(objects)

    def settle(self, freeze: bool = True) -> None:
        """In a worker: drop what was retired; after a new sample also freeze what is alive, now and
        then sweeping first (an evaluation only drops: edits come faster than samples)."""
        with self._lock:
            self._retired.clear()
            if not freeze:
                return
            now = self.clock()
            if now - self.swept >= self.sweep:
                self.swept = now
                self.sweeps += 1
                gc.unfreeze()
                gc.collect()
            else:
                gc.collect(1)  # the young cyclic garbage first, or freezing would keep it to the sweep
            gc.freeze()

    def close(self) -> None:
        """The app is leaving: hand everything back to the collector."""
        with self._lock:
            self._retired.clear()
            gc.unfreeze()
