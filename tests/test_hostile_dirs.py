"""Root writing where another user could redirect it: `record`, the audit log, `snapshot save`.

Each scenario is set up by an unprivileged user (nobody, in a forked child)
where the attack needs one: it plants symlinks in a directory it owns.
Root's command must refuse in one line and leave the symlink's target as it
was.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from oomtui import snapshot
from oomtui.cli import main
from oomtui.errors import UserError
from oomtui.model import Host, Process, Snapshot
from oomtui.record import Recorder
from tests.support.attacker import as_nobody, attacker_dir

ROOT = Path(__file__).parent.parent


def _snap() -> Snapshot:
    host = Host("t", "6.18", 4096, 1 << 34, None, 0, None, "v2")
    return Snapshot(host=host, cgroups=(), processes=(Process(pid=7, comm="p", cgroup="/", rss_anon=1),),
                    taken_at=1_800_000_000.0)


@pytest.fixture
def home(tmp_path) -> Path:
    """Someone's home directory: what the attacker aims at."""
    h = tmp_path / "home"
    h.mkdir()
    (h / ".bashrc").write_text("alias ls='ls -F'\n")
    (h / "secret").write_text("root's file\n")
    return h


def _untouched(home: Path) -> None:
    assert sorted(os.listdir(home)) == [".bashrc", "secret"]
    assert (home / ".bashrc").read_text() == "alias ls='ls -F'\n"
    assert (home / "secret").read_text() == "root's file\n"


def _recorder(directory: Path) -> Recorder:
    return Recorder(directory, collect=_snap, kmsg_path="/nonexistent", psi_path="/nonexistent", note=lambda m: None)


def _record(directory: Path) -> None:
    _recorder(directory).run(duration=0.05)


def _one_line_refusal(exc: pytest.ExceptionInfo[UserError], *words: str) -> None:
    text = str(exc.value)
    assert "\n" not in text and "refusing" in text, text
    for w in words:
        assert w in text, text


# -- record DIR -------------------------------------------------------------------------


def test_record_refuses_a_directory_another_user_owns(tmp_path, home):
    rec = attacker_dir(tmp_path / "rec")

    def plant(fd: int) -> None:
        os.symlink(str(home), "samples", dir_fd=fd)
        os.mkdir("events", dir_fd=fd)
        os.symlink(str(home / "secret"), "events/index.jsonl", dir_fd=fd)

    as_nobody(rec, plant)
    with pytest.raises(UserError) as exc:
        _record(rec)
    _one_line_refusal(exc, str(rec), "another user")
    _untouched(home)


def test_record_refuses_a_samples_directory_that_is_a_symlink(tmp_path, home):
    rec = tmp_path / "rec"
    rec.mkdir()
    (rec / "samples").symlink_to(home)
    with pytest.raises(UserError) as exc:
        _record(rec)
    _one_line_refusal(exc, "samples", "symbolic link")
    _untouched(home)


def test_record_refuses_a_directory_that_is_a_symlink(tmp_path, home):
    (tmp_path / "rec").symlink_to(home)
    with pytest.raises(UserError) as exc:
        _record(tmp_path / "rec")
    _one_line_refusal(exc, "symbolic link")
    _untouched(home)


def test_an_index_symlinked_elsewhere_is_not_appended_to(tmp_path, home):
    rec = tmp_path / "rec"
    r = _recorder(rec)
    r._prepare()
    (rec / "events" / "index.jsonl").symlink_to(home / "secret")
    r.store_event((ROOT / "tests" / "fixtures" / "oomlogs" / "v61_global_dmesg.txt").read_text(), 1_800_000_002.0)
    r.close()
    _untouched(home)


def test_only_the_recorders_own_temporary_names_are_removed(tmp_path):
    rec = tmp_path / "rec"
    _record(rec)
    theirs = rec / "samples" / ".bashrc"
    theirs.write_text("x")
    ours = rec / "samples" / ".20261125T000000.000000Z.json.gz.0123abcd.oomtui-tmp"
    ours.write_bytes(b"half")
    _record(rec)
    assert theirs.exists() and not ours.exists()


