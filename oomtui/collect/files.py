"""Reading kernel files: one open, one read, one close.

/proc and cgroupfs files are generated on read and small, so a single
os.read into a 64 KiB buffer gets the whole file; Python's buffered file
objects cost more than the read itself at 20,000 files a sample.
"""

from __future__ import annotations

import os
import resource
from collections.abc import Callable, MutableMapping

Reader = Callable[[str], bytes]
"""Returns a file's bytes or raises OSError; tests hand in their own to fake failures."""

CHUNK = 1 << 16  # more than any /proc or cgroup file this reads, so one read gets it whole
FLAGS = os.O_RDONLY | os.O_CLOEXEC


def read_file(path: str, dir_fd: int | None = None) -> bytes:
    """`path` relative to the directory open as `dir_fd`, if given: a walk of one name, not the whole path."""
    fd = os.open(path, FLAGS, dir_fd=dir_fd)
    try:
        data = os.read(fd, CHUNK)
        if len(data) < CHUNK:
            return data
        chunks = [data]
        while data:
            data = os.read(fd, CHUNK)
            chunks.append(data)
        return b"".join(chunks)
    finally:
        os.close(fd)


def read_in(read: Reader, directory: str, fd: int | None, name: str) -> bytes | None:
    """The file `name` in `directory`, through `fd` (open on it) where there is one; None if unreadable."""
    try:
        return read(f"{directory}/{name}") if fd is None else read_file(name, fd)
    except OSError:
        return None


def read_or_none(read: Reader, path: str) -> bytes | None:
    """The file's bytes, or None when it is missing or unreadable."""
    try:
        return read(path)
    except OSError:
        return None


# Files the readers keep open between samples, as (inode, fd) pairs: how many
# all of them hold together stays within the open-files limit (raised to its
# hard limit) less a reserve for the rest of the program.
RESERVED_FDS = 1024  # left to the rest of the program (sockets, the TUI, kill's pidfds)
_KEPT = [0]  # files kept open by every reader of this process
_LIMIT: list[int] = []  # how many they may keep, worked out once


def kept(inode: int, fd: int) -> tuple[int, int]:
    """Count `fd` as kept open (the caller checked room() first)."""
    _KEPT[0] += 1
    return inode, fd


def release(held: tuple[int, int]) -> None:
    os.close(held[1])
    _KEPT[0] -= 1


def close_all(held: MutableMapping) -> None:
    """Release every (inode, fd) value of `held`, emptying it."""
    while held:
        release(held.popitem()[1])


def keep_dir(old: MutableMapping[str, tuple[int, int]], new: MutableMapping[str, tuple[int, int]], key: str,
             directory: str, inode: int) -> int | None:
    """An fd on `directory`, taken from `old` (the last walk's) or opened now, and put into `new`; None past the
    budget. One from `old` for a directory since made anew (another inode) is closed: it reads nothing."""
    held = old.pop(key, None)
    if held is not None and held[0] != inode:
        release(held)
        held = None
    if held is None:
        if room() <= 0:
            return None
        try:
            held = kept(inode, os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC))
        except OSError:
            return None
    new[key] = held
    return held[1]


def room() -> int:
    """How many more files the readers may keep open, together."""
    if not _LIMIT:
        _LIMIT.append(_fd_limit())
    return _LIMIT[0] - _KEPT[0]


def _fd_limit() -> int:
    """The open-files limit less the reserve, the soft limit first raised to the hard one."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or hard > soft:
        want = hard if hard != resource.RLIM_INFINITY else 1 << 20
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
            soft = want
        except (OSError, ValueError):
            pass
    return max(0, soft - RESERVED_FDS)
