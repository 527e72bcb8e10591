"""systemd-oomd: ManagedOOMSwap=kill and ManagedOOMMemoryPressure=kill.

Candidates are the leaf cgroups (or memory.oom.group ones, which discovery
does not descend into) below a monitored cgroup. `user.oomd_omit` removes a
candidate, `user.oomd_avoid` sorts it last; both count only on cgroups
owned by root or by the monitored cgroup's owner. The victim is killed
whole. Sorting is qsort, so equal keys are unordered
(research/userspace-killers.md §2; src/oom/oomd-util.c).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from oomtui.model import ROOT, Cgroup, PressureLine, Snapshot
from oomtui.policies.base import Candidate, Decision, OptionSpec, PolicySpec, parse_percent
from oomtui.policies.daemon_common import fmt_bytes, is_populated, kill_cgroup, kill_nothing, parse_paths

SWAP_MIN_PERCENT = 5  # THRESHOLD_SWAP_USED_PERCENT: a swap victim must use more than this of SwapTotal
RECLAIM_WINDOW = 30.0  # RECLAIM_DURATION_USEC: reclaim must have happened this recently
TRUE = ("1", "yes", "y", "true", "t", "on")  # parse_boolean(), case-insensitive; anything else is unset
COLLECTOR_PRESSURE_LIMIT = 60.0  # the limit trend.pressure_full_avg10_above_since is kept against


def parse_seconds(raw: str) -> float:
    v = float(raw.strip().rstrip("s"))
    if v < 0:
        raise ValueError("expected seconds >= 0")
    return v


def candidates(snapshot: Snapshot, monitored: str) -> list[str]:
    """recursively_get_cgroup_context: stop at memory.oom.group, else take the leaves."""
    out: list[str] = []
    stack = [monitored]
    while stack:
        path = stack.pop()
        c = snapshot.cgroup(path)
        children = snapshot.children(path)
        if (c is not None and c.oom_group) or not children:
            out.append(path)
        else:
            stack.extend(reversed(children))
    return out


def _flag(value: str | None) -> bool:
    """cg_get_xattr_bool: the value as written (no trimming), so " 1" is as unset as "0"."""
    return value is not None and value.lower() in TRUE


@dataclass(frozen=True, slots=True)
class Preference:
    value: str  # "none", "avoid", "omit"
    note: str | None = None


def preference(snapshot: Snapshot, c: Cgroup, prefix: str) -> Preference:
    """oomd_fetch_cgroup_oom_preference: omit beats avoid; only root's or the prefix owner's cgroups count."""
    omit, avoid = _flag(c.xattrs.get("user.oomd_omit")), _flag(c.xattrs.get("user.oomd_avoid"))
    if not omit and not avoid:
        return Preference("none")
    wanted = "omit" if omit else "avoid"
    owner_c = snapshot.cgroup(prefix)
    prefix_uid = 0 if prefix == ROOT else (owner_c.owner_uid if owner_c else None)
    if c.owner_uid is None or prefix_uid is None:
        return Preference(wanted, f"owner of {c.path} or {prefix} unknown; its {wanted} preference was honoured")
    if c.owner_uid in (0, prefix_uid):
        return Preference(wanted)
    return Preference("none", f"{c.path} is owned by uid {c.owner_uid}: its user.oomd_{wanted} is ignored")


@dataclass(frozen=True, slots=True)
class Entry:
    path: str
    pref: Preference
    key: tuple
    why: str
    parts: dict


def _order(entries: list[Entry]) -> list[Entry]:
    by_path = sorted(entries, key=lambda e: e.path)
    return sorted(by_path, key=lambda e: (e.pref.value == "avoid", tuple(-k for k in e.key)))


def _candidate(e: Entry) -> Candidate:
    return Candidate(cgroup=e.path, score=float(e.key[0]), why=f"{e.pref.value}, {e.why}",
                     parts={"preference": e.pref.value, **e.parts})


def _tie(entries: list[Entry], victim: Entry) -> str | None:
    ties = [e.path for e in entries if e is not victim and (e.pref.value, e.key) == (victim.pref.value, victim.key)]
    return f"qsort leaves ties unordered: {', '.join(ties[:3])} ties with {victim.path}" if ties else None


def _finish(
    snapshot: Snapshot, name: str, domain: str, triggered: bool | None, entries: list[Entry],
    eligible: Callable[[Entry], bool], nothing: str, label: str, state: str, notes: list[str],
) -> Decision:
    """The first eligible candidate in systemd-oomd's order dies with its subtree."""
    ordered = _order(entries)
    ranking = [_candidate(e) for e in ordered]
    # Killing a cgroup with no process in it kills nothing, and systemd-oomd moves on to the next.
    victim = next((e for e in ordered if eligible(e) and is_populated(snapshot, e.path)), None)
    if victim is None:
        return kill_nothing(name, domain, triggered, ranking, f"systemd-oomd: {nothing} ({state})", notes)
    notes.append(_tie(ordered, victim) or "")
    reason = f"systemd-oomd ({label}) kills {victim.path} with {victim.why} ({state})"
    return kill_cgroup(snapshot, name, domain, triggered, victim.path, ranking, reason, notes)


