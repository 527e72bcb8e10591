"""What recording costs: CPU of one core while `oomtui record` samples a host with thousands of processes.

Spawns PROCS sleeping processes spread over CGROUPS memory cgroups below our
own memory cgroup (bench_collect's spawner), runs the recorder in this
process for DURATION seconds at INTERVAL (one Collector, as `oomtui record`
does: it keeps identities between samples), and reads getrusage before and
after. The target: at most 10 % of one core at a 5 s interval with 5,000
processes. Needs root and a writable memory cgroup.

    .venv/bin/python bench/bench_record.py [--procs 5000] [--cgroups 50] [--interval 5] [--duration 180]
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_collect import spawn

from oomtui.record import Recorder, Recording
from tests.support.cgroups import test_cgroup, why_no_memcg


def cpu_seconds() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--procs", type=int, default=5000)
    ap.add_argument("--cgroups", type=int, default=50)
    ap.add_argument("--interval", type=float, default=5.0)
    ap.add_argument("--duration", type=float, default=180.0, help="seconds to record (a few minutes by default)")
    args = ap.parse_args()
    reason = why_no_memcg()
    if reason:
        print(f"bench_record: cannot run: {reason}", file=sys.stderr)
        return 1
    with test_cgroup("oomtui-bench") as top, tempfile.TemporaryDirectory(prefix="oomtui-record-") as out:
        dirs = [top.child(f"g{i:03d}").dir for i in range(args.cgroups)]
        spawner = spawn(dirs, args.procs // args.cgroups)
        try:
            notes: list[str] = []
            recorder = Recorder(out, interval=args.interval, keep=args.duration * 2, note=notes.append)
            cpu0, wall0 = cpu_seconds(), time.monotonic()
            recorder.run(duration=args.duration)
            cpu, wall = cpu_seconds() - cpu0, time.monotonic() - wall0
            rec = Recording(out)
            sizes = [s.path.stat().st_size for s in rec.samples]
            procs = len(rec.load_sample(-1).processes)
        finally:
            assert spawner.stdin is not None
            spawner.stdin.close()
            spawner.wait()
    share = cpu / wall * 100
    print(f"host: {procs} processes; recorded {wall:.0f} s at a {args.interval:g} s interval: {len(sizes)} samples")
    print(f"cpu: {cpu:.2f} s = {share:.1f} % of one core ({cpu / max(len(sizes), 1) * 1000:.0f} ms per sample)")
    print(f"sample size: {sum(sizes) / max(len(sizes), 1) / 1024:.0f} KiB compressed on average")
    for note in notes:
        print(f"note: {note}")
    print(f"{'within' if share <= 10 else 'OVER'} the 10 % target")
    return 0


if __name__ == "__main__":
    sys.exit(main())
