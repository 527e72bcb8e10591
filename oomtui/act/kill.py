"""Signalling processes and cgroups so that a recycled pid can never be hit.

A process is signalled through a pidfd opened *before* its identity is
re-checked: if the pid was recycled before the open, the check sees the
newcomer's start time and refuses; if after, the pidfd still names the old
process and the signal fails with "no such process".

A cgroup is killed with the kernel's `cgroup.kill` (v2, 5.14+) when nothing
in it must survive; otherwise its processes are signalled one by one, pass
after pass, until none is left. On v2 the cgroup is frozen meanwhile (unless
oomtui itself is inside). On v1 the freezer is a separate hierarchy whose
cgroups need not match the memory cgroup's, and freezing would mean moving
processes between freezer cgroups, changing the host's layout; the passes
do without it: a process with SIGKILL pending cannot complete a fork, and a
child forked just before is in the cgroup for the next pass.
"""

from __future__ import annotations

import contextlib
import errno
import os
import select
import signal as signals
import time
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from pathlib import Path

from oomtui.act.plan import (
    OOM_SCORE_ADJ_MIN,
    REFUSED_INIT,
    REFUSED_KTHREAD,
    REFUSED_SELF,
    SPARED_ADJ,
    KillPlan,
    Target,
    signal_name,
)
from oomtui.act.procfs import ProcFacts, facts, facts_at, proc_dir, read_at, same_start
from oomtui.act.results import Outcome
from oomtui.model import is_within

EXIT_WAIT = 2.0  # seconds signalled processes get to exit before the report is made
GROUP_DEADLINE = 10.0  # seconds a cgroup kill keeps going before it reports survivors
FREEZE_WAIT = 1.0
CHUNK = 128  # pidfds held at once while waiting for exits

GONE = "no such process (already gone)"
REUSED = "exited before the kill; its pid now belongs to another process"
ZOMBIE = "already exited (a zombie its parent has not reaped yet)"
DENIED = "no permission (needs root or the same user)"

# A check run on a live process (through its /proc dir fd) after its pidfd is open:
# None to go ahead, or (status, detail) to leave it alone.
Check = Callable[[int, ProcFacts], tuple[str, str] | None]


def when(epoch: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(epoch)) + f".{int(epoch * 100) % 100:02d}"


def errno_words(e: OSError) -> tuple[str, str]:
    if e.errno == errno.ESRCH or isinstance(e, FileNotFoundError):
        return "gone", GONE
    if e.errno in (errno.EPERM, errno.EACCES):
        return "denied", DENIED
    return "failed", f"failed: {e.strerror or e}"


@dataclass
class _Attempt:
    """One live process looked at, and maybe signalled; `pidfd` stays open until it exits."""

    pid: int
    status: str  # "ready" (checked, not yet signalled), or an Outcome status
    detail: str
    facts: ProcFacts | None = None
    pidfd: int | None = None
    sent: str | None = None
    exited: bool | None = None

    def close(self) -> None:
        if self.pidfd is not None:
            os.close(self.pidfd)
            self.pidfd = None

    def outcome(self, planned: Target | None, new: bool = False) -> Outcome:
        comm = self.facts.comm if self.facts else (planned.comm if planned else "?")
        start = self.facts.start_time if self.facts else (planned.start_time if planned else None)
        note = " (joined the cgroup after the snapshot)" if new else ""
        return Outcome(self.pid, comm, self.status == "killed", self.detail + note, start, self.status, not new,
                       self.sent, self.exited)

    def observed(self, exited: bool, waited: float) -> None:
        """Record what became of it after the signal: a survivor of SIGTERM was not killed."""
        self.exited = exited
        if exited:
            if self.sent != "SIGKILL":
                self.detail = f"sent {self.sent}; it exited"
        elif self.sent == "SIGKILL":
            self.detail = f"sent SIGKILL, but it had not exited after {waited:g} s (stuck in the kernel?)"
        else:
            self.status = "survived"
            self.detail = (f"sent {self.sent}; still running after {waited:g} s "
                           "(it is slow to stop, or handles or ignores the signal)")


