"""Turn one report's lines into a snapshot that says what the report says, and no more.

Formats are recognised by their features, never by the kernel version,
because distribution kernels backport (kernel-oom.md §5.10, §5.11). What
the report does not show stays null; processes whose cgroup the report
does not name sit in the OOM domain (true: the kernel only scans it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from oomtui.model import ROOT, Cgroup, CgroupMode, Host, OomEvent, Process, Snapshot, Sysctl, frozen_map, parent_of
from oomtui.oomlog import report as rx
from oomtui.oomlog.report import Segment
from oomtui.oomlog.stamps import wall_time

KIB = 1024
UNLIMITED_KB = 9007199254740988  # PAGE_COUNTER_MAX pages in kB: "no limit"
PAGE_SIZES_KB = (4, 8, 16, 64)

_CPU = re.compile(
    r"^(?:CPU: \d+ (?:UID: \d+ )?PID: \d+ Comm: |Pid: \d+, comm: )"
    r".*?(?:Not tainted|Tainted:[A-Z ]*?)\s+(?P<release>\d+\.\d+\S*)"
)
_CPU_UID = re.compile(r"^CPU: \d+ UID: \d+ PID: ")
_ORDER = re.compile(r"\border=(-?\d+)")
_NODEMASK_HEADER = re.compile(r"\bgfp_mask=\S+, nodemask=")
_PAGES_RAM = re.compile(r"^(\d+) pages RAM")
_PAGES_RESERVED = re.compile(r"^(\d+) pages reserved")
_TOTAL_SWAP = re.compile(r"^Total swap = (\d+)kB")
_BUDDY = re.compile(r"^Node \d+ \S+: \d+\*(\d+)kB")
_TASK_IN = re.compile(r"^Task in (?P<task>\S+) killed as a result of limit of (?P<oom>\S+)")
_LIMIT_REACHED = re.compile(r"^Memory limit reached of cgroup (?P<oom>\S+)")
_USAGE = re.compile(r"^(?P<kind>memory|memory\+swap|swap|kmem): usage (?P<usage>\d+)kB, limit (?P<limit>\d+)kB")
_STATS_FOR = re.compile(r"^Memory cgroup stats for (?P<path>.*?):(?: (?P<rest>.*))?$")
_STAT_PAIR = re.compile(r"(\w+):(\d+)KB")
_STAT_LINE = re.compile(r"^([a-z][a-z0-9_]*) (-?\d+)$")
_ROW = re.compile(r"^\[\s*(-?\d+)\]\s+(.*)$")
MAX_ROWS = 50_000  # task table rows read per report (few hosts run more than a few thousand tasks)
MAX_SIZE = 1 << 52  # bytes (4 PiB): any size above is a garbled line, not memory
_SIGNED = frozenset({"oom_score_adj", "oom_adj", "pgtables_bytes", "nr_ptes", "nr_pmds"})  # printed %hd / %d / %ld
OOM_DISABLE, OOM_ADJUST_MAX = -17, 15  # oom_adj's range (2.6 to 3.x tables; -17 means never kill)
_SUMMARY_PID = re.compile(r",task=(?P<comm>.*),pid=(?P<pid>\d+),uid=(?P<uid>\d+)\s*$")
_SUMMARY_KEYS = re.compile(r"(?:^|,)(constraint|nodemask|cpuset|mems_allowed|oom_memcg|task_memcg)=([^,]*)")
_PANIC_KIND = re.compile(r"(system-wide|compulsory) panic_on_oom")
_CGROUP_PATH = re.compile(r"^/(?:[^/]+(?:/[^/]+)*)?$")


@dataclass
class Row:
    pid: int
    values: dict[str, int]
    name: str


@dataclass
class Facts:
    """Everything read from the lines, before it becomes a snapshot."""

    release: str | None = None
    cpu_uid: bool = False
    header_nodemask: bool = False
    sysrq: bool = False
    pages_ram: int | None = None
    pages_reserved: int | None = None
    total_swap_kb: int | None = None
    buddy_kb: int | None = None
    task_in: tuple[str, str] | None = None
    limit_reached: str | None = None
    usage: dict[str, tuple[int, int]] = field(default_factory=dict)
    stats: dict[str, dict[str, int]] = field(default_factory=dict)
    table_title: bool = False
    narrow_header: bool = False
    columns: list[str] | None = None
    rows: list[Row] = field(default_factory=list)
    bad_rows: list[str] = field(default_factory=list)  # why each unreadable row was left out
    rows_cut: bool = False
    summary: dict[str, str] = field(default_factory=dict)
    summary_victim: tuple[str, int, int] | None = None
    chosen: tuple[int, str, int] | None = None  # "Kill process P (comm) score S or sacrifice child"
    prefix: str | None = None
    killed: list[re.Match] = field(default_factory=list)
    group_path: str | None = None
    no_killable: bool = False
    panic: str | None = None


def _read_stats(lines: list[str], i: int, into: dict[str, int]) -> int:
    """Consume the multi-line memory.stat dump after "Memory cgroup stats for X:"."""
    while i < len(lines):
        m = _STAT_LINE.match(lines[i])
        if not m:
            break
        into[m.group(1)] = int(m.group(2))
        i += 1
    return i


def _read_row(columns: list[str], rest: str, pid: int) -> Row | str:
    """The row, or why it cannot be one (a garbled number, a pid below 1, a size below 0 or past 4 PiB)."""
    numeric = [c for c in columns if c != "name"]
    parts = rest.split(None, len(numeric))
    if len(parts) < len(numeric):
        return f"task {pid}: too few columns"
    try:
        values = {c: int(v) for c, v in zip(numeric, parts, strict=False)}
    except ValueError:
        return f"task {pid}: a column is not a number"
    if pid < 1 or values.get("tgid", 1) < 1:
        return f"task {pid}: pid below 1"
    bad = next((c for c, v in values.items() if c not in _SIGNED and c != "uid" and not 0 <= v << 12 <= MAX_SIZE), None)
    if bad is not None:
        return f"task {pid}: {bad} {values[bad]} is not a size"
    name = parts[len(numeric)] if len(parts) > len(numeric) else ""
    return Row(pid, values, name)


def gather(seg: Segment) -> Facts:
    f = Facts()
    lines = [x.text for x in seg.lines]
    i = 0
    while i < len(lines):
        text = lines[i]
        i += 1
        # a row after the header, even past a message another CPU printed into the table
        if f.columns is not None and (m := _ROW.match(text)):
            if len(f.rows) >= MAX_ROWS:
                f.rows_cut = True
                continue
            row = _read_row(f.columns, m.group(2), int(m.group(1)))
            if isinstance(row, str):
                f.bad_rows.append(row)
            else:
                f.rows.append(row)
            continue
        if rx.HEADER.search(text):
            f.header_nodemask = bool(_NODEMASK_HEADER.search(text))
            m = _ORDER.search(text)
            f.sysrq = bool(m and m.group(1) == "-1")
        elif (m := _CPU.match(text)) and f.release is None:
            f.release = m.group("release")
            f.cpu_uid = bool(_CPU_UID.match(text))
        elif m := _PAGES_RAM.match(text):
            f.pages_ram = int(m.group(1))
        elif m := _PAGES_RESERVED.match(text):
            f.pages_reserved = int(m.group(1))
        elif m := _TOTAL_SWAP.match(text):
            f.total_swap_kb = int(m.group(1))
        elif (m := _BUDDY.match(text)) and f.buddy_kb is None:
            f.buddy_kb = int(m.group(1))
        elif m := _TASK_IN.match(text):
            f.task_in = (m.group("task"), m.group("oom"))
        elif m := _LIMIT_REACHED.match(text):
            f.limit_reached = m.group("oom")
        elif m := _USAGE.match(text):
            f.usage.setdefault(m.group("kind"), (int(m.group("usage")), int(m.group("limit"))))
        elif m := _STATS_FOR.match(text):
            stats = f.stats.setdefault(m.group("path"), {})
            if m.group("rest"):
                stats.update((k, int(v) * KIB) for k, v in _STAT_PAIR.findall(m.group("rest")))
            else:
                i = _read_stats(lines, i, stats)
        elif rx.TABLE_TITLE.match(text):
            f.table_title = True
        elif rx.TABLE_HEADER.match(text):
            f.columns = text.split("]", 1)[1].split()
            f.narrow_header = text.startswith("[ pid ]")
        elif rx.OOM_KILL.match(text):
            body = text[len("oom-kill:"):]
            while i < len(lines) and rx.OOM_KILL_CONT.match(lines[i]):
                body += lines[i]
                i += 1
            f.summary = {k: v for k, v in _SUMMARY_KEYS.findall(body)}
            if m := _SUMMARY_PID.search(body):
                f.summary_victim = (m.group("comm"), int(m.group("pid")), int(m.group("uid")))
        elif m := rx.SACRIFICE.match(text):
            f.chosen = (int(m.group("pid")), m.group("comm"), int(m.group("score")))
            f.prefix = m.group("prefix") or f.prefix
        elif m := rx.KILLED.match(text):
            f.killed.append(m)
            if m.group("prefix"):
                f.prefix = f.prefix or m.group("prefix")
        elif m := rx.GROUP.match(text):
            f.group_path = m.group("path")
        elif rx.NO_KILLABLE.match(text.removeprefix("Kernel panic - not syncing: ")):  # ≤4.x panics on it
            f.no_killable = True
        elif rx.PANIC.match(text) and (m := _PANIC_KIND.search(text)):
            f.panic = m.group(1)
    return f


@dataclass(frozen=True, slots=True)
class Era:
    """The releases whose OOM code prints what the report shows (kernel-oom.md §5.10).

    `minimum` comes from features that appeared in a release, `maximum` from
    features that were removed; `release` is the one whose rules fit, the
    oldest that prints every feature seen (a backport mix keeps the newest
    OOM-killer feature: the kill lines come from oom_kill.c itself).
    """

    release: str
    minimum: tuple[int, int] | None
    maximum: tuple[int, int] | None
    minimum_by: str | None = None  # the feature that sets `minimum`, as the replay's note names it
    maximum_by: str | None = None  # the feature that sets `maximum`

    def rules_for(self, printed: str | None) -> tuple[str, str | None]:
        """The release to replay with, and a note naming the feature when the printed one is overruled."""
        if printed is None or (version := _version(printed)) is None:
            return self.release, None
        if self.minimum is not None and version < self.minimum:
            return self.release, f"the report's release {printed} shows {self.minimum_by}, " \
                                 f"which {_dotted(self.minimum)} and later print"
        top = self.maximum  # a bound only where the features do not contradict each other
        if top is not None and version > top and (self.minimum is None or self.minimum <= top):
            return self.release, f"the report's release {printed} shows {self.maximum_by}, " \
                                 f"which {_dotted(top)} and earlier print"
        return printed, None


def _dotted(version: tuple[int, int]) -> str:
    return f"{version[0]}.{version[1]}"


def _version(release: str) -> tuple[int, int] | None:
    m = re.match(r"^(\d+)\.(\d+)", release)
    return (int(m.group(1)), int(m.group(2))) if m else None


def infer_era(f: Facts) -> Era:
    """Each feature names the release that introduced or removed it; see kernel-oom.md §5.10."""
    since: list[tuple[tuple[int, int], str]] = []
    until: list[tuple[tuple[int, int], str]] = []
    columns = set(f.columns or ())
    if f.cpu_uid:
        since.append(((6, 11), "a CPU line with UID"))
    if "rss_anon" in columns:
        since.append(((6, 8), "rss_anon/rss_file/rss_shmem columns"))
    if any(m.group("uid") for m in f.killed):
        since.append(((5, 4), "UID/pgtables/oom_score_adj in the kill line"))
    elif any(m.group("prefix") for m in f.killed) and f.chosen is None:
        since.append(((5, 1), "a prefixed Killed process line"))
    if f.summary:
        since.append(((5, 0), "the oom-kill: summary line"))
    if f.table_title:
        since.append(((4, 19), "the Tasks state title"))
    if "pgtables_bytes" in columns:
        since.append(((4, 15), "the pgtables_bytes column"))
    if f.chosen is not None:
        until.append(((5, 0), "'or sacrifice child'"))
    if f.header_nodemask:
        until.append(((4, 20), "nodemask= in the header"))
    if f.narrow_header:
        until.append(((4, 18), "the narrow [ pid ] table header"))
    if "nr_ptes" in columns:
        until.append(((4, 14), "the nr_ptes column"))
    if "nr_pmds" in columns:
        since.append(((4, 8), "the nr_pmds column"))
    minimum, minimum_by = max(since) if since else (None, None)
    maximum, maximum_by = min(until) if until else (None, None)
    if minimum is not None:
        chosen = min(minimum, maximum) if maximum is not None and f.chosen is not None else minimum
    else:
        chosen = maximum if maximum is not None else (6, 12)
    return Era(_dotted(chosen), minimum, maximum, minimum_by, maximum_by)


def _page_size(f: Facts, warnings: list[str]) -> int:
    """The smallest buddy block is one page; else the victim's kB against its pages."""
    if f.buddy_kb in PAGE_SIZES_KB:
        return f.buddy_kb * KIB
    victim = next((m for m in f.killed), None)
    row = _row_for(f, int(victim.group("pid"))) if victim else None
    if victim and row and row.values.get("rss", 0) > 64:
        kb = int(victim.group("anon")) + int(victim.group("file")) + int(victim.group("shmem") or 0)
        pages = row.values["rss"]
        for size in PAGE_SIZES_KB:
            if abs(kb - size * pages) * 10 <= size * pages:  # within a tenth of that page size
                return size * KIB
    if f.rows:
        warnings.append("the report does not show the page size; 4096 bytes assumed for the task table")
    return 4096


