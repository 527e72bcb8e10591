"""Key-to-screen latency while the live view refreshes a 10,000-process host every 2 s.

A headless app (160x48, or --size) shows a live feed whose collector does
what a /proc walk costs the interpreter: it builds the 10,000-process host
from plain data in its worker thread (about the CPU of a real collection,
in Python, so the GIL changes hands as it does), with --churn processes
replaced by new pids each sample. Every policy then runs on it in the evaluation worker. Meanwhile
keys are typed (Down and Up in the tree, a random 20-120 ms apart) and each
is timed from the moment it is posted to the moment the screen has been
refreshed with the cursor moved (`call_after_refresh`). Prints the p50,
p90, p99 and worst latency, the CPU time the UI thread spent meanwhile
(what the key waits for on a quiet machine: a loaded one adds waiting for
a core), how many refreshes happened, and the CPU time of the process per
second of wall time, and the full passes of Python's cycle collector
(count, CPU, the worst: each holds the GIL, so every thread waits for it).
The budget is p99 < 100 ms; the exit status is 1 when it is over. The
machine may be shared: the load average is printed before and after, to
read the wall figures by.

    .venv/bin/python bench/bench_tui_latency.py [--seconds 30] [--processes 10000] [--interval 2] [--idle]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from textual import events

from oomtui.model import Snapshot
from oomtui.snapshot import from_dict, to_dict
from oomtui.synthetic import large_host
from oomtui.tui.app import OomApp
from oomtui.tui.feeds import LiveFeed

P99_MS = 100.0


class ParsingCollector:
    """A sample per call, parsed from JSON as a collection costs; `churn` processes get new pids each time."""

    def __init__(self, host: Snapshot, churn: int) -> None:
        self.data = to_dict(host)
        self.churn = churn
        self.calls = 0
        self.next_pid = 4_000_000

    def collect(self) -> Snapshot:
        self.calls += 1
        data = dict(self.data)  # rebuilt in Python, as a collector's parsing is: the GIL changes hands
        procs = data["processes"] = [dict(p) for p in self.data["processes"]]
        for i in range(min(self.churn, len(procs))):
            j = (self.calls * self.churn + i) % len(procs)
            self.next_pid += 1
            procs[j]["pid"] = self.next_pid
            procs[j]["start_time"] = time.time()
        data["taken_at"] = time.time()
        data["source"] = "live"  # what it stands in for: the TUI treats its samples as a live host's
        return from_dict(data)


class FullCollections:
    """CPU time of each full pass of the cycle collector, in whichever thread ran it, from `watch` on
    (after the first paint: the passes of starting up are not those of a refresh); the young
    generations' passes are summed."""

    def __init__(self) -> None:
        self.ms: list[float] = []
        self.young = [0, 0.0]  # passes, ms
        self.started = 0.0

    def watch(self) -> None:
        gc.callbacks.append(self.observe)

    def observe(self, phase: str, info: dict) -> None:
        if phase == "start":
            self.started = time.thread_time()
            return
        ms = (time.thread_time() - self.started) * 1000
        if info["generation"] == 2:
            self.ms.append(ms)
        else:
            self.young[0] += 1
            self.young[1] += ms

    def words(self) -> str:
        young = f"; young passes: {self.young[0]}, {self.young[1]:.0f} ms CPU"
        if not self.ms:
            return "full collections: none" + young
        return (f"full collections: {len(self.ms)}, {sum(self.ms):.0f} ms CPU in all, the worst {max(self.ms):.0f} ms"
                + young)


def load() -> str:
    return f"load average: {' '.join(f'{v:.2f}' for v in os.getloadavg())} on {os.cpu_count()} cores"


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


async def idle(app: OomApp, seconds: float, size: tuple[int, int],
               collections: FullCollections) -> tuple[float, float]:
    """CPU and wall seconds of the process left alone while it refreshes."""
    async with app.run_test(size=size) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        collections.watch()
        cpu0, wall0 = time.process_time(), time.monotonic()
        await asyncio.sleep(seconds)
        return time.process_time() - cpu0, time.monotonic() - wall0


