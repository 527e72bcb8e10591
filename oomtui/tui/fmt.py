"""Numbers as a person reads them: binary units with the unit printed.

Pure functions returning plain strings; the widgets add style. Sorting and
filtering always use the bytes, never these strings.
"""

from __future__ import annotations

from rich.text import Span, Text

from oomtui.model import Pressure
from oomtui.text import UNKNOWN, printable, printable_middle

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


def cut(s: str, width: int) -> str:
    """Untrusted `s` made printable in at most `width` cells, losing its middle if too long.

    What tells names apart is usually at the end (`kubepods-burstable-pod1a2b…`
    differ in the uid; `cri-containerd-740f…` in the hash), and a cut at the
    end would drop exactly that; an escape is never cut in half.
    """
    if width < 2:
        return printable(s, limit=None)[:max(0, width)]
    return printable_middle(s, width)


def command(argv: tuple[str, ...], width: int) -> str:
    """A command line, printable, in `width` cells: the program's directory goes first, its name never.

    `/usr/lib/jvm/java-17/bin/java -jar checkout.jar` becomes
    `…/java -jar checkout.jar`, then is cut in the middle if still too long.
    """
    if not argv or width <= 0:
        return ""
    line = " ".join(argv)
    if len(printable(line, limit=None)) <= width:
        return printable(line, limit=None)
    program, rest = argv[0], argv[1:]
    if "/" in program.rstrip("/"):
        program = "…/" + program.rstrip("/").rsplit("/", 1)[1]
    return cut(" ".join((program, *rest)), width)


Looks = tuple[str, object, tuple[Span, ...]]


def looks(text: Text) -> Looks:
    """What a `Text` shows: its characters, its own style and its spans (Text's own == leaves out its style),
    to tell a drawn line or cell from a changed one."""
    return text.plain, text.style, tuple(text.spans)
