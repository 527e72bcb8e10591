"""Which OOM killers run on the host, with the settings they run with: `Host.killers`.

A killer is in force when its process runs: earlyoom, nohang, oomd,
systemd-oomd and the kubelet are found among the snapshot's processes by
name, and their settings are read from where each daemon reads them — the
command line (earlyoom, the kubelet's flags), /etc/default/earlyoom where
the command line cannot be read, nohang's and oomd's config files,
systemd's oomd.conf and unit files, the kubelet's config file. Nothing is
asked of a daemon; files are read with bounded reads relative to `root`,
so tests lay out fixture trees. The kernel's own sysctls are in
`Host.sysctl` already.
"""

from __future__ import annotations

import os
import stat
import time
from collections.abc import Iterable, Mapping, Sequence

from oomtui.collect import killer_config as cfg
from oomtui.collect.systemd_units import systemd_oomd_settings
from oomtui.model import Killer, KillerName, Process, frozen_map

MAX_CONFIG_BYTES = 1 << 20
MAX_BINARY_BYTES = 8 << 20
# /proc/PID/comm of each daemon (nohang is a Python script: its comm is the script's name).
COMMS: Mapping[str, KillerName] = {
    "earlyoom": "earlyoom", "nohang": "nohang", "oomd": "oomd", "oomd_bin": "oomd",
    "systemd-oomd": "systemd-oomd", "kubelet": "kubelet",
}
NOHANG_CONFIGS = ("etc/nohang/nohang.conf", "usr/local/etc/nohang/nohang.conf")
OOMD_CONFIGS = ("etc/oomd/oomd.json", "etc/oomd.json", "usr/local/etc/oomd/oomd.json")
EARLYOOM_DEFAULTS = "etc/default/earlyoom"


class Files:
    """Bounded reads below a root directory: `/` on the live host, a fixture tree in tests."""

    def __init__(self, root: str = "/", proc: str = "/proc") -> None:
        self.root, self.proc = root, proc

    def path(self, rel: str) -> str:
        return os.path.join(self.root, rel.lstrip("/"))

    def bytes(self, path: str, limit: int = MAX_CONFIG_BYTES) -> bytes | None:
        """At most `limit` bytes of a regular file: a path from a command line may name a FIFO or a device."""
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC | os.O_NOCTTY)
        except OSError:
            return None
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                return None
            chunks, left = [], limit
            while left > 0 and (chunk := os.read(fd, min(left, 1 << 16))):
                chunks.append(chunk)
                left -= len(chunk)
            return b"".join(chunks)
        except OSError:
            return None
        finally:
            os.close(fd)

    def owned_by_others(self, path: str) -> bool:
        """Whether a file is known to belong to someone other than root (unknown counts as not)."""
        try:
            return os.stat(path).st_uid != 0
        except OSError:
            return False

    def text(self, rel: str) -> str | None:
        data = self.bytes(self.path(rel))
        return None if data is None else data.decode("utf-8", "replace")


def _daemon(p: Process) -> KillerName | None:
    if p.kernel_thread:
        return None
    name = COMMS.get(p.comm)
    if name is None and p.comm.startswith("python") and len(p.cmdline) > 1:
        name = COMMS.get(os.path.basename(p.cmdline[1]))  # `python3 /usr/sbin/nohang`, its comm "python3"
    return name


def _genuine(p: Process, files: Files) -> bool:
    """A daemon runs a root-owned program: any user can name a process `earlyoom`, not install one.

    The executable (and a script run by an interpreter) must belong to root
    where that can be seen; unprivileged, another user's /proc/PID/exe
    cannot be looked at, and the process is taken at its name.
    """
    if files.owned_by_others(f"{files.proc}/{p.pid}/exe"):
        return False
    script = p.cmdline[1] if len(p.cmdline) > 1 and p.comm not in COMMS else None
    return not (script and os.path.isabs(script) and files.owned_by_others(files.path(script)))


def _earlyoom(p: Process, files: Files, mem_total: int | None) -> Killer:
    argv: Sequence[str] = p.cmdline
    source = f"command line of pid {p.pid}"
    if not argv:
        defaults = files.text(EARLYOOM_DEFAULTS)
        parsed = cfg.earlyoom_default_args(defaults) if defaults is not None else None
        argv = ["earlyoom", *(parsed or [])]
        source = (f"/{EARLYOOM_DEFAULTS} (the command line of pid {p.pid} cannot be read)" if parsed is not None
                  else f"defaults (pid {p.pid}: neither its command line nor /{EARLYOOM_DEFAULTS} can be read)")
    settings = cfg.earlyoom_settings(argv, mem_total)
    binary = files.bytes(f"{files.proc}/{p.pid}/exe", MAX_BINARY_BYTES)
    version = cfg.earlyoom_version(binary) if binary else None
    if version is not None:
        settings["version"] = version
        source += f"; version {version} from its binary"
    return Killer("earlyoom", p.pid, frozen_map(settings), source)


