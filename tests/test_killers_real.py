"""The real earlyoom, running with chosen flags, is detected with those settings and its policy row uses them.

Debian's earlyoom (unpacked by scripts/fetch-earlyoom.sh, not installed) is
started in dry-run mode with `--prefer '^javaXXX$' -m 5`, beside a small
process of that name (oom_score_adj 900, so that other tests' hogs on a
shared machine cannot outrank it once preferred). A live snapshot must list
earlyoom with its pid and settings, and `oomtui preview --policy earlyoom`
must pick that process for the +300 that --prefer gives it — as the real
earlyoom itself does when asked in dry-run mode.
"""

from __future__ import annotations

import json
import time
import uuid

import pytest

from oomtui.cli import main
from oomtui.collect import collect_snapshot
from tests.support.earlyoom import Daemon, dryrun_victim, find_earlyoom, why_no_earlyoom
from tests.support.hog import spawn_hog

NAME = "java" + uuid.uuid4().hex[:4]


@pytest.fixture
def running_earlyoom(hogs):
    reason = why_no_earlyoom()
    if reason:
        pytest.skip(reason)
    binary = find_earlyoom()
    assert binary is not None
    hogs.append(spawn_hog(NAME, 16, adj=900))  # other tests' hogs may run with adj up to 1000: +300 must still win
    daemon = Daemon(binary, ["--prefer", f"^{NAME}$", "-m", "5", "-r", "3600"])
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with open(f"/proc/{daemon.pid}/comm") as f:
                if f.read().strip() == "earlyoom":  # exec done: the command line is earlyoom's own
                    break
            time.sleep(0.02)
        yield binary, daemon, hogs[-1]
    finally:
        daemon.stop()


def _ours(snapshot, pid):
    return next((k for k in snapshot.host.killers or () if k.name == "earlyoom" and k.pid == pid), None)


def test_running_earlyoom_is_detected_with_its_flags(running_earlyoom) -> None:
    _, daemon, _ = running_earlyoom
    deadline = time.monotonic() + 10  # one earlyoom is listed: another test's dry run may be the one for a moment
    while (killer := _ours(collect_snapshot(), daemon.pid)) is None and time.monotonic() < deadline:
        time.sleep(0.2)
    assert killer is not None
    assert dict(killer.settings) == {"prefer": f"^{NAME}$", "mem_min_percent": "5", "version": "1.7"}
    assert killer.source == f"command line of pid {daemon.pid}; version 1.7 from its binary"


def test_preview_uses_the_running_earlyooms_settings(running_earlyoom, capsys) -> None:
    binary, daemon, java = running_earlyoom
    for _ in range(3):  # another test's earlyoom may run for a moment: ours must be the one detected
        assert main(["preview", "--policy", "earlyoom", "--json"]) == 0
        (row,) = json.loads(capsys.readouterr().out)
        if row["settings_source"].startswith(f"command line of pid {daemon.pid}"):
            break
    assert row["in_force"] is True and row["applicable"] is True
    assert row["settings_source"].startswith(f"command line of pid {daemon.pid}")
    assert row["acts_at"].startswith("MemAvailable ≤ 5% (")  # 1.7: of MemTotal
    assert row["victim"]["pid"] == java.pid, row["reason"]
    assert row["ranking"][0]["parts"]["prefer"] is True
    assert dryrun_victim(binary, ["--prefer", f"^{NAME}$"]).pid == java.pid  # the real earlyoom agrees
    preferred = next(c for c in row["ranking"] if c.get("pid") == java.pid)
    assert main(["preview", "--policy", "earlyoom", "--option", "earlyoom.prefer=", "--json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert "--option prefer" in row["settings_source"]
    plain = next(c for c in row["ranking"] if c.get("pid") == java.pid)  # adj 900 keeps it in the top ten
    assert plain["parts"]["prefer"] is False
    assert preferred["parts"]["score"] - plain["parts"]["score"] in range(299, 302)  # oom_score may move by 1


def test_a_saved_snapshot_keeps_the_settings_for_a_postmortem(running_earlyoom, capsys, tmp_path) -> None:
    _, daemon, java = running_earlyoom
    path = tmp_path / "then.json.gz"
    assert main(["snapshot", "save", str(path)]) == 0
    daemon.stop()  # the daemon is gone; the snapshot remembers what was in force
    assert main(["preview", "--snapshot", str(path), "--policy", "earlyoom", "--json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert row["in_force"] is True and row["settings_source"].startswith(f"command line of pid {daemon.pid}")
    assert row["victim"]["pid"] == java.pid
    assert main(["snapshot", "show", str(path)]) == 0
    assert f"OOM killer in force: earlyoom (pid {daemon.pid})" in capsys.readouterr().out