def _row_for(f: Facts, pid: int) -> Row | None:
    return next((r for r in f.rows if r.pid == pid or r.values.get("tgid") == pid), None)


def _path(value: str | None, what: str, warnings: list[str]) -> str | None:
    if value is None:
        return None
    if _CGROUP_PATH.match(value):  # absolute, no empty component (no "//"), no trailing "/"
        return value
    warnings.append(f"{what} {value!r} is not a cgroup path; ignored")
    return None


def _size(kb: int) -> int | None:
    """kB as bytes; past 4 PiB it is a garbled line, so unknown."""
    return kb * KIB if kb * KIB <= MAX_SIZE else None


def _limit(kb: int) -> int | None:
    return None if kb >= UNLIMITED_KB else kb * KIB


def _process(row: Row, page: int, cgroup: str, warnings: list[str]) -> Process | None:
    v = row.values
    adj = v["oom_score_adj"] if "oom_score_adj" in v else _adj_from_oom_adj(v.get("oom_adj", 0))
    if not -1000 <= adj <= 1000:
        warnings.append(f"task {row.pid}: oom_score_adj {adj} is out of range; row skipped")
        return None
    split = all(k in v for k in ("rss_anon", "rss_file", "rss_shmem"))
    if "pgtables_bytes" in v:
        pgtables: int | None = v["pgtables_bytes"]
    elif "nr_ptes" in v:
        pgtables = (v["nr_ptes"] + v.get("nr_pmds", 0)) * page
    else:
        pgtables = None
    return Process(
        pid=v.get("tgid", row.pid),
        comm=row.name,
        cgroup=cgroup,
        oom_score_adj=adj,
        uid=v["uid"] % (1 << 32),  # every table header has uid (rx.TABLE_HEADER); printed %d: 2^31 up show negative
        rss_anon=v["rss_anon"] * page if split else None,
        rss_file=v["rss_file"] * page if split else None,
        rss_shmem=v["rss_shmem"] * page if split else None,
        rss_total=v["rss"] * page if "rss" in v else None,
        swap=v["swapents"] * page if "swapents" in v else None,
        pgtables=pgtables,
    )


