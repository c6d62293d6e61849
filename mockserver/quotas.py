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
for Batch API work, billed at 50 % (except cache hits, priced as outside a batch); calls that name a service tier at
its price factor, listed per tier (service_tiers.py); and the storage of explicit context caches in token-hours. A cost
estimate comes from fixtures/pricing.json (paid-tier prices; its x-source names the page and date): `paidTierCostUsd` at those prices,
`costUsd` what the project pays: the calls made while it was on a paid tier (a tier can change while
the server runs, tiers.py), and cache storage at its tier now.

Where each part lives: the call record in call.py, the rate limits in rate_limits.py, the ledger and
prices in usage.py; this module holds what the dispatcher and the generation path call.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .auth import Identity
from .call import CALL, Call, describe_call
from .errors import ApiError
from .generation.tokens import count_text
from .rate_limits import RateLimits, pacific_day
from .usage import Pricing, UsageLedger

if TYPE_CHECKING:
    from .store import Store

__all__ = ["CALL", "Call", "Pricing", "RateLimits", "UsageLedger", "admit", "describe_call", "embedding_usage",
           "pacific_day", "record", "register", "settle"]


# -- what the dispatcher and the generation path call ---------------------------------------------

def admit(store: Store, call: Call) -> None:
    """Rate limits, then the ledger's request count, for a call that runs a model."""
    if not call.accountable:
        return
    try:
        store.quotas.admit(call)
    except ApiError:
        store.usage.rate_limited(call)
        raise
    store.usage.count(call)


def settle(store: Store, call: Call, status: int) -> None:
    """After the handler answered: charge or not, feed the TPM window, note context caches."""
    if call.counted:
        store.usage.settle(call, status == 200 and call.cut_error is None)
    if call.limited:
        store.quotas.add_tokens(call, sum(entry.prompt for entry in call.pending))
    if call.identity is not None and call.resource.startswith("cachedContents"):
        store.usage.observe_caches(call.identity)


def record(store: Store, identity: Identity | None, model: dict[str, Any], metadata: dict[str, Any] | None) -> None:
    """One generation's usage (called on the generation path). Inside an API call that runs a model it
    is charged when the call succeeds; elsewhere (the Batch API's work, which runs while batches are
    read) it is charged at once, as batch usage."""
    if identity is None:
        return
    usage = store.usage
    call = CALL.get()
    interactive = call is not None and call.family is not None
    tier = call.service_tier if call is not None and interactive else None
    entry = usage.entry(identity, model, metadata, batch=not interactive, service_tier=tier)
    if tier == "priority" and call is not None:   # the priority limits' TPM window (service_tiers.py)
        store.service_tiers.add_tokens(call, entry.prompt)
    if call is not None and interactive and call.counted:
        try:
            store.quotas.take_tokens(call, entry.prompt)
        except ApiError:
            usage.rate_limited(call)
            raise
        call.pending.append(entry)
    else:
        usage.charge(entry)


def embedding_usage(requests: list[Any]) -> dict[str, Any]:
    """usageMetadata for embedding requests (their text parts' tokens)."""
    tokens = 0
    for request in requests:
        content = request.get("content") if isinstance(request, dict) else None
        for part in (content or {}).get("parts") or ():
            if isinstance(part, dict) and isinstance(part.get("text"), str):
                tokens += count_text(part["text"])
    return {"promptTokenCount": tokens}


def register(store: Store) -> None:
    store.register("quotas", RateLimits(store))
    store.register("usage", UsageLedger(store))
