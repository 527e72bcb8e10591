"""Memory of the live TUI under process churn: it must stay flat (growth at most 20 MB).

A headless app refreshes a host of --processes processes in which --per-minute
short-lived processes (new pids, new start times) come and go, as a build
server or a cron-heavy host does; cgroups churn too (one in fifty samples
brings a new one). The resident size is read after a warm-up (a minute, or
a quarter of a short run) and then every second; the exit status is 1 when the end is more than 20 MB above the
warm-up. The default is a short run (2 minutes at a 1 s refresh); --minutes 30
--interval 2 is the long soak.

To tell a leak from the allocator keeping what it once needed, the live
Python objects and pymalloc blocks are counted at the warm-up and at the
end with the refresh paused and no work in flight: a leak grows them, a
warm-up does not. The resident size is also printed every five minutes.

    .venv/bin/python bench/bench_tui_soak.py [--minutes 2] [--interval 1] [--processes 10000]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_tui_latency import ParsingCollector

from oomtui.model import Snapshot
from oomtui.synthetic import large_host
from oomtui.tui.app import OomApp
from oomtui.tui.feeds import LiveFeed

GROWTH_MB = 20.0
WARMUP_S = 60.0  # the allocator and the caches fill up in the first minute


def resident_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


class ChurningCollector(ParsingCollector):
    """New pids every sample, and now and then a cgroup that was not there before."""

    def collect(self) -> Snapshot:
        snap = super().collect()
        if self.calls % 50 == 0:
            extra = snap.cgroups[-1]
            renamed = type(extra)(**{**{f: getattr(extra, f) for f in extra.__dataclass_fields__},
                                     "path": f"{extra.path}-{self.calls}"})
            snap = snap.replace(cgroups=(*snap.cgroups, renamed))
        return snap


async def census(app: OomApp) -> tuple[int, int]:
    """Live objects and pymalloc blocks, with the refresh paused and no sample or evaluation in flight."""
    screen = app.main
    screen.paused = True
    await asyncio.sleep(1)
    await app.workers.wait_for_complete()
    gc.collect()
    counts = len(gc.get_objects()) + gc.get_freeze_count(), sys.getallocatedblocks()  # frozen ones too
    screen.paused = False
    return counts


async def soak(app: OomApp, seconds: float) -> tuple[float, float, float, tuple[int, int], tuple[int, int]]:
    async with app.run_test(size=(160, 48)) as pilot:
        start = time.monotonic()
        while time.monotonic() - start < min(WARMUP_S, seconds / 4):
            await asyncio.sleep(1)
        warm = await census(app)
        first = peak = resident_mb()
        mark = time.monotonic()
        while time.monotonic() - start < seconds:
            await asyncio.sleep(1)
            peak = max(peak, resident_mb())
            if time.monotonic() - mark >= 300:
                mark = time.monotonic()
                print(f"  {(mark - start) / 60:4.1f} min: {resident_mb():.0f} MB", flush=True)
        end = await census(app)
        await pilot.pause()
        return first, peak, resident_mb(), warm, end


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=2.0)
    parser.add_argument("--interval", type=float, default=1.0)
    parser.add_argument("--processes", type=int, default=10_000)
    parser.add_argument("--per-minute", type=int, default=2_000, help="short-lived processes a minute")
    args = parser.parse_args()
    print(f"load average: {' '.join(f'{v:.2f}' for v in os.getloadavg())} on {os.cpu_count()} cores")
    churn = max(1, round(args.per_minute * args.interval / 60))
    collector = ChurningCollector(large_host(args.processes, cgroups=max(10, args.processes // 5)), churn)
    app = OomApp(LiveFeed(collector, collector.collect()), None, interval=args.interval)
    first, peak, last, warm, end = asyncio.run(soak(app, args.minutes * 60))
    print(f"{collector.calls - 1} samples, {churn} new pids each ({args.per_minute} a minute), "
          f"{args.minutes:g} min at {args.interval:g} s")
    print(f"live objects {warm[0]:,} after the warm-up, {end[0]:,} at the end; "
          f"pymalloc blocks {warm[1]:,}, {end[1]:,}")
    print(f"resident: {first:.0f} MB after the warm-up, peak {peak:.0f} MB, end {last:.0f} MB: "
          f"{last - first:+.1f} MB (budget +{GROWTH_MB:.0f} MB)")
    return 0 if last - first <= GROWTH_MB else 1


if __name__ == "__main__":
    raise SystemExit(main())
