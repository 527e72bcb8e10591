"""`oomtui record DIR`: keep snapshots of the host over time and capture kernel OOM reports."""

from __future__ import annotations

import argparse

from oomtui.errors import UsageError
from oomtui.oomlog.syslog import log_sources
from oomtui.record import Recorder, parse_duration, parse_size


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "record",
        help="record the host's memory state over time, with the kernel's OOM reports",
        description="Save a compressed snapshot every interval and at once when memory pressure rises, "
        "and capture each kernel OOM report beside the last snapshot before it. Stops on SIGTERM or Ctrl-C.",
    )
    p.add_argument("directory", metavar="DIR", help="where the recording goes (created if missing)")
    p.add_argument("--interval", default="5", metavar="SECONDS", help="time between samples (default 5)")
    p.add_argument("--keep", default="6h", metavar="DURATION", help="drop samples older than this (default 6h)")
    p.add_argument("--max-size", default="1G", metavar="SIZE", help="keep the samples under this size (default 1G)")
    p.add_argument("--journal", metavar="DIR", help="follow the journal in DIR for userspace killers' kills "
                   "(journalctl --directory) instead of this host's journal")
    p.add_argument("--syslog", metavar="FILE", help="follow the syslog file FILE for userspace killers' kills "
                   "(without --journal: instead of this host's journal)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        interval = parse_duration(args.interval)
        keep = parse_duration(args.keep)
        max_bytes = parse_size(args.max_size)
    except ValueError as e:
        raise UsageError(f"oomtui record: {e}") from None
    journal, syslog = log_sources(args.journal, args.syslog)
    return Recorder(args.directory, interval=interval, keep=keep, max_bytes=max_bytes, journal=journal,
                    syslog=syslog).run()
