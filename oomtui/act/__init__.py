"""Actions: the only code that changes the host.

Plan from a snapshot (pure), confirm, then hand the plan to an `Actor`,
which re-checks every identity, acts, and audits. `--read-only` and loaded
snapshots have no actor at all.
"""

from oomtui.act.actor import HostActor
from oomtui.act.audit import AuditLog, AuditLogError, default_audit_path
from oomtui.act.plan import (
    KillPlan,
    KnobWrite,
    PlanError,
    Target,
    plan_cgroup_kill,
    plan_decision_kill,
    plan_knob_writes,
    plan_process_kill,
)
from oomtui.act.procfs import protected_pids
from oomtui.act.results import Actor, KillReport, KnobResult, Outcome

__all__ = [
    "Actor",
    "AuditLog",
    "AuditLogError",
    "HostActor",
    "KillPlan",
    "KillReport",
    "KnobResult",
    "KnobWrite",
    "Outcome",
    "PlanError",
    "Target",
    "default_audit_path",
    "plan_cgroup_kill",
    "plan_decision_kill",
    "plan_knob_writes",
    "plan_process_kill",
    "protected_pids",
]
