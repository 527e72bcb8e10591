"""Follow the systemd journal for the userspace killers' own kill lines, which seldom reach /dev/kmsg.

earlyoom writes its kill lines to stderr, nohang to stdout, systemd-oomd
to the journal itself and the kubelet (klog) to stderr; under systemd all
of them end up in the journal and reach /dev/kmsg only where journald
forwards them (`ForwardToKMsg=yes`).
So the live TUI and `oomtui record` also read the journal, through
`journalctl --follow --lines=0 --output=json` run as a child process:
only the entries of those killers (matched on SYSLOG_IDENTIFIER) and only
the fields read here; of the kubelet's many lines only those about
evictions are kept (`kept`). Each entry becomes the line a syslog file would show
(`earlyoom[812]: sending SIGTERM …`), which `follow.KillParser` reads like
a kmsg line. A kill that also reached kmsg is counted once (`follow.Once`).

Bounds, since anyone may log under a killer's name: journalctl itself
prints a field over 4096 bytes as null (skipped here); a JSON line over
LINE_MAX is skipped whole; a poll reads at most READ_MAX bytes and leaves
the rest in the pipe, where journalctl then blocks, so nothing grows; a
MESSAGE that is a byte array (non-UTF-8 or control bytes) is decoded with
replacement characters, and a message is cut at MESSAGE_MAX characters.

The child is ours: `close` stops it by its pid (Popen's own, never reused
before it is reaped), and journalctl exits by itself when its standard
output closes, so it never outlives an oomtui that was killed outright.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from typing import Any

from oomtui.errors import UserError
from oomtui.oomlog.follow import KillEvent, KillParser
from oomtui.text import printable

KILLERS = ("earlyoom", "nohang", "systemd-oomd", "kubelet")  # the identifiers their lines carry in the journal
SYSTEM_JOURNALS = ("/run/log/journal", "/var/log/journal")
FIELDS = "MESSAGE,SYSLOG_IDENTIFIER,SYSLOG_PID,_PID,_COMM"
LINE_MAX = 64 << 10  # a JSON entry longer than this is skipped (journalctl caps each field at 4096 bytes)
MESSAGE_MAX = 4096  # characters of a message kept; kill lines are far shorter
READ_MAX = 1 << 20  # bytes read per poll; the rest waits in the pipe
STDERR_KEEP = 4096  # the end of journalctl's complaints, for the one line that says why it stopped
_SCAN_MAX = 10_000  # directory entries looked at to find a journal file


@dataclass(frozen=True, slots=True)
class JournalSource:
    """Which journal to follow: the system's (None), or the directory of one copied from elsewhere."""

    directory: str | None = None

    def describe(self) -> str:
        return "the journal" if self.directory is None else f"the journal in {printable(self.directory, 120)}"


def _journal_files(directory: str, depth: int = 1) -> tuple[bool, bool]:
    """Whether `directory` (or a subdirectory, as /var/log/journal/MACHINE-ID) holds a journal file,
    and whether one of them is readable by us."""
    found = readable = False
    try:
        with os.scandir(directory) as entries:
            for n, entry in enumerate(entries):
                if n >= _SCAN_MAX or readable:
                    break
                if entry.name.endswith((".journal", ".journal~")) and entry.is_file(follow_symlinks=False):
                    found, readable = True, os.access(entry.path, os.R_OK)
                elif depth and entry.is_dir(follow_symlinks=False):
                    below = _journal_files(entry.path, depth - 1)
                    found, readable = found or below[0], below[1]
    except OSError:
        pass
    return found, readable


def why_not(source: JournalSource, journalctl: str | None) -> str | None:
    """Why the journal cannot be followed, in one line; None when it can."""
    if journalctl is None:
        return "journal not followed: no journalctl on this host"
    if source.directory is not None and not os.path.isdir(source.directory):
        return f"journal not followed: {printable(source.directory, 120)} is not a directory"
    places = (source.directory,) if source.directory is not None else SYSTEM_JOURNALS
    seen = [_journal_files(d) for d in places]
    if any(readable for _, readable in seen):
        return None
    if any(found for found, _ in seen):
        return "journal not followed: its files are not readable (run as root, or in the systemd-journal group)"
    if source.directory is not None:
        return f"journal not followed: no journal files in {printable(source.directory, 120)}"
    return f"journal not followed: no journal files in {' or '.join(SYSTEM_JOURNALS)}"


def command(source: JournalSource, journalctl: str) -> list[str]:
    """The journalctl command line: new entries of the killers only, as JSON with the fields used."""
    where = [f"--directory={source.directory}"] if source.directory is not None else []
    return [journalctl, *where, "--follow", "--lines=0", "--output=json", f"--output-fields={FIELDS}",
            "--no-pager", "--quiet", *(f"SYSLOG_IDENTIFIER={k}" for k in KILLERS)]


def _text(value: Any) -> str | None:
    """A field's value as text: a string, a byte array (journalctl's form for non-UTF-8 or control bytes),
    or the first of several values; None for null (a field over 4096 bytes) or anything else."""
    if isinstance(value, str):
        return value
    if isinstance(value, list) and value:
        if all(isinstance(b, int) and 0 <= b < 256 for b in value):
            return bytes(value).decode("utf-8", "replace")
        return _text(value[0])
    return None


def kept(ident: str | None, message: str) -> bool:
    """Whether a line of `ident` may be a killer's: the kubelet logs far more than its evictions."""
    return ident in KILLERS and (ident != "kubelet" or "vict" in message)


