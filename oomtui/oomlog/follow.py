"""Every OOM kill as it happens: kill events parsed from /dev/kmsg, without blocking.

What kmsg shows. The kernel's OOM killer prints an `oom-kill:` summary
(the domain as `oom_memcg=` or `global_oom`, the victim's cgroup, comm and
pid; Linux 4.19+) and then `Killed process PID (COMM)`, one line per
process a `memory.oom.group` kill takes. oomd writes its own kill line to
kmsg (`oomd kill: AVG10 AVG60 AVG300 PATH USAGE ruleset:[…] detectorgroup:[…]
killer:PLUGIN v2`; a dry run's reads `killer:(dry)PLUGIN` and is no kill),
and systemd-oomd's `Killed PATH due to …` (`Marked PATH for killing due
to …` in releases with prekill hooks) reaches kmsg only where journald
forwards to it (`ForwardToKMsg=yes`). earlyoom writes to stderr (the
journal, under systemd) or, with `--syslog`, to syslog, never to kmsg
itself; journald forwards its lines where their level passes
`MaxLevelKMsg=`. Its `sending SIGTERM to process PID uid UID "NAME": …`
followed by `process [PID] exited after …` is a kill (its dry run's
`dryrun, not actually sending any signal` and a failed kill are not).
nohang prints to stdout (the journal) one line at a time: its victim
(`PID: N, Name: NAME, badness: B`, then `PID: N, name: NAME, state: …`),
`Sending SIGTERM to the victim` (or SIGKILL), and, a kill,
`The victim died in …` or `The victim became a zombie in …`; a victim
that does not respond, a failed signal or a command run instead are not
kills. The kubelet's evictions for memory (`oomlog.kubelet`) name a pod.
`oomlog.journal` reads these lines from the journal, `oomlog.syslog` from
syslog files where there is no journal. `KillFollower` needs read access to /dev/kmsg
(root, or `kernel.dmesg_restrict=0`). `Once` drops a kill seen a second
time, from the other source.
"""

from __future__ import annotations

import re
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from oomtui.errors import UserError
from oomtui.oomlog import report as rx
from oomtui.oomlog.kmsg import KmsgFollower, wall_time
from oomtui.oomlog.kubelet import KubeletParser
from oomtui.oomlog.unwrap import unwrap
from oomtui.text import printable

_SUMMARY = re.compile(r"^oom-kill:(?P<body>.*)$")
_FIELD = re.compile(r"(?:^|,)(oom_memcg|task_memcg|task|pid)=([^,]*)")
_OOMD = re.compile(r"(?:^|\boomd(?:\[\d+\])?: )oomd kill: [\d.]+ [\d.]+ [\d.]+ (?P<path>\S+) .*\bkiller:(?!\(dry\))")
_SYSTEMD_OOMD = re.compile(
    r"(?:^|\bsystemd-oomd(?:\[\d+\])?: )(?:Killed|Marked) (?P<path>/\S*) (?:for killing )?due to ")
# earlyoom: the victim line, then how it ended; the comm may hold `": `, so the name runs to the last one.
_TAG = r"(?:^|\bearlyoom(?:\[\d+\])?: )"
_EARLYOOM_SENDING = re.compile(_TAG + r'sending SIG(?:TERM|KILL) to process (?P<pid>\d+) uid \d+ "(?P<comm>.*)": ')
_EARLYOOM_EXITED = re.compile(_TAG + r"process (?:-?\d+ )?exited after ")
_EARLYOOM_NO_KILL = re.compile(
    _TAG + r"(?:dryrun, not actually sending any signal|process -?\d+ did not exit|kill failed: )")
# nohang (hakavlad/nohang src/nohang, 0.2.0 and 1d49838): each line of its multi-line messages is an entry.
_NOHANG = r"(?:^|\bnohang(?:\[\d+\])?: )\s*"
_NOHANG_VICTIM = re.compile(
    _NOHANG + r"PID: +(?P<pid>\d+), (?:[Nn]ame: (?P<a>.*), badness: -?\d+$|name: (?P<b>.*?), state: )")
_NOHANG_SENDING = re.compile(_NOHANG + r"Sending SIG(?:TERM|KILL) to the victim$")
_NOHANG_DIED = re.compile(_NOHANG + r"The victim (?:died|became a zombie) in ")
_NOHANG_NO_KILL = re.compile(
    _NOHANG + r"(?:The victim doesn't respond|Cannot send a signal|Selected process died|Executing the command: )")


