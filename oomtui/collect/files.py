"""Reading kernel files: one open, one read, one close.

/proc and cgroupfs files are generated on read and small, so a single
os.read into a 64 KiB buffer gets the whole file; Python's buffered file
objects cost more than the read itself at 20,000 files a sample.
"""

from __future__ import annotations

import os
from collections.abc import Callable

Reader = Callable[[str], bytes]
"""Returns a file's bytes or raises OSError; tests hand in their own to fake failures."""

CHUNK = 1 << 16  # more than any /proc or cgroup file this reads, so one read gets it whole
FLAGS = os.O_RDONLY | os.O_CLOEXEC


def read_file(path: str) -> bytes:
    fd = os.open(path, FLAGS)
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


def read_or_none(read: Reader, path: str) -> bytes | None:
    """The file's bytes, or None when it is missing or unreadable."""
    try:
        return read(path)
    except OSError:
        return None
