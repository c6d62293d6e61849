"""Rate limits per tier and model (`store.quotas`): RPM, TPM and RPD on the emulator's clock, and the 429
they answer with. The rules are described in quotas.py.
"""
from __future__ import annotations

import json
import math
import threading
from collections import deque
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .auth import TIERS, Identity
from .call import GENERATE, Call, bare_model, longest_prefix
from .errors import ApiError, invalid_argument
from .paths import FIXTURES

if TYPE_CHECKING:
    from .store import Store

LIMIT_KEYS = ("rpm", "tpm", "rpd")
MINUTE = 60.0
RATE_LIMITS_DOC = "https://ai.google.dev/gemini-api/docs/rate-limits"


def _pacific_zone() -> tzinfo:
    try:
        from zoneinfo import ZoneInfo
        return ZoneInfo("America/Los_Angeles")
    except Exception:   # no time zone database: Pacific Standard Time all year
        return timezone(timedelta(hours=-8), "PST")


PACIFIC = _pacific_zone()


def pacific_day(epoch: float) -> tuple[date, float]:
    """(the Pacific calendar day of `epoch`, seconds from `epoch` to the next Pacific midnight)."""
    local = datetime.fromtimestamp(epoch, PACIFIC)
    midnight = datetime.combine(local.date() + timedelta(days=1), time(0), tzinfo=PACIFIC)
    return local.date(), midnight.timestamp() - epoch


# -- rate limits ------------------------------------------------------------------------------------


class _Window:
    """One project's calls of one model: the last minute's requests and input tokens, and the day's count."""
    __slots__ = ("requests", "tokens", "token_sum", "day", "day_count")

    def __init__(self) -> None:
        self.requests: deque[float] = deque()
        self.tokens: deque[tuple[float, int]] = deque()
        self.token_sum = 0
        self.day: date | None = None
        self.day_count = 0

    def prune(self, now: float) -> None:
        """Keep what happened in (now - 60 s, now]; a clock moved back forgets the calls 'in the future'."""
        start = now - MINUTE
        while self.requests and self.requests[0] <= start:
            self.requests.popleft()
        while self.tokens and self.tokens[0][0] <= start:
            self.token_sum -= self.tokens.popleft()[1]
        if self.requests and self.requests[-1] > now:
            self.requests = deque(t for t in self.requests if t <= now)
        if self.tokens and self.tokens[-1][0] > now:
            self.tokens = deque(entry for entry in self.tokens if entry[0] <= now)
            self.token_sum = sum(n for _, n in self.tokens)

    def token_delay(self, now: float, limit: int) -> float:
        """Seconds until the minute's tokens fall under `limit`."""
        remaining = self.token_sum
        for when, tokens in self.tokens:
            remaining -= tokens
            if remaining < limit:
                return when + MINUTE - now
        return MINUTE


