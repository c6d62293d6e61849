"""Seed 002 (quota and billing) to the letter: a request larger than the TPM limit is refused itself;
cache hits inside a batch cost what they cost outside one; failed calls answered by an injected 500 count
against the quota; a project's tier changes at run time through the control plane and the plugin."""
from __future__ import annotations

import pytest
from google.genai import errors, types

from support import assert_envelope
from support.documents import document
from support.tiers import FREE_KEY, PAID_KEY, control, keyed_server, sdk, server  # noqa: F401

MODEL = "gemini-2.5-flash"


def usage(control, project: str) -> dict:
    answer = control.get("/_mock/usage", params={"project": project})
    assert answer.status_code == 200, answer.text
    return answer.json()


# -- TPM: the oversized request itself is refused ---------------------------------------------------------

def test_a_request_over_the_tpm_limit_is_refused_itself(server, control):
    tpm = server.store.quotas.limits("free", MODEL)["tpm"]
    client = sdk(server, FREE_KEY)
    with pytest.raises(errors.ClientError) as caught:   # the first call, alone over the limit
        client.models.generate_content(model=MODEL, contents=document(tpm + 50_000))
    error = caught.value
    assert error.code == 429 and error.status == "RESOURCE_EXHAUSTED"
    [violation] = [d for d in error.details["error"]["details"] if d["@type"].endswith("QuotaFailure")][0]["violations"]
    assert violation["quotaId"] == "GenerateContentInputTokensPerModelPerMinute-FreeTier"
    assert violation["quotaValue"] == str(tpm)
    # a refused call does not count: the windows and the ledger say so, and a small call goes through
    assert server.store.quotas.usage("free-project", MODEL) == {"minuteRequests": 0, "minuteInputTokens": 0,
                                                                 "dayRequests": 0}
    ledger = usage(control, "free-project")
    assert (ledger["requests"], ledger["failedRequests"], ledger["rateLimitedRequests"]) == (0, 0, 1)
    assert client.models.generate_content(model=MODEL, contents="hi").text


def test_a_request_that_would_take_the_minute_over_the_limit_is_refused(server, control):
    control.patch("/_mock/config", json={"rateLimits": {"overrides": {"free": {"*": {"tpm": 100}}}}})
    client = sdk(server, FREE_KEY)
    client.models.generate_content(model=MODEL, contents=document(60))
    with pytest.raises(errors.ClientError) as caught:
        client.models.generate_content(model=MODEL, contents=document(60))
    assert caught.value.code == 429
    assert server.store.quotas.usage("free-project", MODEL)["minuteInputTokens"] == 60
    assert client.models.generate_content(model=MODEL, contents=document(40)).text   # exactly 100: fits


# -- batch pricing: cache hits at the interactive price ------------------------------------------------------

def test_cached_tokens_in_a_batch_cost_the_same_as_outside_one(server, control):
    client = sdk(server, PAID_KEY)
    cache = client.caches.create(model=MODEL, config=types.CreateCachedContentConfig(
        contents=[document(100_000)], ttl="86400s"))
    job = client.batches.create(model=MODEL, src=[types.InlinedRequest(
        contents="Summarise it.", config=types.GenerateContentConfig(cached_content=cache.name))])
    server.store.clock.advance(3600)
    done = client.batches.get(name=job.name)
    assert done.state == types.JobState.JOB_STATE_SUCCEEDED
    answer = done.dest.inlined_responses[0]
    assert answer.response is not None, answer.error
    metadata = answer.response.usage_metadata
    assert metadata.cached_content_token_count == 100_000
    prices = server.store.usage.pricing.of(MODEL)
    cached = 100_000 * prices["cachedInput"]
    rest = ((metadata.prompt_token_count - 100_000) * prices["input"]
            + (metadata.candidates_token_count + (metadata.thoughts_token_count or 0)) * prices["output"])
    [row] = [r for r in usage(control, "paid-project")["models"] if r["model"] == f"models/{MODEL}"]
    assert row["batch"]["cachedTokens"] == 100_000
    assert row["batch"]["paidTierCostUsd"] == pytest.approx((cached + 0.5 * rest) / 1e6, abs=1e-9)
    assert row["batch"]["paidTierCostUsd"] > (0.5 * (cached + rest)) / 1e6 + 1e-6   # not halved


# -- failed calls count ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("code", [500, 503, 400])
def test_a_call_failed_by_an_injected_fault_counts_against_the_quota(server, control, code):
    control.patch("/_mock/config", json={"rateLimits": {"overrides": {"free": {MODEL: {"rpm": 2}}}}})
    control.post("/_mock/faults", json={"kind": "status", "code": code, "times": 2})
    headers = {"x-goog-api-key": FREE_KEY}
    url = f"/v1beta/models/{MODEL}:generateContent"
    body = {"contents": [{"parts": [{"text": "hi"}]}]}
    for _ in range(2):
        assert control.post(url, headers=headers, json=body).status_code == code
    assert_envelope(control.post(url, headers=headers, json=body), 429, "RESOURCE_EXHAUSTED")
    ledger = usage(control, "free-project")
    assert (ledger["requests"], ledger["failedRequests"], ledger["rateLimitedRequests"]) == (2, 2, 1)


def test_an_injected_429_is_a_refusal_and_does_not_count(server, control):
    control.post("/_mock/faults", json={"kind": "status", "code": 429})
    headers = {"x-goog-api-key": FREE_KEY}
    url = f"/v1beta/models/{MODEL}:generateContent"
    assert control.post(url, headers=headers, json={"contents": [{"parts": [{"text": "hi"}]}]}).status_code == 429
    assert server.store.quotas.usage("free-project", MODEL)["minuteRequests"] == 0


