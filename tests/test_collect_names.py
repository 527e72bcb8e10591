"""Workload names on fake nodes: every runtime, cgroup driver and version, and hostile files."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from oomtui.collect import names as names_module
from oomtui.collect.names import MAX_METADATA, RETRY_EVERY, NameReader
from oomtui.model import Workload
from oomtui.text import printable
from oomtui.workload_paths import path_workload, pod_of
from tests.support import nodefiles as nf
from tests.support.fakehost import FakeHost, FakeProc

UID = nf.SAMPLE_UID
SUID = nf.systemd_uid(UID)
STATIC_UID = "6a2b1c3d4e5f60718293a4b5c6d7e8f9"
A, B, S = nf.cid(1), nf.cid(2), nf.cid(3)  # app container, sidecar, sandbox


# -- the path alone -------------------------------------------------------------------------------


@pytest.mark.parametrize(("path", "kind", "qos", "runtime"), [
    (f"/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod{SUID}.slice", "k8s-pod", "Burstable", None),
    (f"/kubepods.slice/kubepods-pod{SUID}.slice/cri-containerd-{A}.scope", "k8s-container", "Guaranteed",
     "containerd"),
    (f"/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod{SUID}.slice/crio-{A}.scope",
     "k8s-container", "BestEffort", "cri-o"),
    (f"/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod{SUID}.slice/docker-{A}.scope",
     "k8s-container", "Burstable", "docker"),
    (f"/kubepods/burstable/pod{UID}/{A}", "k8s-container", "Burstable", None),
    (f"/kubepods/pod{UID}", "k8s-pod", "Guaranteed", None),
    (f"/kubepods/besteffort/pod{UID}/crio-{A}", "k8s-container", "BestEffort", "cri-o"),
    (f"/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-besteffort.slice/"
     f"kubelet-kubepods-besteffort-pod{SUID}.slice", "k8s-pod", "BestEffort", None),  # kind
    (f"/docker/{B}/kubelet/kubepods/burstable/pod{UID}/{A}", "k8s-container", "Burstable", None),  # docker-in-docker
    (f"/kubepods/burstable/pod{STATIC_UID}", "k8s-pod", "Burstable", None),  # a static pod
    (f"/system.slice/docker-{A}.scope", "container", None, "docker"),
    (f"/docker/{A}", "container", None, "docker"),
    (f"/machine.slice/libpod-{A}.scope", "container", None, "podman"),
    (f"/libpod_parent/libpod-{A}", "container", None, "podman"),
    ("/lxc.payload.web1", "container", None, "lxc"),
    ("/system.slice/nginx.service", "unit", None, None),
    ("/user.slice/user-1000.slice/session-3.scope", "unit", None, None),
])
def test_the_path_names_kind_qos_uid_and_id(path, kind, qos, runtime):
    w = path_workload(path)
    assert w is not None and (w.kind, w.qos, w.runtime, w.source) == (kind, qos, runtime, "path")
    if kind.startswith("k8s"):
        assert w.pod_uid in (UID, STATIC_UID)
    if kind == "k8s-container" or (kind == "container" and runtime != "lxc"):
        assert w.container_id == A


@pytest.mark.parametrize("path", [
    f"/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod{SUID}.slice/crio-conmon-{A}.scope",
    f"/machine.slice/libpod-conmon-{A}.scope",
    f"/machine.slice/libpod-{A}.scope/container",  # crun's sub-cgroup: its container is the scope above
    "/kubepods/burstable", "/", "/some/dir",
])
def test_conmon_sub_cgroups_and_plain_directories_are_no_workload(path):
    assert path_workload(path) is None


def test_a_static_pods_uid_is_recognised():
    assert pod_of(f"/kubepods/burstable/pod{STATIC_UID}/{A}").static
    assert not pod_of(f"/kubepods/burstable/pod{UID}").static


# -- live collection on fake nodes ------------------------------------------------------------------


def _k8s_tree(h: FakeHost, systemd: bool, runtime: str = "containerd") -> tuple[str, str, str]:
    """A Burstable pod with an app container, its sandbox, and an app process in crun's sub-cgroup."""
    prefix = {"containerd": "cri-containerd-", "cri-o": "crio-", "docker": "docker-"}[runtime]
    if systemd:
        pod = f"/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod{SUID}.slice"
        app, sandbox = f"{pod}/{prefix}{A}.scope", f"{pod}/{prefix}{S}.scope"
    else:
        pod = f"/kubepods/burstable/pod{UID}"
        app, sandbox = f"{pod}/{A}", f"{pod}/{S}"
    for path in (pod, app, f"{app}/container", sandbox):
        h.add_cgroup(path)
    h.add_process(FakeProc(pid=100, comm="app", cgroup=f"{app}/container"))
    h.add_process(FakeProc(pid=101, comm="pause", cgroup=sandbox, adj=-998))
    return pod, app, sandbox


