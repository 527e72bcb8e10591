"""Every OOM kill as it happens: kill events parsed from /dev/kmsg, without blocking.

What kmsg shows. The kernel's OOM killer prints an `oom-kill:` summary
(the domain as `oom_memcg=` or `global_oom`, the victim's cgroup, comm and
pid; Linux 4.19+) and then `Killed process PID (COMM)`, one line per
process a `memory.oom.group` kill takes. oomd writes its own kill line to
kmsg (`oomd kill: 10s 60s 300s PATH ...`), and systemd-oomd's
`Killed PATH due to ...` reaches kmsg only where journald forwards to it
(`ForwardToKMsg=yes`). earlyoom and nohang write to stderr/syslog only, so
their kills are not seen here (earlyoom `--kernel-oom` makes the kernel
pick, which is seen as a kernel kill); neither are the kubelet's
evictions. `KillFollower` needs read access to /dev/kmsg (root, or
`kernel.dmesg_restrict=0`).
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import Any

from oomtui.errors import UserError
from oomtui.oomlog import report as rx
from oomtui.oomlog.kmsg import KmsgFollower, wall_time
from oomtui.oomlog.unwrap import unwrap
from oomtui.text import printable

_SUMMARY = re.compile(r"^oom-kill:(?P<body>.*)$")
_FIELD = re.compile(r"(?:^|,)(oom_memcg|task_memcg|task|pid)=([^,]*)")
_OOMD = re.compile(r"(?:^|\boomd(?:\[\d+\])?: )oomd kill: \S+ \S+ \S+ (?P<path>\S+)")
_SYSTEMD_OOMD = re.compile(r"^(?:systemd-oomd(?:\[\d+\])?: )?Killed (?P<path>/\S*) due to ")


@dataclass(frozen=True, slots=True)
class KillEvent:
    """One kill a log line reports: the kernel's process kill, or a daemon's cgroup kill."""

    time: float  # epoch seconds the line was printed
    killer: str  # "kernel", "oomd" or "systemd-oomd"
    kind: str | None  # kernel: "global" or "memcg"
    domain: str | None  # kernel: the cgroup whose limit was hit, "/" for a global OOM; None where not printed
    pid: int | None
    comm: str | None
    cgroup: str | None  # the victim's cgroup (a daemon's: the cgroup it killed)
    group_member: bool  # killed with another by memory.oom.group, not chosen itself
    line: str

    def to_json(self) -> dict[str, Any]:
        return {"time": self.time, "killer": self.killer, "kind": self.kind, "domain": self.domain, "pid": self.pid,
                "comm": self.comm, "cgroup": self.cgroup, "group_member": self.group_member}

    def describe(self) -> str:
        """In words, for a terminal: names from the log are shown literally, escapes visible."""
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
        if m := _SYSTEMD_OOMD.match(text):
            return [KillEvent(at, "systemd-oomd", None, None, None, None, _path(m.group("path")), False, text)]
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
