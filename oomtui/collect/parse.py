"""Pure parsers for the kernel's text files: bytes in, values or None out.

Every parser returns None (or an empty mapping) for text it cannot read,
because a snapshot records "unknown" and never a guess.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import NamedTuple

from oomtui.model import Pressure, PressureLine, frozen_map

PF_KTHREAD = 0x00200000
# v1 writes "unlimited" as PAGE_COUNTER_MAX pages, just under 2**63 bytes.
V1_UNLIMITED = 1 << 62


def text(data: bytes) -> str:
    """Untrusted bytes as text: invalid UTF-8 shows as `\\xff`, so distinct names stay distinct."""
    return data.decode("utf-8", "backslashreplace")


def fs_name(name: str) -> str:
    """A directory name from os.scandir (undecodable bytes as surrogates) in the same form."""
    return name if name.isascii() else text(os.fsencode(name))


def to_int(data: bytes | None) -> int | None:
    if data is None:
        return None
    try:
        return int(data)
    except ValueError:
        return None


def limit(data: bytes | None) -> int | None:
    """A v2 limit ("max" is unlimited) or a v1 one (a huge number is unlimited)."""
    n = to_int(data)
    return None if n is None or n >= V1_UNLIMITED else n


def flag(data: bytes | None) -> bool | None:
    n = to_int(data)
    return None if n is None else n != 0


def flat_keyed(data: bytes | None) -> Mapping[str, int]:
    """memory.stat, memory.events, memory.oom_control: "key value" lines."""
    if not data:
        return frozen_map(None)
    out = {}
    for line in data.split(b"\n"):
        key, _, value = line.partition(b" ")
        try:
            out[key.decode()] = int(value)
        except (ValueError, UnicodeDecodeError):
            continue
    return frozen_map(out)


def _pressure_line(fields: list[bytes]) -> PressureLine | None:
    values = dict(f.partition(b"=")[::2] for f in fields)
    try:
        return PressureLine(
            avg10=float(values[b"avg10"]), avg60=float(values[b"avg60"]),
            avg300=float(values[b"avg300"]), total=int(values[b"total"]),
        )
    except (KeyError, ValueError):
        return None


def pressure(data: bytes | None) -> Pressure | None:
    """A PSI file: a "some" line and (since 5.x, for memory) a "full" line."""
    if not data:
        return None
    lines = {}
    for line in data.split(b"\n"):
        kind, _, rest = line.partition(b" ")
        if kind in (b"some", b"full"):
            lines[kind] = _pressure_line(rest.split())
    if not lines:
        return None
    return Pressure(some=lines.get(b"some"), full=lines.get(b"full"))


def meminfo(data: bytes | None) -> dict[str, int]:
    """Values in bytes (the file says kB)."""
    out = {}
    for line in (data or b"").split(b"\n"):
        key, _, rest = line.partition(b":")
        parts = rest.split()
        if parts:
            try:
                out[key.decode()] = int(parts[0]) * (1024 if parts[1:] == [b"kB"] else 1)
            except (ValueError, UnicodeDecodeError):
                continue
    return out


def btime(data: bytes | None) -> int | None:
    """Boot time, epoch seconds, from /proc/stat."""
    for line in (data or b"").split(b"\n"):
        if line.startswith(b"btime "):
            return to_int(line[6:])
    return None


class ProcStat(NamedTuple):
    comm: bytes  # raw: decoded only when it changes (see procs.py)
    ppid: int
    flags: int
    starttime: int  # clock ticks after boot


def proc_stat(data: bytes) -> ProcStat | None:
    """/proc/PID/stat. comm may hold spaces and parentheses, so split at the last ")"."""
    open_, close = data.find(b"("), data.rfind(b")")
    if open_ < 0 or close < open_:
        return None
    fields = data[close + 2:].split(None, 20)
    try:
        return ProcStat(
            comm=data[open_ + 1:close],
            ppid=int(fields[1]), flags=int(fields[6]), starttime=int(fields[19]),
        )
    except (IndexError, ValueError):
        return None


def status_kb(data: bytes, key: bytes) -> int | None:
    """A "Key:   123 kB" line of /proc/PID/status, in bytes; `key` is b"\\nName:"."""
    start = data.find(key)
    if start < 0:
        return None
    start += len(key)
    end = data.find(b"\n", start)
    kib = to_int(data[start:end].removesuffix(b" kB")) if end > 0 else None
    return None if kib is None else kib * 1024


# task_mem prints this block in this order (VmPMD only on older kernels), so
# one anchored match reads it; anything else falls back to a search per name.
_STATUS_BLOCK = re.compile(
    rb"\nRssAnon:\s*(\d+) kB\nRssFile:\s*(\d+) kB\nRssShmem:\s*(\d+) kB\nVmData:\s*\d+ kB\n"
    rb"VmStk:\s*\d+ kB\nVmExe:\s*\d+ kB\nVmLib:\s*\d+ kB\nVmPTE:\s*(\d+) kB\n(?:VmPMD:\s*\d+ kB\n)?"
    rb"VmSwap:\s*(\d+) kB\n"
)
_STATUS_KEYS = (b"\nRssAnon:", b"\nRssFile:", b"\nRssShmem:", b"\nVmSwap:", b"\nVmPTE:")


def status_fields(data: bytes) -> tuple[int | None, ...]:
    """The real uid, then RssAnon, RssFile, RssShmem, VmSwap and VmPTE in bytes."""
    m = _STATUS_BLOCK.search(data)
    if m is None:  # a kernel thread (no memory lines), or a layout this parser does not know
        return (status_uid(data), *(status_kb(data, key) for key in _STATUS_KEYS))
    anon, file, shmem, pte, swap = m.groups()
    return status_uid(data), int(anon) << 10, int(file) << 10, int(shmem) << 10, int(swap) << 10, int(pte) << 10


_UID = re.compile(rb"\nUid:[ \t]*(\d+)[ \t\n]")
_PPID = re.compile(rb"\nPPid:[ \t]*(\d+)\n")


def status_ppid(data: bytes) -> int | None:
    """The parent's pid from the "PPid:" line (what stat's fourth field says)."""
    m = _PPID.search(data)
    return None if m is None else int(m[1])


def status_name(data: bytes) -> bytes:
    """The "Name:" line as printed: compared between samples to notice a new comm (exec, PR_SET_NAME)."""
    return data[:data.find(b"\n")]


def without_sigq(data: bytes | None) -> bytes | None:
    """status without its "SigQ:" line, which counts the whole user's queued signals.

    That count moves whenever any process of the same user gets or takes a
    signal, so leaving it in would make idle processes look changed.
    """
    if data is None:
        return None
    start = data.find(b"\nSigQ:")
    if start < 0:
        return data
    end = data.find(b"\n", start + 6)
    return data[:start] + data[end:] if end > 0 else data[:start]


def kernel_version(release: bytes | None) -> tuple[int, int] | None:
    """(major, minor) from /proc/sys/kernel/osrelease, e.g. b"6.18.4-arch1" -> (6, 18)."""
    m = re.match(rb"(\d+)\.(\d+)", release or b"")
    return None if m is None else (int(m[1]), int(m[2]))


def status_uid(data: bytes) -> int | None:
    """The real uid: the first of the four on the "Uid:" line."""
    m = _UID.search(data)
    return None if m is None else int(m[1])


def cmdline(data: bytes | None) -> tuple[str, ...]:
    """Arguments end in NUL each; only the last NUL is dropped, so empty arguments stay.

    Decoded once and split after: a NUL byte is never part of a UTF-8
    sequence nor of a backslash escape, so this equals decoding each
    argument, at a third of the cost over thousands of processes.
    """
    if not data:
        return ()
    return tuple(text(data.removesuffix(b"\0")).split("\0"))


def proc_cgroup(data: bytes | None, v1_memory: bool) -> str | None:
    """The memory cgroup from /proc/PID/cgroup: the `memory` line on v1, `0::` on v2."""
    for line in text(data or b"").split("\n"):
        hid, _, rest = line.partition(":")
        controllers, _, path = rest.partition(":")
        if (v1_memory and "memory" in controllers.split(",")) or (not v1_memory and hid == "0"):
            return clean_path(path)
    return None


def clean_path(path: str) -> str:
    """A cgroup path in the snapshot's form: "/" or "/a/b", nothing else."""
    parts = [p for p in path.split("/") if p and p not in (".", "..")]
    return "/" + "/".join(parts)
