"""Open a file or recording as a feed, for `--snapshot`, `--demo` and the open key."""

from __future__ import annotations

from pathlib import Path

from oomtui.sources import open_path
from oomtui.tui.feeds import Feed, RecordingFeed


def open_feed(path: str | Path) -> Feed:
    """A snapshot, a kernel log or a recording; raises a one-line UserError or SnapshotError."""
    opened = open_path(path)
    name = "(standard input)" if str(path) == "-" else Path(path).name
    if opened.recording is not None:
        return RecordingFeed(opened.recording, name, opened.warnings)
    return Feed(opened.snapshot, f"{opened.kind} {name}", opened.warnings)
