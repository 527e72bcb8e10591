"""Where the cgroup hierarchies are mounted, found from /proc/self/mountinfo.

Mount points are never hard-coded: containers, hybrid systemd hosts and
tests (fake trees in a temporary directory) all mount them elsewhere.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

Mode = Literal["v2", "v1", "hybrid", "none"]

_OCTAL = re.compile(r"\\([0-7]{3})")


@dataclass(frozen=True, slots=True)
class CgroupLayout:
    """The mounts oomtui reads; `memory_root` is where the memory cgroups are.

    mode: "v2" (memory controller on cgroup2), "v1" (on a v1 hierarchy, no
    cgroup2 mount), "hybrid" (on v1 beside a cgroup2 mount) or "none" (no
    memory controller mounted anywhere).
    """

    mode: Mode
    memory_root: Path | None
    v2_root: Path | None
    freezer_root: Path | None


@dataclass(frozen=True, slots=True)
class Mount:
    root: str  # the path inside the filesystem that is mounted (a bind mount's source)
    mount_point: str
    fstype: str
    super_options: frozenset[str]


def unescape(field: str) -> str:
    """mountinfo writes space, tab, newline and backslash as octal escapes (\\040)."""
    return _OCTAL.sub(lambda m: chr(int(m.group(1), 8)), field)


def parse_mountinfo(text: str) -> list[Mount]:
    """Mounts in file order; malformed lines are skipped."""
    mounts = []
    for line in text.splitlines():
        left, sep, right = line.partition(" - ")
        fields, rfields = left.split(" "), right.split(" ")
        if not sep or len(fields) < 5 or len(rfields) < 3:
            continue
        mounts.append(Mount(
            root=unescape(fields[3]),
            mount_point=unescape(fields[4]),
            fstype=rfields[0],
            super_options=frozenset(rfields[2].split(",")),
        ))
    return mounts


def _first(mounts: list[Mount]) -> Mount | None:
    """Prefer a mount of the hierarchy's own root over a bind mount of a subtree."""
    whole = [m for m in mounts if m.root == "/"]
    return (whole or mounts)[0] if (whole or mounts) else None


def _has_memory_controller(v2_root: Path) -> bool:
    try:
        return "memory" in (v2_root / "cgroup.controllers").read_text().split()
    except OSError:
        return False


def layout_from_mounts(mounts: list[Mount]) -> CgroupLayout:
    v2 = _first([m for m in mounts if m.fstype == "cgroup2"])
    v1 = [m for m in mounts if m.fstype == "cgroup"]
    memory = _first([m for m in v1 if "memory" in m.super_options])
    freezer = _first([m for m in v1 if "freezer" in m.super_options])
    v2_root = Path(v2.mount_point) if v2 else None
    freezer_root = Path(freezer.mount_point) if freezer else None
    if memory is not None:
        mode: Mode = "hybrid" if v2_root else "v1"
        return CgroupLayout(mode, Path(memory.mount_point), v2_root, freezer_root)
    if v2_root is not None and _has_memory_controller(v2_root):
        return CgroupLayout("v2", v2_root, v2_root, freezer_root)
    return CgroupLayout("none", None, v2_root, freezer_root)


def detect_layout(proc: str | Path = "/proc") -> CgroupLayout:
    """The host's cgroup layout; "none" when mountinfo cannot be read."""
    try:
        text = (Path(proc) / "self" / "mountinfo").read_text(errors="replace")
    except OSError:
        return CgroupLayout("none", None, None, None)
    return layout_from_mounts(parse_mountinfo(text))