def _adj_from_oom_adj(oom_adj: int) -> int:
    """Before 2.6.36 the table shows only oom_adj; scaled as the kernel scales a write to it (fs/proc/base.c)."""
    if oom_adj == OOM_ADJUST_MAX:
        return 1000
    return int(oom_adj * 1000 / -OOM_DISABLE)  # C division: toward zero


def _victim_from_kill_line(m: re.Match, cgroup: str, warnings: list[str]) -> Process:
    """A victim the table does not list (ratelimited, oom_dump_tasks=0): what its kill line says."""
    uid = m.group("uid") or m.group("uid_old")
    adj = int(m.group("adj")) if m.group("adj") else 0
    sizes = {k: None if m.group(k) is None else int(m.group(k)) * KIB for k in ("anon", "file", "shmem", "pgtables")}
    if any(v is not None and v > MAX_SIZE for v in sizes.values()) or not -1000 <= adj <= 1000:
        warnings.append(f"the kill line of {m.group('pid')} shows impossible values; its sizes are unknown")
        sizes, adj = dict.fromkeys(sizes), max(-1000, min(1000, adj))
    return Process(
        pid=int(m.group("pid")),
        comm=m.group("comm"),
        cgroup=cgroup,
        oom_score_adj=adj,
        uid=int(uid) if uid else None,
        rss_anon=sizes["anon"],
        rss_file=sizes["file"],
        rss_shmem=sizes["shmem"],
        pgtables=sizes["pgtables"],
    )


