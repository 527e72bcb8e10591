"""The files a container host has, laid out under a fake root for the name reader's tests.

Field names and layouts as the runtimes write them (research/k8s-names-and-eviction.md
§2): the kubelet's log directories and links, containerd's task bundle
config.json with its CRI annotations, CRI-O's userdata/config.json and the
containers/storage index it shares with Podman (checked against a real
Podman 4.3 here: `metadata` is a JSON string), Docker's config.v2.json.
"""

from __future__ import annotations

import json
from pathlib import Path

SAMPLE_UID = "4c0d2f6e-1b7a-4e53-9a2c-6f1d8e3b5a70"


def cid(n: int) -> str:
    """A 64-hex container id, distinct per n."""
    return f"{n:02x}" * 32


def systemd_uid(uid: str) -> str:
    return uid.replace("-", "_")


def pod_log_dir(root: Path, ns: str, pod: str, uid: str, containers: list[str]) -> Path:
    """/var/log/pods/<ns>_<pod>_<uid>/<container>/0.log, as the kubelet makes them."""
    d = root / "var/log/pods" / f"{ns}_{pod}_{uid}"
    for c in containers:
        (d / c).mkdir(parents=True, exist_ok=True)
        (d / c / "0.log").write_text("2026-12-07T09:00:00.000000000Z stdout F started\n")
    d.mkdir(parents=True, exist_ok=True)
    return d


def container_log_link(root: Path, ns: str, pod: str, uid: str, container: str, ident: str) -> Path:
    """/var/log/containers/<pod>_<ns>_<container>-<id>.log -> the pod log (absolute, as on the node)."""
    d = root / "var/log/containers"
    d.mkdir(parents=True, exist_ok=True)
    link = d / f"{pod}_{ns}_{container}-{ident}.log"
    link.symlink_to(f"/var/log/pods/{ns}_{pod}_{uid}/{container}/0.log")
    return link


def _oci(annotations: dict[str, str], cgroups_path: str, adj: int) -> dict:
    return {
        "ociVersion": "1.1.0",
        "process": {"user": {"uid": 0, "gid": 0}, "args": ["/pause"], "cwd": "/", "oomScoreAdj": adj},
        "root": {"path": "rootfs"},
        "linux": {"cgroupsPath": cgroups_path, "namespaces": [{"type": "pid"}, {"type": "mount"}]},
        "annotations": annotations,
    }


def containerd_bundle(
    root: Path, ident: str, *, ns: str, pod: str, uid: str, container: str | None, image: str | None = None,
    sandbox_id: str | None = None, adj: int = 0,
) -> Path:
    """/run/containerd/io.containerd.runtime.v2.task/k8s.io/<id>/config.json; container None: a sandbox."""
    a = {
        "io.kubernetes.cri.container-type": "sandbox" if container is None else "container",
        "io.kubernetes.cri.sandbox-id": sandbox_id or ident,
        "io.kubernetes.cri.sandbox-name": pod,
        "io.kubernetes.cri.sandbox-namespace": ns,
        "io.kubernetes.cri.sandbox-uid": uid,
    }
    if container is None:
        a["io.kubernetes.cri.sandbox-log-directory"] = f"/var/log/pods/{ns}_{pod}_{uid}"
    else:
        a["io.kubernetes.cri.container-name"] = container
        a["io.kubernetes.cri.image-name"] = image or "docker.io/library/busybox:1.36"
    d = root / "run/containerd/io.containerd.runtime.v2.task/k8s.io" / ident
    d.mkdir(parents=True, exist_ok=True)
    (d / "init.pid").write_text("4242")
    path = d / "config.json"
    path.write_text(json.dumps(_oci(a, f"kubepods-burstable-pod{systemd_uid(uid)}.slice:cri-containerd:{ident}", adj)))
    return path


def crio_spec(root: Path, ident: str, *, ns: str, pod: str, uid: str, container: str | None,
              image: str = "quay.io/org/app:2.1") -> Path:
    """CRI-O's <storage>/overlay-containers/<id>/userdata/config.json, kubelet labels copied as annotations."""
    name = f"k8s_{container or 'POD'}_{pod}_{ns}_{uid}_0"
    a = {
        "io.kubernetes.cri-o.ContainerType": "sandbox" if container is None else "container",
        "io.kubernetes.cri-o.Name": name,
        "io.kubernetes.cri-o.SandboxName": f"k8s_{pod}_{ns}_{uid}_0",
        "io.kubernetes.cri-o.Metadata": json.dumps({"name": container or pod, "attempt": 0}),
        "io.kubernetes.cri-o.ImageName": image,
        "io.kubernetes.pod.name": pod,
        "io.kubernetes.pod.namespace": ns,
        "io.kubernetes.pod.uid": uid,
    }
    if container is not None:
        a["io.kubernetes.container.name"] = container
    d = root / "var/lib/containers/storage/overlay-containers" / ident / "userdata"
    d.mkdir(parents=True, exist_ok=True)
    path = d / "config.json"
    path.write_text(json.dumps(_oci(a, f"/kubepods/burstable/pod{uid}/crio-{ident}", 0)))
    return path


