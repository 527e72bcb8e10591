"""The audit log: one JSON line per action and its outcome.

Every action must be audited: before acting, a line saying what is about
to be done is written and fsynced, and if it cannot be (no permission, a
full disk) nothing is done; after acting, a second line says what happened.
Lines are appended with O_APPEND in one write each, so concurrent oomtui
sessions never interleave within a line. The log is opened through
`oomtui.safefile`: never through a symlink, never in a directory another
user controls.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from oomtui.errors import UserError
from oomtui.safefile import open_append


class AuditLogError(UserError):
    """The audit log cannot be written; nothing was done."""


def default_audit_path(euid: int | None = None, env: dict[str, str] | None = None) -> Path:
    """/var/log/oomtui/audit.jsonl for root, else $XDG_STATE_HOME/oomtui/audit.jsonl."""
    env = dict(os.environ) if env is None else env
    if (os.geteuid() if euid is None else euid) == 0:
        return Path("/var/log/oomtui/audit.jsonl")
    state = env.get("XDG_STATE_HOME") or os.path.join(env.get("HOME") or os.path.expanduser("~"), ".local", "state")
    return Path(state) / "oomtui" / "audit.jsonl"


class AuditLog:
    def __init__(self, path: Path | str | None = None) -> None:
        self.path = Path(path) if path is not None else default_audit_path()

    def _open(self) -> int:
        try:
            return open_append(self.path, create_dirs=True)
        except OSError as e:
            raise AuditLogError(
                f"cannot write the audit log {self.path}: {e.strerror or e}; every action must be audited, "
                "so nothing was done (--audit-log FILE chooses another)"
            ) from None

    def check(self) -> None:
        """Raise AuditLogError now, before the user is asked, if the log cannot be written."""
        os.close(self._open())

    def opened(self) -> _OpenLog:
        return _OpenLog(self, self._open())


class _OpenLog:
    """An audit log held open across one action, so it cannot become unwritable midway."""

    def __init__(self, log: AuditLog, fd: int) -> None:
        self.log = log
        self.fd = fd

    def __enter__(self) -> _OpenLog:
        return self

    def __exit__(self, *exc: object) -> None:
        os.close(self.fd)

    def intent(self, action: str, asked: object) -> str | None:
        """The line written before acting (phase "intent"); None when it is on disk, else why not."""
        return self.record(action, asked, None, phase="intent")

    def record(self, action: str, asked: object, result: object, phase: str = "result") -> str | None:
        """Append one line and fsync it; None when written, else why not."""
        entry = {
            "time": time.time(), "uid": os.getuid(), "euid": os.geteuid(), "pid": os.getpid(),
            "action": action, "phase": phase, "asked": asked, "result": result,
        }
        line = (json.dumps(entry, ensure_ascii=True, sort_keys=False) + "\n").encode()
        try:
            written = os.write(self.fd, line)
            if written == len(line):
                os.fsync(self.fd)
        except OSError as e:
            return f"audit log {self.log.path} not written: {e.strerror or e}"
        if written != len(line):
            return f"audit log {self.log.path}: only {written} of {len(line)} bytes written"
        return None
