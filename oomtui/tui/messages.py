"""Messages carrying plain data between the workers and the screen."""

from __future__ import annotations

from textual.message import Message

from oomtui.model import Snapshot
from oomtui.tui.evaluation import Carried, Evaluation
from oomtui.verdict import Verdict


class SampleFetched(Message):
    """A new sample from `feed`; a newer one replaces it if the screen is behind."""

    def __init__(self, sample: Snapshot, feed: object, carried: Carried | None = None) -> None:
        super().__init__()
        self.sample = sample
        self.feed = feed  # a sample from a feed the screen has since left is dropped
        self.carried = carried  # the last decisions kept for it, reckoned in the worker

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, SampleFetched)


class Evaluated(Message):
    """Every policy's decision on a sample with the edits; stale generations are dropped."""

    def __init__(self, generation: int, evaluation: Evaluation) -> None:
        super().__init__()
        self.generation = generation
        self.evaluation = evaluation

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, Evaluated)


class KillJudged(Message):
    """A real kill seen on /dev/kmsg, with the verdict on what oomtui predicted just before it."""

    def __init__(self, verdict: Verdict) -> None:
        super().__init__()
        self.verdict = verdict
