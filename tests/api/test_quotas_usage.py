"""Rate limits per tier and model, counted on the mock clock, and the usage ledger (`GET /_mock/usage`).

Rate limits apply to the keys a keys file lists (here a KeyRing with a free and a tier1 key on a live
server of their own), and to derived keys only when `rateLimits.derivedKeys` is on. The ledger records
generate, cached, streamed, embedding and batch usage (batch at 50 %), does not charge failed calls
(which still count), and leaves countTokens out.
"""
from __future__ import annotations

import datetime as dt
import time

import pytest
from google.genai import errors, types

from gemini_mockserver.generation.tokens import count_text
from gemini_mockserver.quotas import pacific_day

from support import assert_envelope
from support.documents import document
from support.tiers import FREE_KEY, PAID_KEY, control, keyed_server, sdk, server  # noqa: F401

MODEL = "gemini-2.5-flash"
FLASH = {"input": 0.30, "cachedInput": 0.03, "output": 2.50}   # fixtures/pricing.json, per 1M tokens


def quota_details(error: errors.APIError) -> tuple[dict, str]:
    found = {item["@type"].rsplit(".", 1)[-1]: item for item in error.details["error"]["details"]}
    [violation] = found["QuotaFailure"]["violations"]
    return violation, found["RetryInfo"]["retryDelay"]


def patch_config(control, body: dict) -> dict:
    answer = control.patch("/_mock/config", json=body)
    assert answer.status_code == 200, answer.text
    return answer.json()


# -- rate limits ------------------------------------------------------------------------------------

def test_free_tier_rpm_then_the_minute_frees_up(server):
    client = sdk(server, FREE_KEY)
    for _ in range(10):   # gemini-2.5-flash on the free tier: 10 requests per minute
        client.models.generate_content(model=MODEL, contents="hi")
    with pytest.raises(errors.ClientError) as caught:
        client.models.generate_content(model=MODEL, contents="hi")
    error = caught.value
    assert error.code == 429 and error.status == "RESOURCE_EXHAUSTED"
    assert "generate_content_free_tier_requests" in error.message and "Please retry in" in error.message
    violation, delay = quota_details(error)
    assert violation["quotaMetric"] == "generativelanguage.googleapis.com/generate_content_free_tier_requests"
    assert violation["quotaId"] == "GenerateRequestsPerMinutePerProjectPerModel-FreeTier"
    assert violation["quotaDimensions"] == {"location": "global", "model": MODEL}
    assert violation["quotaValue"] == "10" and violation["subject"] == "project:free-project"
    assert delay in ("59s", "60s")

    # other models have windows of their own; token counting is not limited
    assert client.models.generate_content(model="gemini-2.5-pro", contents="hi").text
    assert client.models.count_tokens(model=MODEL, contents="hi").total_tokens
    assert server.store.quotas.usage("free-project", MODEL)["minuteRequests"] == 10

    server.store.clock.advance(60)
    assert client.models.generate_content(model=MODEL, contents="hi").text


def test_paid_tier_has_higher_limits(server):
    assert server.store.quotas.limits("tier1", MODEL) == {"rpm": 1000, "tpm": 1_000_000, "rpd": 10_000}
    assert server.store.quotas.limits("free", MODEL) == {"rpm": 10, "tpm": 250_000, "rpd": 250}
    assert server.store.quotas.limits("free", "gemini-2.5-pro") == {"rpm": 5, "tpm": 250_000, "rpd": 100}
    assert server.store.quotas.limits("free", "gemini-2.0-flash-001")["rpm"] == 15   # by its longest prefix
    client = sdk(server, PAID_KEY)
    for _ in range(15):
        assert client.models.generate_content(model=MODEL, contents="hi").text


def test_paid_tier_429_names_the_paid_quota(server, control):
    patch_config(control, {"rateLimits": {"overrides": {"tier1": {MODEL: {"rpm": 1}}}}})
    client = sdk(server, PAID_KEY)
    client.models.generate_content(model=MODEL, contents="hi")
    with pytest.raises(errors.ClientError) as caught:
        client.models.generate_content(model=MODEL, contents="hi")
    violation, _ = quota_details(caught.value)
    assert violation["quotaId"] == "GenerateRequestsPerMinutePerProjectPerModel"
    assert violation["quotaValue"] == "1"


