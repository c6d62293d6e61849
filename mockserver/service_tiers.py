"""Service tiers of synchronous generation (`store.service_tiers`): Standard, Flex and Priority inference.

A generateContent or streamGenerateContent request (and an Interactions API create) may name its tier in
`serviceTier` (`service_tier`): `standard` (also what `unspecified` or no field means), `flex` or
`priority`; the schema refuses any other value. The rules, with their sources in
fixtures/service_tiers.json:

* Only the models listed there take flex or priority; another model is a 400 INVALID_ARGUMENT naming
  service_tier. Flex needs a paid tier (tier1 and up), priority tier2 or tier3; a lower tier is a
  400 FAILED_PRECONDITION.
* Priority calls have limits of their own, a share (0.3) of the project's Standard RPM, TPM and RPD for the
  model, counted like the rate limits (rate_limits.py: on the emulator's clock, for the keys the limits
  apply to). A priority call over them is served at Standard, not refused.
* The answer of a call that named a tier carries the header `x-gemini-service-tier` with the tier that
  served it; a call that named none answers as it always did. The usage ledger prices the call at the
  tier's factor of the Standard price (flex 0.5, priority 2.0).
"""
from __future__ import annotations

import json
import math
import threading
from collections import deque
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .auth import TIERS
from .call import Call, bare_model
from .errors import ApiError, invalid_argument
from .paths import FIXTURES
from .rate_limits import MINUTE, pacific_day

if TYPE_CHECKING:
    from .store import Store

STANDARD, FLEX, PRIORITY = "standard", "flex", "priority"
# The enum's default member is served at Standard.
_DEFAULTS = ("unspecified", STANDARD)


class _PriorityWindow:
    """One project's priority calls of one model: the last minute's (time, input tokens), the day's count."""
    __slots__ = ("minute", "day", "day_count")

    def __init__(self) -> None:
        self.minute: deque[list[float]] = deque()   # [time, input tokens]; tokens added once known
        self.day: date | None = None
        self.day_count = 0

    def prune(self, now: float) -> None:
        while self.minute and (self.minute[0][0] <= now - MINUTE or self.minute[0][0] > now):
            self.minute.popleft()


