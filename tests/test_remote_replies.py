"""What `oomtui --remote` makes of the remote `oomtui kill --json`: its words, checked and made printable.

The remote side is another host's oomtui (or whatever answers there), so its
reply is untrusted text; these tests hand RemoteActor the replies directly,
through its `run` parameter, and read what the user would be shown.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import pytest

from oomtui.act import KnobResult, KnobWrite
from oomtui.act import remote as remote_module
from oomtui.act.plan import KillPlan, Target
from oomtui.act.remote import RemoteActor, _run
from oomtui.act.results import Outcome
from oomtui.collect.remote import Ssh

SSH = Ssh("db1")
JAVA = Target(10, 200.5, "java", "/app", 1 << 20, 0)
NGINX = Target(12, 202.0, "nginx", "/app/web", 1 << 20, 0)
LONE = Target(20, None, "other", "/other", 1 << 20, 0)


class Remote:
    """The remote end: records each command line ssh was given and answers with one reply each."""

    def __init__(self, *replies: subprocess.CompletedProcess | Exception) -> None:
        self.replies = list(replies)
        self.argvs: list[list[str]] = []

    def __call__(self, argv: list[str]) -> subprocess.CompletedProcess:
        self.argvs.append(argv)
        reply = self.replies.pop(0)
        if isinstance(reply, Exception):
            raise reply
        return reply


def _reply(stdout: str = "", stderr: str = "", code: int = 0) -> subprocess.CompletedProcess:
    return subprocess.CompletedProcess([], code, stdout, stderr)


def _json(*outcomes: dict) -> subprocess.CompletedProcess:
    return _reply(json.dumps({"outcomes": list(outcomes)}))


def test_a_process_kill_carries_the_start_time_and_the_audit_log_to_the_remote():
    remote = Remote(_json({"pid": 10, "comm": "java", "ok": True, "detail": "killed", "start_time": 200.5,
                           "status": "killed", "planned": True, "sent": "SIGKILL", "exited": True}))
    report = RemoteActor(SSH, "/r/audit.jsonl", run=remote).kill(KillPlan("kill java", signal.SIGKILL, (JAVA,)))
    [argv] = remote.argvs
    assert argv[:2] == ["ssh", "-T"] and argv[-2:] == ["db1", (
        "oomtui kill --pid=10 --start-time=200.5 --signal KILL --audit-log=/r/audit.jsonl --yes --json")]
    assert report.outcomes == (Outcome(10, "java", True, "on db1: killed", 200.5, "killed", True, "SIGKILL", True),)
    assert report.summary == "on db1: SIGKILL sent to 1 of 1 processes"
    assert report.method == "oomtui kill over ssh"
    assert report.plan == KillPlan("kill java", signal.SIGKILL, (JAVA,))


def test_a_cgroup_kill_is_one_remote_kill_and_lone_processes_one_each():
    remote = Remote(
        _json({"pid": 10, "comm": "java", "ok": True, "detail": "killed", "start_time": 200.5, "status": "killed"},
              {"pid": 12, "comm": "nginx", "ok": False, "detail": "already gone", "status": "gone"},
              {"pid": 77, "comm": "late", "ok": True, "detail": "killed", "planned": False, "status": "killed"}),
        _json({"pid": 20, "comm": "other", "ok": True, "detail": "sent SIGTERM", "sent": "SIGTERM",
               "exited": "yes"}),
    )
    plan = KillPlan("kill /app", signal.SIGTERM, (JAVA, NGINX, LONE), ("/app",))
    report = RemoteActor(SSH, run=remote).kill(plan)
    assert [argv[-1] for argv in remote.argvs] == [
        "oomtui kill --cgroup=/app --signal TERM --yes --json",
        "oomtui kill --pid=20 --signal TERM --yes --json",  # no start time known: none is sent
    ]
    assert [(o.pid, o.ok, o.status, o.planned, o.start_time, o.sent, o.exited) for o in report.outcomes] == [
        (10, True, "killed", True, 200.5, None, None),
        (12, False, "gone", True, None, None, None),
        (77, True, "killed", False, None, None, None),
        (20, True, "", True, None, "SIGTERM", None),  # "exited" is not a boolean: unknown
    ]
    assert report.summary == "on db1: SIGTERM sent to 3 of 4 processes"


def test_a_plan_of_several_cgroups_reports_the_outcomes_of_each():
    """One remote kill per cgroup: what each says it killed is all reported, none replaced by the next."""
    batch = Target(30, 300.0, "batch", "/batch", 1 << 20, 0)
    remote = Remote(
        _json({"pid": 10, "comm": "java", "ok": True, "detail": "killed", "status": "killed"}),
        _json({"pid": 30, "comm": "batch", "ok": False, "detail": "already gone", "status": "gone"}),
    )
    plan = KillPlan("kill /app and /batch", signal.SIGKILL, (JAVA, batch), ("/app", "/batch"))
    report = RemoteActor(SSH, run=remote).kill(plan)
    assert [argv[-1] for argv in remote.argvs] == [
        "oomtui kill --cgroup=/app --signal KILL --yes --json",
        "oomtui kill --cgroup=/batch --signal KILL --yes --json",
    ]
    assert [(o.pid, o.comm, o.ok, o.detail) for o in report.outcomes] == [
        (10, "java", True, "on db1: killed"), (30, "batch", False, "on db1: already gone")]
    assert report.summary == "on db1: SIGKILL sent to 1 of 2 processes"


def test_hostile_words_from_the_remote_are_shown_escaped_and_cut():
    remote = Remote(_json({"pid": "10", "comm": "evil\x1b[2J" + "x" * 100, "ok": "true", "detail": "\u202e" * 300,
                           "status": "killed\x07" + "s" * 30, "sent": "SIG\x1bKILL"}))
    [o] = RemoteActor(SSH, run=remote).kill(KillPlan("kill java", signal.SIGKILL, (JAVA,))).outcomes
    assert o.pid == 10 and o.ok is False  # only a JSON true counts as done
    assert o.comm == "evil\\x1b[2J" + "x" * 52 + "…" and len(o.comm) == 64
    assert o.detail == "on db1: " + "\\u202e" * 33 + "…"
    assert o.status == "killed\\x07" + "s" * 9 + "…"
    assert o.sent == "SIG\\x1bKILL"


def test_long_words_from_the_remote_are_cut_each_at_its_own_length():
    """A detail or a last line of up to 200 characters, a signal name of up to 20, the summary one of 200."""
    remote = Remote(_json({"pid": 10, "comm": "java", "ok": True, "detail": "d" * 300, "sent": "SIG" + "K" * 30}),
                    _reply("not json", "e" * 300 + "\n", 1))
    report = RemoteActor(Ssh("db1." + "h" * 200), run=remote).kill(
        KillPlan("kill two", signal.SIGKILL, (JAVA, LONE)))
    java, lone = report.outcomes
    host = "on db1." + "h" * 200 + ": "
    assert (java.detail, java.sent) == (host + "d" * 199 + "…", "SIG" + "K" * 16 + "…")
    assert lone.detail == host + "e" * 199 + "…"
    assert report.summary == host[:199] + "…"


def test_when_the_remote_gives_no_report_its_last_words_are_shown_for_each_process():
    remote = Remote(_reply("not json", "Warning: something\n  oomtui: no such cgroup /app \n\n", 2),
                    _reply("{}", "", 255))
    plan = KillPlan("kill /app", signal.SIGKILL, (JAVA, NGINX, LONE), ("/app",))
    report = RemoteActor(SSH, run=remote).kill(plan)
    assert [(o.pid, o.comm, o.ok, o.detail, o.start_time, o.status) for o in report.outcomes] == [
        (10, "java", False, "on db1: oomtui: no such cgroup /app", 200.5, "failed"),
        (12, "nginx", False, "on db1: oomtui: no such cgroup /app", 202.0, "failed"),
        (20, "other", False, "on db1: exit status 255", None, "failed"),
    ]
    assert report.summary == "on db1: SIGKILL sent to 0 of 3 processes"


def test_when_ssh_cannot_run_or_times_out_that_is_the_reason():
    remote = Remote(FileNotFoundError(2, "No such file or directory", "ssh"),
                    subprocess.TimeoutExpired(["ssh"], 60.0))
    plan = KillPlan("kill two", signal.SIGKILL, (JAVA, LONE))
    details = [o.detail for o in RemoteActor(SSH, run=remote).kill(plan).outcomes]
    assert details == ["on db1: ssh failed: [Errno 2] No such file or directory: 'ssh'",
                       "on db1: ssh failed: Command '['ssh']' timed out after 60.0 seconds"]


def test_knob_writes_are_not_offered_remotely():
    w = KnobWrite("oom_score_adj", "set 500", 500, pid=10, start_time=200.5)
    assert RemoteActor(SSH, run=Remote()).apply([w]) == [
        KnobResult(w, False, "not written: oomtui --remote only kills on db1")]


def test_ssh_runs_in_its_own_session_reading_nothing_and_its_bytes_are_decoded():
    """ssh must not read our terminal or get our terminal's signals; undecodable output is replaced, not fatal."""
    typed, keys = os.pipe()  # our standard input holds keys the user typed: ssh must not take them
    os.write(keys, b"y\n")
    os.close(keys)
    saved = os.dup(0)
    os.dup2(typed, 0)
    try:
        done = _run([sys.executable, "-c", (
            "import os, sys; sys.stdout.buffer.write(b'\\xff'); sys.stderr.write('err');"
            " print(os.getsid(0) == os.getpid(), repr(sys.stdin.read()))")])
    finally:
        os.dup2(saved, 0)
        os.close(saved)
        os.close(typed)
    assert (done.stdout, done.stderr, done.returncode) == ("\ufffdTrue ''\n", "err", 0)


def test_a_remote_that_never_answers_is_given_up_after_the_timeout(monkeypatch):
    """A hung ssh must not hang the kill dialog: after TIMEOUT it is stopped and the kill reported failed."""
    monkeypatch.setattr(remote_module, "TIMEOUT", 0.3)
    with pytest.raises(subprocess.TimeoutExpired):
        _run([sys.executable, "-c", "import time; time.sleep(5)"])
