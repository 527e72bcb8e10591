"""Writing the knobs that steer an OOM kill: oom_score_adj, memory.oom.group, daemon xattrs.

Every refusal from the kernel becomes a sentence that says what is missing,
because "Permission denied" as root (lowering oom_score_adj without
CAP_SYS_RESOURCE) is otherwise a puzzle.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path
from typing import TYPE_CHECKING

from oomtui.act.kill import GONE, errno_words, when
from oomtui.act.plan import KnobWrite
from oomtui.act.procfs import facts_at, proc_dir, read_at, same_start
from oomtui.act.results import KnobResult

if TYPE_CHECKING:
    from oomtui.collect.layout import CgroupLayout

NO_OOM_GROUP_V1 = "the kernel has no memory.oom.group on cgroup v1"


def lowering_denied_words(value: int) -> str:
    root = " even though it runs as root" if os.geteuid() == 0 else ""
    return f"not allowed: lowering oom_score_adj to {value} needs CAP_SYS_RESOURCE, which oomtui does not have{root}"


def _write_adj(w: KnobWrite) -> tuple[bool, str]:
    assert w.pid is not None
    value = w.value
    if isinstance(value, bool) or not isinstance(value, int) or not -1000 <= value <= 1000:
        return False, f"oom_score_adj must be an integer from -1000 to 1000, not {value!r}"
    if w.start_time is None:
        return False, "identity unknown: the snapshot has no start time for it, refusing"
    try:
        with proc_dir(w.pid) as d:
            f = facts_at(d, w.pid)
            if not same_start(w.start_time, f.start_time):
                return False, (f"identity changed: pid {w.pid} now belongs to a process started at "
                               f"{when(f.start_time)} ({f.comm}); refusing")
            current = int(read_at(d, "oom_score_adj").split()[0])
            fd = os.open("oom_score_adj", os.O_WRONLY | os.O_CLOEXEC, dir_fd=d)
            try:
                os.write(fd, str(value).encode())
            except PermissionError:  # the file is open to us: only the kernel's check on lowering refuses now
                return False, lowering_denied_words(value)
            finally:
                os.close(fd)
    except OSError as e:
        return False, errno_words(e)[1]
    return True, f"oom_score_adj of {w.pid} ({f.comm}) is now {value} (was {current})"


def _cgroup_dir(layout: CgroupLayout, path: str) -> Path | None:
    return None if layout.memory_root is None else Path(layout.memory_root) / path.lstrip("/")


def _write_existing(path: Path, text: str) -> None:
    """Write a control file that must already exist: never create one."""
    fd = os.open(path, os.O_WRONLY | os.O_TRUNC | os.O_CLOEXEC)
    try:
        os.write(fd, text.encode())
    finally:
        os.close(fd)


def _write_oom_group(w: KnobWrite, layout: CgroupLayout) -> tuple[bool, str]:
    assert w.cgroup is not None
    if layout.mode in ("v1", "hybrid"):
        return False, NO_OOM_GROUP_V1
    d = _cgroup_dir(layout, w.cgroup)
    if d is None:
        return False, "no memory cgroups are mounted on this host"
    if not d.is_dir():
        return False, f"cgroup {w.cgroup} no longer exists"
    try:
        _write_existing(d / "memory.oom.group", "1" if w.value else "0")
    except FileNotFoundError:
        return False, (f"cgroup {w.cgroup} has no memory.oom.group (the memory controller is not enabled "
                       "there, or the kernel is older than 4.19)")
    except PermissionError:
        return False, f"no permission to write memory.oom.group of {w.cgroup} (needs root or a delegated cgroup)"
    except OSError as e:
        return False, f"failed: {e.strerror or e}"
    return True, f"memory.oom.group of {w.cgroup} is now {1 if w.value else 0}"


def xattr_error_words(e: OSError, name: str) -> str:
    if e.errno in (errno.EPERM, errno.EACCES) and name.startswith("trusted."):
        return "not allowed: trusted.* xattrs need CAP_SYS_ADMIN"
    if e.errno in (errno.EPERM, errno.EACCES):
        return "no permission (needs root or the owner of the cgroup)"
    if e.errno in (errno.ENOTSUP, errno.EOPNOTSUPP) and name.startswith("user."):
        return "this kernel does not allow user.* xattrs on cgroups (needs Linux 5.7 or later)"
    if e.errno in (errno.ENOTSUP, errno.EOPNOTSUPP):
        return f"this filesystem does not support {name.split('.')[0]}.* xattrs"
    if e.errno == errno.ENOENT:
        return "the cgroup no longer exists"
    return f"failed: {e.strerror or e}"


def _write_xattr(w: KnobWrite, layout: CgroupLayout) -> tuple[bool, str]:
    assert w.cgroup is not None and w.name is not None
    d = _cgroup_dir(layout, w.cgroup)
    if d is None:
        return False, "no memory cgroups are mounted on this host"
    try:
        if w.value is None:
            try:
                os.removexattr(d, w.name)
            except OSError as e:
                if e.errno != errno.ENODATA:
                    raise
                return True, f"{w.name} was not set on {w.cgroup}"
            return True, f"removed {w.name} from {w.cgroup}"
        os.setxattr(d, w.name, str(w.value).encode())
    except OSError as e:
        return False, xattr_error_words(e, w.name)
    return True, f"{w.name} on {w.cgroup} is now {w.value!r}"


def apply_write(w: KnobWrite, layout: CgroupLayout) -> KnobResult:
    if w.kind == "oom_score_adj":
        ok, detail = _write_adj(w)
    elif w.kind == "oom_group":
        ok, detail = _write_oom_group(w, layout)
    elif w.kind == "xattr":
        ok, detail = _write_xattr(w, layout)
    else:
        ok, detail = False, f"unknown kind of write {w.kind!r}"
    if detail == GONE:
        detail = f"process {w.pid} is gone"
    return KnobResult(w, ok, detail)
