"""Untrusted text made safe to show: process names, cmdlines, cgroup names, file content.

Any user can name a process or a cgroup so that it moves the cursor, clears
the screen, reverses the text direction (U+202E) or hides characters
(U+200B). `printable` shows each such character as a visible escape
instead, so what a person reads is what is there, and caps the length so
one name cannot swamp a table. It does not handle markup: widgets still
take the result as plain text.
"""

from __future__ import annotations

import unicodedata

ELLIPSIS = "…"
# Controls (ESC, NUL, newline, C1 such as CSI), format characters (bidi
# overrides, zero-width ones), lone surrogates (undecodable bytes, which a
# terminal cannot even encode) and the Unicode line and paragraph separators.
_ESCAPED = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})


def escape_char(ch: str) -> str:
    """`\\x1b`, `\\u202e` or `\\U000e0001`: Python's spelling, which people recognise."""
    n = ord(ch)
    if n < 0x100:
        return f"\\x{n:02x}"
    if n < 0x10000:
        return f"\\u{n:04x}"
    return f"\\U{n:08x}"


def _pieces(s: str) -> list[str]:
    return [escape_char(c) if unicodedata.category(c) in _ESCAPED else c for c in s]


def printable(s: str, limit: int | None = 200) -> str:
    """`s` with control and format characters escaped, at most `limit` characters long.

    A longer result is cut to `limit - 1` characters plus "…"; an escape is
    never cut in half. `limit=None` keeps everything. Ordinary characters,
    backslashes and markup-looking brackets are left as they are.
    """
    if limit is not None and limit < 1:
        raise ValueError("limit must be at least 1")
    if s.isprintable():  # fast path: nothing to escape (the common case)
        if limit is None or len(s) <= limit:
            return s
        return s[: limit - 1] + ELLIPSIS
    pieces = _pieces(s)
    if limit is None or sum(map(len, pieces)) <= limit:
        return "".join(pieces)
    kept, used = [], 0
    for piece in pieces:
        if used + len(piece) > limit - 1:
            break
        kept.append(piece)
        used += len(piece)
    return "".join(kept) + ELLIPSIS


def printable_middle(s: str, limit: int) -> str:
    """`printable`, but a long result loses its middle, so the end survives (a command's leaf and last arguments).

    A third of the room goes to the start, the rest to the end; an escape is never cut in half.
    """
    if limit < 2:
        raise ValueError("limit must be at least 2")
    pieces = _pieces(s)
    if sum(map(len, pieces)) <= limit:
        return "".join(pieces)
    room = limit - 1
    tail: list[str] = []
    used = 0
    for piece in reversed(pieces):
        if used + len(piece) > room - room // 3:
            break
        tail.append(piece)
        used += len(piece)
    head: list[str] = []
    for piece in pieces:
        if used + len(piece) > room:
            break
        head.append(piece)
        used += len(piece)
    return "".join(head) + ELLIPSIS + "".join(reversed(tail))


UNKNOWN = "—"
_UNITS = ("B", "KiB", "MiB", "GiB", "TiB", "PiB")


def human_size(n: int | None) -> str:
    """`1.2 GiB`, binary units with the unit printed; unknown (null) is a dash, never a guess."""
    if n is None:
        return UNKNOWN
    sign = "-" if n < 0 else ""
    value = float(abs(n))
    unit = 0
    while value >= 1000 and unit < len(_UNITS) - 1:  # 1000 MiB shows as 1.0 GiB: at most 9 characters
        value /= 1024
        unit += 1
    if unit == 0:
        return f"{sign}{int(value)} B"
    return f"{sign}{value:.1f} {_UNITS[unit]}"
