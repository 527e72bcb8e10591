"""One collection as Prometheus metric families: pure, built afresh for every scrape.

Fresh families mean a victim that is no longer predicted disappears from
the next scrape instead of lingering (writing_exporters.md). Every
(domain, policy) pair always has its four victim series, so alerts and
joins never meet a missing one; `oomtui_policy_triggered` alone is absent
where a policy has no trigger of its own.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, InfoMetricFamily, Metric

from oomtui import __version__
from oomtui.metrics.domains import DomainState
from oomtui.metrics.victims import VICTIM_LABELS, Victim, label
from oomtui.policies.base import Decision

PAIR = ["domain", "policy"]


@dataclass(frozen=True, slots=True)
class DomainResult:
    state: DomainState
    decisions: tuple[tuple[Decision, Victim], ...]


@dataclass(frozen=True, slots=True)
class Collection:
    """What one collection found, or why it failed (`error`), and what it cost."""

    taken_at: float | None = None  # the snapshot's time; on failure, the last good one's
    collect_seconds: float = 0.0
    evaluate_seconds: float = 0.0
    domains_total: int = 0
    domains: tuple[DomainResult, ...] = ()
    active: dict[str, bool | None] = field(default_factory=dict)
    error: str | None = None


def _gauge(name: str, doc: str, value: float | None = None, labels: list[str] | None = None,
           unit: str = "") -> GaugeMetricFamily:
    return GaugeMetricFamily(name, doc, value=value, labels=labels, unit=unit)


def _health(c: Collection) -> Iterator[Metric]:
    yield _gauge("oomtui_up", "1 if the last collection and policy evaluation succeeded, else 0.",
                 0 if c.error is not None else 1)
    yield _gauge("oomtui_collect_duration_seconds",
                 "Seconds the last collection of the host took (a scrape younger than the interval reuses it).",
                 c.collect_seconds)
    yield _gauge("oomtui_evaluate_duration_seconds", "Seconds the policy evaluation of the last collection took.",
                 c.evaluate_seconds)
    if c.taken_at is not None:
        yield _gauge("oomtui_collect_timestamp_seconds",
                     "Unix time of the snapshot these values describe (older than the scrape when cached).",
                     c.taken_at)
    info = InfoMetricFamily("oomtui_build", "The oomtui version exporting these metrics.")
    info.add_metric([], {"version": __version__})
    yield info


def _domain_families(c: Collection) -> Iterator[Metric]:
    yield _gauge("oomtui_domains", "OOM domains on the host: / plus every cgroup with a memory limit.",
                 c.domains_total)
    yield _gauge("oomtui_domains_exported", "OOM domains exported, after --max-domains kept those with least headroom.",
                 len(c.domains))
    limit = _gauge("oomtui_domain_limit_bytes",
                   "Memory the domain may use before the kernel OOM killer runs: its limit plus usable swap "
                   "(for /, MemTotal + SwapTotal).", labels=["domain"])
    headroom = _gauge("oomtui_domain_headroom_bytes",
                      "Bytes the domain can still grow: limit minus working set minus swap in use "
                      "(for /, MemAvailable + SwapFree).", labels=["domain"])
    kills = CounterMetricFamily("oomtui_domain_oom_kills", "Processes the kernel OOM killer killed in the domain "
                                "(memory.events oom_kill; / has none: see node_vmstat_oom_kill).", labels=["domain"])
    for d in c.domains:
        key = [label(d.state.path)]
        if d.state.limit is not None:
            limit.add_metric(key, d.state.limit)
        if d.state.headroom is not None:
            headroom.add_metric(key, d.state.headroom)
        if d.state.oom_kills is not None:
            kills.add_metric(key, d.state.oom_kills)
    yield from (limit, headroom, kills)


def _victim_families(c: Collection) -> Iterator[Metric]:
    active = _gauge("oomtui_policy_active", "1 if the policy is in force on this host: the kernel always, a "
                    "userspace killer when its daemon runs, the 2017 proposals never.", labels=["policy"])
    for policy, is_active in c.active.items():
        if is_active is not None:
            active.add_metric([policy], 1 if is_active else 0)
    info = InfoMetricFamily("oomtui_victim", "The policy's predicted victim in the OOM domain "
                            "(victim_kind none: it kills nothing).", labels=PAIR)
    pid = _gauge("oomtui_victim_pid", "PID of the predicted victim process (0: the victim is a cgroup, or nothing).",
                 labels=PAIR)
    freed = _gauge("oomtui_victim_freed_bytes", "Bytes the predicted kill would free (0: the policy kills nothing).",
                   labels=PAIR)
    certain = _gauge("oomtui_victim_certain", "0 when oomtui marks the decision uncertain (data it needs is "
                     "missing), else 1.", labels=PAIR)
    triggered = _gauge("oomtui_policy_triggered", "1 if the userspace killer's trigger condition holds now, else 0 "
                       "(absent for policies that act only when memory runs out).", labels=PAIR)
    for d in c.domains:
        for decision, v in d.decisions:
            key = [label(d.state.path), decision.policy]
            info.add_metric(key, {k: v.labels[k] for k in VICTIM_LABELS})
            pid.add_metric(key, v.pid)
            freed.add_metric(key, v.freed)
            certain.add_metric(key, 1 if v.certain else 0)
            if decision.triggered is not None:
                triggered.add_metric(key, 1 if decision.triggered else 0)
    yield from (active, info, pid, freed, certain, triggered)


def families(c: Collection) -> Iterator[Metric]:
    """The health families always; the domain and victim families when the collection succeeded."""
    yield from _health(c)
    if c.error is None:
        yield from _domain_families(c)
        yield from _victim_families(c)
