"""A PSI trigger on the host's memory pressure, for the recorder to wake on.

The kernel signals POLLPRI on the fd once stalls pass the threshold within
the window (Documentation/accounting/psi.rst, "Monitoring for pressure
thresholds").
"""

from __future__ import annotations

import os

# 150 ms of stall within any 1 s window; without CAP_SYS_RESOURCE the window must be a multiple of 2 s.
PSI_TRIGGERS = (b"some 150000 1000000\0", b"some 300000 2000000\0")


class PressureTrigger:
    """A PSI trigger on memory: its fd polls POLLPRI when stalls pass the threshold."""

    def __init__(self, path: str = "/proc/pressure/memory") -> None:
        for trigger in PSI_TRIGGERS:
            self.fd = os.open(path, os.O_RDWR | os.O_NONBLOCK | os.O_CLOEXEC)
            try:
                os.write(self.fd, trigger)
                return
            except OSError as e:
                os.close(self.fd)
                error = e
        raise error

    def fileno(self) -> int:
        return self.fd

    def close(self) -> None:
        os.close(self.fd)
