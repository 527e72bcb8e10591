#!/usr/bin/env python3
"""Capture snapshots/this-host-v1.json.gz: a real snapshot of this machine, holding only what we set up.

It creates, under our own memory cgroup, an `oomtui-sample` cgroup with a
`webapp` child (a 384 MiB limit; a master and three forked workers of
different sizes and oom_score_adj, sharing 48 MiB of shared memory) and a
`batch` child (a job and its helper at oom_score_adj 800). It runs the live
collector twice (so trend fields are filled), keeps the root cgroup record
and host facts plus that subtree only, renames the subtree's top to
/oomtui-sample, checks that no other process remains, saves, and removes
everything it created. Run as root on a host with a memory cgroup controller:

    .venv/bin/python scripts/capture_real_sample.py [OUT]
"""

from __future__ import annotations

import dataclasses
import json
import mmap
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from oomtui.collect import Collector  # noqa: E402
from oomtui.model import ROOT, Snapshot, is_within  # noqa: E402
from oomtui.snapshot import save  # noqa: E402
from tests.support.cgroups import TestCgroup, test_cgroup, why_no_memcg  # noqa: E402

MiB = 1 << 20
TOP = "/oomtui-sample"
OUT = REPO / "snapshots" / "this-host-v1.json.gz"
SPEC = "OOMTUI_SAMPLE_SPEC"  # the worker's orders come by environment, so its command line stays short

# group -> (limit, shared MiB, members: (comm, anon MiB, shared MiB touched, oom_score_adj)); the first leads.
# No negative adj: lowering it needs CAP_SYS_RESOURCE, which our sandbox does not grant.
GROUPS = {
    "webapp": (384 * MiB, 48, [
        ("webapp-master", 16, 48, 0),
        ("webapp-w1", 64, 48, 100),
        ("webapp-w2", 128, 16, 300),
        ("webapp-w3", 32, 48, 0),
    ]),
    "batch": (None, 0, [
        ("batch-job", 200, 0, 800),
        ("batch-helper", 24, 0, 800),
    ]),
}


def worker() -> None:
    """One group: join the cgroup, map the shared memory, fork the members, each touching its share."""
    spec = json.loads(os.environ.pop(SPEC))
    Path(spec["procs"]).write_text(str(os.getpid()))
    shared = mmap.mmap(-1, max(spec["shared"], 1) * MiB, flags=mmap.MAP_SHARED | mmap.MAP_ANONYMOUS)
    members = spec["members"]
    signal.signal(signal.SIGCHLD, _reap)  # killed members must not linger as zombies: their cgroup could not go
    for member in members[1:]:
        if os.fork() == 0:
            _become(member, shared)
            _wait_forever()
    _become(members[0], shared)
    _wait_forever()


def _become(member: list, shared: mmap.mmap) -> None:
    comm, anon_mib, shared_mib, adj = member
    Path("/proc/self/comm").write_text(comm)
    private = mmap.mmap(-1, anon_mib * MiB, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
    for region, size in ((private, anon_mib * MiB), (shared, shared_mib * MiB)):
        for offset in range(0, size, 4096):
            region[offset] = 1
    Path("/proc/self/oom_score_adj").write_text(str(adj))
    globals()["_keep"] = private  # the pages must stay resident until the snapshot is taken
    sys.stdout.write(f"ready {comm}\n")
    sys.stdout.flush()


def _reap(signum: int, frame: object) -> None:
    try:
        while os.waitpid(-1, os.WNOHANG)[0]:
            pass
    except ChildProcessError:
        pass


def _wait_forever() -> None:
    while True:
        signal.pause()


def start(group: str, cg: TestCgroup) -> subprocess.Popen:
    limit, shared, members = GROUPS[group]
    if limit is not None:
        cg.set_limit(limit)
    env = dict(os.environ, **{SPEC: json.dumps({"procs": str(cg.dir / "cgroup.procs"), "shared": shared,
                                                 "members": members})})
    # argv[0] "python3" (what the sample shows) makes the interpreter miss its venv: hand it our path
    env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
    popen = subprocess.Popen(["python3", "scripts/capture_real_sample.py", "--worker", group],
                             executable=sys.executable, cwd=REPO, env=env, stdout=subprocess.PIPE)
    assert popen.stdout is not None
    for _ in members:
        if not popen.stdout.readline().startswith(b"ready"):
            raise RuntimeError(f"the {group} workers did not start")
    return popen


def stop(running: list[subprocess.Popen], top: TestCgroup) -> None:
    """Members first, so their leaders reap them; then the leaders, which we reap."""
    top.kill_all(sparing={popen.pid for popen in running})
    time.sleep(0.3)
    for popen in running:
        popen.kill()
        popen.wait()


def only_ours(snap: Snapshot, top: str, pids: set[int]) -> Snapshot:
    """The root record and our subtree, renamed to start at TOP; refuses if anyone else is in it."""

    def rename(path: str) -> str:
        return TOP + path[len(top):]

    cgroups = [snap.cgroup(ROOT)] + [
        dataclasses.replace(c, path=rename(c.path)) for c in snap.cgroups if is_within(c.path, top)
    ]
    processes = [dataclasses.replace(p, cgroup=rename(p.cgroup)) for p in snap.processes if is_within(p.cgroup, top)]
    found = {p.pid for p in processes}
    if found != pids:
        raise RuntimeError(f"the subtree holds pids {sorted(found)}, we started {sorted(pids)}")
    return snap.replace(cgroups=tuple(cgroups), processes=tuple(processes))


def capture(out: Path) -> tuple[Snapshot, Path]:
    """Save the snapshot to `out`; returns it with the cgroup directory that was made (and removed)."""
    reason = why_no_memcg()
    if reason:
        raise SystemExit(f"capture_real_sample: {reason}")
    running: list[subprocess.Popen] = []
    with test_cgroup(prefix="oomtui-sample") as top:
        try:
            for group in GROUPS:
                running.append(start(group, top.child(group)))
            time.sleep(0.5)
            collector = Collector()
            collector.collect()
            time.sleep(2.0)
            snap = only_ours(collector.collect(), top.path, set(top.pids()))
        finally:
            stop(running, top)
    save(snap, out)
    return snap, top.dir


def main(argv: list[str]) -> int:
    if argv[:1] == ["--worker"]:
        worker()
        return 0
    out = Path(argv[0]) if argv else OUT
    snap, _ = capture(out)
    print(f"wrote {out}: {len(snap.processes)} processes in {len(snap.cgroups)} cgroups")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
