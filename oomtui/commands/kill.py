"""`oomtui kill`: the TUI's kill, for scripts — list what dies, confirm, re-check, act, report.

The list printed before the question (and by --dry-run) is built by the same
planner the actor is then handed, so what the user confirms is exactly what
is signalled, less anything whose identity changed meanwhile.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys

from oomtui.act import (
    HostActor,
    KillPlan,
    KillReport,
    Target,
    plan_cgroup_kill,
    plan_decision_kill,
    plan_process_kill,
    protected_pids,
)
from oomtui.act.kill import when
from oomtui.act.procfs import same_start
from oomtui.errors import UsageError, UserError
from oomtui.evaluate import check_domain, evaluate, parse_option_args
from oomtui.model import ROOT, Snapshot
from oomtui.policies.base import OptionError
from oomtui.text import human_size, printable, printable_middle
from oomtui.workloads import workload_text

SIGNALS = {"KILL": signal.SIGKILL, "TERM": signal.SIGTERM}
FINE = ("killed", "gone", "spared", "refused")
CMD_LIMIT = 60


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "kill",
        help="kill a process, a cgroup, or what a policy would kill — after confirmation",
        description="Print what would die, ask (unless --yes), re-check every identity, act, and report "
        "per process. Every action is appended to the audit log.",
    )
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument("--pid", type=int, metavar="PID", help="one process")
    what.add_argument("--cgroup", metavar="CGROUP", help="a memory cgroup, killed whole (e.g. /system.slice/x)")
    what.add_argument("--policy", metavar="NAME", help="carry out this policy's decision on the live host")
    p.add_argument("--start-time", type=float, metavar="EPOCH",
                   help="with --pid: only if the pid is still the process started then (as a snapshot recorded)")
    p.add_argument("--domain", metavar="CGROUP", help="with --policy: the OOM domain (default /)")
    p.add_argument("--option", action="append", default=[], metavar="POLICY.KEY=VALUE",
                   help="with --policy: a policy option (repeatable)")
    p.add_argument("--signal", default="KILL", metavar="KILL|TERM", help="the signal (default KILL)")
    p.add_argument("--dry-run", action="store_true", help="list what would be signalled, and signal nothing")
    p.add_argument("--yes", action="store_true", help="do not ask: the list is confirmed in advance")
    p.add_argument("--json", action="store_true",
                   help="print what was planned and done as one JSON object (the listing goes to stderr)")
    p.add_argument("--audit-log", default=argparse.SUPPRESS, metavar="FILE",
                   help="append the action here instead of the default audit log")
    p.set_defaults(func=run)


def _signal(raw: str) -> int:
    name = raw.upper().removeprefix("SIG")
    if name not in SIGNALS:
        raise UsageError(f"oomtui kill: --signal must be KILL or TERM, not {printable(raw)!r}")
    return SIGNALS[name]


def _check_usage(args: argparse.Namespace) -> None:
    if args.start_time is not None and args.pid is None:
        raise UsageError("oomtui kill: --start-time goes with --pid")
    if (args.domain is not None or args.option) and args.policy is None:
        raise UsageError("oomtui kill: --domain and --option go with --policy")


def _cgroup_path(raw: str) -> str:
    return "/" + raw.strip("/")


def make_plan(args: argparse.Namespace, snap: Snapshot, sig: int) -> tuple[KillPlan, str | None]:
    """The plan for what the arguments name, on this snapshot, and for --policy why it chose so."""
    protected = protected_pids()
    if args.pid is not None:
        seen = snap.process(args.pid)
        if seen is not None and args.start_time is not None and (
                seen.start_time is None or not same_start(args.start_time, seen.start_time)):
            started = "at an unknown time" if seen.start_time is None else f"at {when(seen.start_time)}"
            raise UserError(f"pid {args.pid} is now {printable(seen.comm, 16)}, started {started}, not the "
                            f"process started at {when(args.start_time)}; nothing was killed")
        return plan_process_kill(snap, args.pid, sig, protected), None
    if args.cgroup is not None:
        return plan_cgroup_kill(snap, _cgroup_path(args.cgroup), sig, protected), None
    domain = _cgroup_path(args.domain) if args.domain is not None else ROOT
    check_domain(snap, domain)
    try:
        options = parse_option_args(args.option)
    except OptionError as e:
        raise UsageError(str(e)) from None
    [decision] = evaluate(snap, domain, [args.policy], options)
    why = f"{decision.policy} in {domain}: {decision.reason}"
    if decision.triggered is False:
        why += " (it would not act now: this kills whom it would pick)"
    return plan_decision_kill(snap, decision, sig, protected), printable(why, 400)


def _row(t: Target, why: str | None = None) -> list[str]:
    started = when(t.start_time) if t.start_time is not None else "unknown"
    return [str(t.pid), started, printable(t.comm, 16), printable(t.cgroup, 60), human_size(t.footprint),
            *([] if why is None else [why]), command_line(t.cmdline, t.comm)]


def command_line(cmdline: tuple[str, ...], comm: str) -> str:
    """The command line, escaped, cut in the middle when long so the leaf survives; [comm] without one."""
    return printable_middle(" ".join(cmdline), CMD_LIMIT) if cmdline else f"[{printable(comm, 16)}]"


def _table(rows: list[list[str]]) -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return ["  " + "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]


def describe(plan: KillPlan) -> str:
    """Every process the plan signals, spares and refuses, as the user is asked to confirm it."""
    # A title says "kill" for SIGKILL and names any other signal itself.
    said = f" with {plan.signal_name}" if plan.signal == signal.SIGKILL else ""
    lines = [f"{printable(plan.title, 200)}{said}"]
    lines += [f"  in {printable(workload_text(w), 200)}" for _, w in plan.workloads]
    head = ["PID", "STARTED", "NAME", "CGROUP", "SIZE"]
    if plan.targets:
        lines += _table([[*head, "CMD"], *(_row(t) for t in plan.targets)])
        lines.append(f"  total {human_size(plan.footprint)}")
    else:
        lines.append("  no process would be signalled")
    for cgroup in plan.cgroups:
        lines.append(f"and any process that joins {printable(cgroup, 200)} before it is empty")
    for label, items in (("spared (left alive)", plan.spared), ("refused (never signalled)", plan.refused)):
        if items:
            lines.append(f"{label}:")
            lines += _table([[*head, "WHY", "CMD"], *(_row(t, why.split(": ", 1)[-1]) for t, why in items)])
    return "\n".join(lines)


def report_text(report: KillReport) -> str:
    rows = [[str(o.pid), printable(o.comm, 16), printable(o.detail, None)] for o in report.outcomes]
    method = [f"cgroup: {report.method}"] if report.method else []
    return "\n".join([*(_table(rows) if rows else []), *method, report.summary])


def would_fail(plan: KillPlan) -> bool:
    """A plan that signals nothing and so cannot do what was asked: a lone process refused, or nothing named."""
    return not plan.targets and (not plan.cgroups or bool(plan.refused))


def exit_code(report: KillReport) -> int:
    """0 when what was asked is done: a cgroup ended empty (but for spared and refused processes),
    or every process named is gone (killed, or exited on its own); else 1."""
    if report.plan.cgroups:
        return 0 if report.cgroups_empty else 1
    return 0 if all(o.status in FINE for o in report.outcomes) else 1


def as_json(plan: KillPlan, why: str | None, report: KillReport | None, *, dry_run: bool, code: int,
            audit_log: str | None, summary: str) -> str:
    """The object `kill --json` prints (documented in the README)."""
    return json.dumps({
        "plan": plan.to_json(), "why": why, "dry_run": dry_run, "done": report is not None,
        "outcomes": [o.to_json() for o in report.outcomes] if report else [],
        "method": report.method if report else "", "cgroups_empty": report.cgroups_empty if report else None,
        "summary": summary, "audit_log": audit_log, "exit": code,
    }, indent=2)


def _confirm(plan: KillPlan) -> bool:
    if not sys.stdin.isatty():
        raise UserError("oomtui kill: no terminal to ask on; nothing was killed (--yes confirms in advance)")
    n = len(plan.targets)
    noun = "this process" if n == 1 else f"these {n} processes"
    print(f"Send {plan.signal_name} to {noun}{' and the cgroup' if plan.cgroups else ''}? [y/N] ",
          end="", file=sys.stderr, flush=True)
    answer = sys.stdin.readline().strip().lower()
    return answer in ("y", "yes")


def run(args: argparse.Namespace) -> int:
    _check_usage(args)
    sig = _signal(args.signal)
    actor = None
    if not args.dry_run:
        actor = HostActor(getattr(args, "audit_log", None))
        actor.check()
    from oomtui.collect import collect_snapshot

    plan, why = make_plan(args, collect_snapshot(), sig)
    audit_log = str(actor.audit.path) if actor is not None else None
    # With --json, stdout carries the object alone; the listing goes to stderr only when there is a question.
    listing = sys.stderr if args.json else sys.stdout
    if not args.json or not (args.yes or args.dry_run):
        if why is not None:
            print(why, file=listing)
        print(describe(plan), file=listing)
    if args.dry_run:
        code = 1 if would_fail(plan) else 0
        summary = "dry run: nothing would be signalled" if code else "dry run: nothing was signalled"
        print(as_json(plan, why, None, dry_run=True, code=code, audit_log=None, summary=summary)
              if args.json else summary)
        return code
    if not plan.targets and not plan.cgroups:
        raise UserError("oomtui kill: nothing to kill")
    if not args.yes and not _confirm(plan):
        print("cancelled: nothing was killed", file=sys.stderr)
        if args.json:
            print(as_json(plan, why, None, dry_run=False, code=1, audit_log=audit_log,
                          summary="cancelled: nothing was killed"))
        return 1
    assert actor is not None
    report = actor.kill(plan)
    code = exit_code(report)
    print(as_json(plan, why, report, dry_run=False, code=code, audit_log=audit_log, summary=report.summary)
          if args.json else report_text(report))
    return code
