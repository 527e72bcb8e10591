"""The killers in force and the real kills for the TUI: a policy's standing for the Why
pane, a kill's verdict for the banner and the kill list, and `KillWatch`, which follows them.

Textual-free: plain `rich.text.Text`, tested as data.
"""

from __future__ import annotations

import time
from collections import deque

from rich.text import Text

from oomtui.errors import UserError
from oomtui.inforce import Standing
from oomtui.model import Process, Snapshot
from oomtui.oomlog.follow import KillEvent, KillFollower, Once, UserspaceCap
from oomtui.oomlog.journal import JournalKillFollower, JournalSource
from oomtui.oomlog.syslog import SyslogKillFollower, SyslogSource
from oomtui.text import printable
from oomtui.tui.palette import Palette
from oomtui.verdict import COMM_LEN, Scoreboard, Verdict

GHOST_SECONDS = 300.0  # a killed process stays in the tree this long after the kill, by the samples' clock
GHOST_MAX = 200  # and at most this many, the newest: a kill storm must not grow the tree without end


def standing_text(standing: Standing | None, pal: Palette) -> Text:
    """Where the chosen policy stands here: in force or hypothetical, what it acts at, how far, whose settings."""
    t = Text()
    if standing is None:
        return t
    t.append("\nOn this host\n", style=pal.heading)
    if not standing.applicable:
        force = "cannot run here (the reason above)"
    else:
        force = {True: "in force: it runs here", False: "hypothetical: it does not run here",
                 None: "unknown: the snapshot did not look for the killers in force"}[standing.in_force]

    def row(name: str, value: str, style: str = "") -> None:
        t.append(f"  {name}: ", style=pal.dim)
        t.append(value + "\n", style=style)

    row("standing", force, style="" if standing.in_force and standing.applicable else pal.dim)
    if standing.acts_at is not None:
        row("acts at", printable(standing.acts_at, limit=300))
        row("distance", "acts now" if standing.acts_now else (
            "unknown" if standing.distance is None else f"{standing.distance_text()} still to be used"),
            style=pal.critical if standing.acts_now else "")
    row("settings", printable(standing.settings_source or "its defaults (no settings detected)", limit=300))
    return t


def verdict_words(v: Verdict) -> str:
    """One line for the banner and the kill list: who killed whom, and whether oomtui said so."""
    said = {True: "as predicted", False: "NOT as predicted", None: "prediction unknown"}[v.matched]
    tail = f"; predicted {printable(v.predicted, limit=120)}" if v.matched is False and v.predicted else ""
    note = f" ({printable(v.note, limit=120)})" if v.note else ""
    return f"{v.event.describe()}: {said}{tail}{note}"


