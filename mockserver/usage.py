"""The usage ledger (`store.usage`) and its prices (fixtures/pricing.json). The rules are described in
quotas.py.
"""
from __future__ import annotations

import json
import math
import threading
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from .auth import Identity
from .call import Call, bare_model, longest_prefix
from .errors import ApiError
from .paths import FIXTURES
from .wire import format_time, parse_time

if TYPE_CHECKING:
    from .store import Store


# -- prices -----------------------------------------------------------------------------------------


class Pricing:
    """Paid-tier prices per 1M tokens (or per request: `perRequest`) from fixtures/pricing.json."""

    def __init__(self, path: Path = FIXTURES / "pricing.json") -> None:
        data = json.loads(path.read_text())
        self.models: dict[str, Any] = data["models"]
        self._keys: dict[str, str | None] = {}
        self.batch_factor = float(data.get("batchFactor", 0.5))
        source = data.get("x-source") or {}
        self.note = data.get("x-note", "") + (f" Source: {source['page']} (read {source['read']})."
                                               if source.get("page") else "")

    def of(self, model_id: str) -> dict[str, Any] | None:
        key: str | None | Literal[False] = self._keys.get(model_id, False)
        if key is False:   # the prefix search once per model id (the price table is fixed)
            if len(self._keys) >= 4096:   # ids of tuned models come and go: the memo stays bounded
                self._keys.clear()
            key = self._keys[model_id] = longest_prefix(self.models, bare_model(model_id))
        return self.models[key] if key is not None else None

    def request_cost(self, model_id: str, metadata: dict[str, Any], *, batch: bool) -> float:
        """USD for one call's usageMetadata at paid-tier prices (0 for an unpriced model)."""
        prices = self.of(model_id)
        if not prices:
            return 0.0
        if "perRequest" in prices:   # a flat price per generation (the music models: per song), not per token
            return float(prices["perRequest"]) * (self.batch_factor if batch else 1.0)
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
        candidates = int(metadata.get("candidatesTokenCount") or 0)
        thoughts = int(metadata.get("thoughtsTokenCount") or 0)
        if "outputAudio" in prices:   # spoken output (the Live API's audio models) has a price of its own
            for modality, tokens in _by_modality(metadata.get("candidatesTokensDetails"), candidates).items():
                cost += tokens * _rate(prices, "output", modality)
            cost += thoughts * float(prices.get("output", 0.0))
        else:
            cost += (candidates + thoughts) * float(prices.get("output", 0.0))
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


def _rate(prices: dict[str, Any], kind: str, modality: str) -> float:
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
    service_tier: str | None = None   # the tier that served an interactive call naming one


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
    # per tier that served calls naming one (service_tiers.py): requests, cost; "downgraded" priority calls
    service_tiers: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass
class _CacheRecord:
    model: str
    tokens: int
    created: float
    expires: float
    deleted: float | None = None


def _caller(call: Call) -> tuple[Identity, str]:
    """The caller and the model of a call the ledger counts: it runs a model (Call.accountable), so both
    are known."""
    assert call.identity is not None and call.model is not None
    return call.identity, call.model


def _money(value: float) -> float:
    return round(value, 9)


