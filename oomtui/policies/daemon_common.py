"""What the userspace killers share: the oom_score they read, cgroup kills, option parsing.

earlyoom and nohang rank by /proc/PID/oom_score. A snapshot holds it as
read, which goes stale the moment a what-if edit changes oom_score_adj, so
for edited (or unread) processes it is recomputed with the kernel's own
formula. oomd and systemd-oomd kill whole cgroups, so they share how a
cgroup kill is described.
"""

from __future__ import annotations

import operator
import re
from array import array
from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import islice

from oomtui.model import ROOT, Process, Snapshot
from oomtui.policies import topmost
from oomtui.policies.base import RANKING_MIN, Candidate, Decision
from oomtui.policies.budget import kernel_version, total_pages
from oomtui.policies.carry import carried_columns, in_order
from oomtui.policies.kernel_rules import Era, Scorer
from oomtui.policies.subtree import LIVE, subtree

MIB = 1 << 20
BLOCK = 1024  # places a daemon's walk sifts at a time by the cut it has reached (earlyoom, nohang)
_PID, _OOM_SCORE = operator.attrgetter("pid"), operator.attrgetter("oom_score")


@dataclass(frozen=True, slots=True)
class Score:
    """An oom_score as a userspace killer would read it, and where it came from."""

    value: int | None
    source: str  # "read", "computed" (what-if or not read), or "unknown"


def _c_div(a: int, b: int) -> int:
    """C's integer division by a positive b (a page total, 3): truncates toward zero, as the kernel's `long` does."""
    q = abs(a) // b
    return -q if a < 0 else q


