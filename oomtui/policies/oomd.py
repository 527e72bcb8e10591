"""oomd's kill plugins: rank the matched cgroups, kill the best one whole.

Each plugin sorts its peer group by (kill preference, plugin key)
descending (OomdContext::sortDescWithKillPrefs), so an xattr preference
beats every size. The sort is std::sort, not stable: equal keys fall in an
unspecified order, which we report rather than hide. With `recursive` the
choice descends into the winner's children, comparing siblings only, until
a leaf or a memory.oom.group cgroup (research/userspace-killers.md §1).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from functools import partial
from typing import Any

from oomtui.model import ROOT, Cgroup, Snapshot, is_within
from oomtui.policies.base import Candidate, Decision, OptionSpec, PolicySpec, parse_bool
from oomtui.policies.daemon_common import fmt_bytes, is_populated, kill_cgroup, kill_nothing

PREFER, NORMAL, AVOID = 1, 0, -1
PREF_NAMES = {PREFER: "prefer", NORMAL: "normal", AVOID: "avoid"}
TRIGGER = "oomd kills when its ruleset's detectors fire; this is whom the plugin picks then"


# -- options -------------------------------------------------------------------------


def parse_patterns(raw: str) -> tuple[tuple[str, ...], ...]:
    """`cgroup=`: comma-separated paths relative to the cgroup root; `*` globs one component."""
    out = []
    for part in raw.split(","):
        part = part.strip()
        if not part:
            continue
        out.append(tuple(c for c in part.split("/") if c not in ("", ".")))
    return tuple(out)


def parse_unsigned(raw: str) -> int:
    """PluginArgParser::parseUnsignedInt: leading digits, so "1.25" reads as 1."""
    m = re.match(r"\s*\+?(\d+)", raw)
    if not m:
        raise ValueError("expected a non-negative integer")
    return int(m.group(1))


def parse_percentile(raw: str) -> int:
    v = parse_unsigned(raw)
    if v >= 100:
        raise ValueError("must be below 100 (oomd refuses to start otherwise)")
    return v


_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([KMGT]?)\s*$", re.IGNORECASE)
_UNITS = {"": 1 << 20, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}


def parse_threshold(raw: str) -> tuple[str, float]:
    """kill_by_swap_usage `threshold`: "N%" of SwapTotal, or a size (a bare number is MiB)."""
    v = raw.strip()
    if v.endswith("%"):
        return ("percent", float(v[:-1]))
    m = _SIZE.match(v)
    if not m:
        raise ValueError('expected a size such as "512M", "2G", a bare number of MiB, or "N%"')
    return ("bytes", float(m.group(1)) * _UNITS[m.group(2).upper()])


# -- the peer group ------------------------------------------------------------------


def preference(c: Cgroup) -> int:
    """Presence of a prefer xattr wins over avoid; values do not matter."""
    x = c.xattrs
    if "trusted.oomd_prefer" in x or "user.oomd_prefer" in x:
        return PREFER
    if "trusted.oomd_avoid" in x or "user.oomd_avoid" in x:
        return AVOID
    return NORMAL


def matched(snapshot: Snapshot, domain: str, patterns: tuple[tuple[str, ...], ...]) -> list[str]:
    """The cgroups the patterns name, within the domain; no patterns means the domain's children."""
    if not patterns:
        return list(snapshot.children(domain))
    out = []
    for c in snapshot.cgroups:
        parts = tuple(c.path.strip("/").split("/")) if c.path != ROOT else ()
        if not is_within(c.path, domain):
            continue
        if any(len(p) == len(parts) and all(map(fnmatchcase, parts, p)) for p in patterns):
            out.append(c.path)
    return out