@pytest.mark.parametrize("mode", ["v2", "v1", "hybrid"])
@pytest.mark.parametrize("systemd", [True, False])
def test_pod_logs_name_pods_and_containers_on_any_driver_and_version(tmp_path, mode, systemd):
    h = FakeHost(tmp_path, mode)
    pod, app, sandbox = _k8s_tree(h, systemd)
    nf.pod_log_dir(tmp_path, "shop", "cart-7d9f", UID, ["app"])
    nf.container_log_link(tmp_path, "shop", "cart-7d9f", UID, "app", A)
    snap = h.collector().collect()
    w = snap.cgroup(pod).workload
    assert (w.kind, w.name, w.namespace, w.pod, w.pod_uid, w.qos, w.source) == (
        "k8s-pod", "shop/cart-7d9f", "shop", "cart-7d9f", UID, "Burstable", "pod-logs")
    c = snap.cgroup(app).workload
    assert (c.name, c.container, c.container_id, c.source) == ("shop/cart-7d9f/app", "app", A, "pod-logs")
    assert snap.workload_of(f"{app}/container") is c  # the process sits in crun's sub-cgroup
    assert snap.workload_of(snap.process(100).cgroup).container == "app"
    assert snap.cgroup(f"{app}/container").workload is None  # set on the workload's own cgroup only
    s = snap.cgroup(sandbox).workload
    assert (s.pod, s.container) == ("cart-7d9f", None)  # no log link for a sandbox, no runtime file here


def test_containerd_annotations_name_what_the_logs_do_not(tmp_path):
    h = FakeHost(tmp_path, "v2")
    pod, app, sandbox = _k8s_tree(h, True)
    nf.containerd_bundle(tmp_path, A, ns="shop", pod="cart-7d9f", uid=UID, container="app",
                         image="registry.example/shop/cart:1.4.2", sandbox_id=S)
    nf.containerd_bundle(tmp_path, S, ns="shop", pod="cart-7d9f", uid=UID, container=None, adj=-998)
    snap = h.collector().collect()
    c = snap.cgroup(app).workload
    assert (c.name, c.image, c.runtime, c.source) == (
        "shop/cart-7d9f/app", "registry.example/shop/cart:1.4.2", "containerd", "runtime")
    assert snap.cgroup(sandbox).workload.container == "POD"
    assert snap.cgroup(pod).workload.name == "shop/cart-7d9f"  # the pod learns its names from its containers


@pytest.mark.parametrize("mode", ["v1", "v2"])
def test_crio_storage_index_and_spec(tmp_path, mode):
    h = FakeHost(tmp_path, mode)
    _, app, sandbox = _k8s_tree(h, mode == "v2", "cri-o")
    nf.storage_index(tmp_path, [
        nf.crio_entry(S, ns="shop", pod="cart-7d9f", uid=UID, container=None, image="registry.k8s.io/pause:3.9"),
    ])
    nf.crio_spec(tmp_path, A, ns="shop", pod="cart-7d9f", uid=UID, container="app", image="quay.io/shop/cart:2.1")
    snap = h.collector().collect()
    c = snap.cgroup(app).workload
    assert (c.name, c.image, c.runtime, c.source) == ("shop/cart-7d9f/app", "quay.io/shop/cart:2.1", "cri-o",
                                                       "runtime")
    s = snap.cgroup(sandbox).workload
    assert (s.namespace, s.pod, s.container, s.image) == ("shop", "cart-7d9f", "POD", "registry.k8s.io/pause:3.9")


