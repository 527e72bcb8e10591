"""Split a log into OOM reports, keyed by the sequence header → table → oom-kill → Killed.

Several OOMs interleave with other messages, ratelimiting drops headers
and tables, and a group kill prints the victim twice (kernel-oom.md §5.9),
so a report is not "the lines between two headers": a new report starts
at a header, or at a kill that cannot belong to the open one, and after
its kill only the lines that continue it (group kills, the reaper) join.

A paste may start inside a report: at `Mem-Info:`, in its totals, or at
the task table; such a line opens a report too (one that then shows no
OOM line at all is dropped). Reports printed at the same time by two
CPUs, or by two hosts in one merged log, are told apart by the printk
caller id and the syslog host: each (host, caller) has its own open report.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
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
MAX_REPORT_LINES = 55_000  # a task table of 50,000 rows and the rest of its report

# Lines of the global Mem-Info block or the memcg block that a paste may start with.
PREAMBLE = re.compile(
    r"^(?:Mem-Info:|\d+ pages RAM|Total swap = |Task in \S+ killed as a result of limit|"
    r"Memory limit reached of cgroup|memory: usage \d+kB, limit)"
)
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
    table: bool = False
    cut: bool = False  # lines past MAX_REPORT_LINES were left out
    reaped: int | None = None  # a reaper line that names no other report's victim: the victim when no kill line

    @property
    def done(self) -> bool:
        return self.killed is not None or self.closed

    @property
    def is_report(self) -> bool:
        """Whether it shows an OOM at all, not only lines a paste of a report could start with."""
        return (self.has_header or self.table or self.has_summary or self.chosen or self.closed
                or self.killed is not None)


def _pid(m: re.Match) -> int:
    return int(m.group("pid") or m.group("pid2"))


def split_reports(lines: Iterable[Line]) -> list[Segment]:
    """Group message lines into reports in log order."""
    reports: list[Segment] = []
    open_by: dict[tuple[str | None, str | None], Segment] = {}

    def start(key: tuple[str | None, str | None]) -> Segment:
        seg = Segment()
        reports.append(seg)
        open_by[key] = seg
        return seg

    for line in lines:
        text = line.text
        key = (line.host, line.caller)
        current = open_by.get(key)
        if HEADER.search(text):
            current = start(key)
            current.has_header = True
            current.lines.append(line)
            continue
        if TABLE_TITLE.match(text) or TABLE_HEADER.match(text):
            if current is None or current.done or current.has_summary or current.table:
                current = start(key)
            current.table = current.table or bool(TABLE_HEADER.match(text))
            current.lines.append(line)
            continue
        if OOM_KILL.match(text):
            if current is None or current.done or current.has_summary:
                current = start(key)
            current.has_summary = True
            current.lines.append(line)
            continue
        if OOM_KILL_CONT.match(text) and current is not None and current.has_summary and not current.done:
            current.lines.append(line)
            continue
        m = SACRIFICE.match(text)
        if m:
            if current is None or current.done or current.chosen:
                current = start(key)
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
                current = start(key)
            current.killed = pid
            current.pids.add(pid)
            current.lines.append(line)
            continue
        if GROUP.match(text):
            if current is None or (current.killed is None and current.closed):
                current = start(key)
            current.group = True
            current.lines.append(line)
            continue
        m = REAPER.match(text)
        if m:
            _reaped(reports, _pid(m), line)
            continue
        if NO_KILLABLE.match(text) or PANIC.match(text):
            if current is not None and not current.done:
                current.lines.append(line)
                current.closed = True
            continue
        if PREAMBLE.match(text) and (current is None or current.done):
            current = start(key)
        if current is not None and not current.done:
            if len(current.lines) < MAX_REPORT_LINES:
                current.lines.append(line)
            else:
                current.cut = True
    return [r for r in reports if r.is_report]


def _reaped(reports: list[Segment], pid: int, line: Line) -> None:
    """The reaper runs in its own thread, so its line goes by pid: to the report that killed it, else to
    the latest report with no kill line (ratelimiting ate it), whose victim it then names."""
    owner = next((r for r in reversed(reports) if pid in r.pids), None)
    if owner is None:
        owner = next((r for r in reversed(reports) if r.is_report and r.killed is None and r.reaped is None), None)
        if owner is None:
            return
        owner.reaped = pid
        owner.pids.add(pid)
    owner.lines.append(line)
