"""A real systemd journal for tests, where no journald runs: systemd-journal-remote (Debian's
systemd-journal-remote, installed by scripts/test.sh) turns entries in journal export format,
fed on its stdin, into DIR/test.journal, which `journalctl --directory=DIR` follows as it grows.

Killer lines are written as the daemons' entries look in a journal: their SYSLOG_IDENTIFIER,
_PID and _COMM, this boot's id, and the message; a message with a newline, control bytes or
invalid UTF-8 goes in the export format's binary form, as journald stores it.
"""

from __future__ import annotations

import shutil
import struct
import subprocess
import time
from pathlib import Path

_CANDIDATES = ("/lib/systemd/systemd-journal-remote", "/usr/lib/systemd/systemd-journal-remote")
BOOT_ID = Path("/proc/sys/kernel/random/boot_id").read_text().strip().replace("-", "")


def journal_remote() -> str | None:
    return shutil.which("systemd-journal-remote") or next((c for c in _CANDIDATES if Path(c).is_file()), None)


def why_no_journal() -> str | None:
    """Why the real-journal tests cannot run here, or None."""
    if shutil.which("journalctl") is None:
        return "no journalctl (Debian's systemd package)"
    if journal_remote() is None:
        return "no systemd-journal-remote: scripts/test.sh installs it with apt where it can"
    return None


def _field(name: str, value: str | bytes) -> bytes:
    raw = value.encode() if isinstance(value, str) else value
    try:
        text = raw.decode()
    except UnicodeDecodeError:
        text = None
    if text is not None and text.isprintable():
        return name.encode() + b"=" + raw + b"\n"
    return name.encode() + b"\n" + struct.pack("<Q", len(raw)) + raw + b"\n"


def entry(message: str | bytes, ident: str, pid: int, at: float | None = None) -> bytes:
    """One entry in journal export format, as the daemon `ident` (pid `pid`) logged it at `at`."""
    us = int((time.time() if at is None else at) * 1e6)
    fields = {"__REALTIME_TIMESTAMP": str(us), "__MONOTONIC_TIMESTAMP": str(int(time.monotonic() * 1e6)),
              "_BOOT_ID": BOOT_ID, "_PID": str(pid), "_COMM": ident[:15], "SYSLOG_IDENTIFIER": ident,
              "PRIORITY": "6", "_TRANSPORT": "stdout"}
    return b"".join(_field(k, v) for k, v in fields.items()) + _field("MESSAGE", message) + b"\n"


class JournalWriter:
    """One systemd-journal-remote appending what `write` hands it to DIR/test.journal, at once."""

    def __init__(self, directory: Path) -> None:
        binary = journal_remote()
        assert binary is not None, why_no_journal()
        self.dir = directory
        self.file = directory / "test.journal"
        self.child = subprocess.Popen([binary, f"--output={self.file}", "-"], stdin=subprocess.PIPE,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        # journalctl --follow reads the journal's last boot: it needs an entry to find one.
        self.write(entry("journal opened for a test", "test-setup", 1))
        deadline = time.monotonic() + 10
        while not self._readable() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert self._readable(), "systemd-journal-remote wrote no readable journal file"

    def _readable(self) -> bool:
        if not self.file.exists():
            return False
        shown = subprocess.run(["journalctl", f"--directory={self.dir}", "--lines=1", "--quiet", "--output=cat"],
                               capture_output=True, text=True, timeout=10)
        return "journal opened for a test" in shown.stdout

    def write(self, *entries: bytes) -> float:
        """Hand the entries over; returns when (epoch seconds), for latency checks."""
        assert self.child.stdin is not None
        self.child.stdin.write(b"".join(entries))
        self.child.stdin.flush()
        return time.time()

    def close(self) -> None:
        if self.child.stdin is not None:
            self.child.stdin.close()
        try:
            self.child.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.child.kill()
            self.child.wait()
        if self.child.stderr is not None:
            self.child.stderr.close()

    def __enter__(self) -> JournalWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


MARKER_PID = 5_000_000  # above any pid_max (4194304): no process has it


def marker() -> bytes:
    """earlyoom naming a victim no process can be, without killing it: once a follower's parser holds
    it, journalctl has reached the journal's end (it starts there, so earlier entries are not seen)."""
    return entry(f'sending SIGTERM to process {MARKER_PID} uid 0 "marker": oom_score 1, VmRSS 1 MiB', "earlyoom", 1)


def marker_kill(n: int) -> bytes:
    """A whole earlyoom kill of the n-th pid above any pid_max, for followers whose state cannot be seen."""
    pid = MARKER_PID + n
    return b"".join(entry(m, "earlyoom", 1) for m in (
        f'sending SIGTERM to process {pid} uid 0 "marker": oom_score 1, VmRSS 1 MiB',
        f"process {pid} exited after 0.1 seconds"))
