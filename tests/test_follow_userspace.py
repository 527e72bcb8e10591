"""Userspace killers' own kill lines, in the formats their sources print (file and commit named per case).

earlyoom is also run for real: Debian's binary (scripts/fetch-earlyoom.sh) in
a PID namespace of its own, where the only process it can see, and so
kill, is a hog this test started; its stderr is read line by line as a
journal would store it.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time

import pytest

from oomtui.oomlog.follow import KillEvent, KillParser, kills_in
from oomtui.oomlog.kmsg import record_to_lines
from tests.support.earlyoom import find_earlyoom, version, why_no_earlyoom
from tests.support.readable import readable


def events(*lines: str) -> list[tuple]:
    parser = KillParser()
    return [(e.killer, e.pid, e.comm, e.cgroup) for line in lines for e in parser.feed(line, 1.0)]


# rfjakob/earlyoom kill.c: v1.7 (Debian bookworm), v1.8.2 and master 5c3e3ea; victim lines as captured from
# the real binaries in research/earlyoom-dryrun.md.
V17 = 'sending SIGTERM to process 12839 uid 0 "hog_adj": badness 1202, VmRSS 113 MiB'
V182 = 'sending SIGKILL to process 12839 uid 0 "hog_adj": oom_score 1202, VmRSS 113 MiB, cmdline "x hog_adj 100"'
MASTER = ('sending SIGTERM to process 12839 uid 0 "hog_adj": oom_score 1202, oom_score_adj 800, VmRSS 113 MiB, '
          'cmdline "x hog.py hog_adj 100 800"')


@pytest.mark.parametrize("victim, exited", [
    (V17, "process exited after 0.1 seconds"),  # v1.7 names no pid here
    (V182, "process 12839 exited after 0.105 seconds"),
    (MASTER, "process 12839 exited after 0.105 seconds"),
])
def test_an_earlyoom_kill_is_its_victim_line_once_the_process_exited(victim: str, exited: str) -> None:
    assert events(victim) == [], "not yet: earlyoom only signalled it"
    assert events(victim, "escalating to SIGKILL after 0.500 seconds", exited) == [
        ("earlyoom", 12839, "hog_adj", None)]
    # As the journal shows it (journalctl's short format), and in a syslog file written with --syslog:
    assert events(f"Dec 07 11:50:46 web1 earlyoom[812]: {victim}", f"Dec 07 11:50:46 web1 earlyoom[812]: {exited}") \
        == [("earlyoom", 12839, "hog_adj", None)]


def test_earlyoom_lines_as_journald_forwards_them_to_kmsg() -> None:
    """What `KillFollower` reads: kmsg records with journald's `IDENTIFIER[PID]: ` in front."""
    parser = KillParser()
    records = [b"4,1001,5000000,-;earlyoom[812]: " + MASTER.encode(),
               b"4,1002,5100000,-;earlyoom[812]: process 12839 exited after 0.105 seconds"]
    kills = [e for r in records for line in record_to_lines(r) for e in parser.feed(line, 1.0)]
    assert [(e.killer, e.pid, e.comm) for e in kills] == [("earlyoom", 12839, "hog_adj")]


@pytest.mark.parametrize("ending", [
    "dryrun, not actually sending any signal",  # --dryrun
    "process 12839 did not exit",  # 10 s of polls, still alive
    "kill failed: Operation not permitted",
])
def test_earlyoom_lines_that_kill_nothing(ending: str) -> None:
    assert events(MASTER, ending, "process 12839 exited after 0.105 seconds") == []
    assert events('sending 0 (no-op signal) to process 5 uid 0 "x": oom_score 1, VmRSS 1 MiB',  # the self-test
                  "process 5 exited after 0.1 seconds") == []


def test_an_earlyoom_victim_name_with_quotes_and_colons() -> None:
    line = 'sending SIGTERM to process 7 uid 1000 "we\\": ird": oom_score 900, VmRSS 1 MiB, cmdline "a"'
    assert events(line, "process 7 exited after 0.1 seconds") == [("earlyoom", 7, 'we\\": ird', None)]


# facebookincubator/oomd src/oomd/plugins/BaseKillPlugin.cpp (88c28fd): pressure 10/60/300, the cgroup relative
# to the cgroup2 mount, memory.current, the ruleset, the detector group and the plugin, written to kmsg.
OOMD = ("oomd kill: 81.28 80.05 42.78 system.slice/foo.service 1073741824 ruleset:[protection against heavy "
        "workload thrashing] detectorgroup:[sustained high pressure] killer:kill_by_memory_size_or_growth v2")


def test_oomd_kill_lines() -> None:
    assert events(OOMD) == [("oomd", None, None, "/system.slice/foo.service")]
    assert events(f"[ 600.000001] {OOMD}") == [("oomd", None, None, "/system.slice/foo.service")]
    assert events(OOMD.replace("killer:kill", "killer:(dry)kill")) == [], "a dry run kills nothing"
    # SystemdRestart-inl.h restarts a service under the same tag: not a kill.
    assert events("oomd kill: restarted systemd service=foo.service (dry)") == []
    assert events("oomd kill: restarted systemd service=foo.service") == []


