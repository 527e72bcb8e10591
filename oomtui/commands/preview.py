"""`oomtui preview`: every policy's decision for one domain, as a table or as JSON.

The JSON list is the contract in snapshot-format.md ("A decision"); the
table is for people, and when the snapshot records a real OOM it says what
the kernel killed and which policies agree.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from oomtui import inforce
from oomtui import snapshot as snapshot_file
from oomtui.errors import UsageError, UserError
from oomtui.evaluate import Options, check_domain, evaluate, parse_option_args
from oomtui.model import ROOT, OomEvent, Snapshot, WhatIf
from oomtui.policies import registry
from oomtui.policies.base import Decision, OptionError
from oomtui.replay import replay
from oomtui.sources import open_path
from oomtui.text import human_size, printable
from oomtui.workloads import decision_json as workload_decision_json
from oomtui.workloads import where

NAME_LIMIT = 40
REASON_LIMIT = 400

__all__ = ["Preview", "agrees", "decision_json", "preview", "register", "run", "table"]


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "preview",
        help="which process or cgroup each policy would kill, and why",
        description="Show every policy's decision (or the named ones) for one OOM domain.",
    )
    p.add_argument("--snapshot", metavar="FILE", default=argparse.SUPPRESS,
                   help="a snapshot file, a recording directory or a kernel log (default: the live host)")
    p.add_argument("--policy", action="append", metavar="NAME", default=[],
                   help="only this policy (repeatable); default: all")
    p.add_argument("--domain", metavar="CGROUP",
                   help="the OOM domain: / or a cgroup with a limit (default: the recorded OOM's, else /)")
    p.add_argument("--option", action="append", metavar="POLICY.KEY=VALUE", default=[],
                   help="a policy option (repeatable)")
    p.add_argument("--whatif", metavar="FILE", help="what-if edits (JSON) replacing the snapshot's own")
    p.add_argument("--json", action="store_true", help="print the decisions as JSON")
    p.set_defaults(func=run)


# -- text helpers --------------------------------------------------------------------


# -- inputs ------------------------------------------------------------------------------


def _load_whatif(path: str) -> WhatIf:
    """A what-if file: a bare `whatif` object, or a snapshot file whose `whatif` is taken."""
    try:
        data = snapshot_file.parse_json(snapshot_file.read_bounded(path), path)
        if isinstance(data, dict) and data.get("format") == snapshot_file.FORMAT:
            data = data.get("whatif") or {}
        return snapshot_file.whatif_from_dict(data)
    except OSError as e:
        raise UserError(f"{path}: {e.strerror or e}") from None
    except snapshot_file.SnapshotError as e:
        raise UserError(f"{path}: {e}") from None


def _load_snapshot(path: str | None) -> Snapshot:
    """The live host, or whatever `oomtui --snapshot` opens: a snapshot, a recording, a kernel log."""
    if path is None:
        from oomtui.collect import collect_snapshot

        return collect_snapshot()
    try:
        opened = open_path(path)
    except snapshot_file.SnapshotError as e:
        raise UserError(str(e)) from None
    for warning in opened.warnings:
        print(f"oomtui: note: {printable(warning)}", file=sys.stderr)
    return opened.snapshot


# -- output --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Preview:
    """Decisions for one domain and, where the snapshot records an OOM there, how each compares."""

    decisions: list[Decision]
    agreement: Mapping[str, bool | None] | None = None  # policy -> kills the kernel's victim
    notes: tuple[str, ...] = ()  # the replay's word on the kernel policy


def agrees(decision: Decision, killed_pid: int | None) -> bool | None:
    """Whether a policy picks the process the kernel killed (or a group holding it); None without a victim."""
    if killed_pid is None:
        return None
    return decision.victim_pid == killed_pid or (decision.victim_pid is None and killed_pid in decision.killed_pids)


def preview(snap: Snapshot, domain: str, names: Sequence[str] | None, options: Options) -> Preview:
    """Every (named) policy's decision; a recorded OOM in this domain is replayed as `import-oom` does.

    The replay reads the kernel era from the report's features, so the kernel
    policy runs with the rules the report shows; policy options need a plain
    evaluation, compared with the recorded victim the same way.
    """
    event = snap.oom_event
    if event is None or event.domain != domain:
        return Preview(evaluate(snap, domain, names, options))
    if options:
        decisions = evaluate(snap, domain, names, options)
        return Preview(decisions, {d.policy: agrees(d, event.killed_pid) for d in decisions})
    result = replay(snap)
    by_name = {r.policy: r for r in result.policies}
    chosen = [by_name[n] for n in names] if names else list(result.policies)
    notes = tuple(n for n in (result.era_note, f"replay: {result.explanation}") if n)
    return Preview([r.decision for r in chosen], {r.policy: r.agrees for r in chosen}, notes)


def decision_json(d: Decision, snap: Snapshot, agreement: Mapping[str, bool | None] | None) -> dict:
    """The contract's decision with its optional fields: the victim's identity and workload, the kernel's verdict.

    `comm`, `start_time` and `cmdline` let a script chain to `oomtui kill --pid
    PID --start-time T`; `agrees_with_kernel` is there only when the snapshot
    records an OOM in this domain.
    """
    out = workload_decision_json(d, snap)
    p = snap.process(d.victim_pid) if d.victim_pid is not None else None
    if out["victim"] is not None and p is not None:
        out["victim"].update(comm=p.comm, start_time=p.start_time, cmdline=list(p.cmdline))
    if agreement is not None:
        out["agrees_with_kernel"] = agreement.get(d.policy)
    return out


def _victim(d: Decision, snap: Snapshot) -> str:
    if d.victim_cgroup is not None:
        return printable(where(snap, d.victim_cgroup), NAME_LIMIT)
    if d.victim_pid is not None:
        p = snap.process(d.victim_pid)
        comm = f" {printable(p.comm, 16)}" if p is not None else ""
        cg = d.victim_pid_cgroup or "?"
        home = where(snap, cg) if snap.workload_of(cg) is not None else cg
        return f"pid {d.victim_pid}{comm} in {printable(home, NAME_LIMIT)}"
    return "nothing"


def _dies(d: Decision) -> str:
    n = len(d.killed_pids)
    return "nothing" if n == 0 else f"{n} process{'es' if n != 1 else ''}"


def kernel_line(event: OomEvent) -> str:
    """What the kernel actually did, as the recorded report says."""
    if event.killed_pid is None:
        return f"the kernel's {event.kind} OOM in {printable(event.domain)} names no victim"
    comm = f" ({printable(event.killed_comm, 16)})" if event.killed_comm else ""
    group = f", and {len(event.group_killed_pids)} more with its group" if event.group_killed_pids else ""
    return f"the kernel killed pid {event.killed_pid}{comm} in a {event.kind} OOM of {printable(event.domain)}{group}"


def table(result: Preview, snap: Snapshot, domain: str) -> str:
    event = snap.oom_event
    matching = result.agreement is not None and event is not None and event.killed_pid is not None
    head = ["POLICY", "ACTS NOW", "VICTIM", "WHAT DIES", "FREED", *(["KERNEL'S?"] if matching else []), "REASON"]
    rows = []
    decisions = result.decisions
    for d in decisions:
        row = [d.policy, registry.acts_now(d), _victim(d, snap), _dies(d), human_size(d.freed_bytes)]
        if matching:
            row.append({True: "same", False: "differs", None: "—"}[(result.agreement or {}).get(d.policy)])
        row.append(printable(d.reason, REASON_LIMIT))
        rows.append(row)
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head) - 1)]
    lines = [f"domain {printable(domain)}" + (f" — {kernel_line(event)}" if event is not None else "")]
    lines += [printable(note, REASON_LIMIT) for note in result.notes]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=False)) + "  " + r[-1] for r in [head, *rows]]
    doubts = [(d.policy, d.uncertain) for d in decisions if d.uncertain]
    if doubts:
        lines += ["", "uncertain:"] + [f"  {name}: {printable(text, REASON_LIMIT)}" for name, text in doubts]
    if not snap.whatif.is_empty():
        lines += ["", "with what-if edits (see the snapshot's whatif); the kernel ignores cgroup scores"]
    return "\n".join(line.rstrip() for line in lines)


def run(args: argparse.Namespace) -> int:
    names = args.policy or None
    for name in names or ():
        try:
            registry.get(name)
        except KeyError as e:
            raise UsageError(str(e.args[0])) from None
    try:
        given = parse_option_args(args.option)
    except OptionError as e:
        raise UsageError(str(e)) from None
    edits = _load_whatif(args.whatif) if args.whatif else None
    snap = _load_snapshot(getattr(args, "snapshot", None))
    options = inforce.merged_options(snap, given)  # the killers in force's settings, under --option
    if edits is not None:
        snap = snap.replace(whatif=edits)
    if args.domain is not None:
        domain = args.domain
        check_domain(snap, domain)
    else:
        domain = snap.oom_event.domain if snap.oom_event is not None else ROOT
    for problem in registry.plugin_problems():
        print(f"oomtui: warning: {printable(problem, None)}", file=sys.stderr)
    result = preview(snap, domain, names, options)
    ranked = inforce.order(snap, domain, result.decisions, given)
    result = replace(result, decisions=[r.decision for r in ranked])
    standing = {r.decision.policy: r.standing.to_json() for r in ranked}
    if args.json:
        print(json.dumps([{**decision_json(d, snap, result.agreement), **standing[d.policy]}
                          for d in result.decisions], indent=2))
    else:
        print(table(result, snap, domain))
        print(inforce.standings_text(ranked))
    return 0