class RateLimits:
    """Requests and input tokens per project and model, counted on the emulator's clock."""

    def __init__(self, store: Store, path: Path = FIXTURES / "rate_limits.json") -> None:
        self._store = store
        data = json.loads(path.read_text())
        self._tiers: dict[str, Any] = data["tiers"]
        # family -> "free" or "paid" -> rpm, tpm or rpd -> {"metric", "quotaId"}
        self._quotas: dict[str, dict[str, dict[str, dict[str, str]]]] = data["quotas"]
        self._windows: dict[tuple[str, str], _Window] = {}
        self._lock = threading.Lock()

    def reset(self) -> None:
        with self._lock:
            self._windows.clear()

    # -- the limits --------------------------------------------------------------------------------
    def applies_to(self, identity: Identity | None) -> bool:
        """Whether `identity`'s calls are limited (see the module's doc)."""
        if identity is None:
            return False
        config = self._store.config["rateLimits"]
        if not config["enabled"]:
            return False
        listed = self._store.keys.listed
        if listed is not None and identity.key in listed:
            return True
        return bool(config.get("derivedKeys"))

    def limits(self, tier: str, model: str) -> dict[str, int | None]:
        """{"rpm", "tpm", "rpd"} for `tier` and `model` (a bare model id); None means no limit."""
        table = self._tiers.get(tier) or self._tiers["free"]
        found = dict(table["default"])
        key = longest_prefix(table["models"], bare_model(model))
        if key is not None:
            found.update(table["models"][key])
        overrides = (self._store.config["rateLimits"].get("overrides") or {}).get(tier)
        if isinstance(overrides, dict):   # "*" for every model of the tier, then the model's own entry
            named = {k: v for k, v in overrides.items() if k != "*"}
            own = longest_prefix(named, bare_model(model))
            for entry in (overrides.get("*"), named.get(own) if own else None):
                if isinstance(entry, dict):
                    found.update({k: entry[k] for k in LIMIT_KEYS if k in entry and _limit_value(entry[k])})
        return {k: found.get(k) for k in LIMIT_KEYS}

    def quota_names(self, family: str | None, tier: str, which: str) -> dict[str, str]:
        """{"metric", "quotaId"} of a limit, as the 429 answer names it."""
        names = self._quotas.get(family or GENERATE) or self._quotas[GENERATE]
        return names["free" if tier == "free" else "paid"][which]

    def usage(self, project: str, model: str) -> dict[str, int]:
        """What the windows hold now for one project and model: {"minuteRequests", "minuteInputTokens",
        "dayRequests"}."""
        now = self._store.now()
        with self._lock:
            window = self._windows.get((project, bare_model(model)))
            if window is None:
                return {"minuteRequests": 0, "minuteInputTokens": 0, "dayRequests": 0}
            window.prune(now)
            day = window.day_count if window.day == pacific_day(now)[0] else 0
            return {"minuteRequests": len(window.requests), "minuteInputTokens": window.token_sum,
                    "dayRequests": day}

    # -- counting ----------------------------------------------------------------------------------
    def admit(self, call: Call) -> None:
        """Count `call` in its windows, or raise 429 when a limit is reached (a refused call does not count)."""
        if not call.accountable or not self.applies_to(call.identity):
            return
        identity, model = _limited(call)
        limits = self.limits(identity.tier, model)
        now = self._store.now()
        with self._lock:
            window = self._windows.setdefault((identity.project, model), _Window())
            window.prune(now)
            rpm, tpm, rpd = limits["rpm"], limits["tpm"], limits["rpd"]
            if rpm is not None and len(window.requests) >= rpm:
                delay = window.requests[0] + MINUTE - now if window.requests else MINUTE
                raise self._exhausted(call, "rpm", rpm, delay)
            if tpm is not None and window.token_sum >= tpm:
                raise self._exhausted(call, "tpm", tpm, window.token_delay(now, tpm))
            day, until_midnight = pacific_day(now)
            if window.day != day:
                window.day, window.day_count = day, 0
            if rpd is not None and window.day_count >= rpd:
                raise self._exhausted(call, "rpd", rpd, until_midnight)
            window.requests.append(now)
            window.day_count += 1
        call.limited, call.admitted_at = True, now

    def take_tokens(self, call: Call, tokens: int) -> None:
        """Refuse (429) a call whose input tokens would take the minute's total over the TPM limit, a call
        larger than the limit by itself included: the real API refuses that request, not the next one. A
        refused call leaves its windows, as a refused call does not count."""
        if not call.limited or tokens <= 0:
            return
        identity, model = _limited(call)
        tpm = self.limits(identity.tier, model)["tpm"]
        if tpm is None:
            return
        now = self._store.now()
        with self._lock:
            window = self._windows.setdefault((identity.project, model), _Window())
            window.prune(now)
            if window.token_sum + tokens <= tpm:
                return
            # a call over the limit on its own never fits: a minute is as good an answer as any
            delay = window.token_delay(now, tpm - tokens + 1) if tokens <= tpm else MINUTE
            if call.admitted_at is not None and call.admitted_at in window.requests:
                window.requests.remove(call.admitted_at)
            if window.day_count > 0:
                window.day_count -= 1
        call.limited = False
        raise self._exhausted(call, "tpm", tpm, delay)

    def add_tokens(self, call: Call, tokens: int) -> None:
        """The input tokens of a call that got through, for the TPM window."""
        if not call.limited or tokens <= 0:
            return
        identity, model = _limited(call)
        now = self._store.now()
        with self._lock:
            window = self._windows.setdefault((identity.project, model), _Window())
            window.tokens.append((now, tokens))
            window.token_sum += tokens

    def _exhausted(self, call: Call, which: str, limit: int, delay: float) -> ApiError:
        return quota_error(self._store, identity=call.identity, family=call.family, model=call.limit_model,
                           which=which, limit=limit, retry_seconds=delay)

    # -- state export and import (persistence.py) ----------------------------------------------------
    def export_state(self) -> dict[str, Any]:
        """The windows (kept lazily: saved with the next snapshot, never the cause of one)."""
        with self._lock:
            return {"windows": [{"project": project, "model": model, "requests": list(w.requests),
                                 "tokens": [list(entry) for entry in w.tokens], "tokenSum": w.token_sum,
                                 "day": w.day.isoformat() if w.day else None, "dayCount": w.day_count}
                                for (project, model), w in self._windows.items()]}

    def import_state(self, data: dict[str, Any]) -> None:
        windows: dict[tuple[str, str], _Window] = {}
        for item in data.get("windows") or []:
            window = _Window()
            window.requests = deque(item.get("requests") or ())
            window.tokens = deque((when, tokens) for when, tokens in item.get("tokens") or ())
            window.token_sum = int(item.get("tokenSum") or 0)
            window.day = date.fromisoformat(item["day"]) if item.get("day") else None
            window.day_count = int(item.get("dayCount") or 0)
            windows[(item["project"], item["model"])] = window
        with self._lock:
            self._windows = windows


