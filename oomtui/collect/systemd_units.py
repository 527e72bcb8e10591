"""systemd-oomd's settings: oomd.conf with its drop-ins, and the units that hand it their cgroups.

systemd-oomd learns which cgroups to watch from PID 1 over varlink; on
disk the same facts are the unit files and drop-ins with
`ManagedOOMSwap=kill` / `ManagedOOMMemoryPressure=kill`. They are read
here in systemd's precedence (/etc over /run over /usr/lib, drop-ins in
file-name order, the last assignment winning), so nothing has to be asked
of a daemon. Preferences (`ManagedOOMPreference=`) reach the policies as
the `user.oomd_avoid`/`user.oomd_omit` xattrs PID 1 sets, which the cgroup
collector reads.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass

UNIT_DIRS = ("etc/systemd/system", "run/systemd/system", "usr/local/lib/systemd/system",
             "usr/lib/systemd/system", "lib/systemd/system")
CONF_DIRS = ("etc/systemd", "run/systemd", "usr/local/lib/systemd", "usr/lib/systemd", "lib/systemd")
_KINDS = (".service", ".slice", ".scope", ".socket", ".mount", ".swap")
MAX_UNIT_FILES = 5000
_TIME_UNITS = {"us": 1e-6, "usec": 1e-6, "ms": 1e-3, "msec": 1e-3, "s": 1, "sec": 1, "second": 1, "seconds": 1,
               "m": 60, "min": 60, "minute": 60, "minutes": 60, "h": 3600, "hr": 3600, "hour": 3600, "hours": 3600}

Read = Callable[[str], str | None]  # a path below the root -> its text, or None


def assignments(text: str, section: str | None = None) -> dict[str, str]:
    """`Key=value` lines of an INI-style unit or config file (the last wins), optionally of one section."""
    out: dict[str, str] = {}
    current = None
    for line in text.splitlines():
        line = line.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("[") and line.endswith("]"):
            current = line[1:-1]
            continue
        if section is not None and current != section:
            continue
        key, eq, value = line.partition("=")
        if eq:
            out[key.strip()] = value.strip()
    return out


def percent(raw: str) -> str | None:
    """`60%`, `60.5%` or permille `605‰` as the policies' percentage."""
    m = re.fullmatch(r"(\d+(?:\.\d+)?)\s*(%|‰|‱)", raw.strip())
    if not m:
        return None
    scale = {"%": 1, "‰": 10, "‱": 100}[m.group(2)]
    return f"{float(m.group(1)) / scale:g}"


def seconds(raw: str) -> str | None:
    """A systemd time span (`30s`, `1min 30s`, `20`) in seconds."""
    total = 0.0
    parts = re.findall(r"(\d+(?:\.\d+)?)\s*([a-z]*)", raw.strip().lower())
    if not parts or re.sub(r"[\d.\sa-z]", "", raw.lower()):
        return None
    for number, unit in parts:
        factor = _TIME_UNITS.get(unit or "s")
        if factor is None:
            return None
        total += float(number) * factor
    return f"{total:g}"


def slice_path(name: str) -> str:
    """`a-b.slice` -> `/a.slice/a-b.slice`; `-.slice` is the root."""
    stem = name.removesuffix(".slice")
    if stem in ("-", ""):
        return "/"
    parts = stem.split("-")
    return "/" + "/".join("-".join(parts[: i + 1]) + ".slice" for i in range(len(parts)))


@dataclass(frozen=True, slots=True)
class ManagedUnit:
    name: str
    cgroup: str
    swap: bool
    pressure: bool
    pressure_limit: str | None  # a percentage, where the unit sets its own
    pressure_duration: str | None  # seconds


def oomd_conf(root: str, read: Read) -> tuple[dict[str, str], list[str]]:
    """[OOM] of /etc/systemd/oomd.conf and its drop-ins, and the files that were read."""
    files = []
    main = next((f"{d}/oomd.conf" for d in CONF_DIRS if read(f"{d}/oomd.conf") is not None), None)
    if main is not None:
        files.append(main)
    files += _dropins(root, [f"{d}/oomd.conf.d" for d in CONF_DIRS])
    merged: dict[str, str] = {}
    for f in files:
        merged.update(assignments(read(f) or "", "OOM"))
    return merged, files


