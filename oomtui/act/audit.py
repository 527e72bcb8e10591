"""The audit log: one JSON line per action and its outcome.

Every action must be audited, so the log is opened before acting and an
unwritable log stops the action. Lines are appended with O_APPEND in one
write each, so concurrent oomtui sessions never interleave within a line.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from oomtui.errors import UserError


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
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            return os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o600)
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

    def record(self, action: str, asked: object, result: object) -> str | None:
        """Append one line; None when written, else why not (the action already happened)."""
        entry = {
            "time": time.time(), "uid": os.getuid(), "euid": os.geteuid(), "pid": os.getpid(),
            "action": action, "asked": asked, "result": result,
        }
        line = (json.dumps(entry, ensure_ascii=True, sort_keys=False) + "\n").encode()
        try:
            written = os.write(self.fd, line)
        except OSError as e:
            return f"audit log {self.log.path} not written: {e.strerror or e}"
        if written != len(line):
            return f"audit log {self.log.path}: only {written} of {len(line)} bytes written"
        return None
