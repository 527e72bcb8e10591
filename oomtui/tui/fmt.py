"""Numbers as a person reads them: binary units with the unit printed.

Pure functions returning plain strings; the widgets add style. Sorting and
filtering always use the bytes, never these strings.
"""

from __future__ import annotations

import re

from oomtui.model import Pressure
from oomtui.text import UNKNOWN

_UNITS = ("B", "KiB", "MiB", "GiB", "TiB", "PiB")


def compact(n: int | None) -> str:
    """At most four characters (`1.2G`, `512M`, `0`), for the narrow a/f/s column."""
    if n is None:
        return "?"
    value = float(abs(n))
    for unit in ("", "K", "M", "G", "T"):
        if value < 1000 or unit == "T":
            break
        value /= 1024
    if unit == "":
        return str(int(value)) if value < 1000 else "1K"
    return f"{value:.1f}{unit}" if value < 10 else f"{int(value)}{unit}"


def fraction(current: int | None, limit: int | None) -> float | None:
    if current is None or not limit:
        return None
    return current / limit


def bar(frac: float, width: int) -> str:
    """A bar of `width` cells, full at 100 %."""
    filled = max(0, min(width, round(frac * width)))
    return "█" * filled + "░" * (width - filled)


def level(frac: float | None) -> str:
    """The glances thresholds: careful at 50 %, warning at 70 %, critical at 90 %."""
    if frac is None or frac < 0.5:
        return "ok"
    if frac < 0.7:
        return "careful"
    if frac < 0.9:
        return "warning"
    return "critical"


def pressure_avg10(p: Pressure | None) -> str:
    if p is None or p.some is None or p.some.avg10 is None:
        return UNKNOWN
    return f"{p.some.avg10:.1f}"


def pressure_text(p: Pressure | None) -> str:
    if p is None:
        return "unknown"
    parts = []
    for name, line in (("some", p.some), ("full", p.full)):
        if line is None:
            parts.append(f"{name} unknown")
        else:
            avgs = " ".join(f"{k} {'unknown' if v is None else f'{v:.2f}'}"
                            for k, v in (("avg10", line.avg10), ("avg60", line.avg60), ("avg300", line.avg300)))
            parts.append(f"{name} {avgs} total {'unknown' if line.total is None else f'{line.total} µs'}")
    return "; ".join(parts)


def yes_no(v: bool | None) -> str:
    return "unknown" if v is None else ("yes" if v else "no")


_PIECE = re.compile(r"\\x[0-9a-f]{2}|\\u[0-9a-f]{4}|\\U[0-9a-f]{8}|.", re.S)


def middle(s: str, width: int) -> str:
    """`s` cut in the middle to `width` cells, keeping more of the end than the start.

    What tells names apart is usually at the end (`kubepods-burstable-pod1a2b…`
    differ in the uid; `cri-containerd-740f…` in the hash), and a cut at the
    end would drop exactly that. An escape made by `printable` (`\\x1b`) is
    kept whole or dropped whole, never cut in half.
    """
    if len(s) <= width:
        return s
    if width <= 1:
        return "…"[:width]
    pieces = _PIECE.findall(s)
    room = width - 1
    tail: list[str] = []
    used = 0
    for piece in reversed(pieces):
        if used + len(piece) > room - room // 3:
            break
        tail.append(piece)
        used += len(piece)
    head: list[str] = []
    for piece in pieces[: len(pieces) - len(tail)]:
        if used + len(piece) > room:
            break
        head.append(piece)
        used += len(piece)
    return "".join(head) + "…" + "".join(reversed(tail))


def command(argv: tuple[str, ...], width: int) -> str:
    """A command line in `width` cells: the program's directory goes first, its name never.

    `/usr/lib/jvm/java-17/bin/java -jar checkout.jar` becomes
    `…/java -jar checkout.jar`, then is cut in the middle if still too long.
    """
    if not argv or width <= 0:
        return ""
    line = " ".join(argv)
    if len(line) <= width:
        return line
    program, rest = argv[0], argv[1:]
    if "/" in program.rstrip("/"):
        program = "…/" + program.rstrip("/").rsplit("/", 1)[1]
    return middle(" ".join((program, *rest)), width)
