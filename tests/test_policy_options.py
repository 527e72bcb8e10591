"""What a user gives as `--option POLICY.KEY=VALUE` is what the policy decides with, and a bad value is one line.

Each accepted spelling is the one the daemon's own configuration takes
(oomd's sizes and percentages, systemd-oomd's seconds and cgroup paths,
earlyoom's and nohang's percentages); each refusal names the option, the
value and what was expected.
"""

from __future__ import annotations

import pytest

from oomtui.policies.base import OptionError
from oomtui.policies.registry import policies
from tests.support import daemon_snapshots as daemon

MiB, GiB = 1 << 20, 1 << 30


def resolved(policy: str, key: str, raw: str):
    return policies()[policy].resolve_options({key: raw})[key]


@pytest.mark.parametrize(("policy", "key", "raw", "value"), [
    ("earlyoom", "mem_min_percent", "0", 0.0),
    ("earlyoom", "mem_min_percent", "100", 100.0),
    ("earlyoom", "swap_min_percent", " 12.5% ", 12.5),
    ("nohang", "min_badness", "0", 0),
    ("nohang", "min_badness", " 7 ", 7),
    ("oomd-swap", "threshold", "512M", ("bytes", 512 * MiB)),
    ("oomd-swap", "threshold", "2g", ("bytes", 2 * GiB)),
    ("oomd-swap", "threshold", "1.5 G", ("bytes", 1.5 * GiB)),
    ("oomd-swap", "threshold", "64k", ("bytes", 64 * 1024)),
    ("oomd-swap", "threshold", "100", ("bytes", 100 * MiB)),
    ("oomd-swap", "threshold", "25%", ("percent", 25.0)),
    ("oomd-size-or-growth", "size_threshold", "+40", 40),
    ("oomd-size-or-growth", "growing_size_percentile", "99", 99),
    ("oomd-pressure", "resource", " Memory ", "memory"),
    ("systemd-oomd-pressure", "mem_pressure_duration", "30s", 30.0),
    ("systemd-oomd-pressure", "mem_pressure_duration", "1.5", 1.5),
    ("systemd-oomd-pressure", "monitored", "/a/, b ,/Xwayland.scope/", ("/a", "/b", "/Xwayland.scope")),
    ("systemd-oomd-pressure", "monitored", "/", ("/",)),
])
def test_accepted_values(policy, key, raw, value):
    assert resolved(policy, key, raw) == value


@pytest.mark.parametrize(("policy", "key", "raw", "message"), [
    ("earlyoom", "mem_min_percent", "101", "expected a percentage from 0 to 100"),
    ("earlyoom", "mem_min_percent", "-1", "expected a percentage from 0 to 100"),
    ("earlyoom", "mem_min_percent", "5X", "expected a percentage from 0 to 100"),
    ("nohang", "soft_threshold_min_mem", "five", "expected a percentage from 0 to 100"),
    ("nohang", "min_badness", "-1", "expected an integer >= 0"),
    ("oomd-swap", "threshold", "lots", 'expected a size such as "512M", "2G", a bare number of MiB, or "N%"'),
    ("oomd-size-or-growth", "size_threshold", "-5", "expected a non-negative integer"),
    ("oomd-size-or-growth", "growing_size_percentile", "100", "must be below 100 (oomd refuses to start otherwise)"),
    ("oomd-pressure", "resource", "disk", "expected one of memory, io"),
    ("systemd-oomd-pressure", "mem_pressure_duration", "-1s", "expected seconds >= 0"),
])
def test_refused_values_say_what_was_expected(policy, key, raw, message):
    with pytest.raises(OptionError) as refused:
        resolved(policy, key, raw)
    assert str(refused.value) == f"{policy}.{key}={raw!r}: {message}"


# -- nohang's badness_adj lines: each property matches what nohang matches it against ----------


def nohang_victim(adjustments: str) -> int | None:
    procs = [daemon.process(1, "systemd", rss=20 * MiB, oom_score=900),
             daemon.process(300, "Xorg", "/system.slice/display.service", rss=300 * MiB, oom_score=600, uid=0,
                            cmdline=("/usr/lib/Xorg", ":0")),
             daemon.process(410, "firefox", "/user.slice/app.scope", rss=900 * MiB, oom_score=700, uid=1000,
                            cmdline=("/usr/bin/firefox", "--new-window"))]
    return policies()["nohang"].run(daemon.snapshot([], procs), "/", {"badness_adj": adjustments}).victim_pid


@pytest.mark.parametrize("line", [
    "NAME 200 /// ^Xorg$",
    "CMDLINE 200 /// ^/usr/lib/Xorg :0$",  # the arguments joined by single spaces
    "UID 200 /// ^0$",
    "CGROUP_V1 200 /// ^/system.slice/display",
    "@BADNESS_ADJ_RE_CGROUP_V2 200 /// display.service$",
])
def test_each_property_can_lift_xorg_over_firefox(line):
    assert nohang_victim("") == 410
    assert nohang_victim(line) == 300


def test_blank_entries_between_adjustments_are_skipped_not_the_end():
    assert nohang_victim("NAME 50 /// ^Xorg$;;;;\n\nUID 150 /// ^0$") == 300
    assert nohang_victim("NAME 50 /// ^Xorg$;;;;\n\nUID 20 /// ^0$") == 410


def test_an_unknown_property_names_the_known_ones():
    with pytest.raises(OptionError) as refused:
        nohang_victim("COLOUR 5 /// red")
    assert str(refused.value) == (
        "nohang.badness_adj='COLOUR 5 /// red': expected 'PROPERTY N /// REGEX' with PROPERTY one of "
        "NAME, CMDLINE, UID, CGROUP_V1, CGROUP_V2, ENVIRON, REALPATH, CWD, got 'COLOUR 5 /// red'")
