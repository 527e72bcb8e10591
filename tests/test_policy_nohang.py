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


# -- what a decision says: badness term by term, the thresholds, the notes ---------------------------------------

CALM = "MemAvailable 8.0 GiB, SwapFree 0 B: above the soft threshold"


def test_the_reason_and_ranking_show_each_badness_term():
    d = NOHANG.run(SNAP, "/", {})
    assert (d.policy, d.domain, d.triggered) == ("nohang", "/", False)
    assert d.reason == f"nohang picks pid 430 'tracker' with badness 1000 ({CALM}); 50.0 MiB freed"
    assert (d.victim_pid, d.victim_pid_cgroup, d.killed_pids) == (430, "/user.slice/tracker.service", (430,))
    assert [c.cgroup for c in d.ranking] == ["/user.slice/tracker.service", "/user.slice/app.scope",
                                             "/user.slice/app.scope", "/system.slice/display.service"]
    assert d.uncertain is None
    assert [(c.pid, c.score, c.why) for c in d.ranking] == [
        (430, 1000, "'tracker': oom_score 1000 = badness 1000"),
        (410, 700, "'firefox': oom_score 700 = badness 700"),
        (420, 700, "'chrome': oom_score 700 = badness 700"),
        (300, 690, "'Xorg': oom_score 690 = badness 690"),
    ]
    assert d.ranking[0].parts == {"oom_score": 1000, "oom_score_source": "read", "badness": 1000}


def test_every_matching_line_and_the_positive_adj_discount_are_listed():
    lines = "@BADNESS_ADJ_RE_CMDLINE 400 /// --type=renderer;; NAME 300 /// ^tracker$ ;; UID 100 /// ^1000$"
    d = NOHANG.run(SNAP, "/user.slice", {"badness_adj": lines, "ignore_positive_oom_score_adj": "1"})
    assert d.reason == (f"nohang picks pid 420 'chrome' with badness 1200 ({CALM}); "
                        "it watches the whole host, not /user.slice; 600.0 MiB freed")
    assert [(c.pid, c.why) for c in d.ranking[:2]] == [
        (420, "'chrome': oom_score 700, +400 (CMDLINE +400 /// --type=renderer), +100 (UID +100 /// ^1000$) "
              "= badness 1200"),
        (430, "'tracker': oom_score 1000, -400 (ignore_positive_oom_score_adj), +300 (NAME +300 /// ^tracker$), "
              "+100 (UID +100 /// ^1000$) = badness 1000"),
    ]
    assert d.ranking[1].parts == {"oom_score": 1000, "oom_score_source": "read", "ignore_positive_oom_score_adj": -400,
                                  "NAME +300 /// ^tracker$": 300, "UID +100 /// ^1000$": 100, "badness": 1000}


def test_a_non_positive_line_applies_whatever_the_adj_and_a_positive_one_needs_adj_at_least_zero():
    procs = [process(10, "neg", rss=MiB, oom_score=500, oom_score_adj=-5), process(11, "zero", rss=MiB, oom_score=500)]
    d = NOHANG.run(snapshot([], procs), "/", {"badness_adj": "NAME 0 /// ^neg$;; NAME 1 /// e"})
    assert {c.pid: c.why for c in d.ranking} == {
        10: "'neg': oom_score 500, +0 (NAME +0 /// ^neg$) = badness 500",
        11: "'zero': oom_score 500, +1 (NAME +1 /// e) = badness 501",
    }
    # a positive oom_score_adj of 1 discounts nothing (1 * 2 // 3), of 0 nothing at all
    d = NOHANG.run(snapshot([], [process(12, "one", rss=MiB, oom_score=500, oom_score_adj=1), procs[1]]), "/",
                   {"ignore_positive_oom_score_adj": "1"})
    assert [c.why for c in d.ranking] == ["'zero': oom_score 500 = badness 500",
                                          "'one': oom_score 500, +0 (ignore_positive_oom_score_adj) = badness 500"]