def entry_lines(raw: bytes) -> tuple[list[str], float | None]:
    """One JSON entry as syslog-style lines (`IDENT[PID]: MESSAGE`, one per line of the message) and
    when it was logged (epoch seconds); no lines for an entry that is not a killer's or has no message."""
    try:
        entry = json.loads(raw)
    except ValueError:
        return [], None
    if not isinstance(entry, dict):
        return [], None
    ident = _text(entry.get("SYSLOG_IDENTIFIER")) or _text(entry.get("_COMM"))
    message = _text(entry.get("MESSAGE"))
    if message is None or not kept(ident, message):
        return [], None
    pid = _text(entry.get("SYSLOG_PID")) or _text(entry.get("_PID")) or ""
    tag = f"{ident}[{pid}]: " if pid.isdigit() else f"{ident}: "
    try:
        at: float | None = int(_text(entry.get("__REALTIME_TIMESTAMP")) or "") / 1e6
    except ValueError:
        at = None
    return [tag + line for line in message[:MESSAGE_MAX].splitlines()], at


class BoundedLines:
    """Complete lines out of a stream read in chunks; a line longer than `limit` is dropped whole,
    without holding more than `limit` bytes of it."""

    def __init__(self, limit: int = LINE_MAX) -> None:
        self.limit = limit
        self.partial = b""
        self.skipping = False  # inside an over-long line: dropped up to its newline
        self.skipped = 0  # lines dropped for their length

    def feed(self, chunk: bytes) -> list[bytes]:
        out: list[bytes] = []
        *whole, rest = chunk.split(b"\n")
        for piece in whole:
            raw, self.partial = self.partial + piece, b""
            if self.skipping:
                self.skipping = False
            elif len(raw) > self.limit:
                self.skipped += 1
            else:
                out.append(raw)
        if not self.skipping:
            self.partial += rest
            if len(self.partial) > self.limit:
                self.partial, self.skipping = b"", True
                self.skipped += 1
        return out


class JournalFollower:
    """New journal lines of the userspace killers; `read_lines` never blocks (select on `fileno`)."""

    def __init__(self, source: JournalSource = JournalSource(), journalctl: str | None = None) -> None:
        journalctl = journalctl or shutil.which("journalctl")
        problem = why_not(source, journalctl)
        if problem is not None:
            raise UserError(problem)
        assert journalctl is not None
        self.source = source
        try:
            self.child = subprocess.Popen(command(source, journalctl), stdin=subprocess.DEVNULL,
                                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, close_fds=True)
        except OSError as e:
            raise UserError(f"journal not followed: cannot run {printable(journalctl, 120)}: "
                            f"{e.strerror or e}") from None
        assert self.child.stdout is not None and self.child.stderr is not None
        self.out, self.err = self.child.stdout.fileno(), self.child.stderr.fileno()
        for fd in (self.out, self.err):
            os.set_blocking(fd, False)
        self.split = BoundedLines()
        self.complaint = b""

    def fileno(self) -> int:
        return self.out

    def _drain_stderr(self) -> None:
        with contextlib.suppress(BlockingIOError, OSError):
            while chunk := os.read(self.err, 65536):
                self.complaint = (self.complaint + chunk)[-STDERR_KEEP:]

    def _stopped(self) -> UserError:
        self._drain_stderr()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.child.wait(timeout=1)
        said = [line for line in self.complaint.decode("utf-8", "replace").splitlines() if line.strip()]
        why = said[-1] if said else f"exit status {self.child.returncode}"
        return UserError(f"journal no longer followed: journalctl stopped: {printable(why, 200)}")

    def read_lines(self) -> list[tuple[str, float]]:
        """The killers' lines logged since the last call, with their times; at most READ_MAX bytes a call."""
        self._drain_stderr()
        out: list[tuple[str, float]] = []
        budget = READ_MAX
        while budget > 0:
            try:
                chunk = os.read(self.out, min(65536, budget))
            except BlockingIOError:
                break
            if not chunk:
                raise self._stopped()
            budget -= len(chunk)
            out += self._lines(chunk)
        return out

    def _lines(self, chunk: bytes) -> list[tuple[str, float]]:
        out: list[tuple[str, float]] = []
        for raw in self.split.feed(chunk):
            lines, at = entry_lines(raw)
            stamp = at if at is not None else time.time()
            out += [(line, stamp) for line in lines]
        return out

    def close(self) -> None:
        """Stop journalctl (our child, by its pid) and reap it."""
        if self.child.poll() is None:
            self.child.terminate()
            try:
                self.child.wait(timeout=2)
            except subprocess.TimeoutExpired:
                self.child.kill()
                self.child.wait()
        for stream in (self.child.stdout, self.child.stderr):
            if stream is not None:
                stream.close()


class JournalKillFollower:
    """New kills in the journal; `poll` never blocks, and raises UserError once journalctl stopped."""

    def __init__(self, source: JournalSource = JournalSource(), journalctl: str | None = None) -> None:
        self.journal = JournalFollower(source, journalctl)
        self.parser = KillParser()

    def fileno(self) -> int:
        return self.journal.fileno()

    def poll(self) -> list[KillEvent]:
        out: list[KillEvent] = []
        for line, at in self.journal.read_lines():
            out += self.parser.feed(line, at)
        return out

    def close(self) -> None:
        self.journal.close()

    def __enter__(self) -> JournalKillFollower:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
