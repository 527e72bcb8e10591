"""Words for the selection, the verdicts and the ranking, as Rich `Text`.

Every value from a snapshot (names, cmdlines, paths, xattrs, stat keys) is
passed through `printable`, then appended as plain text: never markup.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping

from rich.text import Text

from oomtui import whatif, workloads
from oomtui.model import ROOT, Cgroup, Snapshot
from oomtui.policies import registry
from oomtui.policies.base import Candidate, Decision
from oomtui.text import human_size, printable
from oomtui.tui import fmt
from oomtui.tui.evaluation import Evaluation
from oomtui.tui.palette import Palette

TOP = 10


def when(epoch: float | None) -> str:
    if epoch is None:
        return "unknown"
    return dt.datetime.fromtimestamp(epoch, dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def sized(n: int | None) -> str:
    return "unknown" if n is None else f"{human_size(n)} ({n} B)"


class _Lines:
    def __init__(self, pal: Palette) -> None:
        self.text = Text()
        self.pal = pal

    def head(self, title: str) -> None:
        if self.text:
            self.text.append("\n")
        self.text.append(title + "\n", style=self.pal.heading)

    def row(self, name: str, value: str, style: str = "") -> None:
        self.text.append(f"  {name}: ", style=self.pal.dim)
        self.text.append(value + "\n", style=style)

    def mapping(self, values: Mapping[str, object], empty: str = "none") -> None:
        if not values:
            self.row("", empty)
            return
        for k in sorted(values):
            self.row(printable(str(k), limit=80), printable(str(values[k]), limit=200))


def process_details(ev: Evaluation, pid: int, pal: Palette) -> Text:
    p = ev.view.process(pid)
    out = _Lines(pal)
    if p is None:
        out.head(f"process {pid}")
        out.row("state", "not in this sample (it exited)")
        return out.text
    applied = ev.applied.process(pid)
    out.head(f"process {p.pid} {printable(p.comm, limit=100)}")
    out.row("cmdline", printable(" ".join(p.cmdline), limit=1000) if p.cmdline else "(none: a kernel thread or zombie)")
    out.row("cgroup", printable(p.cgroup, limit=500))
    if owner := workloads.victim_text(ev.view, p.cgroup):
        out.row("workload", fmt.cut(owner, 500))
    out.row("ppid", str(p.ppid) if p.ppid is not None else "unknown")
    out.row("uid", str(p.uid) if p.uid is not None else "unknown")
    out.row("started", f"{when(p.start_time)} ({p.start_time})" if p.start_time is not None else "unknown")
    out.row("kernel thread", fmt.yes_no(p.kernel_thread))
    out.head("memory")
    out.row("rss", sized(p.rss))
    out.row("rss anon", sized(p.rss_anon))
    out.row("rss file", sized(p.rss_file))
    out.row("rss shmem", sized(p.rss_shmem))
    out.row("swap", sized(p.swap))
    out.row("page tables", sized(p.pgtables))
    out.row("kernel footprint", sized(p.footprint))
    out.head("oom")
    adj = p.oom_score_adj if applied is None else applied.oom_score_adj
    if pid in ev.view.whatif.processes:
        out.row("oom_score_adj", f"{adj} (what-if; really {p.oom_score_adj})", style=pal.edit)
    else:
        out.row("oom_score_adj", str(adj))
    out.row("oom_score (as read)", str(p.oom_score) if p.oom_score is not None else "not read")
    b = ev.badness(pid)
    domain = printable(ev.domain, limit=200)
    out.row("kernel badness", f"{b} pages in domain {domain}" if b is not None else f"not eligible in domain {domain}")
    event = ev.view.oom_event
    if event is not None and (pid == event.killed_pid or pid in event.group_killed_pids):
        out.row("kernel log", "the kernel killed this process", style=pal.actual)
    return out.text


def cgroup_details(ev: Evaluation, path: str, pal: Palette) -> Text:
    c = ev.view.cgroup(path)
    out = _Lines(pal)
    if c is None:
        out.head(f"cgroup {printable(path, limit=300)}")
        out.row("state", "not in this sample (it was removed)")
        return out.text
    out.head(f"cgroup {printable(c.path, limit=300)}")
    _workload(out, ev.view, c)
    _cgroup_memory(out, c)
    _cgroup_oom(out, ev, c)
    out.head("processes")
    procs = ev.view.processes_under(path)
    out.row("in subtree", f"{len(procs)}, kernel footprint {sized(ev.view.subtree_footprint(path))}")
    out.row("directly here", str(len(ev.view.processes_in(path))))
    out.head("events")
    out.mapping(c.events, "none read")
    out.head("pressure")
    out.row("memory", fmt.pressure_text(c.pressure))
    if c.trend is not None:
        t = c.trend
        out.head("trend")
        out.row("interval", "unknown" if t.interval is None else f"{t.interval:.1f} s")
        out.row("memory.current before", sized(t.memory_current_prev))
        out.row("memory.current average", sized(t.memory_current_avg))
        out.row("pgscan before", "unknown" if t.pgscan_prev is None else str(t.pgscan_prev))
        out.row("full avg10 above since", when(t.pressure_full_avg10_above_since))
    out.head("memory.stat")
    out.mapping(c.stat, "none read")
    return out.text


def _workload(out: _Lines, snap: Snapshot, c: Cgroup) -> None:
    """Every field of the cgroup's workload under where it came from (the path, the kubelet's logs, the
    runtime), so a name can be trusted as far as its source; else the workload the cgroup belongs to, if any."""
    if c.workload is None:
        if owner := workloads.victim_text(snap, c.path):  # a cgroup inside a container, say
            out.head("workload")
            out.row("belongs to", fmt.cut(owner, 500))
        return
    out.head("workload")
    groups: dict[str, list[tuple[str, str]]] = {}
    for field, value, origin in workloads.detail_rows(c.workload):
        groups.setdefault(origin, []).append((field, value))
    for origin, rows in groups.items():
        out.text.append(f"  from {origin}:\n" if origin else "  found nowhere:\n", style=out.pal.dim)
        for field, value in rows:
            out.row("  " + field, fmt.cut(value, 300))


def _cgroup_memory(out: _Lines, c: Cgroup) -> None:
    out.head("memory")
    frac = fmt.fraction(c.memory_current, c.memory_max)
    out.row("current", sized(c.memory_current))
    out.row("max", "no limit" if c.memory_max is None else sized(c.memory_max) + (
        "" if frac is None else f", {frac * 100:.1f} % used"))
    out.row("high", sized(c.memory_high))
    out.row("low", sized(c.memory_low))
    out.row("min", sized(c.memory_min))
    out.row("swap current", sized(c.swap_current))
    out.row("swap max", "no limit" if c.swap_max is None else sized(c.swap_max))
    out.row("swappiness", "unknown" if c.swappiness is None else str(c.swappiness))


def _cgroup_oom(out: _Lines, ev: Evaluation, c: Cgroup) -> None:
    pal = out.pal
    out.head("oom")
    edit = ev.view.whatif.cgroups.get(c.path)
    real = "unknown (no memory.oom.group here)" if c.oom_group is None else fmt.yes_no(c.oom_group)
    if edit is not None and edit.interdependent is not None:
        out.row("interdependent", f"{fmt.yes_no(edit.interdependent)} (what-if; really {real})", style=pal.edit)
    else:
        out.row("interdependent (memory.oom.group)", real)
    if edit is not None and edit.score is not None:
        out.row("score", f"{edit.score} (what-if; the kernel has no cgroup score)", style=pal.edit)
    else:
        out.row("score", f"{whatif.cgroup_score(ev.view, c.path)} (none set)")
    out.row("domain", printable(ev.view.domain_of(c.path), limit=300) + (" (this cgroup has a limit)"
                                                                         if c.memory_max is not None else ""))
    out.row("owner uid", "unknown" if c.owner_uid is None else str(c.owner_uid))
    out.row("populated", fmt.yes_no(c.populated))
    out.head("daemon preferences (xattrs)")
    out.mapping(c.xattrs, "none set")
    if edit is not None and edit.xattrs:
        for name, value in sorted(edit.xattrs.items()):
            shown = "removed" if value is None else printable(value, limit=200)
            out.row(printable(name, limit=80), f"{shown} (what-if)", style=pal.edit)


# -- verdicts --------------------------------------------------------------------


def who(snapshot: Snapshot, pid: int | None = None, cgroup: str | None = None) -> str:
    """`1234 postgres` or `cgroup /a/b`, printable."""
    if pid is not None:
        p = snapshot.process(pid)
        return f"{pid} {printable(p.comm, limit=60)}" if p is not None else f"{pid} (gone)"
    if cgroup is not None:
        return f"cgroup {printable(cgroup, limit=200)}"
    return "nothing"


def victim(d: Decision, snapshot: Snapshot, short: bool = False) -> str:
    """Whom the decision picks: `1234 postgres`, or a cgroup by its workload (`pod shop/db-0 [G]`);
    `short` names a cgroup of no workload by its last part (`…/app.scope`) for narrow cells."""
    if d.victim_pid is not None:
        return who(snapshot, pid=d.victim_pid)
    if d.victim_cgroup is not None:
        if short and d.victim_cgroup.count("/") > 1 and snapshot.workload_of(d.victim_cgroup) is None:
            return f"cgroup …/{printable(d.victim_cgroup.rsplit('/', 1)[1], limit=100)}"
        return printable(workloads.where(snapshot, d.victim_cgroup), limit=300)
    return "nothing"


def victim_workload(d: Decision, snapshot: Snapshot) -> str:
    """What the victim's workload is (`pod shop/db-0 (Guaranteed), container postgres`); "" if none."""
    path = d.victim_pid_cgroup if d.victim_pid is not None else d.victim_cgroup
    return "" if path is None else printable(workloads.victim_text(snapshot, path), limit=500)


