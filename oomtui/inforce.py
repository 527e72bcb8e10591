"""The killers in force on a host, their settings, and who would act first: pure functions for CLI and TUI.

A snapshot's `host.killers` says which OOM killers run (None: nobody
looked). Their settings become their policies' option defaults
(`killer_options`, `merged_options`: the user's `--option` still wins).
`standing` then says, per decision, whether the policy is in force here,
whether it can run here at all, where its settings came from, the
threshold it acts at in words, and how far the host is from it; `order`
puts the decisions so that the killers in force come first, the one that
would act first at the top.

For the TUI: `merged_options(snapshot, given)` gives the options to run
the policies with (`evaluate_in_force` runs and orders them in one call),
`order(snapshot, domain, decisions, given)` puts decisions already made in
order with each one's `Standing` (`in_force`, `applicable`,
`settings_source`, `acts_at`, `distance`, `distance_text()`), and
`first_to_act` picks the top killer in force. Kills as they happen come
from `oomlog.follow.KillFollower` and are judged by `verdict.verdict_for`.

Who acts first. Each threshold is turned into the memory that would still
have to be used before it is crossed (`distance`, bytes), measured on the
same sample: earlyoom and nohang (available memory and free swap at their
percentages), systemd-oomd's swap policy (both below 100 − SwapUsedLimit %),
the kubelet (its memory.available signal against its threshold), and the
kernel itself (the domain's headroom: RAM + free swap for `/`, the limit
minus usage up the chain for a cgroup). Memory used anywhere lowers every
global figure by the same amount, and memory used inside a limited cgroup
lowers its headroom too, so the smallest distance acts first. Pressure
thresholds (systemd-oomd's pressure policy) are distances in PSI points
(`distance` is then a fraction), which no byte count compares with: they
come after the byte-ordered ones. oomd acts when its rulesets' detectors
fire (no distance). Killers already past their threshold come first.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from oomtui.evaluate import Options, evaluate
from oomtui.model import ROOT, Killer, Snapshot
from oomtui.policies import earlyoom, kubelet, registry
from oomtui.policies.base import Decision, OptionError
from oomtui.text import human_size, printable

KILLER_POLICIES: Mapping[str, tuple[str, ...]] = {
    "earlyoom": ("earlyoom",),
    "nohang": ("nohang",),
    "systemd-oomd": ("systemd-oomd-swap", "systemd-oomd-pressure"),
    "oomd": ("oomd-size-or-growth", "oomd-swap", "oomd-pressure", "oomd-pgscan"),
    "kubelet": ("kubelet-eviction",),
}
# Daemons with several policies: a policy is in force only when its own settings were found
# (a unit with ManagedOOMSwap=kill, an oomd ruleset using the plugin).
_MARKER = {"systemd-oomd": "monitored", "oomd": "cgroup"}
KERNEL = "kernel"
NEVER_MERGED = ("hierarchical", "terminal", "cgroup-aware")  # 2017 proposals: no kernel runs them
V2_ONLY = ("oomd-", "systemd-oomd-")


def killer_of(policy: str) -> str | None:
    return next((k for k, names in KILLER_POLICIES.items() if policy in names), None)


def _settings_for(killer: Killer, policy: str) -> dict[str, str] | None:
    """The killer's settings that are `policy`'s options, or None when this policy of it is not in force."""
    own = {key.split(".", 1)[1]: v for key, v in killer.settings.items() if key.startswith(policy + ".")}
    marker = _MARKER.get(killer.name)
    if marker is not None and marker not in own:
        return None
    bare = {key: v for key, v in killer.settings.items() if "." not in key}
    try:
        known = {o.name for o in registry.get(policy).options}
    except KeyError:
        return None  # a policy this build does not have
    return {k: v for k, v in {**bare, **own}.items() if k in known}


def killer_options(snapshot: Snapshot) -> tuple[dict[str, dict[str, str]], dict[str, str]]:
    """{policy: options} from the killers in force, and {policy: where they were read}."""
    options: dict[str, dict[str, str]] = {}
    sources: dict[str, str] = {}
    for killer in snapshot.host.killers or ():
        for policy in KILLER_POLICIES.get(killer.name, ()):
            found = _settings_for(killer, policy)
            if found is None:
                continue
            try:
                registry.get(policy).resolve_options(found)
            except OptionError:  # a setting the policy cannot take: keep the ones it can
                found = {k: v for k, v in found.items() if _parses(policy, k, v)}
            options[policy] = found
            sources[policy] = killer.source or (f"{killer.name} (pid {killer.pid})" if killer.pid else killer.name)
    return options, sources


def _parses(policy: str, key: str, value: str) -> bool:
    try:
        registry.get(policy).resolve_options({key: value})
    except OptionError:
        return False
    return True


def merged_options(snapshot: Snapshot, given: Options | None) -> dict[str, dict[str, str]]:
    """The killers' settings as defaults, each `--option` the user gave overriding its key."""
    merged, _ = killer_options(snapshot)
    for policy, opts in (given or {}).items():
        merged[policy] = {**merged.get(policy, {}), **opts}
    return merged


