"""Service tiers (Flex and Priority inference) through google-genai and plain HTTP: who may ask for which
tier, which models take them, the x-gemini-service-tier header the docs tell clients to read (priority
downgraded to standard over its own limits), and the prices in the usage ledger.

The server has a free-tier and a tier1 key (support.tiers); a test moves the tier1 project to tier2 through
the control plane when it needs Priority.
"""
from __future__ import annotations

import httpx
import pytest
from google.genai import _interactions_errors as interaction_errors
from google.genai import errors

from support import assert_envelope
from support.tiers import FREE_KEY, PAID_KEY, control, keyed_server, sdk, server  # noqa: F401

MODEL = "gemini-3.6-flash"
HEADER = "x-gemini-service-tier"
PROJECT = "paid-project"


def served_tier(response) -> str | None:
    return response.sdk_http_response.headers.get(HEADER)


def to_tier2(control) -> None:
    answer = control.patch(f"/_mock/projects/{PROJECT}/tier", json={"tier": "tier2"})
    assert answer.status_code == 200, answer.text


def model_row(server, model: str = MODEL) -> dict:
    [row] = [row for row in server.store.usage.report(PROJECT)["models"] if row["model"] == f"models/{model}"]
    return row


def test_flex_is_served_at_flex_with_the_same_answer_at_half_the_price(server):
    client = sdk(server, PAID_KEY)
    standard = client.models.generate_content(model=MODEL, contents="Summarise the quarter.")
    flex = client.models.generate_content(model=MODEL, contents="Summarise the quarter.",
                                          config={"service_tier": "flex"})
    assert served_tier(standard) is None   # a call naming no tier answers as it always did
    assert served_tier(flex) == "flex"
    assert flex.text == standard.text and flex.usage_metadata == standard.usage_metadata

    row = model_row(server)
    assert row["requests"] == 2 and row["serviceTiers"]["flex"]["requests"] == 1
    full = row["paidTierCostUsd"] - row["serviceTiers"]["flex"]["paidTierCostUsd"]   # the standard call
    assert full > 0
    assert row["serviceTiers"]["flex"]["paidTierCostUsd"] == pytest.approx(full * 0.5)


def test_enum_member_and_explicit_standard(server):
    client = sdk(server, PAID_KEY)
    assert served_tier(client.models.generate_content(model=MODEL, contents="a",
                                                      config={"service_tier": "FLEX"})) == "flex"
    assert served_tier(client.models.generate_content(model=MODEL, contents="a",
                                                      config={"service_tier": "standard"})) == "standard"


def test_priority_needs_tier2_and_costs_double(server, control):
    client = sdk(server, PAID_KEY)
    with pytest.raises(errors.ClientError) as caught:
        client.models.generate_content(model=MODEL, contents="triage", config={"service_tier": "priority"})
    assert caught.value.code == 400 and caught.value.status == "FAILED_PRECONDITION"
    assert "service_tier" in caught.value.message and "tier2" in caught.value.message

    to_tier2(control)
    standard = client.models.generate_content(model=MODEL, contents="triage")
    priority = client.models.generate_content(model=MODEL, contents="triage", config={"service_tier": "priority"})
    assert served_tier(priority) == "priority" and priority.text == standard.text
    tiers = model_row(server)["serviceTiers"]
    assert tiers["priority"]["requests"] == 1
    cost = model_row(server)["paidTierCostUsd"] - tiers["priority"]["paidTierCostUsd"]
    assert tiers["priority"]["paidTierCostUsd"] == pytest.approx(cost * 2.0)


def test_free_tier_may_not_ask_for_flex_or_priority(server):
    client = sdk(server, FREE_KEY)
    for tier in ("flex", "priority"):
        with pytest.raises(errors.ClientError) as caught:
            client.models.generate_content(model=MODEL, contents="hi", config={"service_tier": tier})
        assert caught.value.code == 400 and caught.value.status == "FAILED_PRECONDITION"
        assert "free" in caught.value.message and "service_tier" in caught.value.message
    assert served_tier(client.models.generate_content(model=MODEL, contents="hi",
                                                      config={"service_tier": "standard"})) == "standard"


