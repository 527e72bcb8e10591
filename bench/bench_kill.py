"""How long a cgroup kill takes to empty a cgroup, by method, with forking members.

Fills a fresh cgroup with PROCS sleeping processes (plus FORKERS processes
that fork a child every 20 ms), plans the kill as the TUI does, and times
HostActor.kill until the cgroup is empty: on the v1 memory hierarchy
(signalled pass after pass), and on the cgroup2 mount with cgroup.kill and
with a spared member (frozen, then one by one). Prints the median of ROUNDS
per method. Needs root; cgroups are made below our own and removed.

    .venv/bin/python bench/bench_kill.py [--procs 500] [--forkers 4] [--rounds 3]
"""

from __future__ import annotations

import argparse
import contextlib
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from oomtui.act import HostActor, KillPlan, Target
from oomtui.act.procfs import facts
from oomtui.collect.layout import CgroupLayout, detect_layout
from tests.support.cgroups import test_cgroup, v2_test_cgroup, why_no_memcg

SLEEPERS = 'echo $$ > "$1/cgroup.procs"; for i in $(seq "$2"); do sleep 600 & done; echo ready; wait'
FORKER = 'echo $$ > "$1/cgroup.procs"; echo ready; while :; do sleep 600 & sleep 0.02; done'


def _start(script: str, d: Path, n: int = 0) -> subprocess.Popen:
    p = subprocess.Popen(["sh", "-c", script, "sh", str(d), str(n)], stdout=subprocess.PIPE)
    assert p.stdout is not None and p.stdout.readline().strip() == b"ready"
    return p


def _round(layout: CgroupLayout, path: str, d: Path, procs: int, forkers: int, spare: bool) -> tuple[float, str, int]:
    shells = [_start(SLEEPERS, d, procs)] + [_start(FORKER, d) for _ in range(forkers)]
    spared: tuple = ()
    if spare:
        keeper = shells[0].pid
        f = facts(keeper)
        spared = ((Target(keeper, f.start_time, f.comm, path, 0, -1000), "spared: bench"),)
    plan = KillPlan(f"kill cgroup {path}", signal.SIGKILL, cgroups=(path,), spared=spared)
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        report = HostActor(Path(tmp) / "audit.jsonl", layout).kill(plan)
        elapsed = time.perf_counter() - t0
    for s in shells:
        s.kill()
        s.wait()
    return elapsed, report.method, sum(o.ok for o in report.outcomes)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--procs", type=int, default=500)
    ap.add_argument("--forkers", type=int, default=4)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    reason = why_no_memcg()
    if reason:
        print(f"bench_kill: {reason}", file=sys.stderr)
        return 1
    layout = detect_layout()
    cases = []
    with test_cgroup("oomtui-bench") as cg:
        cases.append(("v1 memory cgroup", layout, cg.path, cg.dir, False))
        with contextlib.ExitStack() as stack:
            if layout.v2_root is not None:
                v2 = CgroupLayout("v2", layout.v2_root, layout.v2_root, None)
                for spare in (False, True):
                    path, d = stack.enter_context(v2_test_cgroup(layout.v2_root, "oomtui-bench"))
                    cases.append((f"cgroup2{' with a spared member' if spare else ''}", v2, path, d, spare))
            print(f"{args.procs} sleepers + {args.forkers} forkers per kill, median of {args.rounds} rounds")
            for label, lay, path, d, spare in cases:
                runs = [_round(lay, path, d, args.procs, args.forkers, spare) for _ in range(args.rounds)]
                median = statistics.median(r[0] for r in runs)
                killed = statistics.median(r[2] for r in runs)
                print(f"  {label:32} {median * 1000:8.1f} ms  {killed:6.0f} killed  ({runs[0][1]})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
