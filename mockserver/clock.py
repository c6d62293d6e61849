"""The one clock. Nothing else in the emulator reads the time.

`now()` reads `time.time()` at every call, so freezegun and time-machine (which patch it) move the
emulator too; on top of that the clock keeps an offset that `/_mock/clock` and the pytest plugin set.
Time-driven states are computed from `now()` when they are read: there are no timers.
"""
from __future__ import annotations

import threading
import time
from datetime import datetime, timezone


class Clock:
    def __init__(self) -> None:
        self._offset = 0.0
        self._lock = threading.Lock()

    def now(self) -> float:
        """Seconds since the epoch, as the emulator sees them."""
        return time.time() + self._offset

    @property
    def offset(self) -> float:
        """Seconds the emulator's time is ahead of the real time (negative: behind)."""
        return self._offset

    def now_dt(self) -> datetime:
        return datetime.fromtimestamp(self.now(), tz=timezone.utc)

    def advance(self, seconds: float) -> float:
        with self._lock:
            self._offset += float(seconds)
        return self.now()

    def set(self, when: float) -> float:
        """Jump to `when` (epoch seconds); time goes on flowing from there."""
        with self._lock:
            self._offset = float(when) - time.time()
        return self.now()

    def reset(self) -> None:
        with self._lock:
            self._offset = 0.0