def test_daily_limit_resets_at_pacific_midnight(server, control):
    patch_config(control, {"rateLimits": {"overrides": {"free": {MODEL: {"rpm": None, "rpd": 3}}}}})
    start = dt.datetime(2030, 1, 15, 12, 0, tzinfo=dt.timezone.utc)   # 04:00 in California (PST)
    server.store.clock.set(start.timestamp())
    client = sdk(server, FREE_KEY)
    for _ in range(3):
        client.models.generate_content(model=MODEL, contents="hi")
    with pytest.raises(errors.ClientError) as caught:
        client.models.generate_content(model=MODEL, contents="hi")
    violation, delay = quota_details(caught.value)
    assert violation["quotaId"] == "GenerateRequestsPerDayPerProjectPerModel-FreeTier"
    assert violation["quotaValue"] == "3"
    assert delay == "72000s"   # 20 hours to midnight Pacific time
    server.store.clock.advance(71_000)
    with pytest.raises(errors.ClientError):
        client.models.generate_content(model=MODEL, contents="hi")
    server.store.clock.advance(1_001)
    assert client.models.generate_content(model=MODEL, contents="hi").text


def test_pacific_day_follows_daylight_saving_time():
    summer = dt.datetime(2030, 7, 1, 6, 30, tzinfo=dt.timezone.utc)   # 23:30 PDT (UTC-7)
    day, remaining = pacific_day(summer.timestamp())
    assert day == dt.date(2030, 6, 30) and remaining == pytest.approx(1800)


def test_tokens_per_minute(server, control):
    patch_config(control, {"rateLimits": {"overrides": {"free": {"*": {"tpm": 100}}}}})
    client = sdk(server, FREE_KEY)
    client.models.generate_content(model=MODEL, contents=document(100))
    assert server.store.quotas.usage("free-project", MODEL)["minuteInputTokens"] == 100
    with pytest.raises(errors.ClientError) as caught:
        client.models.generate_content(model=MODEL, contents="hi")
    violation, delay = quota_details(caught.value)
    assert violation["quotaId"] == "GenerateContentInputTokensPerModelPerMinute-FreeTier"
    assert violation["quotaMetric"].endswith("generate_content_free_tier_input_token_count")
    assert violation["quotaValue"] == "100" and delay in ("59s", "60s")
    server.store.clock.advance(61)
    assert client.models.generate_content(model=MODEL, contents="hi").text


def test_embedding_quota(server, control):
    patch_config(control, {"rateLimits": {"overrides": {"free": {"gemini-embedding-001": {"rpm": 1}}}}})
    client = sdk(server, FREE_KEY)
    client.models.embed_content(model="gemini-embedding-001", contents="one")
    with pytest.raises(errors.ClientError) as caught:
        client.models.embed_content(model="gemini-embedding-001", contents="two")
    violation, _ = quota_details(caught.value)
    assert violation["quotaId"] == "EmbedContentRequestsPerMinutePerProjectPerModel-FreeTier"
    assert violation["quotaDimensions"]["model"] == "gemini-embedding-001"


def test_failed_calls_count_against_the_quota(server, control):
    patch_config(control, {"rateLimits": {"overrides": {"free": {MODEL: {"rpm": 2}}}}})
    headers = {"x-goog-api-key": FREE_KEY}
    url = f"/v1beta/models/{MODEL}:generateContent"
    assert_envelope(control.post(url, headers=headers, json={"contents": [], "bogus": 1}), 400, "INVALID_ARGUMENT")
    assert control.post(url, headers=headers, json={"contents": [{"parts": [{"text": "hi"}]}]}).status_code == 200
    assert_envelope(control.post(url, headers=headers, json={"contents": [{"parts": [{"text": "hi"}]}]}),
                    429, "RESOURCE_EXHAUSTED")
    usage = control.get("/_mock/usage", params={"project": "free-project"}).json()
    assert (usage["requests"], usage["failedRequests"], usage["rateLimitedRequests"]) == (2, 1, 1)


def test_limits_switched_off(server, control):
    patch_config(control, {"rateLimits": {"enabled": False}})
    client = sdk(server, FREE_KEY)
    for _ in range(12):
        client.models.generate_content(model=MODEL, contents="hi")


def test_openai_layer_is_limited_too(server, control):
    patch_config(control, {"rateLimits": {"overrides": {"free": {MODEL: {"rpm": 1}}}}})
    body = {"model": MODEL, "messages": [{"role": "user", "content": "hi"}]}
    headers = {"Authorization": f"Bearer {FREE_KEY}"}
    assert control.post("/v1beta/openai/chat/completions", json=body, headers=headers).status_code == 200
    refused = control.post("/v1beta/openai/chat/completions", json=body, headers=headers)
    assert refused.status_code == 429
    [envelope] = refused.json()
    assert envelope["error"]["status"] == "RESOURCE_EXHAUSTED"


