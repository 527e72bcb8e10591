"""Where the audit log goes, and that each action is one whole JSON line."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

from oomtui.act import AuditLog, default_audit_path


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
    assert "\x1b" not in path.read_text()  # escapes are JSON-escaped, so `cat` on the log is safe
    assert path.stat().st_mode & 0o777 == 0o600