@dataclass(frozen=True, slots=True)
class Parsed:
    snapshot: Snapshot
    warnings: tuple[str, ...]
    era: Era
    chosen_pid: int | None  # the process the kernel selected when a child was sacrificed for it


def _kind_and_domain(f: Facts, warnings: list[str]) -> tuple[str, str]:
    constraint = f.summary.get("constraint")
    oom_memcg = _path(f.summary.get("oom_memcg"), "oom_memcg", warnings)
    if oom_memcg or constraint == "CONSTRAINT_MEMCG":
        return "memcg", oom_memcg or _memcg_domain_fallback(f, warnings)
    if constraint in ("CONSTRAINT_CPUSET", "CONSTRAINT_MEMORY_POLICY"):  # global OOMs of some nodes only
        warnings.append(f"{constraint}: the kernel counted only the allowed nodes' pages, which the report omits")
    if f.prefix and f.prefix.startswith("Memory cgroup"):
        return "memcg", _memcg_domain_fallback(f, warnings)
    if f.task_in or f.limit_reached or "memory" in f.usage:  # 2.6.3x print Mem-Info after these too
        return "memcg", _memcg_domain_fallback(f, warnings)
    return "global", ROOT


def _memcg_domain_fallback(f: Facts, warnings: list[str]) -> str:
    for candidate in (f.task_in[1] if f.task_in else None, f.limit_reached, next(iter(f.stats), None)):
        path = _path(candidate, "cgroup", warnings)
        if path:
            return path
    warnings.append("memory cgroup OOM whose cgroup the report does not name; shown as /")
    return ROOT