@dataclass(frozen=True, slots=True)
class KillEvent:
    """One kill a log line reports: the kernel's process kill, or a daemon's cgroup kill."""

    time: float  # epoch seconds the line was printed
    killer: str  # "kernel", "oomd", "systemd-oomd", "earlyoom", "nohang" or "kubelet"
    kind: str | None  # kernel: "global" or "memcg"
    domain: str | None  # kernel: the cgroup whose limit was hit, "/" for a global OOM; None where not printed
    pid: int | None
    comm: str | None
    cgroup: str | None  # the victim's cgroup (a daemon's: the cgroup it killed)
    group_member: bool  # killed with another by memory.oom.group, not chosen itself
    line: str
    pod: str | None = None  # the kubelet: the pod it evicted, namespace/name
    pod_uid: str | None = None  # where its lines gave it
    reason: str | None = None  # the kubelet: the resource, and the signal and threshold where logged

    def to_json(self) -> dict[str, Any]:
        out = {"time": self.time, "killer": self.killer, "kind": self.kind, "domain": self.domain, "pid": self.pid,
               "comm": self.comm, "cgroup": self.cgroup, "group_member": self.group_member}
        if self.pod is not None:
            out |= {"pod": self.pod, "pod_uid": self.pod_uid, "reason": self.reason}
        return out

    def describe(self) -> str:
        """In words, for a terminal: names from the log are shown literally, escapes visible."""
        if self.pod is not None:
            why = f" ({printable(self.reason, 160)})" if self.reason else ""
            return f"{self.killer} evicted pod {printable(self.pod, 160)}{why}"
        what = f"pid {self.pid} ({printable(self.comm or '?', 32)})" if self.pid is not None else (
            f"cgroup {printable(self.cgroup or '?')}")
        where = f" in a {self.kind} OOM of {printable(self.domain)}" if self.kind and self.domain else ""
        return f"{self.killer} killed {what}{where}"


def _path(raw: str) -> str:
    return "/" + raw.strip().strip("/") if raw.strip().strip("/") else "/"


class KillParser:
    """Turns kernel log lines (dmesg style or bare messages) into kill events, in order."""

    def __init__(self) -> None:
        self.summary: dict[str, str] | None = None
        self.global_oom = False
        self.group = False
        self.chosen: int | None = None
        self.earlyoom: tuple[int, str] | None = None  # the victim earlyoom is signalling
        self.nohang: tuple[int, str, bool] | None = None  # nohang's victim, and whether it was signalled
        self.kubelet = KubeletParser()

    def feed(self, line: str, at: float) -> list[KillEvent]:
        text = line.split("] ", 1)[1] if line.startswith("[") and "] " in line else line
        if rx.HEADER.search(text):
            self.summary, self.global_oom, self.group, self.chosen = None, False, False, None
            return []
        if m := _SUMMARY.match(text):
            self.summary = dict(_FIELD.findall(m.group("body")))
            self.global_oom = ",global_oom" in m.group("body")
            self.group, self.chosen = False, None
            return []
        if rx.GROUP.match(text):
            self.group = True
            return []
        if m := rx.KILLED.match(text):
            if int(m.group("pid")) == self.chosen:  # a group kill names its victim twice
                return []
            return [self._kernel_kill(m, text, at)]
        if m := _OOMD.search(text):
            return [KillEvent(at, "oomd", None, None, None, None, _path(m.group("path")), False, text)]
        if m := _SYSTEMD_OOMD.search(text):
            return [KillEvent(at, "systemd-oomd", None, None, None, None, _path(m.group("path")), False, text)]
        return self._earlyoom(text, at) or self._nohang(text, at) or self._kubelet(text, at)

    def _kubelet(self, text: str, at: float) -> list[KillEvent]:
        if (e := self.kubelet.feed(text)) is None:
            return []
        return [KillEvent(at, "kubelet", None, None, None, None, None, False, text, e.pod, e.uid, e.reason)]

    def _earlyoom(self, text: str, at: float) -> list[KillEvent]:
        """earlyoom names its victim before signalling it: a kill is that line once the process has exited."""
        if m := _EARLYOOM_SENDING.search(text):
            self.earlyoom = (int(m.group("pid")), m.group("comm"))
        elif _EARLYOOM_NO_KILL.search(text):
            self.earlyoom = None
        elif self.earlyoom is not None and _EARLYOOM_EXITED.search(text):
            (pid, comm), self.earlyoom = self.earlyoom, None
            return [KillEvent(at, "earlyoom", None, None, pid, comm, None, False, text)]
        return []

    def _nohang(self, text: str, at: float) -> list[KillEvent]:
        """nohang names its victim, signals it, then says whether it died: a kill once it did."""
        if m := _NOHANG_VICTIM.search(text):
            self.nohang = (int(m.group("pid")), m.group("a") if m.group("a") is not None else m.group("b"), False)
        elif self.nohang is not None and _NOHANG_SENDING.search(text):
            self.nohang = (*self.nohang[:2], True)
        elif _NOHANG_NO_KILL.search(text):
            self.nohang = None
        elif self.nohang is not None and _NOHANG_DIED.search(text):
            (pid, comm, sent), self.nohang = self.nohang, None
            return [KillEvent(at, "nohang", None, None, pid, comm, None, False, text)] if sent else []
        return []

    def _kernel_kill(self, m: re.Match[str], text: str, at: float) -> KillEvent:
        pid = int(m.group("pid"))
        summary = self.summary or {}
        memcg = (m.group("prefix") or "").startswith("Memory cgroup")
        kind = "memcg" if memcg or "oom_memcg" in summary else "global"
        domain = _path(summary["oom_memcg"]) if "oom_memcg" in summary else ("/" if kind == "global" else None)
        ours = summary.get("pid") == str(pid)
        member = self.chosen is not None
        if self.chosen is None:
            self.chosen = pid
        return KillEvent(
            time=at, killer="kernel", kind=kind, domain=domain, pid=pid, comm=m.group("comm"),
            cgroup=_path(summary["task_memcg"]) if ours and "task_memcg" in summary else None,
            group_member=member and self.group, line=text,
        )


