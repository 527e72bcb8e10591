"""How much a live collection costs next to `ps` and next to the least any reader can do.

Spawns `sleep` processes spread over CGROUPS memory cgroups below our own
memory cgroup (a small Python parent forks and execs them; they die with
it; on a hybrid host each group also gets a cgroup of its own on the
unified mount, as systemd gives every unit, which is where oomtui sees
that they stand still), up to each size in PROCS in turn, and at each size times, interleaved
in every round: `ps -eo pid,ppid,rss,comm,args`; the floor (a Python loop
reading /proc/PID/status once per process: the least that yields each
process's RSS split and swap); a cold collection (a new Collector, the first
sample a TUI or recorder takes); a warm one (the same Collector again,
as they sample from then on); and a `snapshot stream` line: that warm
sample plus its encoding by `snapshot.dumps`, as the stream sends it (one
collector, as in the stream: a second one in this process would share
the open-files budget with the first).
It prints the medians of CPU time (user +
system; for `ps` its own) and of wall time, the CPU ratios to `ps` and to
the floor, and this process's peak RSS. On a shared machine the wall times
swing with the neighbours' load, so compare CPU times and the ratios, both
taken in the same rounds. Everything it creates is removed at the end.
Needs root and a writable memory cgroup.

    .venv/bin/python bench/bench_collect.py [--procs 10000 20000] [--cgroups 200] [--rounds 5]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from oomtui.collect import Collector
from oomtui.collect.files import read_file
from oomtui.collect.layout import detect_layout
from oomtui.model import Snapshot
from oomtui.snapshot import dumps
from tests.support.cgroups import rmdir_patiently, test_cgroup, v2_test_cgroup, why_no_memcg

PS = ["ps", "-eo", "pid,ppid,rss,comm,args"]

# Reads cgroup directories from stdin's first line, moves itself into each in
# turn and forks its share of children there. Each child becomes `sleep`, an
# ordinary small process with a short command line (a forked Python child
# would carry this whole script as its cmdline, which slows `ps` unfairly);
# they die with the spawner (PR_SET_PDEATHSIG), which lives until stdin closes.
_SPAWNER = r"""
import ctypes, os, signal, sys
groups, per = sys.stdin.readline().rstrip("\n").split("\t"), int(sys.argv[1])
libc = ctypes.CDLL(None, use_errno=True)
sleep = "/bin/sleep" if os.path.exists("/bin/sleep") else "/usr/bin/sleep"
for group in groups:
    for d in group.split("|"):
        with open(os.path.join(d, "cgroup.procs"), "w") as f:
            f.write(str(os.getpid()))
    for _ in range(per):
        if os.fork() == 0:
            libc.prctl(1, signal.SIGKILL)
            os.execv(sleep, ["sleep", "3600"])
