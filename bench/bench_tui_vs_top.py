"""The idle TUI's CPU beside `top -d 2`'s, on the same live host over the same minute.

Spawns --procs sleeping processes in --cgroups memory cgroups below our own
(as `bench_collect.py` does), then starts, side by side, each in a terminal
of one tmux server of our own (--size, 160x48 by default): the real
`oomtui --read-only --interval 2` and `top -d 2`. Both read the same
processes every 2 s; neither is sent a key. After --warmup seconds it takes
each one's CPU time (user + system of every thread, from /proc/PID/stat)
over the same --seconds, and prints both, in % of one core, their ratio,
the processes top counted, and the load average before and after (the
machine may be shared: the CPU times are the figures, the ratio is the
comparison). Everything it started is stopped by pid, the cgroups removed.
Needs root, tmux and a writable memory cgroup.

    .venv/bin/python bench/bench_tui_vs_top.py [--procs 10000] [--cgroups 200] [--seconds 60]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from bench_collect import sleeper_cgroups, spawn  # noqa: E402  (the same sleepers as the collection bench)

from tests.support.cgroups import why_no_memcg  # noqa: E402

TICKS = os.sysconf("SC_CLK_TCK")
# This tree's oomtui, whichever one the interpreter has installed: before/after runs compare two trees.
OOMTUI = f"env PYTHONPATH={HERE.parent} {sys.executable} -c 'import sys; from oomtui.cli import main; sys.exit(main())'"


class Terminals:
    """A tmux server on its own socket, so nothing else on the machine is touched."""

    def __init__(self, size: tuple[int, int]) -> None:
        self.socket = f"oomtui-bench-{uuid.uuid4().hex[:8]}"
        self.size = size
        self.env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
        self.env["TERM"] = "xterm-256color"

    def tmux(self, *args: str) -> str:
        return subprocess.run(["tmux", "-L", self.socket, *args], capture_output=True, text=True, timeout=20,
                              env=self.env, check=True).stdout

    def start(self, name: str, command: str) -> int:
        """Run `command` in a new session; its pid."""
        w, h = self.size
        first = not self.sessions()
        self.tmux(*(["-f", "/dev/null"] if first else []), "new-session", "-d", "-s", name, "-x", str(w), "-y", str(h),
                  command)
        self.tmux("set-option", "-t", name, "window-size", "manual")
        self.tmux("resize-window", "-t", name, "-x", str(w), "-y", str(h))
        return int(self.tmux("display-message", "-p", "-t", name, "#{pane_pid}").strip())

    def sessions(self) -> list[str]:
        try:
            return self.tmux("list-sessions", "-F", "#{session_name}").split()
        except subprocess.CalledProcessError:
            return []

    def screen(self, name: str) -> str:
        return self.tmux("capture-pane", "-p", "-t", name)

    def close(self) -> None:
        if self.sessions():
            self.tmux("kill-server")


def cpu_seconds(pid: int) -> float:
    """User + system time of every thread of `pid` (fields 14 and 15 of /proc/PID/stat)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def load() -> str:
    return f"load average {' '.join(f'{v:.2f}' for v in os.getloadavg())} on {os.cpu_count()} cores"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--procs", type=int, default=10_000)
    parser.add_argument("--cgroups", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--warmup", type=float, default=15.0)
    parser.add_argument("--size", default="160x48")
    args = parser.parse_args()
    if shutil.which("tmux") is None or shutil.which("top") is None:
        raise SystemExit("needs tmux and top")
    if (why := why_no_memcg()) is not None:
        raise SystemExit(why)
    w, h = (int(v) for v in args.size.split("x"))
    with sleeper_cgroups("oomtui-bench-top", args.cgroups) as dirs:
        spawner = spawn(dirs, args.procs // args.cgroups)
        terms = Terminals((w, h))
        try:
            print(f"spawned {args.procs // args.cgroups * args.cgroups} sleeping processes in {args.cgroups} cgroups; "
                  f"{len([n for n in os.listdir('/proc') if n.isdigit()])} processes on the host")
            pids = {
                "oomtui": terms.start("oomtui", f"exec {OOMTUI} --read-only --interval 2"),
                "top -d 2": terms.start("top", "exec top -d 2"),
            }
            time.sleep(args.warmup)
            print(load())
            before = {name: cpu_seconds(pid) for name, pid in pids.items()}
            start = time.monotonic()
            time.sleep(args.seconds)
            used = {name: cpu_seconds(pid) - before[name] for name, pid in pids.items()}
            wall = time.monotonic() - start
            tasks = re.search(r"Tasks:\s*(\d+)", terms.screen("top"))
            shown = terms.screen("oomtui").splitlines()
            print(f"top counted {tasks.group(1) if tasks else '?'} tasks; oomtui's status line: "
                  f"{shown[0].strip()[:100] if shown else '?'}")
            for name, cpu in used.items():
                print(f"{name:<10} {1000 * cpu:7.0f} ms CPU over {wall:.0f} s = {100 * cpu / wall:5.1f} % of one core")
            if used["top -d 2"] > 0:
                print(f"oomtui ÷ top -d 2: {used['oomtui'] / used['top -d 2']:.2f}×")
            print(load())
        finally:
            terms.close()
            assert spawner.stdin is not None
            spawner.stdin.close()  # the spawner exits, and its children with it (PR_SET_PDEATHSIG)
            spawner.wait()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
