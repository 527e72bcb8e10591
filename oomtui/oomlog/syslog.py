"""Follow syslog files for the userspace killers' kill lines, on hosts without a journal.

Where rsyslog or syslog-ng writes the daemons' lines to files, earlyoom's,
nohang's, systemd-oomd's and the kubelet's lines are there as
`Dec  7 17:22:15 host earlyoom[812]: …` (the traditional format) or
`2026-12-07T17:22:15.123456+00:00 host earlyoom[812]: …` (rsyslog's
RSYSLOG_FileFormat). Each such line becomes `earlyoom[812]: …` for
`follow.KillParser`; the kernel's lines are left to /dev/kmsg.

The files are followed from their end, as `tail -F` does: a file renamed
away by logrotate is read to its end and the new one under the name from
its start; a file truncated in place (copytruncate) is read again from its
start. Each is opened without following a symlink, and only if it is a
regular file owned by root, by us or by the `syslog` user (Ubuntu's
rsyslog runs as that user) and writable by nobody else: anyone who can
write the file can forge kills.

Bounds, since anyone may log under a killer's name: a line over LINE_MAX
bytes is skipped whole, a poll reads at most READ_MAX bytes of each file
(the rest waits in the file), a message is cut at MESSAGE_MAX characters.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import re
import stat
import time
from dataclasses import dataclass

from oomtui.errors import UserError
from oomtui.oomlog.follow import KillEvent, KillParser
from oomtui.oomlog.journal import LINE_MAX, MESSAGE_MAX, READ_MAX, BoundedLines, JournalSource, kept
from oomtui.oomlog.stamps import wall_time
from oomtui.text import printable

SYSTEM_FILES = ("/var/log/syslog", "/var/log/messages", "/var/log/daemon.log", "/var/log/kern.log")
_LINE = re.compile(
    r"^(?:<\d{1,3}>)?(?P<stamp>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)"
    r"|[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d) \S+ (?P<ident>[^\s\[:]+)(?P<pid>\[\d+\])?: (?P<message>.*)$")
_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC


@dataclass(frozen=True, slots=True)
class SyslogSource:
    """Which syslog file to follow: this host's (None: whichever of SYSTEM_FILES exist), or one copied here."""

    path: str | None = None

    def paths(self) -> list[str]:
        return [self.path] if self.path is not None else [p for p in SYSTEM_FILES if os.path.lexists(p)]

    def describe(self, paths: list[str] | None = None) -> str:
        return " and ".join(printable(p, 120) for p in (paths if paths is not None else self.paths()))


def syslog_line(raw: str) -> tuple[str, float | None] | None:
    """A killer's syslog line as `IDENT[PID]: MESSAGE` and its time; None for any other line."""
    m = _LINE.match(raw)
    if m is None or not kept(m.group("ident"), m.group("message")):
        return None
    at, _ = wall_time(m.group("stamp"))
    return f"{m.group('ident')}{m.group('pid') or ''}: {m.group('message')[:MESSAGE_MAX]}", at


def _trusted_owners() -> set[int]:
    owners = {0, os.geteuid()}
    with contextlib.suppress(KeyError):
        owners.add(pwd.getpwnam("syslog").pw_uid)
    return owners


def open_log(path: str) -> tuple[int, os.stat_result]:
    """The file opened for reading, checked; UserError saying in one line why it is refused."""
    shown = printable(path, 120)
    try:
        fd = os.open(path, _FLAGS)
    except OSError as e:
        if os.path.islink(path):
            raise UserError(f"syslog not followed: {shown} is a symbolic link") from None
        raise UserError(f"syslog not followed: {shown}: {e.strerror or e}") from None
    st = os.fstat(fd)
    why = None
    if not stat.S_ISREG(st.st_mode):
        why = "is not a regular file"
    elif st.st_uid not in _trusted_owners():
        why = f"is owned by another user (uid {st.st_uid})"
    elif st.st_mode & 0o022:
        why = "is writable by other users"
    if why is not None:
        os.close(fd)
        raise UserError(f"syslog not followed: {shown} {why}")
    return fd, st


class FileTail:
    """New lines of one file as it grows, across rotation (a new inode under the name) and truncation."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.fd, st = open_log(path)
        self.inode = (st.st_dev, st.st_ino)
        self.offset = os.lseek(self.fd, 0, os.SEEK_END)
        self.split = BoundedLines(LINE_MAX)

    def read(self) -> list[bytes]:
        """The complete lines written since the last call; at most READ_MAX bytes a call."""
        out, budget = self._drain(READ_MAX)
        if budget > 0:  # at the end of this file: has the name moved on to a new one?
            try:
                st = os.stat(self.path, follow_symlinks=False)
            except FileNotFoundError:
                return out  # renamed away, the new one not created yet
            except OSError as e:
                raise UserError(f"syslog no longer followed: {printable(self.path, 120)}: {e.strerror or e}") from None
            if (st.st_dev, st.st_ino) != self.inode:
                fd, st = open_log(self.path)
                os.close(self.fd)
                self.fd, self.inode, self.offset = fd, (st.st_dev, st.st_ino), 0
                self.split = BoundedLines(LINE_MAX)
                out += self._drain(budget)[0]
        return out

    def _drain(self, budget: int) -> tuple[list[bytes], int]:
        if os.fstat(self.fd).st_size < self.offset:  # truncated in place: its new lines start at 0
            self.offset = os.lseek(self.fd, 0, os.SEEK_SET)
            self.split = BoundedLines(LINE_MAX)
        out: list[bytes] = []
        while budget > 0:
            try:
                chunk = os.read(self.fd, min(65536, budget))
            except OSError as e:
                raise UserError(f"syslog no longer followed: {printable(self.path, 120)}: {e.strerror or e}") from None
            if not chunk:
                break
            self.offset += len(chunk)
            budget -= len(chunk)
            out += self.split.feed(chunk)
        return out, budget

    def close(self) -> None:
        with contextlib.suppress(OSError):
            os.close(self.fd)


class SyslogKillFollower:
    """New kills in syslog files; `poll` never blocks (a regular file is always ready: poll it on a timer)."""

    def __init__(self, source: SyslogSource = SyslogSource()) -> None:
        paths = source.paths()
        if not paths:
            raise UserError(f"syslog not followed: none of {', '.join(SYSTEM_FILES)} exists")
        self.source = source
        self.tails: list[tuple[FileTail, KillParser]] = []
        try:
            for path in paths:
                self.tails.append((FileTail(path), KillParser()))
        except UserError:
            self.close()
            raise

    def describe(self) -> str:
        return self.source.describe([t.path for t, _ in self.tails])

    def poll(self) -> list[KillEvent]:
        out: list[KillEvent] = []
        for tail, parser in self.tails:
            for raw in tail.read():
                found = syslog_line(raw.decode("utf-8", "replace"))
                if found is not None:
                    line, at = found
                    out += parser.feed(line, at if at is not None else time.time())
        return out

    def close(self) -> None:
        for tail, _ in self.tails:
            tail.close()
        self.tails = []

    def __enter__(self) -> SyslogKillFollower:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def log_sources(journal_dir: str | None, syslog_file: str | None) -> tuple[JournalSource | None, SyslogSource | None]:
    """What `--journal DIR` and `--syslog FILE` ask to follow: the one(s) given; given neither, this
    host's journal, and its syslog files where the journal cannot be followed."""
    journal = JournalSource(journal_dir) if journal_dir is not None or syslog_file is None else None
    if syslog_file is not None:
        return journal, SyslogSource(syslog_file)
    syslog = None if journal_dir is not None else SyslogSource()
    return journal, syslog
