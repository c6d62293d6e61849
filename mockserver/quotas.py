"""Rate limits per tier and model (`store.quotas`), the usage ledger (`store.usage`), and the call in
progress that ties them to the HTTP edge (`Call`).

Rate limits. Each project has, per model, a number of requests per minute (RPM), input tokens per minute
(TPM) and requests per day (RPD), by its usage tier (free, tier1, tier2, tier3), from
fixtures/rate_limits.json (its x-source names the page, the date and what it no longer publishes) with `rateLimits.overrides` from the config on
top. They are counted on the emulator's clock: the minute is a sliding window of 60 seconds, the day resets
at midnight Pacific time as the real API's daily quotas do. A call over a limit is refused with
429 RESOURCE_EXHAUSTED carrying QuotaFailure (the metric and quota id, the model, the limit) and RetryInfo
(the seconds until the window lets the next call through). A refused call does not count; any call that
gets through counts against the quota even if it then fails (a 400, a 500). TPM counts the input tokens of
the calls that got through: a call is refused once the last minute's input tokens reached the limit, and
a call whose own input tokens would take them over it is refused when its tokens are known (a call larger
than the limit is never let through).

Which keys are limited (`rateLimits`): nothing when `enabled` is false; otherwise the keys a keys file lists
(each by its tier), and the keys the server derives itself (any key, when there is no keys file) only when
`derivedKeys` is true. So a test suite firing many calls with made-up keys is never slowed down, and a
test of 429 handling lists its keys, or turns `derivedKeys` on.

Methods that count: generateContent, streamGenerateContent, generateText, generateMessage (the "generate"
quotas) and embedContent, batchEmbedContents, embedText, batchEmbedText (the "embed" quotas), and their
OpenAI-compatible forms. Token counting (countTokens, countTextTokens, countMessageTokens) is neither limited
nor billed; Batch API jobs have their own limits on the real API and are not counted here.

Usage ledger. Per project and model: the requests that counted against the quota, those that failed (not
charged), those refused by a rate limit; the input tokens (promptTokenCount, cached ones included),
cached tokens, output tokens (candidates and thoughts) and thoughts of the calls that succeeded; the same
for Batch API work, billed at 50 % (except cache hits, priced as outside a batch); and the storage of explicit context caches in token-hours. A cost
estimate comes from fixtures/pricing.json (paid-tier prices; its x-source names the page and date): `paidTierCostUsd` at those prices,
`costUsd` what the project pays: the calls made while it was on a paid tier (a tier can change while
the server runs, tiers.py), and cache storage at its tier now.
"""
from __future__ import annotations

import json
import math
import threading
from collections import deque
from contextvars import ContextVar
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Any

from .auth import TIERS, Identity
from .errors import ApiError, invalid_argument
from .http import parse_json
from .paths import FIXTURES
from .routing import split_path
from .wire import format_time, parse_time

GENERATE, EMBED = "generate", "embed"
# API methods that run a model, and the family of quotas each counts against.
INFERENCE_METHODS = {
    "generateContent": GENERATE, "streamGenerateContent": GENERATE,
    "generateText": GENERATE, "generateMessage": GENERATE, "generateAnswer": GENERATE,
    "embedContent": EMBED, "batchEmbedContents": EMBED, "embedText": EMBED, "batchEmbedText": EMBED,
}
# The OpenAI-compatible layer's model-running paths: (method name, family).
OPENAI_METHODS = {"openai/chat/completions": ("chat.completions", GENERATE),
                  "openai/embeddings": ("embeddings", EMBED)}
LIMIT_KEYS = ("rpm", "tpm", "rpd")
MINUTE = 60.0
RATE_LIMITS_DOC = "https://ai.google.dev/gemini-api/docs/rate-limits"


def _pacific_zone():
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


def bare_model(name: str | None) -> str:
    """`models/x` -> `x` (other names as they are)."""
    name = name or ""
    return name[len("models/"):] if name.startswith("models/") else name


def longest_prefix(table: dict, name: str) -> str | None:
    """The key of `table` that is `name` or its longest prefix ending at a `-` (gemini-2.0-flash-001 ->
    gemini-2.0-flash), or None."""
    best = None
    for key in table:
        if (name == key or name.startswith(key + "-")) and (best is None or len(key) > len(best)):
            best = key
    return best


