"""Start the app from the command line's arguments.

Everything that can fail before the first screen (a bad snapshot file, a
host without /proc, no terminal) fails here, as one line and exit 1 or 2,
before Textual takes the terminal.
"""

from __future__ import annotations

import argparse
import os

from oomtui.act.results import Actor
from oomtui.collect.remote import RemoteError
from oomtui.errors import UsageError, UserError
from oomtui.oomlog.syslog import log_sources
from oomtui.snapshot import SnapshotError
from oomtui.tui.feeds import Feed, LiveFeed
from oomtui.tui.remote_feed import RemoteFeed


def _feed(args: argparse.Namespace) -> tuple[Feed, bool]:
    """The feed and whether it is the live host."""
    from oomtui.tui.opening import open_feed

    if args.snapshot:
        return open_feed(args.snapshot), False
    if args.demo:
        from oomtui.samples import demo_path

        return open_feed(demo_path()), False
    if args.remote:
        from oomtui.tui.remote_feed import open_remote

        return open_remote(args.remote, args.ssh_option, args.interval), True
    from oomtui.collect import Collector

    collector = Collector()
    return LiveFeed(collector, collector.collect()), True


_SCRIPTS = "in a script use `oomtui preview` or `oomtui snapshot show`"


def attach_terminal() -> None:
    """Make sure Textual has a screen (it draws on fd 2) and a keyboard (it reads fd 0).

    Standard input may be a pipe: `zcat host.json.gz | oomtui --snapshot -`
    has read the snapshot from it by now. Like `less`, we then take keys from
    the controlling terminal; Textual itself would spin at full CPU reading
    the exhausted pipe.
    """
    if not os.isatty(2):
        raise UsageError(f"the screen needs a terminal and standard error is not one; {_SCRIPTS}")
    if os.isatty(0):
        return
    try:
        tty = os.open("/dev/tty", os.O_RDWR | os.O_NOCTTY | os.O_CLOEXEC)
    except OSError:
        raise UsageError(f"the screen needs a keyboard and there is no terminal to read it from; {_SCRIPTS}") from None
    os.dup2(tty, 0)
    os.close(tty)


def launch(args: argparse.Namespace) -> int:
    try:
        feed, live = _feed(args)
    except SnapshotError as e:
        raise UserError(str(e)) from None
    except RemoteError as e:
        raise UserError(f"cannot reach {e}") from None
    except OSError as e:
        raise UserError(f"cannot read the host: {e.strerror or e}") from None
    attach_terminal()
    actor: Actor | None = None
    protected: frozenset[int] = frozenset()
    remote = feed if isinstance(feed, RemoteFeed) else None
    if live and not args.read_only and remote is not None:
        from oomtui.act.remote import RemoteActor

        actor = RemoteActor(remote.stream.ssh, args.audit_log)
    elif live and not args.read_only:
        from oomtui.act import HostActor, protected_pids

        actor = HostActor(audit_log=args.audit_log)
        protected = protected_pids()
    from oomtui.tui.app import OomApp

    here = live and remote is None  # a remote host: not our kmsg, not our journal
    journal, syslog = log_sources(args.journal, args.syslog) if here else (None, None)
    app = OomApp(feed, actor, interval=args.interval, read_only=args.read_only, protected=protected,
                 kmsg="/dev/kmsg" if here else None, journal=journal, syslog=syslog)
    try:
        app.run()
    finally:
        if remote is not None:
            remote.stream.close()
    return app.return_code or 0
