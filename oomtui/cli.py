"""The `oomtui` command: the TUI by default, subcommands for scripts.

Each subcommand lives in `oomtui/commands/<name>.py` with `register(sub)`,
which adds its parser and sets `func` to a `run(args) -> int`. Every error
leaves as one line on stderr with exit 1 (failure) or 2 (usage); no
traceback reaches the user unless OOMTUI_DEBUG is set.
"""

from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import sys
from typing import NoReturn

from oomtui import __version__
from oomtui.errors import UsageError, UserError
from oomtui.text import printable


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one line, exit 2, as the design says
        raise UsageError(f"{self.prog}: {message}")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="oomtui",
        description="See which process or cgroup each OOM policy would kill, and why.",
    )
    parser.add_argument("--version", action="version", version=f"oomtui {__version__}")
    parser.add_argument("--snapshot", metavar="FILE",
                        help="open a snapshot, a recording directory or a kernel log (- reads a snapshot from stdin)")
    parser.add_argument("--demo", action="store_true", help="open a bundled sample snapshot")
    parser.add_argument("--read-only", action="store_true", help="disable every action that changes the host")
    parser.add_argument("--interval", type=float, default=2.0, metavar="SECONDS", help="live refresh interval")
    parser.add_argument("--audit-log", metavar="FILE",
                        help="where actions are logged (with --remote, a file on that host)")
    parser.add_argument("--remote", metavar="[USER@]HOST",
                        help="show another host's live state, read over ssh (oomtui must be on its PATH)")
    parser.add_argument("--ssh-option", action="append", default=[], metavar="OPT",
                        help="with --remote: Name=value passes -o Name=value to ssh; -X... passes as is (repeatable)")
    parser.add_argument("--journal", metavar="DIR",
                        help="follow the journal in DIR for userspace killers' kills (journalctl --directory), "
                        "e.g. one copied from another host, instead of this host's journal")
    parser.add_argument("--syslog", metavar="FILE",
                        help="follow the syslog file FILE for userspace killers' kills, e.g. one copied from "
                        "another host (without --journal: instead of this host's journal)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    import oomtui.commands as pkg

    for info in sorted(pkgutil.iter_modules(pkg.__path__), key=lambda i: i.name):
        if not info.name.startswith("_"):
            importlib.import_module(f"{pkg.__name__}.{info.name}").register(sub)
    return parser


def _run(argv: list[str] | None) -> int:
    args = build_parser().parse_args(argv)
    if args.command is None:
        if args.interval <= 0:
            raise UsageError("oomtui: --interval must be a positive number of seconds")
        if args.remote and (args.snapshot or args.demo):
            raise UsageError("oomtui: --remote shows a live host; it does not go with --snapshot or --demo")
        if args.ssh_option and not args.remote:
            raise UsageError("oomtui: --ssh-option goes with --remote")
        for given, flag in ((args.journal, "--journal"), (args.syslog, "--syslog")):
            if given and (args.remote or args.snapshot or args.demo):
                raise UsageError(f"oomtui: {flag} follows kills beside this host's live view; "
                                 "it does not go with --remote, --snapshot or --demo")
        from oomtui.tui.launch import launch

        return launch(args)
    return args.func(args)


def main(argv: list[str] | None = None) -> int:
    try:
        return _run(argv)
    except UserError as e:  # messages quote names and paths: escaped, so always one line
        message = printable(str(e), None)
        print(message if message.startswith("oomtui") else f"oomtui: {message}", file=sys.stderr)
        return e.code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except Exception as e:
        if os.environ.get("OOMTUI_DEBUG"):
            raise
        first = printable(str(e).splitlines()[0] if str(e) else "", None)
        print(f"oomtui: internal error: {type(e).__name__}: {first} (OOMTUI_DEBUG=1 shows more)", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
