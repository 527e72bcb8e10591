"""Killers in force: their settings as option defaults, who acts first on hand-worked hosts, what cannot run here.

The hand-made host has 1000 MiB of RAM, 500 MiB available and no swap, so
every distance below can be worked out on paper.
"""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from oomtui import inforce
from oomtui import snapshot as snapshot_file
from oomtui.cli import main
from oomtui.model import Killer, Snapshot, frozen_map
from tests.support.handmade import MiB, cgroup, proc, snapshot


def host_with(*killers: Killer, mode: str = "v2", **kw: object) -> Snapshot:
    s = snapshot(
        [cgroup("/"), cgroup("/a", 200, memory_max=256 * MiB), cgroup("/b", 300)],
        [proc(10, "/a", 150, comm="java"), proc(11, "/b", 300, comm="postgres"), proc(12, "/b", 20, comm="sshd")],
        **kw,
    )
    return s.replace(host=replace(s.host, killers=killers, cgroup_mode=mode))


def earlyoom(**settings: str) -> Killer:
    return Killer("earlyoom", 812, frozen_map(settings), "command line of pid 812")


def ranked(s: Snapshot, domain: str = "/", given: dict | None = None) -> list[inforce.Ranked]:
    return inforce.evaluate_in_force(s, domain, None, given)


def by_policy(rows: list[inforce.Ranked]) -> dict[str, inforce.Ranked]:
    return {r.decision.policy: r for r in rows}


def test_earlyoom_threshold_nearer_than_the_kernels_exhaustion_acts_first() -> None:
    # earlyoom 1.7 -m 10 acts at 10 % of 1000 MiB = 100 MiB available: 400 MiB away; the kernel at 0: 500 MiB away.
    rows = ranked(host_with(earlyoom(mem_min_percent="10", version="1.7")))
    assert [r.decision.policy for r in rows[:2]] == ["earlyoom", "kernel"]
    assert rows[0].standing.distance == 400 * MiB and rows[1].standing.distance == 500 * MiB
    assert rows[0].standing.acts_at == "MemAvailable ≤ 10% (100.0 MiB) and free swap ≤ 10%"
    assert rows[1].standing.acts_at == "RAM exhausted"
    assert inforce.first_to_act(rows) is rows[0]


def test_a_limited_cgroup_reaches_its_limit_before_earlyoom_acts() -> None:
    # /a has 56 MiB left under its 256 MiB limit; memory used there brings earlyoom only 56 of its 400 MiB nearer.
    rows = ranked(host_with(earlyoom(mem_min_percent="10", version="1.7")), "/a")
    assert [r.decision.policy for r in rows[:2]] == ["kernel", "earlyoom"]
    assert rows[0].standing.distance == 56 * MiB
    assert rows[0].standing.acts_at == "/a at its limit of 256.0 MiB"


def test_the_nearest_of_several_daemons_comes_first() -> None:
    nohang = Killer("nohang", 77, frozen_map({"soft_threshold_min_mem": "30"}), "/etc/nohang/nohang.conf")
    rows = ranked(host_with(earlyoom(mem_min_percent="10", version="1.7"), nohang))
    assert [r.decision.policy for r in rows[:3]] == ["nohang", "earlyoom", "kernel"]  # 200, 400, 500 MiB away
    assert rows[0].standing.distance == 200 * MiB


def test_a_daemon_past_its_threshold_acts_now_and_leads() -> None:
    rows = ranked(host_with(earlyoom(mem_min_percent="60", version="1.7")))  # 500 MiB available ≤ 600 MiB
    assert rows[0].decision.policy == "earlyoom" and rows[0].standing.acts_now
    assert rows[0].standing.distance_text() == "now" and rows[0].decision.triggered is True


def test_kubelet_signal_against_its_threshold() -> None:
    s = host_with()
    estimated = "memory.available < 600Mi (signal estimated by MemAvailable)"
    assert inforce.kubelet_signal(s, "600Mi") == (-100 * MiB, estimated)
    root = replace(s.cgroup("/"), memory_current=700 * MiB, stat=frozen_map({"total_inactive_file": 100 * MiB}))
    s = s.replace(cgroups=(root, *s.cgroups[1:]))
    assert inforce.kubelet_signal(s, "100Mi") == (300 * MiB, "memory.available < 100Mi")  # 1000 - (700 - 100) - 100
    assert inforce.kubelet_signal(s, "5%") == (350 * MiB, "memory.available < 5%")
    assert inforce.kubelet_signal(s, "lots") == (None, "memory.available < lots")
    assert inforce.kubelet_signal(s, "1k") == (400 * MiB - 1000, "memory.available < 1k")  # decimal k, as Kubernetes
    for none in ("0%", "100%"):  # the kubelet drops both: no memory threshold, so no distance to one
        assert inforce.kubelet_signal(s, none) == (None, f"memory.available < {none}")


def test_settings_in_force_are_the_defaults_and_an_option_overrides_them() -> None:
    s = host_with(earlyoom(prefer="^java$", mem_min_percent="5"))
    rows = by_policy(ranked(s))
    assert rows["earlyoom"].decision.victim_pid == 10  # java +300 beats the larger postgres
    assert rows["earlyoom"].standing.settings_source == "command line of pid 812"
    assert rows["earlyoom"].standing.in_force is True
    rows = by_policy(ranked(s, given={"earlyoom": {"prefer": "^sshd$"}}))
    assert rows["earlyoom"].decision.victim_pid == 12
    assert rows["earlyoom"].standing.settings_source == "command line of pid 812; --option prefer"


