"""Tree rows as Rich `Text`: flags, the tree's name column, then number columns by priority.

The flags column is first and always shown, so a victim is marked by a
character (☠, or `!` in ASCII) and not by colour alone: a 16-colour console
or NO_COLOR loses the colour. Columns that do not fit the width are dropped,
least useful first (`layout`). Every piece of data passes through
`printable` and becomes `Text` (never markup), because any user can name a
process or cgroup `[/bold]` or put an ESC byte in it. Rows are frozen
values: the widget redraws a line only when its row changed.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text

from oomtui.model import Cgroup, Process
from oomtui.text import human_size
from oomtui.tui import fmt
from oomtui.tui.palette import Palette

FLAGS_WIDTH = 5  # four flags and a space
NAME_MIN = 22
NAME_IDEAL = 34
NAME_MAX = 48
CMD_MIN = 14
BAR_WIDTH = 8


@dataclass(frozen=True, slots=True)
class Column:
    key: str
    title: str
    width: int


COLUMNS: dict[str, Column] = {c.key: c for c in (
    Column("memory", "MEMORY", 10),
    Column("limit", "LIMIT│a/f/s", 16),
    Column("swap", "SWAP", 10),
    Column("psi", "PSI", 6),
    Column("oomk", "OOMK", 5),
    Column("adj", "ADJ", 6),
    Column("oomsc", "OOMSC", 6),
    Column("badness", "BADNESS", 9),
)}
ORDER = ("memory", "limit", "swap", "psi", "oomk", "adj", "oomsc", "badness")  # left to right
# Most useful first: a narrow screen keeps the head of this list.
PRIORITY = ("memory", "limit", "badness", "adj", "cmd", "oomk", "swap", "psi", "oomsc")
CORE = frozenset(("memory", "limit", "badness", "adj"))


@dataclass(frozen=True, slots=True)
class Glyphs:
    """The characters rows are drawn with; `ASCII` for consoles without Unicode."""

    dies: str
    holds: str  # a cgroup with something dying inside
    domain: str
    edited: str
    actual: str
    interdependent: str
    opened: str
    closed: str
    branch: str
    last: str
    pipe: str


UNICODE = Glyphs(dies="☠", holds="›", domain="◎", edited="✎", actual="K", interdependent="G",
                 opened="▼ ", closed="▶ ", branch="├─ ", last="└─ ", pipe="│  ")
ASCII = Glyphs(dies="!", holds=">", domain="@", edited="*", actual="K", interdependent="G",
               opened="- ", closed="+ ", branch="|- ", last="`- ", pipe="|  ")


@dataclass(frozen=True, slots=True)
class Layout:
    """Which columns a tree of `width` cells shows, and how wide the name and CMD columns are."""

    width: int
    name: int
    columns: tuple[str, ...]
    cmd: int = 0


def layout(width: int) -> Layout:
    """Columns by priority: a core one while the name keeps `NAME_MIN` cells, any other only while
    it keeps `NAME_IDEAL`; what is left widens the name (up to `NAME_MAX`), then CMD."""
    room = width - FLAGS_WIDTH
    used = 0
    chosen: set[str] = set()
    for key in PRIORITY:
        cost = CMD_MIN + 1 if key == "cmd" else COLUMNS[key].width
        if used + cost + (NAME_MIN if key in CORE else NAME_IDEAL) <= room:
            used += cost
            chosen.add(key)
    columns = tuple(k for k in ORDER if k in chosen)
    left = max(NAME_MIN, room - sum(COLUMNS[k].width for k in columns))
    if "cmd" not in chosen:
        return Layout(width, left, columns)
    spare = max(0, left - NAME_IDEAL - CMD_MIN - 1)  # a third to the name, the rest to CMD
    name = max(NAME_MIN, min(NAME_MAX, left - CMD_MIN - 1, NAME_IDEAL + spare // 3))
    return Layout(width, name, columns, left - name - 1)


@dataclass(frozen=True, slots=True)
class CgroupRow:
    """Everything a cgroup's row shows; equal rows need no redraw."""

    cgroup: Cgroup
    name: str  # the workload's name (with its QoS badge), or the raw last part of the path
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
    gone: bool = False  # killed and no longer sampled: a ghost of its last sample


Row = CgroupRow | ProcessRow


def guide_prefix(depth: int, guides: tuple[bool, ...], last: bool, expandable: bool, expanded: bool,
                 g: Glyphs) -> str:
    """The tree's lines left of a name: a `│` per ancestor with siblings still to come, the branch, the icon."""
    lines = "".join(g.pipe if more else "   " for more in guides)
    branch = "" if depth == 0 else (g.last if last else g.branch)
    icon = (g.opened if expanded else g.closed) if expandable else ""
    return lines + branch + icon


def _right(s: str, width: int) -> str:
    return fmt.cut(s, width - 1).rjust(width)