def test_a_model_without_the_tier_is_invalid_argument(server):
    client = sdk(server, PAID_KEY)
    with pytest.raises(errors.ClientError) as caught:
        client.models.generate_content(model="gemini-2.0-flash", contents="hi", config={"service_tier": "flex"})
    assert caught.value.code == 400 and caught.value.status == "INVALID_ARGUMENT"
    [violation] = caught.value.details["error"]["details"][0]["fieldViolations"]
    assert violation["field"] == "service_tier" and "gemini-2.0-flash" in violation["description"]


def test_priority_over_its_own_limits_is_served_at_standard(server, control):
    to_tier2(control)
    # Standard RPM 10 for the model on tier2, so Priority has 3 (0.3x) of its own
    answer = control.patch("/_mock/config", json={"rateLimits": {"overrides": {"tier2": {MODEL: {"rpm": 10}}}}})
    assert answer.status_code == 200, answer.text
    assert server.store.service_tiers.priority_limits("tier2", MODEL)["rpm"] == 3
    client = sdk(server, PAID_KEY)
    served = [served_tier(client.models.generate_content(model=MODEL, contents=f"q{n}",
                                                         config={"service_tier": "priority"}))
              for n in range(5)]
    assert served == ["priority"] * 3 + ["standard"] * 2
    tiers = model_row(server)["serviceTiers"]
    assert tiers["priority"]["requests"] == 3
    assert tiers["standard"] == {"requests": 2, "downgradedFromPriority": 2,
                                 "paidTierCostUsd": tiers["standard"]["paidTierCostUsd"]}
    # the downgraded calls count against the Standard limits like any other call
    assert server.store.quotas.usage(PROJECT, MODEL)["minuteRequests"] == 5

    server.store.clock.advance(60)   # the priority minute frees up with the clock
    assert served_tier(client.models.generate_content(model=MODEL, contents="later",
                                                      config={"service_tier": "priority"})) == "priority"


def test_stream_carries_the_header(server):
    with httpx.Client(base_url=server.base_url, headers={"x-goog-api-key": PAID_KEY}, timeout=60) as http:
        answer = http.post(f"/v1beta/models/{MODEL}:streamGenerateContent?alt=sse",
                           json={"contents": [{"parts": [{"text": "hi"}]}], "serviceTier": "flex"})
        assert answer.status_code == 200, answer.text
        assert answer.headers[HEADER] == "flex" and answer.text.startswith("data: ")
        plain = http.post(f"/v1beta/models/{MODEL}:streamGenerateContent?alt=sse",
                          json={"contents": [{"parts": [{"text": "hi"}]}]})
        assert HEADER not in plain.headers and plain.content == answer.content


@pytest.mark.parametrize("value", ["bogus", "SERVICE_TIER_FLEX", 7, {"tier": "flex"}])
def test_raw_http_bad_value_names_the_field(server, value):
    with httpx.Client(base_url=server.base_url, headers={"x-goog-api-key": PAID_KEY}, timeout=60) as http:
        answer = http.post(f"/v1beta/models/{MODEL}:generateContent",
                           json={"contents": [{"parts": [{"text": "hi"}]}], "serviceTier": value})
    assert_envelope(answer, 400, "INVALID_ARGUMENT", field="service_tier")


def test_raw_http_errors_and_unspecified(server):
    body = {"contents": [{"parts": [{"text": "hi"}]}]}
    with httpx.Client(base_url=server.base_url, timeout=60) as http:
        free = http.post(f"/v1beta/models/{MODEL}:generateContent", headers={"x-goog-api-key": FREE_KEY},
                         json={**body, "service_tier": "flex"})
        error = assert_envelope(free, 400, "FAILED_PRECONDITION", field="service_tier")
        assert error["details"][0]["@type"] == "type.googleapis.com/google.rpc.PreconditionFailure"
        tts = http.post("/v1beta/models/gemini-2.5-flash-preview-tts:generateContent",
                        headers={"x-goog-api-key": PAID_KEY}, json={**body, "serviceTier": "flex"})
        assert_envelope(tts, 400, "INVALID_ARGUMENT", field="service_tier")
        unspecified = http.post(f"/v1/models/{MODEL}:generateContent", headers={"x-goog-api-key": PAID_KEY},
                                json={**body, "serviceTier": "unspecified"})
        assert unspecified.status_code == 200 and unspecified.headers[HEADER] == "standard"


