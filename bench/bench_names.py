"""What naming workloads adds to a warm refresh: 5,000 processes in 200 Kubernetes containers.

Makes PODS pods of two containers each below our own memory cgroup, named as
the kubelet's cgroupfs driver names them (`kubepods/burstable/pod<uid>/<id>`),
spreads PROCS `sleep` processes over the containers, and lays out the
kubelet's /var/log/pods and /var/log/containers entries for them in a
temporary root. Then it times warm collections (the same Collector again,
as the TUI refreshes) with the name reader and, interleaved in the same
rounds, with the name reader switched off (today's collection), and prints
the medians of CPU and wall time, and the name reader's own CPU time per
refresh. The whole host is collected, so other processes on a shared
machine count in both columns alike: compare the CPU times. Everything it
creates is removed at the end. Needs root and a writable memory cgroup.

    .venv/bin/python bench/bench_names.py [--procs 5000] [--pods 100] [--rounds 9]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_collect import spawn, timed

from oomtui.collect import Collector
from tests.support import nodefiles as nf
from tests.support.cgroups import test_cgroup, why_no_memcg


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--procs", type=int, default=5000)
    ap.add_argument("--pods", type=int, default=100)
    ap.add_argument("--rounds", type=int, default=9)
    args = ap.parse_args()
    reason = why_no_memcg()
    if reason:
        print(f"bench_names: cannot run: {reason}", file=sys.stderr)
        return 1
    with test_cgroup("oomtui-bench") as top, tempfile.TemporaryDirectory() as root:
        burstable = top.child("kubepods").child("burstable")
        dirs = []
        for i in range(args.pods):
            uid = str(uuid.UUID(int=i + 1))
            pod = burstable.child(f"pod{uid}")
            names = [f"app-{i}", f"sidecar-{i}"]
            nf.pod_log_dir(Path(root), "bench", f"pod-{i}", uid, names)
            for j, name in enumerate(names):
                cid = f"{2 * i + j + 1:064x}"
                dirs.append(pod.child(cid).dir)
                nf.container_log_link(Path(root), "bench", f"pod-{i}", uid, name, cid)
        spawner = spawn(dirs, args.procs // len(dirs))
        try:
            named, plain = Collector(root=root), Collector(root=root)
            plain._names.workloads = lambda paths: {}  # type: ignore[method-assign]  # today's collection
            snap = named.collect()
            plain.collect()
            pods = sum(1 for c in snap.cgroups if c.workload is not None and c.workload.kind == "k8s-pod"
                       and c.workload.namespace == "bench")
            with_names, without, reader = [], [], []
            paths = [c.path for c in snap.cgroups]
            for _ in range(args.rounds):
                with_names.append(timed(named.collect))
                without.append(timed(plain.collect))
                start = time.process_time()
                named._names.workloads(paths)
                reader.append(time.process_time() - start)
        finally:
            assert spawner.stdin is not None
            spawner.stdin.close()
            spawner.wait()
    (w_wall, w_cpu), (p_wall, p_cpu) = (
        (statistics.median(w for w, _ in x), statistics.median(c for _, c in x)) for x in (with_names, without)
    )
    print(f"host: {len(snap.processes)} processes, {len(snap.cgroups)} memory cgroups; {pods} bench pods named")
    print(f"{'medians of ' + str(args.rounds) + ':':30}{'cpu':>8}{'wall':>14}")
    print(f"{'warm, without names:':30}{p_cpu * 1000:7.1f} ms {p_wall * 1000:9.1f} ms")
    print(f"{'warm, with names:':30}{w_cpu * 1000:7.1f} ms {w_wall * 1000:9.1f} ms   cpu {w_cpu / p_cpu - 1:+.1%}")
    print(f"{'name reader alone:':30}{statistics.median(reader) * 1000:7.2f} ms of cpu per refresh")
    return 0


if __name__ == "__main__":
    sys.exit(main())