def test_derived_keys_are_not_limited_unless_asked(gemini_mock, http):
    client = gemini_mock.client()
    for _ in range(12):   # more than the free tier's 10 RPM
        client.models.generate_content(model=MODEL, contents="hi")
    assert http.patch("/_mock/config", json={"rateLimits": {"derivedKeys": True}}).status_code == 200
    gemini_mock.advance(60)
    for _ in range(10):
        client.models.generate_content(model=MODEL, contents="hi")
    with pytest.raises(errors.ClientError) as caught:
        client.models.generate_content(model=MODEL, contents="hi")
    assert caught.value.code == 429


@pytest.mark.parametrize("body, field", [
    ({"rateLimits": {"overrides": {"platinum": {}}}}, "rateLimits.overrides.platinum"),
    ({"rateLimits": {"overrides": {"free": {MODEL: {"rpm": -1}}}}}, f"rateLimits.overrides.free.{MODEL}.rpm"),
    ({"rateLimits": {"overrides": {"free": {MODEL: {"rps": 1}}}}}, f"rateLimits.overrides.free.{MODEL}.rps"),
    ({"rateLimits": {"overrides": {"free": {MODEL: 5}}}}, f"rateLimits.overrides.free.{MODEL}"),
    ({"rateLimits": {"derivedKeys": "yes"}}, "rateLimits.derivedKeys"),
    ({"rateLimits": {"enabeld": False}}, "rateLimits.enabeld"),
])
def test_bad_rate_limit_config_is_a_400_naming_the_field(http, body, field):
    assert_envelope(http.patch("/_mock/config", json=body), 400, "INVALID_ARGUMENT", field=field)


def test_overrides_merge_and_reset(http):
    http.patch("/_mock/config", json={"rateLimits": {"overrides": {"free": {MODEL: {"rpm": 1}}}}})
    config = http.patch("/_mock/config", json={"rateLimits": {"overrides": {"tier1": {"*": {"rpd": None}}}}}).json()
    assert config["rateLimits"]["overrides"] == {"free": {MODEL: {"rpm": 1}}, "tier1": {"*": {"rpd": None}}}
    http.post("/_mock/reset", json={"config": True})
    assert http.get("/_mock/config").json()["rateLimits"] == {"enabled": True, "derivedKeys": False, "overrides": {}}


# -- the usage ledger -------------------------------------------------------------------------------

def usage_of(http, project: str) -> dict:
    answer = http.get("/_mock/usage", params={"project": project})
    assert answer.status_code == 200, answer.text
    return answer.json()


def flash_cost(metadata: types.GenerateContentResponseUsageMetadata, factor: float = 1.0) -> float:
    cached = metadata.cached_content_token_count or 0
    output = (metadata.candidates_token_count or 0) + (metadata.thoughts_token_count or 0)
    return factor * ((metadata.prompt_token_count - cached) * FLASH["input"] + cached * FLASH["cachedInput"]
                     + output * FLASH["output"]) / 1e6


def model_row(usage: dict, model: str = f"models/{MODEL}") -> dict:
    [row] = [row for row in usage["models"] if row["model"] == model]
    return row


def test_generate_usage_and_cost(gemini_mock, client, http):
    replies = [client.models.generate_content(model=MODEL, contents=text) for text in ("hi", "tell me more")]
    usage = usage_of(http, gemini_mock.identity.project)
    assert usage["tier"] == "free" and usage["costUsd"] == 0   # the free tier is free of charge
    row = model_row(usage)
    assert row["requests"] == 2 and row["failedRequests"] == 0
    assert row["inputTokens"] == sum(r.usage_metadata.prompt_token_count for r in replies)
    assert row["outputTokens"] == sum(r.usage_metadata.candidates_token_count
                                      + (r.usage_metadata.thoughts_token_count or 0) for r in replies)
    assert row["thoughtsTokens"] == sum(r.usage_metadata.thoughts_token_count or 0 for r in replies)
    assert row["cachedTokens"] == 0
    assert row["paidTierCostUsd"] == pytest.approx(sum(flash_cost(r.usage_metadata) for r in replies), abs=1e-9)
    assert usage["paidTierCostUsd"] == row["paidTierCostUsd"] > 0
    everyone = http.get("/_mock/usage").json()
    assert [p["project"] for p in everyone["projects"]] == [gemini_mock.identity.project]
    assert everyone["currency"] == "USD" and "ai.google.dev/gemini-api/docs/pricing" in everyone["pricing"]


