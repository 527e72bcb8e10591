"""`oomtui kill` on real processes: what it lists is what it kills, and it asks first."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
import time
from pathlib import Path

import pytest

from oomtui.act.procfs import facts
from oomtui.cli import main
from tests.support.hog import Hog, spawn_hog
from tests.support.reuse import Newcomer

ROOT = Path(__file__).parent.parent


@pytest.fixture
def audit(tmp_path) -> Path:
    return tmp_path / "audit.jsonl"


def _listed(out: str) -> list[int]:
    """The pids in the table of processes that would be signalled."""
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("  PID"))
    pids = []
    for line in lines[start + 1:]:
        if not line.startswith("  ") or line.startswith("  total"):
            break
        pids.append(int(line.split()[0]))
    return pids


def _reported(out: str, detail: str = "killed") -> list[int]:
    return [int(line.split()[0]) for line in out.splitlines() if line.startswith("  ") and line.endswith(detail)]


def _entries(audit: Path) -> list[dict]:
    """The result lines (each after its intent line)."""
    lines = [json.loads(line) for line in audit.read_text().splitlines()] if audit.exists() else []
    assert [e["phase"] for e in lines] == ["intent", "result"] * (len(lines) // 2)
    return lines[1::2]


def _cli(*args: str, stdin=subprocess.DEVNULL) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "oomtui.cli", "kill", *args], stdin=stdin,
                          capture_output=True, text=True, cwd=ROOT, timeout=120)


def test_dry_run_lists_exactly_what_yes_then_kills(memcg, hogs, audit, capsys):
    victim = memcg.child("victim")
    members = [spawn_hog(f"m{i}", 2, cgroup_dir=victim.dir) for i in range(5)]
    sentinel = spawn_hog("sentinel", 1, cgroup_dir=memcg.dir)
    hogs += [*members, sentinel]
    assert main(["kill", "--cgroup", victim.path, "--dry-run"]) == 0
    dry = capsys.readouterr().out
    assert dry.startswith(f"kill cgroup {victim.path} (5 processes) with SIGKILL\n")
    assert dry.rstrip().endswith("dry run: nothing was signalled")
    assert all(m.alive() for m in members) and _entries(audit) == []
    assert main(["kill", "--cgroup", victim.path, "--yes", "--audit-log", str(audit)]) == 0
    done = capsys.readouterr().out
    assert sorted(_listed(dry)) == sorted(_listed(done)) == sorted(_reported(done)) == sorted(m.pid for m in members)
    assert done.rstrip().endswith("5 of 5 processes killed")
    assert not any(m.alive() for m in members) and sentinel.alive()
    assert victim.pids() == []
    [entry] = _entries(audit)
    assert sorted(t["pid"] for t in entry["asked"]["targets"]) == sorted(m.pid for m in members)


def test_kill_one_pid_and_the_neighbour_lives(memcg, hogs, audit, capsys):
    victim, sentinel = spawn_hog("victim", 4, cgroup_dir=memcg.dir), spawn_hog("sentinel", 1, cgroup_dir=memcg.dir)
    hogs += [victim, sentinel]
    start = facts(victim.pid).start_time
    assert main(["kill", "--pid", str(victim.pid), "--start-time", str(start), "--yes",
                 "--audit-log", str(audit), "--signal", "TERM"]) == 0
    out = capsys.readouterr().out
    assert f"send SIGTERM to process {victim.pid} (victim)\n" in out
    assert out.rstrip().endswith("1 of 1 process sent SIGTERM")
    assert victim.popen.wait(10) == -15 and sentinel.alive()


def test_a_start_time_that_no_longer_matches_kills_nothing(memcg, hogs, audit, capsys):
    victim = spawn_hog("victim", 0, cgroup_dir=memcg.dir)
    hogs.append(victim)
    start = facts(victim.pid).start_time - 60
    assert main(["kill", "--pid", str(victim.pid), "--start-time", str(start), "--yes",
                 "--audit-log", str(audit)]) == 1
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1
    assert f"pid {victim.pid} is now victim, started at" in err and "nothing was killed" in err
    time.sleep(0.2)
    assert victim.alive()


def test_without_a_terminal_and_without_yes_it_refuses(memcg, hogs, audit):
    victim = spawn_hog("victim", 0, cgroup_dir=memcg.dir)
    hogs.append(victim)
    done = _cli("--pid", str(victim.pid), "--audit-log", str(audit))
    assert done.returncode == 1
    assert done.stderr == "oomtui kill: no terminal to ask on; nothing was killed (--yes confirms in advance)\n"
    assert f"kill process {victim.pid} (victim)" in done.stdout
    time.sleep(0.2)
    assert victim.alive() and _entries(audit) == []


def _on_terminal(answer: bytes, *args: str) -> tuple[int, str, str]:
    master, slave = pty.openpty()
    try:
        proc = subprocess.Popen([sys.executable, "-m", "oomtui.cli", "kill", *args], stdin=slave,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT)
        os.write(master, answer)
        out, err = proc.communicate(timeout=120)
    finally:
        os.close(master)
        os.close(slave)
    return proc.returncode, out.decode(), err.decode()


def test_it_asks_on_the_terminal_and_no_means_nothing(memcg, hogs, audit):
    victim = spawn_hog("victim", 0, cgroup_dir=memcg.dir)
    hogs.append(victim)
    code, out, err = _on_terminal(b"n\n", "--pid", str(victim.pid), "--audit-log", str(audit))
    assert code == 1 and err == "Send SIGKILL to this process? [y/N] cancelled: nothing was killed\n"
    assert _listed(out) == [victim.pid]
    time.sleep(0.2)
    assert victim.alive() and _entries(audit) == []
    code, out, err = _on_terminal(b"y\n", "--pid", str(victim.pid), "--audit-log", str(audit))
    assert code == 0 and out.rstrip().endswith("1 of 1 process killed")
    assert victim.popen.wait(10) == -9


def test_policy_kill_carries_out_the_kernels_choice_in_a_domain(memcg, hogs, audit, capsys):
    memcg.set_limit(1 << 30)
    big, small = spawn_hog("big", 60, cgroup_dir=memcg.dir), spawn_hog("small", 5, cgroup_dir=memcg.dir)
    hogs += [big, small]
    assert main(["kill", "--policy", "kernel", "--domain", memcg.path, "--dry-run"]) == 0
    dry = capsys.readouterr().out
    why, title = dry.splitlines()[:2]
    assert why.startswith(f"kernel in {memcg.path}: ")
    assert title.startswith(f"carry out kernel's decision: kill process {big.pid} (big)")
    assert _listed(dry) == [big.pid]
    assert main(["kill", "--policy", "kernel", "--domain", memcg.path, "--yes", "--audit-log", str(audit)]) == 0
    assert _reported(capsys.readouterr().out) == [big.pid]
    assert big.popen.wait(10) == -9 and small.alive()


def test_an_unwritable_audit_log_stops_it_before_asking(memcg, hogs, tmp_path, capsys):
    victim = spawn_hog("victim", 0, cgroup_dir=memcg.dir)
    hogs.append(victim)
    (tmp_path / "file").write_text("")
    assert main(["kill", "--pid", str(victim.pid), "--yes", "--audit-log", str(tmp_path / "file" / "a.jsonl")]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("oomtui: cannot write the audit log ") and len(captured.err.splitlines()) == 1
    assert victim.alive()


def test_hostile_names_are_shown_escaped(memcg, hogs, capsys):
    hogs.append(spawn_hog("\x1b[2Jevil\u202e", 0, cgroup_dir=memcg.dir))
    assert main(["kill", "--cgroup", memcg.path, "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\u202e" not in out
    assert "\\x1b[2Jevil" in out


def test_refused_targets_are_listed_with_the_reason_and_nothing_happens(capsys, audit):
    assert main(["kill", "--pid", "1", "--yes", "--audit-log", str(audit)]) == 1
    captured = capsys.readouterr()
    assert "refused (never signalled):" in captured.out and "host init (pid 1)" in captured.out
    assert captured.err == "oomtui kill: nothing to kill\n"
    assert _entries(audit) == []


@pytest.mark.parametrize(("args", "message"), [
    (["--pid", "5", "--cgroup", "/x"], "not allowed with argument"),
    (["--cgroup", "/x", "--start-time", "5"], "--start-time goes with --pid"),
    (["--pid", "5", "--domain", "/x"], "--domain and --option go with --policy"),
    (["--pid", "5", "--signal", "HUP"], "--signal must be KILL or TERM"),
])
def test_bad_usage_is_one_line_and_exit_2(args, message, capsys):
    assert main(["kill", *args, "--dry-run"]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.splitlines()) == 1


def test_a_cgroup_or_pid_that_does_not_exist(capsys):
    assert main(["kill", "--cgroup", "/no/such/cgroup-here", "--dry-run"]) == 1
    assert main(["kill", "--pid", "999999999", "--dry-run"]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err == [
        "oomtui: no cgroup /no/such/cgroup-here (it does not exist, or was removed since the sample)",
        "oomtui: no process 999999999 (it is not running, or has exited since the sample)",
    ]


def test_the_top_level_audit_log_option_is_honoured(memcg, hogs, audit, capsys):
    victim = spawn_hog("victim", 0, cgroup_dir=memcg.dir)
    hogs.append(victim)
    assert main(["--audit-log", str(audit), "kill", "--pid", str(victim.pid), "--yes"]) == 0
    [entry] = _entries(audit)
    assert entry["asked"]["targets"][0]["pid"] == victim.pid
    assert entry["result"]["outcomes"][0]["detail"] == "killed"


@pytest.fixture
def full_disk(tmp_path):
    """A 64 KiB tmpfs filled to the last byte (mounted under tmp_path, unmounted after)."""
    if os.geteuid() != 0:
        pytest.skip("needs root to mount a tmpfs")
    disk = tmp_path / "disk"
    disk.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k,mode=0700", "tmpfs", str(disk)], check=True)
    try:
        fd = os.open(disk / "filler", os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            while True:
                os.write(fd, b"x" * 512)
        except OSError as e:
            assert e.errno == 28  # ENOSPC: full to the brim
        finally:
            os.close(fd)
        yield disk
    finally:
        subprocess.run(["umount", str(disk)], check=True)


def test_on_a_full_disk_nothing_is_killed_and_it_says_so(memcg, hogs, full_disk, capsys):
    victim = spawn_hog("victim", 0, cgroup_dir=memcg.dir)
    hogs.append(victim)
    assert main(["kill", "--pid", str(victim.pid), "--yes", "--audit-log", str(full_disk / "audit.jsonl")]) == 1
    out = capsys.readouterr().out
    assert "No space left on device" in out and "nothing was done" in out
    time.sleep(0.3)
    assert victim.alive()


@pytest.mark.parametrize("cgroup", ["/a\nb", "/a\x1b[2Jb"])
def test_a_cgroup_name_with_control_characters_is_a_one_line_error(cgroup, capsys):
    assert main(["kill", "--cgroup", cgroup, "--dry-run"]) == 1
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and "\x1b" not in err
    assert "no cgroup /a\\x" in err


_STUBBORN = r"""
import os, signal, sys, time
with open(sys.argv[1], "w") as f:
    f.write(str(os.getpid()))