def test_cri_dockerd_labels_on_cgroupfs_v1(tmp_path):
    h = FakeHost(tmp_path, "v1")
    _, app, _ = _k8s_tree(h, False, "docker")
    nf.docker_config(tmp_path, A, f"k8s_app_cart-7d9f_shop_{UID}_0", "shop/cart:1.0",
                     nf.cri_dockerd_labels(ns="shop", pod="cart-7d9f", uid=UID, container="app"))
    snap = h.collector().collect()
    c = snap.cgroup(app).workload
    assert (c.name, c.image, c.runtime) == ("shop/cart-7d9f/app", "shop/cart:1.0", "docker")


@pytest.mark.parametrize(("mode", "path"), [("v1", f"/docker/{A}"), ("v2", f"/system.slice/docker-{A}.scope")])
def test_plain_docker_names_and_image(tmp_path, mode, path):
    h = FakeHost(tmp_path, mode)
    h.add_cgroup(path)
    h.add_process(FakeProc(pid=100, comm="nginx", cgroup=path))
    nf.docker_config(tmp_path, A, "web", "nginx:1.27")
    w = h.collector().collect().cgroup(path).workload
    assert (w.kind, w.name, w.container, w.image, w.runtime, w.source) == (
        "container", "web", "web", "nginx:1.27", "docker", "runtime")


@pytest.mark.parametrize(("mode", "path"), [
    ("v1", f"/libpod_parent/libpod-{A}"), ("v2", f"/machine.slice/libpod-{A}.scope")])
def test_podman_from_the_storage_index(tmp_path, mode, path):
    h = FakeHost(tmp_path, mode)
    h.add_cgroup(path)
    nf.storage_index(tmp_path, [nf.podman_entry(A, "api", "docker.io/library/python:3.12")])
    w = h.collector().collect().cgroup(path).workload
    assert (w.name, w.container, w.image, w.runtime) == ("api", "api", "docker.io/library/python:3.12", "podman")


def test_units_are_named_from_the_path(tmp_path):
    h = FakeHost(tmp_path, "v2")
    h.add_cgroup("/system.slice/nginx.service")
    snap = h.collector().collect()
    assert snap.cgroup("/system.slice/nginx.service").workload.name == "nginx.service"
    assert snap.cgroup("/system.slice").workload.kind == "unit"


def test_static_pod_names_from_pod_logs(tmp_path):
    h = FakeHost(tmp_path, "v2")
    pod = f"/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod{STATIC_UID}.slice"
    h.add_cgroup(pod)
    nf.pod_log_dir(tmp_path, "kube-system", "kube-apiserver-node1", STATIC_UID, ["kube-apiserver"])
    w = h.collector().collect().cgroup(pod).workload
    assert (w.name, w.pod_uid) == ("kube-system/kube-apiserver-node1", STATIC_UID)


# -- what is not known stays unknown ---------------------------------------------------------------


def test_without_any_file_only_what_the_path_says(tmp_path):
    h = FakeHost(tmp_path, "v2")
    pod, app, _ = _k8s_tree(h, True)
    snap = h.collector().collect()
    c = snap.cgroup(app).workload
    assert (c.namespace, c.pod, c.container, c.image, c.source) == (None, None, None, None, "path")
    assert c.name == f"pod {UID[:8]}/ctr {A[:12]}"
    assert snap.cgroup(pod).workload.name == f"pod {UID[:8]}"


