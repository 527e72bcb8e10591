"""Kill events parsed from kernel and daemon log lines, and the verdict on each against the sample before it."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from oomtui.errors import UserError
from oomtui.model import Killer, frozen_map
from oomtui.oomlog.follow import KillEvent, KillFollower, KillParser, kills_in
from oomtui.record import Recorder, Recording
from oomtui.verdict import Scoreboard, verdict_for
from tests.support.handmade import MiB, cgroup, proc, snapshot

LOGS = Path(__file__).parent / "fixtures" / "oomlogs"


def facts(e: KillEvent) -> tuple:
    return e.killer, e.kind, e.domain, e.pid, e.comm, e.cgroup, e.group_member


def test_kernel_kills_in_every_era_and_format() -> None:
    assert [facts(e) for e in kills_in((LOGS / "v61_global_dmesg.txt").read_text())] == [
        ("kernel", "global", "/", 473206, "doxygen", "/user.slice/user-504.slice/session-3.scope", False)]
    assert [facts(e) for e in kills_in((LOGS / "v310_global_rhel7.txt").read_text())] == [
        ("kernel", "global", "/", 2188, "mysqld", None, False)]
    group = kills_in((LOGS / "v68_group_journal_iso.txt").read_text())  # the victim is printed twice
    assert [facts(e) for e in group] == [
        ("kernel", "memcg", "/kubepods.slice/pod1/cri-a.scope", 68061, "stress", "/kubepods.slice/pod1/cri-a.scope",
         False),
        ("kernel", "memcg", "/kubepods.slice/pod1/cri-a.scope", 68050, "sh", None, True)]


def test_daemon_kill_lines() -> None:
    parser = KillParser()
    (oomd,) = parser.feed("[ 600.000001] oomd kill: 81.28 80.05 42.78 system.slice/foo.service 1000 ruleset:[x] "
                          "detectorgroup:[y] killer:kill_by_memory_size_or_growth v2", 1.0)
    assert facts(oomd) == ("oomd", None, None, None, None, "/system.slice/foo.service", False)
    (sd,) = parser.feed("systemd-oomd[512]: Killed /user.slice/user-1000.slice/app.scope due to memory pressure for "
                        "/user.slice/user-1000.slice being 71.02% > 60.00% for > 30s with reclaim activity", 2.0)
    assert facts(sd) == ("systemd-oomd", None, None, None, None, "/user.slice/user-1000.slice/app.scope", False)
    assert parser.feed("earlyoom[77]: sending SIGTERM to process 5 uid 0 \"x\": badness 900, VmRSS 1 MiB", 3) == []


def test_following_a_missing_log_says_so_in_one_line(tmp_path: Path) -> None:
    with pytest.raises(UserError) as e:
        KillFollower(str(tmp_path / "kmsg"))
    assert str(e.value).startswith(f"cannot follow {tmp_path / 'kmsg'}: No such file") and "\n" not in str(e.value)


def before():
    return snapshot(
        [cgroup("/"), cgroup("/a", 200, memory_max=256 * MiB)],
        [proc(10, "/a", 150, comm="big"), proc(11, "/a", 40, comm="small", adj=0), proc(12, "/", 300, comm="db")],
    )


def kernel_kill(pid: int, comm: str, domain: str = "/a") -> KillEvent:
    return KillEvent(1.0, "kernel", "memcg" if domain != "/" else "global", domain, pid, comm, domain, False, "")


def test_a_kill_of_the_predicted_victim_matches() -> None:
    v = verdict_for(kernel_kill(10, "big"), before())
    assert v.matched is True and v.judged_by == ("kernel",) and v.predicted == "kernel: pid 10"
    assert v.first_expected == "kernel" and v.first_acted is True and v.picks["kernel"] == "pid 10"
    assert v.summary() == "kernel killed pid 10 (big) in a memcg OOM of /a: as predicted"
    assert v.to_json()["matched"] is True and v.to_json()["event"]["pid"] == 10


def test_a_kill_of_another_process_does_not_match() -> None:
    v = verdict_for(kernel_kill(11, "small"), before())
    assert v.matched is False and v.predicted == "kernel: pid 10"


@pytest.mark.parametrize("event, snap, note", [
    (kernel_kill(10, "big"), None, "no sample was taken before it"),
    (kernel_kill(99, "new"), before(), "pid 99 started after the sample"),
    (kernel_kill(10, "other"), before(), "pid 10 was 'big' in the sample: a different process"),
    (kernel_kill(10, "big", "/gone"), before(), "/gone is not a limited cgroup in the sample before"),
])
def test_what_cannot_be_told_is_unknown(event, snap, note) -> None:
    v = verdict_for(event, snap)
    assert v.matched is None and v.note == note


def test_a_daemon_kill_is_judged_against_its_policies_in_force() -> None:
    snap = before()
    oomd = Killer("oomd", 300, frozen_map({"oomd-size-or-growth.cgroup": "*"}), "/etc/oomd/oomd.json")
    snap = snap.replace(host=replace(snap.host, killers=(oomd,)))
    event = KillEvent(1.0, "oomd", None, None, None, None, "/a", False, "")
    v = verdict_for(event, snap)
    assert v.judged_by == ("oomd-size-or-growth",) and v.matched is True, v


def recorder(tmp_path: Path, snap) -> Recorder:
    r = Recorder(tmp_path / "rec", collect=lambda: snap, kmsg_path="/nonexistent", psi_path="/nonexistent",
                 note=lambda _: None)
    r._prepare()
    return r


def test_the_recorder_keeps_the_verdict_beside_each_event(tmp_path: Path) -> None:
    report = (LOGS / "v61_global_dmesg.txt").read_text()
    snap = snapshot([cgroup("/")], [proc(473206, "/", 900, comm="doxygen"), proc(12, "/", 30, comm="sshd")])
    snap = snap.replace(taken_at=1_800_000_000.0)
    r = recorder(tmp_path, snap)
    r.take_sample("interval")
    r.store_event(report, 1_800_000_001.0)
    (event,) = Recording(r.dir).events
    assert event.verdict is not None
    assert event.verdict["matched"] is True and event.verdict["judged_by"] == ["kernel"]
    assert event.verdict["picks"]["kernel"] == "pid 473206" and event.verdict["picks"]["earlyoom"] == "pid 473206"
    assert event.verdict["event"]["pid"] == 473206 and event.verdict["event"]["domain"] == "/"


def test_a_recorded_event_without_its_process_in_the_sample_is_unknown(tmp_path: Path) -> None:
    snap = snapshot([cgroup("/")], [proc(12, "/", 30, comm="sshd")]).replace(taken_at=1_800_000_000.0)
    r = recorder(tmp_path, snap)
    r.take_sample("interval")
    r.store_event((LOGS / "v61_global_dmesg.txt").read_text(), 1_800_000_001.0)
    (event,) = Recording(r.dir).events
    assert event.verdict is not None
    assert event.verdict["matched"] is None and event.verdict["note"] == "pid 473206 started after the sample"


def test_the_scoreboard_counts_predicted_against_actual_kills() -> None:
    board = Scoreboard()
    assert board.summary() == "no OOM kill seen yet"
    board.add(verdict_for(kernel_kill(10, "big"), before()))
    board.add(verdict_for(kernel_kill(11, "small"), before()))
    board.add(verdict_for(kernel_kill(99, "new"), before()))
    board.add(verdict_for(replace(kernel_kill(11, "small"), group_member=True), before()))
    assert board.summary() == "3 kills: 1 as predicted, 1 not, 1 unknown"


def test_a_kernel_kill_where_earlyoom_was_expected_first_says_so() -> None:
    snap = before()
    early = Killer("earlyoom", 812, frozen_map({"mem_min_percent": "10", "version": "1.7"}), "command line of pid 812")
    snap = snap.replace(host=replace(snap.host, killers=(early,)))
    v = verdict_for(kernel_kill(12, "db", "/"), snap)  # global: earlyoom at 100 MiB, 400 MiB before exhaustion
    assert v.first_expected == "earlyoom" and v.first_acted is False
    assert v.matched is True and v.to_json()["first_acted"] is False


def test_hostile_names_in_a_kill_are_shown_literally() -> None:
    event = KillEvent(1.0, "kernel", "memcg", "/a\x1b[2J", 10, "big\x1b]0;x\x07", "/a", False, "")
    v = verdict_for(event, before())
    assert "\x1b" not in v.summary() and "\x07" not in v.summary()
    assert "\\x1b" in v.summary()
