"""How long a live collection takes next to `ps`, with thousands of extra processes.

Spawns PROCS `sleep` processes spread over CGROUPS memory cgroups below our
own memory cgroup (a small Python parent forks and execs them; they die with it),
then times `ps -eo pid,ppid,rss,vsz,uid,comm,args`, a cold collection (a new
Collector, whose helper process reads /proc from the other end), the same without
the helper (to show what it buys), and a warm one (the same Collector again,
as a recorder samples), interleaved, and prints the medians of wall and CPU
time (user + system; for `ps` its own, for a collection ours and the
helper's) and this process's peak RSS. On a shared machine the wall times
swing with the neighbours' load (here also the kernel's kdamond thread), so
compare the ratios to `ps` and the CPU times, both taken in the same rounds.
Everything it creates is removed at the end. Needs root and a writable
memory cgroup.

    .venv/bin/python bench/bench_collect.py [--procs 5000] [--cgroups 200] [--rounds 7]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from oomtui.collect import Collector
from tests.support.cgroups import test_cgroup, why_no_memcg

PS = ["ps", "-eo", "pid,ppid,rss,vsz,uid,comm,args"]

# Reads cgroup directories from stdin's first line, moves itself into each in
# turn and forks its share of children there. Each child becomes `sleep`, an
# ordinary small process with a short command line (a forked Python child
# would carry this whole script as its cmdline, which slows `ps` unfairly);
# they die with the spawner (PR_SET_PDEATHSIG), which lives until stdin closes.
_SPAWNER = r"""
import ctypes, os, signal, sys
dirs, per = sys.stdin.readline().rstrip("\n").split("\t"), int(sys.argv[1])
libc = ctypes.CDLL(None, use_errno=True)
sleep = "/bin/sleep" if os.path.exists("/bin/sleep") else "/usr/bin/sleep"
for d in dirs:
    with open(os.path.join(d, "cgroup.procs"), "w") as f:
        f.write(str(os.getpid()))
    for _ in range(per):
        if os.fork() == 0:
            libc.prctl(1, signal.SIGKILL)
            os.execv(sleep, ["sleep", "3600"])
print("ready", flush=True)
sys.stdin.read()
"""


def spawn(dirs: list[Path], per: int) -> subprocess.Popen:
    p = subprocess.Popen(
        [sys.executable, "-S", "-c", _SPAWNER, str(per)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    assert p.stdin is not None and p.stdout is not None
    p.stdin.write("\t".join(map(str, dirs)) + "\n")
    p.stdin.flush()
    if p.stdout.readline().strip() != "ready":
        raise SystemExit("spawner failed")
    return p


def timed(fn) -> tuple[float, float]:
    """Wall and CPU seconds of fn(), the CPU of this process and of the children it waited for."""
    def cpu() -> float:
        me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime

    start, start_cpu = time.perf_counter(), cpu()
    fn()
    return time.perf_counter() - start, cpu() - start_cpu


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--procs", type=int, default=5000)
    ap.add_argument("--cgroups", type=int, default=200)
    ap.add_argument("--rounds", type=int, default=7)
    args = ap.parse_args()
    reason = why_no_memcg()
    if reason:
        print(f"bench_collect: cannot run: {reason}", file=sys.stderr)
        return 1
    with test_cgroup("oomtui-bench") as top:
        dirs = [top.child(f"g{i:03d}").dir for i in range(args.cgroups)]
        start = time.perf_counter()
        spawner = spawn(dirs, args.procs // args.cgroups)
        print(f"spawned {args.procs} processes in {args.cgroups} cgroups in {time.perf_counter() - start:.1f} s")
        try:
            warm = Collector()
            warm.collect()
            ps, cold, alone, hot = [], [], [], []
            for _ in range(args.rounds):
                ps.append(timed(lambda: subprocess.run(PS, stdout=subprocess.PIPE, check=True)))
                cold.append(timed(lambda: Collector().collect()))
                alone.append(timed(lambda: Collector(helper_above=None).collect()))
                hot.append(timed(warm.collect))
            snap = warm.collect()
        finally:
            assert spawner.stdin is not None
            spawner.stdin.close()
            spawner.wait()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    (ps_s, ps_c), *rows = (
        (statistics.median(w for w, _ in x), statistics.median(c for _, c in x)) for x in (ps, cold, alone, hot)
    )
    print(f"host: {len(snap.processes)} processes, {len(snap.cgroups)} memory cgroups, {os.cpu_count()} cpus")
    print(f"{'medians of ' + str(args.rounds) + ':':30}wall{'cpu':>23}")
    print(f"{'ps -eo ...:':26}{ps_s * 1000:7.1f} ms           {ps_c * 1000:7.1f} ms")
    for name, (wall, cpu) in zip(("cold", "cold, no helper", "warm"), rows, strict=True):
        print(f"{'collect, ' + name + ':':26}{wall * 1000:7.1f} ms = {wall / ps_s:.2f} x ps  "
              f"{cpu * 1000:7.1f} ms = {cpu / ps_c:.2f} x ps")
    print(f"{'peak RSS:':26}{peak:7.1f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
