"""The one-line summary a person reads after a kill, and each outcome and write as the audit log keeps them."""

from __future__ import annotations

import signal

from oomtui.act import KillPlan, KnobWrite, Outcome
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


def test_a_newcomer_killed_alone_is_not_joined_to_nothing():
    assert summarize(KILL, [_o("killed", planned=False)]) == "1 more that joined the cgroup during the kill"


def test_sigterm_says_sent():
    plan = KillPlan("send SIGTERM to process 1 (x)", signal.SIGTERM)
    assert summarize(plan, [_o("killed")]) == "1 of 1 process sent SIGTERM"
    assert summarize(plan, []) == "nothing done: no processes to signal"


def test_an_outcome_as_audited_and_printed_by_kill_json():
    o = Outcome(12, "nginx", False, "sent SIGTERM; still running", 202.0, "survived", True, "SIGTERM", False)
    assert o.to_json() == {"pid": 12, "comm": "nginx", "start_time": 202.0, "ok": False, "status": "survived",
                           "planned": True, "sent": "SIGTERM", "exited": False, "detail": "sent SIGTERM; still running"}


def test_a_knob_write_as_audited():
    w = KnobWrite("xattr", "set xattr user.oomd_avoid='1' on cgroup /app", "1", cgroup="/app", name="user.oomd_avoid")
    assert w.to_json() == {"kind": "xattr", "pid": None, "start_time": None, "cgroup": "/app",
                           "name": "user.oomd_avoid", "value": "1",
                           "description": "set xattr user.oomd_avoid='1' on cgroup /app"}
