"""nohang's victim: oom_score plus the configured regex adjustments (nohang has no test suite of its own)."""

from __future__ import annotations

import pytest

from oomtui import whatif
from oomtui.policies.base import OptionError
from oomtui.policies.nohang import POLICIES
from tests.support.daemon_snapshots import GiB, MiB, host, process, snapshot

NOHANG = POLICIES[0]

PROCS = [
    process(1, "systemd", rss=20 * MiB, oom_score=900),
    process(300, "Xorg", "/system.slice/display.service", rss=300 * MiB, oom_score=690, uid=0,
            cmdline=("/usr/lib/Xorg", ":0")),
    process(410, "firefox", "/user.slice/app.scope", rss=900 * MiB, oom_score=700, uid=1000,
            cmdline=("/usr/bin/firefox",)),
    process(420, "chrome", "/user.slice/app.scope", rss=600 * MiB, oom_score=700, uid=1000,
            cmdline=("/opt/chrome/chrome", "--type=renderer")),
    process(430, "tracker", "/user.slice/tracker.service", rss=50 * MiB, oom_score=1000, oom_score_adj=600,
            uid=1000),
    process(440, "sshd", "/system.slice/ssh.service", rss=10 * MiB, oom_score=0, oom_score_adj=-1000, uid=0),
]
SNAP = snapshot([], PROCS)


def test_highest_oom_score_wins_and_pid_1_is_never_a_victim():
    d = NOHANG.run(SNAP, "/", {})
    assert d.victim_pid == 430
    assert 1 not in {c.pid for c in d.ranking}
    assert 440 not in {c.pid for c in d.ranking}  # oom_score 0 is never looked at


def test_equal_badness_goes_to_the_first_pid():
    d = NOHANG.run(SNAP, "/", {"badness_adj": "NAME -500 /// ^tracker$"})
    assert d.victim_pid == 410  # firefox and chrome both 700: the first in /proc order
    assert "tie with pid 420" in d.uncertain


def test_adjustments_add_up_and_positive_ones_need_a_non_negative_adj():
    lines = "@BADNESS_ADJ_RE_CMDLINE 400 /// --type=renderer;; NAME 300 /// ^tracker$ ;; UID 100 /// ^1000$"
    d = NOHANG.run(SNAP, "/", {"badness_adj": lines})
    chrome = next(c for c in d.ranking if c.pid == 420)
    assert chrome.score == 700 + 400 + 100
    # A positive adjustment also needs oom_score_adj >= 0: tracker has +600, so +300 applies; a -1 adj blocks it.
    tracker = next(c for c in d.ranking if c.pid == 430)
    assert tracker.score == 1000 + 300 + 100
    assert d.victim_pid == 430
    blocked = whatif.apply(snapshot([], PROCS, adj_edits={430: -1}))
    tracker = next(c for c in NOHANG.run(blocked, "/", {"badness_adj": lines}).ranking if c.pid == 430)
    assert tracker.parts.get("NAME +300 /// ^tracker$") is None


def test_ignore_positive_oom_score_adj_takes_off_two_thirds():
    d = NOHANG.run(SNAP, "/", {"ignore_positive_oom_score_adj": "true"})
    tracker = next(c for c in d.ranking if c.pid == 430)
    assert tracker.score == 1000 - 400
    assert d.victim_pid == 410


def test_badness_clamps_at_zero_and_min_badness_can_leave_nothing():
    only = snapshot([], [process(50, "tiny", rss=MiB, oom_score=5)])
    d = NOHANG.run(only, "/", {"badness_adj": "NAME -100 /// tiny"})
    assert d.ranking[0].score == 0
    assert d.kills_nothing and "no process with badness >= 1" in d.reason


def test_soft_and_hard_thresholds():
    low = host(mem_total=16 * GiB, mem_available=16 * GiB // 25, swap_total=0, swap_free=0)  # 4 %
    assert NOHANG.run(snapshot([], PROCS, host_=low), "/", {}).triggered is True
    assert "soft" in NOHANG.run(snapshot([], PROCS, host_=low), "/", {}).reason
    assert NOHANG.run(SNAP, "/", {}).triggered is False
    swap_left = host(mem_total=16 * GiB, mem_available=GiB // 2, swap_total=8 * GiB, swap_free=4 * GiB)
    assert NOHANG.run(snapshot([], PROCS, host_=swap_left), "/", {}).triggered is False


def test_properties_the_snapshot_lacks_are_reported_not_guessed():
    d = NOHANG.run(SNAP, "/", {"badness_adj": "ENVIRON 500 /// DISPLAY"})
    assert d.victim_pid == 430
    assert "does not record ENVIRON" in d.uncertain


def test_bad_adjustment_lines_are_one_line_errors():
    with pytest.raises(OptionError, match="PROPERTY N /// REGEX"):
        NOHANG.run(SNAP, "/", {"badness_adj": "NAME two /// x"})
    with pytest.raises(OptionError, match="bad regular expression"):
        NOHANG.run(SNAP, "/", {"badness_adj": "NAME 2 /// ("})
