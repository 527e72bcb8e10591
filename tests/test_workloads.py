"""Workload names where users read them: the shared helpers, preview, snapshot show, kill, import-oom."""

from __future__ import annotations

import json
import signal
from dataclasses import replace

import pytest

from oomtui import snapshot as snapshot_file
from oomtui.act import plan_cgroup_kill, plan_decision_kill
from oomtui.cli import main
from oomtui.collect.names import NameReader
from oomtui.commands.kill import describe
from oomtui.evaluate import evaluate
from oomtui.model import Workload
from oomtui.oomlog import parse_report
from oomtui.samples import demo_path
from oomtui.workloads import (
    detail_rows,
    display_name,
    matches,
    qos_badge,
    tree_label,
    victim_text,
    where,
    with_path_workloads,
)
from tests.support import nodefiles as nf
from tests.support.handmade import cgroup, proc, snapshot

UID = nf.SAMPLE_UID
POD = f"/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod{nf.systemd_uid(UID)}.slice"
APP = f"{POD}/cri-containerd-{nf.cid(1)}.scope"
POD_W = Workload(kind="k8s-pod", name="shop/cart-7d9", namespace="shop", pod="cart-7d9", pod_uid=UID,
                 qos="Burstable", source="pod-logs")
APP_W = replace(POD_W, kind="k8s-container", name="shop/cart-7d9/app", container="app", container_id=nf.cid(1),
                runtime="containerd", image="registry.example/cart:1.4")


def _named():
    return snapshot(
        [cgroup("/kubepods.slice", 300), cgroup("/kubepods.slice/kubepods-burstable.slice", 300),
         cgroup(POD, 300, workload=POD_W), cgroup(APP, 290, workload=APP_W), cgroup(f"{APP}/container", 290),
         cgroup("/system.slice", 50),
         cgroup("/system.slice/nginx.service", 50, workload=Workload(kind="unit", name="nginx.service")),
         cgroup("/plain", 10)],
        [proc(10, f"{APP}/container", 280, comm="java"), proc(11, APP, 5, comm="sh"),
         proc(20, "/system.slice/nginx.service", 40, comm="nginx"), proc(30, "/plain", 5)],
    )


def test_display_helpers_lead_with_the_workload():
    s = _named()
    assert display_name(s, APP) == "shop/cart-7d9/app" and display_name(s, "/plain") == "plain"
    assert display_name(s, f"{APP}/container") == "container"  # not a workload itself: its own name
    assert tree_label(s, POD) == "shop/cart-7d9 [Bu]"
    assert tree_label(s, "/system.slice/nginx.service") == "nginx.service"
    assert qos_badge(POD_W) == "Bu" and qos_badge(replace(POD_W, qos="BestEffort")) == "BE" and qos_badge(None) == ""
    assert victim_text(s, f"{APP}/container") == (
        "pod shop/cart-7d9 (Burstable), container app (containerd, image registry.example/cart:1.4)")
    assert victim_text(s, POD) == "pod shop/cart-7d9 (Burstable)"
    assert victim_text(s, "/system.slice/nginx.service") == "unit nginx.service" and victim_text(s, "/plain") == ""
    assert where(s, "/plain") == "cgroup /plain" and where(s, POD) == "pod shop/cart-7d9 [Bu]"


@pytest.mark.parametrize(("needle", "found"), [
    ("shop", True), ("CART-7d9", True), ("app", True), ("registry.example", True), (UID[:8], True),
    (nf.cid(1)[:12], True), ("cri-containerd", True), ("nginx", False), ("postgres", False),
])
def test_the_filter_matches_every_name_and_the_raw_path(needle, found):
    assert matches(_named(), f"{APP}/container", needle) is found


def test_path_only_workloads_for_snapshots_without_names():
    s = with_path_workloads(snapshot([cgroup(POD, 1), cgroup(APP, 1), cgroup("/x", 1)], []))
    assert s.cgroup(APP).workload.container_id == nf.cid(1) and s.cgroup(POD).workload.qos == "Burstable"
    assert s.cgroup("/x").workload is None


