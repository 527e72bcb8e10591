"""Strip what logging put around kernel messages, however the log was pasted.

A report reaches us through dmesg (raw, -T in any locale, -r, -x, iso, reltime),
/dev/kmsg, syslog/kern.log, journalctl (short, iso, precise, monotonic,
unix, cat, json, export, verbose), rsyslog `#012` escapes, `grep -n`/`cat -n`
line numbers, mail quoting and indentation. Each line is reduced to the
kernel's message text plus the stamp that was in front of it, so the
parser only ever sees what the kernel printed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Line:
    text: str  # the kernel's message, leading blanks removed
    stamp: str | None  # the time in front of it as the log showed it
    host: str | None  # the syslog/journal host name, where shown
    raw: str  # the line as it was in the log
    caller: str | None = None  # the printk caller id ("T4242", "C3"), where the log shows one


_KMSG = re.compile(r"^(\d+),(\d+),(\d+),[^;]*;")
_KMSG_PROP = re.compile(r"^ [A-Z_]+=")
_LINENO = re.compile(r"^\s*(\d+)(?=[:\-\t| ])")
_LINENO_STRIP = re.compile(r"^\s*\d+(?:[:\-|]\s?|\t|\s+\|?\s?)")
_QUOTE = re.compile(r"^(?:>\s?)+")
_PRIO = re.compile(r"^<\d+>")
_FACILITY = re.compile(
    r"^(?:kern|user|mail|daemon|auth|syslog|lpr|news|uucp|cron|authpriv|ftp|local\d)\s*:"
    r"\s*(?:emerg|alert|crit|err|warn|notice|info|debug)\s*:\s?"
)
# "Mon DD HH:MM:SS host kernel: ", ISO forms, locale month names, "host" optional.
_SYSLOG = re.compile(
    r"^(?P<stamp>\d{9,}\.\d+|\S.{0,60}?\d\d:\d\d(?::\d\d)?\S*(?:\s+[A-Z]{2,5})?)"
    r"\s+(?:(?P<host>\S+)\s+)?kernel:\s?"
)
_MONO_SYSLOG = re.compile(r"^(?P<stamp>\[\s*\d+\.\d+\])\s+(?:(?P<host>\S+)\s+)?kernel:\s?")
_UPTIME = re.compile(r"^\[\s*\+?\d+\.\d+(?:\s*<[^>]*>)?\]\s?")
_WALL = re.compile(r"^\[[^\]]{0,40}\d\d?:\d\d(?::\d\d)?[^\]]{0,30}\]\s?")
_ISO = re.compile(r"^\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:[,.]\d+)?(?:[+-]\d\d:?\d\d|Z)?\s")
_CALLER = re.compile(r"^\[\s*([TC]\d+)\]\s?")
_EXPORT = re.compile(r"^\s*MESSAGE=")


def _numbered_and_quoted(lines: Iterable[str]) -> tuple[bool, bool]:
    """`grep -n`/`cat -n` output: nearly every line starts with a number one above the last;
    mail quoting: nearly every line starts with `>`. One pass, holding nothing."""
    nonblank = numbers = steps = quotes = 0
    last = None
    for x in lines:
        if not x.strip():
            continue
        nonblank += 1
        quotes += x.startswith(">")
        m = _LINENO.match(x)
        if m:
            n = int(m.group(1))
            steps += last is not None and n == last + 1
            numbers, last = numbers + 1, n
    numbered = numbers >= 3 and numbers >= 0.9 * nonblank and steps >= 0.9 * (numbers - 1)
    return numbered, bool(nonblank) and quotes >= 0.9 * nonblank


def _decoded(lines: Iterable[str] | Iterable[bytes]) -> Iterator[str]:
    return (x.decode("utf-8", "replace") if isinstance(x, bytes) else x for x in lines)


def _journal_json(line: str) -> tuple[str, str | None, str | None] | None:
    try:
        record = json.loads(line)
    except ValueError:
        return None
    if not isinstance(record, dict) or "MESSAGE" not in record:
        return None
    message = record["MESSAGE"]
    if isinstance(message, list):  # journald stores non-UTF-8 messages as byte arrays
        message = bytes(b for b in message if isinstance(b, int) and 0 <= b < 256).decode("utf-8", "replace")
    if not isinstance(message, str):
        return None
    stamp = record.get("__REALTIME_TIMESTAMP") or record.get("_SOURCE_MONOTONIC_TIMESTAMP")
    host = record.get("_HOSTNAME")
    return message, str(stamp) if stamp is not None else None, host if isinstance(host, str) else None


def _strip_prefixes(text: str) -> tuple[str, str | None, str | None, str | None]:
    """Peel transport prefixes off one line, outermost first: (message, stamp, host, printk caller)."""
    stamp = host = None
    kmsg = _KMSG.match(text)
    if kmsg:
        usec = int(kmsg.group(3))
        stamp = f"[{usec // 1_000_000:5d}.{usec % 1_000_000:06d}]"
        text = text[kmsg.end():]
    text = _PRIO.sub("", text, count=1)
    text = _FACILITY.sub("", text, count=1)
    if "kernel:" in text[:120]:  # cheap test first: the syslog patterns backtrack
        for pattern in (_MONO_SYSLOG, _SYSLOG):
            m = pattern.match(text)
            if m:
                stamp, host = m.group("stamp").strip(), m.group("host")
                text = text[m.end():]
                break
    for pattern in (_UPTIME, _WALL, _ISO):
        m = pattern.match(text)
        if m:
            stamp = m.group(0).strip() if stamp is None else stamp
            text = text[m.end():]
            break
    caller = _CALLER.match(text)
    if caller:
        text = text[caller.end():]
    return text, stamp, host, caller.group(1) if caller else None


def unwrap(text: str | list[str] | list[bytes]) -> Iterator[Line]:
    """Every message line of a pasted log, prefixes removed, multi-line records split.

    Lines end at a newline only: a carriage return inside one (a process
    name may hold one) stays in it. NUL bytes (the padding a crash leaves in
    syslog files) are dropped. A list is taken as the log's lines, bytes
    decoded one at a time as UTF-8. Lines are made one at a time, so only
    those a report keeps stay in memory.
    """
    raw_lines = text.replace("\x00", "").replace("\r\n", "\n").split("\n") if isinstance(text, str) else text
    numbered, quoted = _numbered_and_quoted(_decoded(raw_lines))
    kmsg_format = sum(1 for x in _decoded(raw_lines[:50]) if _KMSG.match(x)) >= 3
    journal_export = sum(1 for x in _decoded(raw_lines[:200]) if _EXPORT.match(x)) >= 3
    for raw in _decoded(raw_lines):
        line = raw
        if journal_export and not _EXPORT.match(line):
            continue  # journalctl -o export/verbose: only MESSAGE= fields are messages
        if numbered:
            line = _LINENO_STRIP.sub("", line, count=1)
        if quoted:
            line = _QUOTE.sub("", line, count=1)
        if kmsg_format and _KMSG_PROP.match(line):
            continue  # /dev/kmsg dictionary properties (SUBSYSTEM=...) are not messages
        stripped = line.lstrip()
        if stripped.startswith("{") and '"MESSAGE"' in stripped:
            record = _journal_json(stripped)
            if record is not None:
                message, stamp, host = record
                yield from (Line(part.strip(), stamp, host, raw) for part in message.split("\n") if part.strip())
                continue
        if _EXPORT.match(line):
            line = line.split("=", 1)[1]
        message, stamp, host, caller = _strip_prefixes(line.lstrip())
        if kmsg_format:
            message = message.replace("\\x0a", "\n").replace("\\x09", "\t")
        parts = message.replace("#012", "\n").replace("#011", "\t").split("\n")
        yield from (Line(part.strip(), stamp, host, raw, caller) for part in parts if part.strip())
