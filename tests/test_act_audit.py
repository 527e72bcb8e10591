"""Where the audit log goes, that each action is one whole JSON line, and that nothing unaudited is done."""

from __future__ import annotations

import contextlib
import json
import os
import re
import resource
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from oomtui.act import (
    AuditLog,
    HostActor,
    KillPlan,
    KillReport,
    KnobResult,
    KnobWrite,
    Outcome,
    Target,
    default_audit_path,
    plan_process_kill,
)
from oomtui.act.kill import GONE
from oomtui.collect import collect_snapshot
from oomtui.collect.layout import CgroupLayout, detect_layout
from tests.support.hog import spawn_hog


def test_root_logs_to_var_log():
    assert default_audit_path(euid=0, env={"XDG_STATE_HOME": "/x"}) == Path("/var/log/oomtui/audit.jsonl")


def test_users_log_to_their_state_directory():
    assert default_audit_path(euid=1000, env={"XDG_STATE_HOME": "/s", "HOME": "/h"}) == Path(
        "/s/oomtui/audit.jsonl")
    assert default_audit_path(euid=1000, env={"HOME": "/h"}) == Path("/h/.local/state/oomtui/audit.jsonl")
    assert default_audit_path(euid=1000, env={"XDG_STATE_HOME": "", "HOME": "/h"}) == Path(
        "/h/.local/state/oomtui/audit.jsonl")


def test_without_arguments_it_asks_the_process_and_its_environment(monkeypatch, tmp_path):
    assert os.geteuid() == 0  # the tests run as root here
    assert default_audit_path() == Path("/var/log/oomtui/audit.jsonl")
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    assert default_audit_path(euid=1000) == tmp_path / "oomtui" / "audit.jsonl"


def test_without_a_path_the_audit_log_is_the_default_one(tmp_path):
    """What oomtui writes to when --audit-log is not given."""
    assert AuditLog().path == Path("/var/log/oomtui/audit.jsonl")  # the tests run as root here
    assert AuditLog(tmp_path / "mine.jsonl").path == tmp_path / "mine.jsonl"


def test_without_home_the_users_home_directory_is_used():
    home = os.path.expanduser("~")
    assert default_audit_path(euid=1000, env={}) == Path(home, ".local", "state", "oomtui", "audit.jsonl")


def test_lines_from_concurrent_writers_stay_whole(tmp_path):
    path = tmp_path / "deep" / "audit.jsonl"
    big = "x" * 100_000  # far above PIPE_BUF: O_APPEND with one write keeps it whole anyway

    def write(n: int) -> None:
        with AuditLog(path).opened() as log:
            for i in range(20):
                assert log.record("kill", {"writer": n, "i": i, "pad": big}, {"comm": "evil\x1b[2J\u202e"}) is None

    threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    entries = [json.loads(line) for line in path.read_text().splitlines()]
    seen = sorted((e["asked"]["writer"], e["asked"]["i"]) for e in entries)
    assert seen == [(n, i) for n in range(4) for i in range(20)]
    assert all(e["result"]["comm"] == "evil\x1b[2J\u202e" for e in entries)
    assert path.read_bytes().isascii()  # escapes and bidi controls are JSON-escaped: `cat` on the log is safe
    assert path.stat().st_mode & 0o777 == 0o600