def _listdir(root: str, rel: str) -> list[str]:
    try:
        return sorted(os.listdir(os.path.join(root, rel)))
    except OSError:
        return []


def _dropins(root: str, dirs: list[str]) -> list[str]:
    """`*.conf` in the drop-in directories, by file name; a name in an earlier directory hides later ones."""
    chosen: dict[str, str] = {}
    for d in dirs:
        for name in _listdir(root, d):
            if name.endswith(".conf"):
                chosen.setdefault(name, f"{d}/{name}")
    return [chosen[n] for n in sorted(chosen)]


def managed_units(root: str, read: Read) -> list[ManagedUnit]:
    """Every unit on disk whose effective settings hand its cgroup to systemd-oomd."""
    mains: dict[str, str] = {}
    seen = 0
    for d in UNIT_DIRS:
        for name in _listdir(root, d):
            seen += 1
            if seen > MAX_UNIT_FILES:
                break
            if name.endswith(_KINDS) and "@." not in name:
                mains.setdefault(name, f"{d}/{name}")
    candidates = set(mains)
    for d in UNIT_DIRS:  # a unit may be configured by drop-ins alone (its file elsewhere, or generated)
        candidates.update(n[:-2] for n in _listdir(root, d) if n.endswith(".d") and n[:-2].endswith(_KINDS)
                          and "@." not in n)
    units = []
    for name in sorted(candidates):
        texts = [read(mains[name]) if name in mains else ""]
        if texts[0] is None or (name in mains and _masked_or_alias(root, mains[name], name)):
            continue
        texts += [read(f) or "" for f in _dropins(root, [f"{d}/{name}.d" for d in UNIT_DIRS])]
        merged: dict[str, str] = {}
        for text in texts:
            merged.update(assignments(text or ""))
        swap = merged.get("ManagedOOMSwap") == "kill"
        pressure = merged.get("ManagedOOMMemoryPressure") == "kill"
        if not (swap or pressure):
            continue
        limit = percent(merged.get("ManagedOOMMemoryPressureLimit", ""))
        duration = seconds(merged.get("ManagedOOMMemoryPressureDurationSec", ""))
        units.append(ManagedUnit(name, _cgroup_of(name, merged.get("Slice")), swap, pressure,
                                 None if limit in (None, "0") else limit, duration))
    return units


def _masked_or_alias(root: str, rel: str, name: str) -> bool:
    """A symlink to /dev/null masks a unit; one to a unit of another name is an alias, read under its own name."""
    try:
        target = os.readlink(os.path.join(root, rel))
    except OSError:
        return False
    return target == "/dev/null" or os.path.basename(target) != name


def _cgroup_of(name: str, slice_name: str | None) -> str:
    if name.endswith(".slice"):
        return slice_path(name)
    parent = slice_path(slice_name or "system.slice")
    return f"{parent.rstrip('/')}/{name}"


def systemd_oomd_settings(root: str, read: Read) -> tuple[dict[str, str], list[str]]:
    """The systemd-oomd policies' options, and where they came from (files, then the units' names)."""
    conf, files = oomd_conf(root, read)
    out: dict[str, str] = {}
    if (v := percent(conf.get("SwapUsedLimit", ""))) is not None:
        out["swap_used_limit"] = v
    if (v := percent(conf.get("DefaultMemoryPressureLimit", ""))) is not None:
        out["mem_pressure_limit"] = v
    if (v := seconds(conf.get("DefaultMemoryPressureDurationSec", ""))) is not None:
        out["mem_pressure_duration"] = v
    units = managed_units(root, read)
    swap = [u.cgroup for u in units if u.swap]
    pressure = [u for u in units if u.pressure]
    if swap:
        out["systemd-oomd-swap.monitored"] = ",".join(swap)
    if pressure:
        out["systemd-oomd-pressure.monitored"] = ",".join(u.cgroup for u in pressure)
        limits = {u.pressure_limit for u in pressure if u.pressure_limit}
        if len(limits) == 1:  # the policy takes one limit: a unit's own, where every unit agrees
            out["mem_pressure_limit"] = limits.pop()
        durations = {u.pressure_duration for u in pressure if u.pressure_duration}
        if len(durations) == 1:
            out["mem_pressure_duration"] = durations.pop()
    sources = ["/" + f for f in files]
    if units:
        sources.append("units " + " ".join(u.name for u in units))
    return out, sources
