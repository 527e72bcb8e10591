"""Open a snapshot file as a feed, for `--snapshot`, `--demo` and the open key."""

from __future__ import annotations

from pathlib import Path

from oomtui.snapshot import load
from oomtui.tui.feeds import Feed


def open_feed(path: str | Path) -> Feed:
    """A feed for the file; raises SnapshotError (one line) when it cannot be read."""
    return Feed(load(path), f"snapshot {Path(path).name}")