# systemd/systemd src/oom/oomd-manager.c: "Killed … due to" (the pressure and swap forms; later releases add
# memory used to the swap form), "Marked … for killing due to" once prekill hooks came; as journald forwards
# them to kmsg (ForwardToKMsg=yes), with the identifier.
@pytest.mark.parametrize("line", [
    "Killed /user.slice/user-1000.slice/app.scope due to memory pressure for /user.slice/user-1000.slice being "
    "71.02% > 60.00% for > 30s with reclaim activity",
    "Killed /user.slice/user-1000.slice/app.scope due to swap used (9663676416) / total (10737414144) being more "
    "than 90.00%",
    "Killed /user.slice/user-1000.slice/app.scope due to memory used (23622320128) / total (25769803776) and swap "
    "used (9663676416) / total (10737414144) being more than 90.00%",
    "Marked /user.slice/user-1000.slice/app.scope for killing due to memory pressure for /user.slice/user-1000.slice "
    "being 71.02% > 60.00% for > 30s with reclaim activity",
])
def test_systemd_oomd_kill_lines(line: str) -> None:
    for shown in (line, f"systemd-oomd[512]: {line}", f"[ 9.000001] systemd-oomd[512]: {line}"):
        assert events(shown) == [("systemd-oomd", None, None, "/user.slice/user-1000.slice/app.scope")]
    assert events("systemd-oomd[512]: oomd dry-run: Would have tried to kill /user.slice/app.scope and all its "
                  "descendants") == []


def test_a_log_with_every_killer_in_order() -> None:
    log = "\n".join([
        f"Dec 07 11:50:46 web1 earlyoom[812]: {V17}",
        "Dec 07 11:50:46 web1 earlyoom[812]: process exited after 0.1 seconds",
        f"Dec 07 11:50:47 web1 kernel: {OOMD}",
        "Dec 07 11:50:48 web1 systemd-oomd[512]: Killed /a.scope due to swap used (9) / total (10) being more "
        "than 90.00%",
    ])
    assert [(e.killer, e.pid, e.cgroup) for e in kills_in(log)] == [
        ("earlyoom", 12839, None), ("oomd", None, "/system.slice/foo.service"), ("systemd-oomd", None, "/a.scope")]


def _earlyoom_in_its_own_pid_namespace(options: list[str], until: str) -> list[str]:
    """The real earlyoom as PID 1 of a new PID namespace beside one hog (PID 2 there), with thresholds that
    hold at once: its stderr lines up to the first that contains `until` (or 30 s)."""
    binary = find_earlyoom()
    assert binary is not None
    hog = ("import os, time; open('/proc/self/comm', 'w').write('eo-victim'); b = bytearray(32 << 20); "
           "b[::4096] = b'x' * len(b[::4096]); time.sleep(60)")
    script = f'"$0" -c "$1" & sleep 1; exec "$2" {" ".join(options)} -r 0'
    child = subprocess.Popen(["unshare", "--pid", "--kill-child", "--mount-proc", "sh", "-c", script,
                              sys.executable, hog, str(binary)],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    assert child.stderr is not None
    lines: list[str] = []
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not any(until in line for line in lines):
            if readable(child.stderr, 0.2):
                line = child.stderr.readline()
                if not line:
                    break
                lines.append(line.rstrip("\n"))
    finally:
        child.kill()  # unshare, our own child; --kill-child takes its namespace's PID 1, and with it the hog
        child.communicate(timeout=10)
    return lines


@pytest.mark.kernel
@pytest.mark.skipif(why_no_earlyoom() is not None, reason=why_no_earlyoom() or "")
@pytest.mark.skipif(shutil.which("unshare") is None, reason="no unshare (util-linux) to give earlyoom its own PIDs")
def test_the_real_earlyoom_killing_its_only_visible_process() -> None:
    binary = find_earlyoom()
    assert binary is not None
    lines = _earlyoom_in_its_own_pid_namespace(["-m", "99,1", "-s", "100,100"], "exited after")
    parser = KillParser()
    kills = [e for line in lines for e in parser.feed(line, 1.0)]
    assert kills, f"earlyoom {version(binary)} killed nothing: {lines}"
    first: KillEvent = kills[0]
    assert (first.killer, first.pid, first.comm) == ("earlyoom", 2, "eo-victim"), lines

    dry = _earlyoom_in_its_own_pid_namespace(["--dryrun", "-m", "99,1", "-s", "100,100"], "dryrun, not")
    assert any("dryrun, not actually sending any signal" in line for line in dry), dry
    parser = KillParser()
    assert [e for line in dry for e in parser.feed(line, 1.0)] == [], "a dry run kills nothing"