# -- the tier changes while the server runs ------------------------------------------------------------------

def test_enabling_billing_at_run_time_lifts_the_limits_at_once(server, control):
    client = sdk(server, FREE_KEY)
    for _ in range(10):   # the free tier's 10 RPM on gemini-2.5-flash
        client.models.generate_content(model=MODEL, contents="hi")
    with pytest.raises(errors.ClientError) as caught:
        client.models.generate_content(model=MODEL, contents="hi")
    assert caught.value.code == 429
    assert control.get("/_mock/projects/free-project/tier").json() == {"project": "free-project", "tier": "free"}

    answer = control.patch("/_mock/projects/free-project/tier", json={"tier": "tier1"})
    assert answer.status_code == 200 and answer.json() == {"project": "free-project", "tier": "tier1"}
    reply = client.models.generate_content(model=MODEL, contents="hi")   # tier 1 limits, same minute
    assert control.get("/_mock/whoami", headers={"x-goog-api-key": FREE_KEY}).json()["tier"] == "tier1"
    ledger = usage(control, "free-project")
    assert ledger["tier"] == "tier1"
    # only the call made on the paid tier is billed
    prices = server.store.usage.pricing.of(MODEL)
    meta = reply.usage_metadata
    paid = (meta.prompt_token_count * prices["input"]
            + (meta.candidates_token_count + (meta.thoughts_token_count or 0)) * prices["output"]) / 1e6
    assert ledger["costUsd"] == pytest.approx(paid, abs=1e-9)
    assert ledger["paidTierCostUsd"] > ledger["costUsd"]

    # and back: the free limits again (the window already holds 11 calls)
    assert control.patch("/_mock/tier", json={"key": FREE_KEY, "tier": "free"}).json()["tier"] == "free"
    with pytest.raises(errors.ClientError):
        client.models.generate_content(model=MODEL, contents="hi")


def test_a_reset_restores_the_keys_file_tiers(server, control):
    control.patch("/_mock/projects/paid-project/tier", json={"tier": "tier3"})
    assert server.store.quotas.limits(
        server.store.keys.identify(PAID_KEY).tier, MODEL) == server.store.quotas.limits("tier3", MODEL)
    control.post("/_mock/reset", json={})
    assert control.get("/_mock/projects/paid-project/tier").json()["tier"] == "tier1"


@pytest.mark.parametrize("path, body, code, status, field", [
    ("/_mock/projects/free-project/tier", {"tier": "gold"}, 400, "INVALID_ARGUMENT", "tier"),
    ("/_mock/projects/free-project/tier", {}, 400, "INVALID_ARGUMENT", "tier"),
    ("/_mock/projects/free-project/tier", {"tier": "tier1", "extra": 1}, 400, "INVALID_ARGUMENT", "extra"),
    ("/_mock/projects/nobody/tier", {"tier": "tier1"}, 404, "NOT_FOUND", "nobody"),
    ("/_mock/tier", {"tier": "tier1"}, 400, "INVALID_ARGUMENT", "key"),
    ("/_mock/tier", {"key": "unknown-key", "tier": "tier1"}, 400, "INVALID_ARGUMENT", None),
])
def test_bad_tier_changes_are_refused_naming_the_field(control, path, body, code, status, field):
    assert_envelope(control.patch(path, json=body), code, status, field=field)


def test_the_plugin_sets_the_tier_of_the_test_key(gemini_mock, http):
    assert gemini_mock.identity.tier == "free"
    project = gemini_mock.set_tier("tier2")
    assert project == gemini_mock.project and gemini_mock.identity.tier == "tier2"
    assert http.get("/_mock/whoami").json()["tier"] == "tier2"
    gemini_mock.set_tier("free")
    with pytest.raises(Exception) as caught:
        gemini_mock.set_tier("platinum")
    assert "tier" in str(caught.value)


# -- the data files name their sources -------------------------------------------------------------------------

def test_price_and_rate_limit_data_name_their_source_and_date():
    import json
    from gemini_mockserver.paths import FIXTURES
    pricing = json.loads((FIXTURES / "pricing.json").read_text())
    limits = json.loads((FIXTURES / "rate_limits.json").read_text())
    assert pricing["x-source"]["page"] == "https://ai.google.dev/gemini-api/docs/pricing"
    assert pricing["x-source"]["read"] == "2026-12-05"
    assert limits["x-source"].startswith("https://ai.google.dev/gemini-api/docs/rate-limits (read 2026-12-05")
    assert "2026-12-05" in limits["batch"]["x-source"]
    # the current Gemini 3 family is priced (the contract's ids, matched by their longest prefix)
    from gemini_mockserver.quotas import Pricing
    prices = Pricing()
    for model in ("gemini-3-flash-preview", "gemini-3.1-pro-preview", "gemini-3.1-flash-lite", "gemini-3.5-flash",
                  "gemini-3.6-flash", "gemini-2.5-pro", "gemini-2.5-flash", "gemini-2.5-flash-lite"):
        assert prices.of(model) and prices.of(model)["input"] > 0, model
    assert prices.of("gemini-2.5-flash")["cachedInput"] == 0.03
    assert prices.of("gemini-3-pro-image-preview") is None   # image output is priced apart: not as 3 Pro text
