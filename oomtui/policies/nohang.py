"""nohang: one process by oom_score plus the configured regex adjustments.

nohang's "badness" is /proc/PID/oom_score, optionally minus 2/3 of a
positive oom_score_adj, plus every `@BADNESS_ADJ_RE_<PROPERTY> N /// REGEX`
line that matches, clamped at 0 (research/userspace-killers.md §4). It
sorts with Python's stable sort, so of equal badness the first process in
the /proc listing (lowest pid) is the victim.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from oomtui.model import ROOT, Process, Snapshot
from oomtui.policies.base import Candidate, Decision, OptionSpec, PolicySpec, parse_bool, parse_percent
from oomtui.policies.daemon_common import (
    Score,
    fmt_bytes,
    kill_nothing,
    kill_process,
    oom_score,
    parse_int_min,
    score_note,
)

NAME = "nohang"
PROPERTIES = ("NAME", "CMDLINE", "UID", "CGROUP_V1", "CGROUP_V2", "ENVIRON", "REALPATH", "CWD")
UNSEEN = ("ENVIRON", "REALPATH", "CWD")  # a snapshot does not record these
_LINE = re.compile(r"^\s*(?:@BADNESS_ADJ_RE_)?([A-Z_0-9]+)\s+(-?\d+)\s+///\s*(.*?)\s*$")


@dataclass(frozen=True, slots=True)
class Adjustment:
    prop: str
    value: int
    regex: re.Pattern[str]

    @property
    def text(self) -> str:
        return f"{self.prop} {self.value:+d} /// {self.regex.pattern}"


def parse_adjustments(raw: str) -> tuple[Adjustment, ...]:
    """nohang.conf lines `@BADNESS_ADJ_RE_NAME 200 /// ^Xorg$`, separated by newlines or ";;"."""
    out = []
    for line in re.split(r"\n|;;", raw):
        if not line.strip():
            continue
        m = _LINE.match(line)
        if not m or m.group(1) not in PROPERTIES:
            names = ", ".join(PROPERTIES)
            raise ValueError(f"expected 'PROPERTY N /// REGEX' with PROPERTY one of {names}, got {line.strip()!r}")
        try:
            regex = re.compile(m.group(3))
        except re.error as e:
            raise ValueError(f"bad regular expression {m.group(3)!r}: {e}") from None
        out.append(Adjustment(m.group(1), int(m.group(2)), regex))
    return tuple(out)


def _property(p: Process, prop: str) -> str | None:
    if prop == "NAME":
        return p.comm
    if prop == "CMDLINE":
        return " ".join(p.cmdline)
    if prop == "UID":
        return None if p.uid is None else str(p.uid)
    if prop in ("CGROUP_V1", "CGROUP_V2"):
        return p.cgroup
    return None


@dataclass(frozen=True, slots=True)
class Rated:
    process: Process
    score: Score
    badness: int
    parts: dict[str, int]


def rate(p: Process, score: Score, adjustments: tuple[Adjustment, ...], ignore_positive_adj: bool) -> Rated:
    """nohang's badness for one process, with each term it added."""
    assert score.value is not None
    parts: dict[str, int] = {}
    badness = score.value
    if badness == 0:  # the fast search never looks at oom_score 0
        return Rated(p, score, 0, parts)
    if ignore_positive_adj and p.oom_score_adj > 0:
        parts["ignore_positive_oom_score_adj"] = -(p.oom_score_adj * 2 // 3)
    for adj in adjustments:
        value = _property(p, adj.prop)
        if value is None or not adj.regex.search(value):
            continue
        if adj.value <= 0 or p.oom_score_adj >= 0:
            parts[adj.text] = adj.value
    badness = max(0, badness + sum(parts.values()))
    return Rated(p, score, badness, parts)


def _trigger(snapshot: Snapshot, opts: Mapping[str, Any]) -> tuple[bool | None, str]:
    h = snapshot.host
    if h.mem_total is None or h.mem_available is None or h.swap_total is None or h.swap_free is None:
        return None, "memory or swap figures unknown"
    soft_mem = h.mem_total * opts["soft_threshold_min_mem"] / 100
    soft_swap = h.swap_total * opts["soft_threshold_min_swap"] / 100
    hard_mem = h.mem_total * opts["hard_threshold_min_mem"] / 100
    hard_swap = h.swap_total * opts["hard_threshold_min_swap"] / 100
    state = f"MemAvailable {fmt_bytes(h.mem_available)}, SwapFree {fmt_bytes(h.swap_free)}"
    if h.mem_available <= hard_mem and h.swap_free <= hard_swap:
        return True, f"{state}: below the hard threshold (SIGKILL)"
    if h.mem_available <= soft_mem and h.swap_free <= soft_swap:
        return True, f"{state}: below the soft threshold (SIGTERM)"
    return False, f"{state}: above the soft threshold"


def decide(snapshot: Snapshot, domain: str, opts: Mapping[str, Any]) -> Decision:
    adjustments: tuple[Adjustment, ...] = opts["badness_adj"]
    scores: dict[int, Score] = {}
    rated: list[Rated] = []
    for p in sorted(snapshot.processes, key=lambda p: p.pid):
        if p.pid == 1 or p.kernel_thread:
            continue
        s = oom_score(snapshot, p)
        scores[p.pid] = s
        if s.value is None or s.value < 1:
            continue
        rated.append(rate(p, s, adjustments, opts["ignore_positive_oom_score_adj"]))
    ordered = sorted(rated, key=lambda r: r.badness, reverse=True)  # stable: pid order breaks ties
    ranking = [
        Candidate(
            cgroup=r.process.cgroup, pid=r.process.pid, score=r.badness,
            why=f"{r.process.comm!r}: oom_score {r.score.value}"
            + "".join(f", {v:+d} ({k})" for k, v in r.parts.items()) + f" = badness {r.badness}",
            parts={"oom_score": r.score.value, "oom_score_source": r.score.source, **r.parts, "badness": r.badness},
        )
        for r in ordered
    ]
    triggered, state = _trigger(snapshot, opts)
    notes = [n for n in (score_note(scores, snapshot),) if n]
    unseen = [a.text for a in adjustments if a.prop in UNSEEN]
    if unseen:
        notes.append(f"the snapshot does not record {', '.join(sorted({a.split()[0] for a in unseen}))}; "
                     f"not applied: {'; '.join(unseen)}")
    scope = "" if domain == ROOT else f"; it watches the whole host, not {domain}"
    best = ordered[0] if ordered else None
    if best is None or best.badness < opts["min_badness"]:
        reason = f"nohang finds no process with badness >= {opts['min_badness']} ({state}){scope}"
        return kill_nothing(NAME, domain, triggered, ranking, reason, notes)
    ties = [r for r in ordered[1:] if r.badness == best.badness]
    if ties:
        notes.append(f"badness tie with {', '.join(f'pid {r.process.pid}' for r in ties[:3])}: "
                     "the first in /proc order wins, which a pid wrap-around can change")
    p = best.process
    reason = f"nohang picks pid {p.pid} {p.comm!r} with badness {best.badness} ({state}){scope}"
    return kill_process(NAME, domain, triggered, p, ranking, reason, notes)


POLICIES = (
    PolicySpec(
        name=NAME,
        title="nohang",
        summary="One process by oom_score plus nohang's @BADNESS_ADJ_RE_* adjustments; first listed wins ties",
        decide=decide,
        options=(
            OptionSpec("badness_adj", parse_adjustments, (),
                       "lines 'NAME 200 /// ^Xorg$' (or CMDLINE, UID, CGROUP_V1, CGROUP_V2), ';;' between"),
            OptionSpec("ignore_positive_oom_score_adj", parse_bool, False,
                       "subtract 2/3 of a positive oom_score_adj from the badness"),
            OptionSpec("min_badness", parse_int_min(0), 1, "act only on a victim with at least this badness"),
            OptionSpec("soft_threshold_min_mem", parse_percent, 5.0, "SIGTERM when MemAvailable is at most this %"),
            OptionSpec("soft_threshold_min_swap", parse_percent, 10.0, "and SwapFree is at most this % of SwapTotal"),
            OptionSpec("hard_threshold_min_mem", parse_percent, 2.0, "SIGKILL when MemAvailable is at most this %"),
            OptionSpec("hard_threshold_min_swap", parse_percent, 4.0, "and SwapFree is at most this % of SwapTotal"),
        ),
    ),
)
