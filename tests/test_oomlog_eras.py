"""Which kernel's rules a report is replayed with: each feature dates it (kernel-oom.md §5.10, §5.11).

Every case is one feature (or one backport mix) added to a bare pre-5.1 kill
line, so each release boundary is pinned on its own.
"""

from __future__ import annotations

import pytest

from oomtui.oomlog import parse_report

KILL = "Killed process 5 (x) total-vm:100kB, anon-rss:40kB, file-rss:0kB"
KILL_54 = "Out of memory: Killed process 5 (x) total-vm:100kB, anon-rss:40kB, file-rss:0kB, shmem-rss:0kB, " \
          "UID:0 pgtables:4kB oom_score_adj:0"
KILL_51 = "Out of memory: Killed process 5 (x) total-vm:100kB, anon-rss:40kB, file-rss:0kB, shmem-rss:0kB"
CHOSEN = "Out of memory: Kill process 5 (x) score 10 or sacrifice child"
SUMMARY = "oom-kill:constraint=CONSTRAINT_NONE,nodemask=(null),cpuset=/,mems_allowed=0,global_oom,task_memcg=/," \
          "task=x,pid=5,uid=0"
HEADER_420 = "x invoked oom-killer: gfp_mask=0x6000c0(GFP_KERNEL), nodemask=(null), order=0, oom_score_adj=0"
HEADER_50 = "x invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=0"
TITLE = "Tasks state (memory values in pages):"
WIDE = "[  pid  ]   uid  tgid total_vm      rss pgtables_bytes swapents oom_score_adj name"
ROW = "[      5]     0     5      100       10    4096        0             0 x"
SPLIT = "[  pid  ]   uid  tgid total_vm      rss rss_anon rss_file rss_shmem pgtables_bytes swapents oom_score_adj name"
SPLIT_ROW = "[      5]     0     5      100       10       10        0         0     4096        0             0 x"
NARROW_BYTES = "[ pid ]   uid  tgid total_vm      rss pgtables_bytes swapents oom_score_adj name"
NARROW_ROW = "[    5]     0     5      100       10     4096        0             0 x"
PTES = "[ pid ]   uid  tgid total_vm      rss nr_ptes swapents oom_score_adj name"
PTES_ROW = "[    5]     0     5      100       10       1        0             0 x"
PMDS = "[ pid ]   uid  tgid total_vm      rss nr_ptes nr_pmds swapents oom_score_adj name"
PMDS_ROW = "[    5]     0     5      100       10       1       1        0             0 x"


