"""Run oomtui inside a test memory cgroup with a limit, and read how much it used at most."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.support.cgroups import TestCgroup

ROOT = Path(__file__).resolve().parent.parent.parent


def run_limited(cg: TestCgroup, limit: int, argv: list[str],
                stdin: Path | None = None) -> tuple[subprocess.CompletedProcess, int]:
    """`oomtui ARGV` run in `cg` under `limit` bytes, reading `stdin` if given: (the finished process, its peak
    memory in bytes).

    The child joins the cgroup before importing oomtui; a return code of -9
    means the kernel's OOM killer ended it.
    """
    cg.set_limit(limit)
    if cg.home.version == 1:
        cg.write("memory.max_usage_in_bytes", 0)  # reset the high-water mark
    code = (f"import os, sys\nopen({str(cg.dir / 'cgroup.procs')!r}, 'w').write(str(os.getpid()))\n"
            "from oomtui.cli import main\nsys.exit(main(sys.argv[1:]))")
    with open(stdin if stdin is not None else os.devnull, "rb") as source:
        done = subprocess.run([sys.executable, "-c", code, *argv], cwd=ROOT, stdin=source, capture_output=True,
                              text=True, timeout=600, env={**os.environ, "PYTHONPATH": str(ROOT)})
    peak = int(cg.read("memory.max_usage_in_bytes" if cg.home.version == 1 else "memory.peak"))
    return done, peak
