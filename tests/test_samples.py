"""The bundled samples: what each one promises to show, finding them for --demo, and the generator."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from oomtui import samples
from oomtui.errors import UserError
from oomtui.model import ROOT, Snapshot, is_within, parent_of
from oomtui.policies.daemon_common import kernel_oom_score
from oomtui.samples import demo_path, list_samples, sample_dir
from oomtui.snapshot import dumps, load
from oomtui.synthetic import SAMPLES, large_host
from oomtui.synthetic.k8s import MEM_TOTAL, burstable_adj
from scripts.capture_real_sample import GROUPS, TOP, MiB, capture
from tests.support.cgroups import find_memcg_home, why_no_memcg

ALL = list_samples()


def _load(name: str) -> Snapshot:
    return load(demo_path(name))


# -- finding samples ----------------------------------------------------------


def test_sample_dir_is_the_repositorys_snapshots_folder():
    assert sample_dir() == Path(__file__).resolve().parent.parent / "snapshots"
    assert demo_path() == sample_dir() / "k8s-node-v2.json.gz"


def test_demo_path_takes_a_name_with_or_without_its_suffix():
    assert demo_path("docker-v1") == demo_path("docker-v1.json.gz") == sample_dir() / "docker-v1.json.gz"


def test_unknown_sample_is_one_line_naming_the_choices():
    with pytest.raises(UserError) as caught:
        demo_path("nope\nsecond line")
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith("no sample named 'nope\\nsecond line'; bundled: ")
    assert "k8s-node-v2" in message and "systemd-server-v2" in message


def test_missing_samples_folder_is_one_line(tmp_path, monkeypatch):
    monkeypatch.setattr(samples, "sample_dir", lambda: tmp_path / "gone")
    assert list_samples() == []
    with pytest.raises(UserError, match=r"^no bundled samples in .*gone: reinstall oomtui or run it from a source"):
        demo_path()


# -- the generator ------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_committed_sample_is_what_the_generator_makes(name):
    """A stale sample means someone edited the generator without running scripts/gen_samples.py."""
    assert dumps(load(sample_dir() / name)) == dumps(SAMPLES[name]())


def test_large_host_has_the_asked_size_and_is_deterministic():
    big = large_host()
    assert (len(big.processes), len(big.cgroups)) == (10000, 2000)
    assert dumps(large_host(600, 100)) == dumps(large_host(600, 100))
    assert dumps(large_host(600, 100, seed=1)) != dumps(large_host(600, 100, seed=2))


def test_large_host_reaches_fifty_thousand_processes():
    """MemTotal grows with the host, so the benchmarks' largest size builds."""
    huge = large_host(50000)
    assert (len(huge.processes), len(huge.cgroups)) == (50000, 2000)
    assert sum(p.footprint for p in huge.processes) < huge.host.mem_total
    assert large_host().host.mem_total == 1536 << 30  # the 10,000-process sample as before


# -- what every sample holds ---------------------------------------------------


@pytest.mark.parametrize("path", ALL, ids=lambda p: p.name)
def test_sample_is_a_consistent_host(path):
    s = load(path)
    paths = [c.path for c in s.cgroups]
    assert paths[0] == ROOT
    seen = {ROOT}
    for p in paths[1:]:
        assert parent_of(p) in seen, f"{p} listed before its parent"
        seen.add(p)
    pids = {p.pid for p in s.processes}
    assert len(pids) == len(s.processes)
    for p in s.processes:
        assert p.cgroup in seen
        # A live sample keeps only what we set up, so its top processes' parents are not in it.
        assert p.ppid in pids or p.ppid == 0 or s.source == "live", f"{p.pid} has no parent"
        assert p.start_time is not None and p.start_time <= s.taken_at
        if p.kernel_thread:
            assert p.cmdline == () and p.rss is None
    for c in s.cgroups:
        if c.path == ROOT or c.memory_current is None:
            continue
        # Forked processes share copy-on-write pages that each one's RssAnon counts, so on a real host the
        # sum can exceed the charge; a synthetic host shares none.
        anon = sum(p.rss_anon or 0 for p in s.processes_under(c.path))
        assert c.memory_current >= anon or s.source == "live", f"{c.path} holds less than its processes' anon"
        if c.memory_max is not None:
            assert c.memory_current <= c.memory_max


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_synthetic_oom_score_is_what_the_kernel_prints(name):
    """The generator and the daemons' formula (policies/daemon_common.py) are written apart; they must agree."""
    s = load(sample_dir() / name)
    docker_roots = {p.pid for p in s.processes if p.uid == 0 and is_within(p.cgroup, "/docker")}
    for p in s.processes:
        if p.pid not in docker_roots:  # Docker drops CAP_SYS_ADMIN: no 4.15 root bonus, which uid alone can't tell
            assert p.oom_score == kernel_oom_score(s, p), p