@pytest.mark.parametrize(("lines", "release", "since", "until"), [
    pytest.param([KILL], "6.12", None, None, id="nothing dated: current rules"),
    pytest.param([HEADER_50, "CPU: 2 UID: 0 PID: 5 Comm: x Not tainted 6.12.20 #1", KILL], "6.11",
                 ((6, 11), "a CPU line with UID"), None, id="CPU line with UID: 6.11+"),
    pytest.param([TITLE, SPLIT, SPLIT_ROW, KILL], "6.8", ((6, 8), "rss_anon/rss_file/rss_shmem columns"), None,
                 id="rss_anon columns: 6.8+"),
    pytest.param([KILL_54], "5.4", ((5, 4), "UID/pgtables/oom_score_adj in the kill line"), None,
                 id="UID in the kill line: 5.4+"),
    pytest.param([KILL_51], "5.1", ((5, 1), "a prefixed Killed process line"), None,
                 id="prefixed Killed process line: 5.1+"),
    pytest.param([SUMMARY, KILL], "5.0", ((5, 0), "the oom-kill: summary line"), None, id="oom-kill summary: 5.0+"),
    pytest.param([TITLE, WIDE, ROW, KILL], "4.19", ((4, 19), "the Tasks state title"), None,
                 id="Tasks state title: 4.19+"),
    pytest.param([WIDE, ROW, KILL], "4.15", ((4, 15), "the pgtables_bytes column"), None, id="pgtables_bytes: 4.15+"),
    pytest.param([NARROW_BYTES, NARROW_ROW, KILL], "4.15", ((4, 15), "the pgtables_bytes column"),
                 ((4, 18), "the narrow [ pid ] table header"), id="narrow header: until 4.18"),
    pytest.param([PTES, PTES_ROW, KILL], "4.14", None, ((4, 14), "the nr_ptes column"), id="nr_ptes: until 4.14"),
    pytest.param([PMDS, PMDS_ROW, KILL], "4.8", ((4, 8), "the nr_pmds column"), ((4, 14), "the nr_ptes column"),
                 id="nr_pmds: 4.8 to 4.14"),
    pytest.param([HEADER_420, KILL], "4.20", None, ((4, 20), "nodemask= in the header"),
                 id="nodemask in the header: until 4.20"),
    pytest.param([CHOSEN, KILL], "5.0", None, ((5, 0), "'or sacrifice child'"), id="or sacrifice child: until 5.0"),
    pytest.param([CHOSEN, KILL_51], "5.0", None, ((5, 0), "'or sacrifice child'"),
                 id="a prefixed kill after a Kill process line is 4.19's"),
    pytest.param([HEADER_420, SUMMARY, KILL_51], "5.1", ((5, 1), "a prefixed Killed process line"),
                 ((4, 20), "nodemask= in the header"), id="backport: the newest feature wins"),
    pytest.param([CHOSEN, KILL_54], "5.0", ((5, 4), "UID/pgtables/oom_score_adj in the kill line"),
                 ((5, 0), "'or sacrifice child'"), id="backport with a sacrificed child keeps 5.0"),
])
def test_each_feature_dates_the_report(lines, release, since, until):
    """The release replayed, its bounds, and the feature the replay's note names when a printed release is older
    than the features (or newer than the removed ones)."""
    result = parse_report("\n".join(lines))
    era = result.era
    assert (era.release, era.minimum, era.maximum) == (release, since and since[0], until and until[0])
    if not any(x.startswith("CPU:") for x in lines):
        assert result.snapshot.host.kernel == f"{release} (inferred from the report's format)"
    if since:
        v, feature = since
        assert era.rules_for("2.6.32") == (release, f"the report's release 2.6.32 shows {feature}, "
                                                    f"which {v[0]}.{v[1]} and later print")
    else:
        assert era.rules_for("2.6.32") == ("2.6.32", None)
    if until and (since is None or since[0] <= until[0]):
        v, feature = until
        assert era.rules_for("9.1") == (release, f"the report's release 9.1 shows {feature}, "
                                                 f"which {v[0]}.{v[1]} and earlier print")
    elif until is None:
        assert era.rules_for("9.1") == ("9.1", None)


def test_the_printed_release_stands_unless_the_features_contradict_it():
    era = parse_report("\n".join([NARROW_BYTES, NARROW_ROW, KILL])).era  # 4.15 to 4.18
    assert era.rules_for(None) == ("4.15", None)
    assert era.rules_for("unknown") == ("4.15", None)
    assert era.rules_for("4.15.0-20-generic") == ("4.15.0-20-generic", None)
    assert era.rules_for("4.18.0-80.el8.x86_64") == ("4.18.0-80.el8.x86_64", None)
    assert era.rules_for("4.14.1") == ("4.15", "the report's release 4.14.1 shows the pgtables_bytes column, "
                                               "which 4.15 and later print")
    assert era.rules_for("4.19.3") == ("4.15", "the report's release 4.19.3 shows the narrow [ pid ] table header, "
                                               "which 4.18 and earlier print")
    assert era.rules_for("10.1")[0] == "4.15"


def test_a_contradictory_mix_keeps_the_printed_release_when_newer():
    era = parse_report("\n".join([CHOSEN, KILL_54])).era  # 5.4+ and ≤5.0 at once: no upper bound holds
    assert era.rules_for("5.10.0") == ("5.10.0", None)
    assert era.rules_for("9.1") == ("9.1", None)
    assert era.rules_for("4.19.0") == ("5.0", "the report's release 4.19.0 shows UID/pgtables/oom_score_adj in the "
                                              "kill line, which 5.4 and later print")


def test_features_that_pin_one_release_overrule_a_newer_printed_one():
    era = parse_report("\n".join([CHOSEN, SUMMARY, KILL])).era  # 5.0 exactly: the summary and 'sacrifice child'
    assert (era.release, era.minimum, era.maximum) == ("5.0", (5, 0), (5, 0))
    assert era.rules_for("5.10.0") == ("5.0", "the report's release 5.10.0 shows 'or sacrifice child', "
                                              "which 5.0 and earlier print")
    assert era.rules_for("5.0.21") == ("5.0.21", None)