async def measure(app: OomApp, seconds: float, size: tuple[int, int],
                  collections: FullCollections) -> tuple[list[float], list[float], float, float]:
    """Wall latencies and the UI thread's CPU time per key (ms), then the process's CPU and wall seconds."""
    latencies: list[float] = []
    ui_cpu: list[float] = []
    async with app.run_test(size=size) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        tree = app.main.memory_tree
        tree.focus()
        await pilot.pause()
        collections.watch()
        cpu0, wall0 = time.process_time(), time.monotonic()
        direction = 1
        while time.monotonic() - wall0 < seconds:
            await asyncio.sleep(random.uniform(0.02, 0.12))
            before = tree.cursor
            if before >= len(tree.lines) - 1:
                direction = -1
            elif before == 0:
                direction = 1
            key = "down" if direction > 0 else "up"
            start, start_cpu = time.perf_counter(), time.thread_time()
            app.post_message(events.Key(key, None))
            while tree.cursor == before:
                await asyncio.sleep(0.0005)
            painted = asyncio.Event()
            app.call_after_refresh(painted.set)
            await painted.wait()
            latencies.append((time.perf_counter() - start) * 1000)
            ui_cpu.append((time.thread_time() - start_cpu) * 1000)
        cpu, wall = time.process_time() - cpu0, time.monotonic() - wall0
    return latencies, ui_cpu, cpu, wall


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--processes", type=int, default=10_000)
    parser.add_argument("--interval", type=float, default=2.0)
    parser.add_argument("--churn", type=int, default=60, help="processes replaced by new pids per sample")
    parser.add_argument("--size", default="160x48")
    parser.add_argument("--idle", action="store_true", help="type nothing: the CPU of the refreshes alone")
    args = parser.parse_args()
    size = tuple(int(v) for v in args.size.split("x"))
    print(load())
    host = large_host(args.processes, cgroups=max(10, args.processes // 5))
    collector = ParsingCollector(host, args.churn)
    t = time.process_time()
    collector.collect()
    sample_cpu = time.process_time() - t
    print(f"one sample costs {1000 * sample_cpu:.0f} ms CPU to make (the collector's stand-in)")
    app = OomApp(LiveFeed(collector, collector.collect()), None, interval=args.interval)
    collections = FullCollections()
    if args.idle:
        cpu, wall = asyncio.run(idle(app, args.seconds, size, collections))  # type: ignore[arg-type]
        n = collector.calls - 2
        print(f"idle: {100 * cpu / wall:.1f} % of one core over {wall:.0f} s, {n} refreshes "
              f"(of which making the samples: {100 * sample_cpu * n / wall:.1f} %)")
        if n:  # per refresh: comparable when a loaded machine skips refreshes
            print(f"per refresh: {1000 * cpu / n:.0f} ms CPU, of which the app's own (evaluating, painting, "
                  f"freeing) {1000 * (cpu / n - sample_cpu):.0f} ms")
        print(collections.words())
        print(load())
        return 0
    latencies, ui_cpu, cpu, wall = asyncio.run(measure(app, args.seconds, size, collections))  # type: ignore[arg-type]
    p99 = percentile(latencies, 99)
    print(f"{len(latencies)} keys over {wall:.0f} s, {collector.calls - 2} refreshes")
    print(f"key to screen: p50 {statistics.median(latencies):.1f} ms, p90 {percentile(latencies, 90):.1f} ms, "
          f"p99 {p99:.1f} ms, worst {max(latencies):.1f} ms (budget p99 < {P99_MS:.0f} ms)")
    print(f"UI thread's CPU per key (what a quiet machine would wait): p50 {statistics.median(ui_cpu):.1f} ms, "
          f"p99 {percentile(ui_cpu, 99):.1f} ms, worst {max(ui_cpu):.1f} ms")
    print(f"CPU: {100 * cpu / wall:.1f} % of one core while typing and refreshing")
    print(collections.words())
    print(load())
    return 0 if p99 < P99_MS else 1


if __name__ == "__main__":
    raise SystemExit(main())