class _OomScorer:
    """proc_oom_score() for one snapshot, with the kernel release and global total looked up once."""

    __slots__ = ("pages", "scorer", "version")

    def __init__(self, snapshot: Snapshot) -> None:
        self.version = kernel_version(snapshot.host.kernel)
        self.pages = total_pages(snapshot, ROOT).pages
        self.scorer = Scorer(self.pages, snapshot.host.page_size, Era(self.version))

    def score(self, process: Process) -> int:
        points, pages = self.scorer.points(process), self.pages
        if points is None:
            return 0
        if self.version <= (5, 8):
            return max(0, points * 1000 // pages)
        return _c_div((1000 + _c_div(points * 1000, pages)) * 2, 3)


def kernel_oom_score(snapshot: Snapshot, process: Process) -> int:
    """/proc/PID/oom_score as proc_oom_score() prints it: always against the global total."""
    return _OomScorer(snapshot).score(process)


UNKNOWN = -1  # an oom_score not known, among the machine integers of Readings.codes (a score is 0 to 2000)


@dataclass(frozen=True, slots=True)
class Readings:
    """/proc as a daemon walks it: processes in pid order, each with the oom_score it would read now.

    That is the score as read, unless a what-if changed the adj or it was
    not read: then the kernel's formula gives it, or, without MemTotal, it
    stays unknown. The scores are machine integers (`codes`, UNKNOWN for
    an unknown one), so the walks sift 50,000 of them in C in a row.
    `sources` holds only the positions not read as-is ("computed" or
    "unknown"): a what-if touches a few processes, and a Score object for
    each of 10,000 would cost more than the ranking.
    """

    processes: tuple[Process, ...]
    codes: array[int]
    sources: dict[int, str]

    def value(self, position: int) -> int | None:
        code = self.codes[position]
        return None if code == UNKNOWN else code

    def score(self, position: int) -> Score:
        return Score(self.value(position), self.sources.get(position, "read"))


def _every_pid_and_score(processes: Sequence[Process]) -> tuple[array[int], array[int]]:
    """Each process's pid and oom_score (UNKNOWN where unread), a column at a time in C."""
    try:
        scores = array("q", map(_OOM_SCORE, processes))
    except TypeError:  # an unread score (None): one by one
        scores = array("q", (UNKNOWN if s is None else s for s in map(_OOM_SCORE, processes)))
    return array("q", map(_PID, processes)), scores


def _pid_follows(before: Process, after: Process) -> bool:
    return before.pid < after.pid


def _pids_rise(processes: Sequence[Process]) -> bool:
    pids = carried_columns("pid, oom_score", processes, _every_pid_and_score)[0]
    return all(map(operator.lt, pids, islice(pids, 1, None)))


def _read(snapshot: Snapshot) -> Readings:
    """Columns taken in C, each a pass over 10,000 processes and carried over to a what-if view
    (policies/carry.py): this runs on every keypress."""
    processes = snapshot.processes
    if not in_order("pid order", processes, _pid_follows, _pids_rise):  # collectors list /proc in pid order
        processes = tuple(sorted(processes, key=_PID))
    pids, shared = carried_columns("pid, oom_score", processes, _every_pid_and_score)
    codes = shared[:]  # a copy: the edited are set below
    redo = list(topmost.places_of(shared, UNKNOWN))  # a copy: the edited are added below
    for pid, edit in snapshot.whatif.processes.items():  # pids are sorted: bisect, not test all 10,000
        if edit.oom_score_adj is not None:
            i = bisect_left(pids, pid)
            while i < len(pids) and pids[i] == pid:
                redo.append(i)
                i += 1
    redo = sorted(set(redo))
    sources: dict[int, str] = {}
    if redo and snapshot.host.mem_total is None:  # an edited score as read is stale: unknown too
        for i in redo:
            codes[i] = UNKNOWN
            sources[i] = "unknown"
    elif redo:
        compute = _OomScorer(snapshot).score
        for i in redo:
            codes[i] = compute(processes[i])
            sources[i] = "computed"
    return Readings(processes, codes, sources)


_memo: list[tuple[Snapshot, Readings]] = []


def readings(snapshot: Snapshot) -> Readings:
    """The Readings of the last snapshot asked for: earlyoom and nohang share one walk per keypress.

    A snapshot is immutable, so identity is enough; the memo holds it, so its
    id cannot be reused by another while remembered.
    """
    memo = _memo[:1]
    if memo and memo[0][0] is snapshot:
        return memo[0][1]
    found = _read(snapshot)
    _memo[:] = [(snapshot, found)]
    return found


def score_note(sources: dict[int, str], snapshot: Snapshot) -> str | None:
    """One line about scores that were not read from /proc (pid -> "computed" or "unknown"), or None."""
    computed = [pid for pid, s in sources.items() if s == "computed"]
    unknown = [pid for pid, s in sources.items() if s == "unknown"]
    parts = []
    if computed:
        edited = [pid for pid in computed if pid in snapshot.whatif.processes]
        why = "what-if oom_score_adj" if len(edited) == len(computed) else "what-if edits or unread oom_score"
        parts.append(f"oom_score of {_pids(computed)} computed from the kernel formula ({why}); "
                     "the real value may differ by a point")
    if unknown:
        parts.append(f"oom_score of {_pids(unknown)} unknown (no MemTotal to compute it from); they were left out")
    return "; ".join(parts) or None


def _pids(pids: list[int], limit: int = 5) -> str:
    shown = ", ".join(str(p) for p in pids[:limit])
    more = f" and {len(pids) - limit} more" if len(pids) > limit else ""
    return f"pid {shown}{more}"


def fmt_bytes(n: int | None) -> str:
    if n is None:
        return "unknown"
    for unit, size in (("GiB", 1 << 30), ("MiB", MIB), ("KiB", 1 << 10)):
        if abs(n) >= size:
            return f"{n / size:.1f} {unit}"
    return f"{n} B"


# -- cgroup kills (oomd, systemd-oomd) ---------------------------------------------


@dataclass(frozen=True, slots=True)
class CgroupKill:
    pids: tuple[int, ...]
    freed_bytes: int


def cgroup_kill(snapshot: Snapshot, path: str) -> CgroupKill:
    """Every process in the subtree gets SIGKILL; memory.current plus swap is what that frees."""
    tree = subtree(snapshot, path)
    c = snapshot.cgroup(path)
    if c is not None and c.memory_current is not None:
        freed = c.memory_current + (c.swap_current or 0)
    else:
        freed = tree.footprint_of(LIVE)
    return CgroupKill(tree.pids_of(LIVE), freed)


def is_populated(snapshot: Snapshot, path: str) -> bool:
    """cgroup.events populated where read, else whether any process lives in the subtree."""
    c = snapshot.cgroup(path)
    if c is not None and c.populated is not None:
        return c.populated
    return any(not p.kernel_thread for p in snapshot.processes_under(path))


def top(ranking: list[Candidate]) -> tuple[Candidate, ...]:
    """The ranking a decision carries: the top entries (at least the contract's ten)."""
    return tuple(ranking[: 2 * RANKING_MIN])


# -- option parsers ----------------------------------------------------------------


def parse_regex(raw: str) -> re.Pattern[str] | None:
    """An unanchored regex as the daemons use them (matched with search); empty means unset."""
    if raw == "":
        return None
    try:
        return re.compile(raw)
    except re.error as e:
        raise ValueError(f"bad regular expression: {e}") from None


def parse_int_min(minimum: int, raw: str) -> int:
    """An integer option with a floor; an option binds the floor with functools.partial."""
    v = int(raw.strip())
    if v < minimum:
        raise ValueError(f"expected an integer >= {minimum}")
    return v


def parse_paths(raw: str) -> tuple[str, ...]:
    """Comma-separated cgroup paths, normalised to the snapshot's "/a/b" form."""
    out = []
    for part in raw.split(","):
        part = part.strip().strip("/")
        out.append("/" + part if part else ROOT)
    if not out:
        raise ValueError("expected cgroup paths separated by commas")
    return tuple(out)


# -- decisions ---------------------------------------------------------------------


def count(n: int) -> str:
    return f"{n} process" if n == 1 else f"{n} processes"


def _joined(notes: list[str]) -> str | None:
    return "; ".join(n for n in notes if n) or None


def kill_process(
    policy: str, domain: str, triggered: bool | None, victim: Process, ranking: list[Candidate],
    reason: str, notes: list[str],
) -> Decision:
    """A decision that kills one process, which frees its footprint."""
    return Decision(
        policy=policy, domain=domain, triggered=triggered, victim_pid=victim.pid, victim_pid_cgroup=victim.cgroup,
        killed_pids=(victim.pid,), freed_bytes=victim.footprint, ranking=top(ranking),
        reason=f"{reason}; {fmt_bytes(victim.footprint)} freed", uncertain=_joined(notes),
    )


def kill_cgroup(
    snapshot: Snapshot, policy: str, domain: str, triggered: bool | None, path: str, ranking: list[Candidate],
    reason: str, notes: list[str],
) -> Decision:
    """A decision that kills a cgroup with everything below it."""
    kill = cgroup_kill(snapshot, path)
    return Decision(
        policy=policy, domain=domain, triggered=triggered, victim_cgroup=path, killed_pids=kill.pids,
        freed_bytes=kill.freed_bytes, ranking=top(ranking),
        reason=f"{reason}; {count(len(kill.pids))}, {fmt_bytes(kill.freed_bytes)} freed", uncertain=_joined(notes),
    )


def kill_nothing(
    policy: str, domain: str, triggered: bool | None, ranking: list[Candidate], reason: str, notes: list[str],
) -> Decision:
    return Decision(policy=policy, domain=domain, triggered=triggered, ranking=top(ranking), reason=reason,
                    uncertain=_joined(notes))
