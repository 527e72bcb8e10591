"""`oomtui snapshot save FILE|-`, `oomtui snapshot show FILE` and `oomtui snapshot stream`."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import time

from oomtui import inforce
from oomtui import snapshot as snapshot_file
from oomtui.collect import collect_snapshot
from oomtui.errors import UsageError, UserError
from oomtui.model import ROOT, Cgroup, Process, Snapshot
from oomtui.text import human_size, printable
from oomtui.workloads import tree_label, where

NAME_LIMIT = 48
COMMAND_LIMIT = 80
# A collection costs about half a second of CPU per 5,000 processes: a remote
# viewer must not be able to keep a host's core busy.
STREAM_MIN_INTERVAL = 0.5


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("snapshot", help="save or stream the live host's snapshot, or summarise a saved one",
                       description="Save the live host as a snapshot file, or print a readable summary of one.")
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True, parser_class=type(p))
    save = actions.add_parser("save", help="write the live host's snapshot (FILE.gz compresses; - is stdout)",
                              description="Collect the live host and write it atomically.")
    save.add_argument("file", metavar="FILE", help="where to write: .json, .json.gz, or - for stdout")
    save.set_defaults(func=run_save)
    show = actions.add_parser("show", help="a readable summary of a snapshot file",
                              description="Print the host, the cgroup tree and the largest processes.")
    show.add_argument("file", metavar="FILE", help="a snapshot (.json or .json.gz, - for stdin)")
    show.add_argument("--top", type=int, default=15, metavar="N", help="how many of the largest processes")
    show.set_defaults(func=run_show)
    stream = actions.add_parser("stream", help="one compact snapshot per line on stdout, every interval",
                                description="Write the live host's snapshot as one JSON line every interval "
                                            "(JSON Lines), until killed or COUNT lines: what --remote reads over ssh.")
    stream.add_argument("--interval", type=float, default=5.0, metavar="SECONDS",
                        help=f"seconds between samples (default 5, at least {STREAM_MIN_INTERVAL})")
    stream.add_argument("--count", type=int, metavar="N", help="stop after N lines")
    stream.set_defaults(func=run_stream)


def run_save(args: argparse.Namespace) -> int:
    snap = collect_snapshot()
    try:
        snapshot_file.save(snap, args.file)
    except OSError as e:
        raise UserError(f"cannot write {args.file}: {e.strerror or e}") from None
    if args.file != "-":
        print(f"saved {len(snap.processes)} processes in {len(snap.cgroups)} cgroups to {printable(args.file, None)}",
              file=sys.stderr)
    return 0


def run_stream(args: argparse.Namespace) -> int:
    """Sample with one warm collector (so trends fill), flush each line; a closed pipe or SIGTERM ends it quietly."""
    if args.interval < STREAM_MIN_INTERVAL:
        raise UsageError(f"oomtui snapshot stream: --interval must be at least {STREAM_MIN_INTERVAL} seconds")
    if args.count is not None and args.count < 1:
        raise UsageError("oomtui snapshot stream: --count must be at least 1")
    from oomtui.collect import Collector

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    collector = Collector()
    out = sys.stdout.buffer
    sent = 0
    try:
        while not stop.is_set():
            started = time.monotonic()
            out.write(snapshot_file.dumps(collector.collect()) + b"\n")
            out.flush()
            sent += 1
            if args.count is not None and sent >= args.count:
                break
            stop.wait(max(args.interval - (time.monotonic() - started), 0.0))
    except BrokenPipeError:  # the reader went away (ssh closed, `| head`): that is how a stream ends
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0


def run_show(args: argparse.Namespace) -> int:
    try:
        snap = snapshot_file.load(args.file)
    except snapshot_file.SnapshotError as e:
        raise UserError(str(e)) from None
    sys.stdout.write(summary(snap, top=max(args.top, 0)))
    return 0


def summary(s: Snapshot, top: int = 15) -> str:
    """The whole report as text; every name from the file passes through `printable`."""
    return "\n".join([*_host_lines(s), "", *_tree_lines(s), "", *_process_lines(s, top)]) + "\n"


def _when(t: float | None) -> str:
    return "at an unknown time" if t is None else time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(t))


def _host_lines(s: Snapshot) -> list[str]:
    h = s.host
    sysctl = h.sysctl
    psi = h.psi.full.avg10 if h.psi is not None and h.psi.full is not None else None
    lines = [
        f"host {printable(h.hostname or '?', NAME_LIMIT)}, kernel {printable(h.kernel or 'unknown', NAME_LIMIT)}, "
        f"cgroups {h.cgroup_mode}, page size {h.page_size}; {s.source}, {_when(s.taken_at)}",
        f"memory {human_size(h.mem_total)} total, {human_size(h.mem_available)} available; "
        f"swap {human_size(h.swap_total)} total, {human_size(h.swap_free)} free",
        f"vm.overcommit_memory={_num(sysctl.overcommit_memory)} vm.panic_on_oom={_num(sysctl.panic_on_oom)} "
        f"vm.oom_kill_allocating_task={_num(sysctl.oom_kill_allocating_task)}; "
        f"memory pressure (full avg10) {'unknown' if psi is None else f'{psi:.2f} %'}",
    ]
    lines += inforce.killer_lines(s)
    e = s.oom_event
    if e is not None:
        killed = "unknown" if e.killed_pid is None else f"{e.killed_pid} ({printable(e.killed_comm or '?', 32)})"
        lines.append(f"recorded OOM: {e.kind} in {printable(e.domain, NAME_LIMIT)}, killed {killed}")
    return lines


def _num(v: int | None) -> str:
    return "?" if v is None else str(v)


def _tree_lines(s: Snapshot) -> list[str]:
    rows: list[tuple[str, Cgroup]] = []

    def visit(path: str, prefix: str, last: bool, depth: int) -> None:
        c = s.cgroup(path)
        if c is None:
            return
        branch = "" if depth == 0 else prefix + ("└─ " if last else "├─ ")
        rows.append((branch + printable(tree_label(s, path), NAME_LIMIT), c))
        kids = s.children(path)
        below = "" if depth == 0 else prefix + ("   " if last else "│  ")
        for i, kid in enumerate(kids):
            visit(kid, below, i == len(kids) - 1, depth + 1)

    visit(ROOT, "", True, 0)
    width = max(len(label) for label, _ in rows)
    header = f"{'cgroup'.ljust(width)}  {'current':>10}  {'limit':>10}  {'swap':>10}  {'procs':>6}"
    return [f"{len(s.cgroups)} memory cgroups (procs: processes in the subtree)", header] + [
        f"{label.ljust(width)}  {human_size(c.memory_current):>10}  {_limit(c.memory_max):>10}  "
        f"{human_size(c.swap_current):>10}  {len(s.processes_under(c.path)):>6}"
        for label, c in rows
    ]


def _limit(n: int | None) -> str:
    return "max" if n is None else human_size(n)


def _process_lines(s: Snapshot, top: int) -> list[str]:
    biggest = sorted(s.processes, key=lambda p: p.footprint, reverse=True)[:top]
    lines = [
        f"{len(s.processes)} processes; the {len(biggest)} largest by the kernel's footprint "
        "(rss + swap + page tables):",
        f"{'pid':>8} {'uid':>6} {'adj':>5} {'score':>6} {'rss':>10} {'swap':>10}  workload or cgroup  command",
    ]
    lines += [
        f"{p.pid:>8} {_num(p.uid):>6} {p.oom_score_adj:>5} {_num(p.oom_score):>6} {human_size(p.rss):>10} "
        f"{human_size(p.swap):>10}  {printable(where(s, p.cgroup), NAME_LIMIT)}  {_command(p)}"
        for p in biggest
    ]
    return lines


def _command(p: Process) -> str:
    if not p.cmdline:
        return f"[{printable(p.comm, 32)}]"
    return printable(" ".join(p.cmdline), COMMAND_LIMIT)
