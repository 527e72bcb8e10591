"""Workload names from local files: pods, containers and units, in their users' words.

The cgroup path gives the pod UID, QoS class, container id and unit
(`oomtui.workload_paths`); the names come from files a node already has,
cheapest first (research/k8s-names-and-eviction.md §2, §6):

1. `/var/log/pods/<namespace>_<pod>_<uid>/` — pod names by UID, any runtime;
2. `/var/log/containers/<pod>_<namespace>_<container>-<id>.log` — container
   names by id (the kubelet's symlinks; only the link's text is read);
3. for ids still unknown, the runtime's own metadata: containerd's bundle
   `config.json` annotations (`io.kubernetes.cri.*`), the containers/storage
   index `containers.json` that CRI-O and Podman share (names and image in
   its `metadata`), CRI-O's `userdata/config.json`, Docker's
   `config.v2.json` (name, image, cri-dockerd's `io.kubernetes.*` labels).

No API, socket or network. Every path is below `root` (tests point it at a
fake tree). Below the runtime's own directory nothing is followed through a
symlink (O_NOFOLLOW at each step, so a symlink loop or a link to /etc is
"unknown"), only regular files are read, and at most `MAX_METADATA` bytes:
a larger file is unknown, never read whole. Unreadable (unprivileged:
the bundles are mode 0700) means the names the path gives, the rest None.

Cached by pod UID and container id (immutable); the log directories are
listed again only when their mtime changes or an id nobody has looked for
appears, and a runtime file that told nothing is retried every
`RETRY_EVERY` refreshes. Once every workload is named, a refresh reads no
file at all.
"""

from __future__ import annotations

import json
import os
import re
import stat
from collections.abc import Iterable
from dataclasses import dataclass, replace
from itertools import islice
from typing import Any

from oomtui.collect.parse import fs_name
from oomtui.model import Workload
from oomtui.workload_paths import path_workload

MAX_METADATA = 1 << 20  # one container's config.json / config.v2.json
MAX_INDEX = 8 << 20  # containers.json lists every container of the host
RETRY_EVERY = 16
MAX_ENTRIES = 1 << 16  # per log directory: a node runs at most a few hundred pods
POD_LOGS = "var/log/pods"
CONTAINER_LOGS = "var/log/containers"
CONTAINERD_K8S = "run/containerd/io.containerd.runtime.v2.task/k8s.io"
STORAGE = ("var/lib/containers/storage/overlay-containers", "run/containers/storage/overlay-containers")
STORAGE_INDEX = (f"{STORAGE[0]}/containers.json", f"{STORAGE[1]}/volatile-containers.json")
DOCKER = "var/lib/docker/containers"
SANDBOX = "POD"  # what Docker and CRI-O call a pod's pause container
_ID = re.compile(r"[0-9a-f]{64}")
_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK


@dataclass(frozen=True, slots=True)
class Names:
    """What a file said about one container; None where it said nothing."""

    namespace: str | None = None
    pod: str | None = None
    pod_uid: str | None = None
    container: str | None = None
    image: str | None = None
    runtime: str | None = None
    source: str = "runtime"


# -- bounded, symlink-free reads ---------------------------------------------------------------


def read_below(base: str, relative: str, cap: int = MAX_METADATA) -> bytes | None:
    """A regular file at `base/relative`, no symlink followed below `base`; None if absent, odd or over `cap`."""
    fds: list[int] = []
    try:
        fds.append(os.open(base, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC))
        *dirs, name = relative.split("/")
        for d in dirs:
            fds.append(os.open(d, _FLAGS | os.O_DIRECTORY, dir_fd=fds[-1]))
        fd = os.open(name, _FLAGS, dir_fd=fds[-1])
        fds.append(fd)
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_size > cap:
            return None
        data = os.read(fd, cap + 1)
        return None if len(data) > cap else data
    except (OSError, ValueError):
        return None
    finally:
        for fd in fds:
            os.close(fd)


def _json(data: bytes | None) -> Any:
    if data is None:
        return None
    try:
        return json.loads(data)
    except (ValueError, RecursionError):
        return None


def _str(d: Any, key: str) -> str | None:
    v = d.get(key) if isinstance(d, dict) else None
    return v if isinstance(v, str) and v else None


def _dict(d: Any, key: str) -> dict:
    v = d.get(key) if isinstance(d, dict) else None
    return v if isinstance(v, dict) else {}


