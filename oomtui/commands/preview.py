"""`oomtui preview`: every policy's decision for one domain, as a table or as JSON.

The JSON list is the contract in snapshot-format.md ("A decision"); the
table is for people, and when the snapshot records a real OOM it says what
the kernel killed and which policies agree.
"""

from __future__ import annotations

import argparse
import json
import sys
import unicodedata
from collections.abc import Sequence
from pathlib import Path

from oomtui import snapshot as snapshot_file
from oomtui.errors import UsageError, UserError
from oomtui.evaluate import check_domain, evaluate, parse_option_args
from oomtui.model import ROOT, OomEvent, Snapshot, WhatIf
from oomtui.policies import registry
from oomtui.policies.base import Decision, OptionError

_UNITS = ("B", "KiB", "MiB", "GiB", "TiB")
NAME_LIMIT = 40


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "preview",
        help="which process or cgroup each policy would kill, and why",
        description="Show every policy's decision (or the named ones) for one OOM domain.",
    )
    p.add_argument("--snapshot", metavar="FILE", default=argparse.SUPPRESS,
                   help="a saved snapshot (default: the live host)")
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


def printable(text: str, limit: int = NAME_LIMIT) -> str:
    """Untrusted names with control and format characters made visible, length capped."""
    out = "".join(_escape(ch) if unicodedata.category(ch) in ("Cc", "Cf") else ch for ch in text[:limit])
    return out + ("…" if len(text) > limit else "")


def _escape(ch: str) -> str:
    return f"\\x{ord(ch):02x}" if ord(ch) < 256 else f"\\u{ord(ch):04x}"


def human_size(n: int | None) -> str:
    if n is None:
        return "—"
    value, unit = float(abs(n)), 0
    while value >= 1024 and unit < len(_UNITS) - 1:
        value /= 1024
        unit += 1
    text = f"{int(value)} B" if unit == 0 else f"{value:.1f} {_UNITS[unit]}"
    return f"-{text}" if n < 0 else text


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
    if path is None:
        from oomtui.collect import collect_snapshot

        return collect_snapshot()
    if path != "-" and not Path(path).exists():
        raise UserError(f"{path}: no such file")
    try:
        return snapshot_file.load(path)
    except snapshot_file.SnapshotError as e:
        raise UserError(str(e)) from None


# -- output --------------------------------------------------------------------------------


def agrees(decision: Decision, event: OomEvent) -> bool | None:
    """Whether a policy would have killed what the kernel killed; None when the report names no victim."""
    if event.killed_pid is None:
        return None
    return event.killed_pid == decision.victim_pid or event.killed_pid in decision.killed_pids


def _victim(d: Decision, snap: Snapshot) -> str:
    if d.victim_cgroup is not None:
        return f"cgroup {printable(d.victim_cgroup)}"
    if d.victim_pid is not None:
        p = snap.process(d.victim_pid)
        comm = f" {printable(p.comm, 16)}" if p is not None else ""
        return f"pid {d.victim_pid}{comm} in {printable(d.victim_pid_cgroup or '?')}"
    return "nothing"


def _dies(d: Decision) -> str:
    n = len(d.killed_pids)
    return "nothing" if n == 0 else f"{n} process{'es' if n != 1 else ''}"


def _acts(d: Decision) -> str:
    return {True: "yes", False: "no", None: "—"}[d.triggered]


def kernel_line(event: OomEvent) -> str:
    """What the kernel actually did, as the recorded report says."""
    if event.killed_pid is None:
        return f"the kernel's {event.kind} OOM in {printable(event.domain)} names no victim"
    comm = f" ({printable(event.killed_comm, 16)})" if event.killed_comm else ""
    group = f", and {len(event.group_killed_pids)} more with its group" if event.group_killed_pids else ""
    return f"the kernel killed pid {event.killed_pid}{comm} in a {event.kind} OOM of {printable(event.domain)}{group}"


def table(decisions: Sequence[Decision], snap: Snapshot, domain: str) -> str:
    event = snap.oom_event
    matching = event is not None and event.killed_pid is not None
    head = ["POLICY", "ACTS NOW", "VICTIM", "WHAT DIES", "FREED", *(["KERNEL'S?"] if matching else []), "REASON"]
    rows = []
    for d in decisions:
        row = [d.policy, _acts(d), _victim(d, snap), _dies(d), human_size(d.freed_bytes)]
        if matching:
            assert event is not None
            row.append({True: "same", False: "differs", None: "—"}[agrees(d, event)])
        row.append(printable(d.reason, 400))
        rows.append(row)
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head) - 1)]
    lines = [f"domain {printable(domain)}" + (f" — {kernel_line(event)}" if event is not None else "")]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=False)) + "  " + r[-1] for r in [head, *rows]]
    doubts = [(d.policy, d.uncertain) for d in decisions if d.uncertain]
    if doubts:
        lines += ["", "uncertain:"] + [f"  {name}: {printable(text, 400)}" for name, text in doubts]
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
        options = parse_option_args(args.option)
    except OptionError as e:
        raise UsageError(str(e)) from None
    edits = _load_whatif(args.whatif) if args.whatif else None
    snap = _load_snapshot(getattr(args, "snapshot", None))
    if edits is not None:
        snap = snap.replace(whatif=edits)
    if args.domain is not None:
        domain = args.domain
        check_domain(snap, domain)
    else:
        domain = snap.oom_event.domain if snap.oom_event is not None else ROOT
    for problem in registry.plugin_problems():
        print(f"oomtui: warning: {problem}", file=sys.stderr)
    decisions = evaluate(snap, domain, names, options)
    if args.json:
        print(json.dumps([d.to_json() for d in decisions], indent=2))
    else:
        print(table(decisions, snap, domain))
    return 0