# -- the audit log -------------------------------------------------------------------------


def test_kill_refuses_an_audit_log_planted_as_a_symlink(tmp_path, home, capsys):
    logs = attacker_dir(tmp_path / "logs")
    as_nobody(logs, lambda fd: os.symlink(str(home / "secret"), "audit.jsonl", dir_fd=fd))
    sleeper = subprocess.Popen(["sleep", "60"])
    try:
        assert main(["kill", "--pid", str(sleeper.pid), "--yes", "--audit-log", str(logs / "audit.jsonl")]) == 1
        err = capsys.readouterr().err
        assert len(err.splitlines()) == 1 and "refusing" in err and "nothing was done" in err
        assert sleeper.poll() is None
    finally:
        sleeper.kill()
        sleeper.wait()
    _untouched(home)


def test_the_audit_log_is_not_appended_through_a_symlink_in_roots_own_directory(tmp_path, home):
    from oomtui.act import AuditLog, AuditLogError

    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "audit.jsonl").symlink_to(home / "secret")
    with pytest.raises(AuditLogError, match="symbolic link"):
        AuditLog(logs / "audit.jsonl").check()
    _untouched(home)


def test_an_audit_log_file_another_user_owns_is_refused(tmp_path):
    from oomtui.act import AuditLog, AuditLogError

    logs = tmp_path / "logs"
    logs.mkdir(mode=0o1777)
    logs.chmod(0o1777)
    as_nobody(logs, lambda fd: os.close(os.open("audit.jsonl", os.O_CREAT | os.O_WRONLY, 0o666, dir_fd=fd)))
    with pytest.raises(AuditLogError, match="another user"):
        AuditLog(logs / "audit.jsonl").check()
    assert (logs / "audit.jsonl").read_text() == ""


# -- snapshot save, import-oom --out --------------------------------------------------------


def test_save_refuses_a_directory_another_user_owns(tmp_path, home, capsys):
    out = attacker_dir(tmp_path / "out")
    as_nobody(out, lambda fd: os.symlink(str(home / "secret"), "snap.json", dir_fd=fd))
    with pytest.raises(OSError) as exc:
        snapshot.save(_snap(), out / "snap.json")
    assert "refusing" in str(exc.value) and "another user" in str(exc.value)
    log = ROOT / "tests" / "fixtures" / "oomlogs" / "v61_global_dmesg.txt"
    assert main(["import-oom", str(log), "--out", str(out / "snap.json")]) == 1
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and "refusing" in err
    _untouched(home)


def test_save_refuses_to_write_through_a_symlink(tmp_path, home):
    (tmp_path / "snap.json").symlink_to(home / "secret")
    with pytest.raises(OSError, match="symbolic link"):
        snapshot.save(_snap(), tmp_path / "snap.json")
    assert (tmp_path / "snap.json").is_symlink()
    _untouched(home)


def test_save_still_writes_through_roots_own_symlinked_parents(tmp_path):
    (tmp_path / "real").mkdir()
    (tmp_path / "via").symlink_to(tmp_path / "real")
    snapshot.save(_snap(), tmp_path / "via" / "snap.json.gz")
    assert snapshot.load(tmp_path / "real" / "snap.json.gz").processes[0].pid == 7
    assert (tmp_path / "real" / "snap.json.gz").stat().st_mode & 0o777 == 0o600
    assert not [n for n in os.listdir(tmp_path / "real") if n.startswith(".")]


def test_snapshot_save_command_refuses_in_one_line(tmp_path, home):
    out = attacker_dir(tmp_path / "out")
    done = subprocess.run([sys.executable, "-m", "oomtui.cli", "snapshot", "save", str(out / "s.json")],
                          capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 1 and len(done.stderr.splitlines()) == 1 and "refusing" in done.stderr
    assert os.listdir(out) == []