def _listdir(path: str) -> list[os.DirEntry[str]] | None:
    """At most MAX_ENTRIES entries: a directory with millions must not take the memory of a host short of it."""
    try:
        with os.scandir(path) as it:
            return list(islice(it, MAX_ENTRIES))
    except OSError:
        return None


def _mtime(path: str) -> int | None:
    try:
        return os.stat(path).st_mtime_ns
    except OSError:
        return None


# -- the kubelet's log directories ---------------------------------------------------------


def pod_log_names(entries: Iterable[str]) -> dict[str, tuple[str, str]]:
    """/var/log/pods entry names -> {uid: (namespace, pod)}; names are DNS labels, so `_` splits."""
    out = {}
    for name in entries:
        parts = name.split("_")
        if len(parts) == 3 and all(parts):
            out[parts[2]] = (parts[0], parts[1])
    return out


def container_log_name(name: str, target: str | None) -> tuple[str, Names] | None:
    """One /var/log/containers link: (container id, names); its target names the pod's UID."""
    if not name.endswith(".log"):
        return None
    parts = name[:-4].split("_")
    if len(parts) != 3:
        return None
    pod, namespace, rest = parts
    container, _, cid = rest.rpartition("-")
    if not (pod and namespace and container) or not _ID.fullmatch(cid):
        return None
    uid = None
    if target is not None:
        for part in target.split("/"):
            found = pod_log_names([part])
            if found:
                uid = next(iter(found))
    return cid, Names(namespace, pod, uid, container, source="pod-logs")


# -- runtimes' metadata -----------------------------------------------------------------------


def containerd_names(spec: Any) -> Names | None:
    """containerd's CRI annotations in a task's OCI spec."""
    a = _dict(spec, "annotations")
    kind = _str(a, "io.kubernetes.cri.container-type")
    if kind is None:
        return None
    return Names(
        namespace=_str(a, "io.kubernetes.cri.sandbox-namespace"),
        pod=_str(a, "io.kubernetes.cri.sandbox-name"),
        pod_uid=_str(a, "io.kubernetes.cri.sandbox-uid"),
        container=SANDBOX if kind == "sandbox" else _str(a, "io.kubernetes.cri.container-name"),
        image=_str(a, "io.kubernetes.cri.image-name"),
        runtime="containerd",
    )


def crio_names(spec: Any) -> Names | None:
    """CRI-O copies the kubelet's labels into the spec's annotations, beside its own."""
    a = _dict(spec, "annotations")
    kind = _str(a, "io.kubernetes.cri-o.ContainerType")
    if kind is None or _str(a, "io.container.manager") == "libpod":  # Podman writes some cri-o keys too
        return None
    return Names(
        namespace=_str(a, "io.kubernetes.pod.namespace") or _str(a, "io.kubernetes.cri-o.Namespace"),
        pod=_str(a, "io.kubernetes.pod.name") or _str(a, "io.kubernetes.cri-o.KubeName"),
        pod_uid=_str(a, "io.kubernetes.pod.uid"),
        container=SANDBOX if kind == "sandbox" else _str(a, "io.kubernetes.container.name"),
        image=_str(a, "io.kubernetes.cri-o.ImageName"),
        runtime="cri-o",
    )


def _k8s_name(name: str | None) -> tuple[str, str, str, str] | None:
    """`k8s_<container>_<pod>_<namespace>_<uid>_<attempt>` (Docker and CRI-O naming) -> its four names."""
    if name is None:
        return None
    parts = name.lstrip("/").split("_")
    if len(parts) < 6 or parts[0] != "k8s":
        return None
    return parts[1], parts[2], parts[3], parts[4]


def storage_names(entry: Any) -> tuple[str, Names] | None:
    """One containers.json entry (containers/storage): Podman's or CRI-O's metadata."""
    cid = _str(entry, "id")
    if cid is None or not _ID.fullmatch(cid):
        return None
    raw = _str(entry, "metadata")
    meta = _json(raw.encode() if raw is not None else None)
    names = entry.get("names") if isinstance(entry, dict) else None
    first = names[0] if isinstance(names, list) and names and isinstance(names[0], str) else None
    image = _str(meta, "image-name")
    k8s = _k8s_name(_str(meta, "name"))
    if _str(meta, "pod-name") is not None or k8s is not None:
        container = SANDBOX if meta.get("pod") is True else (_str(meta, "metadata-name") or (k8s and k8s[0]))
        return cid, Names(
            namespace=_str(meta, "namespace") or (k8s and k8s[2]), pod=_str(meta, "pod-name") or (k8s and k8s[1]),
            pod_uid=_str(meta, "uid") or (k8s and k8s[3]), container=container, image=image, runtime="cri-o",
        )
    name = _str(meta, "name") or first
    return cid, Names(container=name, image=image, runtime="podman")