def test_stream_is_charged_once(gemini_mock, client, http):
    chunks = list(client.models.generate_content_stream(model=MODEL, contents="Write a long story"))
    last = chunks[-1].usage_metadata
    row = model_row(usage_of(http, gemini_mock.identity.project))
    assert row["requests"] == 1
    assert row["inputTokens"] == last.prompt_token_count
    assert row["outputTokens"] == last.candidates_token_count + (last.thoughts_token_count or 0)


def test_failed_calls_are_counted_not_charged(gemini_mock, client, http):
    url = f"/v1beta/models/{MODEL}:generateContent"
    assert_envelope(http.post(url, json={"contents": [{"parts": [{"text": "hi"}]}], "bogus": 1}),
                    400, "INVALID_ARGUMENT")
    http.post("/_mock/rules", json={"match": {"prompt": "boom"}, "respond": {"error": {"code": 500}}})
    with pytest.raises(errors.ServerError):
        client.models.generate_content(model=MODEL, contents="boom")
    http.post("/_mock/faults", json={"kind": "streamCut", "afterChunks": 1})
    with pytest.raises(errors.ServerError):
        list(client.models.generate_content_stream(model=MODEL, contents="Write a long story"))
    row = model_row(usage_of(http, gemini_mock.identity.project))
    assert (row["requests"], row["failedRequests"]) == (3, 3)
    assert row["inputTokens"] == row["outputTokens"] == 0 and row["paidTierCostUsd"] == 0


def test_token_counting_is_neither_counted_nor_charged(gemini_mock, client, http):
    client.models.count_tokens(model=MODEL, contents="count these tokens")
    http.post("/v1beta3/models/text-bison-001:countTextTokens", json={"prompt": {"text": "count"}})
    usage = usage_of(http, gemini_mock.identity.project)
    assert usage["requests"] == 0 and usage["models"] == [] and usage["paidTierCostUsd"] == 0


def test_cached_tokens_and_cache_storage(gemini_mock, client, http):
    created = http.post("/v1beta/cachedContents", json={
        "model": f"models/{MODEL}", "ttl": "3600s",
        "contents": [{"role": "user", "parts": [{"text": document(1500)}]}]}).json()
    reply = client.models.generate_content(model=MODEL, contents="What is this about?",
                                           config=types.GenerateContentConfig(cached_content=created["name"]))
    assert reply.usage_metadata.cached_content_token_count == 1500
    gemini_mock.advance(1800)
    assert http.delete(f"/v1beta/{created['name']}").status_code == 200
    gemini_mock.advance(3600)   # deleted: no more storage

    usage = usage_of(http, gemini_mock.identity.project)
    row = model_row(usage)
    assert row["cachedTokens"] == 1500 and row["inputTokens"] == reply.usage_metadata.prompt_token_count
    assert row["paidTierCostUsd"] == pytest.approx(flash_cost(reply.usage_metadata), abs=1e-9)
    [storage] = usage["cacheStorage"]
    assert storage["cachedContent"] == created["name"] and storage["tokens"] == 1500
    assert storage["hours"] == pytest.approx(0.5, abs=0.01) and "deleteTime" in storage
    assert storage["tokenHours"] == pytest.approx(750, abs=15)
    assert storage["paidTierCostUsd"] == pytest.approx(storage["tokenHours"] * 1.0 / 1e6, rel=1e-3)
    assert usage["cacheStorageTokenHours"] == storage["tokenHours"]


def test_cache_storage_ends_at_expiry(gemini_mock, client, http):
    cache = client.caches.create(model=MODEL, config=types.CreateCachedContentConfig(
        contents=[document(1200)], ttl="600s"))
    gemini_mock.advance(7200)
    [storage] = usage_of(http, gemini_mock.identity.project)["cacheStorage"]
    assert storage["cachedContent"] == cache.name and "deleteTime" not in storage
    assert storage["hours"] == pytest.approx(600 / 3600, abs=1e-6)
    assert storage["tokenHours"] == pytest.approx(200, abs=1e-3)


