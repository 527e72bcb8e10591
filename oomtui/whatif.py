"""The user's what-if edits, applied to a snapshot as a new view.

Edits are values (WhatIf), never changes to a snapshot: the TUI keeps the
real snapshot and the edits apart, so "undo" is dropping an edit and the
apply confirmation can say exactly what differs from the host.
"""

from __future__ import annotations

import dataclasses

from oomtui.model import ROOT, CgroupEdit, Process, ProcessEdit, Snapshot, WhatIf, frozen_map
from oomtui.text import printable

SCORE_MIN, SCORE_MAX = -1000, 1000
NAME_LIMIT = 80


def _clamp(value: int) -> int:
    return max(SCORE_MIN, min(SCORE_MAX, int(value)))


def apply(snapshot: Snapshot, edits: WhatIf | None = None) -> Snapshot:
    """The snapshot as the edits would make it; `edits` default to the snapshot's own."""
    w = snapshot.whatif if edits is None else edits
    if w.is_empty() and snapshot.whatif.is_empty():
        return snapshot
    cgroups = {}
    for path, e in w.cgroups.items():
        c = snapshot.cgroup(path)
        if c is None:
            continue
        changes: dict = {}
        if e.interdependent is not None and e.interdependent != c.oom_group:
            changes["oom_group"] = e.interdependent
        if e.xattrs:
            xattrs = dict(c.xattrs)
            for name, value in e.xattrs.items():
                if value is None:
                    xattrs.pop(name, None)
                else:
                    xattrs[name] = value
            if xattrs != dict(c.xattrs):
                changes["xattrs"] = frozen_map(xattrs)
        if changes:
            cgroups[path] = dataclasses.replace(c, **changes)
    processes: dict[int, Process] = {}
    for pid, pe in w.processes.items():
        p = snapshot.process(pid)
        if p is not None and pe.oom_score_adj is not None and pe.oom_score_adj != p.oom_score_adj:
            processes[pid] = dataclasses.replace(p, oom_score_adj=_clamp(pe.oom_score_adj))
    if not cgroups and not processes and w is snapshot.whatif:
        return snapshot  # already as the edits make it (a view applied before): keep its identity
    return snapshot.with_replaced(cgroups, processes, w)


# -- reading a (viewed) snapshot -----------------------------------------------


def cgroup_score(snapshot: Snapshot, path: str) -> int:
    """The cgroup's what-if score; 0 when unset (the kernel has no such knob)."""
    e = snapshot.whatif.cgroups.get(path)
    return 0 if e is None or e.score is None else e.score


def is_interdependent(snapshot: Snapshot, path: str) -> bool:
    """Whether the cgroup lives and dies as one: the edit, else memory.oom.group.

    The root is never interdependent: the kernel has no oom.group there, and
    "kill the whole host" is no policy.
    """
    if path == ROOT:
        return False
    e = snapshot.whatif.cgroups.get(path)
    if e is not None and e.interdependent is not None:
        return e.interdependent
    c = snapshot.cgroup(path)
    return bool(c is not None and c.oom_group)


# -- building edits --------------------------------------------------------------


def _with_cgroup_edit(w: WhatIf, path: str, edit: CgroupEdit) -> WhatIf:
    cgroups = dict(w.cgroups)
    if edit.interdependent is None and edit.score is None and not edit.xattrs:
        cgroups.pop(path, None)
    else:
        cgroups[path] = edit
    return WhatIf(cgroups=frozen_map(cgroups), processes=w.processes)


def _cgroup_edit(w: WhatIf, path: str) -> CgroupEdit:
    return w.cgroups.get(path) or CgroupEdit()


def set_interdependent(w: WhatIf, path: str, value: bool | None) -> WhatIf:
    """Mark a cgroup interdependent (True), independent (False), or as it really is (None)."""
    return _with_cgroup_edit(w, path, dataclasses.replace(_cgroup_edit(w, path), interdependent=value))


def set_score(w: WhatIf, path: str, score: int | None) -> WhatIf:
    """A cgroup score, clamped to -1000..1000; None drops it."""
    value = None if score is None else _clamp(score)
    return _with_cgroup_edit(w, path, dataclasses.replace(_cgroup_edit(w, path), score=value))


def set_xattr(w: WhatIf, path: str, name: str, value: str | None, remove: bool = False) -> WhatIf:
    """Set a daemon preference xattr, record its removal (remove=True), or drop the edit (None)."""
    edit = _cgroup_edit(w, path)
    xattrs = dict(edit.xattrs)
    if remove:
        xattrs[name] = None
    elif value is None:
        xattrs.pop(name, None)
    else:
        xattrs[name] = value
    return _with_cgroup_edit(w, path, dataclasses.replace(edit, xattrs=frozen_map(xattrs)))


def set_adj(w: WhatIf, pid: int, adj: int | None) -> WhatIf:
    """Override a process's oom_score_adj (clamped); None drops the override."""
    processes = dict(w.processes)
    if adj is None:
        processes.pop(pid, None)
    else:
        processes[pid] = ProcessEdit(oom_score_adj=_clamp(adj))
    return WhatIf(cgroups=w.cgroups, processes=frozen_map(processes))


# -- describing edits ------------------------------------------------------------


def _show(text: str) -> str:
    return printable(text, NAME_LIMIT)


def _kind(value: bool | None) -> str:
    return "interdependent" if value else "independent"


def diff_lines(snapshot: Snapshot, w: WhatIf) -> list[str]:
    """One line per edit, against the snapshot's real values, for the edits list and confirmations."""
    lines = []
    for path, e in sorted(w.cgroups.items()):
        c = snapshot.cgroup(path)
        where = _show(path) + ("" if c is not None else " (not in this snapshot)")
        if e.interdependent is not None:
            was = _kind(c.oom_group) if c is not None else "unknown"
            same = " (no change)" if c is not None and bool(c.oom_group) == e.interdependent else ""
            lines.append(f"{where}: {_kind(e.interdependent)}, was {was}{same}")
        if e.score is not None:
            lines.append(f"{where}: score {e.score:+d}, was 0 (the kernel has no cgroup score)")
        for name, value in sorted(e.xattrs.items()):
            real = None if c is None else c.xattrs.get(name)
            was = "unset" if real is None else repr(_show(real))
            if value is None:
                lines.append(f"{where}: remove xattr {_show(name)}, was {was}")
            else:
                lines.append(f"{where}: xattr {_show(name)}={_show(value)!r}, was {was}")
    for pid, pe in sorted(w.processes.items()):
        if pe.oom_score_adj is None:
            continue
        p = snapshot.process(pid)
        if p is None:
            lines.append(f"pid {pid} (not in this snapshot): oom_score_adj {pe.oom_score_adj}")
            continue
        same = " (no change)" if p.oom_score_adj == pe.oom_score_adj else ""
        lines.append(f"pid {pid} {_show(p.comm)}: oom_score_adj {pe.oom_score_adj}, was {p.oom_score_adj}{same}")
    return lines
