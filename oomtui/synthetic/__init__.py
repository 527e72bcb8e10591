"""Synthetic hosts: the bundled sample snapshots and the large host benchmarks load.

Every host is built from a fixed seed, so `scripts/gen_samples.py` writes
byte-identical files on every run and a diff of snapshots/ shows only real
changes to the generator.
"""

from __future__ import annotations

from collections.abc import Callable

from oomtui.model import Snapshot
from oomtui.synthetic.docker import docker_v1
from oomtui.synthetic.k8s import k8s_node
from oomtui.synthetic.large import large_host
from oomtui.synthetic.podman import podman_v2
from oomtui.synthetic.systemd import systemd_server

SAMPLES: dict[str, Callable[[], Snapshot]] = {
    "k8s-node-v2.json.gz": k8s_node,
    "systemd-server-v2.json.gz": systemd_server,
    "docker-v1.json.gz": docker_v1,
    "podman-v2.json.gz": podman_v2,
}

__all__ = ["SAMPLES", "docker_v1", "k8s_node", "large_host", "podman_v2", "systemd_server"]