def docker_names(config: Any) -> Names | None:
    """Docker's config.v2.json: its name and image, and cri-dockerd's pod labels where it ran one."""
    name = _str(config, "Name")
    if name is None:
        return None
    inner = _dict(config, "Config")
    labels = _dict(inner, "Labels")
    image = _str(inner, "Image")
    kind = _str(labels, "io.kubernetes.docker.type")
    if kind is not None:
        return Names(
            namespace=_str(labels, "io.kubernetes.pod.namespace"), pod=_str(labels, "io.kubernetes.pod.name"),
            pod_uid=_str(labels, "io.kubernetes.pod.uid"),
            container=SANDBOX if kind == "podsandbox" else _str(labels, "io.kubernetes.container.name"),
            image=image, runtime="docker",
        )
    return Names(container=name.removeprefix("/"), image=image, runtime="docker")


# -- the reader ----------------------------------------------------------------------------------


def _complete(w: Workload) -> bool:
    if w.kind == "k8s-pod":
        return w.pod is not None
    if w.kind == "k8s-container":
        return w.pod is not None and w.container is not None
    if w.kind == "container":
        return w.container is not None
    return True


def _pod_name(ns: str | None, pod: str | None, uid: str | None) -> str:
    if ns is not None and pod is not None:
        return f"{ns}/{pod}"
    return f"pod {(uid or '?')[:8]}"


