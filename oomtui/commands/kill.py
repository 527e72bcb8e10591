"""`oomtui kill`: the TUI's kill, for scripts — list what dies, confirm, re-check, act, report.

The list printed before the question (and by --dry-run) is built by the same
planner the actor is then handed, so what the user confirms is exactly what
is signalled, less anything whose identity changed meanwhile.
"""

from __future__ import annotations

import argparse
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
from oomtui.text import human_size, printable
from oomtui.workloads import workload_text

SIGNALS = {"KILL": signal.SIGKILL, "TERM": signal.SIGTERM}
FINE = ("killed", "gone", "spared", "refused")


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


def _row(t: Target, extra: str = "") -> list[str]:
    started = when(t.start_time) if t.start_time is not None else "unknown"
    return [str(t.pid), started, printable(t.comm, 16), printable(t.cgroup, 60), human_size(t.footprint), extra]


def _table(rows: list[list[str]]) -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return ["  " + "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]


def describe(plan: KillPlan) -> str:
    """Every process the plan signals, spares and refuses, as the user is asked to confirm it."""
    # A title says "kill" for SIGKILL and names any other signal itself.
    said = f" with {plan.signal_name}" if plan.signal == signal.SIGKILL else ""
    lines = [f"{printable(plan.title, 200)}{said}"]
    lines += [f"  in {printable(workload_text(w), 200)}" for _, w in plan.workloads]
    head = ["PID", "STARTED", "NAME", "CGROUP", "SIZE", ""]
    if plan.targets:
        lines += _table([head, *(_row(t) for t in plan.targets)])
        lines.append(f"  total {human_size(plan.footprint)}")
    else:
        lines.append("  no process would be signalled")
    for cgroup in plan.cgroups:
        lines.append(f"and any process that joins {printable(cgroup, 200)} before it is empty")
    for label, items in (("spared (left alive)", plan.spared), ("refused (never signalled)", plan.refused)):
        if items:
            lines.append(f"{label}:")
            lines += _table([[*head[:-1], "WHY"], *(_row(t, why.split(": ", 1)[-1]) for t, why in items)])
    return "\n".join(lines)


def report_text(report: KillReport) -> str:
    rows = [[str(o.pid), printable(o.comm, 16), o.detail] for o in report.outcomes]
    return "\n".join([*(_table(rows) if rows else []), report.summary])


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
    if why is not None:
        print(why)
    print(describe(plan))
    if args.dry_run:
        print("dry run: nothing was signalled")
        return 0
    if not plan.targets and not plan.cgroups:
        raise UserError("oomtui kill: nothing to kill")
    if not args.yes and not _confirm(plan):
        print("cancelled: nothing was killed", file=sys.stderr)
        return 1
    assert actor is not None
    report = actor.kill(plan)
    print(report_text(report))
    return 0 if all(o.status in FINE for o in report.outcomes) else 1