def test_a_browser_reads_the_header_on_the_middleware_path(server):
    """A call with an Origin takes the middleware stack, not the direct path: same header, exposed by CORS."""
    body = {"contents": [{"parts": [{"text": "hi"}]}], "serviceTier": "flex"}
    url = f"{server.base_url}/v1beta/models/{MODEL}:generateContent"
    direct = httpx.post(url, json=body, headers={"x-goog-api-key": PAID_KEY}, timeout=60)
    browser = httpx.post(url, json=body, headers={"x-goog-api-key": PAID_KEY, "Origin": "http://localhost:5173"},
                         timeout=60)
    assert direct.headers[HEADER] == browser.headers[HEADER] == "flex"
    assert direct.content == browser.content
    assert HEADER in browser.headers["access-control-expose-headers"].lower()


# -- the Interactions API -------------------------------------------------------------------------------

INTERACTIONS_MODEL = "gemini-3.6-flash"


def test_interactions_flex_gives_the_same_answer_and_names_its_tier(server):
    client = sdk(server, PAID_KEY)
    standard = client.interactions.create(model=INTERACTIONS_MODEL, input="Enrich this record.")
    flex = client.interactions.create(model=INTERACTIONS_MODEL, input="Enrich this record.", service_tier="flex")
    assert flex.output_text == standard.output_text and flex.service_tier == "flex"
    row = model_row(server, INTERACTIONS_MODEL)
    assert row["serviceTiers"]["flex"]["requests"] == 1
    with httpx.Client(base_url=server.base_url, headers={"x-goog-api-key": PAID_KEY}, timeout=60) as http:
        answer = http.post("/v1beta/interactions", json={"model": INTERACTIONS_MODEL, "input": "hi",
                                                          "service_tier": "flex"})
        assert answer.status_code == 200 and answer.headers[HEADER] == "flex"
        plain = http.post("/v1beta/interactions", json={"model": INTERACTIONS_MODEL, "input": "hi"})
        assert plain.status_code == 200 and HEADER not in plain.headers


def test_interactions_refusals_in_their_own_error_shape(server):
    with httpx.Client(base_url=server.base_url, timeout=60) as http:
        free = http.post("/v1beta/interactions", headers={"x-goog-api-key": FREE_KEY},
                         json={"model": INTERACTIONS_MODEL, "input": "hi", "service_tier": "flex"})
        assert free.status_code == 400 and free.json()["error"]["code"] == "failed_precondition"
        assert "service_tier" in free.json()["error"]["message"]
        tier1 = http.post("/v1beta/interactions", headers={"x-goog-api-key": PAID_KEY},
                          json={"model": INTERACTIONS_MODEL, "input": "hi", "service_tier": "priority"})
        assert tier1.status_code == 400 and "tier2" in tier1.json()["error"]["message"]
        bad = http.post("/v1beta/interactions", headers={"x-goog-api-key": PAID_KEY},
                        json={"model": INTERACTIONS_MODEL, "input": "hi", "service_tier": "deferred"})
        assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid_request"
        assert "service_tier" in bad.json()["error"]["message"]
    client = sdk(server, PAID_KEY)
    with pytest.raises(interaction_errors.BadRequestError) as caught:
        client.interactions.create(model="gemini-2.0-flash", input="hi", service_tier="flex")
    assert caught.value.body["error"]["code"] == "invalid_request"
    assert "service_tier" in caught.value.body["error"]["message"]
    assert "gemini-2.0-flash" in caught.value.body["error"]["message"]
