"""earlyoom: one process, picked by a pairwise fold over /proc in pid order.

earlyoom never sorts. It walks /proc once and asks, for each process,
"is this one larger than the victim so far?" (kill.c is_larger). With
--sort-by-rss that test switches keys when an RSS is not positive, and
--avoid subtracts 3 GiB from an RSS, so the relation is not a total order
and the outcome depends on the walk order: a plain maximum gives a
different answer. We emulate the fold, step by step, for both the current
rules and the 1.7 rules Debian bookworm ships (research/userspace-killers.md §3).
"""

from __future__ import annotations

import heapq
import re
from array import array
from bisect import bisect_left
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import islice
from math import inf
from typing import Any

from oomtui.model import ROOT, Process, Snapshot
from oomtui.policies import topmost
from oomtui.policies.base import RANKING_MIN, Candidate, Decision, OptionSpec, PolicySpec, parse_bool, parse_percent
from oomtui.policies.carry import carried_columns
from oomtui.policies.daemon_common import (
    BLOCK,
    UNKNOWN,
    Readings,
    Score,
    count,
    kill_nothing,
    kill_process,
    parse_regex,
    readings,
    score_note,
)
from oomtui.policies.topmost import Column

NAME = "earlyoom"
SCORE_PREFER = 300  # OOM_SCORE_PREFER / BADNESS_PREFER
RSS_PREFER_KIB = 3 * 1024 * 1024  # VMRSS_PREFER: 3 GiB in KiB
FIELD_NOT_SET = -9999  # PROCINFO_FIELD_NOT_SET: the current rules' starting "victim"
OLD = (1, 7)
BEST = 2 * RANKING_MIN + 1  # keys ranked: enough to show 20 besides the victim
NEAR = 4  # keys within a point of the victim named: three besides it (fewer than BEST, see Kept)
NEWER_ONLY = ("ignore", "ignore_root_user", "sort_by_rss")


def parse_version(raw: str) -> tuple[int, int]:
    """"current" (or empty) means the newest rules; "1.7" the rules before 1.8."""
    v = raw.strip().lower().lstrip("v")
    if v in ("", "current", "master", "latest"):
        return (99, 0)
    try:
        major, minor = (int(x) for x in v.split(".")[:2])
    except ValueError:
        raise ValueError('expected a version such as "1.7", "1.8" or "current"') from None
    if (major, minor) < OLD:
        raise ValueError("only earlyoom 1.7 and later are emulated")
    return (major, minor)


@dataclass(frozen=True, slots=True)
class Entry:
    """One process as is_larger sees it: score and RSS after --prefer/--avoid."""

    process: Process
    score: int
    rss_kib: int
    read_score: Score
    prefer: bool
    avoid: bool


Larger = Callable[[Entry, Entry], bool]


def _by_score(victim_score: int, victim_rss: int, score: int, rss: int) -> bool:
    return score > victim_score or (score == victim_score and rss > victim_rss)


def _by_rss(victim_score: int, victim_rss: int, score: int, rss: int) -> bool:
    if rss > 0 and victim_rss > 0:
        return rss > victim_rss or (rss == victim_rss and score > victim_score)
    return _by_score(victim_score, victim_rss, score, rss)


def larger_current(sort_by_rss: bool) -> Larger:
    """is_larger's comparison since 1.8 (cur against the victim so far)."""
    rule = _by_rss if sort_by_rss else _by_score
    return lambda victim, cur: rule(victim.score, victim.rss_kib, cur.score, cur.rss_kib)


def larger_17(victim: Entry, cur: Entry) -> bool:
    """is_larger in 1.7: higher badness, equal badness and strictly larger RSS."""
    return _by_score(victim.score, victim.rss_kib, cur.score, cur.rss_kib)


# A walked process as the fold sees it: (score, rss_kib, -i), i its place in pid order. By score,
# is_larger is exactly tuple order, and -i never decides it (a later process has the smaller -i),
# while the same tuples sorted descending give the ranking with pid order breaking ties.
Key = tuple[int, int, int]


def fold(keys: list[Key], sort_by_rss: bool, start: Key) -> list[Key]:
    """Every key that held the victim's place, walking `keys` in order; the last one is the victim."""
    trail = []
    victim = start
    if sort_by_rss:
        for key in keys:
            if _by_rss(victim[0], victim[1], key[0], key[1]):
                victim = key
                trail.append(key)
    else:
        for key in keys:
            if key > victim:
                victim = key
                trail.append(key)
    return trail