def storage_entry(ident: str, name: str, metadata: dict) -> dict:
    """One containers/storage `containers.json` entry; `metadata` is stored as a JSON string."""
    return {
        "id": ident, "names": [name], "image": "a86dd980c8f6d15c7c0afd81d7a22be8aca15535537df592bc1157299e821eca",
        "layer": "d82cd033f089981fb464b4bf6b8835546dc41845e44d39f4695043822b537122",
        "metadata": json.dumps(metadata), "created": "2026-12-07T08:57:05.347526475Z",
        "flags": {"MountLabel": "", "ProcessLabel": ""},
    }


def podman_entry(ident: str, name: str, image: str) -> dict:
    return storage_entry(ident, name, {"image-name": image, "image-id": "a86dd980", "name": name,
                                       "created-at": 1796633825})


def crio_entry(ident: str, *, ns: str, pod: str, uid: str, container: str | None, image: str) -> dict:
    """CRI-O's storage metadata (internal/storage/runtime.go): namespace only on the sandbox."""
    meta: dict = {"pod-name": pod, "pod-id": ident, "image-name": image, "image-id": "b1c2",
                  "name": f"k8s_{container or 'POD'}_{pod}_{ns}_{uid}_0", "metadata-name": container or pod,
                  "uid": uid, "attempt": 0}
    if container is None:
        meta.update(namespace=ns, pod=True)
    return storage_entry(ident, meta["name"], meta)


def storage_index(root: Path, entries: list[dict]) -> Path:
    d = root / "var/lib/containers/storage/overlay-containers"
    d.mkdir(parents=True, exist_ok=True)
    path = d / "containers.json"
    path.write_text(json.dumps(entries))
    return path


def docker_config(root: Path, ident: str, name: str, image: str, labels: dict[str, str] | None = None) -> Path:
    """/var/lib/docker/containers/<id>/config.v2.json with the fields moby writes."""
    d = root / "var/lib/docker/containers" / ident
    d.mkdir(parents=True, exist_ok=True)
    config = {
        "StreamConfig": {}, "State": {"Running": True, "Pid": 4242, "ExitCode": 0},
        "ID": ident, "Created": "2026-12-07T08:00:00Z", "Path": "/docker-entrypoint.sh", "Args": [],
        "Config": {"Hostname": ident[:12], "Image": image, "Labels": labels or {}, "Env": ["PATH=/usr/bin"]},
        "Image": "sha256:" + "c" * 64, "Name": f"/{name}", "Driver": "overlay2", "RestartCount": 0,
    }
    path = d / "config.v2.json"
    path.write_text(json.dumps(config))
    (d / "hostconfig.json").write_text(json.dumps({"Memory": 0, "OomScoreAdj": 0, "CgroupParent": ""}))
    return path


def cri_dockerd_labels(*, ns: str, pod: str, uid: str, container: str | None) -> dict[str, str]:
    labels = {
        "io.kubernetes.pod.name": pod, "io.kubernetes.pod.namespace": ns, "io.kubernetes.pod.uid": uid,
        "io.kubernetes.docker.type": "podsandbox" if container is None else "container",
    }
    if container is not None:
        labels["io.kubernetes.container.name"] = container
    return labels


def lay_out(root: Path, snap) -> None:
    """The files a real node has for a snapshot's workloads: what the collector would have read them from."""
    podman: list[dict] = []
    for c in snap.cgroups:
        w = c.workload
        if w is None or w.source == "path":
            continue
        if w.kind == "k8s-pod":
            kids = [k.workload.container for k in map(snap.cgroup, snap.children(c.path))
                    if k.workload is not None and k.workload.source == "pod-logs"]
            pod_log_dir(root, w.namespace, w.pod, w.pod_uid, kids)
        elif w.kind == "k8s-container" and w.source == "pod-logs":
            container_log_link(root, w.namespace, w.pod, w.pod_uid, w.container, w.container_id)
        elif w.kind == "k8s-container":
            containerd_bundle(root, w.container_id, ns=w.namespace, pod=w.pod, uid=w.pod_uid,
                              container=None if w.container == "POD" else w.container, image=w.image)
        elif w.runtime == "docker":
            docker_config(root, w.container_id, w.container, w.image)
        elif w.runtime == "podman":
            podman.append(podman_entry(w.container_id, w.container, w.image))
    if podman:
        storage_index(root, podman)
