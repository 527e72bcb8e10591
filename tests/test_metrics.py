"""`oomtui metrics` on snapshot files: every family with the right values, bounded labels, safe text and files."""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time

import pytest
from prometheus_client.parser import text_string_to_metric_families

from oomtui import __version__
from oomtui import snapshot as snapshot_file
from oomtui.cli import main
from oomtui.errors import UsageError
from oomtui.metrics.domains import domain_state, pick_domains
from oomtui.metrics.exporter import Exporter
from oomtui.metrics.output import parse_listen, registry_of, render, write_textfile
from oomtui.model import ROOT, Killer, Workload
from oomtui.policies import registry
from oomtui.safefile import UnsafePathError
from oomtui.text import printable
from tests.support.handmade import MiB, cgroup, proc, snapshot

SAMPLES = ("k8s-node-v2", "systemd-server-v2", "docker-v1")
POLICIES = list(registry.policies())
PAIR_FAMILIES = ("oomtui_victim_info", "oomtui_victim_pid", "oomtui_victim_freed_bytes", "oomtui_victim_certain")
VICTIM_LABELS = {"domain", "policy", "victim_kind", "victim_comm", "victim_cgroup", "protected",
                 "namespace", "pod", "container", "unit"}
ALLOWED_LABELS = {
    "oomtui_build_info": {"version"},
    "oomtui_policy_active": {"policy"},
    "oomtui_domain_limit_bytes": {"domain"},
    "oomtui_domain_headroom_bytes": {"domain"},
    "oomtui_domain_oom_kills_total": {"domain"},
    "oomtui_victim_info": VICTIM_LABELS,
    "oomtui_victim_pid": {"domain", "policy"},
    "oomtui_victim_freed_bytes": {"domain", "policy"},
    "oomtui_victim_certain": {"domain", "policy"},
    "oomtui_policy_triggered": {"domain", "policy"},
}


def sample_path(name):
    return f"snapshots/{name}.json.gz"


def export(snap, **kw):
    """The text a scrape of this snapshot gets, and its samples as {name: {labels-tuple: value}}."""
    text = render(registry_of(Exporter(lambda: snap, interval=30, **kw))).decode()
    return text, parse(text)


def parse(text):
    series: dict[str, dict[tuple, float]] = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            key = tuple(sorted(s.labels.items()))
            assert key not in series.setdefault(s.name, {}), f"duplicate series {s.name}{s.labels}"
            assert s.timestamp is None, "node_exporter drops a whole file with a timestamp in it"
            series[s.name][key] = s.value
    return series


def one(series, name, **labels):
    found = [v for k, v in series[name].items() if all(dict(k).get(n) == x for n, x in labels.items())]
    assert len(found) == 1, f"{name}{labels}: {len(found)} series"
    return found[0]


def info_labels(series, domain, policy):
    found = [dict(k) for k in series["oomtui_victim_info"]
             if dict(k)["domain"] == domain and dict(k)["policy"] == policy]
    assert len(found) == 1
    return found[0]


def preview_json(path, domain):
    out = subprocess.run([sys.executable, "-m", "oomtui.cli", "preview", "--snapshot", path, "--domain", domain,
                          "--json"], capture_output=True, text=True, check=True).stdout
    return {d["policy"]: d for d in json.loads(out)}