def _monitored(snapshot: Snapshot, opts: Mapping[str, Any], domain: str, notes: list[str]) -> tuple[str, ...]:
    paths = opts["monitored"] or (domain,)
    missing = [p for p in paths if snapshot.cgroup(p) is None]
    if missing:
        notes.append(f"monitored cgroup(s) not in this snapshot: {', '.join(missing)}")
    return paths


# -- ManagedOOMSwap=kill ---------------------------------------------------------------


def swap_trigger(snapshot: Snapshot, limit: float) -> tuple[bool | None, str]:
    """Available memory and free swap both below (100 - SwapUsedLimit) % of their totals."""
    h = snapshot.host
    if None in (h.mem_total, h.mem_available, h.swap_total, h.swap_free):
        return None, "memory or swap figures unknown"
    permyriad = 10000 - round(limit * 100)
    mem_floor = h.mem_total * permyriad // 10000  # type: ignore[operator]
    swap_floor = h.swap_total * permyriad // 10000  # type: ignore[operator]
    mem_low = h.mem_available < mem_floor  # type: ignore[operator]
    swap_low = h.swap_free < swap_floor  # type: ignore[operator]
    state = (f"MemAvailable {fmt_bytes(h.mem_available)} vs {fmt_bytes(mem_floor)}, "
             f"SwapFree {fmt_bytes(h.swap_free)} vs {fmt_bytes(swap_floor)}")
    if not h.swap_total:
        return False, "no swap: ManagedOOMSwap never acts"
    return mem_low and swap_low, state


def decide_swap(snapshot: Snapshot, domain: str, opts: Mapping[str, Any]) -> Decision:
    name = "systemd-oomd-swap"
    notes: list[str] = []
    entries = []
    for m in _monitored(snapshot, opts, domain, notes):
        for path in candidates(snapshot, m):
            c = snapshot.cgroup(path)
            if c is None:
                continue
            pref = preference(snapshot, c, ROOT)  # swap kills sort with no prefix: the root's owner
            notes.append(pref.note or "")
            if pref.value == "omit":
                continue
            swap = c.swap_current or 0
            entries.append(Entry(path, pref, (swap,), f"swap {fmt_bytes(swap)}", {"swap_current": c.swap_current}))
    triggered, state = swap_trigger(snapshot, opts["swap_used_limit"])
    floor = (snapshot.host.swap_total or 0) * SWAP_MIN_PERCENT // 100
    if not any((c := snapshot.cgroup(e.path)) is not None and c.swap_current is not None for e in entries):
        notes.append("no memory.swap.current here (cgroup v1 or not read): every candidate counts as 0")
    return _finish(snapshot, name, domain, triggered, entries, lambda e: e.key[0] > floor,
                   f"no populated candidate uses more than {SWAP_MIN_PERCENT}% of swap", "swap", state, notes)


# -- ManagedOOMMemoryPressure=kill -------------------------------------------------------


def _full(snapshot: Snapshot, path: str) -> PressureLine | None:
    """The root's pressure is /proc/pressure/memory; others their memory.pressure."""
    c = snapshot.cgroup(path)
    pressure = snapshot.host.psi if path == ROOT else (c.pressure if c else None)
    return pressure.full if pressure else None