def test_unknown_hypothetical_and_inapplicable_policies_come_after_those_in_force() -> None:
    s = host_with(earlyoom(), mode="v1")
    rows = ranked(s)
    names = [r.decision.policy for r in rows]
    assert names[:2] == ["earlyoom", "kernel"]
    got = by_policy(rows)
    assert got["nohang"].standing.in_force is False and got["hierarchical"].standing.in_force is False
    for name in ("oomd-size-or-growth", "systemd-oomd-swap", "systemd-oomd-pressure"):
        r = got[name]
        assert not r.standing.applicable and r.decision.kills_nothing
        assert r.decision.reason.startswith("cannot run here:") and "cgroup v1" in r.decision.reason
        assert names.index(name) > names.index("nohang")
    not_looked = snapshot([cgroup("/")], [proc(10, "/", 10)])
    got = by_policy(ranked(not_looked))
    assert got["earlyoom"].standing.in_force is None and got["kernel"].standing.in_force is True


def test_systemd_oomd_policies_are_in_force_only_for_the_units_found() -> None:
    k = Killer("systemd-oomd", 400, frozen_map({"systemd-oomd-pressure.monitored": "/b", "mem_pressure_limit": "40"}),
               "/etc/systemd/oomd.conf")
    s = host_with(k)
    assert inforce.in_force(s, "systemd-oomd-pressure") is True
    assert inforce.in_force(s, "systemd-oomd-swap") is False
    options, _ = inforce.killer_options(s)
    assert options["systemd-oomd-pressure"] == {"monitored": "/b", "mem_pressure_limit": "40"}
    row = by_policy(ranked(s))["systemd-oomd-pressure"]
    assert row.standing.acts_at == "full memory pressure (avg10) above 40% for 30 s in /b"


def test_a_setting_the_policy_cannot_parse_is_dropped_not_fatal() -> None:
    s = host_with(earlyoom(prefer="(", mem_min_percent="5"))
    options, _ = inforce.killer_options(s)
    assert options["earlyoom"] == {"mem_min_percent": "5"}


@pytest.fixture
def snap_file(tmp_path):
    path = tmp_path / "host.json"
    snapshot_file.save(host_with(earlyoom(prefer="^java$", mem_min_percent="10", version="1.7"), mode="v1"), path)
    return str(path)


def test_preview_json_carries_the_standing(capsys, snap_file) -> None:
    assert main(["preview", "--snapshot", snap_file, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [d["policy"] for d in data[:2]] == ["earlyoom", "kernel"]
    first = data[0]
    assert first["in_force"] is True and first["applicable"] is True
    assert first["settings_source"] == "command line of pid 812"
    assert first["acts_at"].startswith("MemAvailable ≤ 10%") and first["distance"] == 400 * MiB
    assert type(first["distance"]) is int  # bytes are whole
    assert first["victim"]["pid"] == 10
    swap = next(d for d in data if d["policy"] == "systemd-oomd-swap")
    assert swap["applicable"] is False and swap["victim"] is None and swap["victim_cgroup"] is None


def test_preview_text_lists_who_acts_first(capsys, snap_file) -> None:
    assert main(["preview", "--snapshot", snap_file, "--policy", "earlyoom", "--policy", "kernel",
                 "--policy", "oomd-swap"]) == 0
    out = capsys.readouterr().out
    assert "1. earlyoom: acts at MemAvailable ≤ 10% (100.0 MiB) and free swap ≤ 10%; distance 400.0 MiB; " \
           "settings: command line of pid 812" in out
    assert "2. kernel: acts at RAM exhausted; distance 500.0 MiB" in out
    assert "oomd-swap: cannot run here: oomd needs cgroup v2" in out
    lines = out.splitlines()
    table_rows = [line.split()[0] for line in lines[2:5]]
    assert table_rows == ["earlyoom", "kernel", "oomd-swap"]


def test_snapshot_show_lists_the_killers_recorded() -> None:
    from oomtui.commands.snapshot import summary

    text = summary(host_with(earlyoom(prefer="^java$", mem_min_percent="5")))
    assert "OOM killer in force: earlyoom (pid 812): mem_min_percent='5', prefer='^java$'; " \
           "from command line of pid 812" in text
    assert "OOM killers in force: none besides the kernel" in summary(host_with())
    assert "OOM killer" not in summary(snapshot([cgroup("/")], []))  # a snapshot that did not look says nothing
    hostile = Killer("nohang", 5, frozen_map({"badness_adj": "NAME 1 /// \x1b[31m"}), "/etc/\x1b]0;x\x07")
    assert "\x1b" not in summary(host_with(hostile))


def test_the_kubelets_signal_takes_its_place_in_the_order() -> None:
    def kubelet(threshold: str) -> Killer:
        return Killer("kubelet", 1500, frozen_map({"threshold": threshold}), "--eviction-hard of pid 1500")

    rows = ranked(host_with(earlyoom(mem_min_percent="10", version="1.7"), kubelet("50Mi")))
    assert [r.decision.policy for r in rows[:3]] == ["earlyoom", "kubelet-eviction", "kernel"]  # 400, 450, 500 MiB
    assert rows[1].standing.distance == 450 * MiB and rows[1].standing.settings_source == "--eviction-hard of pid 1500"
    rows = ranked(host_with(earlyoom(mem_min_percent="10", version="1.7"), kubelet("600Mi")))
    assert rows[0].decision.policy == "kubelet-eviction" and rows[0].standing.acts_now  # 500 MiB < 600Mi