class NameReader:
    """Names every workload cgroup of a sample; keep one per collector, its caches live across samples."""

    def __init__(self, root: str = "/") -> None:
        self.root = root.rstrip("/") or "/"
        self._named: dict[str, Workload | None] = {}  # cgroup path -> what it is, as far as known
        self._pending: dict[str, int] = {}  # incomplete paths -> the refresh they were last tried
        self._pods: dict[str, tuple[str, str, str]] = {}  # uid -> (namespace, pod, source)
        self._containers: dict[str, Names] = {}  # container id -> names
        self._asked: set[str] = set()  # ids and uids the log directories were listed for
        self._log_mtimes: tuple[int | None, int | None] | None = None
        self._storage_mtimes: tuple[int | None, ...] | None = None
        self._tick = 0

    def _at(self, relative: str) -> str:
        return os.path.join(self.root, relative)

    def workloads(self, paths: Iterable[str]) -> dict[str, Workload]:
        """The workload of each path that is one; those still incomplete are tried again now and then."""
        self._tick += 1
        named, pending = {}, {}
        todo = []
        for path in paths:
            if path in self._named and path not in self._pending:
                w = self._named[path]
            else:
                w = self._named[path] if path in self._named else path_workload(path)
                if w is not None and not _complete(w):
                    last = self._pending.get(path)
                    pending[path] = self._tick if last is None else last
                    todo.append(path)
            named[path] = w
        if todo:
            self._resolve(todo, named, pending)
        self._named, self._pending = named, pending
        found = {p: w for p, w in named.items() if w is not None}
        if len(self._containers) + len(self._pods) > 2 * len(found) + 256:
            self._forget_gone(found.values())
        return found

    def _forget_gone(self, live: Iterable[Workload]) -> None:
        """Drop the names of pods and containers whose cgroups are gone (a node with churn)."""
        keys = {k for w in live for k in (w.pod_uid, w.container_id) if k}
        self._containers = {k: v for k, v in self._containers.items() if k in keys}
        self._pods = {k: v for k, v in self._pods.items() if k in keys}
        self._asked &= keys
        self._log_mtimes = self._storage_mtimes = None  # what was dropped is read again when asked for

    def _resolve(self, todo: list[str], named: dict[str, Workload | None], pending: dict[str, int]) -> None:
        base = {p: path_workload(p) for p in todo}
        keys = {k for w in base.values() if w is not None for k in (w.pod_uid, w.container_id) if k}
        logs_moved = self._list_logs(keys - self._asked)
        self._asked |= keys
        due = [p for p in todo if logs_moved or pending[p] == self._tick or self._tick - pending[p] >= RETRY_EVERY]
        for path in due:
            w = base[path]
            assert w is not None
            if w.container_id is not None and w.container_id not in self._containers:
                self._from_runtime(w.container_id, w.runtime)
            pending[path] = self._tick
        for path in todo:
            w = self._named_now(base[path])  # type: ignore[arg-type]
            named[path] = w
            if _complete(w):
                del pending[path]

    def _named_now(self, w: Workload) -> Workload:
        names = self._containers.get(w.container_id or "")
        pod = self._pods.get(w.pod_uid or "")
        if w.kind == "container":
            if names is None or names.container is None:
                return w
            return replace(w, name=names.container, container=names.container, image=names.image,
                           runtime=names.runtime or w.runtime, source=names.source)  # type: ignore[arg-type]
        ns, podname, source = pod if pod is not None else (None, None, "path")
        if names is not None and (ns is None or podname is None):
            ns, podname, source = names.namespace, names.pod, names.source
        if w.kind == "k8s-pod":
            if podname is None:
                return w
            return replace(w, name=_pod_name(ns, podname, w.pod_uid), namespace=ns, pod=podname,
                           source=source)  # type: ignore[arg-type]
        container = names.container if names is not None else None
        tail = container or f"ctr {(w.container_id or '?')[:12]}"
        return replace(
            w, name=f"{_pod_name(ns, podname, w.pod_uid)}/{tail}", namespace=ns, pod=podname, container=container,
            image=names.image if names is not None else None,
            runtime=(names.runtime if names is not None else None) or w.runtime,
            source=names.source if names is not None else source,  # type: ignore[arg-type]
        )

    # -- sources ---------------------------------------------------------------------------------

    def _list_logs(self, new: set[str]) -> bool:
        """List the kubelet's log directories again when they changed or an unseen id asks; True if listed."""
        mtimes = (_mtime(self._at(POD_LOGS)), _mtime(self._at(CONTAINER_LOGS)))
        if mtimes == self._log_mtimes and not new:
            return False
        self._log_mtimes = mtimes
        pods = _listdir(self._at(POD_LOGS)) or []
        for uid, (ns, pod) in pod_log_names(fs_name(e.name) for e in pods).items():
            self._pods[uid] = (ns, pod, "pod-logs")
        for e in _listdir(self._at(CONTAINER_LOGS)) or []:
            try:
                target = os.readlink(e.path) if e.is_symlink() else None
            except OSError:
                target = None
            found = container_log_name(fs_name(e.name), target)
            if found is not None:
                self._containers[found[0]] = found[1]
        return True

    def _from_runtime(self, cid: str, runtime: str | None) -> None:
        """The runtime's metadata for one id; the runtime the path names is asked first."""
        readers = {
            "containerd": lambda: containerd_names(_json(read_below(self._at(CONTAINERD_K8S), f"{cid}/config.json"))),
            "cri-o": lambda: self._storage(cid) or self._crio_spec(cid),
            "podman": lambda: self._storage(cid),
            "docker": lambda: docker_names(_json(read_below(self._at(DOCKER), f"{cid}/config.v2.json"))),
        }
        order = ([runtime] if runtime in readers else []) + [r for r in readers if r != runtime]
        for name in order:
            found = readers[name]()
            if found is not None:
                self._containers[cid] = found
                if found.pod_uid and found.namespace and found.pod and found.pod_uid not in self._pods:
                    self._pods[found.pod_uid] = (found.namespace, found.pod, "runtime")
                return

    def _storage(self, cid: str) -> Names | None:
        """containers/storage's index files, read again only when one changed."""
        mtimes = tuple(_mtime(self._at(p)) for p in STORAGE_INDEX)
        if mtimes != self._storage_mtimes:
            self._storage_mtimes = mtimes
            for relative in STORAGE_INDEX:
                directory, name = os.path.split(relative)
                entries = _json(read_below(self._at(directory), name, MAX_INDEX))
                for entry in entries if isinstance(entries, list) else []:
                    found = storage_names(entry)
                    if found is not None and found[0] not in self._containers:
                        self._containers[found[0]] = found[1]
        return self._containers.get(cid)

    def _crio_spec(self, cid: str) -> Names | None:
        for directory in STORAGE:
            found = crio_names(_json(read_below(self._at(directory), f"{cid}/userdata/config.json")))
            if found is not None:
                return found
        return None