# -- the call in progress -----------------------------------------------------------------------------

@dataclass(eq=False)
class Call:
    """One API call as the dispatcher sees it: who makes it, which method and model, and what rules,
    faults and generation added on the way. The dispatcher makes one per request and puts it in `CALL`."""
    http_method: str
    path: str
    resource: str = ""                # the path after the version: models/x:generateContent
    identity: Identity | None = None
    method: str | None = None         # API method: generateContent, countTokens, chat.completions, ...
    family: str | None = None         # GENERATE or EMBED when the call runs a model, else None
    model: str | None = None          # models/x or tunedModels/x, as called
    limit_model: str | None = None    # the model whose limits apply (a tuned model's base model)
    stream: bool = False              # an SSE stream
    openai: bool = False              # under the OpenAI-compatible layer (its own error shape)
    latency_ms: float = 0.0           # added by scripted rules, slept before the answer goes out
    chunk_latency_ms: float = 0.0     # from a latency fault, slept before each SSE event
    cut_after: int | None = None      # from a streamCut fault: events sent before the error event
    cut_error: ApiError | None = None
    fault: str | None = None          # id of the fault that acted on the call
    rule: str | None = None           # id of the scripted rule that answered it
    pace: dict | None = None          # that rule's stream pace (pacing.py)
    counted: bool = False             # counted against the quota and in the ledger
    limited: bool = False             # recorded in a rate-limit window
    admitted_at: float | None = None  # when it entered its window (to take it out if refused later)
    pending: list = field(default_factory=list)   # usage entries, charged if the call succeeds

    @property
    def project(self) -> str | None:
        return self.identity.project if self.identity is not None else None

    @property
    def accountable(self) -> bool:
        return self.family is not None and self.identity is not None and self.limit_model is not None


CALL: ContextVar[Call | None] = ContextVar("gemini_mock_call", default=None)


def current_call() -> Call | None:
    return CALL.get()


def _model_name(name: str, tuned: bool) -> str:
    name = name.strip()
    if name.startswith(("models/", "tunedModels/")):
        return name
    return f"tunedModels/{name}" if tuned else f"models/{name}"


async def _peek_json(ctx) -> dict:
    """The JSON body of an OpenAI-compatible call (kept for the handler to read again), or {}."""
    request = ctx.request
    limit = ctx.store.config["limits"]["requestBytes"]
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        return {}   # the handler refuses it
    try:
        body = await request.body()
        data = parse_json(body) if len(body) <= limit else {}
    except Exception:   # unreadable or not JSON: the handler answers for it
        return {}
    return data if isinstance(data, dict) else {}


def _limit_model(store, call: Call) -> str | None:
    """The base model id whose limits and prices apply, or None when the model is unknown (the handler
    will answer 404) or a tuned model the caller may not use."""
    name = call.model or ""
    if name.startswith("tunedModels/"):
        tuned = store.backends.get("tuned_models")
        if tuned is None or call.identity is None:
            return None
        try:
            name = tuned.usable(call.identity, name).base_model
        except (ApiError, AttributeError):
            return None
    found = store.models.find(name) if "models" in store.backends else None
    if found is None:
        return None
    return found.get("baseModelId") or bare_model(found["name"])


