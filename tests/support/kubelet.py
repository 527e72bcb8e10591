"""The kubelet's eviction lines as it logs them, for tests; and a kubelet in force with pods to evict.

Formats from kubernetes/kubernetes `pkg/kubelet/eviction/eviction_manager.go`:
`managerImpl.synchronize` ("attempting to reclaim", "must evict pod(s) to
reclaim", "pods ranked for eviction", the round's end) and
`managerImpl.evictPod` ("Evicting pod" at -v=3, "pod is evicted
successfully"); the eviction message from `helpers.go` `evictionMessage`
(nodeLowMessageFmt, thresholdMetMessageFmt, containerMessageFmt) and the -v=3
threshold line from `debugLogThresholdsWithObservation`; each behind klog's
header (`I1207 17:22:15.445172    2480 eviction_manager.go:595] `), as the
journal keeps the kubelet's stderr. Before 1.21 (klog.Infof): the same
steps unstructured, the pod as `format.Pod` prints it: name_namespace(uid).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.support.cgroups import TestCgroup
from tests.support.hog import Hog, spawn_hog

KUBELET_PID = 2480


def klog(message: str, level: str = "I", where: str = "eviction_manager.go:595") -> str:
    stamp = time.strftime("%m%d %H:%M:%S", time.gmtime()) + ".445172"
    return f"{level}{stamp}    {KUBELET_PID} {where}] {message}"


def round_lines(pod: str, resource: str = "memory", uid: str | None = None, *, verbose: bool = False,
                others: tuple[str, ...] = ()) -> list[str]:
    """One monitoring round that evicts `pod` (namespace/name) to reclaim `resource`, as klog's text."""
    ranked = " ".join((pod, *others))
    lines = [klog(f'"Eviction manager: attempting to reclaim" resourceName="{resource}"', "I",
                  "eviction_manager.go:366"),
             klog(f'"Eviction manager: must evict pod(s) to reclaim" resourceName="{resource}"', "I",
                  "eviction_manager.go:377"),
             klog(f'"Eviction manager: pods ranked for eviction" pods=[{ranked}]', "I", "eviction_manager.go:395")]
    if verbose:
        signal = "memory.available" if resource == "memory" else "nodefs.available"
        lines.insert(0, klog(f'"Eviction manager: threshold observed resource" log="thresholds - grace periods '
                             f'satisfied" signal="{signal}" resourceName="{resource}" quantity="500Mi" '
                             f'available="312Mi"', "I", "helpers.go:1107"))
        message = (f"The node was low on resource: {resource}. Threshold quantity: 500Mi, available: 312Mi. "
                   f"Container app was using 61Mi, request is 0, has larger consumption of {resource}. ")
        lines.append(klog(f'"Evicting pod" pod="{pod}" podUID="{uid}" message="{message}"', "I",
                          "eviction_manager.go:584"))
    lines += [klog(f'"Eviction manager: pod is evicted successfully" pod="{pod}"'),
              klog(f'"Eviction manager: pods evicted, waiting for pod to be cleaned up" pods=[{pod}]', "I",
                   "eviction_manager.go:208")]
    return lines


@contextmanager
def kubelet_process(directory: Path) -> Iterator[int]:
    """A process the collector takes for the kubelet in force (comm `kubelet`, a root-owned program):
    a copy of sleep, with the kubelet's default threshold. Stopped by its pid."""
    program = directory / "kubelet"
    shutil.copy(shutil.which("sleep") or "/bin/sleep", program)
    os.chmod(program, 0o755)
    child = subprocess.Popen([str(program), "600"])
    try:
        yield child.pid
    finally:
        child.kill()
        child.wait()


def pod_cgroup(home: TestCgroup, qos: str = "besteffort") -> tuple[str, TestCgroup]:
    """A new pod's UID and its container's cgroup, in the kubelet's cgroupfs layout under `home`."""
    uid = str(uuid.uuid4())
    path = f"{home.path}/kubepods/{qos}/pod{uid}/app"
    container = TestCgroup(home.home, path)
    container.dir.mkdir(parents=True)  # each directory a cgroup; `home.destroy` removes them all
    return uid, container


def pod_hog(home: TestCgroup, name: str, mib: int) -> tuple[str, Hog]:
    """A BestEffort pod's UID, and its one process using `mib` MiB."""
    uid, container = pod_cgroup(home)
    return uid, spawn_hog(name, mib, cgroup_dir=container.dir)


def name_pods(root: Path, pods: dict[str, str]) -> None:
    """The kubelet's /var/log/pods/<namespace>_<name>_<uid> directories under `root`: {uid: namespace/name}."""
    for uid, pod in pods.items():
        ns, name = pod.split("/")
        (root / "var/log/pods" / f"{ns}_{name}_{uid}").mkdir(parents=True)
