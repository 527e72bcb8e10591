"""A live feed from another host: what `oomtui --remote HOST` shows.

To the screen it is a live feed like the local host's; the header names
the host and says when the connection is lost (and that it retries).
"""

from __future__ import annotations

from collections.abc import Sequence

from oomtui.collect.remote import RemoteStream, Ssh
from oomtui.model import Snapshot
from oomtui.tui.feeds import Feed


class RemoteFeed(Feed):
    live = True

    def __init__(self, stream: RemoteStream, first: Snapshot) -> None:
        super().__init__(first, f"remote {stream.ssh.host}")
        self.stream = stream

    def describe(self) -> str:
        return self.stream.status()

    def fetch(self) -> Snapshot:
        return self.stream.latest()


def open_remote(host: str, ssh_options: Sequence[str], interval: float) -> RemoteFeed:
    """Connect and wait for the first snapshot (RemoteError, one line, if none comes)."""
    from oomtui.commands.snapshot import STREAM_MIN_INTERVAL

    stream = RemoteStream(Ssh(host, tuple(ssh_options)), max(interval, STREAM_MIN_INTERVAL))
    return RemoteFeed(stream, stream.start())
