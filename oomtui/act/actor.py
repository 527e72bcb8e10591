"""The real actor: re-checks, acts on this host, and audits every action."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from oomtui.act.audit import AuditLog, AuditLogError
from oomtui.act.kill import Hierarchy, kill_cgroups, kill_targets, plan_outcomes
from oomtui.act.knobs import apply_write
from oomtui.act.plan import KillPlan, KnobWrite
from oomtui.act.procfs import protected_pids
from oomtui.act.results import Actor, KillReport, KnobResult, Outcome, summarize
from oomtui.model import is_within

if TYPE_CHECKING:
    from oomtui.collect.layout import CgroupLayout


class HostActor(Actor):
    """Carries out confirmed plans on the live host.

    `layout` is an `oomtui.collect.layout.CgroupLayout` (detected when not
    given): cgroup paths in plans are relative to its `memory_root`.
    """

    def __init__(self, audit_log: Path | str | None = None, layout: CgroupLayout | None = None) -> None:
        self.audit = AuditLog(audit_log)
        self._layout = layout

    @property
    def layout(self) -> CgroupLayout:
        if self._layout is None:
            from oomtui.collect.layout import detect_layout

            self._layout = detect_layout()
        return self._layout

    def _hierarchy(self) -> Hierarchy | None:
        root = self.layout.memory_root
        return None if root is None else Hierarchy(Path(root), self.layout.mode == "v2")

    def check(self) -> None:
        """Raise AuditLogError before the user is asked, if actions could not be audited.

        kill() and apply() never raise for it: they report that nothing was done.
        """
        self.audit.check()

    def kill(self, plan: KillPlan) -> KillReport:
        """Carry out the plan; with an unwritable audit log (or a full disk), a report that nothing was done."""
        try:
            log_file = self.audit.opened()
        except AuditLogError as e:
            return _nothing_done(plan, str(e))
        with log_file as log:
            problem = log.intent("kill", plan.to_json())
            if problem is not None:
                return _nothing_done(plan, f"{problem}; every action must be audited, so nothing was done")
            protected = protected_pids()
            outcomes = plan_outcomes(plan)
            alone = [t for t in plan.targets if not any(is_within(t.cgroup, c) for c in plan.cgroups)]
            outcomes += kill_targets(alone, plan.signal, protected)
            method = ""
            empty: bool | None = None
            if plan.cgroups:
                hierarchy = self._hierarchy()
                if hierarchy is None:
                    outcomes += [Outcome(t.pid, t.comm, False, "failed: no memory cgroups are mounted",
                                         t.start_time, "failed") for t in plan.targets if t not in alone]
                else:
                    killed, method, empty = kill_cgroups(plan, hierarchy, protected)
                    outcomes += killed
            summary = summarize(plan, outcomes)
            problem = log.record("kill", plan.to_json(), {
                "summary": summary, "method": method, "cgroups_empty": empty,
                "outcomes": [o.to_json() for o in outcomes],
            })
        return KillReport(plan, tuple(outcomes), summary if problem is None else f"{summary}; {problem}", method,
                          empty)

    def apply(self, writes: Sequence[KnobWrite]) -> list[KnobResult]:
        try:
            log_file = self.audit.opened()
        except AuditLogError as e:
            return [KnobResult(w, False, str(e)) for w in writes]
        results = []
        with log_file as log:
            for w in writes:
                problem = log.intent("knob", w.to_json())
                if problem is not None:
                    results.append(KnobResult(w, False, f"{problem}; every action must be audited, so it was not done"))
                    continue
                result = apply_write(w, self.layout)
                problem = log.record("knob", w.to_json(), {"ok": result.ok, "detail": result.detail})
                if problem is not None:
                    result = KnobResult(w, result.ok, f"{result.detail}; {problem}")
                results.append(result)
        return results


def _nothing_done(plan: KillPlan, why: str) -> KillReport:
    outcomes = tuple(Outcome(t.pid, t.comm, False, why, t.start_time, "failed") for t in plan.targets)
    return KillReport(plan, outcomes, why)
