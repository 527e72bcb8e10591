"""What every policy returns, and how a policy describes itself.

A policy is a pure function `(snapshot, domain, options) -> Decision`: no
I/O, no clock, no randomness, so the same snapshot always gives the same
answer and the TUI can re-run every policy on each keypress.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from oomtui.model import Snapshot, frozen_map

RANKING_MIN = 10


@dataclass(frozen=True, slots=True)
class Candidate:
    """One entry of a ranking: a process (pid set) or a cgroup (pid None)."""

    cgroup: str
    score: float
    why: str
    pid: int | None = None
    parts: Mapping[str, Any] = field(default_factory=lambda: frozen_map(None))

    def to_json(self) -> dict:
        d: dict[str, Any] = {}
        if self.pid is not None:
            d["pid"] = self.pid
        d.update(cgroup=self.cgroup, score=self.score, why=self.why)
        if self.parts:
            d["parts"] = dict(self.parts)
        return d


@dataclass(frozen=True, slots=True)
class Decision:
    policy: str
    domain: str
    triggered: bool | None
    reason: str
    victim_pid: int | None = None
    victim_pid_cgroup: str | None = None
    victim_cgroup: str | None = None
    killed_pids: tuple[int, ...] = ()
    freed_bytes: int | None = None
    ranking: tuple[Candidate, ...] = ()
    uncertain: str | None = None

    @property
    def kills_nothing(self) -> bool:
        return not self.killed_pids and self.victim_pid is None and self.victim_cgroup is None

    def to_json(self) -> dict:
        victim = None
        if self.victim_pid is not None:
            victim = {"pid": self.victim_pid, "cgroup": self.victim_pid_cgroup}
        return {
            "policy": self.policy,
            "domain": self.domain,
            "triggered": self.triggered,
            "victim": victim,
            "victim_cgroup": self.victim_cgroup,
            "killed_pids": list(self.killed_pids),
            "freed_bytes": self.freed_bytes,
            "ranking": [c.to_json() for c in self.ranking],
            "reason": self.reason,
            "uncertain": self.uncertain,
        }


class OptionError(ValueError):
    """A bad --option; the message is one line for the user."""


@dataclass(frozen=True, slots=True)
class OptionSpec:
    name: str
    parse: Callable[[str], Any]
    default: Any
    help: str


Decide = Callable[[Snapshot, str, Mapping[str, Any]], Decision]


@dataclass(frozen=True, slots=True)
class PolicySpec:
    """A policy as the registry, the CLI and the TUI see it."""

    name: str
    title: str
    summary: str
    decide: Decide
    options: tuple[OptionSpec, ...] = ()
    # What "acts now" says when a decision's `triggered` is None: the kernel and
    # the kernel-side proposals act when memory runs out, oomd when a ruleset fires.
    acts_when: str = "on exhaustion"
    # False where the decision never depends on a process's oom_score_adj (oomd and
    # systemd-oomd rank cgroups): the TUI then keeps it across oom_score_adj edits.
    reads_oom_score_adj: bool = True
    # False where it never depends on a cgroup's what-if knobs (memory.oom.group, score,
    # the oomd xattrs): earlyoom and nohang rank processes alone.
    reads_cgroup_edits: bool = True

    def resolve_options(self, given: Mapping[str, str]) -> dict[str, Any]:
        """Defaults overlaid with parsed user values; unknown keys are an error."""
        known = {o.name: o for o in self.options}
        out = {o.name: o.default for o in self.options}
        for key, raw in given.items():
            spec = known.get(key)
            if spec is None:
                names = ", ".join(sorted(known)) or "none"
                raise OptionError(f"policy {self.name} has no option {key!r} (options: {names})")
            try:
                out[key] = spec.parse(raw)
            except (ValueError, TypeError) as e:
                raise OptionError(f"{self.name}.{key}={raw!r}: {e}") from None
        return out

    def run(self, snapshot: Snapshot, domain: str, options: Mapping[str, str] | None = None) -> Decision:
        return self.decide(snapshot, domain, self.resolve_options(options or {}))


def parse_bool(raw: str) -> bool:
    v = raw.strip().lower()
    if v in ("1", "true", "yes", "on"):
        return True
    if v in ("0", "false", "no", "off"):
        return False
    raise ValueError("expected true or false")


def parse_percent(raw: str) -> float:
    try:
        v = float(raw.strip().rstrip("%"))
    except ValueError:
        v = math.nan  # not a number: refused below with the words for any bad percentage
    if not 0 <= v <= 100:
        raise ValueError("expected a percentage from 0 to 100")
    return v