def test_unprivileged_reader_gets_path_names_only(tmp_path):
    """The bundles are 0700 root: a non-root oomtui names from the path and logs, the rest unknown."""
    nf.containerd_bundle(tmp_path, A, ns="shop", pod="cart", uid=UID, container="app")
    for d in (tmp_path / "run/containerd/io.containerd.runtime.v2.task/k8s.io").iterdir():
        d.chmod(0o700)
    pod = f"/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod{SUID}.slice"
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - the child reports through the pipe
        try:
            os.setgid(65534)
            os.setuid(65534)
            found = NameReader(str(tmp_path)).workloads([pod, f"{pod}/cri-containerd-{A}.scope"])
            os.write(write, json.dumps({p: [w.name, w.container, w.source] for p, w in found.items()}).encode())
        finally:
            os._exit(0)
    os.close(write)
    out = json.loads(os.read(read, 65536) or b"{}")
    os.waitpid(child, 0)
    if os.geteuid() != 0:
        pytest.skip("needs root to drop to an unprivileged uid")
    assert out[f"{pod}/cri-containerd-{A}.scope"] == [f"pod {UID[:8]}/ctr {A[:12]}", None, "path"]


# -- hostile and broken files ----------------------------------------------------------------------


def _reader_for(tmp_path: Path, write) -> Workload:
    path = f"/system.slice/docker-{A}.scope"
    d = tmp_path / "var/lib/docker/containers" / A
    d.mkdir(parents=True)
    write(d / "config.v2.json")
    return NameReader(str(tmp_path)).workloads([path])[path]


def test_names_with_markup_and_escapes_stay_literal(tmp_path):
    evil = "[bold red]x[/]\x1b[31m\x07"
    w = _reader_for(tmp_path, lambda p: p.write_text(json.dumps({"Name": "/" + evil, "Config": {"Image": evil}})))
    assert (w.name, w.image) == (evil, evil)
    shown = printable(w.name)
    assert "\x1b" not in shown and "\x07" not in shown and "[bold red]" in shown


def test_hostile_pod_log_entries_stay_literal(tmp_path):
    h = FakeHost(tmp_path, "v2")
    pod = f"/kubepods.slice/kubepods-pod{SUID}.slice"
    h.add_cgroup(pod)
    (tmp_path / "var/log/pods" / f"[link=x]ns_po\x1bd_{UID}").mkdir(parents=True)
    assert h.collector().collect().cgroup(pod).workload.name == "[link=x]ns/po\x1bd"


@pytest.mark.parametrize("write", [
    lambda p: p.write_text('{"Name": "/web", "Config": {"Ima'),  # truncated
    lambda p: p.write_text("[" * 100000 + "]" * 100000),  # nested past Python's recursion limit
    lambda p: p.write_bytes(b"\xff\xfe\x00garbage"),
    lambda p: p.write_text('{"Name": 7, "Config": []}'),  # wrong types
    lambda p: p.symlink_to(p),  # a symlink loop
    lambda p: p.symlink_to("/etc/passwd"),  # a link out of the runtime's directory
    lambda p: os.mkfifo(p),  # would block a plain open
    lambda p: p.mkdir(),
], ids=["truncated", "nested", "binary", "types", "loop", "outside", "fifo", "directory"])
def test_broken_and_hostile_metadata_is_unknown(tmp_path, write):
    w = _reader_for(tmp_path, write)
    assert (w.name, w.container, w.image, w.source) == (f"ctr {A[:12]}", None, None, "path")


def test_a_50_mb_config_is_not_read(tmp_path):
    def huge(p: Path) -> None:
        with open(p, "wb") as f:
            f.write(b'{"Name": "/web", "Config": {"Image": "x"}, "pad": "')
            f.truncate(50 << 20)
    started = time.process_time()
    w = _reader_for(tmp_path, huge)
    assert w.container is None and time.process_time() - started < 5  # not a timing claim: a sanity bound
    assert MAX_METADATA < 50 << 20


def test_a_symlinked_container_directory_is_not_followed(tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "config.v2.json").write_text(json.dumps({"Name": "/stolen", "Config": {"Image": "x"}}))
    (tmp_path / "var/lib/docker/containers").mkdir(parents=True)
    (tmp_path / "var/lib/docker/containers" / A).symlink_to(elsewhere)
    path = f"/system.slice/docker-{A}.scope"
    assert NameReader(str(tmp_path)).workloads([path])[path].container is None


