"""Where the metrics go: Prometheus text for a textfile, or an HTTP endpoint on loopback.

`write_textfile` is the minimal safe write this command needs as root: it
refuses a directory another user owns or may write (they could swap names
under us), and a target that is a symlink or not a regular file; it
writes a temporary name that node_exporter ignores (not `*.prom`), then
renames it over the target within the same directory. A shared safe-file
module may replace it.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from pathlib import Path
from typing import Any

from prometheus_client import start_http_server
from prometheus_client.exposition import generate_latest
from prometheus_client.registry import Collector, CollectorRegistry

from oomtui.errors import UsageError


class UnsafeTarget(OSError):
    """The textfile would be written where someone else could redirect it; the message is one line."""


def registry_of(exporter: Collector) -> CollectorRegistry:
    """A private registry: no process, platform or GC collectors beside ours (the textfile docs' advice)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(exporter)
    return registry


def render(registry: CollectorRegistry) -> bytes:
    """The Prometheus text format (0.0.4), without timestamps: what node_exporter's textfile collector reads."""
    return generate_latest(registry)


def _check_directory(fd: int, where: str) -> None:
    st = os.fstat(fd)
    if st.st_uid not in (0, os.geteuid()):
        raise UnsafeTarget(f"{where} belongs to another user (uid {st.st_uid}); refusing to write there")
    if st.st_mode & (stat.S_IWGRP | stat.S_IWOTH) and not st.st_mode & stat.S_ISVTX:
        raise UnsafeTarget(f"{where} is writable by other users; refusing to write there")


def write_textfile(path: str | Path, data: bytes) -> None:
    """Replace `path` atomically with `data` (mode 0644: node_exporter runs as another user)."""
    target = Path(path).absolute()
    directory, name = str(target.parent), target.name
    dfd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        _check_directory(dfd, directory)
        with contextlib.suppress(FileNotFoundError):
            existing = os.lstat(name, dir_fd=dfd)
            if stat.S_ISLNK(existing.st_mode):
                raise UnsafeTarget(f"{target} is a symlink; refusing to write through it")
            if not stat.S_ISREG(existing.st_mode):
                raise UnsafeTarget(f"{target} is not a regular file")
        tmp = f".{name}.{secrets.token_hex(6)}.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644, dir_fd=dfd)
        try:
            with os.fdopen(fd, "wb") as f:
                os.fchmod(f.fileno(), 0o644)
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.rename(tmp, name, src_dir_fd=dfd, dst_dir_fd=dfd)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp, dir_fd=dfd)
            raise
    finally:
        os.close(dfd)


def parse_listen(value: str) -> tuple[str, int]:
    """`[ADDR]:PORT` into (address, port); no address means 127.0.0.1, never all interfaces."""
    host, colon, port_text = value.rpartition(":")
    if not colon or not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise UsageError(f"oomtui metrics: --listen {value!r}: expected [ADDR]:PORT, e.g. 127.0.0.1:9931 or :9931")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    return host or "127.0.0.1", int(port_text)


def serve(registry: CollectorRegistry, address: str, port: int) -> Any:
    """Serve /metrics in a daemon thread (text or OpenMetrics by the scraper's Accept header); returns the server."""
    server, _thread = start_http_server(port, addr=address, registry=registry)
    return server
