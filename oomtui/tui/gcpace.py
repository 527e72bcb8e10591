"""Keeps Python's cycle collector off the samples, whose full passes stalled every key.

A 10,000-process sample is about 25,000 objects the collector tracks. Made
with the collector on, it set off full collections while it was being
built, each walking every tracked object not yet frozen — the half-built
sample, the last evaluation, what the screen made meanwhile — while holding
the GIL, in whichever thread allocated last: 35–200 ms at 10,000 processes,
those were the keys over 100 ms, and a tenth of the idle CPU.

Samples and evaluations hold no reference cycles, so reference counting
frees them once nothing points at them. What makes that so and cheap:

- `Parcel`: a worker's arguments handed over once. Textual keeps a worker's
  arguments with the worker, and a finished worker lingers in a reference
  cycle until a full collection, so a sample passed as an argument lived
  (with its 25,000 objects) until the very pass that costs the stall.
- `Pacer.sampling`, around making a sample in a worker: first one full
  collection of what is not frozen (what the screen and the last evaluation
  made since the last sample: a few thousand objects), then the sample is
  made with the collector held (`gchold`), so no pass walks it half-built, then
  everything alive is moved out of the collector's sight (`gc.freeze`)
  without a walk. Frozen objects are still freed by reference counting;
  only cyclic garbage frozen with them (Textual's, a few hundred KB a
  minute) waits for the sweep: the whole heap, unfrozen and collected,
  once `SWEEP_SECONDS` have passed and no key or click came for
  `QUIET_SECONDS` (a key then would wait for it), at the latest after
  `LATEST_SECONDS`, which bounds what waits.
- `Pacer.evaluating`, around the policies' run in a worker: the collector
  held, then what it made frozen. Let loose, the first young pass after it
  walked all the evaluation had made (90 ms at 50,000 processes), and the
  older passes that followed in the UI thread walked it again while the
  edit was being painted.
- `Pacer.adopt`: a sample not made under `sampling` (the one the app
  opens on, a file, a recording's step) is frozen as the screen takes it:
  a loaded 50,000-process snapshot left in sight cost a 300 ms full pass
  at the first paint and again during the first edits.
- `Pacer.retire`: the screen hands over what it stops pointing at, and the
  next worker drops it: freeing a 10,000-process sample takes ~10 ms, which
  the UI thread spent on every new sample's repaint.
"""

from __future__ import annotations

import gc
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Generic, TypeVar

from oomtui.gchold import collector_held

T = TypeVar("T")

SWEEP_SECONDS = 120.0  # the whole heap at most this often: the cycles frozen meanwhile are freed
QUIET_SECONDS = 3.0  # ... and only when no key or click came for this long
LATEST_SECONDS = 600.0  # ... or, under endless typing, after this long anyway


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
    """When the collector looks: young objects as usual, what is not frozen once a sample,
    the whole heap every `sweep` seconds when the user is not typing."""

    def __init__(self, sweep: float = SWEEP_SECONDS, clock: Callable[[], float] = time.monotonic,
                 quiet: float = QUIET_SECONDS, latest: float = LATEST_SECONDS) -> None:
        self.sweep = sweep
        self.quiet = quiet
        self.latest = latest
        self.clock = clock
        self.swept = clock()
        self.touched = float("-inf")
        self.sweeps = 0
        self._lock = threading.Lock()  # sampled from the collect worker, let go of from the evaluate worker
        self._retired: list[object] = []

    def touch(self) -> None:
        """The user pressed a key or clicked (UI thread): no sweep for `quiet` seconds."""
        self.touched = self.clock()

    def retire(self, *objects: object) -> None:
        """Keep `objects` alive until a worker lets go of them, so the last reference is dropped there."""
        with self._lock:
            self._retired.extend(objects)

    def let_go(self) -> None:
        """In a worker: drop what was retired."""
        with self._lock:
            self._retired.clear()

    def sweep_due(self) -> bool:
        now = self.clock()
        waited = now - self.swept
        return waited >= self.latest or (waited >= self.sweep and now - self.touched >= self.quiet)

    @contextmanager
    def sampling(self) -> Iterator[None]:
        """In a worker, around making a sample: collect what is not frozen (or sweep the whole
        heap when due), hold the collector while the sample is made, then freeze it all."""
        with self._lock:
            self._retired.clear()
            if self.sweep_due():
                self.swept = self.clock()
                self.sweeps += 1
                gc.unfreeze()
            gc.collect()
        with collector_held():
            try:
                yield
            finally:
                with self._lock:
                    gc.freeze()  # before the collector is back: its first pass would walk the new sample

    @contextmanager
    def evaluating(self) -> Iterator[None]:
        """In a worker, around running the policies: the collector held, then all that is alive frozen."""
        with collector_held():
            try:
                yield
            finally:
                self.adopt()

    def adopt(self) -> None:
        """Freeze what is alive now (a sample made elsewhere, an evaluation), without a walk."""
        with self._lock:
            gc.freeze()

    def close(self) -> None:
        """The app is leaving: hand everything back to the collector."""
        with self._lock:
            self._retired.clear()
            gc.unfreeze()