print("ready", flush=True)
sys.stdin.read()
"""


@contextlib.contextmanager
def sleeper_cgroups(prefix: str, count: int) -> Iterator[list[str]]:
    """`count` memory cgroups below our own, each (on a hybrid host) with a twin below our own cgroup on the
    unified mount, as systemd gives every unit one in both; one "dir|twin" entry per group for `spawn`."""
    layout = detect_layout()
    with test_cgroup(prefix) as memory, contextlib.ExitStack() as stack:
        dirs = [str(memory.child(f"g{i:03d}").dir) for i in range(count)]
        if layout.mode == "hybrid" and layout.v2_root is not None:
            _, unified = stack.enter_context(v2_test_cgroup(layout.v2_root, prefix))
            twins = [unified / f"g{i:03d}" for i in range(count)]
            for twin in twins:
                twin.mkdir()
                stack.callback(rmdir_patiently, twin)  # emptied by the time the stack unwinds: the sleepers are gone
            dirs = [f"{d}|{t}" for d, t in zip(dirs, twins, strict=True)]
        yield dirs


def spawn(groups: Sequence[str | Path], per: int) -> subprocess.Popen:
    """`per` sleepers in each group of cgroup directories ("a|b": in both a and b)."""
    p = subprocess.Popen(
        [sys.executable, "-S", "-c", _SPAWNER, str(per)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    assert p.stdin is not None and p.stdout is not None
    p.stdin.write("\t".join(map(str, groups)) + "\n")
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


def floor() -> None:
    """One read of /proc/PID/status per process, nothing parsed."""
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                read_file(f"/proc/{name}/status")
            except OSError:
                continue


def measure(sizes: list[int], cgroups: int, rounds: int, report: Callable[[dict[str, float]], None]) -> None:
    """Spawn up to each size in turn and `report` its medians (ms, and the counts seen)."""
    with sleeper_cgroups("oomtui-bench", cgroups) as dirs:
        spawners: list[subprocess.Popen] = []
        try:
            have = 0
            for size in sorted(sizes):
                start = time.perf_counter()
                spawners.append(spawn(dirs, max(size - have, 0) // cgroups))
                have = size
                print(f"spawned up to {size} processes in {cgroups} cgroups ({time.perf_counter() - start:.0f} s)")
                warm = Collector()
                warm.collect()
                runs: dict[str, list[tuple[float, float]]] = {k: [] for k in ("ps", "floor", "cold", "warm", "stream")}
                sampled: list[Snapshot] = []
                for _ in range(rounds):
                    runs["ps"].append(timed(lambda: subprocess.run(PS, stdout=subprocess.PIPE, check=True)))
                    runs["floor"].append(timed(floor))
                    runs["cold"].append(timed(lambda: Collector().collect()))
                    runs["warm"].append(timed(lambda c=warm, out=sampled: out.append(c.collect())))
                    encoded = timed(lambda out=sampled: dumps(out.pop()))
                    runs["stream"].append((runs["warm"][-1][0] + encoded[0], runs["warm"][-1][1] + encoded[1]))
                snap = warm.collect()
                row: dict[str, float] = {"size": size, "processes": len(snap.processes), "cgroups": len(snap.cgroups)}
                for name, times in runs.items():
                    row[f"{name}_wall"] = statistics.median(w for w, _ in times) * 1000
                    row[f"{name}_cpu"] = statistics.median(c for _, c in times) * 1000
                report(row)
        finally:
            for spawner in spawners:
                assert spawner.stdin is not None
                spawner.stdin.close()  # the spawner exits, and its children with it (PR_SET_PDEATHSIG)
                spawner.wait()


def print_row(row: dict[str, float]) -> None:
    print(f"host: {row['processes']:.0f} processes, {row['cgroups']:.0f} memory cgroups, {os.cpu_count()} cpus, "
          f"load average {os.getloadavg()[0]:.1f}")
    ps_cpu, floor_cpu = row["ps_cpu"], row["floor_cpu"]
    print(f"  {'median':22}{'cpu':>9}  {'x ps':>6}  {'x floor':>7}  {'wall':>9}")
    for name, label in (("ps", "ps -eo ..."), ("floor", "floor (status only)"), ("cold", "collect, cold"),
                        ("warm", "collect, warm"), ("stream", "snapshot stream line")):
        cpu = row[f"{name}_cpu"]
        print(f"  {label:22}{cpu:7.1f} ms  {cpu / ps_cpu:6.2f}  {cpu / floor_cpu:7.2f}  {row[name + '_wall']:7.1f} ms")
    print(f"  peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--procs", type=int, nargs="+", default=[10000, 20000])
    ap.add_argument("--cgroups", type=int, default=200)
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    reason = why_no_memcg()
    if reason:
        print(f"bench_collect: cannot run: {reason}", file=sys.stderr)
        return 1
    measure(args.procs, args.cgroups, args.rounds, print_row)
    return 0


if __name__ == "__main__":
    sys.exit(main())
