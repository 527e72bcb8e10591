"""Every memory cgroup of the hierarchy, and which process sits in which.

The walk lists parents before children and siblings by inode number. On
cgroupfs (kernfs) a directory's inode number is allocated when the cgroup
is created (on v2 it is the cgroup id), so ascending inodes stand in for
creation order, the order the kernel's memcg iterator visits siblings.

Membership comes from each cgroup's `cgroup.procs`: a few hundred reads
instead of one /proc/PID/cgroup per process. A process that is in no list
(it forked after its cgroup was read) is looked up by the process reader,
and so is one in two lists: on v1 a thread can be moved alone, and every
memory cgroup holding one of a process's threads lists it, while the
kernel charges it and scans it at an OOM where its leader is.

Open directories. On the live hierarchy each walked cgroup's directory is
kept open between samples, and its files are opened relative to it: the
kernel then looks up one name instead of every component of a path seven
or eight deep, which was a quarter of the CPU a cgroup's reads cost. A
directory fd holds no buffer (a kept-open file would hold a page each).
One is closed when its cgroup is no longer walked, or is walked with
another inode (removed and made again: the old fd reads nothing); they
count towards the budget the process reader's kept files share
(`files.room`), and past it a cgroup is read by path as before.
"""

from __future__ import annotations

import os
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from functools import partial

from oomtui.collect import parse
from oomtui.collect.files import Reader, close_all, keep_dir, read_file, read_in
from oomtui.collect.layout import CgroupLayout
from oomtui.model import ROOT, Cgroup, Pressure, Trend, frozen_map

XATTRS = ("trusted.oomd_prefer", "trusted.oomd_avoid", "user.oomd_prefer", "user.oomd_avoid", "user.oomd_omit")
# systemd-oomd's default ManagedOOMMemoryPressureLimit, the threshold `trend` tracks.
PRESSURE_LIMIT = 60.0
_Get = Callable[[str], bytes | None]  # a cgroup's file by name: its bytes, or None if unreadable


@dataclass
class CgroupWalk:
    nodes: list[tuple[str, str, int]] = field(default_factory=list)  # (directory, path, inode) per memory cgroup
    members: dict[int, str] = field(default_factory=dict)  # pid -> its memory cgroup's path

    @property
    def paths(self) -> set[str]:
        return {path for _, path, _ in self.nodes}


@dataclass(frozen=True, slots=True)
class _Seen:
    """What one sample leaves for the next one's trend."""

    inode: int
    at: float
    current: int | None
    avg: float | None
    pgscan: int | None
    above_since: float | None


def read_xattrs(directory: str | int) -> dict[str, str]:
    """The daemon preferences set on a cgroup directory (its path or an fd open on it); unreadable ones are left out."""
    try:
        present = [name for name in os.listxattr(directory) if name in XATTRS]
    except OSError:
        return {}
    out = {}
    for name in present:
        try:
            out[name] = parse.text(os.getxattr(directory, name))
        except OSError:
            continue
    return out


def _full_avg10(p: Pressure | None) -> float | None:
    return p.full.avg10 if p is not None and p.full is not None else None