def score(value: float) -> str:
    """Scores are often byte or page counts: whole numbers with thousands separators."""
    return f"{int(value):,}" if float(value).is_integer() else f"{value:,.4g}"


def what_dies(d: Decision) -> str:
    n = len(d.killed_pids)
    if d.victim_cgroup is not None:
        return f"whole cgroup, {n} process{'es' if n != 1 else ''}"
    if n == 0:
        return "nothing"
    return f"{n} process{'es' if n != 1 else ''}"


# Killers that watch the host's free memory, never a cgroup's limit: a memcg OOM is not theirs to see.
HOST_WIDE = frozenset({"earlyoom", "nohang"})


def matches_kernel(d: Decision, snapshot: Snapshot) -> str:
    """For a recorded OOM, this pick beside the kernel's real kill.

    "same" (it kills what the kernel killed), "it +N more" (that and N more,
    as a whole-cgroup kill does), "not here" (a host-wide killer on a cgroup
    OOM it would never see), "differs"; empty when there is no recorded
    kill, or the decision is for another domain than the OOM's.
    """
    event = snapshot.oom_event
    if event is None or event.killed_pid is None or d.domain != event.domain:
        return ""
    killed = {event.killed_pid, *event.group_killed_pids}
    dies = set(d.killed_pids) | ({d.victim_pid} if d.victim_pid is not None else set())
    if event.killed_pid in dies:
        more = len(dies - killed)
        return "same" if not more else f"it +{more} more"
    if d.policy in HOST_WIDE and event.domain != ROOT:
        return "not here"
    return "differs"