def pressure_trigger(snapshot: Snapshot, monitored: str, opts: Mapping[str, Any]) -> tuple[bool | None, str]:
    """avg10 over the limit for the duration, and reclaim (pgscan rising) within the last 30 s."""
    limit, duration = opts["mem_pressure_limit"], opts["mem_pressure_duration"]
    full = _full(snapshot, monitored)
    if full is None or full.avg10 is None:
        return None, f"memory pressure of {monitored} unknown"
    state = f"{monitored} full avg10 {full.avg10:g}% (limit {limit:g}% for {duration:g} s)"
    if full.avg10 <= limit:
        return False, state
    c = snapshot.cgroup(monitored)
    trend = c.trend if c else None
    since = trend.pressure_full_avg10_above_since if trend else None
    long_enough: bool | None = None
    if duration == 0:
        long_enough = True
    elif since is not None and snapshot.taken_at is not None and limit == COLLECTOR_PRESSURE_LIMIT:
        long_enough = snapshot.taken_at - since >= duration
    pgscan = c.stat.get("pgscan") if c else None
    reclaim: bool | None = None
    if pgscan is not None and trend is not None and trend.pgscan_prev is not None:
        if pgscan > trend.pgscan_prev:
            reclaim = True
        elif trend.interval is not None and trend.interval >= RECLAIM_WINDOW:
            reclaim = False
    if long_enough is False or reclaim is False:
        return False, f"{state}; {'not for long enough' if long_enough is False else 'no recent reclaim'}"
    if long_enough and reclaim:
        return True, state
    unknown = [w for w, v in (("how long", long_enough), ("recent reclaim", reclaim)) if v is None]
    return None, f"{state}; {' and '.join(unknown)} unknown"


def _rate(c: Cgroup) -> int | None:
    """oomd_pgscan_rate: a pgscan lower than last time means a recreated cgroup, counted from 0."""
    pgscan = c.stat.get("pgscan")
    prev = c.trend.pgscan_prev if c.trend else None
    if pgscan is None or prev is None:
        return None
    return pgscan - (0 if prev > pgscan else prev)


def decide_pressure(snapshot: Snapshot, domain: str, opts: Mapping[str, Any]) -> Decision:
    name = "systemd-oomd-pressure"
    notes: list[str] = []
    monitored = _monitored(snapshot, opts, domain, notes)
    checks = [(m, *pressure_trigger(snapshot, m, opts)) for m in monitored]
    m, triggered, state = next((t for t in checks if t[1]), checks[0])
    entries, unknown = [], 0
    for path in candidates(snapshot, m):
        c = snapshot.cgroup(path)
        if c is None:
            continue
        pref = preference(snapshot, c, m)
        notes.append(pref.note or "")
        if pref.value == "omit":
            continue
        rate = _rate(c)
        unknown += rate is None
        current = c.memory_current or 0
        entries.append(Entry(
            path, pref, (rate or 0, current),
            f"pgscan rate {'unknown' if rate is None else rate}, memory.current {fmt_bytes(current)}",
            {"pgscan_rate": rate, "pgscan": c.stat.get("pgscan"), "memory_current": c.memory_current},
        ))
    if unknown:
        notes.append(f"pgscan rate unknown for {unknown} candidate(s) (no earlier sample): ranked by memory.current")
    return _finish(snapshot, name, domain, triggered, entries,
                   lambda e: not (e.parts["pgscan"] in (0, None) and e.key[1] == 0),
                   f"no populated candidate below {m} with memory or reclaim", f"pressure on {m}", state, notes)


MONITORED = OptionSpec("monitored", lambda raw: parse_paths(raw) if raw.strip() else (), (),
                       "cgroups whose units set the setting, comma-separated (default: the domain)")

POLICIES = (
    PolicySpec(
        name="systemd-oomd-swap",
        title="systemd-oomd ManagedOOMSwap=kill",
        summary="When memory and swap both run low, the leaf cgroup using the most swap",
        decide=decide_swap,
        reads_oom_score_adj=False,
        options=(OptionSpec("swap_used_limit", parse_percent, 90.0, "SwapUsedLimit= in oomd.conf"), MONITORED),
    ),
    PolicySpec(
        name="systemd-oomd-pressure",
        title="systemd-oomd ManagedOOMMemoryPressure=kill",
        summary="When a unit's memory pressure stays high, its leaf cgroup reclaiming most",
        decide=decide_pressure,
        reads_oom_score_adj=False,
        options=(
            OptionSpec("mem_pressure_limit", parse_percent, 60.0, "ManagedOOMMemoryPressureLimit="),
            OptionSpec("mem_pressure_duration", parse_seconds, 30.0, "ManagedOOMMemoryPressureDurationSec="),
            MONITORED,
        ),
    ),
)
