"""Run a piece of oomtui as an ordinary user: in a forked child that drops root and becomes nobody."""

from __future__ import annotations

import os
from collections.abc import Callable

NOBODY = 65534


def as_nobody(act: Callable[[], str]) -> str:
    """What `act` returns when run as nobody (no groups, no capabilities), as oomtui run by a user would."""
    r, w = os.pipe()
    child = os.fork()
    if child == 0:
        try:
            os.close(r)
            os.setgroups([])
            os.setgid(NOBODY)
            os.setuid(NOBODY)
            os.write(w, act().encode())
        finally:
            os._exit(0)
    os.close(w)
    with os.fdopen(r, "rb") as said:
        answer = said.read().decode()
    os.waitpid(child, 0)
    return answer