def _start(old: bool) -> Key:
    """The victim before the walk; its third item is above every -i, so an equal process never replaces it."""
    value = 0 if old else FIELD_NOT_SET  # 1.7 starts from a zeroed victim
    return (value, value, 1)


@dataclass(frozen=True, slots=True)
class Walk:
    readings: Readings
    keys: list[Key]  # of the processes is_larger compares that can matter (see _walk), in pid order
    noted: dict[int, str]  # pid -> source of the compared-for scores that were not read as-is
    unreadable: int  # processes left out for want of an oom_score or an RSS
    anon: int  # every process's RssAnon summed: the walk reads it anyway, for the AnonPages estimate


def _walk(snapshot: Snapshot, opts: Mapping[str, Any], old: bool) -> Walk:
    """The processes is_larger would not reject before comparing, in /proc (pid) order; by score, only those
    that can matter.

    One flat loop with the regexes tried only when given: it runs on every
    keypress. By score, most processes cannot matter (see Kept), and one
    whose score, even with --prefer, is below Kept's floor is passed over
    once its RSS split is seen to be known (an unknown one would count it
    unreadable): at 50,000 processes that is most of the walk, and
    `_visited` leaves those out without reading the processes, from columns
    carried over from the last evaluation (policies/carry.py).
    """
    prefer, avoid, ignore = opts["prefer"], opts["avoid"], None if old else opts["ignore"]
    sort_by_rss = opts["sort_by_rss"] and not old
    skip_root = opts["ignore_root_user"] and not old
    lowest = 1 if old else 2
    found = readings(snapshot)
    processes, codes = found.processes, found.codes
    anon, split, sizes, ranks = _sizes(processes)
    if found.sources:  # the scores not read as-is: their ranks with the score the walk compares
        ranks = ranks[:]
        for i in found.sources:
            ranks[i] = _rank(codes[i], sizes[i])
    apart = sorted({*topmost.places_of(split, 0), *(i for i in found.sources if codes[i] == UNKNOWN)})
    anon_total = sum(anon)
    keys: list[Key] = []
    unreadable = 0
    boost = 0 if sort_by_rss or not prefer else SCORE_PREFER
    kept = None if sort_by_rss else Kept()  # by RSS, every key is kept
    cut = [-inf]  # shared with _visited, which passes over the places it rules out
    as_read = None if prefer or avoid or ignore else kept  # its keys hold each score and RSS as read
    for i in _visited(topmost.column("earlyoom ranks", ranks, BLOCK), apart, cut, as_read):
        code = codes[i]
        if code != UNKNOWN and code < cut[0] and split[i]:
            continue
        score = None if code == UNKNOWN else code
        p = processes[i]
        if not _compared(p, lowest, old, skip_root):
            continue
        rss = p.rss
        if score is None or rss is None:
            unreadable += 1
            continue
        rss_kib = rss // 1024
        if prefer or avoid or ignore:
            if ignore and ignore.search(p.comm):
                continue
            is_prefer, is_avoid = _tags(p, prefer, avoid)
            delta = is_prefer - is_avoid
            if sort_by_rss:
                rss_kib += delta * RSS_PREFER_KIB
            else:
                score += delta * SCORE_PREFER
        key = (score, rss_kib, -i)
        if kept is None:
            keys.append(key)
        elif kept.wanted(key):
            keys.append(key)
            cut[0] = kept.floor - boost
    noted = {found.processes[i].pid: s for i, s in found.sources.items()
             if _compared(found.processes[i], lowest, old, skip_root)}
    return Walk(found, keys, noted, unreadable, anon_total)


def _visited(ranks: Column, apart: list[int], cut: list[float], as_read: Kept | None) -> Iterator[int]:
    """The places the walk looks at, a block at a time: of each block only those the cut reached
    before it cannot pass over (the cut only rises): a score at or above it, and those `apart` (an
    unknown score or RSS split).

    Where the keys kept are as read (`as_read`), a place at the smallest kept one's score enters
    only with a larger RSS (a later place loses a tie), so one with its RSS at or below is passed
    over too: a host's top scores are often one value shared by thousands. A rank (score, then RSS,
    in one integer) tells both at once, and a block whose largest rank is below the bar is not
    looked into. At 50,000 processes by score that leaves a few hundred; with every key kept (by
    RSS) the cut stays at minus infinity and every place is visited.
    """
    values, chunk, at = ranks.values, ranks.chunk, 0
    for k, start in enumerate(range(0, len(values), chunk)):
        floor = as_read.best[0] if as_read is not None and len(as_read.best) == BEST else None
        if floor is not None:
            bar: float = _rank(floor[0], floor[1]) + 1
        else:
            bar = cut[0] if cut[0] == -inf else _rank(int(cut[0]), 0)
        stop = bisect_left(apart, start + chunk, at)
        extra, at = apart[at:stop], stop
        if ranks.maxima[k] < bar:
            yield from extra
        elif extra:
            yield from sorted({*ranks.at_least(start, bar), *extra})
        else:
            yield from ranks.at_least(start, bar)


