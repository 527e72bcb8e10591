"""The wall-clock time a log line's stamp names, where it names one.

ISO stamps with a zone, `journalctl -o short-unix` and the journal's
`__REALTIME_TIMESTAMP` are exact. `dmesg -T` and syslog print local time
without a zone (syslog without a year either): those are read in this
machine's zone, in the latest year that is not in the future, and the
caller is told so. Uptime stamps (`[ 812.5]`) name no wall-clock time.
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime

_ISO = re.compile(r"^(\d{4}-\d\d-\d\d)[T ](\d\d:\d\d:\d\d(?:[.,]\d+)?)(Z|[+-]\d\d:?\d\d)$")
_UNIX = re.compile(r"^\d{9,}\.\d+$")
_REALTIME_USEC = re.compile(r"^\d{16,}$")  # the journal's µs since the epoch (a monotonic count is far smaller)
_FULL = re.compile(r"^(?:\w+ )?(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d(?:\.\d+)?)(?: (\w+))?$")
_LOCAL = re.compile(
    r"(?P<mon>\d{1,2}月|[^\W\d_]{3,5}\.?)\s+(?P<day>\d{1,2})\s+(?P<h>\d\d?):(?P<m>\d\d):(?P<s>\d\d)(?P<frac>[.,]\d+)?"
    r"(?:\s+(?P<year>\d{4}))?"
)
_MONTHS = {
    name: i + 1
    for names in (
        "jan feb mar apr may jun jul aug sep oct nov dec",  # C locale
        "jan feb mär apr mai jun jul aug sep okt nov dez",  # de_DE
        "janv févr mars avr mai juin juil août sept oct nov déc",  # fr_FR
    )
    for i, name in enumerate(names.split())
}
ASSUMED_ZONE = "the log's wall-clock stamps have no time zone: read in this machine's"


def wall_time(stamp: str | None, now: float | None = None) -> tuple[float | None, str | None]:
    """(epoch seconds or None, a note when the zone or year was assumed)."""
    if not stamp:
        return None, None
    s = stamp.strip().strip("[]").strip()
    if m := _ISO.match(s):
        zone = "+00:00" if m.group(3) == "Z" else m.group(3)
        return _iso(f"{m.group(1)}T{m.group(2).replace(',', '.')}{zone}"), None
    if _UNIX.match(s):
        return float(s), None
    if _REALTIME_USEC.match(s):
        return int(s) / 1e6, None
    if m := _FULL.match(s):
        if m.group(3) in ("UTC", "GMT"):
            return _iso(f"{m.group(1)}T{m.group(2)}+00:00"), None
        local = _iso(f"{m.group(1)}T{m.group(2)}")
        return local, None if local is None else f"{ASSUMED_ZONE} zone"
    if m := _LOCAL.search(s):
        return _local(m, time.time() if now is None else now)
    return None, None


def _iso(text: str) -> float | None:
    try:
        return datetime.fromisoformat(text).timestamp()  # naive: this machine's zone
    except ValueError:
        return None


def _local(m: re.Match, now: float) -> tuple[float | None, str | None]:
    name = m.group("mon").lower().rstrip(".")
    month = int(name[:-1]) if name.endswith("月") else _MONTHS.get(name)
    if month is None or not 1 <= month <= 12:
        return None, None
    fields = (int(m.group("day")), int(m.group("h")), int(m.group("m")), int(m.group("s")))
    frac = float(m.group("frac").replace(",", ".")) if m.group("frac") else 0.0
    if m.group("year"):
        at = _at(int(m.group("year")), month, fields)
        return (None, None) if at is None else (at + frac, f"{ASSUMED_ZONE} zone")
    year = datetime.fromtimestamp(now, UTC).year
    at = _at(year, month, fields)
    if at is not None and at > now + 86400:  # syslog has no year: the latest one not in the future
        year -= 1
        at = _at(year, month, fields)
    return (None, None) if at is None else (at + frac, f"{ASSUMED_ZONE} zone, and the year {year} assumed")


def _at(year: int, month: int, fields: tuple[int, int, int, int]) -> float | None:
    day, hour, minute, second = fields
    try:
        return datetime(year, month, day, hour, minute, second).timestamp()
    except ValueError:
        return None
