"""Cutting reports out of /dev/kmsg as they arrive: records to lines, and when a report is complete."""

from __future__ import annotations

from pathlib import Path

from oomtui.oomlog import parse_report
from oomtui.oomlog.kmsg import ReportCatcher, record_to_lines

FIXTURES = Path(__file__).parent / "fixtures" / "oomlogs"


def test_a_record_becomes_dmesg_lines():
    assert record_to_lines(b"4,338,432949905,-;oomt-big invoked oom-killer: order=0\n SUBSYSTEM=mem\n") == [
        "[  432.949905] oomt-big invoked oom-killer: order=0"
    ]
    assert record_to_lines(b"6,12,5000001,c;first\\x0asecond") == ["[    5.000001] first", "[    5.000001] second"]
    assert record_to_lines(b"not a record") == []


def group_report() -> list[str]:
    text = (FIXTURES / "v68_group_journal_iso.txt").read_text()
    return [f"[  100.000000] {line.split('kernel: ', 1)[1]}" for line in text.splitlines()]


def test_a_report_is_complete_once_quiet_after_its_kill_with_group_kills_inside():
    catcher = ReportCatcher(settle=2.0)
    assert catcher.feed("[   99.0] usb 1-1: new device", 0.0, 1000.0) == []
    assert not catcher.pending
    lines = group_report()
    kill_at = next(i for i, x in enumerate(lines) if "Killed process" in x)
    for i, line in enumerate(lines):
        now = 1.0 if i <= kill_at else 1.5
        assert catcher.feed(line, now, 1001.0) == []
    assert catcher.due(3.0) == []  # 1.5 s after the last group kill line
    [(text, began)] = catcher.due(3.6)
    assert began == 1001.0
    s = parse_report(text).snapshot
    assert s.oom_event.killed_pid == 68061 and s.oom_event.group_killed_pids == (68050,)
    assert not catcher.pending


def test_a_new_header_after_a_kill_closes_the_report():
    catcher = ReportCatcher(settle=5.0)
    lines = group_report()
    for line in lines:
        catcher.feed(line, 1.0, 1001.0)
    done = catcher.feed(lines[0], 2.0, 1002.0)
    assert len(done) == 1 and "Tasks in /kubepods.slice" in done[0][0]
    assert catcher.pending and catcher.started_wall == 1002.0


def test_a_report_without_a_kill_is_given_up_on():
    catcher = ReportCatcher(settle=1.0, give_up=10.0)
    lines = group_report()
    table_end = next(i for i, x in enumerate(lines) if "oom-kill:" in x)
    for line in lines[:table_end]:
        catcher.feed(line, 1.0, 1001.0)
    assert catcher.due(10.0) == []
    [(text, _)] = catcher.due(11.5)
    assert any("kill line" in w for w in parse_report(text).warnings)