def _inspect(pid: int, protected: Collection[int], check: Check) -> _Attempt:
    if pid == 1:
        return _Attempt(pid, "refused", REFUSED_INIT)
    if pid in protected:
        return _Attempt(pid, "refused", REFUSED_SELF)
    try:
        pidfd = os.pidfd_open(pid)
    except OSError as e:
        if e.errno in (errno.EINVAL, errno.ENOENT):  # a thread, not its process's leader: older kernels say EINVAL
            return _Attempt(pid, "failed", f"failed: {pid} is not a process id (a thread id?)")
        return _Attempt(pid, *errno_words(e))
    attempt = _Attempt(pid, "ready", "", pidfd=pidfd)
    try:
        with proc_dir(pid) as d:
            attempt.facts = facts_at(d, pid)
            if attempt.facts.kernel_thread:
                verdict: tuple[str, str] | None = ("refused", REFUSED_KTHREAD)
            elif attempt.facts.exited:
                verdict = ("gone", ZOMBIE)
            else:
                verdict = check(d, attempt.facts)
    except OSError as e:
        verdict = errno_words(e)
    except (ValueError, IndexError):
        verdict = ("failed", "failed: /proc/PID/stat could not be read")
    if verdict is not None:
        attempt.status, attempt.detail = verdict
        attempt.close()
    return attempt


def _send(attempt: _Attempt, sig: int) -> None:
    assert attempt.pidfd is not None
    try:
        signals.pidfd_send_signal(attempt.pidfd, sig)
    except OSError as e:
        attempt.status, attempt.detail = errno_words(e)
        attempt.close()
        return
    attempt.status = "killed"
    attempt.sent = signal_name(sig)
    attempt.detail = "killed" if sig == signals.SIGKILL else f"sent {attempt.sent}"


def _wait_exit(attempts: Iterable[_Attempt], timeout: float = EXIT_WAIT) -> None:
    """Give signalled processes a moment to exit and record whether they did; close every pidfd."""
    pending = {a.pidfd: a for a in attempts if a.pidfd is not None}
    poller = select.poll()
    for fd in pending:
        poller.register(fd, select.POLLIN)
    deadline = time.monotonic() + timeout
    while pending and time.monotonic() < deadline:
        for fd, _ in poller.poll(max(0.0, deadline - time.monotonic()) * 1000):
            poller.unregister(fd)
            a = pending.pop(fd)
            a.observed(True, timeout)
            a.close()
    for a in pending.values():
        a.observed(False, timeout)
        a.close()


# -- single processes ----------------------------------------------------------


def _identity_check(target: Target) -> Check:
    def check(_dir_fd: int, f: ProcFacts) -> tuple[str, str] | None:
        if target.start_time is None:
            return "changed", "identity unknown: the snapshot has no start time for it, refusing"
        if not same_start(target.start_time, f.start_time):
            return "changed", (f"identity changed: pid {f.pid} now belongs to a process started at "
                               f"{when(f.start_time)} ({f.comm}), not the one started at "
                               f"{when(target.start_time)}; refusing")
        return None
    return check


def kill_targets(targets: Iterable[Target], sig: int, protected: Collection[int]) -> list[Outcome]:
    """Signal each target that is still the process the user saw; in chunks, so fds stay bounded."""
    todo, out = list(targets), []
    for i in range(0, len(todo), CHUNK):
        pairs = [(t, _inspect(t.pid, protected, _identity_check(t))) for t in todo[i:i + CHUNK]]
        for _, a in pairs:
            if a.status == "ready":
                _send(a, sig)
        _wait_exit(a for _, a in pairs)
        out += [a.outcome(t) for t, a in pairs]
    return out


# -- cgroups -------------------------------------------------------------------


@dataclass(frozen=True)
class Hierarchy:
    """Where the memory cgroups are, and whether they are cgroup v2 (kill and freeze files)."""

    root: Path
    v2: bool

    def dir(self, path: str) -> Path:
        return self.root / path.lstrip("/")


def cgroup_of(dir_fd: int, v2: bool) -> str | None:
    """The process's cgroup in the hierarchy we act on: the v2 line, or the v1 memory line."""
    for line in read_at(dir_fd, "cgroup").splitlines():
        hid, ctrls, path = line.split(":", 2)
        if (hid == "0") if v2 else ("memory" in ctrls.split(",")):
            return path
    return None


def members(dirs: Iterable[Path]) -> list[int]:
    """Every process in the subtrees, parents' cgroups first; vanishing cgroups are skipped."""
    out: list[int] = []
    for top in dirs:
        for here, subdirs, _ in os.walk(top):
            subdirs.sort()
            with contextlib.suppress(OSError, ValueError):
                out.extend(int(x) for x in Path(here, "cgroup.procs").read_text().split())
    return list(dict.fromkeys(out))