def victim_with_command(d: Decision, snapshot: Snapshot, width: int) -> str:
    """The victim in `width` cells: `1234 postgres shop/db-0/postgres [G]` where it has a workload, else
    `1234 python3 app.py --port 80`; pid and name whole, the workload or command cut in the middle."""
    if d.victim_pid is None:
        return fmt.cut(victim(d, snapshot, short=True), width)
    p = snapshot.process(d.victim_pid)
    head = who(snapshot, pid=d.victim_pid)
    if p is None or len(head) + 2 > width:
        return printable(head, limit=width)  # the pid and the start of the name: a comm is 15 characters
    w = snapshot.workload_of(p.cgroup)
    if w is not None:
        badge = workloads.qos_badge(w)
        return f"{head} {fmt.cut(w.name + (f' [{badge}]' if badge else ''), width - len(head) - 1)}"
    if not p.cmdline:
        return head
    return f"{head} {fmt.command(p.cmdline, width - len(head) - 1)}"


def _candidate_name(c: Candidate, snapshot: Snapshot) -> str:
    """A process with its workload's name after it; a cgroup by its workload, else its path."""
    if c.pid is None:
        return printable(workloads.where(snapshot, c.cgroup), limit=300) if c.cgroup is not None else "nothing"
    p = snapshot.process(c.pid)
    w = snapshot.workload_of(p.cgroup) if p is not None else None
    return who(snapshot, pid=c.pid) + (f" · {printable(w.name, limit=200)}" if w is not None else "")


def _parts(parts: Mapping[str, object]) -> str:
    return ", ".join(f"{printable(str(k), limit=40)}={printable(str(v), limit=60)}" for k, v in parts.items())


def ranking(d: Decision, snapshot: Snapshot, title: str, pal: Palette) -> Text:
    """The chosen verdict explained: the reason, doubts, and the top candidates with their parts."""
    out = _Lines(pal)
    out.head(f"{title} ({d.policy}) in domain {printable(d.domain, limit=200)}")
    out.row("acts now", registry.acts_now(d))
    out.row("victim", victim(d, snapshot), style=pal.victim if not d.kills_nothing else "")
    if owner := victim_workload(d, snapshot):
        out.row("workload", owner, style=pal.victim if not d.kills_nothing else "")
    out.row("what dies", what_dies(d))
    out.row("freed", sized(d.freed_bytes))
    out.row("reason", printable(d.reason, limit=1000))
    if d.uncertain:
        out.row("uncertain", printable(d.uncertain, limit=1000), style=pal.warning)
    event = snapshot.oom_event
    if event is not None and event.killed_pid is not None:
        out.row("the kernel killed", who(snapshot, pid=event.killed_pid) + f" ({matches_kernel(d, snapshot)})",
                style=pal.actual)
    out.head(f"ranking (top {min(TOP, len(d.ranking))} of {len(d.ranking)})")
    if not d.ranking:
        out.row("", "no candidates")
    for i, c in enumerate(d.ranking[:TOP], 1):
        out.text.append(f"{i:>3}. ", style=pal.dim)
        out.text.append(_candidate_name(c, snapshot), style=pal.victim if i == 1 and not d.kills_nothing else "")
        out.text.append(f"  score {score(c.score)}\n")
        if c.why:
            out.text.append(f"      {printable(c.why, limit=300)}\n", style=pal.dim)
        if c.parts:
            out.text.append(f"      {_parts(c.parts)}\n", style=pal.dim)
    return out.text


def explanation(d: Decision, snapshot: Snapshot, title: str) -> str:
    """Plain text for the clipboard: what the verdict says and why."""
    return ranking(d, snapshot, title, Palette()).plain


def lines(items: Iterable[str]) -> Text:
    t = Text()
    for item in items:
        t.append(printable(item, limit=300) + "\n")
    return t