def build(seg: Segment) -> Parsed:
    f = gather(seg)
    warnings: list[str] = []
    kind, domain = _kind_and_domain(f, warnings)
    page = _page_size(f, warnings)
    era = infer_era(f)

    victim_match = f.killed[0] if f.killed else None
    victim_pid = int(victim_match.group("pid")) if victim_match else (f.summary_victim[1] if f.summary_victim else None)
    victim_comm = victim_match.group("comm") if victim_match else (f.summary_victim[0] if f.summary_victim else None)
    if victim_pid is None and f.chosen is not None:  # the kill line was ratelimited away
        victim_pid, victim_comm = f.chosen[0], f.chosen[1]
        warnings.append(f"no Killed process line: the victim is the process selected ({victim_pid}); "
                        "the kernel may have killed one of its children instead")
    elif victim_pid is None and seg.reaped is not None:
        victim_pid = seg.reaped
        victim_comm = next((r.name for r in f.rows if r.pid == seg.reaped), None)
        warnings.append(f"no kill line: the victim ({victim_pid}) is named only by the oom_reaper line")
    task_memcg = _path(f.summary.get("task_memcg"), "task_memcg", warnings) or (
        _path(f.task_in[0], "task cgroup", warnings) if f.task_in else None
    )
    group_path = _path(f.group_path, "oom.group cgroup", warnings)

    # -- processes, in table order (the kernel's scan order since 5.3)
    processes: list[Process] = []
    seen: set[int] = set()
    victim_row = _row_for(f, victim_pid) if victim_pid is not None else None
    victim_tgid = victim_row.values.get("tgid", victim_row.pid) if victim_row else victim_pid
    group_pids = {int(m.group("pid")) for m in f.killed[1:]} - {victim_pid}
    # task_memcg / "Task in" name the selected task's cgroup: the parent when ≤5.0 sacrificed a child
    task_tgid = victim_tgid
    if f.chosen is not None:
        chosen_row = _row_for(f, f.chosen[0])
        task_tgid = chosen_row.values.get("tgid", chosen_row.pid) if chosen_row else f.chosen[0]
    for row in f.rows:
        tgid = row.values.get("tgid", row.pid)
        if tgid in seen:
            continue  # ≤5.2 memcg tables list every thread; one process is scored once
        seen.add(tgid)
        cgroup = domain
        if tgid == task_tgid and task_memcg:
            cgroup = task_memcg
        elif group_path and (tgid in group_pids or row.pid in group_pids):
            cgroup = group_path
        p = _process(row, page, cgroup, warnings)
        if p is not None:
            processes.append(p)
    if f.bad_rows:
        shown = "; ".join(f.bad_rows[:3]) + ("; …" if len(f.bad_rows) > 3 else "")
        warnings.append(f"{len(f.bad_rows)} task table row(s) could not be read and are missing ({shown})")
    if seg.cut:
        warnings.append(f"the report has more than {rx.MAX_REPORT_LINES:,} lines; the rest is left out")
    if f.rows_cut:
        warnings.append(f"the task table has more than {MAX_ROWS:,} rows; only the first {MAX_ROWS:,} are read")
    if victim_pid is not None and victim_row is None and victim_match is not None:
        home = task_memcg if task_tgid == victim_tgid and task_memcg else domain
        processes.append(_victim_from_kill_line(victim_match, home, warnings))
        if f.rows:
            warnings.append(f"the victim {victim_pid} is not in the task table; its sizes come from the kill line")

    # -- what is missing
    if f.columns is None:
        warnings.append("no task table: the report lists no processes (ratelimited, or vm.oom_dump_tasks=0)")
    elif not f.rows:
        warnings.append("the task table has no rows")
    if not f.killed and not f.summary:
        if f.no_killable:
            warnings.append("the kernel found no killable process")
        elif f.panic:
            warnings.append(f"the kernel panicked ({f.panic} panic_on_oom) instead of killing")
        elif f.columns is not None and seg.lines and _ROW.match(seg.lines[-1].text):
            warnings.append(
                f"the report ends inside the task table after {len(f.rows)} row(s): "
                "later tasks and the kill line are missing, so the victim is unknown"
            )
        else:
            warnings.append("the report has no kill line: the victim is unknown")
    elif not f.killed:
        warnings.append("the report has no Killed process line; the victim comes from the oom-kill summary")
    if not seg.has_header:
        warnings.append("no 'invoked oom-killer' header (ratelimited or cut): allocation details are missing")

    # -- cgroups
    cgroups: dict[str, Cgroup] = {}
    if kind == "memcg" and domain != ROOT:
        cgroups[domain] = _domain_cgroup(f, domain)
    for path, stat in f.stats.items():
        clean = _path(path, "stats cgroup", [])
        if clean and clean not in cgroups:
            cgroups[clean] = Cgroup(path=clean, stat=frozen_map(stat))
    for named in (task_memcg, group_path):
        if named and named != ROOT and named not in cgroups:
            cgroups[named] = Cgroup(path=named)
    if group_path and group_path != ROOT:
        cgroups[group_path] = replace(cgroups[group_path], oom_group=True)

    # -- host
    mode = _cgroup_mode(f, group_path, (task_memcg, domain))
    mem_total = swap_total = None
    if f.pages_ram is not None and not (f.pages_reserved or 0) < f.pages_ram <= MAX_SIZE // page:
        warnings.append(f"the report shows {f.pages_ram} pages RAM and {f.pages_reserved or 0} reserved: "
                        "the memory total is unknown")
        f.pages_ram = None
    if f.pages_ram is not None:
        mem_total = (f.pages_ram - (f.pages_reserved or 0)) * page
    if f.total_swap_kb is not None:
        swap_total = _size(f.total_swap_kb)
    sysctl = Sysctl(
        panic_on_oom={"system-wide": 1, "compulsory": 2}.get(f.panic or ""),
        oom_kill_allocating_task=1 if f.prefix and "oom_kill_allocating_task" in f.prefix else None,
    )
    release = f.release or f"{era.release} (inferred from the report's format)"
    host = Host(
        hostname=next((x.host for x in seg.lines if x.host), ""),
        kernel=release,
        page_size=page,
        mem_total=mem_total,
        mem_available=None,
        swap_total=swap_total,
        swap_free=None,
        cgroup_mode=mode,
        sysctl=sysctl,
    )
    event = OomEvent(
        kind=kind,  # type: ignore[arg-type]
        domain=domain,
        total_pages=_total_pages(f, kind, page),
        killed_pid=victim_tgid,
        killed_comm=victim_comm,
        group_killed_pids=tuple(sorted(_tgids(f, group_pids) - {victim_tgid})),
        raw="\n".join(x.raw for x in seg.lines),
    )
    if f.sysrq:
        warnings.append("triggered by sysrq-f (order=-1), not by a failed allocation")
    taken_at, assumed = wall_time(next((x.stamp for x in seg.lines if x.stamp), None))
    if assumed:
        warnings.append(assumed)
    snapshot = Snapshot(
        host=host,
        cgroups=with_ancestors(cgroups),
        processes=tuple(processes),
        taken_at=taken_at,
        source="kernel-log",
        oom_event=event,
    )
    return Parsed(snapshot, tuple(dict.fromkeys(warnings)), era, f.chosen[0] if f.chosen else None)


