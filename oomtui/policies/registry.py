"""Every policy by its stable name: the built-in modules, then plug-ins.

Built-in modules in this package export `POLICIES` (a tuple of PolicySpec);
third-party packages register a PolicySpec, or a callable returning some,
under the entry-point group `oomtui.policies`.
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache
from importlib.metadata import entry_points

from oomtui.policies.base import Decision, PolicySpec

ENTRY_POINT_GROUP = "oomtui.policies"
ORDER = (
    "kernel", "hierarchical", "terminal", "cgroup-aware",
    "oomd-size-or-growth", "oomd-swap", "oomd-pressure", "oomd-pgscan",
    "systemd-oomd-swap", "systemd-oomd-pressure", "kubelet-eviction", "earlyoom", "nohang",
)


def _builtin() -> list[PolicySpec]:
    import oomtui.policies as pkg

    found: list[PolicySpec] = []
    for info in pkgutil.iter_modules(pkg.__path__):  # modules without POLICIES (base, budget, …) add nothing
        module = importlib.import_module(f"{pkg.__name__}.{info.name}")
        found.extend(getattr(module, "POLICIES", ()))
    return found


def _plugins() -> tuple[list[PolicySpec], list[str]]:
    found: list[PolicySpec] = []
    problems: list[str] = []
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        try:
            obj = ep.load()
            specs = obj() if callable(obj) and not isinstance(obj, PolicySpec) else obj
            if isinstance(specs, PolicySpec):
                specs = [specs]
            for spec in specs:
                if not isinstance(spec, PolicySpec):
                    raise TypeError(f"{spec!r} is not a PolicySpec")
                found.append(spec)
        except Exception as e:  # a broken plug-in must not take the tool down
            problems.append(f"plug-in {ep.name!r} not loaded: {e}")
    return found, problems


@cache
def _load() -> tuple[dict[str, PolicySpec], tuple[str, ...]]:
    rank = {name: i for i, name in enumerate(ORDER)}
    builtin = sorted(_builtin(), key=lambda s: (rank.get(s.name, len(ORDER)), s.name))
    registry = {s.name: s for s in builtin}
    plugins, problems = _plugins()
    for spec in plugins:
        if spec.name in registry:
            problems.append(f"plug-in policy {spec.name!r} ignored: the name is taken")
        else:
            registry[spec.name] = spec
    return registry, tuple(problems)


def policies() -> dict[str, PolicySpec]:
    """Name -> spec, built-ins in the documented order, then plug-ins."""
    return dict(_load()[0])


def plugin_problems() -> tuple[str, ...]:
    return _load()[1]


def acts_now(decision: Decision) -> str:
    """`yes`, `no`, or when the policy acts where it has no threshold of its own."""
    if decision.triggered is not None:
        return "yes" if decision.triggered else "no"
    spec = _load()[0].get(decision.policy)
    return spec.acts_when if spec is not None else "—"


def get(name: str) -> PolicySpec:
    try:
        return _load()[0][name]
    except KeyError:
        known = ", ".join(_load()[0])
        raise KeyError(f"unknown policy {name!r} (known: {known})") from None
