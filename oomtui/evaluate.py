"""Run the policies on a snapshot with its what-if edits: the one entry point for CLI and TUI.

A bug in one policy must not hide the others' answers, so a policy that
raises becomes a Decision saying so instead of an exception.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from oomtui import whatif
from oomtui.errors import UsageError
from oomtui.gchold import collector_held
from oomtui.model import ROOT, Snapshot
from oomtui.policies import carry, registry
from oomtui.policies.base import Decision, OptionError, PolicySpec

Options = Mapping[str, Mapping[str, str]]


def _spec(name: str) -> PolicySpec:
    try:
        return registry.get(name)
    except KeyError as e:
        raise UsageError(str(e.args[0])) from None


def parse_option_args(args: Iterable[str]) -> dict[str, dict[str, str]]:
    """`POLICY.KEY=VALUE` strings into {policy: {key: raw}}, checked against each policy's options."""
    out: dict[str, dict[str, str]] = {}
    for arg in args:
        head, eq, value = arg.partition("=")
        policy, dot, key = head.rpartition(".")
        if not eq or not dot or not policy or not key:
            raise OptionError(f"--option {arg!r}: expected POLICY.KEY=VALUE, e.g. earlyoom.prefer=chrome")
        out.setdefault(policy, {})[key] = value
    for policy, given in out.items():
        _spec(policy).resolve_options(given)
    return out


def check_domain(snapshot: Snapshot, domain: str) -> None:
    """A domain must be the root or a cgroup with a limit: nothing else can run out on its own."""
    if domain == ROOT:
        return
    c = snapshot.cgroup(domain)
    limited = snapshot.limited_cgroups()
    hint = f"cgroups with a limit: {', '.join(limited[:8])}{', …' if len(limited) > 8 else ''}" if limited else (
        "no cgroup in this snapshot has a limit; use /"
    )
    if c is None:
        raise UsageError(f"no cgroup {domain!r} in this snapshot ({hint})")
    if c.memory_max is None:
        raise UsageError(f"{domain} has no memory limit, so it cannot run out on its own ({hint})")


def _failed(name: str, domain: str, error: Exception) -> Decision:
    first = str(error).splitlines()[0] if str(error) else ""
    return Decision(
        policy=name,
        domain=domain,
        triggered=None,
        reason=f"policy failed: {type(error).__name__}: {first}".rstrip(": "),
    )


def evaluate(
    snapshot: Snapshot,
    domain: str = ROOT,
    names: Iterable[str] | None = None,
    options: Options | None = None,
) -> list[Decision]:
    """Every registered policy's decision (or the named ones') on the snapshot with its edits."""
    options = options or {}
    specs = [_spec(n) for n in names] if names else list(registry.policies().values())
    for policy in options:
        _spec(policy)
    resolved = {s.name: s.resolve_options(options.get(s.name, {})) for s in specs}
    view = whatif.apply(snapshot)
    carry.next_evaluation()
    decisions = []
    with collector_held():  # their garbage set off passes walking every snapshot held (bench_policies.py)
        for spec in specs:
            try:
                decisions.append(spec.decide(view, domain, resolved[spec.name]))
            except Exception as e:  # one broken policy must not take the others down
                decisions.append(_failed(spec.name, domain, e))
    return decisions
