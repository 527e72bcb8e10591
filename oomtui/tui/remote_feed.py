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
        self._seen = first

    def describe(self) -> str:
        return self.stream.status()

    def fetch(self) -> Snapshot:
        """The next sample from the host; the same one again only after two intervals without news.

        Waiting spares re-running every policy on an unchanged sample, yet the
        header still learns of a lost connection within two intervals.
        """
        self._seen = self.stream.latest(self._seen, wait=2 * self.stream.interval)
        return self._seen


def open_remote(host: str, ssh_options: Sequence[str], interval: float) -> RemoteFeed:
    """Connect and wait for the first snapshot (RemoteError, one line, if none comes)."""
    from oomtui.commands.snapshot import STREAM_MIN_INTERVAL

    stream = RemoteStream(Ssh(host, tuple(ssh_options)), max(interval, STREAM_MIN_INTERVAL))
    return RemoteFeed(stream, stream.start())
