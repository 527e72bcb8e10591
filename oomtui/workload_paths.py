"""What a cgroup path alone says about the workload in it: pod UID, QoS, container id, unit.

Pure string rules, shared by the live collector (which then adds names from
local files), `import-oom` (kernel reports name cgroups by path only) and
the kubelet-eviction policy (which finds pods and their QoS by path in any
snapshot, old ones included). Rules and sources:
research/k8s-names-and-eviction.md §1.

- Kubernetes: a component containing `kubepods` (anywhere: kind and
  docker-in-docker nest it), then optional QoS levels (`burstable`,
  `besteffort`; none for Guaranteed), then the pod `pod<UID>` (systemd
  driver: `kubepods-burstable-pod<UID_with_underscores>.slice`), then the
  container leaf (`cri-containerd-<id>.scope`, `crio-<id>.scope`,
  `docker-<id>.scope`, or the bare id on cgroupfs). Conmon scopes and
  crun's `container` sub-cgroup are not workloads of their own: the
  snapshot's `workload_of` finds the container above them.
- Containers outside Kubernetes: `docker-<id>.scope`, `/docker/<id>`,
  `libpod-<id>.scope`, `<parent>/libpod-<id>`, LXC's `lxc.payload.<name>`
  and `/lxc/<name>`.
- systemd units: the last component when it ends in a unit suffix.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from oomtui.model import Workload

UNIT_SUFFIXES = (".service", ".scope", ".slice", ".socket", ".mount", ".swap")
_ID = r"[0-9a-f]{64}"
_POD = re.compile(r"(?:.*-)?pod([0-9a-f][0-9a-f_-]{7,63})(?:\.slice)?")
_LEAF = re.compile(rf"(?:(cri-containerd|crio|docker|libpod)-)?({_ID})(?:\.scope)?")
_CONMON = re.compile(rf"(?:crio|libpod)-conmon-{_ID}(?:\.scope)?")
_RUNTIMES = {"cri-containerd": "containerd", "crio": "cri-o", "docker": "docker", "libpod": "podman"}
_LXC_PAYLOAD = "lxc.payload."
QOS_NAMES = {"burstable": "Burstable", "besteffort": "BestEffort"}
GUARANTEED = "Guaranteed"


@dataclass(frozen=True, slots=True)
class PodPath:
    """A Kubernetes pod's cgroup as its path names it."""

    path: str  # the pod's own cgroup
    uid: str  # with dashes, as the API and /var/log/pods write it
    qos: str  # Guaranteed, Burstable or BestEffort

    @property
    def static(self) -> bool:
        """A static pod's UID is the kubelet's md5 hash of its manifest: 32 hex digits, no dashes."""
        return re.fullmatch(r"[0-9a-f]{32}", self.uid) is not None


def _stem(component: str) -> str:
    return component.removesuffix(".slice")


def _kubepods_index(parts: list[str]) -> int | None:
    for i, part in enumerate(parts):
        stem = _stem(part)
        if stem == "kubepods" or stem.endswith("-kubepods") or stem.startswith("kubepods"):
            return i
    return None


@lru_cache(maxsize=1 << 14)  # policies ask on every keypress; paths repeat across samples
def pod_of(path: str) -> PodPath | None:
    """The pod whose cgroup is `path` or one of its ancestors, or None outside Kubernetes."""
    parts = [p for p in path.split("/") if p]
    start = _kubepods_index(parts)
    if start is None:
        return None
    qos = GUARANTEED
    for i in range(start, len(parts)):
        stem = _stem(parts[i])
        m = _POD.fullmatch(parts[i]) if i > start else None
        if m is not None:
            for key, name in QOS_NAMES.items():
                if f"-{key}-" in stem:
                    qos = name
            uid = m.group(1).replace("_", "-")
            return PodPath("/" + "/".join(parts[: i + 1]), uid, qos)
        for key, name in QOS_NAMES.items():
            if stem == key or stem.endswith(f"-{key}"):
                qos = name
    return None


def _container_id(leaf: str) -> tuple[str | None, str] | None:
    """(runtime or None, id) for a container leaf; None for anything else (conmon included)."""
    if _CONMON.fullmatch(leaf):
        return None
    m = _LEAF.fullmatch(leaf)
    if m is None:
        return None
    return _RUNTIMES.get(m.group(1) or ""), m.group(2)


def _short(ident: str) -> str:
    return ident[:12]


@lru_cache(maxsize=1 << 14)
def path_workload(path: str) -> Workload | None:
    """The workload `path` itself is, from its name alone (source "path"); None where it is none.

    Names the path cannot give stay None; `name` is then the best the path
    says: `pod 1a2b3c4d` for a pod, `ctr 0123456789ab` for a container.
    """
    parts = [p for p in path.split("/") if p]
    if not parts:
        return None
    leaf = parts[-1]
    pod = pod_of(path)
    if pod is not None:
        depth = pod.path.count("/")
        if len(parts) == depth:
            return Workload(kind="k8s-pod", name=f"pod {pod.uid[:8]}", pod_uid=pod.uid, qos=pod.qos)
        found = _container_id(leaf) if len(parts) == depth + 1 else None
        if found is None:
            return None
        runtime, cid = found
        return Workload(kind="k8s-container", name=f"pod {pod.uid[:8]}/ctr {_short(cid)}", pod_uid=pod.uid,
                        qos=pod.qos, container_id=cid, runtime=runtime)
    found = _container_id(leaf)
    if found is not None:
        runtime, cid = found
        parent = parts[-2] if len(parts) > 1 else ""
        if runtime is None and parent == "docker":
            runtime = "docker"
        if runtime is not None:
            return Workload(kind="container", name=f"ctr {_short(cid)}", container_id=cid, runtime=runtime)
    if leaf.startswith(_LXC_PAYLOAD) and len(leaf) > len(_LXC_PAYLOAD):
        name = leaf[len(_LXC_PAYLOAD):]
        return Workload(kind="container", name=name, container=name, runtime="lxc")
    if len(parts) == 2 and parts[0] == "lxc":
        return Workload(kind="container", name=leaf, container=leaf, runtime="lxc")
    # A scope below kubepods is a container whose id did not parse, not a unit anybody started.
    container_scope = leaf.endswith(".scope") and _kubepods_index(parts[:-1]) is not None
    if leaf.endswith(UNIT_SUFFIXES) and not _CONMON.fullmatch(leaf) and not container_scope:
        return Workload(kind="unit", name=leaf)
    return None
