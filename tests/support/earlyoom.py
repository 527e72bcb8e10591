"""The real earlyoom as an oracle: find the binary, ask it for its victim in dry-run mode.

scripts/fetch-earlyoom.sh unpacks Debian's package into .cache/earlyoom/
without installing it (installing would start a real killer daemon).
`dryrun_victim` follows Recipe A of research/earlyoom-dryrun.md: thresholds
that hold on the first poll, read stderr until the victim line, then end
the child by its pid.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from tests.support.readable import readable

REPO = Path(__file__).resolve().parents[2]
CACHED = REPO / ".cache" / "earlyoom" / "root" / "usr" / "bin" / "earlyoom"
_VICTIM = re.compile(r"^sending (?:SIGTERM|SIGKILL|0 \(no-op signal\)) to process (\d+) uid (-?\d+) \"")
_NONE = "Could not find a process to kill"


def find_earlyoom() -> Path | None:
    """$EARLYOOM, the fetched Debian binary, or one on PATH."""
    for candidate in (os.environ.get("EARLYOOM"), str(CACHED), shutil.which("earlyoom")):
        if candidate and os.access(candidate, os.X_OK):
            return Path(candidate)
    return None


def why_no_earlyoom() -> str | None:
    if find_earlyoom() is None:
        return "no earlyoom binary: run scripts/fetch-earlyoom.sh (needs apt-get and dpkg) or set $EARLYOOM"
    return None


def version(binary: Path) -> str:
    """The "X.Y" earlyoom -v prints on its first line."""
    out = subprocess.run([str(binary), "-v"], capture_output=True, text=True, timeout=10)
    m = re.search(r"earlyoom v?(\d+\.\d+(?:\.\d+)?)", out.stdout + out.stderr)
    return m.group(1) if m else "unknown"


@dataclass(frozen=True)
class Victim:
    pid: int | None  # None: earlyoom found nothing to kill
    line: str


def mem_total_kib() -> int:
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                return int(line.split()[1])
    raise RuntimeError("no MemTotal in /proc/meminfo")


def dryrun_victim(binary: Path, options: list[str], timeout: float = 10.0) -> Victim:
    """Recipe A: `earlyoom --dryrun -M <MemTotal> -s 100 -r 0 OPTIONS`, first victim line."""
    args = [str(binary), "--dryrun", "-M", str(mem_total_kib()), "-s", "100", "-r", "0", *options]
    child = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    assert child.stderr is not None
    seen: list[str] = []
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not readable(child.stderr, 0.2):
                if child.poll() is not None:
                    break
                continue
            line = child.stderr.readline()
            if not line:
                break
            seen.append(line.rstrip("\n"))
            m = _VICTIM.match(line)
            if m:
                return Victim(int(m.group(1)), line.strip())
            if _NONE in line:
                return Victim(None, line.strip())
        raise RuntimeError(f"earlyoom named no victim within {timeout:g} s; it said: {' | '.join(seen[-5:])}")
    finally:
        if child.poll() is None:
            child.kill()
        child.wait()
        child.stderr.close()


def fold_trace(binary: Path, options: list[str], seconds: float = 1.0) -> list[str]:
    """Recipe B: the startup self-test's debug rows that changed the victim, to explain a mismatch."""
    args = [str(binary), "-d", "--dryrun", "-r", "0", *options]
    try:
        out = subprocess.run(args, capture_output=True, text=True, timeout=seconds).stdout
    except subprocess.TimeoutExpired as e:  # it never exits on its own; run() has killed it
        out = e.stdout.decode() if isinstance(e.stdout, bytes) else (e.stdout or "")
    return [line.strip() for line in out.splitlines() if "new victim" in line]


def _start_time(pid: int) -> int | None:
    """Field 22 of /proc/PID/stat (clock ticks since boot): with the pid, it names one process."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return int(f.read().rsplit(")", 1)[1].split()[19])
    except (OSError, IndexError, ValueError):
        return None


class Daemon:
    """A real earlyoom left running in dry-run mode (it never signals anything), stopped by pid."""

    def __init__(self, binary: Path, options: list[str]) -> None:
        self.popen = subprocess.Popen([str(binary), "--dryrun", *options],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.pid = self.popen.pid
        self.started = _start_time(self.pid)

    def stop(self) -> None:
        """SIGKILL only if the pid is still the process started here (same start time)."""
        if self.popen.poll() is None and self.started is not None and _start_time(self.pid) == self.started:
            os.kill(self.pid, 9)
        self.popen.wait(timeout=10)
