"""How long loading and saving a large host's snapshot takes, against a bare `json.load` of the same file.

Builds the synthetic large host (10,000 processes in 2,000 cgroups by
default), saves it as .json and .json.gz in a temporary folder, then for
each: the CPU time of `json.load` of the same bytes (no checks at all), of
our `load` (read, gunzip, count, typed decode, checks, model), its ratio to
`json.load` (issue 15 asks for at most 1.3), and the peak resident memory
of a fresh process that only loads the file. CPU times, not walls: the
machine may be shared.

    .venv/bin/python bench/bench_load.py [--processes 10000] [--cgroups 2000] [--rounds 7]
"""

from __future__ import annotations

import argparse
import gzip
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from oomtui.snapshot import dumps, load, save, to_dict  # noqa: E402
from oomtui.synthetic import large_host  # noqa: E402

RATIO = 1.3
# VmHWM, not ru_maxrss: that one keeps the high-water mark of the forked copy of this process across exec
HWM = "print(next(line.split()[1] for line in open('/proc/self/status') if line.startswith('VmHWM')))"
PEAK = f"import sys\nfrom oomtui.snapshot import load\nload(sys.argv[1])\n{HWM}"
BASE = f"import oomtui.snapshot\n{HWM}"


def cpu(*fns: Callable[[], object], rounds: int) -> list[float]:
    """Median CPU seconds of each of `fns` over `rounds` calls, taken in turns so a busy spell hits all alike."""
    times: list[list[float]] = [[] for _ in fns]
    for _ in range(rounds):
        for fn, spent in zip(fns, times, strict=True):
            c = time.process_time()
            fn()
            spent.append(time.process_time() - c)
    return [statistics.median(t) for t in times]


def peak_mib(code: str, *argv: str) -> float:
    """Peak resident MiB of a fresh interpreter running `code`."""
    out = subprocess.run([sys.executable, "-c", code, *argv], cwd=ROOT, capture_output=True, text=True, check=True)
    return int(out.stdout) / 1024


def json_load(path: Path) -> object:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        return json.load(f)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--processes", type=int, default=10000)
    parser.add_argument("--cgroups", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    snap = large_host(args.processes, args.cgroups)
    print(f"{len(snap.processes)} processes in {len(snap.cgroups)} cgroups; "
          f"interpreter with oomtui.snapshot imported: {peak_mib(BASE):.0f} MiB resident")
    encode, bare_encode = cpu(lambda: dumps(snap), lambda: json.dumps(to_dict(snap)), rounds=args.rounds)
    print(f"encode: dumps {encode * 1000:.0f} ms CPU, json.dumps of the same dict {bare_encode * 1000:.0f} ms")
    slow = False
    with tempfile.TemporaryDirectory() as tmp:
        for suffix in (".json", ".json.gz"):
            path = Path(tmp) / f"large{suffix}"
            save(snap, path)
            bare, ours = cpu(lambda p=path: json_load(p), lambda p=path: load(p), rounds=args.rounds)
            slow = slow or ours > RATIO * bare
            print(f"{suffix:8} {path.stat().st_size / 1e6:5.1f} MB  json.load {bare * 1000:4.0f} ms  "
                  f"load {ours * 1000:4.0f} ms CPU  ratio {ours / bare:.2f} (goal ≤ {RATIO})  "
                  f"peak {peak_mib(PEAK, str(path)):.0f} MiB resident")
    return 1 if slow else 0


if __name__ == "__main__":
    sys.exit(main())
