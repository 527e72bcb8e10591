"""One switch that holds Python's cycle collector, shared by every thread that holds it.

The policies (on the CLI and in the TUI's evaluate worker) and the TUI's
sampling each make tens of thousands of objects that set off collections
walking whatever is alive. Both hold the collector meanwhile, often at the
same time in two threads: a plain `gc.disable()`/`gc.enable()` pair let
the first to finish switch it back on under the other, whose half-made
sample the next passes then walked (17–27 ms each at 10,000 processes).
Counting the holders leaves it off until the last one lets go.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_holders = 0
_was_enabled = True


@contextmanager
def collector_held() -> Iterator[None]:
    """No automatic collection inside; reference counting still frees what dies at once."""
    global _holders, _was_enabled
    with _lock:
        if _holders == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _holders += 1
    try:
        yield
    finally:
        with _lock:
            _holders -= 1
            if _holders == 0 and _was_enabled:
                gc.enable()