signal.signal(signal.SIGTERM, signal.SIG_IGN)
sys.stdout.write("ready\n"); sys.stdout.flush()
time.sleep(3600)
"""


def _stubborn(cgroup_dir: Path) -> Hog:
    """A process in the cgroup that ignores SIGTERM."""
    popen = subprocess.Popen([sys.executable, "-c", _STUBBORN, str(Path(cgroup_dir) / "cgroup.procs")],
                             stdout=subprocess.PIPE)
    assert popen.stdout is not None and popen.stdout.readline().strip() == b"ready"
    return Hog("stubborn", popen)


def test_a_process_that_ignores_sigterm_is_reported_alive_not_killed(memcg, hogs, audit, capsys):
    stubborn = _stubborn(memcg.dir)
    hogs.append(stubborn)
    assert main(["kill", "--pid", str(stubborn.pid), "--signal", "TERM", "--yes", "--audit-log", str(audit)]) == 1
    out = capsys.readouterr().out
    assert "still running" in out and "killed" not in out.splitlines()[-1]
    assert stubborn.alive()
    [entry] = _entries(audit)
    [o] = entry["result"]["outcomes"]
    assert (o["status"], o["ok"], o["sent"], o["exited"]) == ("survived", False, "SIGTERM", False)


def test_sigterm_to_a_cgroup_says_who_is_left_in_it(memcg, hogs, audit, capsys):
    group = memcg.child("g")
    polite = spawn_hog("polite", 0, cgroup_dir=group.dir)
    stubborn = _stubborn(group.dir)
    hogs += [polite, stubborn]
    assert main(["kill", "--cgroup", group.path, "--signal", "TERM", "--yes", "--audit-log", str(audit)]) == 1
    capsys.readouterr()
    assert polite.popen.wait(10) == -15 and stubborn.alive()
    [entry] = _entries(audit)
    assert "until the cgroup was empty" not in entry["result"]["method"]
    assert "1 process still in the cgroup" in entry["result"]["method"]
    by_pid = {o["pid"]: o for o in entry["result"]["outcomes"]}
    assert (by_pid[polite.pid]["status"], by_pid[polite.pid]["exited"]) == ("killed", True)
    assert (by_pid[stubborn.pid]["status"], by_pid[stubborn.pid]["exited"]) == ("survived", False)
    assert entry["result"]["cgroups_empty"] is False


@pytest.mark.parametrize("off", [0.02, 0.5, 1.5, -2.0])
def test_a_start_time_off_by_more_than_the_tolerance_is_refused(memcg, hogs, audit, capsys, off):
    victim = spawn_hog("victim", 0, cgroup_dir=memcg.dir)
    hogs.append(victim)
    start = facts(victim.pid).start_time
    assert main(["kill", "--pid", str(victim.pid), "--start-time", repr(start + off), "--yes",
                 "--audit-log", str(audit)]) == 1
    assert "nothing was killed" in capsys.readouterr().err
    time.sleep(0.2)
    assert victim.alive() and _entries(audit) == []


def _snapshot_then(monkeypatch, action) -> None:
    """The kill reads the host, then `action` runs: what happens between the listing and the kill."""
    import oomtui.collect

    real = oomtui.collect.collect_snapshot

    def collect(**kw):
        snap = real(**kw)
        action()
        return snap

    monkeypatch.setattr(oomtui.collect, "collect_snapshot", collect)


def test_a_cgroup_kill_exits_0_when_the_cgroup_ends_empty(memcg, hogs, audit, capsys, monkeypatch):
    group = memcg.child("g")
    stays, leaves = spawn_hog("stays", 0, cgroup_dir=group.dir), spawn_hog("leaves", 0, cgroup_dir=group.dir)
    hogs += [stays, leaves]
    _snapshot_then(monkeypatch, lambda: memcg.add_pid(leaves.pid))
    assert main(["kill", "--cgroup", group.path, "--yes", "--audit-log", str(audit)]) == 0
    out = capsys.readouterr().out
    assert f"{leaves.pid}" in out and "left the cgroup before the kill; not signalled" in out
    assert "the cgroup was empty afterwards" in out
    assert stays.popen.wait(10) == -9 and leaves.alive() and group.pids() == []


def test_a_member_whose_pid_was_reused_is_reported_as_gone_not_failed(memcg, hogs, audit, capsys, monkeypatch):
    group = memcg.child("g")
    first, other = spawn_hog("first", 0, cgroup_dir=group.dir), spawn_hog("other", 0, cgroup_dir=group.dir)
    hogs.append(other)
    reused = []

    def reuse() -> None:
        start = facts(first.pid).start_time
        first.kill()
        time.sleep(max(0.0, start + 1.3 - time.time()))  # clear of the btime allowance
        reused.append(Newcomer(first.pid, memcg.dir))
        hogs.append(reused[0])

    _snapshot_then(monkeypatch, reuse)
    assert main(["kill", "--cgroup", group.path, "--yes", "--audit-log", str(audit)]) == 0
    out = capsys.readouterr().out
    row = [line for line in out.splitlines() if line.split()[:1] == [str(first.pid)]][-1]  # the report's
    assert "exited before the kill; its pid now belongs to another process" in row
    assert reused[0].alive() and other.popen.wait(10) == -9


def test_a_dry_run_that_would_signal_nothing_exits_1(capsys):
    assert main(["kill", "--pid", "1", "--dry-run"]) == 1
    out = capsys.readouterr().out
    assert "refused (never signalled):" in out and out.rstrip().endswith("nothing would be signalled")


def test_json_prints_what_it_did(memcg, hogs, audit, capsys):
    victim = spawn_hog("victim", 1, cgroup_dir=memcg.dir)
    hogs.append(victim)
    start = facts(victim.pid).start_time
    assert main(["kill", "--pid", str(victim.pid), "--dry-run", "--json"]) == 0
    dry = json.loads(capsys.readouterr().out)
    assert dry["dry_run"] is True and dry["done"] is False and dry["outcomes"] == []
    assert [t["pid"] for t in dry["plan"]["targets"]] == [victim.pid]
    assert dry["plan"]["targets"][0]["start_time"] == start and dry["plan"]["targets"][0]["cmdline"][0]
    assert main(["kill", "--pid", str(victim.pid), "--start-time", repr(start), "--yes", "--json",
                 "--audit-log", str(audit)]) == 0
    captured = capsys.readouterr()
    done = json.loads(captured.out)
    assert captured.err == ""
    assert done["dry_run"] is False and done["done"] is True and done["exit"] == 0
    [o] = done["outcomes"]
    assert (o["pid"], o["status"], o["ok"], o["sent"], o["exited"]) == (victim.pid, "killed", True, "SIGKILL", True)
    assert done["summary"] == "1 of 1 process killed" and done["audit_log"] == str(audit)
    assert not victim.alive()


def test_the_listing_shows_each_command_line_shortened_in_the_middle(memcg, hogs, capsys):
    args = ["-c", "import time; time.sleep(3600)", *(f"--option-{i}=value" for i in range(20)), "evil\x1b[2J",
            "the-leaf-argument"]
    popen = subprocess.Popen([sys.executable, *args, ], stdin=subprocess.DEVNULL)
    hogs.append(Hog("sleeper", popen))
    time.sleep(0.3)
    memcg.add_pid(popen.pid)
    assert main(["kill", "--cgroup", memcg.path, "--dry-run"]) == 0
    out = capsys.readouterr().out
    head = next(line for line in out.splitlines() if line.startswith("  PID"))
    assert head.split()[-1] == "CMD"
    row = next(line for line in out.splitlines() if line.split()[:1] == [str(popen.pid)])
    assert row.endswith("evil\\x1b[2J the-leaf-argument") and "…" in row and "\x1b" not in out
    assert row.split("  ")[-1].startswith(sys.executable[:10])