def test_a_uid_that_was_not_read_matches_no_uid_line():
    procs = [process(10, "known", rss=MiB, oom_score=500, uid=0), process(11, "unread", rss=MiB, oom_score=501)]
    assert NOHANG.run(snapshot([], procs), "/", {"badness_adj": "UID 100 /// .*"}).victim_pid == 10


@pytest.mark.parametrize(("available", "swap_free", "options", "triggered", "says"), [
    (5 * GiB, 10 * GiB, {}, True, "MemAvailable 5.0 GiB, SwapFree 10.0 GiB: below the soft threshold (SIGTERM)"),
    (5 * GiB + 1, 10 * GiB, {}, False, "MemAvailable 5.0 GiB, SwapFree 10.0 GiB: above the soft threshold"),
    (5 * GiB, 10 * GiB + 1, {}, False, ": above the soft threshold"),
    (2 * GiB, 4 * GiB, {}, True, "MemAvailable 2.0 GiB, SwapFree 4.0 GiB: below the hard threshold (SIGKILL)"),
    (2 * GiB, 4 * GiB + 1, {}, True, ": below the soft threshold (SIGTERM)"),
    (2 * GiB + 1, 4 * GiB, {}, True, ": below the soft threshold (SIGTERM)"),
    (10 * GiB, 10 * GiB, {"soft_threshold_min_mem": "10"}, True, ": below the soft threshold (SIGTERM)"),
    (5 * GiB, 20 * GiB, {"soft_threshold_min_swap": "20"}, True, ": below the soft threshold (SIGTERM)"),
    (3 * GiB, 4 * GiB, {"hard_threshold_min_mem": "3"}, True, ": below the hard threshold (SIGKILL)"),
    (2 * GiB, 5 * GiB, {"hard_threshold_min_swap": "5"}, True, ": below the hard threshold (SIGKILL)"),
])
def test_soft_and_hard_thresholds_are_at_most_both_percentages(available, swap_free, options, triggered, says):
    """Of 100 GiB memory and 100 GiB swap: soft at 5 % and 10 %, hard at 2 % and 4 % by default."""
    h = host(mem_total=100 * GiB, mem_available=available, swap_total=100 * GiB, swap_free=swap_free)
    d = NOHANG.run(snapshot([], PROCS, host_=h), "/", options)
    assert d.triggered is triggered
    assert f"{says});" in d.reason


@pytest.mark.parametrize("unknown", ["mem_total", "mem_available", "swap_total", "swap_free"])
def test_unknown_figures_leave_the_trigger_unknown(unknown):
    d = NOHANG.run(snapshot([], PROCS, host_=host(**{"swap_total": GiB, "swap_free": 0, unknown: None})), "/", {})
    assert d.triggered is None and "(memory or swap figures unknown)" in d.reason


def test_min_badness_is_the_lowest_badness_that_acts():
    only = snapshot([], [process(50, "tiny", rss=MiB, oom_score=5)])
    assert NOHANG.run(only, "/", {"min_badness": "5"}).victim_pid == 50
    d = NOHANG.run(only, "/x", {"min_badness": "6"})
    assert d.kills_nothing and (d.policy, d.domain, d.triggered) == ("nohang", "/x", False)
    assert d.reason == ("nohang finds no process with badness >= 6 (MemAvailable 8.0 GiB, SwapFree 0 B: above the "
                        "soft threshold); it watches the whole host, not /x")
    assert [c.pid for c in d.ranking] == [50]


def test_a_tie_names_up_to_three_equals_and_a_lower_badness_is_no_tie():
    procs = [process(60 + i, f"w{i}", rss=MiB, oom_score=700 - (i == 4)) for i in range(6)]
    d = NOHANG.run(snapshot([], procs), "/", {})
    assert d.victim_pid == 60
    assert d.uncertain == ("badness tie with pid 61, pid 62, pid 63: the first in /proc order wins, "
                           "which a pid wrap-around can change")
    two = NOHANG.run(snapshot([], [procs[0], procs[4]]), "/", {})
    assert two.victim_pid == 60 and two.uncertain is None