class ServiceTiers:
    """The tiers' rules (fixtures/service_tiers.json) and the priority limits' windows."""

    def __init__(self, store: Store, path: Path = FIXTURES / "service_tiers.json") -> None:
        self._store = store
        data = json.loads(path.read_text())
        self.header: str = data["header"]
        self.tiers: dict[str, dict[str, Any]] = data["tiers"]
        self.models: frozenset[str] = frozenset(data["models"])
        self._windows: dict[tuple[str, str], _PriorityWindow] = {}
        self._lock = threading.Lock()

    def reset(self) -> None:
        with self._lock:
            self._windows.clear()

    def price_factor(self, tier: str | None) -> float:
        return float(self.tiers.get(tier or STANDARD, self.tiers[STANDARD])["priceFactor"])

    # -- a call's tier -------------------------------------------------------------------------------
    def serve(self, call: Call | None, requested: Any, field: str = "service_tier") -> str | None:
        """The tier that serves `call`, which asked for `requested` (None: it named no tier; then it is
        served at Standard and answers without the header), noted on the call. Raises the 400s of the
        module's doc."""
        if requested is None or call is None or call.identity is None:
            return None
        served = self._decide(call, requested, field)
        call.service_tier, call.service_tier_asked = served, str(requested)
        return served

    def _decide(self, call: Call, requested: Any, field: str) -> str:
        assert call.identity is not None
        if requested in _DEFAULTS:
            return STANDARD
        if requested not in (FLEX, PRIORITY):   # the schema has refused it already; an Interactions body
            raise invalid_argument(f"Invalid value at '{field}': {requested!r}. Give one of standard, flex, "
                                   "priority.", field)
        model = bare_model(call.limit_model or call.model)
        if model not in self.models:
            raise invalid_argument(f"Service tier {requested} is not supported for model {model}. Leave "
                                   f"{field} unset (standard) or call a model that supports it.", field)
        needed = self.tiers[requested]["minBillingTier"]
        tier = call.identity.tier
        if TIERS.index(tier) < TIERS.index(needed):
            raise _tier_too_low(requested, call.identity.project, tier, needed, field)
        if requested == PRIORITY and not self._admit_priority(call):
            return STANDARD   # over the priority limits: served at Standard rather than refused
        return str(requested)

    def priority_limits(self, tier: str, model: str) -> dict[str, int | None]:
        """The priority limits of `tier` and `model`: the share of the Standard ones (None: no limit)."""
        factor = float(self.tiers[PRIORITY]["rateLimitFactor"])
        standard = self._store.quotas.limits(tier, model)
        return {k: None if v is None else max(1, math.floor(v * factor)) for k, v in standard.items()}

    def _admit_priority(self, call: Call) -> bool:
        """Count a priority call in its windows, or False when its limits are reached."""
        identity = call.identity
        if identity is None or call.limit_model is None or not self._store.quotas.applies_to(identity):
            return True
        model = bare_model(call.limit_model)
        limits = self.priority_limits(identity.tier, model)
        now = self._store.now()
        day = pacific_day(now)[0]
        with self._lock:
            window = self._windows.setdefault((identity.project, model), _PriorityWindow())
            window.prune(now)
            if window.day != day:
                window.day, window.day_count = day, 0
            rpm, tpm, rpd = limits["rpm"], limits["tpm"], limits["rpd"]
            if ((rpm is not None and len(window.minute) >= rpm)
                    or (tpm is not None and sum(int(entry[1]) for entry in window.minute) >= tpm)
                    or (rpd is not None and window.day_count >= rpd)):
                return False
            window.minute.append([now, 0])
            window.day_count += 1
        call.priority_admitted_at = now
        return True

    def add_tokens(self, call: Call, tokens: int) -> None:
        """The input tokens of a call served at priority, for its TPM window."""
        if call.priority_admitted_at is None or call.identity is None or call.limit_model is None:
            return
        key = (call.identity.project, bare_model(call.limit_model))
        with self._lock:
            window = self._windows.get(key)
            for entry in window.minute if window is not None else ():
                if entry[0] == call.priority_admitted_at and entry[1] == 0:
                    entry[1] = tokens
                    break

    # -- state export and import (persistence.py) ----------------------------------------------------
    def export_state(self) -> dict[str, Any]:
        with self._lock:
            return {"priority": [{"project": project, "model": model, "minute": [list(e) for e in w.minute],
                                  "day": w.day.isoformat() if w.day else None, "dayCount": w.day_count}
                                 for (project, model), w in self._windows.items()]}

    def import_state(self, data: dict[str, Any]) -> None:
        windows: dict[tuple[str, str], _PriorityWindow] = {}
        for item in data.get("priority") or []:
            window = _PriorityWindow()
            window.minute = deque([float(when), int(tokens)] for when, tokens in item.get("minute") or ())
            window.day = date.fromisoformat(item["day"]) if item.get("day") else None
            window.day_count = int(item.get("dayCount") or 0)
            windows[(item["project"], item["model"])] = window
        with self._lock:
            self._windows = windows


def _tier_too_low(requested: str, project: str, tier: str, needed: str, field: str) -> ApiError:
    allowed = "paid tiers (tier1, tier2 and tier3)" if needed == "tier1" else "usage tiers tier2 and tier3"
    message = (f"Service tier {requested} ({field}) is only available to projects on {allowed}; project "
               f"{project} is on {tier}.")
    return ApiError(400, "FAILED_PRECONDITION", message, [
        {"@type": "type.googleapis.com/google.rpc.PreconditionFailure",
         "violations": [{"type": "BILLING_TIER", "subject": f"project:{project}", "description": message}]},
    ])


def register(store: Store) -> None:
    store.register("service_tiers", ServiceTiers(store))
