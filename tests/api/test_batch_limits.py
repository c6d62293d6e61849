"""The Batch API's own limits (rate-limits page, Batch API section): at most 100 batch jobs in flight per
project, and a per-tier cap on the input tokens waiting in a model's unfinished jobs; a create over either
is 429 RESOURCE_EXHAUSTED and makes nothing."""
from __future__ import annotations

import httpx
import pytest
from google import genai
from google.genai import errors, types

from gemini_mockserver.auth import Identity, KeyRing
from gemini_mockserver.batch_limits import BatchLimits, request_tokens

from support import assert_envelope
from support.servers import serve

MODEL = "gemini-2.5-flash"
INLINE = {"batch": {"displayName": "b", "inputConfig": {"requests": {"requests": [
    {"request": {"contents": [{"parts": [{"text": "one two three"}]}]}}]}}}}


def test_the_published_figures_are_loaded():
    limits = BatchLimits()
    assert limits.concurrent_jobs == 100
    assert limits.enqueued_limit("tier1", MODEL) == 3_000_000
    assert limits.enqueued_limit("tier2", "gemini-2.5-pro") == 500_000_000
    assert limits.enqueued_limit("tier1", "gemini-2.5-flash-lite-preview-09-2025") == 10_000_000
    assert limits.enqueued_limit("free", MODEL) is None
    assert request_tokens(INLINE["batch"]["inputConfig"]["requests"]["requests"]) == 3


def test_a_101st_job_in_flight_is_refused_until_one_ends(gemini_mock, http):
    url = f"/v1beta/models/{MODEL}:batchGenerateContent"
    names = []
    for _ in range(100):
        answer = http.post(url, json=INLINE)
        assert answer.status_code == 200, answer.text
        names.append(answer.json()["name"])
    error = assert_envelope(http.post(url, json=INLINE), 429, "RESOURCE_EXHAUSTED")
    assert "Concurrent batch jobs" in error["message"]
    assert error["details"][0]["@type"].endswith("QuotaFailure")
    assert len(http.get("/v1beta/batches", params={"pageSize": 1000}).json()["operations"]) == 100
    cancelled = http.post(f"/v1beta/{names[0]}:cancel")
    assert cancelled.status_code == 200, cancelled.text
    assert http.post(url, json=INLINE).status_code == 200
    # ended jobs are not in flight: after they finish, the project may start 100 more
    gemini_mock.advance(3 * 24 * 3600)
    assert http.post(url, json=INLINE).status_code == 200


def test_enqueued_tokens_per_model_and_tier(monkeypatch):
    keys = KeyRing({"paid": Identity("paid", "paid-project", "paid@example.com", tier="tier1")})
    with serve(keys=keys) as server:
        monkeypatch.setitem(server.store.batches.limits.enqueued["tier1"], MODEL, 5)
        client = genai.Client(api_key="paid", http_options=types.HttpOptions(base_url=server.base_url))
        client.batches.create(model=MODEL, src=[types.InlinedRequest(contents="one two three")])
        with pytest.raises(errors.ClientError) as caught:   # 3 waiting + 3 more > 5
            client.batches.create(model=MODEL, src=[types.InlinedRequest(contents="four five six")])
        assert caught.value.code == 429 and caught.value.status == "RESOURCE_EXHAUSTED"
        assert "enqueued tokens" in caught.value.message and "limit of 5" in caught.value.message
        # another model has its own queue; a tier change moves the limit at once
        client.batches.create(model="gemini-2.5-pro", src=[types.InlinedRequest(contents="four five six")])
        with httpx.Client(base_url=server.base_url) as control:
            assert control.patch("/_mock/projects/paid-project/tier", json={"tier": "tier2"}).status_code == 200
        client.batches.create(model=MODEL, src=[types.InlinedRequest(contents="four five six")])
        assert not server.store.internal_errors
