#!/usr/bin/env python3
"""Regenerate the synthetic sample snapshots in snapshots/, or write a large host on demand.

    scripts/gen_samples.py                 # rewrite snapshots/*.json.gz (deterministic)
    scripts/gen_samples.py --check         # exit 1 if a committed sample differs from the generator
    scripts/gen_samples.py --large OUT     # 10,000 processes in 2,000 cgroups (not committed)

The hosts themselves live in oomtui/synthetic/ so tests and benches import them.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from oomtui.snapshot import dumps, load, save
from oomtui.synthetic import SAMPLES, large_host

SNAPSHOTS = Path(__file__).resolve().parent.parent / "snapshots"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=SNAPSHOTS, help="directory for the samples")
    parser.add_argument("--check", action="store_true", help="compare instead of writing")
    parser.add_argument("--large", type=Path, metavar="OUT", help="write the large host to OUT (.gz compresses)")
    parser.add_argument("--processes", type=int, default=10000)
    parser.add_argument("--cgroups", type=int, default=2000)
    args = parser.parse_args(argv)
    if args.large:
        save(large_host(args.processes, args.cgroups), args.large)
        print(f"wrote {args.large}: {args.processes} processes in {args.cgroups} cgroups")
        return 0
    stale = []
    for name, make in SAMPLES.items():
        path = args.out / name
        snapshot = make()
        if args.check:
            if not path.exists() or dumps(load(path)) != dumps(snapshot):
                stale.append(name)
            continue
        save(snapshot, path)
        print(f"wrote {path}: {len(snapshot.processes)} processes in {len(snapshot.cgroups)} cgroups")
    if stale:
        print(f"out of date: {', '.join(stale)} (run scripts/gen_samples.py)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