class Freezer:
    """Freezes v2 cgroups for the length of a kill and thaws exactly those it froze."""

    def __init__(self, dirs: Iterable[Path]) -> None:
        self.dirs = list(dirs)
        self.frozen: list[Path] = []

    def __enter__(self) -> Freezer:
        for d in self.dirs:
            with contextlib.suppress(OSError):
                if (d / "cgroup.freeze").read_text().strip() == "0":
                    (d / "cgroup.freeze").write_text("1")
                    self.frozen.append(d)
        deadline = time.monotonic() + FREEZE_WAIT
        while time.monotonic() < deadline and not all(_is_frozen(d) for d in self.frozen):
            time.sleep(0.005)
        return self

    def __exit__(self, *exc: object) -> None:
        for d in self.frozen:
            with contextlib.suppress(OSError):
                (d / "cgroup.freeze").write_text("0")


def _is_frozen(d: Path) -> bool:
    try:
        return "frozen 1" in (d / "cgroup.events").read_text().splitlines()
    except OSError:
        return True


class _GroupKill:
    def __init__(self, plan: KillPlan, hierarchy: Hierarchy, protected: Collection[int]) -> None:
        self.plan = plan
        self.hierarchy = hierarchy
        self.protected = protected
        self.dirs = [hierarchy.dir(p) for p in plan.cgroups]
        self.kept = {t.pid: (t.start_time, status, why)
                     for status, items in (("spared", plan.spared), ("refused", plan.refused)) for t, why in items}
        self.done: list[_Attempt] = []  # finished, by pid recycled during the kill
        self.seen: dict[int, _Attempt] = {}
        self.how = "signalled one by one"
        self.left: list[int] = []  # what is still in the cgroups after the kill, besides spared and refused

    def check(self, dir_fd: int, f: ProcFacts) -> tuple[str, str] | None:
        where = cgroup_of(dir_fd, self.hierarchy.v2)
        if where is None or not any(is_within(where, c) for c in self.plan.cgroups):
            return "changed", f"left the cgroup before the kill (now in {where}); not signalled"
        start, status, why = self.kept.get(f.pid, (None, "", ""))
        if start is not None and same_start(start, f.start_time):
            return status, why
        if int(read_at(dir_fd, "oom_score_adj").split()[0]) <= OOM_SCORE_ADJ_MIN:
            return "spared", SPARED_ADJ
        return None

    def look(self, pid: int) -> _Attempt:
        old = self.seen.get(pid)
        if old is not None and not (old.status == "killed" and _replaced(old)):
            return old
        if old is not None:  # that one died and a newcomer in the cgroup got its pid
            self.done.append(old)
        attempt = _inspect(pid, self.protected, self.check)
        self.seen[pid] = attempt
        return attempt

    def run(self) -> list[_Attempt]:
        sig = self.plan.signal
        first = members(self.dirs)
        v2 = self.hierarchy.v2
        freeze = v2 and not any(pid in self.protected for pid in first)
        if freeze:
            self.how = "frozen (cgroup.freeze), then signalled one by one, then thawed"
        with Freezer(self.dirs if freeze else ()):
            if sig == signals.SIGKILL and v2 and all((d / "cgroup.kill").exists() for d in self.dirs):
                self._kernel_kill()
            self._passes(sig)
        self._observe(sig)  # thawed: a frozen process cannot act on SIGTERM
        return [*self.done, *self.seen.values()]

    @property
    def method(self) -> str:
        if not self.left:
            return f"{self.how}; the cgroup was empty afterwards"
        n = len(self.left)
        return f"{self.how}; {n} {'process' if n == 1 else 'processes'} still in the cgroup afterwards"

    def _remaining(self) -> list[int]:
        return [pid for pid in members(self.dirs)
                if (a := self.seen.get(pid)) is None or a.status not in ("spared", "refused")]

    def _observe(self, sig: int) -> None:
        """Wait for signalled processes to leave (SIGKILL's passes already did), then for them to exit, and
        record who did.

        Leaving the cgroup is not yet exiting: the kernel takes a dying task out of its cgroup a little
        before it becomes a zombie (and a process may move itself out on SIGTERM), so a process no longer
        listed is given the same time to finish dying before it is called stuck or still running.
        """
        waited = GROUP_DEADLINE if sig == signals.SIGKILL else EXIT_WAIT
        deadline = time.monotonic() + EXIT_WAIT
        while (left := self._remaining()) and sig != signals.SIGKILL and time.monotonic() < deadline:
            time.sleep(0.01)
        self.left = left
        for a in self.done:  # their pid went to a newcomer: they exited
            if a.status == "killed":
                a.observed(True, waited)
        dying = [a for a in self.seen.values() if a.status == "killed"]
        while (running := [a for a in dying if _still(a)]) and time.monotonic() < deadline:
            time.sleep(0.01)
            dying = running
        stuck = {a.pid for a in running}
        for a in self.seen.values():
            if a.status == "killed":
                a.observed(a.pid not in stuck, waited)

    def _kernel_kill(self) -> None:
        """cgroup.kill, when every member may die: it spares nobody, not even -1000 or oomtui itself."""
        survey = [_inspect(pid, self.protected, self.check) for pid in members(self.dirs)]
        for a in survey:
            a.close()  # only the verdicts are needed here, and a big cgroup must not exhaust fds
        if not survey or not all(a.status in ("ready", "gone") for a in survey):
            return
        try:
            for d in self.dirs:
                (d / "cgroup.kill").write_text("1")
        except OSError:
            return  # the passes signal them one by one instead
        self.how = "the kernel's cgroup.kill"
        for a in survey:
            if a.status == "ready":
                a.status, a.detail, a.sent = "killed", "killed", "SIGKILL"
                self.seen[a.pid] = a

    def _passes(self, sig: int) -> None:
        """Signal every member not yet signalled, until none is left but those spared or refused."""
        deadline = time.monotonic() + GROUP_DEADLINE
        while True:
            busy = False
            for pid in members(self.dirs):
                a = self.look(pid)
                if a.status == "ready":
                    _send(a, sig)
                    a.close()
                    busy = True
                elif a.status == "killed" and sig == signals.SIGKILL:
                    busy = True  # still listed: dying, or a newcomer with its pid next pass
            if not busy or time.monotonic() > deadline:
                return
            time.sleep(0.002)


