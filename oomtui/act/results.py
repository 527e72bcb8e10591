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
    status: str = ""  # short key for counting: killed, gone, denied, changed, refused, spared, failed

    def to_json(self) -> dict:
        return {"pid": self.pid, "comm": self.comm, "start_time": self.start_time, "ok": self.ok,
                "status": self.status, "detail": self.detail}


@dataclass(frozen=True, slots=True)
class KillReport:
    plan: KillPlan
    outcomes: tuple[Outcome, ...]
    summary: str

    @property
    def ok(self) -> bool:
        return all(o.ok for o in self.outcomes if o.status not in ("spared", "refused"))


@dataclass(frozen=True, slots=True)
class KnobResult:
    write: KnobWrite
    ok: bool
    detail: str

    def to_json(self) -> dict:
        return {**self.write.to_json(), "ok": self.ok, "detail": self.detail}


class Actor(Protocol):
    def kill(self, plan: KillPlan) -> KillReport: ...

    def apply(self, writes: Sequence[KnobWrite]) -> list[KnobResult]: ...


_WORDS = {
    "killed": "killed", "gone": "already gone", "denied": "not permitted", "changed": "identity changed",
    "refused": "refused", "spared": "spared", "failed": "failed",
}


def summarize(plan: KillPlan, outcomes: Sequence[Outcome]) -> str:
    """One line: "3 of 3 processes killed", or the counts by result."""
    verb = "killed" if plan.signal_name == "SIGKILL" else f"sent {plan.signal_name}"
    counts = Counter(o.status for o in outcomes)
    total = len(outcomes)
    if total == 0:
        return "nothing to do: no processes"
    if counts["killed"] == total:
        return f"{total} of {total} {'process' if total == 1 else 'processes'} {verb}"
    parts = [f"{n} {_WORDS.get(s, s)}" if s != "killed" else f"{n} {verb}"
             for s, n in sorted(counts.items(), key=lambda kv: list(_WORDS).index(kv[0]) if kv[0] in _WORDS else 99)]
    return ", ".join(parts)
