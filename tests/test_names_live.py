"""Workload names on the real host: a Kubernetes-shaped cgroup tree and a real Podman container."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import uuid
from pathlib import Path
from typing import Literal

import pytest

from oomtui.act import HostActor, plan_cgroup_kill
from oomtui.cli import main
from oomtui.collect import Collector
from oomtui.commands.kill import describe
from tests.support import nodefiles as nf
from tests.support.cgroups import rmdir_patiently
from tests.support.hog import spawn_hog

BUSYBOX = Path("/bin/busybox")
PODMAN_TIMEOUT = 120


def test_a_kubernetes_shaped_tree_is_named_and_its_pod_killed_by_name(memcg, hogs, tmp_path):
    """cgroups named as the kubelet's cgroupfs driver names them, log entries in a root made for the test."""
    uid, cid = str(uuid.uuid4()), nf.cid(7)
    pod = memcg.child("kubepods").child("burstable").child(f"pod{uid}")
    ctr = pod.child(cid)
    hog = spawn_hog("app", 8, cgroup_dir=ctr.dir)
    hogs.append(hog)
    nf.pod_log_dir(tmp_path, "shop", "cart-7d9f", uid, ["app"])
    nf.container_log_link(tmp_path, "shop", "cart-7d9f", uid, "app", cid)
    snap = Collector(root=tmp_path).collect()
    w = snap.cgroup(pod.path).workload
    assert (w.kind, w.name, w.qos, w.pod_uid, w.source) == ("k8s-pod", "shop/cart-7d9f", "Burstable", uid, "pod-logs")
    mine = snap.process(hog.pid)
    assert snap.workload_of(mine.cgroup).name == "shop/cart-7d9f/app"
    assert snap.cgroup(ctr.path).memory_current > 0  # the live sizes are there beside the names
    plan = plan_cgroup_kill(snap, pod.path, signal.SIGKILL)
    assert "in pod shop/cart-7d9f (Burstable), container app" in describe(plan)
    audit = tmp_path / "audit.jsonl"
    report = HostActor(audit).kill(plan)
    assert [o.pid for o in report.outcomes if o.status == "killed"] == [hog.pid]
    entries = [json.loads(line) for line in audit.read_text().splitlines()]
    assert [e["phase"] for e in entries] == ["intent", "result"]
    for entry in entries:  # the names are on disk before the signal, and again with the outcome
        assert [(x["namespace"], x["pod"], x["container"]) for x in entry["asked"]["workloads"]] == [
            ("shop", "cart-7d9f", None), ("shop", "cart-7d9f", "app")]


def test_the_kill_cli_names_the_pod_from_its_path_on_the_live_host(memcg, hogs, capsys):
    uid = str(uuid.uuid4())
    pod = memcg.child("kubepods").child("besteffort").child(f"pod{uid}")
    hogs.append(spawn_hog("app", 4, cgroup_dir=pod.child(nf.cid(8)).dir))
    assert main(["kill", "--cgroup", pod.path, "--dry-run"]) == 0
    assert f"  in pod uid {uid} (BestEffort)\n" in capsys.readouterr().out  # no log files: the path's facts only


def _static(path: Path) -> bool:
    """An ELF64 binary without a PT_INTERP program header: it runs in an empty root filesystem."""
    data = path.read_bytes()
    if data[:5] != b"\x7fELF\x02":
        return False
    order: Literal["little", "big"] = "little" if data[5] == 1 else "big"
    phoff = int.from_bytes(data[0x20:0x28], order)
    size, count = int.from_bytes(data[0x36:0x38], order), int.from_bytes(data[0x38:0x3A], order)
    types = (int.from_bytes(data[phoff + i * size: phoff + i * size + 4], order) for i in range(count))
    return 3 not in types


def _why_no_podman() -> str | None:
    if os.geteuid() != 0:
        return "needs root to run a Podman container"
    if shutil.which("podman") is None:
        return "podman is not installed (scripts/test.sh installs Debian's where root and apt allow)"
    if not BUSYBOX.is_file() or not _static(BUSYBOX):
        return "needs a static /bin/busybox (Debian's busybox-static) to build the image from"
    return None


