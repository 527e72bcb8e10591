"""Another host's live state, read over ssh: `ssh HOST oomtui snapshot stream`, one snapshot per line.

ssh brings the user's config, keys, jump hosts and known_hosts, and opens no
new port anywhere. The stream is read in a thread that keeps the latest
snapshot; when the connection drops it says so and reconnects after a
pause. A line is bounded and fully validated like any snapshot file: the
remote side is trusted no more than a file from elsewhere.
"""

from __future__ import annotations

import collections
import shlex
import subprocess
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import IO

from oomtui import snapshot as snapshot_file
from oomtui.model import Snapshot
from oomtui.text import printable

# A 10,000-process snapshot is about 4 MiB on one line; parsing costs several times that.
LINE_LIMIT = 64 << 20
RETRY_SECONDS = 5.0


class RemoteError(OSError):
    """ssh could not deliver a snapshot; the message is one line (ssh's own last word where it said one)."""


@dataclass(frozen=True, slots=True)
class Ssh:
    """How to reach the host: `[USER@]HOST` and extra options (`Name=value` becomes `-o Name=value`)."""

    host: str
    options: tuple[str, ...] = ()
    program: str = "ssh"

    def argv(self, remote: Sequence[str], *, compress: bool = False) -> list[str]:
        """ssh's argv to run `remote` there; each word is quoted, since the remote shell parses the line."""
        opts: list[str] = []
        for o in self.options:
            opts += [o] if o.startswith("-") else ["-o", o]
        return [self.program, *(["-C"] if compress else []), "-T", "-o", "BatchMode=yes", *opts, "--",
                self.host, " ".join(shlex.quote(w) for w in remote)]


class RemoteStream:
    """The latest snapshot from `oomtui snapshot stream` on the host, reconnecting when the connection drops."""

    def __init__(self, ssh: Ssh, interval: float, *, retry: float = RETRY_SECONDS,
                 clock: Callable[[], float] = time.time) -> None:
        self.ssh = ssh
        self.interval = interval
        self.retry = retry
        self._clock = clock
        self._lock = threading.Condition()
        self._latest: Snapshot | None = None
        self._problem: str | None = None
        self._closed = threading.Event()
        self._proc: subprocess.Popen | None = None
        self._thread = threading.Thread(target=self._run, name=f"ssh {ssh.host}", daemon=True)
        self.connections = 0

    def command(self) -> list[str]:
        return self.ssh.argv(["oomtui", "snapshot", "stream", "--interval", f"{self.interval:g}"], compress=True)

    def start(self, timeout: float = 60.0) -> Snapshot:
        """Connect and wait for the first snapshot; RemoteError if ssh gives up or nothing comes in time."""
        self._thread.start()
        deadline = time.monotonic() + timeout
        with self._lock:
            while self._latest is None:
                if self._problem is not None:
                    self.close()
                    raise RemoteError(f"{self.ssh.host}: {self._problem}")
                left = deadline - time.monotonic()
                if left <= 0:
                    self.close()
                    raise RemoteError(f"{self.ssh.host}: no snapshot within {timeout:g} s")
                self._lock.wait(left)
            return self._latest

    def latest(self, newer_than: Snapshot | None = None, wait: float = 0.0) -> Snapshot:
        """The latest snapshot; given the one already seen, wait up to `wait` seconds for a newer one."""
        with self._lock:
            self._lock.wait_for(lambda: self._latest is not newer_than or self._closed.is_set(), wait)
            assert self._latest is not None, "start() first"
            return self._latest

    @property
    def pid(self) -> int | None:
        """The ssh client's pid while one runs."""
        proc = self._proc
        return proc.pid if proc is not None and proc.poll() is None else None

    def status(self) -> str:
        """`remote HOST`, and while the connection is down, why and that it retries."""
        with self._lock:
            problem = self._problem
        return f"remote {self.ssh.host}" + ("" if problem is None else f" — {problem}; retrying")

    def close(self) -> None:
        """Stop reading and end ssh (ours, by its pid)."""
        self._closed.set()
        proc = self._proc
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def _say(self, problem: str | None, snapshot: Snapshot | None = None) -> None:
        with self._lock:
            self._problem = problem
            if snapshot is not None:
                self._latest = snapshot
            self._lock.notify_all()

    def _run(self) -> None:
        while not self._closed.is_set():
            stderr: collections.deque[str] = collections.deque(maxlen=5)
            try:
                proc = subprocess.Popen(self.command(), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE, start_new_session=True)
            except OSError as e:
                self._say(f"cannot run {self.ssh.program}: {e.strerror or e}")
                self._closed.wait(self.retry)
                continue
            self._proc = proc
            self.connections += 1
            assert proc.stdout is not None and proc.stderr is not None
            threading.Thread(target=_tail, args=(proc.stderr, stderr), daemon=True).start()
            problem = self._read(proc.stdout)
            if proc.poll() is None:
                proc.terminate()
            code = proc.wait()
            if self._closed.is_set():
                return
            said = stderr[-1] if stderr else f"ssh exited with status {code}"
            when = time.strftime("%H:%M:%S", time.localtime(self._clock()))
            self._say(f"connection lost at {when}: {printable(problem or said, 160)}")
            self._closed.wait(self.retry)

    def _read(self, out: IO[bytes]) -> str | None:
        """Take snapshots until the stream ends; a reason when it ended on a bad line."""
        while not self._closed.is_set():
            line = out.readline(LINE_LIMIT + 1)
            if not line:
                return None
            if len(line) > LINE_LIMIT:
                return f"a line longer than {LINE_LIMIT >> 20} MiB"
            try:
                snap = snapshot_file.from_dict(snapshot_file.parse_json(line, "the stream"))
            except (snapshot_file.SnapshotError, RecursionError) as e:
                return f"not a snapshot: {str(e).splitlines()[0] if str(e) else type(e).__name__}"
            self._say(None, snap)
        return None


def _tail(stream: IO[bytes], into: collections.deque[str]) -> None:
    for raw in stream:
        text = raw.decode(errors="replace").strip()
        if text:
            into.append(text)
