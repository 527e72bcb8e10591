"""Detecting the OOM killers in force, from their processes and their config files laid out in fixture trees."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from oomtui.collect.killer_config import OOMD_OPTIONS, earlyoom_settings, kubelet_config_threshold
from oomtui.collect.killers import KillerCache, detect_killers
from oomtui.collect.systemd_units import seconds, slice_path
from oomtui.model import Killer, Process
from oomtui.policies import registry

GiB = 1 << 30
MEM = 16 * GiB


def daemon(pid: int, comm: str, *argv: str) -> Process:
    return Process(pid=pid, comm=comm, cgroup="/", oom_score_adj=-100, cmdline=tuple(argv))


def write(root: Path, rel: str, text: str) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def detect(root: Path, *procs: Process, swap: int = 0) -> dict[str, Killer]:
    found = detect_killers(procs, mem_total=MEM, swap_total=swap, root=str(root), proc=str(root / "proc"))
    return {k.name: k for k in found}


def test_nothing_running_means_none_in_force(tmp_path: Path) -> None:
    write(tmp_path, "etc/default/earlyoom", 'EARLYOOM_ARGS="-m 5"\n')  # installed but not running
    assert detect(tmp_path, daemon(1, "systemd", "/sbin/init"), daemon(50, "bash", "bash")) == {}


def test_earlyoom_from_its_command_line(tmp_path: Path) -> None:
    k = detect(tmp_path, daemon(812, "earlyoom", "/usr/bin/earlyoom", "-m", "5", "-s5,2", "--prefer", "^java$",
                                "--avoid=^(sshd|init)$", "--sort-by-rss", "-r", "3600", "-n"))["earlyoom"]
    assert k.pid == 812 and k.source == "command line of pid 812"
    assert dict(k.settings) == {"mem_min_percent": "5", "swap_min_percent": "5", "prefer": "^java$",
                                "avoid": "^(sshd|init)$", "sort_by_rss": "true"}


def test_earlyoom_size_threshold_becomes_a_percentage_and_the_lower_wins() -> None:
    assert earlyoom_settings(["earlyoom", "-M", str(MEM // 1024 // 20)], MEM) == {"mem_min_percent": "5"}
    assert earlyoom_settings(["earlyoom", "-m", "3", "-M", str(MEM // 1024 // 10)], MEM) == {"mem_min_percent": "3"}
    assert earlyoom_settings(["earlyoom", "-dm", "7"], MEM) == {"mem_min_percent": "7"}


def test_earlyoom_unreadable_command_line_falls_back_to_etc_default(tmp_path: Path) -> None:
    write(tmp_path, "etc/default/earlyoom", "# comment\nEARLYOOM_ARGS=\"-m 4 --avoid '(^|/)(init|sshd)$'\"\n")
    k = detect(tmp_path, daemon(900, "earlyoom"))["earlyoom"]
    assert dict(k.settings) == {"mem_min_percent": "4", "avoid": "(^|/)(init|sshd)$"}
    assert k.source.startswith("/etc/default/earlyoom")


def test_earlyoom_version_is_read_from_its_binary(tmp_path: Path) -> None:
    write(tmp_path, "proc/812/exe", "\x00junk\x00earlyoom v1.7\n\x00Option -i is ignored since earlyoom v1.2\n")
    k = detect(tmp_path, daemon(812, "earlyoom", "earlyoom"))["earlyoom"]
    assert k.settings["version"] == "1.7"


NOHANG_CONF = """\
## nohang config
soft_threshold_min_mem = 8 %
soft_threshold_min_swap = 1 G
hard_threshold_min_mem = 3 %
hard_threshold_min_swap = 4 %
ignore_positive_oom_score_adj = True
min_badness = 20
@BADNESS_ADJ_RE_NAME 200 /// ^Web Content$
@BADNESS_ADJ_RE_CGROUP_V2 -100 /// ^/system\\.slice/
"""


def test_nohang_config_named_on_its_command_line(tmp_path: Path) -> None:
    write(tmp_path, "srv/nohang.conf", NOHANG_CONF)
    k = detect(tmp_path, daemon(77, "nohang", "/usr/bin/python3", "/usr/sbin/nohang", "-c", "/srv/nohang.conf"),
               swap=4 * GiB)["nohang"]
    assert k.source == "/srv/nohang.conf"
    assert dict(k.settings) == {
        "soft_threshold_min_mem": "8", "soft_threshold_min_swap": "25", "hard_threshold_min_mem": "3",
        "hard_threshold_min_swap": "4", "ignore_positive_oom_score_adj": "true", "min_badness": "20",
        "badness_adj": "@BADNESS_ADJ_RE_NAME 200 /// ^Web Content$\n"
                       "@BADNESS_ADJ_RE_CGROUP_V2 -100 /// ^/system\\.slice/",
    }
    registry.get("nohang").resolve_options(k.settings)  # every setting parses as the policy's option


def test_nohang_min_badness_in_other_digits_is_left_out(tmp_path: Path) -> None:
    write(tmp_path, "etc/nohang/nohang.conf", "min_badness = ٢٠\nsoft_threshold_min_mem = 6 %\n")
    k = detect(tmp_path, daemon(77, "python3", "python3", "/usr/bin/nohang", "--monitor"))["nohang"]
    assert dict(k.settings) == {"soft_threshold_min_mem": "6"}


def test_nohang_default_config_path(tmp_path: Path) -> None:
    write(tmp_path, "etc/nohang/nohang.conf", "soft_threshold_min_mem = 6 %\n")
    k = detect(tmp_path, daemon(77, "python3", "python3", "/usr/bin/nohang", "--monitor"))["nohang"]
    assert dict(k.settings) == {"soft_threshold_min_mem": "6"} and k.source == "/etc/nohang/nohang.conf"


OOMD_JSON = {
    "rulesets": [
        {"name": "user session protection",
         "detectors": [["user pressure above 60 for 30s", {"name": "pressure_above",
                                                           "args": {"cgroup": "user.slice", "threshold": "60"}}]],
         "actions": [{"name": "kill_by_memory_size_or_growth",
                      "args": {"cgroup": "user.slice/user-*.slice/session-*.scope,system.slice/*",
                               "size_threshold": "30", "post_action_delay": "20"}}]},
        {"name": "protection against low swap",
         "detectors": [["free swap below 10%", {"name": "swap_free", "args": {"threshold_pct": "10"}}]],
         "actions": [{"name": "kill_by_swap_usage", "args": {"cgroup": "system.slice/*", "threshold": "5%",
                                                               "biased_swap_kill": True}}]},
    ],
}


def test_oomd_rulesets_become_its_plugins_options(tmp_path: Path) -> None:
    write(tmp_path, "etc/oomd/oomd.json", json.dumps(OOMD_JSON))
    k = detect(tmp_path, daemon(300, "oomd", "/usr/bin/oomd", "--interval", "1"))["oomd"]
    assert dict(k.settings) == {
        "oomd-size-or-growth.cgroup": "user.slice/user-*.slice/session-*.scope,system.slice/*",
        "oomd-size-or-growth.size_threshold": "30",
        "oomd-swap.cgroup": "system.slice/*", "oomd-swap.threshold": "5%", "oomd-swap.biased_swap_kill": "true",
    }
    assert k.source.startswith("/etc/oomd/oomd.json (rulesets user session protection, protection against low swap")


def test_oomd_broken_config_is_said_not_raised(tmp_path: Path) -> None:
    write(tmp_path, "etc/custom.json", "{not json")
    k = detect(tmp_path, daemon(300, "oomd", "oomd", "--config", "/etc/custom.json"))["oomd"]
    assert dict(k.settings) == {} and "not valid JSON" in k.source


def test_oomd_option_names_match_the_policies() -> None:
    for policy, names in OOMD_OPTIONS.items():
        assert set(names) <= {o.name for o in registry.get(policy).options}, policy


def test_systemd_oomd_conf_dropins_and_managed_units(tmp_path: Path) -> None:
    write(tmp_path, "etc/systemd/oomd.conf", "[OOM]\nSwapUsedLimit=80%\nDefaultMemoryPressureDurationSec=20s\n")
    write(tmp_path, "etc/systemd/oomd.conf.d/10-limit.conf", "[OOM]\nDefaultMemoryPressureLimit=50%\n")
    write(tmp_path, "usr/lib/systemd/system/-.slice", "[Slice]\nManagedOOMSwap=kill\n")
    write(tmp_path, "usr/lib/systemd/system/user@.service", "[Service]\nManagedOOMMemoryPressure=kill\n")
    write(tmp_path, "usr/lib/systemd/system/user.slice", "[Slice]\n")
    write(tmp_path, "etc/systemd/system/user.slice.d/10-oomd.conf",
          "[Slice]\nManagedOOMMemoryPressure=kill\nManagedOOMMemoryPressureLimit=40%\n")
    write(tmp_path, "usr/lib/systemd/system/db.service", "[Service]\nSlice=data.slice\nManagedOOMMemoryPressure=kill\n")
    write(tmp_path, "etc/systemd/system/db.service.d/off.conf", "[Service]\nManagedOOMMemoryPressure=auto\n")
    write(tmp_path, "usr/lib/systemd/system/web.service", "[Service]\nSlice=apps-web.slice\nManagedOOMSwap=kill\n")
    (tmp_path / "etc/systemd/system/www.service").symlink_to("../../../usr/lib/systemd/system/web.service")  # alias
    (tmp_path / "etc/systemd/system/batch.service").symlink_to("/dev/null")  # masked
    write(tmp_path, "usr/lib/systemd/system/batch.service", "[Service]\nManagedOOMSwap=kill\n")
    k = detect(tmp_path, daemon(400, "systemd-oomd", "/usr/lib/systemd/systemd-oomd"))["systemd-oomd"]
    assert dict(k.settings) == {
        "swap_used_limit": "80", "mem_pressure_limit": "40", "mem_pressure_duration": "20",
        "systemd-oomd-swap.monitored": "/,/apps.slice/apps-web.slice/web.service",
        "systemd-oomd-pressure.monitored": "/user.slice",
    }
    assert k.source == ("/etc/systemd/oomd.conf, /etc/systemd/oomd.conf.d/10-limit.conf, "
                        "units -.slice user.slice web.service")
    for policy in ("systemd-oomd-swap", "systemd-oomd-pressure"):
        registry.get(policy)  # the dotted keys name real policies


def test_systemd_units_helpers() -> None:
    assert slice_path("-.slice") == "/"
    assert slice_path("user-1000.slice") == "/user.slice/user-1000.slice"
    assert seconds("1min 30s") == "90" and seconds("500ms") == "0.5" and seconds("soon") is None


def test_kubelet_threshold_from_flags_over_config(tmp_path: Path) -> None:
    write(tmp_path, "var/lib/kubelet/config.yaml", "kind: KubeletConfiguration\nevictionHard:\n"
          "  imagefs.available: 15%\n  memory.available: \"500Mi\"\n  nodefs.available: 10%\n")
    k = detect(tmp_path, daemon(1500, "kubelet", "/usr/bin/kubelet", "--config=/var/lib/kubelet/config.yaml"))
    assert dict(k["kubelet"].settings) == {"threshold": "500Mi"}
    assert k["kubelet"].source == "/var/lib/kubelet/config.yaml (evictionHard)"
    k = detect(tmp_path, daemon(1500, "kubelet", "kubelet", "--config", "/var/lib/kubelet/config.yaml",
                                "--eviction-hard=memory.available<5%,nodefs.available<10%"))
    assert dict(k["kubelet"].settings) == {"threshold": "5%"}
    assert k["kubelet"].source == "--eviction-hard of pid 1500"


@pytest.mark.parametrize("text, want", [
    ('{"kind": "KubeletConfiguration", "evictionHard": {"memory.available": "1Gi"}}', "1Gi"),
    ("evictionHard: {memory.available: 200Mi, nodefs.available: 10%}\n", "200Mi"),
    ("evictionSoft:\n  memory.available: 1Gi\nevictionHard:\n  nodefs.available: 10%\nfoo: 1\n", None),
    ("kind: KubeletConfiguration\n", None),
])
def test_kubelet_config_forms(text: str, want: str | None) -> None:
    assert kubelet_config_threshold(text) == want


def test_kubelet_without_a_threshold_keeps_the_default(tmp_path: Path) -> None:
    k = detect(tmp_path, daemon(1500, "kubelet", "kubelet"))["kubelet"]
    assert dict(k.settings) == {} and "default" in k.source


def test_the_collectors_cache_redetects_when_a_daemon_restarts_or_the_ttl_passes(tmp_path: Path) -> None:
    write(tmp_path, "etc/nohang/nohang.conf", "soft_threshold_min_mem = 6 %\n")
    cache = KillerCache(str(tmp_path), str(tmp_path / "proc"), ttl=3600)
    first = [daemon(1, "systemd"), daemon(77, "nohang", "nohang")]
    assert cache.detect(first, MEM, 0)[0].settings["soft_threshold_min_mem"] == "6"
    write(tmp_path, "etc/nohang/nohang.conf", "soft_threshold_min_mem = 9 %\n")
    assert cache.detect(first, MEM, 0)[0].settings["soft_threshold_min_mem"] == "6"  # same daemon: not re-read
    restarted = [daemon(1, "systemd"), daemon(78, "nohang", "nohang")]
    assert cache.detect(restarted, MEM, 0)[0].settings["soft_threshold_min_mem"] == "9"
    write(tmp_path, "etc/nohang/nohang.conf", "soft_threshold_min_mem = 3 %\n")
    cache.ttl = 0
    assert cache.detect(restarted, MEM, 0)[0].settings["soft_threshold_min_mem"] == "3"
    assert cache.detect([daemon(1, "systemd")], MEM, 0) == ()


def test_a_config_path_naming_a_fifo_is_not_waited_on(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "trap")
    k = detect(tmp_path, daemon(77, "nohang", "nohang", "-c", "/trap"))["nohang"]
    assert dict(k.settings) == {} and "no config file found" in k.source


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to give a file to another user")
def test_a_process_merely_named_like_a_daemon_is_not_one(tmp_path: Path) -> None:
    write(tmp_path, "proc/812/exe", "a user's own program")
    os.chown(tmp_path / "proc" / "812" / "exe", 65534, 65534)
    write(tmp_path, "home/u/nohang", "#!/usr/bin/python3")
    os.chown(tmp_path / "home" / "u" / "nohang", 65534, 65534)
    fake = [daemon(812, "earlyoom", "./earlyoom", "-m", "90"), daemon(813, "python3", "python3", "/home/u/nohang")]
    assert detect(tmp_path, *fake) == {}
    write(tmp_path, "proc/900/exe", "root's earlyoom")
    assert set(detect(tmp_path, *fake, daemon(900, "earlyoom", "earlyoom"))) == {"earlyoom"}
