"""Kernel OOM reports from logs: find them, and turn one into a snapshot with `oom_event`.

`unwrap` strips what the logging path added, `report` splits the log into
reports, `parse` reads one report into a Snapshot (source "kernel-log"),
`kmsg` follows /dev/kmsg for the recorder. The snapshot carries what the
report says and nothing it does not:

- processes come from the task table in its order (the kernel's scan
  order since 5.3); sizes are pages × page size; where the table has no
  rss_anon/rss_file/rss_shmem columns (before ~6.8) the split is null and
  the total is `rss_total`; page tables come from pgtables_bytes, or
  nr_ptes + nr_pmds pages;
- a process sits in the OOM domain unless the report names its cgroup
  (the victim's task_memcg, an oom.group cgroup's kills);
- the memcg block becomes the domain cgroup (usage, limit, swap, stat);
  Mem-Info gives MemTotal (pages RAM − reserved) and SwapTotal;
- host.kernel is the release on the CPU: line, else the oldest release
  whose OOM code prints what the report shows, marked as inferred;
- each cgroup's `workload` is what its path says (pod UID and QoS,
  container id and runtime, unit): a report has no names.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

from oomtui.errors import UserError
from oomtui.model import Snapshot
from oomtui.oomlog.parse import Era, Parsed, build
from oomtui.oomlog.report import Segment, split_reports
from oomtui.oomlog.unwrap import unwrap
from oomtui.workloads import with_path_workloads

# What a log may make us hold: its bytes and its lines, each line decoded on its own
# (one emoji must not make the whole text four bytes a character), and the Line
# records of its reports. With these a log stays well under 300 MB.
MAX_LOG_BYTES = 48 << 20
MAX_LOG_LINES = 300_000
MAX_LINE = 16 << 10  # characters; a kernel message is at most 1 KiB, a journal JSON record a few

__all__ = ["Era", "ImportResult", "ReportInfo", "find_reports", "is_binary", "log_lines", "parse_report",
           "read_log", "segments"]


@dataclass(frozen=True, slots=True)
class ReportInfo:
    index: int
    time: str | None  # the stamp as the log shows it
    kind: str  # "global" | "memcg"
    domain: str
    victim_pid: int | None
    victim_comm: str | None

    @property
    def victim(self) -> str:
        if self.victim_pid is None:
            return "unknown"
        return f"{self.victim_pid} ({self.victim_comm or '?'})"


@dataclass(frozen=True, slots=True)
class ImportResult:
    snapshot: Snapshot
    warnings: list[str]
    era: Era  # the rules the report's format shows, whatever its release string says
    chosen_pid: int | None = None  # ≤5.0: the process selected before a child was sacrificed


def segments(text: str | list[str] | list[bytes]) -> list[Segment]:
    return split_reports(unwrap(text))


def _info(index: int, seg: Segment, parsed: Parsed) -> ReportInfo:
    event = parsed.snapshot.oom_event
    assert event is not None
    return ReportInfo(
        index=index,
        time=next((x.stamp for x in seg.lines if x.stamp), None),
        kind=event.kind,
        domain=event.domain,
        victim_pid=event.killed_pid,
        victim_comm=event.killed_comm,
    )


def find_reports(text: str | list[str] | list[bytes]) -> list[ReportInfo]:
    """Every OOM report in the log, oldest first."""
    return [_info(i, seg, build(seg)) for i, seg in enumerate(segments(text))]


def parse_report(text: str | list[str] | list[bytes], index: int = -1) -> ImportResult:
    """One report (the last by default) as a snapshot; UserError when there is none."""
    found = segments(text)
    if not found:
        raise UserError("no kernel OOM report found (looked for 'invoked oom-killer', 'oom-kill:', 'Killed process')")
    if not -len(found) <= index < len(found):
        raise UserError(f"no report {index}: the log has {len(found)} (0 to {len(found) - 1}, or -1 for the last)")
    parsed = build(found[index])
    snapshot = with_path_workloads(parsed.snapshot)  # a report names cgroups by path: pod UID, QoS, id, unit
    return ImportResult(snapshot, list(parsed.warnings), parsed.era, parsed.chosen_pid)


def read_log(path: str | Path) -> list[bytes]:
    """A log file's lines (gzip-compressed rotated logs too; `-` is stdin), bounded in size."""
    from oomtui.snapshot import SnapshotError, read_bounded

    try:
        return log_lines([read_bounded(path, MAX_LOG_BYTES)], str(path))
    except SnapshotError as e:
        raise UserError(str(e)) from None
    except OSError as e:
        raise UserError(f"{path}: {e.strerror or e}") from None


def log_lines(box: list[bytes], name: str) -> list[bytes]:
    """The lines of the log in `box` (taken out of it, so its bytes are freed once split), each cut at MAX_LINE.

    Kept as bytes, decoded one at a time by `unwrap`: a line of text takes up
    to four bytes a character, and only the lines of reports are kept.
    NUL bytes are dropped: a crash leaves blocks of them in syslog files.
    """
    raw = box.pop()
    if b"\x00" in raw:
        raw = raw.replace(b"\x00", b"")
    if is_binary(raw[:4096]):
        raise UserError(f"{name}: binary data, not a text log")
    if raw.count(b"\n") >= MAX_LOG_LINES:
        raise UserError(f"{name}: more than {MAX_LOG_LINES:,} lines; cut out the part with the OOM report "
                        "(e.g. grep -B 300 -A 60 'invoked oom-killer')")
    return [line[:MAX_LINE].rstrip(b"\n").removesuffix(b"\r") for line in io.BytesIO(raw)]


def is_binary(head: bytes) -> bool:
    """Whether, NULs aside, over 1 % of it are control bytes other than tab, newline, return and escape."""
    head = head.replace(b"\x00", b"")
    control = sum(head.count(bytes([b])) for b in range(32) if b not in (9, 10, 13, 27))
    return control > len(head) // 100
