"""Strip what logging put around kernel messages, however the log was pasted.

A report reaches us through dmesg (raw, -T in any locale, -r, -x, iso, reltime),
/dev/kmsg, syslog/kern.log, journalctl (short, iso, precise, monotonic,
unix, cat, json, export, verbose), rsyslog `#012` escapes, `grep -n`/`cat -n`
line numbers, mail quoting and indentation. Each line is reduced to the
kernel's message text plus the stamp that was in front of it, so the
parser only ever sees what the kernel printed.
"""

from __future__ import annotations

import itertools
import json
import re
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Line:
    text: str  # the kernel's message, leading blanks removed
    stamp: str | None  # the time in front of it as the log showed it
    host: str | None  # the syslog/journal host name, where shown
    raw: str  # the line as it was in the log


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
_CALLER = re.compile(r"^\[\s*[TC]\d+\]\s?")
_EXPORT = re.compile(r"^\s*MESSAGE=")


def _numbered(lines: list[str]) -> bool:
    """`grep -n`/`cat -n` output: nearly every line starts with a number one above the last."""
    numbers = [m.group(1) for m in (_LINENO.match(x) for x in lines if x.strip()) if m]
    if len(numbers) < 3 or len(numbers) < 0.9 * sum(1 for x in lines if x.strip()):
        return False
    steps = sum(1 for a, b in itertools.pairwise(numbers) if int(b) == int(a) + 1)
    return steps >= 0.9 * (len(numbers) - 1)


def _quoted(lines: list[str]) -> bool:
    nonblank = [x for x in lines if x.strip()]
    return bool(nonblank) and sum(1 for x in nonblank if x.startswith(">")) >= 0.9 * len(nonblank)


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


def _strip_prefixes(text: str) -> tuple[str, str | None, str | None]:
    """Peel transport prefixes off one line, outermost first."""
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
    text = _CALLER.sub("", text, count=1)
    return text, stamp, host


def unwrap(text: str) -> list[Line]:
    """Every message line of a pasted log, prefixes removed, multi-line records split."""
    raw_lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    numbered = _numbered(raw_lines)
    quoted = _quoted(raw_lines)
    kmsg_format = sum(1 for x in raw_lines[:50] if _KMSG.match(x)) >= 3
    journal_export = sum(1 for x in raw_lines[:200] if _EXPORT.match(x)) >= 3
    out: list[Line] = []
    for raw in raw_lines:
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
                out.extend(Line(part.strip(), stamp, host, raw) for part in message.split("\n") if part.strip())
                continue
        if _EXPORT.match(line):
            line = line.split("=", 1)[1]
        message, stamp, host = _strip_prefixes(line.lstrip())
        if kmsg_format:
            message = message.replace("\\x0a", "\n").replace("\\x09", "\t")
        parts = message.replace("#012", "\n").replace("#011", "\t").split("\n")
        out.extend(Line(part.strip(), stamp, host, raw) for part in parts if part.strip())
    return out