def kills_in(text: str) -> list[KillEvent]:
    """Every kill a log shows (any form `import-oom` reads); dmesg-stamped lines keep their own time."""
    parser = KillParser()
    out: list[KillEvent] = []
    now = time.time()
    for line in unwrap(text):
        out += parser.feed(line.text, wall_time(line.raw.lstrip()) or now)
    return out


class Once:
    """Each kill once: journald may forward a userspace killer's line to kmsg as well, so the same
    kill (killer, pid, cgroup, pod) arriving again within WINDOW seconds is dropped."""

    WINDOW = 10.0
    KEEP = 1000  # kills remembered; far more than arrive within WINDOW

    def __init__(self) -> None:
        self.seen: deque[tuple[tuple[str, int | None, str | None, str | None], float]] = deque(maxlen=self.KEEP)

    def first(self, event: KillEvent) -> bool:
        """Whether this is the first sight of `event` (then it is remembered)."""
        key = (event.killer, event.pid, event.cgroup, event.pod)
        if any(k == key and abs(t - event.time) < self.WINDOW for k, t in self.seen):
            return False
        self.seen.append((key, event.time))
        return True

    def new(self, events: list[KillEvent]) -> list[KillEvent]:
        return [e for e in events if self.first(e)]


class UserspaceCap:
    """At most LIMIT userspace killers' kills in any PERIOD seconds go on; the rest are only counted.

    Anyone may log under a killer's name, and each kill costs a verdict (every
    policy evaluated) and, when recording, a file: a flood of forged kill lines
    must not take the CPU or the disk. Real killers act far more slowly (earlyoom
    and nohang wait for each victim to die, systemd-oomd waits after each kill).
    The kernel's kills are not capped: only root writes them.
    """

    LIMIT = 20
    PERIOD = 10.0

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.passed: deque[float] = deque()
        self.dropped = 0

    def allow(self, events: list[KillEvent]) -> list[KillEvent]:
        now = self.clock()
        while self.passed and now - self.passed[0] >= self.PERIOD:
            self.passed.popleft()
        out: list[KillEvent] = []
        for e in events:
            if e.killer == "kernel":
                out.append(e)
            elif len(self.passed) < self.LIMIT:
                self.passed.append(now)
                out.append(e)
            else:
                self.dropped += 1
        return out

    def words(self) -> str:
        """What was dropped, for the status line and the notes; "" when nothing was."""
        if not self.dropped:
            return ""
        return (f"{self.dropped} userspace kill line(s) ignored: more than {self.LIMIT} "
                f"in {self.PERIOD:g} s (forged?)")


class KillFollower:
    """New kills on /dev/kmsg; `poll` never blocks (select on `fileno` to wait)."""

    def __init__(self, path: str = "/dev/kmsg") -> None:
        try:
            self.kmsg = KmsgFollower(path)
        except OSError as e:
            hint = " (run as root to see OOM kills as they happen)" if isinstance(e, PermissionError) else ""
            raise UserError(f"cannot follow {path}: {e.strerror or e}{hint}") from None
        self.parser = KillParser()
        self.path = path

    def fileno(self) -> int:
        return self.kmsg.fileno()

    def poll(self) -> list[KillEvent]:
        """The kills printed since the last call (none lost unless the ring buffer overran us)."""
        out: list[KillEvent] = []
        try:
            lines = self.kmsg.read_lines()
        except OSError as e:
            raise UserError(f"stopped reading {self.path}: {e.strerror or e}") from None
        for line in lines:
            out += self.parser.feed(line, wall_time(line) or time.time())
        return out

    def close(self) -> None:
        self.kmsg.close()

    def __enter__(self) -> KillFollower:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
