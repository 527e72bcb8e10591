"""`oomtui metrics`: every policy's prediction for Prometheus, as a textfile or over HTTP.

The textfile mode (for node_exporter's textfile collector) is a loop, not a
cron one-shot, so one warm collector fills the trends the oomd and
systemd-oomd policies need. HTTP binds loopback unless an address is given.
"""

from __future__ import annotations

import argparse
import re
import signal
import sys
import threading
from collections.abc import Callable

from oomtui.errors import UsageError, UserError
from oomtui.model import Snapshot
from oomtui.text import printable


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "metrics",
        help="every policy's predicted victim as Prometheus metrics (textfile or HTTP)",
        description="Export each OOM domain's headroom and every policy's predicted victim as Prometheus metrics: "
                    "written atomically for node_exporter's textfile collector, or served on /metrics.",
    )
    p.add_argument("--textfile", metavar="FILE",
                   help="write the metrics here atomically, every interval (- writes to stdout)")
    p.add_argument("--listen", metavar="[ADDR]:PORT",
                   help="serve /metrics on this address (:PORT binds 127.0.0.1)")
    p.add_argument("--interval", type=float, default=30.0, metavar="SECONDS",
                   help="how often to collect; a scrape reuses a collection younger than this (default 30)")
    p.add_argument("--once", action="store_true", help="write the textfile once and exit")
    p.add_argument("--snapshot", metavar="FILE", default=argparse.SUPPRESS,
                   help="export a saved snapshot, a recording's last sample or a kernel log instead of the live host")
    p.add_argument("--max-domains", type=int, default=20, metavar="N",
                   help="export / and the N-1 limited cgroups with least headroom (default 20)")
    p.add_argument("--policy", action="append", metavar="NAME", default=[],
                   help="only this policy (repeatable); default: all")
    p.add_argument("--protect", metavar="REGEX",
                   help='label a victim whose cgroup, unit or comm matches as protected="configured"')
    p.set_defaults(func=run)


def _check(args: argparse.Namespace) -> re.Pattern[str] | None:
    if not args.textfile and not args.listen:
        raise UsageError("oomtui metrics: give --textfile FILE or --listen [ADDR]:PORT")
    if args.once and (args.listen or not args.textfile):
        raise UsageError("oomtui metrics: --once writes the textfile once; it does not go with --listen")
    if args.interval <= 0:
        raise UsageError("oomtui metrics: --interval must be a positive number of seconds")
    if args.max_domains < 1:
        raise UsageError("oomtui metrics: --max-domains must be at least 1")
    from oomtui.policies import registry

    for name in args.policy:
        try:
            registry.get(name)
        except KeyError as e:
            raise UsageError(f"oomtui metrics: {e.args[0]}") from None
    try:
        return re.compile(args.protect) if args.protect else None
    except re.error as e:
        raise UsageError(f"oomtui metrics: --protect {args.protect!r}: {e}") from None


def _sampler(args: argparse.Namespace) -> Callable[[], Snapshot]:
    path = getattr(args, "snapshot", None)
    if path is None:
        from oomtui.collect import Collector

        return Collector().collect
    from oomtui.snapshot import SnapshotError
    from oomtui.sources import open_path

    try:
        loaded = open_path(path).snapshot
    except SnapshotError as e:
        raise UserError(str(e)) from None
    return lambda: loaded


def run(args: argparse.Namespace) -> int:
    protect = _check(args)
    from oomtui.metrics.exporter import Exporter
    from oomtui.metrics.output import parse_listen, registry_of, render, serve, write_textfile

    exporter = Exporter(_sampler(args), interval=args.interval, policies=args.policy,
                        max_domains=args.max_domains, protect=protect)
    registry = registry_of(exporter)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    server = None
    if args.listen:
        address, port = parse_listen(args.listen)
        try:
            server = serve(registry, address, port)
        except OSError as e:
            raise UserError(f"cannot listen on {args.listen}: {e.strerror or e}") from None
        shown = f"[{address}]" if ":" in address else address
        print(f"oomtui metrics: serving http://{shown}:{port}/metrics", file=sys.stderr)
    last_error: str | None = None
    try:
        while not stop.is_set():
            if args.textfile:
                result = exporter.refresh()
                data = render(registry)
                try:
                    if args.textfile == "-":
                        sys.stdout.buffer.write(data)
                        sys.stdout.buffer.flush()
                    else:
                        write_textfile(args.textfile, data)
                except OSError as e:
                    raise UserError(f"cannot write {args.textfile}: {e.strerror or e}") from None
                if result.error != last_error and result.error is not None:
                    print(f"oomtui metrics: collection failed: {printable(result.error)}", file=sys.stderr)
                last_error = result.error
                if args.once:
                    return 0 if result.error is None else 1
            stop.wait(args.interval)
    finally:
        if server is not None:
            server.shutdown()
            server.server_close()
    return 0
