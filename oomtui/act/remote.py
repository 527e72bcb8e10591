"""Kills on a remote host: confirmed here, carried out there by `oomtui kill` over the same ssh.

The remote `oomtui kill --pid PID --start-time T --yes` re-checks the
process's identity against the start time the user saw and writes the
remote host's audit log, so neither depends on this side's clock or disk.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Sequence

from oomtui.act.plan import KillPlan, KnobWrite, Target
from oomtui.act.results import KillReport, KnobResult, Outcome
from oomtui.collect.remote import Ssh
from oomtui.model import is_within
from oomtui.text import printable

Run = Callable[[list[str]], subprocess.CompletedProcess]
TIMEOUT = 60.0


def _run(argv: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True, errors="replace",
                          timeout=TIMEOUT, start_new_session=True)


class RemoteActor:
    """An Actor whose kills run on `ssh.host`; knob writes are not offered remotely.

    `audit_log` is a path on the remote host (default: the remote's own default).
    """

    def __init__(self, ssh: Ssh, audit_log: str | None = None, run: Run = _run) -> None:
        self.ssh = ssh
        self.audit_log = audit_log
        self._run = run

    def _remote_kill(self, words: list[str], signal_name: str) -> tuple[bool, str]:
        audit = [] if self.audit_log is None else [f"--audit-log={self.audit_log}"]
        argv = self.ssh.argv(["oomtui", "kill", *words, "--signal", signal_name.removeprefix("SIG"), *audit, "--yes"])
        try:
            done = self._run(argv)
        except (OSError, subprocess.TimeoutExpired) as e:
            return False, f"ssh failed: {e}"
        said = [line for line in (done.stdout + "\n" + done.stderr).splitlines() if line.strip()]
        last = said[-1].strip() if said else f"exit status {done.returncode}"
        return done.returncode == 0, f"on {self.ssh.host}: {printable(last, 200)}"

    def kill(self, plan: KillPlan) -> KillReport:
        outcomes: list[Outcome] = []

        def record(targets: Sequence[Target], ok: bool, detail: str) -> None:
            outcomes.extend(Outcome(t.pid, t.comm, ok, detail, t.start_time, "killed" if ok else "failed")
                            for t in targets)

        for cgroup in plan.cgroups:
            ok, detail = self._remote_kill([f"--cgroup={cgroup}"], plan.signal_name)
            record([t for t in plan.targets if is_within(t.cgroup, cgroup)], ok, detail)
        for t in plan.targets:
            if any(is_within(t.cgroup, c) for c in plan.cgroups):
                continue
            start = [] if t.start_time is None else [f"--start-time={t.start_time!r}"]
            ok, detail = self._remote_kill([f"--pid={t.pid}", *start], plan.signal_name)
            record([t], ok, detail)
        done = sum(1 for o in outcomes if o.ok)
        summary = f"on {self.ssh.host}: {plan.signal_name} sent to {done} of {len(outcomes)} processes"
        return KillReport(plan, tuple(outcomes), printable(summary, 200), "oomtui kill over ssh")

    def apply(self, writes: Sequence[KnobWrite]) -> list[KnobResult]:
        return [KnobResult(w, False, f"not written: oomtui --remote only kills on {self.ssh.host}") for w in writes]