async def describe_call(ctx) -> Call:
    """The Call for a request the router matched (the caller is identified when its key is good)."""
    request = ctx.request
    path = request.scope["path"]
    _, _, resource = split_path(path)
    call = Call(request.method, path, resource)
    try:
        call.identity = ctx.identity
    except ApiError:
        pass   # routes that authorise themselves answer for a missing or bad key
    name = ctx.params.get("model") or ctx.params.get("tuned")
    tuned = resource.startswith("tunedModels/")
    call.openai = resource.startswith("openai/")
    if request.method == "POST" and resource in OPENAI_METHODS:
        call.method, call.family = OPENAI_METHODS[resource]
        body = await _peek_json(ctx)
        name = body.get("model") if isinstance(body.get("model"), str) else None
        call.stream = call.method == "chat.completions" and body.get("stream") is True
        tuned = bool(name and name.startswith("tunedModels/"))
    elif request.method == "POST" and resource == "interactions":   # a model interaction (agents: no model)
        body = await _peek_json(ctx)
        name = body.get("model") if isinstance(body.get("model"), str) else None
        call.method, call.family = "interactions.create", GENERATE
        call.stream = body.get("stream") is True
    else:
        last = resource.rsplit("/", 1)[-1]
        if ":" in last:
            call.method = last.rsplit(":", 1)[1]
            if request.method == "POST":
                call.family = INFERENCE_METHODS.get(call.method)
            call.stream = call.method == "streamGenerateContent" and ctx.query("alt") == "sse"
    if isinstance(name, str) and name.strip():
        call.model = _model_name(name, tuned)
    if call.family is not None and call.identity is not None and call.model:
        call.limit_model = _limit_model(ctx.store, call)
    return call


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

    def __init__(self, store, path: Path = FIXTURES / "rate_limits.json") -> None:
        self._store = store
        data = json.loads(path.read_text())
        self._tiers: dict = data["tiers"]
        self._quotas: dict = data["quotas"]
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

    def limits(self, tier: str, model: str) -> dict:
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

    def quota_names(self, family: str | None, tier: str, which: str) -> dict:
        """{"metric", "quotaId"} of a limit, as the 429 answer names it."""
        names = self._quotas.get(family or GENERATE) or self._quotas[GENERATE]
        return names["free" if tier == "free" else "paid"][which]

    def usage(self, project: str, model: str) -> dict:
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
        identity = call.identity
        limits = self.limits(identity.tier, call.limit_model)
        now = self._store.now()
        with self._lock:
            window = self._windows.setdefault((identity.project, call.limit_model), _Window())
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
        tpm = self.limits(call.identity.tier, call.limit_model)["tpm"]
        if tpm is None:
            return
        now = self._store.now()
        with self._lock:
            window = self._windows.setdefault((call.project, call.limit_model), _Window())
            window.prune(now)
            if window.token_sum + tokens <= tpm:
                return
            # a call over the limit on its own never fits: a minute is as good an answer as any
            delay = window.token_delay(now, tpm - tokens + 1) if tokens <= tpm else MINUTE
            if call.admitted_at in window.requests:
                window.requests.remove(call.admitted_at)
            if window.day_count > 0:
                window.day_count -= 1
        call.limited = False
        raise self._exhausted(call, "tpm", tpm, delay)

    def add_tokens(self, call: Call, tokens: int) -> None:
        """The input tokens of a call that got through, for the TPM window."""
        if not call.limited or tokens <= 0:
            return
        now = self._store.now()
        with self._lock:
            window = self._windows.setdefault((call.project, call.limit_model), _Window())
            window.tokens.append((now, tokens))
            window.token_sum += tokens

    def _exhausted(self, call: Call, which: str, limit: int, delay: float) -> ApiError:
        return quota_error(self._store, identity=call.identity, family=call.family, model=call.limit_model,
                           which=which, limit=limit, retry_seconds=delay)

    # -- state export and import (persistence.py) ----------------------------------------------------
    def export_state(self) -> dict:
        """The windows (kept lazily: saved with the next snapshot, never the cause of one)."""
        with self._lock:
            return {"windows": [{"project": project, "model": model, "requests": list(w.requests),
                                 "tokens": [list(entry) for entry in w.tokens], "tokenSum": w.token_sum,
                                 "day": w.day.isoformat() if w.day else None, "dayCount": w.day_count}
                                for (project, model), w in self._windows.items()]}

    def import_state(self, data: dict) -> None:
        windows = {}
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