def test_kubelet_burstable_formula():
    assert burstable_adj(0) == 999
    assert burstable_adj(MEM_TOTAL // 2) == 500
    assert burstable_adj(MEM_TOTAL) == 3
    assert burstable_adj(2 * MEM_TOTAL) == 3


def test_k8s_node_has_kubelet_scores_and_oom_groups():
    s = _load("k8s-node-v2")
    assert s.host.cgroup_mode == "v2" and s.source == "synthetic"
    qos_seen = set()
    for p in s.processes_under("/kubepods.slice"):
        qos = re.search(r"kubepods-(burstable|besteffort)-pod|kubepods-pod", p.cgroup)
        assert qos is not None
        kind = qos.group(1) or "guaranteed"
        qos_seen.add(kind)
        assert s.cgroup(p.cgroup).oom_group is True
        if p.comm == "pause":
            assert p.oom_score_adj == -998
        elif p.comm == "kube-proxy":
            assert p.oom_score_adj == -999
        elif kind == "guaranteed":
            assert p.oom_score_adj == -997
        elif kind == "besteffort":
            assert p.oom_score_adj == 1000
        else:
            assert 3 <= p.oom_score_adj <= 999
    assert qos_seen == {"guaranteed", "burstable", "besteffort"}
    assert {p.oom_score_adj for p in s.processes if p.comm in ("kubelet", "kube-proxy")} == {-999}
    near = [c for c in s.cgroups if c.memory_max and c.memory_current >= 0.95 * c.memory_max
            and c.events.get("oom_kill", 0) > 0 and c.oom_group]
    assert len(near) >= 2
    assert s.processes_under("/system.slice/containerd.service")
    assert s.host.psi is not None


def test_systemd_server_has_a_limited_database_oomd_xattrs_swap_and_trend():
    s = _load("systemd-server-v2")
    pg = s.cgroup("/system.slice/postgresql.service")
    assert pg.memory_max is not None and len(s.processes_in(pg.path)) > 5
    xattrs = {k for c in s.cgroups for k in c.xattrs}
    assert xattrs >= {"trusted.oomd_prefer", "trusted.oomd_avoid", "user.oomd_avoid", "user.oomd_omit"}
    assert s.host.swap_free < s.host.swap_total
    assert any(c.swap_current for c in s.cgroups if c.path != ROOT)
    assert all(c.trend is not None for c in s.cgroups if c.path != ROOT)
    over = [c for c in s.cgroups if c.pressure and c.pressure.full.avg10 > 60]
    assert over and all(c.trend.pressure_full_avg10_above_since is not None for c in over)
    assert any(c.owner_uid not in (0, None) and c.xattrs for c in s.cgroups)


def test_docker_v1_has_v1_files_only():
    s = _load("docker-v1")
    assert s.host.cgroup_mode == "v1" and s.host.psi is None
    containers = [c for c in s.cgroups if re.fullmatch(r"/docker/[0-9a-f]{64}", c.path)]
    assert len(containers) >= 4
    assert any(c.memory_max is None for c in containers) and any(c.memory_max for c in containers)
    assert any(c.events["oom_kill"] > 0 for c in containers)
    for c in s.cgroups:
        assert c.oom_group is None and c.pressure is None and c.memory_high is None
        assert set(c.events) == {"oom_kill", "under_oom"}
        assert "total_rss" in c.stat and "hierarchical_memory_limit" in c.stat


# -- the real snapshot of this machine ------------------------------------------


def _holds_only_what_the_script_set_up(s: Snapshot) -> None:
    assert s.source == "live"
    assert [c.path for c in s.cgroups] == [ROOT, TOP, *(f"{TOP}/{g}" for g in GROUPS)]
    ours = sorted(m[0] for _, _, members in GROUPS.values() for m in members)
    assert sorted(p.comm for p in s.processes) == ours
    assert all(p.cmdline[:2] == ("python3", "scripts/capture_real_sample.py") for p in s.processes)
    limit, shared, members = GROUPS["webapp"]
    webapp = s.cgroup(f"{TOP}/webapp")
    assert webapp.memory_max == limit
    assert webapp.memory_current >= (sum(m[1] for m in members) + shared) * MiB  # what the workers touched


def test_this_host_sample_holds_only_what_the_script_set_up():
    _holds_only_what_the_script_set_up(_load("this-host-v1"))


def test_capture_script_takes_a_real_snapshot_and_removes_what_it_made(tmp_path):
    reason = why_no_memcg()
    if reason:
        pytest.skip(reason)
    out = tmp_path / "this-host.json.gz"
    _, made = capture(out)
    s = load(out)
    _holds_only_what_the_script_set_up(s)
    adj = {p.comm: p.oom_score_adj for p in s.processes}
    assert adj == {m[0]: m[3] for _, _, members in GROUPS.values() for m in members}
    assert s.host.cgroup_mode == ("hybrid" if find_memcg_home().version == 1 else "v2")
    assert made.parent == find_memcg_home().own_dir
    assert not made.exists()


def test_an_installed_wheel_finds_its_samples_under_the_prefix(tmp_path, monkeypatch):
    """A wheel has no checkout beside the package: the samples come from <prefix>/share/oomtui/snapshots."""
    installed = tmp_path / "prefix" / "share" / "oomtui" / "snapshots"
    installed.mkdir(parents=True)
    (installed / "k8s-node-v2.json.gz").write_bytes(b"")
    site = tmp_path / "site-packages" / "oomtui"
    site.mkdir(parents=True)
    monkeypatch.setattr(samples, "__file__", str(site / "samples.py"))
    monkeypatch.setattr(sys, "prefix", str(tmp_path / "prefix"))
    assert samples.sample_dir() == installed
    assert samples.demo_path() == installed / "k8s-node-v2.json.gz"
