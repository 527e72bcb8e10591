"""How a cgroup's workload is shown: one set of words for the TUI, the CLI and the audit log.

All pure; give them a Snapshot and a cgroup path. For the TUI:

- `display_name(snap, path)` — the label for a tree row: the workload's
  name where the cgroup *is* a workload (`shop/cart-7d9`, `shop/cart-7d9/app`,
  `web`, `nginx.service`), else the cgroup's last path component.
- `qos_badge(workload)` — `G`, `Bu` or `BE` for a pod or its container,
  "" otherwise: short enough for a tree row, a letter not a colour.
- `victim_text(snap, path)` — the sentence naming what dies with a cgroup:
  `pod shop/cart-7d9 (Burstable), container app`, `container web (podman,
  image docker.io/library/nginx:1.27)`, `unit nginx.service`; "" where the
  cgroup belongs to no workload. Untrusted text: pass it through
  `oomtui.text.printable` (or hand it to a widget as plain Text) like
  any other name.
- `matches(snap, path, needle)` — the filter: case-insensitive substring of
  the raw path or of the workload's name, namespace, pod, container, unit,
  container id, image.
- `where(snap, path)` — a cgroup in a few words, the workload leading:
  `pod shop/cart-7d9 [Bu]`, `container web`, `unit nginx.service`, else
  `cgroup /raw/path` (preview's victim column).
- `tree_label(snap, path)` — `display_name` with the QoS badge: `shop/cart-7d9 [Bu]`.
- `decision_json(d, snap)` — a decision's JSON with the format's optional
  `victim.workload` and `victim_workload`.
- `plan_workloads(snap, cgroups)` — the distinct workloads a kill takes
  down, for the kill dialog and the audit log.
- `workload_text(w)` — `victim_text` for a Workload in hand.
- `detail_rows(w)` — (field, value, where it came from) for every known
  field, for the details pane; unknown fields say "unknown".
- `with_path_workloads(snap)` — a snapshot whose cgroups without a workload
  get what their path says (import-oom, old snapshots).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from oomtui.model import Snapshot, Workload
from oomtui.policies.base import Decision
from oomtui.snapshot import workload_dict
from oomtui.workload_paths import path_workload

QOS_BADGES = {"Guaranteed": "G", "Burstable": "Bu", "BestEffort": "BE"}


def own_workload(snap: Snapshot, path: str) -> Workload | None:
    """The workload this cgroup is (not an ancestor's)."""
    c = snap.cgroup(path)
    return c.workload if c is not None else None


def raw_name(path: str) -> str:
    """The cgroup's own last path component, as the kernel names it."""
    return path.rstrip("/").rsplit("/", 1)[-1] or "/"


def display_name(snap: Snapshot, path: str) -> str:
    w = own_workload(snap, path)
    if w is not None:
        return w.name
    return raw_name(path)


def qos_badge(w: Workload | None) -> str:
    if w is None or w.kind not in ("k8s-pod", "k8s-container") or w.qos is None:
        return ""
    return QOS_BADGES.get(w.qos, "")


def _pod(w: Workload) -> str:
    if w.namespace is not None and w.pod is not None:
        who = f"{w.namespace}/{w.pod}"
    else:
        who = f"uid {w.pod_uid}" if w.pod_uid else "unknown"
    return f"pod {who}" + (f" ({w.qos})" if w.qos else "")


def _details(w: Workload) -> str:
    extra = [x for x in (w.runtime, f"image {w.image}" if w.image else None) if x]
    return f" ({', '.join(extra)})" if extra else ""


def workload_text(w: Workload) -> str:
    """One workload in words: what it is and its names."""
    if w.kind == "k8s-pod":
        return _pod(w)
    if w.kind == "k8s-container":
        ctr = w.container or (f"id {w.container_id[:12]}" if w.container_id else "unknown")
        if w.container == "POD":
            ctr = "sandbox (pause)"
        return f"{_pod(w)}, container {ctr}{_details(w)}"
    if w.kind == "container":
        return f"container {w.name}{_details(w)}"
    return f"unit {w.name}"


def _kind_word(w: Workload) -> str:
    return {"k8s-pod": "pod", "k8s-container": "container", "container": "container"}.get(w.kind, "unit")


def where(snap: Snapshot, path: str) -> str:
    w = snap.workload_of(path)
    if w is None:
        return f"cgroup {path}"
    badge = qos_badge(w)
    return f"{_kind_word(w)} {w.name}" + (f" [{badge}]" if badge else "")


def tree_label(snap: Snapshot, path: str) -> str:
    badge = qos_badge(own_workload(snap, path))
    return display_name(snap, path) + (f" [{badge}]" if badge else "")


def decision_json(d: Decision, snap: Snapshot) -> dict[str, Any]:
    """`Decision.to_json()` plus the victim's workload, where the snapshot knows one."""
    out = d.to_json()
    if out["victim"] is not None and d.victim_pid_cgroup is not None:
        w = snap.workload_of(d.victim_pid_cgroup)
        if w is not None:
            out["victim"]["workload"] = workload_dict(w)
    if d.victim_cgroup is not None:
        w = snap.workload_of(d.victim_cgroup)
        if w is not None:
            out["victim_workload"] = workload_dict(w)
    return out


def plan_workloads(snap: Snapshot, cgroups: Iterable[str]) -> tuple[tuple[str, Workload], ...]:
    """(cgroup, workload) for each distinct workload the given cgroups belong to, in order."""
    seen: dict[Workload, str] = {}
    for path in cgroups:
        w = snap.workload_of(path)
        if w is not None and w not in seen:
            seen[w] = path
    return tuple((path, w) for w, path in seen.items())


SOURCE_WORDS = {
    "path": "the cgroup path",
    "pod-logs": "the kubelet's log directories (/var/log/pods, /var/log/containers)",
    "runtime": "the container runtime's metadata",
}
_FROM_PATH = ("pod_uid", "qos", "container_id")


def detail_rows(w: Workload) -> list[tuple[str, str, str]]:
    """(field, value, origin) per field of the workload: ids and QoS from the path, names from `source`."""
    names = SOURCE_WORDS.get(w.source, w.source)
    if w.runtime and w.source == "runtime":
        names = f"{w.runtime}'s metadata"
    fields: list[tuple[str, str | None]] = [("kind", w.kind), ("name", w.name)]
    if w.kind in ("k8s-pod", "k8s-container"):
        fields += [("namespace", w.namespace), ("pod", w.pod), ("pod_uid", w.pod_uid), ("qos", w.qos)]
    if w.kind != "k8s-pod" and w.kind != "unit":
        fields += [("container", w.container), ("container_id", w.container_id), ("runtime", w.runtime),
                   ("image", w.image)]
    rows = []
    for key, value in fields:
        origin = SOURCE_WORDS["path"] if key in _FROM_PATH or key == "kind" or w.source == "path" else names
        rows.append((key, "unknown" if value is None else value, origin if value is not None else ""))
    return rows


def victim_text(snap: Snapshot, path: str) -> str:
    """What a kill of this cgroup (or of a process in it) takes down, by workload; "" where none."""
    w = snap.workload_of(path)
    return "" if w is None else workload_text(w)


def matches(snap: Snapshot, path: str, needle: str) -> bool:
    """The filter: the needle in the raw path, or in any name of the cgroup's workload."""
    n = needle.casefold()
    if n in path.casefold():
        return True
    w = snap.workload_of(path)
    if w is None:
        return False
    fields = (w.name, w.namespace, w.pod, w.pod_uid, w.container, w.container_id, w.image)
    return any(f is not None and n in f.casefold() for f in fields)


def with_path_workloads(snap: Snapshot) -> Snapshot:
    """Fill the workload the path gives wherever a cgroup has none; the same snapshot if nothing changes."""
    changed = {}
    for c in snap.cgroups:
        if c.workload is None:
            w = path_workload(c.path)
            if w is not None:
                changed[c.path] = replace(c, workload=w)
    return snap.with_replaced(changed, {}, snap.whatif) if changed else snap