def test_lines_on_properties_a_snapshot_lacks_are_listed_once_per_property():
    lines = "CWD -5 /// ^/tmp;; ENVIRON 500 /// DISPLAY;; NAME 1 /// x;; CWD 7 /// home"
    d = NOHANG.run(SNAP, "/", {"badness_adj": lines})
    assert d.uncertain == ("the snapshot does not record CWD, ENVIRON; not applied: CWD -5 /// ^/tmp; "
                           "ENVIRON +500 /// DISPLAY; CWD +7 /// home")


def test_kernel_threads_and_unknown_scores_are_never_weighed():
    procs = [process(2, "kthreadd", oom_score=900, kernel_thread=True), process(20, "unread", rss=GiB, oom_score=None),
             process(21, "app", rss=MiB, oom_score=10)]
    d = NOHANG.run(snapshot([], procs, host_=host(mem_total=None, mem_available=None)), "/", {})
    assert d.victim_pid == 21 and [c.pid for c in d.ranking] == [21]
    assert d.uncertain == "oom_score of pid 20 unknown (no MemTotal to compute it from); they were left out"


def test_a_bad_regex_names_the_option_the_line_and_the_regex():
    with pytest.raises(OptionError) as refused:
        NOHANG.run(SNAP, "/", {"badness_adj": "NAME 2 /// ("})
    assert str(refused.value).startswith("nohang.badness_adj='NAME 2 /// (': bad regular expression '(': ")


def test_an_oom_score_of_one_is_weighed():
    """nohang's fast search looks at every oom_score >= 1."""
    d = NOHANG.run(snapshot([], [process(50, "idle", rss=MiB, oom_score=1), process(51, "zero", oom_score=0)]), "/", {})
    assert d.victim_pid == 50 and [c.pid for c in d.ranking] == [50]


def test_a_late_process_between_the_last_two_of_twenty_still_enters_the_ranking():
    """The ranking keeps nohang's 20 highest badnesses whatever order /proc lists them in."""
    procs = [process(100 + i, f"w{i}", rss=MiB, oom_score=100 + 2 * i) for i in range(20)]
    procs.append(process(120, "late", rss=MiB, oom_score=101))
    d = NOHANG.run(snapshot([], procs), "/", {})
    assert [(c.pid, c.score) for c in d.ranking] == [(119 - i, 138 - 2 * i) for i in range(19)] + [(120, 101)]


def test_an_adjustment_lifts_a_low_oom_score_listed_after_twenty_higher_ones():
    procs = [process(100 + i, f"w{i}", rss=MiB, oom_score=500) for i in range(20)]
    procs.append(process(120, "late", rss=MiB, oom_score=100))
    d = NOHANG.run(snapshot([], procs), "/", {"badness_adj": "NAME 1000 /// ^late$"})
    assert d.victim_pid == 120
    assert d.ranking[0].why == "'late': oom_score 100, +1000 (NAME +1000 /// ^late$) = badness 1100"


def test_unread_scores_of_pid_1_and_kernel_threads_are_not_noted():
    """nohang never weighs them, so a computed score of theirs is no uncertainty of its decision."""
    procs = [process(1, "systemd", rss=MiB, oom_score=None), process(2, "kthreadd", oom_score=None, kernel_thread=True),
             process(30, "app", rss=GiB, oom_score=None), process(31, "other", rss=MiB, oom_score=10)]
    d = NOHANG.run(snapshot([], procs), "/", {})
    assert [c.pid for c in d.ranking] == [30, 31]
    assert d.uncertain == ("oom_score of pid 30 computed from the kernel formula (what-if edits or unread oom_score); "
                           "the real value may differ by a point")