RSS_BITS = 42  # a rank is the score shifted past the RSS in KiB (below 4 PiB): both compared in one integer


def _rank(score: int, rss_kib: int) -> int:
    return (score << RSS_BITS) + max(rss_kib, 0)


def anon_pages(snapshot: Snapshot) -> int:
    """AnonPages as earlyoom estimates it: every process's RssAnon summed, from the columns its walk
    carries (the distance to its threshold, inforce.py, asks for it on every edit)."""
    return sum(_sizes(readings(snapshot).processes)[0])


def _sizes(processes: tuple[Process, ...]) -> tuple[array[int], ...]:
    return carried_columns("earlyoom sizes", processes, _every_sizes)


def _every_sizes(processes: Sequence[Process]) -> tuple[array[int], array[int], array[int], array[int]]:
    """Each process's RssAnon (unknown as 0, as the sum counts it), whether its RSS split is known, its
    RSS in KiB (Process.rss; UNKNOWN where unknown) and its rank as read (oom_score, then RSS), written
    out flat: 50,000 processes a new sample."""
    anon, split, rss, ranks = array("q"), array("b"), array("q"), array("q")
    for p in processes:
        a, f, s = p.rss_anon, p.rss_file, p.rss_shmem
        known = a is not None and f is not None and s is not None
        anon.append(a or 0)
        split.append(known)
        total = a + f + s if known else p.rss_total  # type: ignore[operator]
        if total is None:
            rss.append(UNKNOWN)
            kib = 0
        else:
            rss.append(kib := total // 1024)
        score = p.oom_score
        ranks.append(((UNKNOWN if score is None else score) << RSS_BITS) + kib)  # _rank, written out
    return anon, split, rss, ranks


class Kept:
    """The BEST largest keys walked so far: all of a walk the decision by score reads.

    A key that takes the victim's place in the fold is larger than every
    key before it, so it enters them. Of the keys within a point of the
    victim the note names the first NEAR (fewer than BEST): one that does
    not enter has BEST larger keys before it, all within a point as well.
    `floor`: a later key with a lower score cannot enter, whatever its RSS.
    """

    __slots__ = ("best", "floor")

    def __init__(self) -> None:
        self.best: list[Key] = []  # a heap
        self.floor: float = -inf

    def wanted(self, key: Key) -> bool:
        """Whether the key enters the best so far."""
        if len(self.best) < BEST:
            heapq.heappush(self.best, key)
        elif key > self.best[0]:
            heapq.heapreplace(self.best, key)
        else:
            return False
        if len(self.best) == BEST:
            self.floor = self.best[0][0]
        return True


def _compared(p: Process, lowest: int, old: bool, skip_root: bool) -> bool:
    """Whether is_larger looks at the process at all, readable or not."""
    if p.pid <= lowest or p.kernel_thread or p.oom_score_adj == -1000:
        return False
    if old and not p.rss:  # 1.7 tells kernel threads by their zero RSS
        return False
    return not (skip_root and p.uid == 0)


def _tags(p: Process, prefer: re.Pattern[str] | None, avoid: re.Pattern[str] | None) -> tuple[bool, bool]:
    """Whether --prefer and --avoid match the comm."""
    return bool(prefer and prefer.search(p.comm)), bool(avoid and avoid.search(p.comm))


def _entry(readings: Readings, key: Key, opts: Mapping[str, Any]) -> Entry:
    """A walked process in full, built only for the few a decision shows."""
    score, rss_kib, neg = key
    p = readings.processes[-neg]
    return Entry(p, score, rss_kib, readings.score(-neg), *_tags(p, opts["prefer"], opts["avoid"]))


def _mem_percent(snapshot: Snapshot, old: bool, anon: int) -> tuple[float | None, str | None]:
    """earlyoom's "mem avail" percentage: of MemTotal in 1.7, of MemAvailable + AnonPages since 1.8."""
    h = snapshot.host
    if h.mem_available is None or not h.mem_total:
        return None, None
    if old:
        return h.mem_available * 100 / h.mem_total, None
    base = h.mem_available + anon
    note = "AnonPages estimated as the sum of the processes' RssAnon"
    return (h.mem_available * 100 / base if base else None), note


def _swap_percent(snapshot: Snapshot) -> float | None:
    h = snapshot.host
    if h.swap_total is None or h.swap_free is None:
        return None
    return h.swap_free * 100 / h.swap_total if h.swap_total > 0 else 0.0


def _trigger(snapshot: Snapshot, opts: Mapping[str, Any], old: bool, anon: int) -> tuple[bool | None, str, str | None]:
    mem, note = _mem_percent(snapshot, old, anon)
    swap = _swap_percent(snapshot)
    mem_min, swap_min = opts["mem_min_percent"], opts["swap_min_percent"]
    if mem is None or swap is None:
        return None, "memory or swap figures unknown, so whether it acts now is unknown", None
    state = f"mem avail {mem:.2f}% (min {mem_min:g}%), swap free {swap:.2f}% (min {swap_min:g}%)"
    if mem <= mem_min / 2 and swap <= swap_min / 2:
        return True, f"{state}: SIGKILL", note
    if mem <= mem_min and swap <= swap_min:
        return True, f"{state}: SIGTERM", note
    near = note if abs(mem - mem_min) < 1 else None
    return False, f"{state}: not acting", near


def _why(e: Entry, sort_by_rss: bool) -> str:
    tags = " (--prefer)" if e.prefer else ""
    tags += " (--avoid)" if e.avoid else ""
    score = f"oom_score {e.score}" + ("" if sort_by_rss else tags)
    rss = f"VmRSS {e.rss_kib // 1024} MiB" + (tags if sort_by_rss else "")
    return f"{e.process.comm!r}: {score}, {rss}"


def _candidate(e: Entry, sort_by_rss: bool, role: str) -> Candidate:
    return Candidate(
        cgroup=e.process.cgroup,
        pid=e.process.pid,
        score=e.rss_kib if sort_by_rss else e.score,
        why=f"{role}{_why(e, sort_by_rss)}",
        parts={
            "oom_score": e.read_score.value,
            "oom_score_source": e.read_score.source,
            "score": e.score,
            "rss_kib": e.rss_kib,
            "prefer": e.prefer,
            "avoid": e.avoid,
            "oom_score_adj": e.process.oom_score_adj,
        },
    )


def decide(snapshot: Snapshot, domain: str, opts: Mapping[str, Any]) -> Decision:
    version = opts["version"]
    old = version < (1, 8)
    label = "earlyoom 1.7" if old else "earlyoom"
    if old:
        bad = [o.replace("_", "-") for o in NEWER_ONLY if opts[o]]
        if bad:
            return Decision(
                policy=NAME, domain=domain, triggered=None,
                reason=f"{label} has no --{', --'.join(bad)}: it would exit with 'unrecognized option'",
            )
    sort_by_rss = opts["sort_by_rss"] and not old
    walk = _walk(snapshot, opts, old)
    trail = fold(walk.keys, sort_by_rss, _start(old))
    triggered, state, trigger_note = _trigger(snapshot, opts, old, walk.anon)

    best = _best(walk.keys, sort_by_rss, BEST)
    victim_key = trail[-1] if trail else None
    shown = [k for k in best if k != victim_key]
    if victim_key is not None:
        shown.insert(0, victim_key)
    shown = shown[: 2 * RANKING_MIN]
    found = walk.readings
    entries = {k: _entry(found, k, opts) for k in {*shown, *trail[-4:]}}
    held = {found.processes[-k[2]].pid: i + 1 for i, k in enumerate(trail[:-1])}
    ranking = [_candidate(entries[k], sort_by_rss, _role(entries[k], k == victim_key, held)) for k in shown]

    notes = [n for n in (score_note(walk.noted, snapshot), trigger_note) if n]
    if walk.unreadable:
        notes.append(f"{count(walk.unreadable)} without oom_score or RSS left out")
    scope = "" if domain == ROOT else f"; it watches the whole host, not {domain}"
    if victim_key is None:
        reason = f"{label} finds no process to kill ({state}){scope}"
        return kill_nothing(NAME, domain, triggered, ranking, reason, notes)
    victim = entries[victim_key]
    fold_path = " → ".join(str(entries[k].process.pid) for k in trail[-4:])
    differs = (
        f"; the pairwise ranking puts pid {entries[best[0]].process.pid} first, but the pid-order fold ({fold_path}) "
        "ends here" if best[0] != victim_key else ""
    )
    if not sort_by_rss:
        near = [k for k in islice(_within_a_point(walk.keys, victim.score), NEAR) if k != victim_key][:NEAR - 1]
        if near:
            others = ", ".join(f"pid {found.processes[-k[2]].pid} (oom_score {k[0]})" for k in near)
            notes.append(f"oom_score is rounded and moves with memory use; {others} within a point")
    reason = f"{label} picks pid {victim.process.pid} {_why(victim, sort_by_rss)} ({state}){differs}{scope}"
    return kill_process(NAME, domain, triggered, victim.process, ranking, reason, notes)


def _best(keys: list[Key], sort_by_rss: bool, n: int) -> list[Key]:
    """The n first of earlyoom's ranking, ordered as is_larger compares each pair.

    By score the comparison is a total order: (score, RSS, pid order). With
    --sort-by-rss it compares by RSS only when both RSS are positive, else by
    score first (a zombie main thread reads RSS 0; --avoid pushes RSS below
    0), so no one key orders it. Each side (RSS above 0, the rest) is totally
    ordered; the two are merged by comparing their heads pairwise. That gives
    the one order consistent with every pairwise comparison wherever such an
    order exists, and a definite one where the comparison goes round in a
    circle (then the fold, not a ranking, decides the victim).
    """
    if not sort_by_rss:
        return heapq.nlargest(n, keys)
    positive = heapq.nlargest(n, (k for k in keys if k[1] > 0), key=lambda k: (k[1], k[0], k[2]))
    return merge_pairwise(positive, heapq.nlargest(n, (k for k in keys if k[1] <= 0)))[:n]


def merge_pairwise(positive: list[Key], other: list[Key]) -> list[Key]:
    """Two ranked lists as one: of the two heads, the one --sort-by-rss's is_larger puts first goes next."""
    out: list[Key] = []
    i = j = 0
    while i < len(positive) and j < len(other):
        a, b = positive[i], other[j]
        earlier, later = (a, b) if a[2] > b[2] else (b, a)  # the larger -place is the earlier pid
        if _by_rss(earlier[0], earlier[1], later[0], later[1]) == (later is a):  # a takes or keeps the place
            out.append(a)
            i += 1
        else:
            out.append(b)
            j += 1
    return out + positive[i:] + other[j:]


def _role(e: Entry, is_victim: bool, held: dict[int, int]) -> str:
    if is_victim:
        return "victim: "
    step = held.get(e.process.pid)
    return "" if step is None else f"held the place (step {step} of the fold): "


def _within_a_point(keys: list[Key], score: int) -> Iterator[Key]:
    return (key for key in keys if abs(key[0] - score) <= 1)


POLICIES = (
    PolicySpec(
        name=NAME,
        title="earlyoom",
        summary="One process by oom_score (±300 for --prefer/--avoid) or RSS, chosen by earlyoom's pid-order fold",
        decide=decide,
        reads_cgroup_edits=False,
        options=(
            OptionSpec("prefer", parse_regex, None, "--prefer REGEX on comm: oom_score +300 (RSS +3 GiB)"),
            OptionSpec("avoid", parse_regex, None, "--avoid REGEX on comm: oom_score -300 (RSS -3 GiB)"),
            OptionSpec("ignore", parse_regex, None, "--ignore REGEX on comm: never a victim (1.8+)"),
            OptionSpec("sort_by_rss", parse_bool, False, "--sort-by-rss: rank by RSS first (1.8+)"),
            OptionSpec("ignore_root_user", parse_bool, False, "--ignore-root-user: skip uid 0 (1.8+)"),
            OptionSpec("mem_min_percent", parse_percent, 10.0, "-m: act when available memory is at most this"),
            OptionSpec("swap_min_percent", parse_percent, 10.0, "-s: and free swap is at most this"),
            OptionSpec("version", parse_version, (99, 0), 'rules of this release: "current" or "1.7" (Debian 12)'),
        ),
    ),
)