def _limited(call: Call) -> tuple[Identity, str]:
    """The caller and the limits' model of a call the limits count (Call.accountable: both are known)."""
    assert call.identity is not None and call.limit_model is not None
    return call.identity, call.limit_model


def _limit_value(value: Any) -> bool:
    return value is None or (isinstance(value, int) and not isinstance(value, bool) and value >= 0)


def check_rate_limit_config(patch: Any) -> None:
    """A 400 naming the field for a bad `rateLimits` patch (the config itself checks the plain keys)."""
    if not isinstance(patch, dict):
        return
    overrides = patch.get("overrides")
    if overrides is None:
        return
    if not isinstance(overrides, dict):
        raise invalid_argument("rateLimits.overrides takes an object: {tier: {model: {rpm, tpm, rpd}}}.",
                               "rateLimits.overrides")
    for tier, models in overrides.items():
        where = f"rateLimits.overrides.{tier}"
        if tier not in TIERS:
            raise invalid_argument(f"Unknown tier '{tier}' in {where}: the tiers are {', '.join(TIERS)}.", where)
        if not isinstance(models, dict):
            raise invalid_argument(f"{where} takes an object: {{model: {{rpm, tpm, rpd}}}}.", where)
        for model, entry in models.items():
            place = f"{where}.{model}"
            if not isinstance(entry, dict):
                raise invalid_argument(f"{place} takes an object with rpm, tpm and rpd.", place)
            for key, value in entry.items():
                if key not in LIMIT_KEYS:
                    raise invalid_argument(f"Unknown limit '{key}' in {place}: give rpm, tpm or rpd.",
                                           f"{place}.{key}")
                if not _limit_value(value):
                    raise invalid_argument(f"{place}.{key} takes a non-negative integer, or null for no limit.",
                                           f"{place}.{key}")


def quota_error(store: Store, *, identity: Identity | None, family: str | None, model: str | None,
                which: str = "rpm", limit: int | None = None, retry_seconds: float = 39.0,
                message: str | None = None) -> ApiError:
    """429 RESOURCE_EXHAUSTED as the real API answers it: QuotaFailure, Help and RetryInfo details."""
    quotas: RateLimits = store.quotas
    tier = identity.tier if identity is not None else "free"
    model = bare_model(model) or None
    names = quotas.quota_names(family, tier, which)
    if limit is None and model:
        limit = quotas.limits(tier, model).get(which)
    seconds = max(1, math.ceil(retry_seconds))
    described = f"Quota exceeded for metric: {names['metric']}"
    if limit is not None:
        described += f", limit: {limit}"
    if model:
        described += f", model: {model}"
    violation: dict[str, Any] = {"description": described, "quotaMetric": names["metric"], "quotaId": names["quotaId"],
                                 "quotaDimensions": {"location": "global", **({"model": model} if model else {})}}
    if identity is not None:
        violation = {"subject": f"project:{identity.project}", **violation}
    if limit is not None:
        violation["quotaValue"] = str(limit)
    if message is None:
        message = (f"You exceeded your current quota, please check your plan and billing details. For more "
                   f"information on this error, head to: {RATE_LIMITS_DOC}.\n* {described}\n"
                   f"Please retry in {seconds}s.")
    return ApiError(429, "RESOURCE_EXHAUSTED", message, [
        {"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": [violation]},
        {"@type": "type.googleapis.com/google.rpc.Help",
         "links": [{"description": "Learn more about Gemini API quotas", "url": RATE_LIMITS_DOC}]},
        {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": f"{seconds}s"},
    ])