# -- caching ------------------------------------------------------------------------------------------


class _Count:
    def __init__(self, monkeypatch) -> None:
        self.reads = self.lists = 0
        real_read, real_list = names_module.read_below, names_module._listdir

        def read(*a, **kw):
            self.reads += 1
            return real_read(*a, **kw)

        def listdir(*a, **kw):
            self.lists += 1
            return real_list(*a, **kw)

        monkeypatch.setattr(names_module, "read_below", read)
        monkeypatch.setattr(names_module, "_listdir", listdir)


def test_a_named_host_reads_nothing_on_the_next_refresh(tmp_path, monkeypatch):
    pod = f"/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod{SUID}.slice"
    app = f"{pod}/cri-containerd-{A}.scope"
    nf.pod_log_dir(tmp_path, "shop", "cart", UID, ["app"])
    nf.containerd_bundle(tmp_path, A, ns="shop", pod="cart", uid=UID, container="app")
    count = _Count(monkeypatch)
    reader = NameReader(str(tmp_path))
    first = reader.workloads([pod, app])
    assert first[app].image is not None and count.reads == 1 and count.lists == 2
    for _ in range(RETRY_EVERY + 2):
        assert reader.workloads([pod, app]) == first
    assert (count.reads, count.lists) == (1, 2)


def test_unknown_ids_are_retried_now_and_then_and_new_logs_are_seen(tmp_path, monkeypatch):
    app = f"/kubepods/burstable/pod{UID}/{A}"
    (tmp_path / "var/log/pods").mkdir(parents=True)
    count = _Count(monkeypatch)
    reader = NameReader(str(tmp_path))
    reader.workloads([app])
    reads = count.reads
    for _ in range(RETRY_EVERY - 2):
        reader.workloads([app])
    assert count.reads == reads  # nothing new: not retried yet
    for _ in range(2):
        reader.workloads([app])
    assert count.reads > reads  # retried after RETRY_EVERY refreshes
    time.sleep(0.01)
    nf.pod_log_dir(tmp_path, "shop", "cart", UID, ["app"])
    nf.container_log_link(tmp_path, "shop", "cart", UID, "app", A)
    assert reader.workloads([app])[app].name == "shop/cart/app"  # the log directory changed: listed again


def test_a_symlink_loop_for_a_log_directory_is_no_names(tmp_path):
    (tmp_path / "var/log").mkdir(parents=True)
    (tmp_path / "var/log/pods").symlink_to(tmp_path / "var/log/pods")
    (tmp_path / "var/log/containers").symlink_to(tmp_path / "var/log/pods")
    app = f"/kubepods/burstable/pod{UID}/{A}"
    w = NameReader(str(tmp_path)).workloads([app])[app]
    assert (w.pod, w.container, w.source) == (None, None, "path")


def test_names_of_gone_containers_are_forgotten(tmp_path):
    (tmp_path / "var/log/pods").mkdir(parents=True)
    for i in range(300):
        nf.container_log_link(tmp_path, "ns", f"p{i}", UID, "c", nf.cid(i % 256) if i < 256 else f"{i:064x}")
    reader = NameReader(str(tmp_path))
    app = f"/kubepods/burstable/pod{UID}/{nf.cid(5)}"
    assert reader.workloads([app])[app].container == "c"
    assert list(reader._containers) == [nf.cid(5)]  # only the live container's names are kept


def test_undecodable_names_are_shown_as_the_collector_shows_cgroup_names(tmp_path):
    (tmp_path / "var/log/pods").mkdir(parents=True)
    os.mkdir(os.fsencode(tmp_path / "var/log/pods") + b"/ns_p\xffd_" + UID.encode())
    pod = f"/kubepods/pod{UID}"
    assert NameReader(str(tmp_path)).workloads([pod])[pod].name == "ns/p\\xffd"
