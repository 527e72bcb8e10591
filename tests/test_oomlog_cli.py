"""`oomtui import-oom` as users and scripts call it: summary, --list, --index, --out, one-line errors."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from oomtui import snapshot
from oomtui.cli import main

FIXTURES = Path(__file__).parent / "fixtures" / "oomlogs"


@pytest.fixture
def two_reports(tmp_path) -> Path:
    log = tmp_path / "kern.log"
    names = ("v61_global_dmesg.txt", "v515_memcg_v2_dmesg_T_de.txt")
    log.write_text("".join((FIXTURES / name).read_text() for name in names))
    return log


def run(argv: list[str], capsys) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_summary_names_the_victim_and_the_replay(two_reports, capsys):
    code, out, err = run(["import-oom", str(two_reports)], capsys)
    assert code == 0, err
    assert "memcg OOM in /lxc/39004" in out
    assert "killed: 3902942 (php-fpm)" in out
    assert "the kernel policy agrees" in out
    assert "kernel                   3902942" in out


def test_list_shows_every_report(two_reports, capsys):
    code, out, _ = run(["import-oom", "--list", str(two_reports)], capsys)
    assert code == 0
    rows = out.splitlines()
    assert rows[0].split() == ["#", "time", "kind", "domain", "victim"]
    assert rows[1].startswith("0  [ 9003.111111]") and "global" in rows[1] and "473206 (doxygen)" in rows[1]
    assert rows[2].startswith("1  [Di Aug 12 03:54:03 2025]") and "/lxc/39004" in rows[2]
    assert len(rows) == 3


def test_index_picks_and_out_writes_a_loadable_snapshot(two_reports, tmp_path, capsys):
    out_file = tmp_path / "first.json.gz"
    code, _, _ = run(["import-oom", str(two_reports), "--index", "0", "--out", str(out_file)], capsys)
    assert code == 0
    s = snapshot.load(out_file)
    assert (s.source, s.oom_event.killed_pid, s.oom_event.domain) == ("kernel-log", 473206, "/")


def test_out_dash_prints_json_and_warnings_go_to_stderr(capsys, tmp_path):
    log = tmp_path / "ratelimited.log"
    log.write_text((FIXTURES / "v612_global_16k_rsyslog.txt").read_text())
    code, out, err = run(["import-oom", str(log), "--out", "-"], capsys)
    assert code == 0
    assert json.loads(out)["oom_event"]["killed_pid"] == 1999
    assert "warning: no task table" in err


def test_stdin(monkeypatch, capsys):
    data = (FIXTURES / "v68_group_journal_iso.txt").read_bytes()
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(data)))
    code, out, _ = run(["import-oom", "-", "--list"], capsys)
    assert code == 0 and "68061 (stress)" in out


@pytest.mark.parametrize(
    ("argv", "code", "message"),
    [
        (["import-oom", "/etc/hostname"], 1, "no kernel OOM report found"),
        (["import-oom", "--list", "/etc/hostname"], 1, "no kernel OOM report found"),
        (["import-oom", "{log}", "--index", "2"], 1, "no report 2: the log has 2"),
        (["import-oom", "{log}", "--index", "x"], 2, "invalid int value"),
        (["import-oom", "{log}", "--list", "--out", "-"], 2, "do not go together"),
        (["import-oom", "/nonexistent/kern.log"], 1, "No such file or directory"),
        (["import-oom", "{binary}"], 1, "binary data"),
    ],
)
def test_errors_are_one_line(argv, code, message, two_reports, tmp_path, capsys):
    binary = tmp_path / "core"
    binary.write_bytes(b"\x7fELF\x00\x00\x01" * 100)
    argv = [a.format(log=two_reports, binary=binary) for a in argv]
    got, _, err = run(argv, capsys)
    assert got == code
    assert message in err
    assert len(err.strip().splitlines()) == 1
    assert "Traceback" not in err


def test_hostile_names_are_printed_escaped(tmp_path, capsys):
    text = (FIXTURES / "v515_memcg_v2_dmesg_T_de.txt").read_text().replace("nginx: master", "evil\x1b[2Jname")
    log = tmp_path / "evil.log"
    log.write_text(text)
    code, out, _ = run(["import-oom", str(log)], capsys)
    assert code == 0
    assert "\x1b" not in out
    assert "evil\\x1b[2Jname" in out


def test_the_closing_verdict_escapes_the_victims_name_too(tmp_path, capsys):
    """The agrees/disagrees line names the victim: an OSC 52 clipboard write must not reach the terminal."""
    evil = "do\x1b]52;c;aGk=\x07\u202ex"
    log = tmp_path / "evil.log"
    log.write_text((FIXTURES / "v61_global_dmesg.txt").read_text().replace("doxygen", evil))
    for argv in (["import-oom", str(log)], ["import-oom", str(log), "--list"]):
        code, out, err = run(argv, capsys)
        assert code == 0
        assert not any(c in out + err for c in "\x1b\x07\u202e"), out
        assert "do\\x1b]52;c;aGk=\\x07\\u202ex" in out