def test_preview_json_carries_the_victims_workload(tmp_path, capsys):
    path = tmp_path / "s.json"
    snapshot_file.save(_named(), path)
    assert main(["preview", "--snapshot", str(path), "--json", "--policy", "kernel", "--policy",
                 "systemd-oomd-pressure", "--option", "systemd-oomd-pressure.mem_pressure_limit=0"]) == 0
    kernel, oomd = json.loads(capsys.readouterr().out)
    assert kernel["victim"]["pid"] == 10 and kernel["victim"]["workload"]["name"] == "shop/cart-7d9/app"
    assert kernel["victim"]["workload"]["image"] == "registry.example/cart:1.4"
    assert oomd["victim_cgroup"] == f"{APP}/container" and oomd["victim_workload"]["container"] == "app"
    assert main(["preview", "--snapshot", str(path), "--policy", "kernel"]) == 0
    assert "pid 10 java in container shop/cart-7d9/app [Bu]" in capsys.readouterr().out


def test_snapshot_show_names_the_tree_and_the_processes(tmp_path, capsys):
    evil = Workload(kind="container", name="[bold]x\x1b[2J", container="[bold]x\x1b[2J", runtime="docker")
    s = _named()
    s = s.replace(cgroups=tuple(replace(c, workload=evil) if c.path == "/plain" else c for c in s.cgroups))
    path = tmp_path / "s.json"
    snapshot_file.save(s, path)
    assert main(["snapshot", "show", str(path)]) == 0
    out = capsys.readouterr().out
    assert "shop/cart-7d9 [Bu]" in out and "container shop/cart-7d9/app [Bu]" in out
    assert "[bold]x\\x1b[2J" in out and "\x1b" not in out  # literal, escaped


def test_the_kill_listing_and_the_audit_record_name_what_dies():
    s = _named()
    plan = plan_cgroup_kill(s, POD, signal.SIGKILL)
    text = describe(plan)
    assert "  in pod shop/cart-7d9 (Burstable)\n" in text
    assert "  in pod shop/cart-7d9 (Burstable), container app (containerd, image registry.example/cart:1.4)" in text
    recorded = plan.to_json()["workloads"]
    assert [(w["cgroup"], w["kind"], w["pod"]) for w in recorded] == [
        (POD, "k8s-pod", "cart-7d9"), (APP, "k8s-container", "cart-7d9")]
    [d] = evaluate(s, "/", ["kernel"])
    assert plan_decision_kill(s, d).to_json()["workloads"][0]["container"] == "app"


def test_import_oom_fills_what_a_reports_paths_say():
    with open("tests/fixtures/oomlogs/v68_group_journal_iso.txt") as f:
        text = f.read().replace("/kubepods.slice/pod1/cri-a.scope", APP)
    snap = parse_report(text).snapshot
    w = snap.cgroup(APP).workload
    assert (w.kind, w.pod_uid, w.qos, w.container_id, w.runtime, w.source) == (
        "k8s-container", UID, "Burstable", nf.cid(1), "containerd", "path")
    assert w.namespace is None and w.pod is None  # a report has no names: never a guess


@pytest.mark.parametrize("sample", ["k8s-node-v2", "docker-v1", "podman-v2"])
def test_the_samples_names_are_what_the_collector_reads_from_a_real_nodes_files(tmp_path, sample):
    snap = snapshot_file.load(demo_path(sample))
    nf.lay_out(tmp_path, snap)
    found = NameReader(str(tmp_path)).workloads(c.path for c in snap.cgroups)
    assert found == {c.path: c.workload for c in snap.cgroups if c.workload is not None}
    assert any(w.source != "path" for w in found.values())


def test_the_kubernetes_sample_names_its_pods_and_evicts_one():
    snap = snapshot_file.load(demo_path("k8s-node-v2"))
    [d] = evaluate(snap, "/", ["kubelet-eviction"])
    assert d.victim_cgroup is not None and snap.cgroup(d.victim_cgroup).workload.name == "search/indexer-0"
    assert "kube-system/kube-proxy-x7k2p" in d.uncertain.split("may have a critical one")[0]


def test_detail_rows_say_where_each_field_came_from():
    rows = {k: (v, o) for k, v, o in detail_rows(APP_W)}
    assert rows["pod_uid"] == (UID, "the cgroup path") and rows["qos"] == ("Burstable", "the cgroup path")
    assert rows["container"] == ("app", "the kubelet's log directories (/var/log/pods, /var/log/containers)")
    bare = {k: (v, o) for k, v, o in detail_rows(Workload(kind="container", name="ctr 0123", container_id="0123",
                                                          runtime="podman"))}
    assert bare["image"] == ("unknown", "") and bare["container_id"] == ("0123", "the cgroup path")
