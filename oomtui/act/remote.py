"""Kills on a remote host: confirmed here, carried out there by `oomtui kill` over the same ssh.

The remote `oomtui kill --pid PID --start-time T --yes --json` re-checks the
process's identity against the start time the user saw and writes the
remote host's audit log, so neither depends on this side's clock or disk;
its JSON report gives each process's outcome, in the remote's words.
"""

from __future__ import annotations

import json
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

    def _remote_kill(self, words: list[str], signal_name: str, targets: Sequence[Target]) -> list[Outcome]:
        """What the remote `oomtui kill --json` says it did; for its refusals and ssh's failures, its last line."""
        audit = [] if self.audit_log is None else [f"--audit-log={self.audit_log}"]
        argv = self.ssh.argv(["oomtui", "kill", *words, "--signal", signal_name.removeprefix("SIG"), *audit,
                              "--yes", "--json"])
        try:
            done = self._run(argv)
        except (OSError, subprocess.TimeoutExpired) as e:
            said = f"ssh failed: {e}"
        else:
            reported = self._outcomes(done.stdout)
            if reported is not None:
                return reported
            lines = [line.strip() for line in done.stderr.splitlines() if line.strip()]
            said = lines[-1] if lines else f"exit status {done.returncode}"
        detail = f"on {self.ssh.host}: {printable(said, 200)}"
        return [Outcome(t.pid, t.comm, False, detail, t.start_time, "failed") for t in targets]

    def _outcomes(self, stdout: str) -> list[Outcome] | None:
        """The outcomes of `kill --json` (untrusted text: checked, names made printable), or None."""
        try:
            reported = json.loads(stdout)["outcomes"]
            return [Outcome(int(o["pid"]), printable(str(o["comm"]), 64), o["ok"] is True,
                            f"on {self.ssh.host}: {printable(str(o['detail']), 200)}",
                            float(o["start_time"]) if o.get("start_time") is not None else None,
                            printable(str(o.get("status", "")), 20), o.get("planned") is not False,
                            printable(str(o["sent"]), 20) if o.get("sent") else None,
                            o.get("exited") if isinstance(o.get("exited"), bool) else None)
                    for o in reported]
        except (ValueError, TypeError, KeyError, AttributeError):
            return None

    def kill(self, plan: KillPlan) -> KillReport:
        outcomes: list[Outcome] = []
        for cgroup in plan.cgroups:
            inside = [t for t in plan.targets if is_within(t.cgroup, cgroup)]
            outcomes += self._remote_kill([f"--cgroup={cgroup}"], plan.signal_name, inside)
        for t in plan.targets:
            if any(is_within(t.cgroup, c) for c in plan.cgroups):
                continue
            start = [] if t.start_time is None else [f"--start-time={t.start_time!r}"]
            outcomes += self._remote_kill([f"--pid={t.pid}", *start], plan.signal_name, [t])
        done = sum(1 for o in outcomes if o.ok)
        summary = f"on {self.ssh.host}: {plan.signal_name} sent to {done} of {len(outcomes)} processes"
        return KillReport(plan, tuple(outcomes), printable(summary, 200), "oomtui kill over ssh")

    def apply(self, writes: Sequence[KnobWrite]) -> list[KnobResult]:
        return [KnobResult(w, False, f"not written: oomtui --remote only kills on {self.ssh.host}") for w in writes]