class Protection:
    """memory.min/low protection as oomd distributes it down the tree (CgroupContext)."""

    def __init__(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot
        self._memo: dict[str, int] = {}

    def raw(self, path: str) -> int:
        c = self.snapshot.cgroup(path)
        if c is None:
            return 0
        return min(c.memory_current or 0, max(c.memory_min or 0, c.memory_low or 0))

    def __call__(self, path: str) -> int:
        if path in self._memo:
            return self._memo[path]
        c = self.snapshot.cgroup(path)
        parent = c.parent_path if c is not None else None
        if parent is None or parent == ROOT:
            value = self.raw(path)
        else:
            siblings = sum(self.raw(s) for s in self.snapshot.children(parent))
            value = 0 if siblings == 0 else int(self.raw(path) * min(1.0, self(parent) / siblings))
        self._memo[path] = value
        return value


@dataclass
class Ranked:
    path: str
    pref: int
    key: tuple
    why: str
    parts: dict[str, Any] = field(default_factory=dict)


Ranker = Callable[[Snapshot, list[str], Mapping[str, Any], list[str]], list[Ranked]]


def _current(snapshot: Snapshot, path: str) -> int:
    c = snapshot.cgroup(path)
    return (c.memory_current if c else None) or 0


# -- the plugins' keys ---------------------------------------------------------------


def rank_size_or_growth(
    snapshot: Snapshot, peers: list[str], opts: Mapping[str, Any], notes: list[str],
) -> list[Ranked]:
    """kill_by_memory_size_or_growth: size over a share of the peers, then growth among the largest, then size.

    `peers` is never empty (decide() and the recursive descent rank only a non-empty group).
    """
    protection = Protection(snapshot)
    effective = {p: _current(snapshot, p) - protection(p) for p in peers}
    threshold = int(sum(_current(snapshot, p) for p in peers) * (opts["size_threshold"] / 100))
    by_size = sorted(effective.values(), reverse=True)
    nth = math.ceil(len(peers) * (100 - opts["growing_size_percentile"]) / 100) - 1
    floor = by_size[nth]
    ratio = opts["min_growth_ratio"]
    out, unknown = [], 0
    for p in peers:
        c = snapshot.cgroup(p)
        current, eff = _current(snapshot, p), effective[p]
        avg = c.trend.memory_current_avg if c and c.trend else None
        growth = None if avg is None else (current / avg if avg > 0 else 0.0)
        if growth is None:
            unknown += 1
        size_ok = current >= threshold
        growth_ok = growth is not None and growth >= ratio and eff >= floor
        phase = "size" if size_ok else "growth" if growth_ok else "plain size"
        g = "unknown" if growth is None else f"{growth:.2f}"
        out.append(Ranked(
            p, preference(c) if c else NORMAL,
            (eff if size_ok else 0, growth if growth_ok else 0.0, eff),
            f"{phase}: memory.current {fmt_bytes(current)}, effective {fmt_bytes(eff)}, growth {g}",
            {"phase": phase, "memory_current": current, "protection": current - eff, "effective_usage": eff,
             "growth": growth, "size_threshold": threshold, "growth_floor": floor},
        ))
    if unknown:
        notes.append(f"growth unknown for {unknown} cgroup(s) (no earlier sample): ranked without it; "
                     "a growing cgroup could be picked instead")
    return out


def _swap_threshold(snapshot: Snapshot, spec: tuple[str, float] | None) -> int:
    if spec is None:
        return 1
    kind, value = spec
    if kind == "percent":
        return int((snapshot.host.swap_total or 0) * value / 100)
    return int(value)


def rank_swap(snapshot: Snapshot, peers: list[str], opts: Mapping[str, Any], notes: list[str]) -> list[Ranked]:
    """kill_by_swap_usage: memory.swap.current over the threshold (strictly, default 1 byte), optionally less
    SwapTotal/MemTotal × protection, truncated to bytes as oomd's int64 does."""
    threshold = _swap_threshold(snapshot, opts["threshold"])
    h = snapshot.host
    bias = (h.swap_total or 0) / h.mem_total if opts["biased_swap_kill"] and h.mem_total else None
    protection = Protection(snapshot)
    out = []
    for p in peers:
        c = snapshot.cgroup(p)
        swap = (c.swap_current if c else None) or 0
        if swap <= threshold:
            continue
        key = swap if bias is None else max(0, swap - int(bias * protection(p)))
        out.append(Ranked(p, preference(c) if c else NORMAL, (key,),
                          f"swap {fmt_bytes(swap)}" + ("" if bias is None else f", excess {fmt_bytes(int(key))}"),
                          {"swap_current": swap, "key": key, "threshold": threshold}))
    if not any((c := snapshot.cgroup(p)) is not None and c.swap_current is not None for p in peers):
        notes.append("no swap figures for these cgroups (cgroup v1 or not read): none counts as swapping")
    return out


def rank_pressure(snapshot: Snapshot, peers: list[str], opts: Mapping[str, Any], notes: list[str]) -> list[Ranked]:
    """kill_by_pressure: int(avg10/2 + avg60/2) of the "full" line.

    oomd ranks a cgroup whose pressure it cannot read as 0; on cgroup v2, where
    oomd runs, it always can. A snapshot's unknown pressure was not recorded,
    not read as 0, so such a cgroup is left out, with a note, rather than guessed.
    """
    if opts["resource"] == "io":
        notes.append("snapshots do not record io.pressure; nothing to rank by")
        return []
    out = []
    for p in peers:
        c = snapshot.cgroup(p)
        full = c.pressure.full if c and c.pressure else None
        if c is None or full is None or full.avg10 is None or full.avg60 is None:
            continue
        key = int(full.avg10 / 2 + full.avg60 / 2)
        out.append(Ranked(p, preference(c), (key,), f"full pressure avg10 {full.avg10:g}, avg60 {full.avg60:g}",
                          {"avg10": full.avg10, "avg60": full.avg60, "key": key}))
    if len(out) < len(peers):
        notes.append(f"memory.pressure unknown for {len(peers) - len(out)} cgroup(s) (cgroup v1 or not read)")
    return out


def rank_pgscan(snapshot: Snapshot, peers: list[str], opts: Mapping[str, Any], notes: list[str]) -> list[Ranked]:
    """kill_by_pg_scan: pgscan since the previous tick, only cgroups that scanned."""
    out, unknown = [], 0
    for p in peers:
        c = snapshot.cgroup(p)
        pgscan = c.stat.get("pgscan") if c else None
        prev = c.trend.pgscan_prev if c and c.trend else None
        if c is None or pgscan is None:
            continue
        if prev is None:
            unknown += 1
            out.append(Ranked(p, preference(c), (pgscan,), f"pgscan {pgscan} in total (delta unknown)",
                              {"pgscan": pgscan, "delta": None}))
        elif pgscan - prev > 0:
            out.append(Ranked(p, preference(c), (pgscan - prev,), f"pgscan +{pgscan - prev} since the last sample",
                              {"pgscan": pgscan, "delta": pgscan - prev}))
    if unknown:
        notes.append(f"pgscan delta unknown for {unknown} cgroup(s) (no earlier sample; oomd itself waits a tick): "
                     "ranked by total pgscan instead")
    if not any((c := snapshot.cgroup(p)) is not None and "pgscan" in c.stat for p in peers):
        notes.append("memory.stat has no pgscan here (cgroup v1 or not read)")
    return out


# -- choosing ------------------------------------------------------------------------


def ordered(ranked: list[Ranked]) -> list[Ranked]:
    """Descending by (preference, key); path order only makes our output repeatable."""
    by_path = sorted(ranked, key=lambda r: r.path)
    return sorted(by_path, key=lambda r: (r.pref, r.key), reverse=True)


def killable(snapshot: Snapshot, path: str) -> bool:
    """oomd skips a cgroup that is not populated or whose memory.stat anon is exactly 0."""
    c = snapshot.cgroup(path)
    if c is not None and c.stat.get("anon") == 0:
        return False
    return is_populated(snapshot, path)


@dataclass
class Choice:
    victim: str | None
    ranking: list[Ranked]
    descent: list[str]


def choose(snapshot: Snapshot, peers: list[str], rank: Ranker, opts: Mapping[str, Any], notes: list[str]) -> Choice:
    """The first killable cgroup in rank order; with `recursive`, a DFS down the winners."""
    ranking = ordered(rank(snapshot, peers, opts, notes))
    for r in ranking:
        c = snapshot.cgroup(r.path)
        children = list(snapshot.children(r.path))
        if opts["recursive"] and children and not (c and c.oom_group):
            below = choose(snapshot, children, rank, opts, notes)
            if below.victim is not None:
                return Choice(below.victim, below.ranking, [r.path, *below.descent])
            continue
        if killable(snapshot, r.path):
            return Choice(r.path, ranking, [])
    return Choice(None, ranking, [])


def _tie_note(ranking: list[Ranked], victim: str) -> str | None:
    first = next(r for r in ranking if r.path == victim)
    ties = [r.path for r in ranking if r is not first and (r.pref, r.key) == (first.pref, first.key)]
    if not ties:
        return None
    return f"std::sort is unstable: {', '.join(ties[:3])} ties with {victim}; oomd may pick either"


def decide(name: str, label: str, rank: Ranker, snapshot: Snapshot, domain: str, opts: Mapping[str, Any]) -> Decision:
    """One plugin's decision; each PolicySpec binds name, label and rank with functools.partial."""
    notes: list[str] = []
    peers = matched(snapshot, domain, opts["cgroup"])
    if not peers:
        return kill_nothing(name, domain, None, [], f"{label}: no cgroup matches the cgroup pattern", notes)
    choice = choose(snapshot, peers, rank, opts, notes)
    ranking = [
        Candidate(cgroup=r.path, score=float(r.key[-1]),  # the plugin's own figure, after its phases
                  why=f"{PREF_NAMES[r.pref]}, {r.why}", parts={"preference": PREF_NAMES[r.pref], **r.parts})
        for r in choice.ranking
    ]
    if choice.victim is None:
        why = "all kill candidate cgroups are empty" if choice.ranking else "no cgroup qualifies"
        return kill_nothing(name, domain, None, ranking, f"{label}: {why} ({TRIGGER})", notes)
    notes.append(_tie_note(choice.ranking, choice.victim) or "")
    via = f" via {' → '.join(choice.descent)}" if choice.descent else ""
    best = next(r for r in choice.ranking if r.path == choice.victim)
    reason = f"{label} kills {choice.victim}{via} ({PREF_NAMES[best.pref]}, {best.why}); {TRIGGER}"
    return kill_cgroup(snapshot, name, domain, None, choice.victim, ranking, reason, notes)


COMMON = (
    OptionSpec("cgroup", parse_patterns, (), "comma-separated cgroups, '*' one level (default: the domain's children)"),
    OptionSpec("recursive", parse_bool, False, "descend into the winner's children down to a leaf or oom.group"),
)

def _plugin(name: str, plugin: str, summary: str, rank: Ranker, options: tuple[OptionSpec, ...] = ()) -> PolicySpec:
    label = f"oomd {plugin}"
    return PolicySpec(name=name, title=label, summary=summary, decide=partial(decide, name, label, rank),
                      options=(*COMMON, *options), acts_when="by ruleset",
                      reads_oom_score_adj=False)


POLICIES = (
    _plugin(
        "oomd-size-or-growth", "kill_by_memory_size_or_growth",
        "Over size_threshold % of the peers, else the fastest grower among the largest, else the largest",
        rank_size_or_growth,
        (
            OptionSpec("size_threshold", parse_unsigned, 50, "percent of the peers' total memory.current"),
            OptionSpec("min_growth_ratio", parse_unsigned, 1.25,
                       "memory.current / decaying average; oomd parses a given value as an integer (1.25 → 1)"),
            OptionSpec("growing_size_percentile", parse_percentile, 80, "only the top (100 - P) % grow-kill"),
        ),
    ),
    _plugin(
        "oomd-swap", "kill_by_swap_usage",
        "The cgroup using the most swap (optionally beyond a protection-scaled allowance)", rank_swap,
        (
            OptionSpec("threshold", parse_threshold, None, "minimum swap: size (bare number = MiB) or N% of SwapTotal"),
            OptionSpec("biased_swap_kill", parse_bool, False, "rank by swap beyond SwapTotal/MemTotal × protection"),
        ),
    ),
    _plugin(
        "oomd-pressure", "kill_by_pressure", "The cgroup with the highest full pressure, int(avg10/2 + avg60/2)",
        rank_pressure,
        (OptionSpec("resource", lambda raw: _choice(raw, ("memory", "io")), "memory", "memory or io"),),
    ),
    _plugin(
        "oomd-pgscan", "kill_by_pg_scan", "The cgroup whose page scanning grew most since the previous sample",
        rank_pgscan,
    ),
)


def _choice(raw: str, allowed: tuple[str, ...]) -> str:
    v = raw.strip().lower()
    if v not in allowed:
        raise ValueError(f"expected one of {', '.join(allowed)}")
    return v
