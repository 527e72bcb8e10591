"""Where the metrics go: Prometheus text for a textfile, or an HTTP endpoint on loopback.

The textfile is written as root through `oomtui.safefile`: never into a
directory another user controls, never through a symlink, and under a
temporary name node_exporter ignores (not `*.prom`) until the rename.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prometheus_client import start_http_server
from prometheus_client.exposition import generate_latest
from prometheus_client.registry import Collector, CollectorRegistry

from oomtui import safefile
from oomtui.errors import UsageError


def registry_of(exporter: Collector) -> CollectorRegistry:
    """A private registry: no process, platform or GC collectors beside ours (the textfile docs' advice)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(exporter)
    return registry


def render(registry: CollectorRegistry) -> bytes:
    """The Prometheus text format (0.0.4), without timestamps: what node_exporter's textfile collector reads."""
    return generate_latest(registry)


def write_textfile(path: str | Path, data: bytes) -> None:
    """Replace `path` atomically (mode 0644 under the usual umask: node_exporter runs as another user)."""
    safefile.write_atomic(path, data, mode=0o644)


def parse_listen(value: str) -> tuple[str, int]:
    """`[ADDR]:PORT` into (address, port); no address means 127.0.0.1, never all interfaces."""
    host, colon, port_text = value.rpartition(":")
    if not colon or not (port_text.isascii() and port_text.isdigit()) or not 0 < int(port_text) < 65536:
        raise UsageError(f"oomtui metrics: --listen {value!r}: expected [ADDR]:PORT, e.g. 127.0.0.1:9931 or :9931")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    return host or "127.0.0.1", int(port_text)


def serve(registry: CollectorRegistry, address: str, port: int) -> Any:
    """Serve /metrics in a daemon thread (text or OpenMetrics by the scraper's Accept header); returns the server."""
    server, _thread = start_http_server(port, addr=address, registry=registry)
    return server