def _option_after(argv: Sequence[str], *flags: str) -> str | None:
    for i, arg in enumerate(argv):
        for flag in flags:
            if arg == flag and i + 1 < len(argv):
                return argv[i + 1]
            if flag.startswith("--") and arg.startswith(flag + "="):
                return arg.partition("=")[2]
    return None


def _config(files: Files, given: str | None, defaults: Sequence[str]) -> tuple[str, str] | None:
    """(path as the daemon names it, text) of the config named on the command line, else the first default."""
    for rel in [given] if given else defaults:
        text = files.text(rel)
        if text is not None:
            return "/" + rel.lstrip("/"), text
    return None


def _nohang(p: Process, files: Files, mem_total: int | None, swap_total: int | None) -> Killer:
    found = _config(files, _option_after(p.cmdline, "-c", "--config"), NOHANG_CONFIGS)
    if found is None:
        return Killer("nohang", p.pid, frozen_map(None), f"defaults (pid {p.pid}: no config file found)")
    path, text = found
    return Killer("nohang", p.pid, frozen_map(cfg.nohang_settings(text, mem_total, swap_total)), path)


def _oomd(p: Process, files: Files) -> Killer:
    found = _config(files, _option_after(p.cmdline, "-C", "--config"), OOMD_CONFIGS)
    if found is None:
        return Killer("oomd", p.pid, frozen_map(None), f"no config file found for pid {p.pid}")
    path, text = found
    try:
        settings, rulesets = cfg.oomd_settings(text)
    except ValueError as e:
        return Killer("oomd", p.pid, frozen_map(None), f"{path}: not valid JSON ({e})")
    named = f" (rulesets {', '.join(rulesets)})" if rulesets else " (no kill plugin in any ruleset)"
    return Killer("oomd", p.pid, frozen_map(settings), path + named)


def _systemd_oomd(p: Process, files: Files) -> Killer:
    settings, sources = systemd_oomd_settings(files.root, files.text)
    return Killer("systemd-oomd", p.pid, frozen_map(settings), ", ".join(sources) or "defaults (no oomd.conf)")


def _kubelet(p: Process, files: Files) -> Killer:
    flag = cfg.kubelet_flag_threshold(p.cmdline)
    if flag is not None:
        return Killer("kubelet", p.pid, frozen_map({"threshold": flag}), f"--eviction-hard of pid {p.pid}")
    path = cfg.kubelet_config_path(p.cmdline)
    text = files.text(path) if path else None
    threshold = cfg.kubelet_config_threshold(text) if text is not None else None
    if threshold is not None:
        return Killer("kubelet", p.pid, frozen_map({"threshold": threshold}), f"{path} (evictionHard)")
    why = f"{path} sets no memory.available" if text is not None else "no config file read"
    return Killer("kubelet", p.pid, frozen_map(None), f"the kubelet's default ({why})")


def detect_killers(
    processes: Iterable[Process],
    *,
    mem_total: int | None,
    swap_total: int | None,
    root: str = "/",
    proc: str = "/proc",
) -> tuple[Killer, ...]:
    """Every OOM killer running among `processes`, in the order found (one entry per daemon)."""
    files = Files(root, proc)
    out: list[Killer] = []
    seen: set[str] = set()
    for p in processes:
        name = _daemon(p)
        if name is None or name in seen or not _genuine(p, files):
            continue
        seen.add(name)
        if name == "earlyoom":
            out.append(_earlyoom(p, files, mem_total))
        elif name == "nohang":
            out.append(_nohang(p, files, mem_total, swap_total))
        elif name == "oomd":
            out.append(_oomd(p, files))
        elif name == "systemd-oomd":
            out.append(_systemd_oomd(p, files))
        else:
            out.append(_kubelet(p, files))
    return tuple(out)



class KillerCache:
    """Detection once per `ttl` seconds while the same daemons run: unit files need not be re-read every sample.

    A daemon re-reads its own settings only when restarted (a new pid or
    start time), which starts a new detection at once; systemd's unit files
    can change under a running systemd-oomd, so the cache also expires.
    """

    def __init__(self, root: str = "/", proc: str = "/proc", ttl: float = 30.0) -> None:
        self.root, self.proc, self.ttl = root, proc, ttl
        self._key: tuple | None = None
        self._at = 0.0
        self._found: tuple[Killer, ...] = ()

    def detect(self, processes: Sequence[Process], mem_total: int | None, swap_total: int | None) -> tuple[Killer, ...]:
        named = [p for p in processes if p.comm in COMMS or p.comm[:6] == "python"]  # cheap, on every sample
        daemons = [p for p in named if _daemon(p) is not None]
        key = (tuple((p.pid, p.start_time, p.cmdline) for p in daemons), mem_total, swap_total)
        now = time.monotonic()
        if key != self._key or now - self._at > self.ttl:
            self._found = detect_killers(daemons, mem_total=mem_total, swap_total=swap_total, root=self.root,
                                         proc=self.proc)
            self._key, self._at = key, now
        return self._found