def in_force(snapshot: Snapshot, policy: str) -> bool | None:
    """True when the policy acts on this host, False when it does not, None when nobody looked."""
    if policy == KERNEL:
        return True
    if policy in NEVER_MERGED:
        return False
    killer = killer_of(policy)
    if killer is None or snapshot.host.killers is None:
        return None
    return any(k.name == killer and _settings_for(k, policy) is not None for k in snapshot.host.killers)


def why_not_applicable(snapshot: Snapshot, policy: str) -> str | None:
    """Why the policy cannot run on this host at all, or None when it can."""
    mode = snapshot.host.cgroup_mode
    if policy.startswith(V2_ONLY) and mode != "v2":
        daemon = "systemd-oomd" if policy.startswith("systemd-") else "oomd"
        where = {"v1": "cgroup v1", "hybrid": "the v1 memory controller (hybrid)", "none": "no memory cgroups"}[mode]
        return f"cannot run here: {daemon} needs cgroup v2 with the memory controller, and this host has {where}"
    return None


@dataclass(frozen=True, slots=True)
class Standing:
    """Where a policy stands on this host: the optional decision fields of `preview --json`."""

    policy: str
    in_force: bool | None
    applicable: bool
    settings_source: str | None  # where the options came from (None: defaults)
    acts_at: str | None  # the threshold, in words
    distance: float | None  # bytes still to be used before it acts, or a fraction (pressure)
    distance_unit: str | None  # "bytes" | "fraction"
    acts_now: bool = False

    def to_json(self) -> dict[str, Any]:
        distance = int(self.distance) if self.distance is not None and self.distance_unit == "bytes" else self.distance
        return {"in_force": self.in_force, "applicable": self.applicable, "settings_source": self.settings_source,
                "acts_at": self.acts_at, "distance": distance}

    def distance_text(self) -> str:
        if self.distance is None:
            return "—"
        if self.acts_now:
            return "now"
        if self.distance_unit == "fraction":
            return f"{self.distance * 100:.1f} points"
        return human_size(int(self.distance))


@dataclass(frozen=True, slots=True)
class Ranked:
    """A decision with its standing, in the order `order` puts them."""

    decision: Decision
    standing: Standing

    def to_json(self) -> dict[str, Any]:
        return {**self.decision.to_json(), **self.standing.to_json()}


# -- thresholds ------------------------------------------------------------------------


def _headroom(snapshot: Snapshot, domain: str) -> tuple[int | None, str]:
    """How much more can be used before the kernel's OOM killer runs in this domain, and where."""
    h = snapshot.host
    if domain == ROOT:
        if h.mem_available is None:
            return None, "RAM and swap exhausted"
        swap = h.swap_free or 0
        return h.mem_available + swap, "RAM" + (" and swap" if swap else "") + " exhausted"
    best: tuple[int, str] | None = None
    for path in [domain, *snapshot.ancestors(domain)]:
        c = snapshot.cgroup(path)
        if c is None or c.memory_max is None or c.memory_current is None:
            continue
        room = max(0, c.memory_max - c.memory_current)
        if best is None or room < best[0]:
            best = (room, f"{path} at its limit of {human_size(c.memory_max)}")
    return best if best is not None else (None, f"{domain} at its limit")


def _low_memory(snapshot: Snapshot, mem_pct: float, swap_pct: float, base: int | None, what: str,
                strict: bool = False) -> tuple[float | None, str]:
    """Distance to "available memory ≤ mem_pct % of base and free swap ≤ swap_pct % of SwapTotal"."""
    h = snapshot.host
    rel = "<" if strict else "≤"
    words = f"{what} {rel} {mem_pct:g}%" + (f" ({human_size(int(base * mem_pct / 100))})" if base else "")
    words += f" and free swap {rel} {swap_pct:g}%"
    if h.mem_available is None or base is None or h.swap_free is None or h.swap_total is None:
        return None, words
    mem_gap = max(0.0, h.mem_available - base * mem_pct / 100)
    swap_gap = max(0.0, h.swap_free - h.swap_total * swap_pct / 100)
    return mem_gap + swap_gap, words


def _kubelet_threshold(raw: str, mem_total: int | None) -> int | None:
    """Bytes, as the kubelet parses the threshold (`0%`/`100%` are none); None: no or a bad threshold."""
    try:
        t = kubelet.parse_threshold(raw)
    except ValueError:
        return None
    return None if t is None else t.bytes_of(mem_total)