@pytest.mark.parametrize("name", SAMPLES)
def test_every_family_with_the_values_preview_and_the_cgroups_give(name):
    snap = snapshot_file.load(sample_path(name))
    _, series = export(snap)
    assert one(series, "oomtui_up") == 1
    assert one(series, "oomtui_collect_timestamp_seconds") == snap.taken_at
    assert one(series, "oomtui_build_info", version=__version__) == 1
    assert one(series, "oomtui_collect_duration_seconds") >= 0
    assert one(series, "oomtui_evaluate_duration_seconds") > 0
    limited = snap.limited_cgroups()
    assert one(series, "oomtui_domains") == 1 + len(limited)
    exported = sorted(dict(k)["domain"] for k in series["oomtui_domain_limit_bytes"])
    assert one(series, "oomtui_domains_exported") == len(exported) == min(20, 1 + len(limited))
    h = snap.host
    assert one(series, "oomtui_domain_limit_bytes", domain="/") == h.mem_total + h.swap_total
    assert one(series, "oomtui_domain_headroom_bytes", domain="/") == h.mem_available + h.swap_free
    for path in exported:
        if path == ROOT:
            continue
        c = snap.cgroup(path)
        swap = h.swap_total if c.swap_max is None else min(c.swap_max, h.swap_total)
        inactive = c.stat.get("inactive_file", c.stat.get("total_inactive_file", 0))
        assert one(series, "oomtui_domain_limit_bytes", domain=path) == c.memory_max + swap
        assert one(series, "oomtui_domain_headroom_bytes", domain=path) == (
            c.memory_max + swap - (c.memory_current - inactive) - (c.swap_current or 0))
        if "oom_kill" in c.events:
            assert one(series, "oomtui_domain_oom_kills_total", domain=path) == c.events["oom_kill"]
    # `/` with every policy, each limited domain with the kernel's alone; every pair has its four series.
    pairs = {(dict(k)["domain"], dict(k)["policy"]) for k in series["oomtui_victim_info"]}
    assert pairs == {("/", p) for p in POLICIES} | {(d, "kernel") for d in exported if d != ROOT}
    for family in PAIR_FAMILIES:
        assert {(dict(k)["domain"], dict(k)["policy"]) for k in series[family]} == pairs
    # The victims are preview's, for the root and for a limited domain.
    for domain in ("/", *[d for d in exported if d != ROOT][:1]):
        for policy, d in preview_json(sample_path(name), domain).items():
            if (domain, policy) not in pairs:
                continue
            victim = d["victim"]
            assert one(series, "oomtui_victim_pid", domain=domain, policy=policy) == (victim["pid"] if victim else 0)
            assert one(series, "oomtui_victim_freed_bytes", domain=domain, policy=policy) == (d["freed_bytes"] or 0)
            assert one(series, "oomtui_victim_certain", domain=domain, policy=policy) == (d["uncertain"] is None)
            labels = info_labels(series, domain, policy)
            if victim:
                assert labels["victim_kind"] == "process"
                assert labels["victim_comm"] == snap.process(victim["pid"]).comm
                assert labels["victim_cgroup"] == victim["cgroup"]
            elif d["victim_cgroup"]:
                assert (labels["victim_kind"], labels["victim_cgroup"], labels["victim_comm"]) == (
                    "cgroup", d["victim_cgroup"], "")
            else:
                assert (labels["victim_kind"], labels["victim_cgroup"]) == ("none", "")
            if d["triggered"] is None:
                assert not [k for k in series.get("oomtui_policy_triggered", {}) if dict(k)["policy"] == policy
                            and dict(k)["domain"] == domain]
            else:
                assert one(series, "oomtui_policy_triggered", domain=domain, policy=policy) == d["triggered"]


@pytest.mark.parametrize("name", SAMPLES)
def test_labels_are_the_documented_ones_and_their_number_is_bounded(name):
    snap = snapshot_file.load(sample_path(name))
    _, series = export(snap)
    for family, samples in series.items():
        for key in samples:
            assert {k for k, _ in key} <= ALLOWED_LABELS.get(family, set()), family
            assert "pid" not in dict(key) and "cmdline" not in dict(key)
    domains = len(series["oomtui_domain_limit_bytes"])
    for family in PAIR_FAMILIES:
        assert len(series[family]) == len(POLICIES) + domains - 1
    assert set(dict(k)["protected"] for k in series["oomtui_victim_info"]) <= {
        "none", "configured", "oom_score_adj", "memory_min", "memory_low", "oomd_avoid"}
    total = sum(len(s) for s in series.values())
    assert total <= 7 + len(POLICIES) + 3 * domains + 4 * (len(POLICIES) + domains - 1) + 4


def test_the_domain_cap_keeps_the_least_headroom_and_shows_the_cut():
    snap = snapshot_file.load(sample_path("k8s-node-v2"))
    _, series = export(snap, max_domains=4)
    assert one(series, "oomtui_domains") == 1 + len(snap.limited_cgroups())
    assert one(series, "oomtui_domains_exported") == 4
    ratios = {p: domain_state(snap, p).ratio for p in snap.limited_cgroups()}
    kept = {dict(k)["domain"] for k in series["oomtui_domain_limit_bytes"]} - {"/"}
    assert max(ratios[p] for p in kept) <= min(r for p, r in ratios.items() if p not in kept)
    chosen, _ = pick_domains(snap, 4)
    assert chosen[0].path == "/"


def _hostile():
    evil = 'x"}\\n\n\x1b[2J\u202e\udcff'
    return snapshot(
        [cgroup(f"/{evil}", 300, memory_max=400 * MiB), cgroup("/b", 10)],
        [proc(10, f"/{evil}", 290, comm=evil), proc(20, "/b", 5)],
    ), evil


