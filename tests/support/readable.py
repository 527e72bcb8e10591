"""Waiting for a pipe or follower to have data, with poll(2).

select(2) refuses descriptors above 1023, and a test process that has made
a live collector holds one per known process and cgroup, so the pipes it
opens later land above that.
"""

from __future__ import annotations

import select
from typing import Protocol


class _HasFileno(Protocol):
    def fileno(self) -> int: ...


def readable(source: _HasFileno, timeout: float) -> bool:
    """Whether `source` has data (or its end) within `timeout` seconds."""
    poller = select.poll()
    poller.register(source.fileno(), select.POLLIN)
    return bool(poller.poll(timeout * 1000))