def kubelet_signal(snapshot: Snapshot, raw: str) -> tuple[float | None, str]:
    """Distance of the kubelet's memory.available signal from its threshold (`100Mi`, `5%`), and the words."""
    h = snapshot.host
    threshold = _kubelet_threshold(raw, h.mem_total)
    words = f"memory.available < {raw}"
    root = snapshot.cgroup(ROOT)
    inactive = None if root is None else root.stat.get("total_inactive_file", root.stat.get("inactive_file"))
    if h.mem_total is None or threshold is None:
        return None, words
    if root is not None and root.memory_current is not None and inactive is not None:
        available = h.mem_total - max(0, root.memory_current - inactive)
    elif h.mem_available is not None:
        available, words = h.mem_available, words + " (signal estimated by MemAvailable)"
    else:
        return None, words
    return float(available - threshold), words


def _threshold(snapshot: Snapshot, domain: str, policy: str, opts: Mapping[str, Any]) -> tuple[float | None, str | None,
                                                                                           str | None]:
    """(distance, unit, acts_at) for one policy."""
    h = snapshot.host
    if policy == KERNEL or policy in NEVER_MERGED:
        room, words = _headroom(snapshot, domain)
        panic = h.sysctl.panic_on_oom
        if panic == 2 or (panic == 1 and domain == ROOT):
            words = f"{words}: the host panics (vm.panic_on_oom={panic})"
        elif h.sysctl.oom_kill_allocating_task:
            words = f"{words}: the allocating task dies (vm.oom_kill_allocating_task=1)"
        if domain == ROOT and h.sysctl.overcommit_memory == 2:
            words += "; with vm.overcommit_memory=2 allocations fail at the commit limit first"
        return room, "bytes", words
    if policy == "earlyoom":
        old = opts["version"] < (1, 8)
        if old:
            base = h.mem_total
        else:
            base = None if h.mem_available is None else h.mem_available + earlyoom.anon_pages(snapshot)
        what = "MemAvailable" if old else "MemAvailable (of MemAvailable + AnonPages)"
        dist, words = _low_memory(snapshot, opts["mem_min_percent"], opts["swap_min_percent"], base, what)
        return dist, "bytes", words
    if policy == "nohang":
        dist, words = _low_memory(snapshot, opts["soft_threshold_min_mem"], opts["soft_threshold_min_swap"],
                                  h.mem_total, "MemAvailable")
        return dist, "bytes", words
    if policy == "systemd-oomd-swap":
        left = 100 - opts["swap_used_limit"]
        if h.swap_total == 0:
            return None, None, "never here: it needs swap, and this host has none"
        dist, words = _low_memory(snapshot, left, left, h.mem_total, "MemAvailable", strict=True)
        return dist, "bytes", words
    if policy == "systemd-oomd-pressure":
        monitored = opts["monitored"] or (domain,)
        limit, duration = opts["mem_pressure_limit"], opts["mem_pressure_duration"]
        words = f"full memory pressure (avg10) above {limit:g}% for {duration:g} s in {', '.join(monitored)}"
        levels = [c.pressure.full.avg10 for m in monitored if (c := snapshot.cgroup(m)) is not None
                  and c.pressure is not None and c.pressure.full is not None and c.pressure.full.avg10 is not None]
        return ((limit - max(levels)) / 100 if levels else None), "fraction", words
    if policy.startswith("oomd-"):
        return None, None, "a ruleset using this plugin firing (its detectors: see the config)"
    if policy == "kubelet-eviction":
        dist, words = kubelet_signal(snapshot, str(opts.get("threshold") or "100Mi"))
        return dist, "bytes", words
    return None, None, None


def standing(snapshot: Snapshot, domain: str, decision: Decision, given: Options | None = None) -> Standing:
    """Where one decision's policy stands; `given` are the user's own options (over the killers' settings)."""
    return _standing(snapshot, domain, decision, given, killer_options(snapshot))


def _standing(snapshot: Snapshot, domain: str, decision: Decision, given: Options | None,
              found: tuple[dict[str, dict[str, str]], dict[str, str]]) -> Standing:
    policy = decision.policy
    force = in_force(snapshot, policy)
    why = why_not_applicable(snapshot, policy)
    defaults, sources = found
    source = sources.get(policy)
    if policy == KERNEL:
        s = snapshot.host.sysctl
        source = (f"/proc/sys/vm: panic_on_oom={s.panic_on_oom}, oom_kill_allocating_task="
                  f"{s.oom_kill_allocating_task}, overcommit_memory={s.overcommit_memory}")
    user = (given or {}).get(policy) or {}
    if user:
        source = (f"{source}; " if source else "") + "--option " + ", ".join(sorted(user))
    if why is not None:
        return Standing(policy, False if force is None else force, False, source, None, None, None)
    raw = {**defaults.get(policy, {}), **user}
    try:
        opts = registry.get(policy).resolve_options(raw)
    except (KeyError, OptionError):
        return Standing(policy, force, True, source, None, None, None)
    if policy == "kubelet-eviction":  # its threshold as written (100Mi, 5%), whatever the policy parses it into
        opts = {**opts, "threshold": raw.get("threshold", "100Mi")}
    dist, unit, words = _threshold(snapshot, domain, policy, opts)
    now = decision.triggered is True or (dist is not None and dist <= 0)
    return Standing(policy, force, True, source, words, dist, unit, now)