class UsageLedger:
    """Per project: usage per model and the storage of context caches."""

    def __init__(self, store: Store, pricing: Pricing | None = None) -> None:
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
    def entry(self, identity: Identity, model: dict[str, Any], metadata: dict[str, Any] | None, *,
              batch: bool, service_tier: str | None = None) -> UsageEntry:
        metadata = metadata or {}
        name = model.get("name") or ""
        price_id = model.get("baseModelId") or bare_model(name)
        cost = self.pricing.request_cost(price_id, metadata, batch=batch)
        if service_tier is not None:   # Flex at a discount, Priority at a premium (fixtures/service_tiers.json)
            cost *= self._store.service_tiers.price_factor(service_tier)
        return UsageEntry(
            project=identity.project, tier=identity.tier, model=name, batch=batch,
            prompt=int(metadata.get("promptTokenCount") or 0),
            cached=int(metadata.get("cachedContentTokenCount") or 0),
            output=int(metadata.get("candidatesTokenCount") or 0) + int(metadata.get("thoughtsTokenCount") or 0),
            thoughts=int(metadata.get("thoughtsTokenCount") or 0),
            cost=cost, service_tier=service_tier)

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
        identity, model = _caller(call)
        with self._lock:
            self._tiers[identity.project] = identity.tier
            self._model(identity.project, model).requests += 1
        call.counted = True

    def rate_limited(self, call: Call) -> None:
        identity, model = _caller(call)
        with self._lock:
            self._tiers[identity.project] = identity.tier
            usage = self._model(identity.project, model)
            if call.counted:   # refused after it was counted (its tokens went over the TPM limit)
                usage.requests -= 1
                call.counted = False
            usage.rate_limited += 1

    def settle(self, call: Call, succeeded: bool) -> None:
        """Charge a counted call's usage if it succeeded; otherwise it is a failed call (not charged)."""
        if not call.counted:
            return
        identity, model = _caller(call)
        if succeeded:
            for entry in call.pending:
                self.charge(entry)
            with self._lock:
                usage = self._model(identity.project, model)
                usage.interactive.requests += 1
                if call.service_tier is not None:
                    _tier_tally(usage, call)
        else:
            with self._lock:
                self._model(identity.project, model).failed += 1

    # -- context cache storage -----------------------------------------------------------------------
    def observe_caches(self, identity: Identity) -> None:
        """Note the project's explicit caches as the caches backend shows them now: new ones, new expiry
        times, and those gone before their expiry (deleted now)."""
        try:
            live = self._store.caches.list(identity)
        except ApiError:
            return
        now = self._store.now()
        project = identity.project
        with self._lock:
            self._identities[project] = identity
            seen = set()
            for resource in live:
                name = resource["name"]   # every cache resource has its name
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

    def _storage(self, project: str, now: float) -> list[dict[str, Any]]:
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
        found = self._store.models.find(model) if model else None
        return (found or {}).get("baseModelId") or bare_model(model)

    # -- reading -------------------------------------------------------------------------------------
    def report(self, project: str | None = None) -> dict[str, Any]:
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

    def _project(self, project: str, now: float) -> dict[str, Any]:
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
            if usage.service_tiers:
                row["serviceTiers"] = {tier: {**counts, "paidTierCostUsd": _money(counts["paidTierCostUsd"])}
                                       for tier, counts in sorted(usage.service_tiers.items())}
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
    def export_state(self) -> dict[str, Any]:
        """The ledger (kept lazily: saved with the next snapshot, never the cause of one)."""
        with self._lock:
            return {"projects": {project: {model: asdict(usage) for model, usage in models.items()}
                                 for project, models in self._projects.items()},
                    "tiers": dict(self._tiers),
                    "identities": {project: identity.stored() for project, identity in self._identities.items()},
                    "caches": [{"project": project, "name": name, **asdict(record)}
                               for (project, name), record in self._caches.items()]}

    def import_state(self, data: dict[str, Any]) -> None:
        projects = {project: {model: _ModelUsage(
            requests=usage.get("requests", 0), failed=usage.get("failed", 0),
            rate_limited=usage.get("rate_limited", 0), interactive=_Tally(**usage.get("interactive") or {}),
            batch=_Tally(**usage.get("batch") or {}), service_tiers=dict(usage.get("service_tiers") or {}))
            for model, usage in models.items()}
            for project, models in (data.get("projects") or {}).items()}
        identities = {project: self._store.keys.restore(item)
                      for project, item in (data.get("identities") or {}).items()}
        caches = {(item["project"], item["name"]): _CacheRecord(item["model"], item["tokens"], item["created"],
                                                                item["expires"], item.get("deleted"))
                  for item in data.get("caches") or []}
        with self._lock:
            self._projects, self._tiers = projects, dict(data.get("tiers") or {})
            self._identities, self._caches = identities, caches


def _tier_tally(usage: _ModelUsage, call: Call) -> None:
    """A succeeded call that named a tier, under the tier that served it."""
    assert call.service_tier is not None
    counts = usage.service_tiers.setdefault(call.service_tier, {"requests": 0, "paidTierCostUsd": 0.0})
    counts["requests"] += 1
    counts["paidTierCostUsd"] += sum(entry.cost for entry in call.pending)
    if call.service_tier_asked == "priority" and call.service_tier != "priority":
        counts["downgradedFromPriority"] = counts.get("downgradedFromPriority", 0) + 1


def _tokens(tally: _Tally) -> dict[str, int]:
    return {"inputTokens": tally.input_tokens, "cachedTokens": tally.cached_tokens,
            "outputTokens": tally.output_tokens, "thoughtsTokens": tally.thoughts_tokens}
