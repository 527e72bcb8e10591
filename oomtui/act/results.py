"""What an action did, per process and per write, and the actor contract.

The TUI and `oomtui kill` get an `Actor` handed in; tests hand them a
recording fake, the host gets `HostActor`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from oomtui.act.plan import KillPlan, KnobWrite


@dataclass(frozen=True, slots=True)
class Outcome:
    """One process: whether it was signalled, and in words why (not)."""

    pid: int
    comm: str
    ok: bool
    detail: str
    start_time: float | None = None
    # short key for counting: killed, survived (signalled, still running), gone, denied, changed, refused,
    # spared, failed
    status: str = ""
    planned: bool = True  # False: it joined a killed cgroup after the snapshot, and died with it
    sent: str | None = None  # the signal delivered to it, if one was
    exited: bool | None = None  # after the signal: whether it was seen to exit (None: not signalled)

    def to_json(self) -> dict:
        return {"pid": self.pid, "comm": self.comm, "start_time": self.start_time, "ok": self.ok,
                "status": self.status, "planned": self.planned, "sent": self.sent, "exited": self.exited,
                "detail": self.detail}


@dataclass(frozen=True, slots=True)
class KillReport:
    plan: KillPlan
    outcomes: tuple[Outcome, ...]
    summary: str
    method: str = ""  # how cgroups were killed (cgroup.kill, frozen, one by one), for the record
    cgroups_empty: bool | None = None  # for a cgroup kill: nothing but spared and refused processes left in it

    @property
    def ok(self) -> bool:
        return all(o.ok for o in self.outcomes if o.status not in ("spared", "refused"))


@dataclass(frozen=True, slots=True)
class KnobResult:
    write: KnobWrite
    ok: bool
    detail: str


class Actor(Protocol):
    def kill(self, plan: KillPlan) -> KillReport: ...

    def apply(self, writes: Sequence[KnobWrite]) -> list[KnobResult]: ...


_WORDS = {
    "killed": "killed", "survived": "still running after the signal", "gone": "already gone",
    "denied": "not permitted", "changed": "identity changed",
    "failed": "failed", "spared": "spared", "refused": "refused",
}


def summarize(plan: KillPlan, outcomes: Sequence[Outcome]) -> str:
    """One line: "3 of 3 processes killed", or the counts by result ("2 killed, 1 already gone")."""
    verb = "killed" if plan.signal_name == "SIGKILL" else f"sent {plan.signal_name}"
    joined = sum(1 for o in outcomes if not o.planned and o.status == "killed")
    outcomes = [o for o in outcomes if o.planned or o.status != "killed"]
    counts = Counter(o.status for o in outcomes)
    if not outcomes and not joined:
        return "nothing done: no processes to signal"
    acted = len(outcomes) - counts["spared"] - counts["refused"]
    parts = []
    if acted and counts["killed"] == acted:
        parts.append(f"{acted} of {acted} {'process' if acted == 1 else 'processes'} {verb}")
    elif counts["killed"]:
        parts.append(f"{counts['killed']} {verb}")
    parts += [f"{counts[s]} {words}" for s, words in _WORDS.items() if s != "killed" and counts[s]]
    if joined:
        parts.append(f"{'and ' if parts else ''}{joined} more that joined the cgroup during the kill")
    return ", ".join(parts)