def _replaced(a: _Attempt) -> bool:
    """Whether another process now has the pid (the one looked at died, and a newcomer got its pid)."""
    try:
        now = facts(a.pid)
    except (OSError, ValueError, IndexError):
        return False
    return a.facts is None or not same_start(a.facts.start_time, now.start_time)


def _still(a: _Attempt) -> bool:
    """Whether the process looked at is still running under its pid (not a zombie, nor a newcomer with its pid)."""
    try:
        now = facts(a.pid)
    except (OSError, ValueError, IndexError):
        return False
    return a.facts is not None and not now.exited and same_start(a.facts.start_time, now.start_time)


def kill_cgroups(
    plan: KillPlan, hierarchy: Hierarchy, protected: Collection[int],
) -> tuple[list[Outcome], str, bool]:
    """Kill the plan's cgroups whole; report planned processes, newcomers that died too, how, and if they emptied."""
    group = _GroupKill(plan, hierarchy, protected)
    attempts = group.run()
    planned = {t.pid: t for t in plan.targets if any(is_within(t.cgroup, c) for c in plan.cgroups)}
    out: list[Outcome] = []
    reported: set[int] = {t.pid for t, _ in (*plan.spared, *plan.refused)}
    for a in attempts:
        if a.status in ("spared", "refused") and a.pid in reported:
            continue
        t = planned.get(a.pid)
        # Without facts (refused or failed before they were read) it is the planned process as far as we can tell.
        new = t is None or (a.facts is not None
                            and (t.start_time is None or not same_start(t.start_time, a.facts.start_time)))
        if new and a.status in ("gone", "changed"):
            continue  # a process that was never ours to report: it left or vanished on its own
        if a.status == "changed" and not _still(a):  # an exiting process shows in the root cgroup first
            a.status, a.detail = "gone", "exited on its own during the kill"
        out.append(a.outcome(t, new))
        if not new:
            reported.add(a.pid)
    for t in planned.values():
        if t.pid not in reported:
            out.append(_absent(t))
    return out, group.method, not group.left


def _absent(t: Target) -> Outcome:
    """A planned process the kill never met in the cgroup: gone, or moved out."""
    try:
        f = facts(t.pid)
    except (OSError, ValueError, IndexError):
        f = None
    if f is None or f.exited:
        return Outcome(t.pid, t.comm, False, GONE, t.start_time, "gone")
    if t.start_time is None or not same_start(t.start_time, f.start_time):
        return Outcome(t.pid, t.comm, False, REUSED, t.start_time, "gone")
    return Outcome(t.pid, t.comm, False, "left the cgroup before the kill; not signalled", t.start_time, "changed")


def plan_outcomes(plan: KillPlan) -> list[Outcome]:
    """The spared and refused processes, reported as the plan gave them."""
    return [Outcome(t.pid, t.comm, False, why, t.start_time, status)
            for status, items in (("spared", plan.spared), ("refused", plan.refused)) for t, why in items]