def not_applicable(decision: Decision, why: str) -> Decision:
    """What a policy that cannot run here decides: nothing, and why."""
    return Decision(policy=decision.policy, domain=decision.domain, triggered=False, reason=why)


def _key(r: Ranked, position: int) -> tuple:
    s = r.standing
    tier = 0 if s.in_force and s.applicable else (1 if s.in_force is None and s.applicable else 2)
    if not s.applicable:
        tier = 3
    if s.acts_now:
        return (tier, 0, 0.0, position)
    if s.distance is None:
        return (tier, 3, 0.0, position)
    return (tier, 1 if s.distance_unit == "bytes" else 2, s.distance, position)


def order(snapshot: Snapshot, domain: str, decisions: Sequence[Decision], given: Options | None = None) -> list[Ranked]:
    """Decisions with their standings: in force first, the one that would act first at the top.

    Then the policies whose presence is unknown (a snapshot that did not
    look), then the hypothetical ones, then those that cannot run here
    (their decision replaced by one that names no victim and says why).
    Ties keep the given order. `given` are the user's own options; the
    decisions should have been made with `merged_options(snapshot, given)`.
    """
    found = killer_options(snapshot)
    ranked = []
    for d in decisions:
        why = why_not_applicable(snapshot, d.policy)
        ranked.append(Ranked(not_applicable(d, why) if why else d, _standing(snapshot, domain, d, given, found)))
    keyed = sorted(enumerate(ranked), key=lambda pair: _key(pair[1], pair[0]))
    return [r for _, r in keyed]


def first_to_act(ranked: Iterable[Ranked]) -> Ranked | None:
    """The killer in force that would act first, where the ordering can tell."""
    return next((r for r in ranked if r.standing.in_force and r.standing.applicable), None)


def evaluate_in_force(snapshot: Snapshot, domain: str = ROOT, names: Iterable[str] | None = None,
                      given: Options | None = None) -> list[Ranked]:
    """Every (named) policy run with the killers' settings under the user's options, in `order`."""
    decisions = evaluate(snapshot, domain, names, merged_options(snapshot, given))
    return order(snapshot, domain, decisions, given)


def standings_text(ranked: Sequence[Ranked]) -> str:
    """The table's companion in `preview`: who acts first and at what, then what does not run here."""
    lines = ["", "in force here, first to act first (distance: memory still to be used before it acts):"]
    forced = [r for r in ranked if r.standing.in_force and r.standing.applicable]
    for i, r in enumerate(forced, 1):
        s = r.standing
        lines.append(f"  {i}. {s.policy}: acts at {printable(s.acts_at or 'unknown', 200)}; "
                     f"distance {s.distance_text()}; settings: {printable(s.settings_source or 'defaults', 200)}")
    groups = (
        ("not known whether it runs here (the snapshot did not look)", lambda s: s.in_force is None and s.applicable),
        ("hypothetical, not running here", lambda s: s.in_force is False and s.applicable),
    )
    for title, test in groups:
        names = [r.standing.policy for r in ranked if test(r.standing)]
        if names:
            lines.append(f"{title}: {', '.join(names)}")
    reasons: dict[str, list[str]] = {}
    for r in ranked:
        if not r.standing.applicable:
            reasons.setdefault(r.decision.reason, []).append(r.standing.policy)
    lines += [f"{', '.join(names)}: {printable(reason, 200)}" for reason, names in reasons.items()]
    return "\n".join(lines)


def killer_lines(snapshot: Snapshot) -> list[str]:
    """What `snapshot show` says about the killers the snapshot recorded, one line each (none if it did not look)."""
    killers = snapshot.host.killers
    if killers is None:
        return []
    if not killers:
        return ["OOM killers in force: none besides the kernel"]
    out = []
    for k in killers:
        pid = f" (pid {k.pid})" if k.pid is not None else ""
        settings = ", ".join(f"{key}={value!r}" for key, value in sorted(k.settings.items())) or "its defaults"
        out.append(printable(f"OOM killer in force: {k.name}{pid}: {settings}; from {k.source or 'unknown'}", 600))
    return out