def _podman(*args: str) -> str:
    out = subprocess.run(["podman", *args], capture_output=True, text=True, timeout=PODMAN_TIMEOUT)
    if out.returncode != 0:
        raise RuntimeError(f"podman {args[0]} failed: {out.stderr.strip()[-400:]}")
    return out.stdout.strip()


def _cgroup_mounts() -> list[Path]:
    """Every cgroup hierarchy's mount point, v1 and v2."""
    with open("/proc/self/mountinfo") as f:
        return [Path(line.split()[4]) for line in f if " - cgroup " in line or " - cgroup2 " in line]


def _chain(path: str) -> list[str]:
    """`path` and each of its ancestors below the root, deepest first."""
    parts = [p for p in path.split("/") if p]
    return ["/" + "/".join(parts[:n]) for n in range(len(parts), 0, -1)]


@pytest.fixture
def container(tmp_path, memcg):
    """A named busybox container with a 64 MiB limit, from an image imported from a local rootfs; removed after.

    Run with runc and the cgroupfs manager (crun refuses v1 and hybrid hosts), its cgroups go below our
    own memory cgroup (--cgroup-parent) and conmon stays in ours (--cgroups no-conmon), not into
    /libpod_parent at each hierarchy's root; what podman makes in the other hierarchies on the way
    there (the unified one too) is removed afterwards.
    """
    reason = _why_no_podman()
    if reason:
        pytest.skip(reason)
    tag = uuid.uuid4().hex[:12]
    image, name = f"localhost/oomtui-test-busybox:{tag}", f"oomtui-test-{tag}"
    rootfs = tmp_path / "rootfs"
    (rootfs / "bin").mkdir(parents=True)
    shutil.copy(BUSYBOX, rootfs / "bin/busybox")
    for tool in ("sh", "sleep"):
        (rootfs / "bin" / tool).symlink_to("busybox")
    subprocess.run(["tar", "-C", str(rootfs), "-cf", str(tmp_path / "rootfs.tar"), "."], check=True)
    _podman("import", str(tmp_path / "rootfs.tar"), image)
    runner, made = [], []
    if shutil.which("runc") is not None:
        runner = ["--runtime", "runc", "--cgroup-manager", "cgroupfs", "--cgroup-parent", memcg.path,
                  "--cgroups", "no-conmon"]
        made = [mount / c.lstrip("/") for mount in _cgroup_mounts() for c in _chain(memcg.path)
                if not (mount / c.lstrip("/")).exists()]
    try:
        cid = _podman("run", "-d", "--name", name, *runner, "--ulimit", "nofile=1024:1024",
                      "--ulimit", "nproc=1024:1024", "--memory", "64m", image, "sleep", "600")
        pid = int(_podman("inspect", "--format", "{{.State.Pid}}", name))
        yield name, image, cid, pid
    finally:
        subprocess.run(["podman", "rm", "-f", "-t", "0", name], capture_output=True, timeout=PODMAN_TIMEOUT)
        subprocess.run(["podman", "rmi", "-f", image], capture_output=True, timeout=PODMAN_TIMEOUT)
        for d in sorted(made, key=lambda d: -len(d.parts)):  # only what was not there before, deepest first
            rmdir_patiently(d)


def test_a_real_podman_container_is_named_in_a_live_snapshot_and_in_preview(container, capsys):
    name, image, cid, pid = container
    snap = Collector().collect()
    home = snap.process(pid).cgroup
    w = snap.workload_of(home)
    assert (w.kind, w.name, w.container, w.container_id, w.image, w.runtime, w.source) == (
        "container", name, name, cid, image, "podman", "runtime")
    scope = next(c for c in snap.cgroups if c.workload is w)
    assert scope.memory_max == 64 << 20 and scope.memory_current > 0
    assert main(["preview", "--json", "--policy", "kernel", "--domain", scope.path]) == 0
    [decision] = json.loads(capsys.readouterr().out)
    assert decision["victim"]["pid"] == pid
    assert decision["victim"]["workload"]["name"] == name and decision["victim"]["workload"]["image"] == image
