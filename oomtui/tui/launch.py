"""Start the app from the command line's arguments.

Everything that can fail before the first screen (a bad snapshot file, a
host without /proc) fails here, as one line and exit 1, before Textual
takes the terminal.
"""

from __future__ import annotations

import argparse

from oomtui.errors import UserError
from oomtui.snapshot import SnapshotError
from oomtui.tui.feeds import Feed, LiveFeed


def _feed(args: argparse.Namespace) -> tuple[Feed, bool]:
    """The feed and whether it is the live host."""
    from oomtui.tui.opening import open_feed

    if args.snapshot:
        return open_feed(args.snapshot), False
    if args.demo:
        from oomtui.samples import demo_path

        return open_feed(demo_path()), False
    from oomtui.collect import Collector

    collector = Collector()
    return LiveFeed(collector, collector.collect()), True


def launch(args: argparse.Namespace) -> int:
    try:
        feed, live = _feed(args)
    except SnapshotError as e:
        raise UserError(str(e)) from None
    except OSError as e:
        raise UserError(f"cannot read the host: {e.strerror or e}") from None
    actor = None
    protected: frozenset[int] = frozenset()
    if live and not args.read_only:
        from oomtui.act import HostActor, protected_pids

        actor = HostActor(audit_log=args.audit_log)
        protected = protected_pids()
    from oomtui.tui.app import OomApp

    app = OomApp(feed, actor, interval=args.interval, read_only=args.read_only, protected=protected)
    app.run()
    return app.return_code or 0