def quota_error(store, *, identity: Identity | None, family: str | None, model: str | None,
                which: str = "rpm", limit: int | None = None, retry_seconds: float = 39.0,
                message: str | None = None) -> ApiError:
    """429 RESOURCE_EXHAUSTED as the real API answers it: QuotaFailure, Help and RetryInfo details."""
    quotas = store.backends.get("quotas")
    tier = identity.tier if identity is not None else "free"
    model = bare_model(model) or None
    if quotas is not None:
        names = quotas.quota_names(family, tier, which)
        if limit is None and model:
            limit = quotas.limits(tier, model).get(which)
    else:
        names = {"metric": "generativelanguage.googleapis.com/generate_content_free_tier_requests",
                 "quotaId": "GenerateRequestsPerMinutePerProjectPerModel-FreeTier"}
    seconds = max(1, math.ceil(retry_seconds))
    described = f"Quota exceeded for metric: {names['metric']}"
    if limit is not None:
        described += f", limit: {limit}"
    if model:
        described += f", model: {model}"
    violation: dict = {"description": described, "quotaMetric": names["metric"], "quotaId": names["quotaId"],
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


# -- prices -----------------------------------------------------------------------------------------

class Pricing:
    """Paid-tier prices per 1M tokens from fixtures/pricing.json."""

    def __init__(self, path: Path = FIXTURES / "pricing.json") -> None:
        data = json.loads(path.read_text())
        self.models: dict = data["models"]
        self._keys: dict[str, str | None] = {}
        self.batch_factor = float(data.get("batchFactor", 0.5))
        source = data.get("x-source") or {}
        self.note = data.get("x-note", "") + (f" Source: {source['page']} (read {source['read']})."
                                               if source.get("page") else "")

    def of(self, model_id: str) -> dict | None:
        key = self._keys.get(model_id, False)
        if key is False:   # the prefix search once per model id (the price table is fixed)
            if len(self._keys) >= 4096:   # ids of tuned models come and go: the memo stays bounded
                self._keys.clear()
            key = self._keys[model_id] = longest_prefix(self.models, bare_model(model_id))
        return self.models[key] if key is not None else None

    def request_cost(self, model_id: str, metadata: dict, *, batch: bool) -> float:
        """USD for one call's usageMetadata at paid-tier prices (0 for an unpriced model)."""
        prices = self.of(model_id)
        if not prices:
            return 0.0
        prompt = int(metadata.get("promptTokenCount") or 0)
        long = prices.get("longContext")
        if long and prompt > long.get("threshold", math.inf):
            prices = {**prices, **{k: v for k, v in long.items() if k != "threshold"}}
        cached_total = int(metadata.get("cachedContentTokenCount") or 0)
        prompt_by = _by_modality(metadata.get("promptTokensDetails"), prompt)
        cached_by = _by_modality(metadata.get("cacheTokensDetails"), cached_total)
        cost = 0.0
        for modality, tokens in prompt_by.items():
            uncached = max(0, tokens - cached_by.get(modality, 0))
            cost += uncached * _rate(prices, "input", modality)
        output = int(metadata.get("candidatesTokenCount") or 0) + int(metadata.get("thoughtsTokenCount") or 0)
        cost += output * float(prices.get("output", 0.0))
        if batch:
            cost *= self.batch_factor
        # Cache hits cost the same in a batch as outside one (seed 002, Batch API: "the cached tokens are
        # priced the same as for non-batch API traffic"): no batch factor on them.
        cost += sum(tokens * _rate(prices, "cachedInput", modality) for modality, tokens in cached_by.items())
        return cost / 1_000_000

    def storage_cost(self, model_id: str, token_hours: float) -> float:
        prices = self.of(model_id) or {}
        return token_hours * float(prices.get("cacheStoragePerHour", 0.0)) / 1_000_000


def _by_modality(details: Any, total: int) -> dict[str, int]:
    found: dict[str, int] = {}
    for item in details or ():
        if isinstance(item, dict):
            modality = item.get("modality") or "TEXT"
            found[modality] = found.get(modality, 0) + int(item.get("tokenCount") or 0)
    rest = total - sum(found.values())
    if rest > 0:   # tokens the details do not break down are priced as text
        found["TEXT"] = found.get("TEXT", 0) + rest
    return found


def _rate(prices: dict, kind: str, modality: str) -> float:
    if modality == "AUDIO" and f"{kind}Audio" in prices:
        return float(prices[f"{kind}Audio"])
    if kind == "cachedInput" and kind not in prices:
        return float(prices.get("input", 0.0))
    return float(prices.get(kind, 0.0))


# -- the usage ledger -------------------------------------------------------------------------------

@dataclass
class UsageEntry:
    """One generation's usage, priced."""
    project: str
    tier: str
    model: str
    batch: bool
    prompt: int
    cached: int
    output: int
    thoughts: int
    cost: float


@dataclass
class _Tally:
    requests: int = 0
    input_tokens: int = 0
    cached_tokens: int = 0
    output_tokens: int = 0
    thoughts_tokens: int = 0
    cost: float = 0.0
    billed: float = 0.0     # what the project paid: the cost of the calls made on a paid tier

    def add(self, entry: UsageEntry) -> None:
        self.input_tokens += entry.prompt
        self.cached_tokens += entry.cached
        self.output_tokens += entry.output
        self.thoughts_tokens += entry.thoughts
        self.cost += entry.cost
        if entry.tier != "free":   # the tier of the call's time: a tier changed later does not rebill it
            self.billed += entry.cost


@dataclass
class _ModelUsage:
    requests: int = 0           # counted against the quota
    failed: int = 0             # counted, not charged
    rate_limited: int = 0       # refused with 429 by a rate limit: neither
    interactive: _Tally = field(default_factory=_Tally)
    batch: _Tally = field(default_factory=_Tally)


@dataclass
class _CacheRecord:
    model: str
    tokens: int
    created: float
    expires: float
    deleted: float | None = None


def _money(value: float) -> float:
    return round(value, 9)


class UsageLedger:
    """Per project: usage per model and the storage of context caches."""

    def __init__(self, store, pricing: Pricing | None = None) -> None:
        self._store = store
        self.pricing = pricing or Pricing()
        self._projects: dict[str, dict[str, _ModelUsage]] = {}
        self._tiers: dict[str, str] = {}
        self._identities: dict[str, Identity] = {}
        self._caches: dict[tuple[str, str], _CacheRecord] = {}
        self._lock = threading.Lock()

    def reset(self) -> None:
        with self._lock:
            self._projects.clear()
            self._tiers.clear()
            self._identities.clear()
            self._caches.clear()

    def _model(self, project: str, model: str) -> _ModelUsage:
        models = self._projects.setdefault(project, {})
        found = models.get(model)
        if found is None:
            found = models[model] = _ModelUsage()
        return found

    # -- recording ---------------------------------------------------------------------------------
    def entry(self, identity: Identity, model: dict, metadata: dict | None, *, batch: bool) -> UsageEntry:
        metadata = metadata or {}
        name = model.get("name") or ""
        price_id = model.get("baseModelId") or bare_model(name)
        return UsageEntry(
            project=identity.project, tier=identity.tier, model=name, batch=batch,
            prompt=int(metadata.get("promptTokenCount") or 0),
            cached=int(metadata.get("cachedContentTokenCount") or 0),
            output=int(metadata.get("candidatesTokenCount") or 0) + int(metadata.get("thoughtsTokenCount") or 0),
            thoughts=int(metadata.get("thoughtsTokenCount") or 0),
            cost=self.pricing.request_cost(price_id, metadata, batch=batch))

    def charge(self, entry: UsageEntry) -> None:
        with self._lock:
            self._tiers[entry.project] = entry.tier
            usage = self._model(entry.project, entry.model)
            tally = usage.batch if entry.batch else usage.interactive
            if entry.batch:
                tally.requests += 1
            tally.add(entry)

    def count(self, call: Call) -> None:
        """A call that got through the rate limits: it counts, charged or not."""
        with self._lock:
            self._tiers[call.project] = call.identity.tier
            self._model(call.project, call.model).requests += 1
        call.counted = True

    def rate_limited(self, call: Call) -> None:
        with self._lock:
            self._tiers[call.project] = call.identity.tier
            usage = self._model(call.project, call.model)
            if call.counted:   # refused after it was counted (its tokens went over the TPM limit)
                usage.requests -= 1
                call.counted = False
            usage.rate_limited += 1

    def settle(self, call: Call, succeeded: bool) -> None:
        """Charge a counted call's usage if it succeeded; otherwise it is a failed call (not charged)."""
        if not call.counted:
            return
        if succeeded:
            for entry in call.pending:
                self.charge(entry)
            with self._lock:
                self._model(call.project, call.model).interactive.requests += 1
        else:
            with self._lock:
                self._model(call.project, call.model).failed += 1

    # -- context cache storage -----------------------------------------------------------------------
    def observe_caches(self, identity: Identity) -> None:
        """Note the project's explicit caches as the caches backend shows them now: new ones, new expiry
        times, and those gone before their expiry (deleted now)."""
        caches = self._store.backends.get("caches")
        if caches is None:
            return
        try:
            live = caches.list(identity)
        except ApiError:
            return
        now = self._store.now()
        project = identity.project
        with self._lock:
            self._identities[project] = identity
            seen = set()
            for resource in live:
                name = resource.get("name")
                try:
                    created = parse_time(resource["createTime"], "createTime")
                    expires = parse_time(resource["expireTime"], "expireTime")
                except (KeyError, ApiError):
                    continue
                tokens = int((resource.get("usageMetadata") or {}).get("totalTokenCount") or 0)
                seen.add(name)
                record = self._caches.get((project, name))
                if record is None:
                    self._caches[(project, name)] = _CacheRecord(resource.get("model", ""), tokens, created, expires)
                else:
                    record.expires, record.tokens, record.deleted = expires, tokens, None
            for (owner, name), record in self._caches.items():
                if owner == project and name not in seen and record.deleted is None and record.expires > now:
                    record.deleted = now

    def _storage(self, project: str, now: float) -> list[dict]:
        rows = []
        for (owner, name), record in sorted(self._caches.items(), key=lambda item: item[1].created):
            if owner != project:
                continue
            end = min(record.expires, record.deleted if record.deleted is not None else math.inf, now)
            hours = max(0.0, end - record.created) / 3600
            price_id = self._price_id(record.model)
            token_hours = record.tokens * hours
            row = {"cachedContent": name, "model": record.model, "tokens": record.tokens,
                   "createTime": format_time(record.created), "expireTime": format_time(record.expires)}
            if record.deleted is not None:
                row["deleteTime"] = format_time(record.deleted)
            row.update(hours=round(hours, 6), tokenHours=round(token_hours, 3),
                       paidTierCostUsd=_money(self.pricing.storage_cost(price_id, token_hours)))
            rows.append(row)
        return rows

    def _price_id(self, model: str) -> str:
        found = self._store.models.find(model) if model and "models" in self._store.backends else None
        return (found or {}).get("baseModelId") or bare_model(model)

    # -- reading -------------------------------------------------------------------------------------
    def report(self, project: str | None = None) -> dict:
        """The ledger: {"projects": [...]} or, for one project, that project's usage."""
        for identity in list(self._identities.values()):
            if project is None or identity.project == project:
                self.observe_caches(identity)
        now = self._store.now()
        with self._lock:
            names = sorted(set(self._projects) | {p for p, _ in self._caches})
            if project is not None:
                return self._project(project, now)
            return {"projects": [self._project(name, now) for name in names], "currency": "USD",
                    "pricing": self.pricing.note}

    def _project(self, project: str, now: float) -> dict:
        tier = self._store.keys.tiers.get(project) or self._tiers.get(project) or (
            self._identities[project].tier if project in self._identities else "free")
        paying = tier != "free"
        models, totals = [], _Tally()
        failed = rate_limited = requests = 0
        total_paid = billed = 0.0
        for name, usage in sorted(self._projects.get(project, {}).items()):
            paid = usage.interactive.cost + usage.batch.cost
            total_paid += paid
            billed += usage.interactive.billed + usage.batch.billed
            requests += usage.requests
            failed += usage.failed
            rate_limited += usage.rate_limited
            for tally in (usage.interactive, usage.batch):
                totals.input_tokens += tally.input_tokens
                totals.cached_tokens += tally.cached_tokens
                totals.output_tokens += tally.output_tokens
                totals.thoughts_tokens += tally.thoughts_tokens
            row = {"model": name, "requests": usage.requests, "failedRequests": usage.failed,
                   "rateLimitedRequests": usage.rate_limited, **_tokens(usage.interactive)}
            row["batch"] = {"requests": usage.batch.requests, **_tokens(usage.batch),
                            "paidTierCostUsd": _money(usage.batch.cost),
                            "costUsd": _money(usage.batch.billed)}
            row["paidTierCostUsd"] = _money(paid)
            row["costUsd"] = _money(usage.interactive.billed + usage.batch.billed)
            models.append(row)
        storage = self._storage(project, now)
        storage_paid = sum(row["paidTierCostUsd"] for row in storage)
        for row in storage:
            row["costUsd"] = row["paidTierCostUsd"] if paying else 0.0
        total_paid += storage_paid
        billed += sum(row["costUsd"] for row in storage)
        return {
            "project": project, "tier": tier,
            "requests": requests, "failedRequests": failed, "rateLimitedRequests": rate_limited,
            **_tokens(totals),
            "cacheStorageTokenHours": round(sum(row["tokenHours"] for row in storage), 3),
            "paidTierCostUsd": _money(total_paid),
            "costUsd": _money(billed),
            "models": models,
            "cacheStorage": storage,
        }

    # -- state export and import (persistence.py) ----------------------------------------------------
    def export_state(self) -> dict:
        """The ledger (kept lazily: saved with the next snapshot, never the cause of one)."""
        with self._lock:
            return {"projects": {project: {model: asdict(usage) for model, usage in models.items()}
                                 for project, models in self._projects.items()},
                    "tiers": dict(self._tiers),
                    "identities": {project: identity.stored() for project, identity in self._identities.items()},
                    "caches": [{"project": project, "name": name, **asdict(record)}
                               for (project, name), record in self._caches.items()]}

    def import_state(self, data: dict) -> None:
        projects = {project: {model: _ModelUsage(
            requests=usage.get("requests", 0), failed=usage.get("failed", 0),
            rate_limited=usage.get("rate_limited", 0), interactive=_Tally(**usage.get("interactive") or {}),
            batch=_Tally(**usage.get("batch") or {})) for model, usage in models.items()}
            for project, models in (data.get("projects") or {}).items()}
        identities = {project: self._store.keys.restore(item)
                      for project, item in (data.get("identities") or {}).items()}
        caches = {(item["project"], item["name"]): _CacheRecord(item["model"], item["tokens"], item["created"],
                                                                item["expires"], item.get("deleted"))
                  for item in data.get("caches") or []}
        with self._lock:
            self._projects, self._tiers = projects, dict(data.get("tiers") or {})
            self._identities, self._caches = identities, caches


def _tokens(tally: _Tally) -> dict:
    return {"inputTokens": tally.input_tokens, "cachedTokens": tally.cached_tokens,
            "outputTokens": tally.output_tokens, "thoughtsTokens": tally.thoughts_tokens}


# -- what the dispatcher and the generation path call ---------------------------------------------

def admit(store, call: Call) -> None:
    """Rate limits, then the ledger's request count, for a call that runs a model."""
    if not call.accountable:
        return
    quotas, usage = store.backends.get("quotas"), store.backends.get("usage")
    try:
        if quotas is not None:
            quotas.admit(call)
    except ApiError:
        if usage is not None:
            usage.rate_limited(call)
        raise
    if usage is not None:
        usage.count(call)


def settle(store, call: Call, status: int) -> None:
    """After the handler answered: charge or not, feed the TPM window, note context caches."""
    usage, quotas = store.backends.get("usage"), store.backends.get("quotas")
    if call.counted and usage is not None:
        usage.settle(call, status == 200 and call.cut_error is None)
    if call.limited and quotas is not None:
        quotas.add_tokens(call, sum(entry.prompt for entry in call.pending))
    if usage is not None and call.identity is not None and call.resource.startswith("cachedContents"):
        usage.observe_caches(call.identity)


def record(store, identity: Identity | None, model: dict, metadata: dict | None) -> None:
    """One generation's usage (called on the generation path). Inside an API call that runs a model it
    is charged when the call succeeds; elsewhere (the Batch API's work, which runs while batches are
    read) it is charged at once, as batch usage."""
    usage = store.backends.get("usage")
    if usage is None or identity is None:
        return
    call = CALL.get()
    interactive = call is not None and call.family is not None
    entry = usage.entry(identity, model, metadata, batch=not interactive)
    if interactive and call.counted:
        quotas = store.backends.get("quotas")
        try:
            if quotas is not None:
                quotas.take_tokens(call, entry.prompt)
        except ApiError:
            usage.rate_limited(call)
            raise
        call.pending.append(entry)
    else:
        usage.charge(entry)


def embedding_usage(requests: list) -> dict:
    """usageMetadata for embedding requests (their text parts' tokens)."""
    from .generation.tokens import count_text
    tokens = 0
    for request in requests:
        content = request.get("content") if isinstance(request, dict) else None
        for part in (content or {}).get("parts") or ():
            if isinstance(part, dict) and isinstance(part.get("text"), str):
                tokens += count_text(part["text"])
    return {"promptTokenCount": tokens}


def register(store) -> None:
    store.register("quotas", RateLimits(store))
    store.register("usage", UsageLedger(store))