def header(lay: Layout) -> Text:
    """Column titles, aligned with the rows."""
    t = Text(" " * FLAGS_WIDTH + "NAME".ljust(lay.name), style="bold")
    for key in lay.columns:
        c = COLUMNS[key]
        t.append(_right(c.title, c.width), style="bold")
    if lay.cmd:
        t.append(" " + "CMD".ljust(lay.cmd), style="bold")
    return t


def _limit_cell(c: Cgroup, pal: Palette) -> Text:
    width = COLUMNS["limit"].width
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


def _flags(t: Text, marks: tuple[tuple[str, str], ...]) -> None:
    for char, style in marks:
        t.append(char or " ", style=style if char else "")
    t.append(" ")


def _name(t: Text, prefix: str, name: str, lay: Layout, style: str, lead: str = "") -> None:
    """The tree's guides, then `lead` (a pid: never cut), then the untrusted name, printable, cut in the middle."""
    t.append(prefix, style="dim")
    room = max(1, lay.name - len(prefix) - len(lead))
    t.append(lead + fmt.cut(name, room).ljust(room), style=style)


def _cells(t: Text, lay: Layout, cells: dict[str, Text]) -> None:
    for key in lay.columns:
        t.append_text(cells.get(key) or Text(" " * COLUMNS[key].width))


def cgroup_label(row: CgroupRow, lay: Layout, g: Glyphs, pal: Palette, prefix: str = "") -> Text:
    c = row.cgroup
    t = Text()
    _flags(t, (
        (g.dies if row.dies_whole else (g.holds if row.holds_victim else ""),
         pal.victim_mark if row.dies_whole else pal.victim),
        (g.domain if row.domain else "", pal.careful),
        (g.edited if row.edited else "", pal.edit),
        (g.interdependent if row.interdependent else "", pal.edit if row.edited else "bold"),
    ))
    _name(t, prefix, row.name, lay, pal.victim if row.dies_whole else "")
    kills = c.events.get("oom_kill")
    _cells(t, lay, {
        "memory": Text(_right(human_size(c.memory_current), COLUMNS["memory"].width)),
        "limit": _limit_cell(c, pal),
        "swap": Text(_right(human_size(c.swap_current), COLUMNS["swap"].width)),
        "psi": Text(_right(fmt.pressure_avg10(c.pressure), COLUMNS["psi"].width)),
        "oomk": Text(_right("" if kills is None else str(kills), COLUMNS["oomk"].width),
                     style=pal.critical if row.kill_recent else ""),
        "adj": Text(_right("" if row.score is None else str(row.score), COLUMNS["adj"].width),
                    style=pal.edit if row.edited and row.score is not None else ""),
    })
    if lay.cmd:
        t.append(" " * (lay.cmd + 1))
    return t


def process_label(row: ProcessRow, lay: Layout, g: Glyphs, pal: Palette, prefix: str = "") -> Text:
    p = row.process
    t = Text()
    _flags(t, (
        (g.dies if row.dies else "", pal.victim_mark if row.victim else pal.victim),
        (g.actual if row.actual else "", pal.actual_mark),
        (g.edited if row.adj_edited else "", pal.edit),
        ("", ""),
    ))
    style = pal.victim if row.dies else (pal.dim if p.kernel_thread else "")
    _name(t, prefix, p.comm, lay, f"{pal.dim} strike" if row.gone else style, lead=f"{p.pid} ")
    mark = len(t)
    parts = (p.rss_anon, p.rss_file, p.rss_shmem)
    afs = "" if all(v is None for v in parts) else "/".join(fmt.compact(v) for v in parts)
    _cells(t, lay, {
        "memory": Text(_right(human_size(p.rss), COLUMNS["memory"].width)),
        "limit": Text(_right(afs, COLUMNS["limit"].width), style=pal.dim),
        "swap": Text(_right(human_size(p.swap), COLUMNS["swap"].width)),
        "adj": Text(_right(str(row.adj), COLUMNS["adj"].width), style=pal.edit if row.adj_edited else ""),
        "oomsc": Text(_right(fmt.UNKNOWN if p.oom_score is None else str(p.oom_score), COLUMNS["oomsc"].width)),
        "badness": Text(_right("killed", COLUMNS["badness"].width), style=pal.actual) if row.gone else
        Text(_right(fmt.UNKNOWN if row.badness is None else str(row.badness), COLUMNS["badness"].width)),
    })
    if lay.cmd:
        cmd = fmt.command(p.cmdline, lay.cmd)
        t.append(" ")
        t.append(cmd.ljust(lay.cmd), style=pal.dim if p.kernel_thread or not p.cmdline else "")
    if row.gone:  # its last sample's figures, dimmed: they are no longer true; BADNESS says "killed"
        t.stylize_before(pal.dim, mark)
    return t
