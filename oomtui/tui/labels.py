"""Tree rows as Rich `Text`: a name column, then fixed-width number columns.

Tree indentation grows with depth, so each name is cut to what is left of
`NAME_WIDTH` at that depth and the columns after it line up. Every piece of
data passes through `printable` and becomes `Text` (never markup), because
any user can name a process or cgroup `[/bold]` or put an ESC byte in it.
A row's inputs form a `key`: the tree relabels a node only when it changed.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text

from oomtui.model import Cgroup, Process
from oomtui.text import human_size, printable
from oomtui.tui import fmt
from oomtui.tui.palette import Palette

NAME_WIDTH = 34
GUIDE_DEPTH = 3
ICON_WIDTH = 2  # the tree's "▶ " before an expandable node
COLUMNS: tuple[tuple[str, int], ...] = (
    ("MEMORY", 10),
    ("LIMIT│a/f/s", 16),
    ("SWAP", 10),
    ("PSI", 6),
    ("OOMK", 5),
    ("ADJ", 6),
    ("OOMSC", 6),
    ("BADNESS", 9),
    ("", 5),
)
BAR_WIDTH = 8
FLAG_INTERDEPENDENT = "G"
FLAG_EDITED = "✎"
FLAG_DIES = "☠"
FLAG_DOMAIN = "◎"
FLAG_ACTUAL = "K"


@dataclass(frozen=True, slots=True)
class CgroupRow:
    """Everything a cgroup's row shows; equal rows need no relabel."""

    cgroup: Cgroup
    depth: int
    expandable: bool
    interdependent: bool
    score: int | None
    edited: bool
    domain: bool
    dies_whole: bool
    holds_victim: bool
    kill_recent: bool


@dataclass(frozen=True, slots=True)
class ProcessRow:
    process: Process
    depth: int
    adj: int
    adj_edited: bool
    badness: int | None
    dies: bool
    victim: bool
    actual: bool


def _name_cells(depth: int, expandable: bool) -> int:
    return max(8, NAME_WIDTH - depth * GUIDE_DEPTH - (ICON_WIDTH if expandable else 0))


def _fit(s: str, width: int) -> str:
    return s if len(s) <= width else s[: width - 1] + "…"


def _right(s: str, width: int) -> str:
    return _fit(s, width - 1).rjust(width)


def header() -> Text:
    """Column titles, aligned with rows of depth 0."""
    t = Text(_fit("NAME", NAME_WIDTH).ljust(NAME_WIDTH), style="bold")
    for title, width in COLUMNS:
        t.append(_right(title, width), style="bold")
    return t


def _limit_cell(c: Cgroup, pal: Palette) -> Text:
    width = COLUMNS[1][1]
    frac = fmt.fraction(c.memory_current, c.memory_max)
    if c.memory_max is None:
        return Text("no limit".rjust(width), style=pal.dim)
    if frac is None:
        return Text(_right(human_size(c.memory_max), width))
    pct = f"{min(frac, 9.99) * 100:.0f}%".rjust(5)
    t = Text(" " * (width - BAR_WIDTH - 6) + " ")
    t.append(fmt.bar(frac, BAR_WIDTH), style=pal.for_level(fmt.level(frac)))
    t.append(pct, style=pal.for_level(fmt.level(frac)))
    return t


def cgroup_label(row: CgroupRow, pal: Palette) -> Text:
    c = row.cgroup
    width = _name_cells(row.depth, row.expandable)
    name_style = pal.victim if row.dies_whole else ""
    t = Text(_fit(printable(c.name, limit=200), width).ljust(width), style=name_style)
    t.append(_right(human_size(c.memory_current), COLUMNS[0][1]))
    t.append_text(_limit_cell(c, pal))
    t.append(_right(human_size(c.swap_current), COLUMNS[2][1]))
    t.append(_right(fmt.pressure_avg10(c.pressure), COLUMNS[3][1]))
    kills = c.events.get("oom_kill")
    t.append(
        _right("" if kills is None else str(kills), COLUMNS[4][1]),
        style=pal.critical if row.kill_recent else "",
    )
    t.append(
        _right("" if row.score is None else str(row.score), COLUMNS[5][1]),
        style=pal.edit if row.edited and row.score is not None else "",
    )
    t.append(" " * (COLUMNS[6][1] + COLUMNS[7][1]))
    t.append(" ")
    t.append(FLAG_INTERDEPENDENT if row.interdependent else " ", style=pal.edit if row.edited else "bold")
    t.append(FLAG_EDITED if row.edited else " ", style=pal.edit)
    t.append(FLAG_DIES if row.dies_whole or row.holds_victim else " ", style=pal.victim)
    t.append(FLAG_DOMAIN if row.domain else " ", style=pal.careful)
    return t


def process_label(row: ProcessRow, pal: Palette) -> Text:
    p = row.process
    width = _name_cells(row.depth, False)
    name = f"{p.pid} {printable(p.comm, limit=200)}"
    style = pal.victim if row.dies else (pal.dim if p.kernel_thread else "")
    t = Text(_fit(name, width).ljust(width), style=style)
    t.append(_right(human_size(p.rss), COLUMNS[0][1]))
    parts = (p.rss_anon, p.rss_file, p.rss_shmem)
    afs = "" if all(v is None for v in parts) else "/".join(fmt.compact(v) for v in parts)
    t.append(_right(afs, COLUMNS[1][1]), style=pal.dim)
    t.append(_right(human_size(p.swap), COLUMNS[2][1]))
    t.append(" " * (COLUMNS[3][1] + COLUMNS[4][1]))
    t.append(_right(str(row.adj), COLUMNS[5][1]), style=pal.edit if row.adj_edited else "")
    t.append(_right(fmt.UNKNOWN if p.oom_score is None else str(p.oom_score), COLUMNS[6][1]))
    t.append(_right(fmt.UNKNOWN if row.badness is None else str(row.badness), COLUMNS[7][1]))
    t.append("  ")
    t.append(FLAG_EDITED if row.adj_edited else " ", style=pal.edit)
    t.append(FLAG_DIES if row.dies else " ", style=pal.victim)
    t.append(FLAG_ACTUAL if row.actual else " ", style=pal.actual)
    return t
