"""The exporter: a warm collector, the last collection cached, one collection at a time.

A scrape younger than the interval reuses the last collection (two HA
Prometheus replicas, or a scrape beside the textfile loop, cost one
collection); a scrape that finds one running waits for it instead of
starting another. A failed collection is reported as `oomtui_up 0` with
the health series, and the next scrape tries again.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterator, Sequence

from prometheus_client.core import Metric
from prometheus_client.registry import Collector

from oomtui import inforce
from oomtui.metrics.domains import pick_domains
from oomtui.metrics.families import Collection, DomainResult, families
from oomtui.metrics.victims import victim
from oomtui.model import ROOT, Snapshot
from oomtui.policies import registry


def assess(snapshot: Snapshot, *, policies: Sequence[str] = (), max_domains: int = 20,
           protect: re.Pattern[str] | None = None) -> tuple[tuple[DomainResult, ...], int, dict[str, bool | None]]:
    """Each exported domain's decisions with their victims, the number of domains, and which policies are in force.

    `/` gets every policy (or the named ones); a limited cgroup only the
    kernel's, since only the kernel's memcg OOM killer acts inside one.
    """
    names = list(policies) or list(registry.policies())
    chosen, total = pick_domains(snapshot, max_domains)
    results = []
    for state in chosen:
        run = names if state.path == ROOT else [n for n in names if n == "kernel"]
        # As preview does: each killer with the settings it runs with here, and "cannot run here" where it cannot.
        decisions = [r.decision for r in inforce.evaluate_in_force(snapshot, state.path, run)] if run else []
        results.append(DomainResult(state, tuple((d, victim(snapshot, d, protect)) for d in decisions)))
    return tuple(results), total, {n: inforce.in_force(snapshot, n) for n in names}


class Exporter(Collector):
    """A prometheus_client collector over `sample()`, which returns a fresh snapshot (a live collection, or a file)."""

    def __init__(self, sample: Callable[[], Snapshot], *, interval: float, policies: Sequence[str] = (),
                 max_domains: int = 20, protect: re.Pattern[str] | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._sample = sample
        self.interval = interval
        self._policies = tuple(policies)
        self._max_domains = max_domains
        self._protect = protect
        self._clock = clock
        self._lock = threading.Lock()
        self._last: Collection | None = None
        self._last_at = float("-inf")
        self._built: tuple[Collection, list[Metric]] | None = None
        self.collections = 0

    def refresh(self) -> Collection:
        """A new collection, whatever the age of the last one (the textfile loop calls this)."""
        with self._lock:
            return self._refresh_locked()

    def current(self) -> Collection:
        """The last collection if younger than the interval, else a new one; never two at once."""
        with self._lock:
            return self._current_locked()

    def _current_locked(self) -> Collection:
        if self._last is not None and self._clock() - self._last_at < self.interval:
            return self._last
        return self._refresh_locked()

    def _refresh_locked(self) -> Collection:
        started = self._clock()
        cpu = time.perf_counter()
        try:
            snapshot = self._sample()
            collected = time.perf_counter()
            domains, total, active = assess(snapshot, policies=self._policies, max_domains=self._max_domains,
                                            protect=self._protect)
            done = time.perf_counter()
            result = Collection(snapshot.taken_at, collected - cpu, done - collected, total, domains, active)
        except Exception as e:  # a broken host or file: report it, keep serving
            first = str(e).splitlines()[0] if str(e) else ""
            last_good = self._last.taken_at if self._last is not None else None
            result = Collection(last_good, time.perf_counter() - cpu, error=f"{type(e).__name__}: {first}")
        self.collections += 1
        self._last, self._last_at = result, started
        return result

    def collect(self) -> Iterator[Metric]:
        """The families of the current collection, built once per collection: a cached scrape only encodes."""
        with self._lock:
            c = self._current_locked()
            if self._built is None or self._built[0] is not c:
                self._built = (c, list(families(c)))
            return iter(self._built[1])