@contextlib.contextmanager
def file_size_limit(n: int) -> Iterator[None]:
    """Files this process writes stop at n bytes, as on a full disk (EFBIG instead of a SIGXFSZ death).

    Only around the action: pytest's own report, written to a file, must not meet the limit.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    old = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (n, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, old)


@pytest.mark.parametrize(("room", "problem"), [
    (0, " not written: File too large"),
    (10, r": only 10 of \d+ bytes written"),
])
def test_an_audit_line_that_cannot_be_written_whole_means_nothing_is_killed(
        memcg, tmp_path, hogs, room, problem):
    audit = tmp_path / "state" / "audit.jsonl"
    victim = spawn_hog("victim", 0, cgroup_dir=memcg.dir)
    hogs.append(victim)
    plan = plan_process_kill(collect_snapshot(), victim.pid)
    audit.parent.mkdir()
    audit.write_text("x" * 100)
    with file_size_limit(100 + room):
        report = HostActor(audit, detect_layout()).kill(plan)
    expected = f"audit log {re.escape(str(audit))}{problem}; every action must be audited, so nothing was done"
    assert re.fullmatch(expected, report.summary)
    assert [(o.pid, o.ok, o.status, o.detail) for o in report.outcomes] == [
        (victim.pid, False, "failed", report.summary)]
    time.sleep(0.2)
    assert victim.alive()


def test_a_knob_write_whose_audit_line_cannot_be_written_is_not_done(memcg, tmp_path, hogs):
    hog = spawn_hog("knobbed", 0, cgroup_dir=memcg.dir)
    hogs.append(hog)
    p = collect_snapshot().process(hog.pid)
    assert p is not None
    write = KnobWrite("oom_score_adj", "set 500", 500, pid=hog.pid, start_time=p.start_time)
    audit = tmp_path / "audit.jsonl"
    audit.write_text("")
    with file_size_limit(0):
        [result] = HostActor(audit, detect_layout()).apply([write])
    assert (result.ok, result.detail) == (False, (
        f"audit log {audit} not written: File too large; every action must be audited, so it was not done"))
    assert Path(f"/proc/{hog.pid}/oom_score_adj").read_text().strip() == "0"


NO_MEMCG = CgroupLayout("none", None, None, None)  # nothing can be signalled or written through it


def _intent_length(tmp_path: Path, act) -> int:
    """How long the intent line of this action is: the same action, audited to a scratch file first."""
    scratch = tmp_path / "scratch.jsonl"
    act(HostActor(scratch, NO_MEMCG))
    return len(scratch.read_text().splitlines(keepends=True)[0])


@pytest.mark.parametrize("action", ["kill", "knob"])
def test_a_result_line_cut_short_is_told_with_the_result(tmp_path, action):
    """The action was done (here: failed harmlessly), so the report says so, and that its audit is incomplete."""
    plan = KillPlan("kill cgroup /app (1 process)", signal.SIGKILL,
                    (Target(5_000_000, 200.0, "java", "/app", 1 << 20, 0),), ("/app",))
    write = KnobWrite("sysctl", "an unknown kind of write", 1)
    act = (lambda actor: actor.kill(plan).summary) if action == "kill" else (
        lambda actor: actor.apply([write])[0].detail)
    room = _intent_length(tmp_path, act) + 5  # the intent line fits whatever its float's digits; the result does not
    audit = tmp_path / "audit.jsonl"
    audit.write_text("")
    with file_size_limit(room):
        said = act(HostActor(audit, NO_MEMCG))
    done = "1 failed" if action == "kill" else "unknown kind of write 'sysctl'"
    assert re.fullmatch(f"{re.escape(done)}; audit log {re.escape(str(audit))}: only \\d+ of \\d+ bytes written", said)
    assert json.loads(audit.read_text().splitlines()[0])["phase"] == "intent"


def test_fields_come_in_the_documented_order_so_merged_logs_sort_by_time(tmp_path):
    """Each line starts with its time: `sort` over several sessions' logs puts their lines in time order."""
    earlier, later = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    with AuditLog(earlier).opened() as log:
        assert log.record("knob", {"pid": 7}, {"ok": True}) is None
    with AuditLog(later).opened() as log:
        assert log.record("kill", {"title": "kill 7"}, {"summary": "1 of 1 process killed"}) is None
    lines = sorted(later.read_text().splitlines() + earlier.read_text().splitlines())
    assert [json.loads(line)["action"] for line in lines] == ["knob", "kill"]
    assert list(json.loads(lines[0])) == ["time", "uid", "euid", "pid", "action", "phase", "asked", "result"]


def test_each_line_is_on_disk_before_the_action_goes_on(tmp_path, monkeypatch):
    """The log is fsynced after each whole line (the intent before acting), not left in the page cache."""
    audit = tmp_path / "audit.jsonl"
    synced: list[int] = []
    fsync = os.fsync

    def watched(fd: int) -> None:
        if os.path.samestat(os.fstat(fd), audit.stat()):
            synced.append(os.fstat(fd).st_size)
        fsync(fd)

    monkeypatch.setattr(os, "fsync", watched)
    [result] = HostActor(audit, NO_MEMCG).apply([KnobWrite("sysctl", "an unknown kind of write", 1)])
    assert result.detail == "unknown kind of write 'sysctl'"
    intent, done = audit.read_text().splitlines(keepends=True)
    assert synced == [len(intent), len(intent) + len(done)]


ON = KnobWrite("oom_group", "on", True, cgroup="/app")
ON_GONE = KnobWrite("oom_group", "on", True, cgroup="/gone")
ON_ASKED = {"kind": "oom_group", "pid": None, "start_time": None, "cgroup": "/app", "name": None, "value": True,
            "description": "on"}


def _v2_tree(tmp_path: Path) -> CgroupLayout:
    """A v2 memory tree with /app laid out in tmp_path (this host's cgroup2 mount has no memory controller)."""
    (tmp_path / "tree" / "app").mkdir(parents=True)
    (tmp_path / "tree" / "app" / "memory.oom.group").write_text("0\n")
    return CgroupLayout("v2", tmp_path / "tree", tmp_path / "tree", None)


