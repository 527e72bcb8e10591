"""`oomtui import-oom`: a kernel OOM report as a snapshot, and what every policy would have killed."""

from __future__ import annotations

import argparse
import sys

from oomtui import oomlog, snapshot
from oomtui.errors import UsageError, UserError
from oomtui.oomlog import ImportResult, ReportInfo
from oomtui.policies.budget import total_pages
from oomtui.replay import ReplayResult, replay
from oomtui.text import human_size, printable

TOP = 10


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "import-oom",
        help="turn a kernel OOM report (dmesg, journal, syslog) into a snapshot and replay it",
        description="Import a kernel OOM report: dmesg (any form), journalctl, syslog/kern.log, "
        "/dev/kmsg. Without --out it prints a summary and every policy's pick beside the kernel's.",
    )
    p.add_argument("logfile", nargs="?", default="-", metavar="LOGFILE", help="the log (default: - for stdin)")
    p.add_argument("--list", action="store_true", help="list the reports in the log (time, kind, domain, victim)")
    p.add_argument("--index", type=int, default=-1, metavar="N", help="which report (0 is the first; default: last)")
    p.add_argument("--out", metavar="FILE", help="write the snapshot (.json, .json.gz, or - for stdout)")
    p.set_defaults(func=run)


def _list(infos: list[ReportInfo]) -> str:
    rows = [("#", "time", "kind", "domain", "victim")]
    rows += [(str(i.index), printable(i.time or "?", 40), i.kind, printable(i.domain, 100), printable(i.victim, 40))
             for i in infos]
    widths = [max(len(r[c]) for r in rows) for c in range(4)]
    return "\n".join("  ".join(r[c].ljust(widths[c]) for c in range(4)) + "  " + r[4] for r in rows)


def summary(result: ImportResult, rep: ReplayResult) -> str:
    s = result.snapshot
    event = s.oom_event
    assert event is not None
    h = s.host
    out = [
        f"{event.kind} OOM in {printable(event.domain, 80)}",
        f"kernel {printable(h.kernel or 'unknown', 60)}, page size {h.page_size}, cgroups {h.cgroup_mode}"
        + (f", host {printable(h.hostname)}" if h.hostname else ""),
    ]
    if h.mem_total is not None:
        out.append(f"memory {human_size(h.mem_total)}, swap {human_size(h.swap_total)}")
    dom = s.cgroup(event.domain)
    if dom is not None and event.domain != "/":
        out.append(f"cgroup usage {human_size(dom.memory_current)} of limit {human_size(dom.memory_max)}")
    if event.total_pages is not None:
        out.append(f"total pages {event.total_pages} (from the report)")
    else:
        budget = total_pages(s, event.domain)
        out.append(f"total pages {budget.pages} (the report does not show it; from the limit)"
                   + (f"; {budget.note}" if budget.note else ""))
    victim = f"{event.killed_pid} ({printable(event.killed_comm or '?')})" if event.killed_pid else "unknown"
    out.append(f"killed: {victim}" + (f", with {len(event.group_killed_pids)} more (memory.oom.group)"
                                      if event.group_killed_pids else ""))
    biggest = sorted(s.processes, key=lambda p: p.footprint, reverse=True)[:TOP]
    out.append(f"{len(s.processes)} process(es) in the report; the largest:")
    for p in biggest:
        mark = "  <- killed" if p.pid == event.killed_pid else ""
        out.append(f"  {p.pid:>8}  {human_size(p.footprint):>10}  adj {p.oom_score_adj:>5}  {printable(p.comm)}{mark}")
    out.append("")
    out.append(f"replay with the rules of {printable(rep.kernel_release or 'current kernels', 60)}:")
    if rep.era_note:
        out.append(f"  {printable(rep.era_note, None)}")
    for r in rep.policies:
        d = r.decision
        pick = (f"{d.victim_pid}" if d.victim_pid is not None else
                f"cgroup {printable(d.victim_cgroup, 60)}" if d.victim_cgroup else "nothing")
        verdict = "kills nothing" if d.kills_nothing else {True: "agrees", False: "differs", None: "-"}[r.agrees]
        out.append(f"  {r.policy:<24} {pick:<20} {verdict}")
    out.append(printable(rep.explanation, None))  # it names the victim and the pick
    out += [f"warning: {printable(w, None)}" for w in result.warnings]
    return "\n".join(out)


def run(args: argparse.Namespace) -> int:
    if args.list and args.out:
        raise UsageError("oomtui import-oom: --list and --out do not go together")
    if args.logfile == "-" and sys.stdin.isatty():
        raise UsageError("oomtui import-oom: give a LOGFILE, or pipe a log in (e.g. dmesg | oomtui import-oom)")
    text = oomlog.read_log(args.logfile)
    if args.list:
        infos = oomlog.find_reports(text)
        if not infos:
            raise UserError(f"{args.logfile}: no kernel OOM report found")
        print(_list(infos))
        return 0
    try:
        result = oomlog.parse_report(text, args.index)
    except UserError as e:
        raise UserError(f"{args.logfile}: {e}") from None
    if args.out:
        try:
            snapshot.save(result.snapshot, args.out)
        except OSError as e:
            raise UserError(f"{args.out}: {e.strerror or e}") from None
        for w in result.warnings:
            print(f"oomtui import-oom: warning: {printable(w, None)}", file=sys.stderr)
        return 0
    print(summary(result, replay(result.snapshot)))
    return 0