def test_hostile_names_are_escaped_and_still_parse():
    snap, evil = _hostile()
    text, series = export(snap)
    assert "\x1b" not in text and "\u202e" not in text
    text.encode("utf-8")  # a lone surrogate would not encode
    labels = info_labels(series, "/", "kernel")
    assert labels["victim_comm"] == printable(evil, 256)
    assert labels["victim_cgroup"] == printable(f"/{evil}", 256)
    assert one(series, "oomtui_domain_limit_bytes", domain=printable(f"/{evil}", 256)) == 400 * MiB
    long = "n" * 5000
    _, series = export(snapshot([cgroup(f"/{long}", 10)], [proc(100, f"/{long}", 5, comm=long)]))
    assert len(info_labels(series, "/", "kernel")["victim_cgroup"]) == 256


def test_workload_names_and_protection_become_labels():
    base = snapshot([cgroup("/pod", 300, memory_min=10 * MiB), cgroup("/pod/ctr", 300), cgroup("/svc", 20)],
                    [proc(10, "/pod/ctr", 290, comm="java"), proc(20, "/svc", 15, adj=-500, comm="db")])
    pod = Workload(kind="k8s-pod", name="shop-7f9", namespace="prod", pod="shop-7f9")
    ctr = Workload(kind="k8s-container", name="app", namespace="prod", pod="shop-7f9", container="app")
    cgroups = tuple(dataclasses.replace(c, workload=pod if c.path == "/pod" else ctr if c.path == "/pod/ctr" else
                                        Workload(kind="unit", name="svc.service") if c.path == "/svc" else None)
                    for c in base.cgroups)
    snap = base.replace(cgroups=cgroups)
    _, series = export(snap)
    labels = info_labels(series, "/", "kernel")
    assert (labels["namespace"], labels["pod"], labels["container"], labels["unit"]) == ("prod", "shop-7f9", "app", "")
    assert labels["protected"] == "memory_min"
    _, series = export(snap, protect=re.compile("^java$"))
    assert info_labels(series, "/", "kernel")["protected"] == "configured"
    # The small adj -500 process alone left: it is the victim, and its adj says someone meant to spare it.
    lone = snap.replace(processes=(snap.process(20),))
    labels = info_labels(export(lone)[1], "/", "kernel")
    assert (labels["victim_comm"], labels["protected"], labels["unit"]) == ("db", "oom_score_adj", "svc.service")


def test_policy_active_follows_the_killers_found_on_the_host():
    snap, _ = _hostile()
    _, series = export(snap)
    assert {dict(k)["policy"] for k in series["oomtui_policy_active"]} == {"kernel", "hierarchical", "terminal",
                                                                         "cgroup-aware"}
    host = dataclasses.replace(snap.host, killers=(Killer(name="earlyoom", pid=42),))
    _, series = export(snap.replace(host=host))
    active = {dict(k)["policy"]: v for k, v in series["oomtui_policy_active"].items()}
    assert len(active) == len(POLICIES)
    assert active["kernel"] == active["earlyoom"] == 1
    assert active["nohang"] == active["systemd-oomd-swap"] == active["oomd-swap"] == active["terminal"] == 0
    assert active["kubelet-eviction"] == 0


def test_a_failed_collection_reports_up_0_and_the_next_one_recovers():
    snap, _ = _hostile()
    calls = []

    def sample():
        calls.append(1)
        if len(calls) == 2:
            raise OSError("the host vanished")
        return snap

    clock = [0.0]
    exporter = Exporter(sample, interval=10, clock=lambda: clock[0])
    reg = registry_of(exporter)
    assert one(parse(render(reg).decode()), "oomtui_up") == 1
    clock[0] = 11
    failed = parse(render(reg).decode())
    assert one(failed, "oomtui_up") == 0
    assert one(failed, "oomtui_collect_timestamp_seconds") == snap.taken_at  # the last good one, for staleness
    assert "oomtui_victim_info" not in failed
    clock[0] = 22
    assert one(parse(render(reg).decode()), "oomtui_up") == 1


def test_scrapes_reuse_a_young_collection_and_never_run_two_at_once():
    snap, _ = _hostile()
    release = threading.Event()
    started = []

    def slow():
        started.append(time.monotonic())
        release.wait(5)
        return snap

    clock = [0.0]
    exporter = Exporter(slow, interval=30, clock=lambda: clock[0])
    reg = registry_of(exporter)
    threads = [threading.Thread(target=render, args=(reg,)) for _ in range(4)]
    for t in threads:
        t.start()
    time.sleep(0.3)
    release.set()
    for t in threads:
        t.join(5)
    assert exporter.collections == 1 and len(started) == 1
    clock[0] = 29
    render(reg)
    assert exporter.collections == 1
    clock[0] = 31
    render(reg)
    assert exporter.collections == 2


@pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool (Debian's prometheus) is not installed")
@pytest.mark.parametrize("name", SAMPLES)
def test_promtool_finds_nothing_to_lint(name, tmp_path):
    snap, _ = _hostile()
    for text in (export(snapshot_file.load(sample_path(name)))[0], export(snap)[0]):
        r = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True, text=True)
        assert r.returncode == 0, r.stdout + r.stderr


def test_the_textfile_is_replaced_atomically_and_readable_by_node_exporter(tmp_path):
    target = tmp_path / "oomtui.prom"
    write_textfile(target, b"a 1\n")
    write_textfile(target, b"a 2\n")
    assert target.read_bytes() == b"a 2\n"
    assert target.stat().st_mode & 0o777 == 0o644
    assert os.listdir(tmp_path) == ["oomtui.prom"]


def test_the_textfile_is_never_written_through_a_symlink(tmp_path):
    victim = tmp_path / "elsewhere"
    victim.write_text("keep")
    (tmp_path / "oomtui.prom").symlink_to(victim)
    with pytest.raises(UnsafePathError, match="symbolic link"):
        write_textfile(tmp_path / "oomtui.prom", b"a 1\n")
    assert victim.read_text() == "keep"


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a directory to another user needs root")
def test_the_textfile_is_never_written_into_another_users_directory(tmp_path):
    theirs = tmp_path / "theirs"
    theirs.mkdir()
    os.chown(theirs, 65534, 65534)
    with pytest.raises(UnsafePathError, match="another user"):
        write_textfile(theirs / "oomtui.prom", b"a 1\n")
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)
    with pytest.raises(UnsafePathError, match="writable by other users"):
        write_textfile(shared / "oomtui.prom", b"a 1\n")
    assert os.listdir(theirs) == os.listdir(shared) == []


def test_the_command_writes_once_and_says_why_it_cannot(tmp_path, capsys):
    target = tmp_path / "oomtui.prom"
    assert main(["metrics", "--snapshot", sample_path("docker-v1"), "--textfile", str(target), "--once"]) == 0
    series = parse(target.read_text())
    assert one(series, "oomtui_up") == 1 and series["oomtui_victim_info"]
    theirs = tmp_path / "theirs"
    theirs.mkdir()
    os.chown(theirs, 65534, 65534)
    assert main(["metrics", "--snapshot", sample_path("docker-v1"), "--textfile", str(theirs / "x.prom"),
                 "--once"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "another user" in err


@pytest.mark.parametrize("argv, message", [
    ([], "give --textfile FILE or --listen"),
    (["--listen", ":9931", "--once"], "--once writes the textfile once"),
    (["--listen", "localhost"], "expected [ADDR]:PORT"),
    (["--textfile", "-", "--interval", "0"], "--interval must be"),
    (["--textfile", "-", "--max-domains", "0"], "--max-domains"),
    (["--textfile", "-", "--policy", "nope"], "unknown policy"),
    (["--textfile", "-", "--protect", "("], "--protect"),
])
def test_bad_usage_is_one_line_and_exit_2(argv, message, capsys):
    assert main(["metrics", *argv]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_listen_defaults_to_loopback():
    assert parse_listen(":9931") == ("127.0.0.1", 9931)
    assert parse_listen("0.0.0.0:9931") == ("0.0.0.0", 9931)
    assert parse_listen("[::1]:9931") == ("::1", 9931)
    for bad in (":²", ":٩٩٣١", ":0", ":65536", "9931"):  # Unicode digits are no port: a usage error, not a traceback
        with pytest.raises(UsageError, match="expected \\[ADDR\\]:PORT"):
            parse_listen(bad)


def test_the_k8s_samples_victims_carry_their_pod_names():
    snap = snapshot_file.load(sample_path("k8s-node-v2"))
    _, series = export(snap)
    for key in series["oomtui_victim_info"]:
        labels = dict(key)
        if labels["victim_kind"] == "none":
            continue
        w = snap.workload_of(labels["victim_cgroup"])
        assert labels["namespace"] == ((w.namespace or "") if w else "")
        assert labels["pod"] == ((w.pod or "") if w else "")
    kernel = info_labels(series, "/", "kernel")
    assert kernel["namespace"] and kernel["pod"] and kernel["container"]
