"""How long every built-in policy takes on the 10,000-process sample host.

The TUI re-runs all policies on each keypress, so together they must stay
within 100 ms. Each round takes the host as a new sample (new process
objects, as a refresh brings them: nothing carried over) and times:
- a new sample: the first evaluation of every policy on it;
- an edit: every policy on a what-if view of that sample with a handful
  of edits, made as the TUI makes it (`with_replaced`, no re-index), after
  the sample was evaluated once (what an evaluation carries over to the
  next, policies/carry.py, is in play, as in the TUI);
- per policy, the same edit with that policy alone;
- the what-if apply.
For each, the fastest and the median wall time of ROUNDS runs, and the
fastest and the median CPU time (on a shared, loaded machine the wall time
includes waiting for a core; the CPU time does not). Each run holds the
collector and freezes what it made, as the TUI's evaluation worker does
(tui/gcpace.py), so no collection pass is timed; the garbage of the runs
before is collected first, untimed. The global domain, then the
limited cgroup holding the most processes. The exit status is 1 when the
fastest edit is over budget.

The same code takes twice as long on this machine on some days as on
others (what else runs, where memory sits): the run starts with a bare
`json.load` of the host's own snapshot, CPU, so figures from two days can
be set side by side as multiples of it.

    .venv/bin/python bench/bench_policies.py [--rounds 7] [--processes 10000]
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from oomtui import whatif
from oomtui.evaluate import evaluate
from oomtui.gchold import collector_held
from oomtui.model import ROOT, Snapshot, WhatIf
from oomtui.policies import registry
from oomtui.snapshot import save
from oomtui.synthetic import large_host

BUDGET_MS = 100.0


class Timer:
    """Wall and CPU milliseconds of repeated runs."""

    def __init__(self) -> None:
        self.wall: list[float] = []
        self.cpu: list[float] = []

    def time(self, fn, *args):  # type: ignore[no-untyped-def]
        wall, cpu = time.perf_counter(), time.process_time()
        result = fn(*args)
        self.wall.append((time.perf_counter() - wall) * 1000)
        self.cpu.append((time.process_time() - cpu) * 1000)
        return result

    def line(self, label: str) -> str:
        return (f"  {label:<24} {min(self.wall):7.1f} ms fastest {statistics.median(self.wall):7.1f} ms median"
                f" | cpu {min(self.cpu):7.1f} ms fastest {statistics.median(self.cpu):7.1f} ms median")


def _new_sample(snapshot: Snapshot) -> Snapshot:
    """The same host as new objects, as the next sample brings them: no memo or carried result applies."""
    return snapshot.replace(processes=tuple(dataclasses.replace(p) for p in snapshot.processes))


def _edits(snapshot: Snapshot) -> WhatIf:
    """A handful of edits, as a user makes them in the TUI."""
    w = WhatIf()
    for path in [c.path for c in snapshot.cgroups if c.path != ROOT][:3]:
        w = whatif.set_score(whatif.set_interdependent(w, path, True), path, 100)
    for p in snapshot.processes[:5]:
        w = whatif.set_adj(w, p.pid, 500)
    return w


def _timed(timer: Timer, fn, *args):  # type: ignore[no-untyped-def]
    """One run as the TUI's evaluation worker makes it (Pacer.evaluating): the collector held, what it
    made frozen after; the garbage of the runs before collected first, untimed."""
    gc.unfreeze()
    gc.collect()
    with collector_held():
        result = timer.time(fn, *args)
        gc.freeze()
    return result


def bench(snapshot: Snapshot, domain: str, rounds: int) -> float:
    specs = registry.policies()
    per = {name: Timer() for name in specs}
    applies, firsts, edits = Timer(), Timer(), Timer()
    w = _edits(snapshot)
    for _ in range(rounds):
        sample = _new_sample(snapshot)
        _timed(firsts, evaluate, sample, domain)
        _timed(edits, evaluate, sample.with_replaced({}, {}, w), domain)
        _timed(applies, whatif.apply, sample.with_replaced({}, {}, w))
        for name in specs:
            evaluate(sample.with_replaced({}, {}, w), domain)  # what an edit carries over, as in the TUI
            _timed(per[name], evaluate, sample.with_replaced({}, {}, w), domain, [name])
    print(f"domain {domain}: {rounds} rounds")
    print(firsts.line("a new sample, all"))
    print(applies.line("whatif.apply (8 edits)"))
    for name, timer in per.items():
        print(timer.line(name))
    total = min(edits.cpu)
    verdict = "within" if total <= BUDGET_MS else "OVER"
    print(edits.line("an edit, all policies") + f"  ({verdict} the {BUDGET_MS:.0f} ms budget)")
    return total


def json_load_ms(snapshot: Snapshot, rounds: int = 3) -> float:
    """The fastest CPU time of a bare `json.load` of the snapshot's file: this machine's pace today."""
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "host.json"
        save(snapshot, path)
        data = path.read_bytes()
    best = float("inf")
    for _ in range(rounds):
        cpu = time.process_time()
        json.loads(data)
        best = min(best, time.process_time() - cpu)
    return best * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--processes", type=int, default=10000)
    args = parser.parse_args()
    snapshot = large_host(processes=args.processes, cgroups=min(2000, args.processes // 5))  # the sample's shape
    print(f"sample: {len(snapshot.processes)} processes, {len(snapshot.cgroups)} cgroups; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; "
          f"a bare json.load of its snapshot {json_load_ms(snapshot):.0f} ms CPU (this machine's pace today)")
    limited = max(snapshot.limited_cgroups(), key=lambda p: len(snapshot.processes_under(p)), default=None)
    worst = bench(snapshot, ROOT, args.rounds)
    if limited is not None:
        worst = max(worst, bench(snapshot, limited, args.rounds))
    return 0 if worst <= BUDGET_MS else 1


if __name__ == "__main__":
    sys.exit(main())
