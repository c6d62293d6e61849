"""Model lifecycle: which catalog models the real service has shut down, by the emulator's clock.

Each catalog entry may carry `emulator.lifecycle`: `{"stage": "stable"|"preview"|"deprecated"|"retired",
"released", "shutdownDate": "YYYY-MM-DD", "replacement": "models/...", "routedTo": "models/..."}` (the dates
and replacements of https://ai.google.dev/gemini-api/docs/deprecations and the changelog). A model is
retired once the clock reaches its shutdown date (or when its stage says so).

The config key `models.retired` says what a retired model does:
- `serve` (default): it keeps answering, so test suites pinned to it keep running. Each answer carries
  the real `modelStatus` (stage RETIRED, retirementTime, a message naming the replacement), the server
  logs one warning per model, and listeners (the pytest plugin) hear of every call.
- `refuse`: it answers as the real service does after the shutdown: 404 NOT_FOUND as for a model that
  never existed, and it leaves models.list; a model the service routes to its successor (`routedTo`,
  as the changelog says of gemini-3.5-flash, gemini-3.7-flash and the 2.5 models) answers as that model.

models.get shows the lifecycle in response headers (the Model resource has no field for it):
`x-gemini-mock-model-stage`, `x-gemini-mock-shutdown-date`, `x-gemini-mock-replacement`.
"""
from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Any, Callable

MODES = ("serve", "refuse")
LOG = logging.getLogger("gemini_mockserver.models")
_STAGES = {"stable": "STABLE", "preview": "PREVIEW", "deprecated": "LEGACY", "retired": "RETIRED",
           "experimental": "EXPERIMENTAL", "legacy": "LEGACY"}


@dataclass(frozen=True)
class Lifecycle:
    stage: str = "stable"
    shutdown: date | None = None
    replacement: str | None = None
    routed_to: str | None = None

    def retired_on(self, today: date) -> bool:
        return self.stage == "retired" or (self.shutdown is not None and self.shutdown <= today)


def lifecycle_of(model: dict[str, Any]) -> Lifecycle:
    facts = (model.get("emulator") or {}).get("lifecycle") or {}
    shutdown = facts.get("shutdownDate")
    return Lifecycle(stage=str(facts.get("stage") or "stable").lower(),
                     shutdown=date.fromisoformat(shutdown) if shutdown else None,
                     replacement=facts.get("replacement"), routed_to=facts.get("routedTo"))


def today(now: float) -> date:
    return datetime.fromtimestamp(now, timezone.utc).date()


@dataclass(frozen=True)
class RetiredUse:
    """A call to a retired model that was served anyway (what the pytest plugin turns into a warning)."""
    model: str
    shutdown: date | None
    replacement: str | None

    def message(self) -> str:
        when = f" on {self.shutdown.isoformat()}" if self.shutdown else ""
        instead = f"; use {self.replacement} instead" if self.replacement else ""
        return (f"{self.model} was shut down by the real Gemini API{when}{instead} (the emulator still serves "
                f"it: config models.retired=serve)")


class Lifecycles:
    """The retired-model rules of one catalog: what the clock and the config say, warnings, listeners."""

    def __init__(self, now: Callable[[], float], mode: Callable[[], str]) -> None:
        self._now = now
        self._mode = mode
        self._warned: set[str] = set()
        self._lock = threading.Lock()
        self.listeners: list[Callable[[RetiredUse], None]] = []

    def today(self) -> date:
        return today(self._now())

    def retired(self, model: dict[str, Any]) -> bool:
        life = lifecycle_of(model)
        if life.shutdown is None and life.stage != "retired":   # no date to compare: no clock read
            return False
        return life.retired_on(self.today())

    def refusing(self) -> bool:
        return self._mode() == "refuse"

    def hidden(self, model: dict[str, Any]) -> bool:
        """Gone from the API: retired while the config says to answer as the real service does."""
        return self.refusing() and self.retired(model)

    def served(self, model: dict[str, Any]) -> None:
        """A retired model answered anyway: one log warning per model, and every listener hears of it."""
        life = lifecycle_of(model)
        use = RetiredUse(model["name"], life.shutdown, life.replacement)
        with self._lock:
            first = use.model not in self._warned
            self._warned.add(use.model)
        if first:
            LOG.warning("%s", use.message())
        for listener in list(self.listeners):
            listener(use)

    def status(self, model: dict[str, Any]) -> dict[str, Any] | None:
        """GenerateContentResponse.modelStatus for a model with a shutdown date or a non-stable stage."""
        life = lifecycle_of(model)
        if life.shutdown is None and life.stage in ("stable", "deprecated"):
            return None
        retired = life.retired_on(self.today())
        status: dict[str, Any] = {"modelStage": "RETIRED" if retired else _STAGES.get(life.stage, "STABLE")}
        if life.shutdown is not None:
            status["retirementTime"] = f"{life.shutdown.isoformat()}T00:00:00Z"
        if retired:
            status["message"] = RetiredUse(model["name"], life.shutdown, life.replacement).message()
        elif life.shutdown is not None:
            instead = f"; migrate to {life.replacement}" if life.replacement else ""
            status["message"] = f"{model['name']} is deprecated and shuts down on {life.shutdown.isoformat()}{instead}."
        return status

    def headers(self, model: dict[str, Any]) -> dict[str, str]:
        """The lifecycle of models.get's answer, in headers of the emulator's own."""
        life = lifecycle_of(model)
        stage = "retired" if life.retired_on(self.today()) else life.stage
        headers = {"x-gemini-mock-model-stage": stage}
        if life.shutdown is not None:
            headers["x-gemini-mock-shutdown-date"] = life.shutdown.isoformat()
        if life.replacement:
            headers["x-gemini-mock-replacement"] = life.replacement
        return headers