class KillWatch:
    """The live TUI's view of real kills: the kmsg and journal (or syslog) followers, the samples
    a kill is judged against, every verdict this session and its scoreboard.

    The syslog files are followed where `syslog` names one, and else (this host's,
    `SyslogSource()`) only where the journal cannot be followed.

    `poll` never blocks (the followers read /dev/kmsg and journalctl's pipe non-blocking);
    a kill both show is counted once. Judging a kill evaluates every policy, so the screen
    runs `verdict_for` in a thread worker.
    """

    KEEP = 3  # samples kept to find the one taken just before a kill
    LIST_MAX = 1000  # verdicts kept for the list; the scoreboard counts them all

    def __init__(self, path: str | None, journal: JournalSource | None = None,
                 syslog: SyslogSource | None = None) -> None:
        self.follower: KillFollower | None = None
        self.problem: str | None = None  # why kills cannot be followed, in one line
        self.journal: JournalKillFollower | None = None
        self.journal_problem: str | None = None  # why the journal is not followed, in one line
        self.journal_source = journal
        self.syslog: SyslogKillFollower | None = None
        self.syslog_problem: str | None = None  # why syslog files are not followed, where they were wanted
        self.once = Once()
        self.cap = UserspaceCap()
        self.samples: deque[Snapshot] = deque(maxlen=self.KEEP)
        self.verdicts: deque[Verdict] = deque(maxlen=self.LIST_MAX)
        self.scoreboard = Scoreboard()
        # Killed processes as last sampled, by (pid, start time), oldest first, with the kill's time.
        self.ghosts: dict[tuple[int, float | None], tuple[Process, float]] = {}
        if journal is not None:
            try:
                self.journal = JournalKillFollower(journal)
            except UserError as e:
                self.journal_problem = str(e)
        if syslog is not None and (syslog.path is not None or self.journal is None):
            try:
                self.syslog = SyslogKillFollower(syslog)
            except UserError as e:
                self.syslog_problem = str(e)
        if path is None:
            return
        try:
            self.follower = KillFollower(path)
        except UserError as e:
            self.problem = str(e)

    @property
    def following(self) -> bool:
        """Whether any source of kills is still followed."""
        return self.follower is not None or self.journal is not None or self.syslog is not None

    def add_sample(self, sample: Snapshot) -> None:
        self.samples.append(sample)
        if sample.taken_at is not None:
            self.ghosts = {k: g for k, g in self.ghosts.items() if g[1] > sample.taken_at - GHOST_SECONDS}

    def before(self, event: KillEvent) -> Snapshot | None:
        """The newest sample taken before the kernel printed the kill (the oldest kept, if none was)."""
        earlier = [s for s in self.samples if s.taken_at is not None and s.taken_at <= event.time]
        return earlier[-1] if earlier else (self.samples[0] if self.samples else None)

    def poll(self) -> list[KillEvent]:
        """The kills since the last poll from kmsg, then the journal or syslog; each kill once."""
        events = [*self._drain("follower", "problem"), *self._drain("journal", "journal_problem"),
                  *self._drain("syslog", "syslog_problem")]
        return self.cap.allow(self.once.new(events))

    def _drain(self, source: str, problem: str) -> list[KillEvent]:
        """One follower's new kills; one that stopped is closed, dropped, and its reason kept in `problem`."""
        follower: KillFollower | JournalKillFollower | SyslogKillFollower | None = getattr(self, source)
        if follower is None:
            return []
        try:
            return follower.poll()
        except UserError as e:
            setattr(self, problem, str(e))
            follower.close()
            setattr(self, source, None)
            return []

    def add(self, verdict: Verdict) -> None:
        self.verdicts.append(verdict)
        self.scoreboard.add(verdict)
        for p in self._victims(verdict.event):
            self.ghosts[(p.pid, p.start_time)] = (p, verdict.event.time)
        while len(self.ghosts) > GHOST_MAX:
            del self.ghosts[next(iter(self.ghosts))]

    def _victims(self, event: KillEvent) -> list[Process]:
        """What a kill took, as the newest sample showed it alive: the process (the same comm, started
        before the kill; a zombie only if no sample had it with its memory), or every process under
        the cgroup a daemon killed."""
        seen: list[Process] = []
        for sample in reversed(self.samples):
            if event.pid is not None:
                p = sample.process(event.pid)
                if p is not None and (event.comm is None or p.comm[:COMM_LEN] == event.comm[:COMM_LEN]) and (
                        p.start_time is None or p.start_time <= event.time):
                    seen.append(p)
            elif event.cgroup is not None and sample.cgroup(event.cgroup) is not None:
                return list(sample.processes_under(event.cgroup))
        return next(([p] for p in seen if p.footprint > 0), seen[:1])

    @property
    def killed(self) -> frozenset[int]:
        """Every pid killed this session: the tree marks them K while they linger."""
        return frozenset(v.event.pid for v in self.verdicts if v.event.pid is not None) | {k[0] for k in self.ghosts}

    def ghost_processes(self) -> tuple[Process, ...]:
        """The killed processes the tree keeps (dimmed, struck through, marked K) after they are gone."""
        return tuple(p for p, _ in self.ghosts.values())

    def status(self) -> str:
        words = []
        if self.problem is not None:
            words.append("OOM kills not followed: " + printable(self.problem, limit=120))
        elif self.following:
            n = len(self.scoreboard.verdicts)
            words.append(f"kills: {n}, {self.scoreboard.count(True)} as predicted" if n else "kills: none yet")
        if self.syslog is not None:
            words.append(f"userspace kills from {self.syslog.describe()}")
        elif self.journal_problem is not None and self.syslog_problem is not None:
            words.append("userspace kills: not read (l)")
        elif self.journal_problem is not None:
            words.append(printable(self.journal_problem, limit=120))
        if self.syslog_problem is not None and self.journal_problem is None:
            words.append(printable(self.syslog_problem, limit=120))
        if self.cap.dropped:
            words.append(self.cap.words())
        return " · ".join(words)

    def heading(self) -> str:
        """The head of the kill list: why a source is not followed, what is, and the scoreboard."""
        followed = [self.follower.path] if self.follower is not None else []
        if self.journal is not None and self.journal_source is not None:
            followed.append(self.journal_source.describe())
        if self.syslog is not None:
            followed.append(self.syslog.describe())
        problems = (self.problem, self.journal_problem, self.syslog_problem, self.cap.words())
        why = "".join(printable(p, 300) + "\n" for p in problems if p)
        what = f"Following {printable(' and '.join(followed), 300)}: " if followed else ""
        return why + what + self.scoreboard.summary()

    def list_text(self, pal: Palette) -> Text:
        t = Text()
        t.append(self.heading() + "\n\n", style=pal.heading)
        for v in reversed(self.verdicts):
            stamp = time.strftime("%H:%M:%S", time.localtime(v.event.time))
            style = {True: "", False: pal.critical, None: pal.dim}[v.matched]
            t.append(f"{stamp}  ", style=pal.dim)
            t.append(verdict_words(v) + "\n", style=style)
        return t

    def close(self) -> None:
        for follower in (self.follower, self.journal, self.syslog):
            if follower is not None:
                follower.close()
        self.follower = self.journal = self.syslog = None
