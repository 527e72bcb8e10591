"""A report reads the same however the log wrapped it: dmesg forms, syslog, journalctl, #012, numbers."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest

from oomtui.oomlog import find_reports, parse_report

FIXTURES = Path(__file__).parent / "fixtures" / "oomlogs"
STAMP = re.compile(r"^\[\s*\d+\.\d+\] ?")


def bare_messages() -> list[str]:
    """The 6.1 global report as the kernel printed it: messages only (journalctl -o cat)."""
    text = (FIXTURES / "v61_global_dmesg.txt").read_text()
    return [STAMP.sub("", line).strip() for line in text.splitlines()]


def facts(text: str) -> tuple:
    s = parse_report(text).snapshot
    e = s.oom_event
    procs = [(p.pid, p.comm, p.rss_total, p.swap, p.pgtables, p.oom_score_adj, p.cgroup) for p in s.processes]
    return (e.kind, e.domain, e.killed_pid, e.total_pages, s.host.mem_total, s.host.kernel, procs)


EXPECTED = facts("\n".join(bare_messages()))


def wrap(prefix: str) -> str:
    return "\n".join(prefix + m for m in bare_messages())


WRAPPERS = {
    "dmesg -T C locale": "[Wed Nov 25 22:41:12 2026] ",
    "dmesg -T ja_JP": "[火 11月 25 22:41:12 2026] ",
    "dmesg -T de_DE": "[Mi Nov 25 22:41:12 2026] ",
    "dmesg -x": "kern  :warn  : [ 9003.111111] ",
    "dmesg -r": "<4>[ 9003.111111] ",
    "dmesg --time-format iso": "2026-11-25T22:41:12,123456+00:00 ",
    "dmesg with printk caller id": "[ 9003.111111] [T473206] ",
    "syslog with uptime": "Nov 25 22:41:12 myhost kernel: [ 9003.111111] ",
    "syslog": "Nov 25 22:41:12 myhost kernel: ",
    "syslog, host elided": "Nov 25 22:41:12 kernel: ",
    "journalctl short-precise": "Nov 25 22:41:12.123456 myhost kernel: ",
    "journalctl short-full": "Wed 2026-11-25 22:41:12 UTC myhost kernel: ",
    "journalctl short-iso-precise": "2026-11-25T22:41:12.123456+00:00 myhost kernel: ",
    "journalctl short-monotonic": "[ 9003.111111] myhost kernel: ",
    "journalctl short-unix": "1795646472.123456 myhost kernel: ",
    "dmesg --time-format reltime": "[  +0.000049] ",
    "dmesg --time-format reltime, first line": "[Nov25 22:41] ",
    "rsyslog RFC 3339": "2026-11-25T22:41:12.123456+00:00 myhost kernel: ",
    "indented paste": "    ",
}


def test_the_fixture_itself_reads_as_the_bare_messages():
    assert facts((FIXTURES / "v61_global_dmesg.txt").read_text()) == EXPECTED
    assert EXPECTED[2] == 473206


@pytest.mark.parametrize("name", WRAPPERS)
def test_prefixed_lines(name):
    assert facts(wrap(WRAPPERS[name])) == EXPECTED


def test_syslog_host_becomes_the_hostname():
    assert parse_report(wrap(WRAPPERS["syslog"])).snapshot.host.hostname == "myhost"


@pytest.fixture
def berlin(monkeypatch):
    """This machine's zone, which zone-less stamps are read in: UTC+1 in November."""
    monkeypatch.setenv("TZ", "Europe/Berlin")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


EXACT = ["journalctl short-iso-precise", "dmesg --time-format iso", "journalctl short-unix", "rsyslog RFC 3339",
         "journalctl short-full"]
LOCAL = ["dmesg -T C locale", "dmesg -T ja_JP", "dmesg -T de_DE"]
NO_YEAR = ["syslog", "syslog with uptime", "syslog, host elided", "journalctl short-precise"]
NO_CLOCK = ["dmesg -x", "dmesg -r", "journalctl short-monotonic", "dmesg --time-format reltime", "indented paste"]


@pytest.mark.parametrize("name", EXACT + LOCAL + NO_YEAR + NO_CLOCK)
def test_taken_at_comes_from_the_wall_clock_where_the_log_has_one(name, berlin):
    result = parse_report(wrap(WRAPPERS[name]))
    notes = [w for w in result.warnings if "no time zone" in w]
    if name in NO_CLOCK:
        assert result.snapshot.taken_at is None and not notes
        return
    utc = 1795646472.0  # 2026-11-25 22:41:12 UTC
    expected = utc if name in EXACT else utc - 3600  # local stamps are read as Berlin time
    assert result.snapshot.taken_at == pytest.approx(expected, abs=1)
    assert bool(notes) == (name not in EXACT)
    if name in NO_YEAR:
        assert "the year" in notes[0]