def test_batch_usage_is_billed_at_half_price(gemini_mock, client, http):
    job = client.batches.create(model=MODEL, src=[
        types.InlinedRequest(contents="Tell me a one-sentence joke."),
        types.InlinedRequest(contents="Why is the sky blue?")])
    gemini_mock.advance(3600)
    done = client.batches.get(name=job.name)
    assert done.state == types.JobState.JOB_STATE_SUCCEEDED
    metadata = [answer.response.usage_metadata for answer in done.dest.inlined_responses]
    client.batches.get(name=job.name)   # reading again charges nothing more
    row = model_row(usage_of(http, gemini_mock.identity.project))
    assert row["requests"] == 0 and row["inputTokens"] == 0   # no interactive calls
    batch = row["batch"]
    assert batch["requests"] == 2
    assert batch["inputTokens"] == sum(m.prompt_token_count for m in metadata)
    assert batch["paidTierCostUsd"] == pytest.approx(sum(flash_cost(m, 0.5) for m in metadata), abs=1e-9)
    assert batch["paidTierCostUsd"] == pytest.approx(0.5 * sum(flash_cost(m) for m in metadata), abs=1e-9)
    assert row["paidTierCostUsd"] == batch["paidTierCostUsd"]


def test_embedding_usage(gemini_mock, client, http):
    client.models.embed_content(model="gemini-embedding-001", contents=["first text", "second text here"])
    row = model_row(usage_of(http, gemini_mock.identity.project), "models/gemini-embedding-001")
    assert row["requests"] == 1
    assert row["inputTokens"] == count_text("first text") + count_text("second text here")
    assert row["outputTokens"] == 0
    assert row["paidTierCostUsd"] == pytest.approx(row["inputTokens"] * 0.15 / 1e6, abs=1e-12)


def test_openai_chat_usage_lands_on_the_model(gemini_mock, http):
    import openai
    chat = openai.OpenAI(api_key=gemini_mock.api_key, base_url=gemini_mock.base_url + "/v1beta/openai/")
    answer = chat.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "hi"}])
    row = model_row(usage_of(http, gemini_mock.identity.project))
    assert row["requests"] == 1 and row["inputTokens"] == answer.usage.prompt_tokens
    journal = http.get("/_mock/requests", params={"path": "openai"}).json()["requests"]
    assert journal[-1]["model"] == MODEL


def test_paid_tier_pays(server, control):
    client = sdk(server, PAID_KEY)   # kept in a name: a client dropped at once closes its connection
    reply = client.models.generate_content(model=MODEL, contents="hi")
    usage = usage_of(control, "paid-project")
    assert usage["tier"] == "tier1"
    assert usage["costUsd"] == usage["paidTierCostUsd"] == pytest.approx(flash_cost(reply.usage_metadata),
                                                                         abs=1e-9)


def test_projects_are_apart_and_reset_clears(gemini_mock, http):
    gemini_mock.client().models.generate_content(model=MODEL, contents="hi")
    other = gemini_mock.other_key("b")
    gemini_mock.client(api_key=other).models.generate_content(model=MODEL, contents="hi")
    gemini_mock.client(api_key=other).models.generate_content(model=MODEL, contents="hi again")
    assert model_row(usage_of(http, gemini_mock.identity.project))["requests"] == 1
    assert model_row(usage_of(http, gemini_mock.store.keys.identify(other).project))["requests"] == 2
    assert usage_of(http, "nobody")["requests"] == 0
    assert_envelope(http.get("/_mock/usage", params={"projet": "x"}), 400, "INVALID_ARGUMENT", field="projet")
    http.post("/_mock/reset", json={})
    assert http.get("/_mock/usage").json()["projects"] == []


def test_latency_does_not_touch_the_mock_clock(gemini_mock, client, http):
    http.post("/_mock/faults", json={"kind": "latency", "latencyMs": 200})
    before = gemini_mock.store.clock.offset
    start = time.monotonic()
    client.models.generate_content(model=MODEL, contents="hi")
    assert time.monotonic() - start >= 0.2 and gemini_mock.store.clock.offset == before


def test_a_model_without_a_free_tier_is_limit_0_for_a_free_key(server):
    free, paid = sdk(server, FREE_KEY), sdk(server, PAID_KEY)
    with pytest.raises(errors.ClientError) as caught:
        free.models.generate_content(model="gemini-4-argon", contents="hi")
    assert caught.value.code == 429 and caught.value.status == "RESOURCE_EXHAUSTED"
    assert "limit: 0" in caught.value.message
    violation, _ = quota_details(caught.value)
    assert violation["quotaValue"] == "0" and violation["quotaDimensions"]["model"] == "gemini-4-argon"
    assert paid.models.generate_content(model="gemini-4-argon", contents="hi").text
    assert free.models.generate_content(model="gemini-4-hydrogen", contents="hi").text
