"""nohang: one process by oom_score plus the configured regex adjustments.

nohang's "badness" is /proc/PID/oom_score, optionally minus 2/3 of a
positive oom_score_adj, plus every `@BADNESS_ADJ_RE_<PROPERTY> N /// REGEX`
line that matches, clamped at 0 (research/userspace-killers.md §4). It
sorts with Python's stable sort, so of equal badness the first process in
the /proc listing (lowest pid) is the victim.
"""

from __future__ import annotations

import heapq
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any

from oomtui.model import ROOT, Process, Snapshot
from oomtui.policies import topmost
from oomtui.policies.base import RANKING_MIN, Candidate, Decision, OptionSpec, PolicySpec, parse_bool, parse_percent
from oomtui.policies.daemon_common import (
    BLOCK,
    Readings,
    fmt_bytes,
    kill_nothing,
    kill_process,
    parse_int_min,
    readings,
    score_note,
)
from oomtui.policies.topmost import Column

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


def rate(p: Process, score: int, adjustments: tuple[Adjustment, ...], ignore_positive_adj: bool) -> tuple[int, dict]:
    """nohang's badness for one process with an oom_score, and each term it added."""
    parts: dict[str, int] = {}
    if ignore_positive_adj and p.oom_score_adj > 0:
        parts["ignore_positive_oom_score_adj"] = -(p.oom_score_adj * 2 // 3)
    for adj in adjustments:
        value = _property(p, adj.prop)
        if value is None or not adj.regex.search(value):
            continue
        if adj.value <= 0 or p.oom_score_adj >= 0:
            parts[adj.text] = adj.value
    return max(0, score + sum(parts.values())), parts


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


def _top(readings: Readings, opts: Mapping[str, Any], n: int) -> tuple[list[tuple[int, int]], dict[int, str]]:
    """The n best (badness, -position) nohang weighs, best first, and pid -> source of scores not read as-is.

    Sorted descending, the pairs are nohang's stable sort: pid order breaks
    ties. One pass keeps the n best in a heap; without adjustments the
    badness is the oom_score, so a process not above the n-th best so far is
    passed over unlooked-at (a later equal one sorts after): at 50,000
    processes only a few hundred are weighed in full, and `_above` sifts
    out the rest in C.
    """
    adjustments, ignore_positive = opts["badness_adj"], opts["ignore_positive_oom_score_adj"]
    adjusted = bool(adjustments or ignore_positive)
    processes = readings.processes
    scores = readings.codes  # an unknown one (UNKNOWN, below 1) is never weighed
    best: list[tuple[int, int]] = []
    floor = [0]  # a read score must be at least 1; shared with _above
    for i in _above(topmost.column("nohang scores", scores, BLOCK), floor):
        score = scores[i]
        if score <= floor[0]:
            continue
        p = processes[i]
        if p.pid == 1 or p.kernel_thread:
            continue
        item = (rate(p, score, adjustments, ignore_positive)[0] if adjusted else score, -i)
        if len(best) < n:
            heapq.heappush(best, item)
        elif item > best[0]:
            heapq.heapreplace(best, item)
        if not adjusted and len(best) == n:
            floor[0] = best[0][0]
    return sorted(best, reverse=True), _noted(readings)


def _above(scores: Column, floor: list[int]) -> Iterator[int]:
    """The places whose score is above the floor as it stands at each block's start (the floor only rises);
    a block whose largest is not is passed over whole."""
    for k, start in enumerate(range(0, len(scores.values), scores.chunk)):
        if scores.maxima[k] > floor[0]:
            yield from scores.at_least(start, floor[0] + 1)


def _noted(readings: Readings) -> dict[int, str]:
    """pid -> source of the scores not read as-is, of the processes nohang weighs."""
    noted = {}
    for i, source in readings.sources.items():
        p = readings.processes[i]
        if p.pid != 1 and not p.kernel_thread:
            noted[p.pid] = source
    return noted


def _candidate(readings: Readings, position: int, opts: Mapping[str, Any]) -> Candidate:
    p, read = readings.processes[position], readings.score(position)
    assert read.value is not None
    badness, parts = rate(p, read.value, opts["badness_adj"], opts["ignore_positive_oom_score_adj"])
    return Candidate(
        cgroup=p.cgroup, pid=p.pid, score=badness,
        why=f"{p.comm!r}: oom_score {read.value}" + "".join(f", {v:+d} ({k})" for k, v in parts.items())
        + f" = badness {badness}",
        parts={"oom_score": read.value, "oom_score_source": read.source, **parts, "badness": badness},
    )


def decide(snapshot: Snapshot, domain: str, opts: Mapping[str, Any]) -> Decision:
    adjustments: tuple[Adjustment, ...] = opts["badness_adj"]
    found = readings(snapshot)
    top, noted = _top(found, opts, 2 * RANKING_MIN)
    ranking = [_candidate(found, -neg, opts) for _, neg in top]
    triggered, state = _trigger(snapshot, opts)
    notes = [n for n in (score_note(noted, snapshot),) if n]
    unseen = [a.text for a in adjustments if a.prop in UNSEEN]
    if unseen:
        notes.append(f"the snapshot does not record {', '.join(sorted({a.split()[0] for a in unseen}))}; "
                     f"not applied: {'; '.join(unseen)}")
    scope = "" if domain == ROOT else f"; it watches the whole host, not {domain}"
    if not top or top[0][0] < opts["min_badness"]:
        reason = f"nohang finds no process with badness >= {opts['min_badness']} ({state}){scope}"
        return kill_nothing(NAME, domain, triggered, ranking, reason, notes)
    ties = [c for c in ranking[1:4] if c.score == ranking[0].score]  # equal badness sorts next, in pid order
    if ties:
        notes.append(f"badness tie with {', '.join(f'pid {c.pid}' for c in ties)}: "
                     "the first in /proc order wins, which a pid wrap-around can change")
    p = found.processes[-top[0][1]]
    reason = f"nohang picks pid {p.pid} {p.comm!r} with badness {top[0][0]} ({state}){scope}"
    return kill_process(NAME, domain, triggered, p, ranking, reason, notes)


POLICIES = (
    PolicySpec(
        name=NAME,
        title="nohang",
        summary="One process by oom_score plus nohang's @BADNESS_ADJ_RE_* adjustments; first listed wins ties",
        decide=decide,
        reads_cgroup_edits=False,
        options=(
            OptionSpec("badness_adj", parse_adjustments, (),
                       "lines 'NAME 200 /// ^Xorg$' (or CMDLINE, UID, CGROUP_V1, CGROUP_V2), ';;' between"),
            OptionSpec("ignore_positive_oom_score_adj", parse_bool, False,
                       "subtract 2/3 of a positive oom_score_adj from the badness"),
            OptionSpec("min_badness", partial(parse_int_min, 0), 1, "act only on a victim with at least this badness"),
            OptionSpec("soft_threshold_min_mem", parse_percent, 5.0, "SIGTERM when MemAvailable is at most this %"),
            OptionSpec("soft_threshold_min_swap", parse_percent, 10.0, "and SwapFree is at most this % of SwapTotal"),
            OptionSpec("hard_threshold_min_mem", parse_percent, 2.0, "SIGKILL when MemAvailable is at most this %"),
            OptionSpec("hard_threshold_min_swap", parse_percent, 4.0, "and SwapFree is at most this % of SwapTotal"),
        ),
    ),
)