def test_journal_json_realtime_gives_the_time():
    lines = [json.dumps({"MESSAGE": m, "__REALTIME_TIMESTAMP": "1795646472123456"}) for m in bare_messages()]
    assert parse_report("\n".join(lines)).snapshot.taken_at == pytest.approx(1795646472.123456)


def test_crlf_blank_lines_and_mail_quoting():
    text = "\r\n".join(f"> {m}\r\n" for m in bare_messages())
    assert facts(text) == EXPECTED


def test_grep_n_and_cat_n_line_numbers():
    grep_n = "\n".join(f"{i + 120}:{m}" for i, m in enumerate(bare_messages()))
    cat_n = "\n".join(f"{i + 1:6d}\t{m}" for i, m in enumerate(bare_messages()))
    assert facts(grep_n) == EXPECTED
    assert facts(cat_n) == EXPECTED


def test_rsyslog_hash_012_joins_a_multiline_record():
    messages = bare_messages()
    start = messages.index("Mem-Info:") + 1
    joined = "#012 ".join(messages[start:start + 4])  # the first Mem-Info stanza is one printk
    text = "\n".join(f"Nov 25 22:41:12 myhost kernel: {m}" for m in [*messages[:start], joined, *messages[start + 4:]])
    assert facts(text) == EXPECTED


def test_journalctl_json():
    lines = [json.dumps({"MESSAGE": m, "_HOSTNAME": "myhost", "__REALTIME_TIMESTAMP": "1795646472000000"})
             for m in bare_messages()]
    assert facts("\n".join(lines)) == EXPECTED
    assert parse_report("\n".join(lines)).snapshot.host.hostname == "myhost"


def test_journalctl_json_with_a_byte_array_message():
    messages = bare_messages()
    lines = [json.dumps({"MESSAGE": list(m.encode())}) for m in messages]
    assert facts("\n".join(lines)) == EXPECTED


def test_journalctl_export_and_verbose():
    export = "\n\n".join(f"__CURSOR=s=1\nPRIORITY=4\nMESSAGE={m}\n_TRANSPORT=kernel" for m in bare_messages())
    entry = "Wed 2026-11-25 22:41:12.1 UTC [s=1]\n    PRIORITY=4\n    MESSAGE={}"
    verbose = "\n".join(entry.format(m) for m in bare_messages())
    assert facts(export) == EXPECTED
    assert facts(verbose) == EXPECTED


def test_dev_kmsg_records_with_properties():
    records = []
    for i, m in enumerate(bare_messages()):
        records.append(f"4,{1000 + i},9003111111,-;{m}")
        if i == 3:
            records.append(" SUBSYSTEM=acpi")
    assert facts("\n".join(records)) == EXPECTED


def test_other_kernel_messages_around_and_inside_do_not_matter():
    messages = bare_messages()
    noisy = ["EXT4-fs (vda): mounted filesystem", *messages[:10], "usb 1-1: new device", *messages[10:],
             "systemd[1]: user@1000.service: A process of this unit has been killed by the OOM killer."]
    assert facts("\n".join(noisy)) == EXPECTED


def test_several_reports_are_listed_in_order_with_time_kind_domain_and_victim():
    log = "\n".join([
        (FIXTURES / "v61_global_dmesg.txt").read_text(),
        "[ 9010.000000] some unrelated message",
        (FIXTURES / "v68_group_journal_iso.txt").read_text(),
        (FIXTURES / "v419_memcg_v1_syslog.txt").read_text(),
    ])
    infos = find_reports(log)
    assert [(i.index, i.kind, i.domain, i.victim_pid) for i in infos] == [
        (0, "global", "/", 473206),
        (1, "memcg", "/kubepods.slice/pod1/cri-a.scope", 68061),
        (2, "memcg", "/docker/abc", 3897),
    ]
    assert infos[0].time == "[ 9003.111111]"
    assert infos[1].time == "2025-06-24T18:49:43+0000"
    assert infos[2].victim == "3897 (helper)"
    assert parse_report(log, 1).snapshot.oom_event.group_killed_pids == (68050,)
    assert parse_report(log).snapshot.oom_event.killed_pid == 3897
    assert parse_report(log, -3).snapshot.oom_event.killed_pid == 473206
