"""The one rule of clock-driven states: a timeline of phases, read at any instant.

A resource whose state follows the clock (a batch job, a file, a context cache, a tuned model's
training, a long-running operation, a background interaction) describes its life as a `Timeline`: the state it starts in, the later changes
(`Transition(state, at)`), the change that ends it (a terminal state: nothing after it happens) and
when it expires (is gone). Nothing runs on a timer: a backend asks `state_at(now)` when it is read, and
the dashboard and the OpenAI layer ask `next_transition(now)` and `expires` rather than re-deriving them.

Ties: a change at `at` holds from `at` on (`now >= at`); of changes at the same instant the later given
wins, and the end wins over any change at or after its instant. Expiry holds while `now >= expires`.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Transition:
    state: str
    at: float          # epoch seconds


class Timeline:
    def __init__(self, first: str, *changes: Transition, end: Transition | None = None,
                 expires: float | None = None) -> None:
        kept = [change for change in changes if end is None or change.at < end.at]
        if end is not None:
            kept.append(end)
        self.first = first
        self.changes = tuple(sorted(kept, key=lambda change: change.at))   # stable: ties keep their order
        self.end = end
        self.expires = expires

    def state_at(self, now: float) -> str:
        """The state at `now`: the last change at or before it, or the first state before any change."""
        state = self.first
        for change in self.changes:
            if change.at > now:
                break
            state = change.state
        return state

    def next_transition(self, now: float) -> Transition | None:
        """The next change of state after `now` (None when the state will not change again)."""
        current = self.state_at(now)
        for change in self.changes:
            if change.at > now and change.state != current:
                return change
        return None

    def expired(self, now: float) -> bool:
        return self.expires is not None and now >= self.expires


# A long-running Operation has no state field, only `done`: its timeline runs until the instant it is done.
OPERATION_RUNNING, OPERATION_DONE = "RUNNING", "DONE"


def operation_timeline(done_at: float) -> Timeline:
    """An Operation's timeline: running until `done_at`, done from then on."""
    return Timeline(OPERATION_RUNNING, end=Transition(OPERATION_DONE, done_at))
