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

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from oomtui.model import ROOT, Process, Snapshot
from oomtui.policies.base import Candidate, Decision, OptionSpec, PolicySpec, parse_bool, parse_percent
from oomtui.policies.daemon_common import Score, count, kill_nothing, kill_process, oom_score, parse_regex, score_note

NAME = "earlyoom"
SCORE_PREFER = 300  # OOM_SCORE_PREFER / BADNESS_PREFER
RSS_PREFER_KIB = 3 * 1024 * 1024  # VMRSS_PREFER: 3 GiB in KiB
FIELD_NOT_SET = -9999  # PROCINFO_FIELD_NOT_SET: the current rules' starting "victim"
OLD = (1, 7)
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


def larger_current(sort_by_rss: bool) -> Larger:
    """is_larger's comparison since 1.8 (cur against the victim so far)."""

    def by_score(victim: Entry, cur: Entry) -> bool:
        return cur.score > victim.score or (cur.score == victim.score and cur.rss_kib > victim.rss_kib)

    def by_rss(victim: Entry, cur: Entry) -> bool:
        if cur.rss_kib > 0 and victim.rss_kib > 0:
            return cur.rss_kib > victim.rss_kib or (cur.rss_kib == victim.rss_kib and cur.score > victim.score)
        return by_score(victim, cur)

    return by_rss if sort_by_rss else by_score


def larger_17(victim: Entry, cur: Entry) -> bool:
    """is_larger in 1.7: higher badness, equal badness and strictly larger RSS."""
    return cur.score > victim.score or (cur.score == victim.score and cur.rss_kib > victim.rss_kib)


def fold(entries: list[Entry], start: Entry, larger: Larger) -> tuple[Entry | None, list[Entry]]:
    """The victim after walking `entries` in order, and every process that held the place."""
    victim, trail = start, []
    for cur in entries:
        if larger(victim, cur):
            victim = cur
            trail.append(cur)
    return (trail[-1] if trail else None), trail


def _sentinel(old: bool) -> Entry:
    nothing = Process(pid=0, comm="", cgroup=ROOT)
    value = 0 if old else FIELD_NOT_SET  # 1.7 starts from a zeroed victim
    return Entry(nothing, value, value, Score(None, "unknown"), False, False)


@dataclass(frozen=True, slots=True)
class Walk:
    entries: list[Entry]
    scores: dict[int, Score]
    skipped: dict[str, int]


def _walk(snapshot: Snapshot, opts: Mapping[str, Any], old: bool) -> Walk:
    """The processes is_larger would not reject before comparing, in /proc (pid) order."""
    prefer, avoid, ignore = opts["prefer"], opts["avoid"], opts["ignore"]
    sort_by_rss = opts["sort_by_rss"] and not old
    entries: list[Entry] = []
    scores: dict[int, Score] = {}
    skipped = {"unreadable": 0, "ignored": 0, "root": 0}
    for p in sorted(snapshot.processes, key=lambda p: p.pid):
        if p.pid <= (1 if old else 2) or p.kernel_thread or p.oom_score_adj == -1000:
            continue
        rss = p.rss
        if old and not rss:  # 1.7 tells kernel threads by their zero RSS
            continue
        if not old and opts["ignore_root_user"] and p.uid == 0:
            skipped["root"] += 1
            continue
        score = oom_score(snapshot, p)
        scores[p.pid] = score
        if score.value is None or rss is None:
            skipped["unreadable"] += 1
            continue
        is_prefer = bool(prefer and prefer.search(p.comm))
        is_avoid = bool(avoid and avoid.search(p.comm))
        if not old and ignore and ignore.search(p.comm):
            skipped["ignored"] += 1
            continue
        value, rss_kib = score.value, rss // 1024
        delta = (1 if is_prefer else 0) - (1 if is_avoid else 0)
        if sort_by_rss:
            rss_kib += delta * RSS_PREFER_KIB
        else:
            value += delta * SCORE_PREFER
        entries.append(Entry(p, value, rss_kib, score, is_prefer, is_avoid))
    return Walk(entries, scores, skipped)


def _mem_percent(snapshot: Snapshot, old: bool) -> tuple[float | None, str | None]:
    """earlyoom's "mem avail" percentage: of MemTotal in 1.7, of MemAvailable + AnonPages since 1.8."""
    h = snapshot.host
    if h.mem_available is None or not h.mem_total:
        return None, None
    if old:
        return h.mem_available * 100 / h.mem_total, None
    anon = sum(p.rss_anon or 0 for p in snapshot.processes)
    base = h.mem_available + anon
    note = "AnonPages estimated as the sum of the processes' RssAnon"
    return (h.mem_available * 100 / base if base else None), note


def _swap_percent(snapshot: Snapshot) -> float | None:
    h = snapshot.host
    if h.swap_total is None or h.swap_free is None:
        return None
    return h.swap_free * 100 / h.swap_total if h.swap_total > 0 else 0.0


def _trigger(snapshot: Snapshot, opts: Mapping[str, Any], old: bool) -> tuple[bool | None, str, str | None]:
    mem, note = _mem_percent(snapshot, old)
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
    larger = larger_17 if old else larger_current(sort_by_rss)
    victim, trail = fold(walk.entries, _sentinel(old), larger)
    triggered, state, trigger_note = _trigger(snapshot, opts, old)

    def key(e: Entry) -> tuple[int, int]:
        return (e.rss_kib, e.score) if sort_by_rss else (e.score, e.rss_kib)

    ordered = sorted(walk.entries, key=key, reverse=True)
    if victim is not None:
        ordered.remove(victim)
        ordered.insert(0, victim)
    roles = {e.process.pid: f"held the place (step {i + 1} of the fold): " for i, e in enumerate(trail[:-1])}
    ranking = [_candidate(e, sort_by_rss, "victim: " if e is victim else roles.get(e.process.pid, "")) for e in ordered]

    notes = [n for n in (score_note(walk.scores, snapshot), trigger_note) if n]
    if walk.skipped["unreadable"]:
        notes.append(f"{count(walk.skipped['unreadable'])} without oom_score or RSS left out")
    scope = "" if domain == ROOT else f"; it watches the whole host, not {domain}"
    if victim is None:
        reason = f"{label} finds no process to kill ({state}){scope}"
        return kill_nothing(NAME, domain, triggered, ranking, reason, notes)
    plain = max(walk.entries, key=key)
    fold_path = " → ".join(str(e.process.pid) for e in trail[-4:])
    differs = (
        f"; a plain maximum would pick pid {plain.process.pid}, but the pid-order fold ({fold_path}) ends here"
        if plain is not victim else ""
    )
    near = [
        e for e in walk.entries
        if e is not victim and not sort_by_rss and abs(e.score - victim.score) <= 1
    ]
    if near:
        others = ", ".join(f"pid {e.process.pid} (oom_score {e.score})" for e in near[:3])
        notes.append(f"oom_score is rounded and moves with memory use; {others} within a point")
    reason = f"{label} picks pid {victim.process.pid} {_why(victim, sort_by_rss)} ({state}){differs}{scope}"
    return kill_process(NAME, domain, triggered, victim.process, ranking, reason, notes)


POLICIES = (
    PolicySpec(
        name=NAME,
        title="earlyoom",
        summary="One process by oom_score (±300 for --prefer/--avoid) or RSS, chosen by earlyoom's pid-order fold",
        decide=decide,
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
