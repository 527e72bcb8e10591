"""How each cost grows with the host: one table of every figure at 1k / 5k / 10k / 20k / 50k processes.

Synthetic figures, on `large_host(N)` (min(2000, N/5) cgroups, as
bench_policies.py builds it), at every size:
- load: `snapshot.load` of the saved .json, CPU, and its ratio to a bare
  `json.load` of the same file;
- policies: one `evaluate` of all built-in policies on a what-if view
  with a few edits, after the sample was evaluated once (bench_policies.py's
  "an edit"), global domain, CPU, the fastest of ROUNDS;
- preview: `oomtui preview --json --snapshot FILE` run in this process
  (load, evaluate, print), CPU, and its ratio to `json.load`;
- TUI: `bench_tui.py` in a child process: first paint, a what-if edit to
  the repainted screen (median CPU), resident memory.
Live figures, with real `sleep` processes (`bench_collect.py`; root and a
writable memory cgroup): `ps -eo pid,ppid,rss,comm,args` CPU and a cold
and a warm collection's CPU with their ratios to `ps` and to the floor (one
status read per process). The live sizes stop below the host's pid_max.

The last column gives each figure's growth per process from 10k to the
largest size it was measured at: 1.0 is linear, above it worse (below 10k
fixed costs hide it).
CPU times are medians unless said; walls are left out (too noisy on a
shared machine). Prints a Markdown table for the README.

    .venv/bin/python bench/bench_growth.py [--sizes 1000 5000 10000 20000 50000] [--rounds 5] [--no-live] [--no-tui]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_collect import measure as measure_live
from bench_policies import _edits, _new_sample

from oomtui.cli import main as cli_main
from oomtui.evaluate import evaluate
from oomtui.snapshot import load, save
from oomtui.synthetic import large_host
from tests.support.cgroups import why_no_memcg

HERE = Path(__file__).resolve().parent
Row = dict[str, float]


def cpu_ms(fn: Callable[[], object], rounds: int, pick: Callable[[list[float]], float] = statistics.median) -> float:
    """CPU milliseconds of `fn`, after one call left out (first imports, memos of the process)."""
    fn()
    times = []
    for _ in range(rounds):
        start = time.process_time()
        fn()
        times.append((time.process_time() - start) * 1000)
    return pick(times)


def synthetic(size: int, rounds: int) -> Row:
    snap = large_host(size, min(2000, size // 5))
    row: Row = {}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "host.json"
        save(snap, path)

        def bare() -> None:
            with open(path, "rb") as f:
                json.load(f)

        def preview() -> None:
            with contextlib.redirect_stdout(io.StringIO()):
                cli_main(["preview", "--json", "--snapshot", str(path)])

        row["json.load"] = cpu_ms(bare, rounds)
        row["load"] = cpu_ms(lambda: load(path), rounds)
        row["preview"] = cpu_ms(preview, rounds)
    sample, edits = _new_sample(snap), _edits(snap)
    evaluate(sample)  # as the TUI evaluates a sample before the user edits it
    row["policies"] = cpu_ms(lambda: evaluate(sample.with_replaced({}, {}, edits)), rounds, min)
    return row


def tui(size: int, rounds: int) -> Row:
    out = subprocess.run([sys.executable, str(HERE / "bench_tui.py"), "--processes", str(size), "--rounds",
                          str(rounds)], capture_output=True, text=True, check=False).stdout
    row: Row = {}
    for key, pattern in (("first paint", r"first paint of the tree\s+([\d.]+) s"),
                         ("first paint cpu", r"first paint of the tree, CPU\s+([\d.]+) s"),
                         ("first paint verdicts", r"first paint with every verdict\s+([\d.]+) s"),
                         ("edit", r"CPU \(median\)\s+([\d.]+) ms"),
                         ("edit own", r"the TUI's own share\), CPU\s+([\d.]+) ms"),
                         ("rss", r"resident memory\s+([\d.]+) MB")):
        m = re.search(pattern, out)
        if m:
            row[key] = float(m[1]) * (1000 if key.startswith("first paint") else 1)
    return row


FIGURES = (  # (key, label, unit)
    ("ps", "`ps -eo pid,ppid,rss,comm,args`, CPU", "ms"),
    ("floor", "floor: one status read per process, CPU", "ms"),
    ("cold", "live collection, first sample, CPU", "ms"),
    ("warm", "live collection, warm sample, CPU", "ms"),
    ("warm/ps", "warm sample ÷ `ps`", "×"),
    ("warm/floor", "warm sample ÷ floor", "×"),
    ("stream", "`snapshot stream`, one line (warm sample + encoding), CPU", "ms"),
    ("stream/ps", "`snapshot stream` line ÷ `ps`", "×"),
    ("json.load", "bare `json.load` of the snapshot, CPU", "ms"),
    ("load", "loading the snapshot, CPU", "ms"),
    ("load/json", "loading ÷ `json.load`", "×"),
    ("policies", "all 13 policies, global, CPU (fastest)", "ms"),
    ("preview", "`preview --json`, CPU", "ms"),
    ("preview/json", "`preview --json` ÷ `json.load`", "×"),
    ("first paint", "TUI first paint, wall", "ms"),
    ("first paint cpu", "TUI first paint, CPU", "ms"),
    ("first paint verdicts", "TUI first paint with every verdict, wall", "ms"),
    ("edit", "TUI what-if edit to repaint, CPU", "ms"),
    ("edit own", "TUI what-if edit, less the policies re-run, CPU", "ms"),
    ("rss", "TUI resident memory", "MB"),
)
RATIOS = ("warm/ps", "warm/floor", "stream/ps", "load/json", "preview/json")
GROWTH_FROM = 10000  # below it fixed costs (imports, the cgroup side, Textual) hide how a cost grows


def table(rows: dict[int, Row]) -> str:
    sizes = sorted(rows)
    head = "| figure | " + " | ".join(f"{s // 1000}k" for s in sizes) + " | growth per process |"
    lines = [head, "|---" * (len(sizes) + 2) + "|"]
    for key, label, unit in FIGURES:
        have = [s for s in sizes if key in rows[s]]
        if not have:
            continue
        cells = [("—" if key not in rows[s] else f"{rows[s][key]:.2f}" if unit == "×" else f"{rows[s][key]:.0f}")
                 for s in sizes]
        growth = "—"
        big = [s for s in have if s >= GROWTH_FROM] or have
        if key not in RATIOS and len(big) > 1 and rows[big[0]][key] > 0:
            per = (rows[big[-1]][key] / big[-1]) / (rows[big[0]][key] / big[0])
            growth = f"{per:.2f} ({big[0] // 1000}k→{big[-1] // 1000}k)"
        lines.append(f"| {label} ({unit}) | " + " | ".join(cells) + f" | {growth} |")
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[1000, 5000, 10000, 20000, 50000])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--no-live", action="store_true", help="leave out the live collection")
    ap.add_argument("--no-tui", action="store_true", help="leave out the TUI")
    args = ap.parse_args()
    rows: dict[int, Row] = {s: {} for s in args.sizes}
    for size in sorted(args.sizes):
        rows[size].update(synthetic(size, args.rounds))
        if not args.no_tui:
            rows[size].update(tui(size, max(3, args.rounds)))
        rows[size]["load/json"] = rows[size]["load"] / rows[size]["json.load"]
        rows[size]["preview/json"] = rows[size]["preview"] / rows[size]["json.load"]
        print(f"{size}: {rows[size]}", file=sys.stderr)
    reason = why_no_memcg()
    if not args.no_live and reason is None:
        with open("/proc/sys/kernel/pid_max") as f:
            room = int(f.read()) - len([n for n in os.listdir("/proc") if n.isdigit()]) - 2000
        live = [s for s in args.sizes if s <= room]

        def keep(r: Row) -> None:
            row = rows[int(r["size"])]
            row.update({k: r[f"{k}_cpu"] for k in ("ps", "floor", "cold", "warm", "stream")})
            row["warm/ps"], row["warm/floor"] = r["warm_cpu"] / r["ps_cpu"], r["warm_cpu"] / r["floor_cpu"]
            row["stream/ps"] = r["stream_cpu"] / r["ps_cpu"]
            print(f"{int(r['size'])} live: {row}", file=sys.stderr)

        measure_live(live, 200, args.rounds, keep)
    elif not args.no_live:
        print(f"bench_growth: no live figures: {reason}", file=sys.stderr)
    print(f"{os.cpu_count()} cpus, load average {os.getloadavg()[0]:.1f} at the end")
    print(table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
