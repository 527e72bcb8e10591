"""Split a log into OOM reports, keyed by the sequence header → table → oom-kill → Killed.

Several OOMs interleave with other messages, ratelimiting drops headers
and tables, and a group kill prints the victim twice (kernel-oom.md §5.9),
so a report is not "the lines between two headers": a new report starts
at a header, or at a kill that cannot belong to the open one, and after
its kill only the lines that continue it (group kills, the reaper) join.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from oomtui.oomlog.unwrap import Line

HEADER = re.compile(r"\binvoked oom-killer: ")
OOM_KILL = re.compile(r"^oom-kill:")
OOM_KILL_CONT = re.compile(r"^,(?:global_oom|oom_memcg=)")
SACRIFICE = re.compile(
    r"^(?:(?P<prefix>.*?): )?Kill process (?P<pid>\d+) \((?P<comm>.*)\) score (?P<score>-?\d+) or sacrifice child"
)
KILLED = re.compile(
    r"^(?:(?P<prefix>.*?): )?Killed process (?P<pid>\d+)(?:, UID (?P<uid_old>\d+),)? \((?P<comm>.*)\) "
    r"total-vm:(?P<vm>\d+)kB, anon-rss:(?P<anon>\d+)kB, file-rss:(?P<file>\d+)kB"
    r"(?:, shmem-rss:(?P<shmem>\d+)kB)?"
    r"(?:,? UID:(?P<uid>\d+) pgtables:(?P<pgtables>\d+)kB oom_score_adj:(?P<adj>-?\d+))?"
)
GROUP = re.compile(r"^Tasks in (?P<path>.+) are going to be killed due to memory\.oom\.group set")
REAPER = re.compile(r"^oom_reaper: (?:reaped process (?P<pid>\d+) \(|unable to reap pid:(?P<pid2>\d+) )")
TABLE_TITLE = re.compile(r"^Tasks state \(memory values in pages\):")
TABLE_HEADER = re.compile(r"^\[\s*pid\s*\]\s+uid\s")
NO_KILLABLE = re.compile(r"^Out of memory and no killable processes")
PANIC = re.compile(r"^Kernel panic - not syncing: Out of memory")


@dataclass
class Segment:
    """The lines of one report, and what was seen so far to decide where the next begins."""

    lines: list[Line] = field(default_factory=list)
    has_header: bool = False
    has_summary: bool = False  # the oom-kill: line
    chosen: bool = False  # "Kill process ... or sacrifice child"
    killed: int | None = None  # pid of the first Killed process line
    group: bool = False
    pids: set[int] = field(default_factory=set)
    closed: bool = False  # no more lines except its continuation

    @property
    def done(self) -> bool:
        return self.killed is not None or self.closed


def _pid(m: re.Match) -> int:
    return int(m.group("pid") or m.group("pid2"))


def split_reports(lines: list[Line]) -> list[Segment]:
    """Group message lines into reports in log order."""
    reports: list[Segment] = []
    current: Segment | None = None

    def start() -> Segment:
        seg = Segment()
        reports.append(seg)
        return seg

    for line in lines:
        text = line.text
        if HEADER.search(text):
            current = start()
            current.has_header = True
            current.lines.append(line)
            continue
        if TABLE_TITLE.match(text) or TABLE_HEADER.match(text):
            if current is None or current.done or current.has_summary:
                current = start()
            current.lines.append(line)
            continue
        if OOM_KILL.match(text):
            if current is None or current.done or current.has_summary:
                current = start()
            current.has_summary = True
            current.lines.append(line)
            continue
        if OOM_KILL_CONT.match(text) and current is not None and current.has_summary and not current.done:
            current.lines.append(line)
            continue
        m = SACRIFICE.match(text)
        if m:
            if current is None or current.done or current.chosen:
                current = start()
            current.chosen = True
            current.lines.append(line)
            continue
        m = KILLED.match(text)
        if m:
            pid = int(m.group("pid"))
            if current is not None and current.killed is not None and (current.group or pid == current.killed):
                current.pids.add(pid)
                current.lines.append(line)
                continue
            if current is None or current.done:
                current = start()
            current.killed = pid
            current.pids.add(pid)
            current.lines.append(line)
            continue
        if GROUP.match(text):
            if current is None or (current.killed is None and current.closed):
                current = start()
            current.group = True
            current.lines.append(line)
            continue
        m = REAPER.match(text)
        if m:
            owner = next((r for r in reversed(reports) if _pid(m) in r.pids), None)
            if owner is not None:
                owner.lines.append(line)
            continue
        if NO_KILLABLE.match(text) or PANIC.match(text):
            if current is not None and not current.done:
                current.lines.append(line)
                current.closed = True
            continue
        if current is not None and not current.done:
            current.lines.append(line)
    return reports
