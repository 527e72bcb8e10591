"""How long loading and saving the large host's snapshot takes (the issue asks for a load under 0.5 s).

Builds the synthetic large host (10,000 processes in 2,000 cgroups by
default), saves it as .json and .json.gz in a temporary folder, then loads
each ROUNDS times and prints the median and best wall time, the CPU time,
and where a load spends it: reading and gunzipping, parsing JSON, and
checking fields and building the snapshot with its tree index.

    .venv/bin/python bench/bench_load.py [--processes 10000] [--cgroups 2000] [--rounds 7]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from oomtui.snapshot import from_dict, load, parse_json, read_bounded, save
from oomtui.synthetic import large_host

LIMIT = 0.5


def timed(fn: Callable[[], object], rounds: int) -> tuple[float, float, float]:
    """(median wall, best wall, median CPU) seconds over `rounds` calls."""
    wall, cpu = [], []
    for _ in range(rounds):
        w, c = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - w)
        cpu.append(time.process_time() - c)
    return statistics.median(wall), min(wall), statistics.median(cpu)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--processes", type=int, default=10000)
    parser.add_argument("--cgroups", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    start = time.perf_counter()
    snap = large_host(args.processes, args.cgroups)
    print(f"built the large host in {time.perf_counter() - start:.2f} s: "
          f"{len(snap.processes)} processes in {len(snap.cgroups)} cgroups")
    slow = False
    with tempfile.TemporaryDirectory() as tmp:
        for suffix in (".json", ".json.gz"):
            path = Path(tmp) / f"large{suffix}"
            med, best, cpu = timed(lambda p=path: save(snap, p), args.rounds)
            print(f"save {suffix:8} {path.stat().st_size / 1e6:6.1f} MB   median {med:.3f} s  best {best:.3f} s  "
                  f"cpu {cpu:.3f} s")
            med, best, cpu = timed(lambda p=path: load(p), args.rounds)
            verdict = "ok" if best < LIMIT else "TOO SLOW"
            slow = slow or best >= LIMIT
            print(f"load {suffix:8}             median {med:.3f} s  best {best:.3f} s  cpu {cpu:.3f} s  "
                  f"(limit {LIMIT} s: {verdict})")
            raw = read_bounded(path)
            data = parse_json(raw, str(path))
            phases = [
                ("read+gunzip", lambda p=path: read_bounded(p)),
                ("parse JSON", lambda r=raw, p=path: parse_json(r, str(p))),
                ("check+build", lambda d=data: from_dict(d)),
            ]
            print("     phases:  " + "  ".join(f"{name} {timed(fn, args.rounds)[1]:.3f} s" for name, fn in phases))
    return 1 if slow else 0


if __name__ == "__main__":
    sys.exit(main())
