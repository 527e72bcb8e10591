"""How long importing a large kernel OOM report takes (the target: a 2,000-task report under 0.5 s).

Builds a report with TASKS rows in the 6.8+ column layout and in the pre-6.8
layout, each raw (dmesg) and wrapped as syslog lines, and times
parse_report (unwrap, split, parse) and find_reports, best of ROUNDS; then
times the replay of every policy on the result, which the summary runs too.

    .venv/bin/python bench/bench_import.py [--tasks 2000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from oomtui.oomlog import find_reports, parse_report
from oomtui.replay import replay

HEAD = """python3 invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=0
CPU: 1 UID: 0 PID: {victim} Comm: python3 Not tainted 6.12.0-bench #1
memory: usage 8388608kB, limit 8388608kB, failcnt 12
swap: usage 0kB, limit 0kB, failcnt 0
Memory cgroup stats for /bench.slice:
anon 8500000000
file 1000000
Tasks state (memory values in pages):"""
TAIL = """oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=/,mems_allowed=0,oom_memcg=/bench.slice,\
task_memcg=/bench.slice/w.scope,task=python3,pid={victim},uid=1000
Memory cgroup out of memory: Killed process {victim} (python3) total-vm:9000000kB, anon-rss:4000000kB, \
file-rss:0kB, shmem-rss:0kB, UID:1000 pgtables:8000kB oom_score_adj:0"""


def report(tasks: int, split: bool, prefix: str) -> str:
    victim = 10000 + tasks - 1
    if split:
        header = "[  pid  ]   uid  tgid total_vm      rss rss_anon rss_file rss_shmem pgtables_bytes swapents " \
                 "oom_score_adj name"
    else:
        header = "[  pid  ]   uid  tgid total_vm      rss pgtables_bytes swapents oom_score_adj name"
    rows = []
    for i in range(tasks):
        pid, rss = 10000 + i, 1000 + i * 7 if i < tasks - 1 else 1_000_000
        cols = f"{rss:8d} {rss - 10:8d} {10:8d} {0:9d}" if split else f"{rss:8d}"
        rows.append(f"[{pid:7d}]  1000 {pid:5d} {rss * 3:8d} {cols} {65536:8d} {0:8d}         {0:5d} worker-{i}")
    lines = [*HEAD.format(victim=victim).splitlines(), header, *rows, *TAIL.format(victim=victim).splitlines()]
    return "\n".join(f"{prefix.format(n=n)}{line}" for n, line in enumerate(lines)) + "\n"


def best(fn, rounds: int) -> float:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tasks", type=int, default=2000)
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    print(f"{args.tasks}-task report, best of {args.rounds}:")
    worst = 0.0
    wrappers = (("dmesg", "[ 5000.{n:06d}] "), ("syslog", "Nov 25 22:41:12 host kernel: [ 5000.{n:06d}] "))
    for split in (True, False):
        for name, prefix in wrappers:
            text = report(args.tasks, split, prefix)
            layout = "6.8+ columns" if split else "pre-6.8 columns"
            parse_s = best(lambda text=text: parse_report(text), args.rounds)
            list_s = best(lambda text=text: find_reports(text), args.rounds)
            worst = max(worst, parse_s)
            print(f"  {layout:16} {name:7} {len(text) / 1e6:5.2f} MB  import {parse_s * 1000:6.1f} ms"
                  f"  --list {list_s * 1000:6.1f} ms")
    snap = parse_report(report(args.tasks, True, "")).snapshot
    assert len(snap.processes) == args.tasks and snap.oom_event.killed_pid == 10000 + args.tasks - 1
    replay_s = best(lambda: replay(snap), args.rounds)
    print(f"  replay of every policy: {replay_s * 1000:6.1f} ms")
    print(f"slowest import {worst * 1000:.1f} ms: {'within' if worst < 0.5 else 'OVER'} the 500 ms target")
    return 0


if __name__ == "__main__":
    sys.exit(main())