def with_ancestors(cgroups: dict[str, Cgroup]) -> tuple[Cgroup, ...]:
    """The named cgroups with every ancestor (values unknown), each parent before its children, as the format asks."""
    out: dict[str, Cgroup] = {ROOT: cgroups.get(ROOT, Cgroup(path=ROOT))}
    for path, c in cgroups.items():
        missing = []
        parent = parent_of(path)
        while parent is not None and parent not in out:
            missing.append(parent)
            parent = parent_of(parent)
        for p in reversed(missing):
            out[p] = cgroups.get(p, Cgroup(path=p))
        out.setdefault(path, c)
    return tuple(out.values())


def _tgids(f: Facts, pids: set[int]) -> set[int]:
    out = set()
    for pid in pids:
        row = _row_for(f, pid)
        out.add(row.values.get("tgid", row.pid) if row else pid)
    return out


def _domain_cgroup(f: Facts, domain: str) -> Cgroup:
    mem = f.usage.get("memory")
    current = _size(mem[0]) if mem else None
    limit = _limit(mem[1]) if mem else None
    swap_current = swap_max = None
    if "swap" in f.usage:
        swap_current = _size(f.usage["swap"][0])
        swap_max = _limit(f.usage["swap"][1])
    elif "memory+swap" in f.usage and mem:
        memsw_usage, memsw_limit = f.usage["memory+swap"]
        if memsw_usage >= mem[0]:  # 0 when swap accounting is off: then unknown
            swap_current = (memsw_usage - mem[0]) * KIB
        swap_max = None if memsw_limit >= UNLIMITED_KB else max(memsw_limit - mem[1], 0) * KIB
    return Cgroup(
        path=domain,
        memory_current=current,
        memory_max=limit,
        swap_current=swap_current,
        swap_max=swap_max,
        stat=frozen_map(f.stats.get(domain)),
    )


def _cgroup_mode(f: Facts, group_path: str | None, named: tuple[str | None, ...]) -> CgroupMode:
    """v2 shows `swap:` lines and group kills; v1 shows `memory+swap:`/`kmem:` (kernel-oom.md §5.10).

    Without those lines (ratelimited or cut away), a memory cgroup below the root that the
    report names (the victim's or the OOM domain) still shows the controller is on.
    """
    if group_path or "swap" in f.usage:
        return "v2"
    if "memory+swap" in f.usage or "kmem" in f.usage:
        return "v1"
    return "v1" if any(p and p != ROOT for p in named) else "none"


def _total_pages(f: Facts, kind: str, page: int) -> int | None:
    """Global: RAM − reserved + swap; memcg only where the swap part is known to be nothing."""
    if kind == "global":
        if f.pages_ram is None or f.total_swap_kb is None or _size(f.total_swap_kb) is None:
            return None
        return f.pages_ram - (f.pages_reserved or 0) + f.total_swap_kb * KIB // page
    mem = f.usage.get("memory")
    if mem is None or mem[1] >= UNLIMITED_KB:
        return None
    swap = f.usage.get("swap")
    if swap is not None and swap[1] == 0:
        return max(mem[1] * KIB // page, 1)
    return None
