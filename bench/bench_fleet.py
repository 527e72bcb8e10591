"""What `oomtui metrics` and `oomtui snapshot stream` cost on a host with thousands of extra processes.

Spawns PROCS `sleep` processes in CGROUPS memory cgroups below our own (as
bench_collect.py does; LIMITED of them get a memory limit, so the exporter
has more domains than its cap of 20), then measures, in CPU time (user +
system, ours and our children's) and wall time:

- one warm collection plus one evaluation of every policy on `/`: the
  reference a fresh scrape is compared with (target: ≤ 1.3× it);
- a fresh scrape: a collection, every exported domain's decisions and the
  rendered text (`Exporter` with a zero interval);
- a cached scrape over HTTP on 127.0.0.1 (target: ≤ 20 ms);
- the exporter's resident memory over many collections, after ten to warm
  up (target: flat within 10 MB; `--full` runs the 1,000 of the target,
  about 10 minutes; the host's own process count is printed beside it,
  since the snapshot grows with it);
- `snapshot stream`'s bytes per sample, raw and as `ssh -C` sends them:
  one zlib stream at level 6 (OpenSSH's fixed level), flushed per line as
  ssh flushes per packet (target: ≤ 100 kB).

Walls swing with the neighbours' load on a shared machine: compare CPU.
Everything it creates is removed at the end. Needs root and a writable
memory cgroup.

    .venv/bin/python bench/bench_fleet.py [--procs 5000] [--cgroups 200] [--rounds 5] [--full]
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import sys
import time
import zlib
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_collect import spawn, timed

from oomtui import snapshot as snapshot_file
from oomtui.collect import Collector
from oomtui.evaluate import evaluate
from oomtui.metrics.exporter import Exporter
from oomtui.metrics.output import registry_of, render, serve
from tests.support.cgroups import test_cgroup, why_no_memcg
from tests.support.servers import free_port, http_get


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def median_ms(samples: list[tuple[float, float]]) -> tuple[float, float]:
    return statistics.median(w for w, _ in samples) * 1000, statistics.median(c for _, c in samples) * 1000


def stream_bytes(collector: Collector, samples: int) -> tuple[float, float]:
    """Median raw and ssh -C bytes per line over consecutive samples of one warm collector."""
    deflate = zlib.compressobj(6)
    raw, wire = [], []
    for _ in range(samples):
        line = snapshot_file.dumps(collector.collect()) + b"\n"
        raw.append(len(line))
        wire.append(len(deflate.compress(line)) + len(deflate.flush(zlib.Z_SYNC_FLUSH)))
    return statistics.median(raw), statistics.median(wire)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--procs", type=int, default=5000)
    ap.add_argument("--cgroups", type=int, default=200)
    ap.add_argument("--limited", type=int, default=30)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--collections", type=int, default=100, help="for the memory check (default 100)")
    ap.add_argument("--full", action="store_true", help="1,000 collections for the memory check")
    args = ap.parse_args()
    reason = why_no_memcg()
    if reason:
        print(f"bench_fleet: cannot run: {reason}", file=sys.stderr)
        return 1
    collections = 1000 if args.full else args.collections
    with test_cgroup("oomtui-bench-fleet") as top:
        groups = [top.child(f"g{i:03d}") for i in range(args.cgroups)]
        for g in groups[: args.limited]:
            g.set_limit(256 << 20)
        spawner = spawn([g.dir for g in groups], args.procs // args.cgroups)
        try:
            collector = Collector()
            collector.collect()
            reference, fresh, cached = [], [], []
            fresh_exporter = Exporter(collector.collect, interval=0)
            fresh_registry = registry_of(fresh_exporter)
            cached_exporter = Exporter(collector.collect, interval=3600)
            port = free_port()
            server = serve(registry_of(cached_exporter), "127.0.0.1", port)
            url = f"http://127.0.0.1:{port}/metrics"
            http_get(url, timeout=300)  # the first scrape collects
            try:
                for _ in range(args.rounds):
                    reference.append(timed(lambda: evaluate(collector.collect())))
                    fresh.append(timed(lambda: render(fresh_registry)))
                    cached.append(timed(lambda: http_get(url)))
            finally:
                server.shutdown()
                server.server_close()
            snap = collector.collect()
            body = render(fresh_registry)
            domains = fresh_exporter.current().domains_total
            exported = len(fresh_exporter.current().domains)
            raw, wire = stream_bytes(collector, args.rounds)
            (ref_w, ref_c), (fr_w, fr_c), (ca_w, ca_c) = median_ms(reference), median_ms(fresh), median_ms(cached)
            series = sum(1 for line in body.splitlines() if line and not line.startswith(b"#"))
            print(f"host: {len(snap.processes)} processes, {len(snap.cgroups)} memory cgroups, "
                  f"{os.cpu_count()} cpus; {domains} OOM domains, {exported} exported; {series} series, "
                  f"{len(body) / 1024:.1f} KiB per scrape")
            print(f"medians of {args.rounds}:{'wall':>22}{'cpu':>12}")
            print(f"{'warm collection + eval:':26}{ref_w:7.1f} ms  {ref_c:7.1f} ms")
            print(f"{'fresh scrape:':26}{fr_w:7.1f} ms  {fr_c:7.1f} ms = {fr_c / ref_c:.2f} x (target <= 1.3)")
            print(f"{'cached scrape over HTTP:':26}{ca_w:7.1f} ms  {ca_c:7.1f} ms (target <= 20 ms)")
            per_k = wire / len(snap.processes) * 1000
            print(f"{'snapshot stream:':26}{raw / 1024:7.1f} KiB raw, {wire / 1000:.1f} kB with ssh -C = "
                  f"{per_k / 1000:.1f} kB per 1,000 processes, {5 * per_k / 1000:.0f} kB at 5,000 (target <= 100 kB)",
                  flush=True)
            for _ in range(10):
                render(fresh_registry)
            gc.collect()
            before, procs_before = rss_mb(), len(collector.collect().processes)
            start = time.perf_counter()
            peak = before
            for _ in range(collections):
                render(fresh_registry)
                peak = max(peak, rss_mb())
            gc.collect()
            after, procs_after = rss_mb(), len(collector.collect().processes)
            spent = time.perf_counter() - start
        finally:
            assert spawner.stdin is not None
            spawner.stdin.close()
            spawner.wait()
    print(f"memory over {collections} collections ({spent:.0f} s): {before:.1f} MB -> {after:.1f} MB "
          f"(peak {peak:.1f} MB; growth {after - before:+.1f} MB, target within 10 MB) while the host went "
          f"from {procs_before} to {procs_after} processes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
