"""The one-line summary a person reads after a kill."""

from __future__ import annotations

import signal

from oomtui.act import KillPlan, Outcome
from oomtui.act.results import summarize

KILL = KillPlan("kill cgroup /a (3 processes)", signal.SIGKILL)


def _o(status: str, planned: bool = True) -> Outcome:
    return Outcome(1, "x", status == "killed", status, None, status, planned)


def test_all_killed():
    assert summarize(KILL, [_o("killed")] * 3) == "3 of 3 processes killed"


def test_mixed_results_are_counted_by_kind():
    outcomes = [_o("killed"), _o("killed"), _o("gone"), _o("changed"), _o("spared")]
    assert summarize(KILL, outcomes) == "2 killed, 1 already gone, 1 identity changed, 1 spared"


def test_spared_and_refused_do_not_spoil_a_complete_kill():
    outcomes = [_o("killed"), _o("spared"), _o("refused")]
    assert summarize(KILL, outcomes) == "1 of 1 process killed, 1 spared, 1 refused"


def test_newcomers_killed_with_the_cgroup_are_counted_apart():
    outcomes = [_o("killed"), _o("killed"), _o("killed", planned=False)]
    assert summarize(KILL, outcomes) == "2 of 2 processes killed, and 1 more that joined the cgroup during the kill"


def test_sigterm_says_sent():
    plan = KillPlan("send SIGTERM to process 1 (x)", signal.SIGTERM)
    assert summarize(plan, [_o("killed")]) == "1 of 1 process sent SIGTERM"
    assert summarize(plan, []) == "nothing done: no processes to signal"