class CgroupReader:
    """Reads the hierarchy under `layout.memory_root`, keeping trend state between scans."""

    def __init__(self, layout: CgroupLayout, read: Reader, pressure_limit: float = PRESSURE_LIMIT) -> None:
        self.layout = layout
        self.read = read
        self.pressure_limit = pressure_limit
        self._seen: dict[str, _Seen] = {}
        # cgroup path -> (inode of its directory, an fd open on it): see "Open directories" above
        self._dirs: dict[str, tuple[int, int]] = {}
        self._keeps = read is read_file
        weakref.finalize(self, close_all, self._dirs)

    def close(self) -> None:
        """Close the directories kept open; the next walk opens them again."""
        close_all(self._dirs)

    def walk(self) -> CgroupWalk:
        """The memory cgroups (parents first, siblings by inode) and which process is in which."""
        walk = CgroupWalk()
        root = self.layout.memory_root
        if root is None:
            return walk
        v1 = self.layout.mode in ("v1", "hybrid")
        # (directory, cgroup path, inode, path of the nearest memory cgroup at or above it)
        stack: list[tuple[str, str, int, str]] = [(str(root), ROOT, _inode(str(root)), ROOT)]
        dirs: dict[str, tuple[int, int]] = {}
        straddling: set[int] = set()
        try:
            while stack:
                directory, path, inode, home = stack.pop()
                fd = self._dir(directory, path, inode, dirs)
                try:
                    with os.scandir(directory if fd is None else fd) as it:
                        subdirs = [(e.inode(), e.name) for e in it if e.is_dir(follow_symlinks=False)]
                except FileNotFoundError:
                    continue  # removed since its parent was listed
                except OSError:
                    subdirs = []
                for pid in (self._get(directory, fd, "cgroup.procs") or b"").split():
                    if pid.isdigit() and walk.members.setdefault(int(pid), home) != home:
                        straddling.add(int(pid))
                children_are_memcgs = False
                if home == path:
                    walk.nodes.append((directory, path, inode))
                    children_are_memcgs = v1 or self._delegates_memory(directory, fd)
                subdirs.sort(reverse=True)
                for child_inode, name in subdirs:
                    child = f"{path.rstrip('/')}/{parse.fs_name(name)}"
                    stack.append((f"{directory}/{name}", child, child_inode, child if children_are_memcgs else home))
        finally:
            close_all(self._dirs)  # those of cgroups no longer walked
            self._dirs = dirs
        for n in straddling:
            del walk.members[n]
        return walk

    def _dir(self, directory: str, path: str, inode: int, dirs: dict[str, tuple[int, int]]) -> int | None:
        """An fd on the cgroup's directory, kept from the last walk or opened now (into `dirs`); None past budget."""
        return keep_dir(self._dirs, dirs, path, directory, inode) if self._keeps else None

    def read_all(self, walk: CgroupWalk, now: float) -> list[Cgroup]:
        """Each walked cgroup's memory files, with its trend; one removed since the walk is left out."""
        v1 = self.layout.mode in ("v1", "hybrid")
        seen: dict[str, _Seen] = {}
        out = []
        for directory, path, inode in walk.nodes:
            try:
                owner: int | None = os.stat(directory).st_uid
            except FileNotFoundError:
                continue
            except OSError:
                owner = None
            held = self._dirs.get(path)
            fd = held[1] if held is not None and held[0] == inode else None
            get = partial(self._get, directory, fd)
            xattrs = frozen_map(read_xattrs(directory if fd is None else fd))
            cgroup = self._v1(get, path, owner, xattrs) if v1 else self._v2(get, path, owner, xattrs)
            out.append(self._with_trend(cgroup, inode, now, seen))
        self._seen = seen
        return out

    def _delegates_memory(self, directory: str, fd: int | None) -> bool:
        """On v2, children are memory cgroups only when the parent enables the controller for them."""
        control = self._get(directory, fd, "cgroup.subtree_control")
        return control is None or b"memory" in control.split()

    def _get(self, directory: str, fd: int | None, name: str) -> bytes | None:
        return read_in(self.read, directory, fd, name)

    def _v2(self, get: _Get, path: str, owner: int | None, xattrs: Mapping[str, str]) -> Cgroup:
        populated = parse.flat_keyed(get("cgroup.events")).get("populated")
        return Cgroup(
            path=path,
            memory_current=parse.to_int(get("memory.current")),
            memory_max=parse.limit(get("memory.max")),
            memory_high=parse.limit(get("memory.high")),
            memory_low=parse.to_int(get("memory.low")),
            memory_min=parse.to_int(get("memory.min")),
            swap_current=parse.to_int(get("memory.swap.current")),
            swap_max=parse.limit(get("memory.swap.max")),
            oom_group=parse.flag(get("memory.oom.group")),
            stat=parse.flat_keyed(get("memory.stat")),
            events=parse.flat_keyed(get("memory.events")),
            pressure=parse.pressure(get("memory.pressure")),
            xattrs=xattrs,
            owner_uid=owner,
            populated=None if populated is None else populated != 0,
        )

    def _v1(self, get: _Get, path: str, owner: int | None, xattrs: Mapping[str, str]) -> Cgroup:
        usage = parse.to_int(get("memory.usage_in_bytes"))
        limit = parse.limit(get("memory.limit_in_bytes"))
        memsw_usage = parse.to_int(get("memory.memsw.usage_in_bytes"))
        memsw_limit = parse.limit(get("memory.memsw.limit_in_bytes"))
        oom = parse.flat_keyed(get("memory.oom_control"))
        return Cgroup(
            path=path,
            memory_current=usage,
            memory_max=limit,
            swap_current=None if memsw_usage is None or usage is None else max(memsw_usage - usage, 0),
            swap_max=None if memsw_limit is None or limit is None else max(memsw_limit - limit, 0),
            stat=parse.flat_keyed(get("memory.stat")),
            events=frozen_map({k: oom[k] for k in ("oom_kill", "under_oom") if k in oom}),
            xattrs=xattrs,
            owner_uid=owner,
            swappiness=parse.to_int(get("memory.swappiness")),
        )

    def _with_trend(self, c: Cgroup, inode: int, now: float, seen: dict[str, _Seen]) -> Cgroup:
        """Carry oomd's decaying average and the pressure clock over from the last scan.

        A cgroup seen for the first time (or recreated: a new inode) has no
        trend yet; its average starts as oomd's does, from zero.
        """
        prev = self._seen.get(c.path)
        if prev is not None and prev.inode != inode:
            prev = None
        current = c.memory_current
        avg = prev.avg if prev is not None else None
        if current is not None:
            avg = (avg or 0.0) * 3 / 4 + current / 4
        full = _full_avg10(c.pressure)
        above_since = None
        if full is not None and full > self.pressure_limit:
            above_since = prev.above_since if prev is not None and prev.above_since is not None else now
        pgscan = c.stat.get("pgscan")
        seen[c.path] = _Seen(inode, now, current, avg, pgscan, above_since)
        if prev is None:
            return c
        return replace(c, trend=Trend(
            interval=now - prev.at,
            memory_current_prev=prev.current,
            memory_current_avg=None if avg is None else round(avg),
            pgscan_prev=prev.pgscan,
            pressure_full_avg10_above_since=above_since,
        ))


def _inode(directory: str) -> int:
    try:
        return os.stat(directory).st_ino
    except OSError:
        return 0