def test_each_knob_write_is_audited_before_and_after_with_what_was_asked(tmp_path):
    audit = tmp_path / "audit.jsonl"
    results = HostActor(audit, _v2_tree(tmp_path)).apply([ON, ON_GONE])
    assert results == [KnobResult(ON, True, "memory.oom.group of /app is now 1"),
                       KnobResult(ON_GONE, False, "cgroup /gone no longer exists")]
    gone_asked = {**ON_ASKED, "cgroup": "/gone"}
    lines = [json.loads(line) for line in audit.read_text().splitlines()]
    assert [(e["action"], e["phase"], e["asked"], e["result"]) for e in lines] == [
        ("knob", "intent", ON_ASKED, None),
        ("knob", "result", ON_ASKED, {"ok": True, "detail": "memory.oom.group of /app is now 1"}),
        ("knob", "intent", gone_asked, None),
        ("knob", "result", gone_asked, {"ok": False, "detail": "cgroup /gone no longer exists"}),
    ]


@pytest.mark.parametrize(("cause", "words"), [
    ("unopenable", "cannot write the audit log {}: {}/file is not a directory; every action must be audited, "
                   "so nothing was done (--audit-log FILE chooses another)"),
    ("full", "audit log {} not written: File too large; every action must be audited, so it was not done"),
])
def test_no_knob_is_written_without_its_audit_line_and_each_write_says_why(tmp_path, cause, words):
    layout = _v2_tree(tmp_path)
    (tmp_path / "file").write_text("")
    audit = tmp_path / "file" / "audit.jsonl" if cause == "unopenable" else tmp_path / "audit.jsonl"
    with file_size_limit(0) if cause == "full" else contextlib.nullcontext():
        results = HostActor(audit, layout).apply([ON, ON_GONE])
    assert results == [KnobResult(w, False, words.format(audit, tmp_path)) for w in (ON, ON_GONE)]
    assert (tmp_path / "tree" / "app" / "memory.oom.group").read_text() == "0\n"


def test_a_knob_written_whose_result_line_is_cut_short_is_told_done_with_the_audit_problem(tmp_path):
    room = _intent_length(tmp_path, lambda actor: actor.apply([ON])) + 5
    audit = tmp_path / "audit.jsonl"
    audit.write_text("")
    layout = _v2_tree(tmp_path)
    with file_size_limit(room):
        [result] = HostActor(audit, layout).apply([ON])
    assert (result.write, result.ok) == (ON, True)
    assert re.fullmatch(f"memory.oom.group of /app is now 1; audit log {re.escape(str(audit))}: "
                        r"only \d+ of \d+ bytes written", result.detail)
    assert (tmp_path / "tree" / "app" / "memory.oom.group").read_text() == "1"


def test_a_kill_is_audited_before_and_after_with_the_plan_and_every_outcome(tmp_path):
    """What `oomtui kill --json` and the audit log show: here a lone process gone, and no cgroups to kill in."""
    # pids above the kernel's PID_MAX_LIMIT: never a real process
    java = Target(5_000_000, 200.0, "java", "/app", 1 << 20, 0)
    lone = Target(5_000_001, 201.0, "lone", "/other", 1 << 20, 0)
    keeper = Target(5_000_002, 202.0, "keeper", "/app", 1 << 20, -1000)
    plan = KillPlan("kill cgroup /app and process 5000001", signal.SIGKILL, (java, lone), ("/app",),
                    spared=((keeper, "spared: oom_score_adj -1000"),))
    audit = tmp_path / "audit.jsonl"
    report = HostActor(audit, NO_MEMCG).kill(plan)
    assert report == KillReport(plan, (
        Outcome(keeper.pid, "keeper", False, "spared: oom_score_adj -1000", 202.0, "spared"),
        Outcome(lone.pid, "lone", False, GONE, 201.0, "gone"),
        Outcome(java.pid, "java", False, "failed: no memory cgroups are mounted", 200.0, "failed"),
    ), "1 already gone, 1 failed, 1 spared", "", None)
    lines = [json.loads(line) for line in audit.read_text().splitlines()]
    assert [(e["action"], e["phase"], e["asked"], e["result"]) for e in lines] == [
        ("kill", "intent", plan.to_json(), None),
        ("kill", "result", plan.to_json(), {"summary": report.summary, "method": "", "cgroups_empty": None,
                                            "outcomes": [o.to_json() for o in report.outcomes]}),
    ]
