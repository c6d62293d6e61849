"""The emulator core over plain HTTP: versions, keys, the error envelope, JSON parsing, limits, CORS,
and the first part of the control plane."""
from __future__ import annotations

import json

import httpx
import pytest

from gemini_mockserver.auth import Identity, KeyRing

from support import assert_envelope
from support.servers import serve

PROMPT = {"contents": [{"role": "user", "parts": [{"text": "Explain how AI works in a few words"}]}]}


@pytest.mark.parametrize("version", ["v1", "v1beta", "v1alpha"])
def test_generate_is_served_under_every_gemini_version(http, version):
    response = http.post(f"/{version}/models/gemini-2.5-flash:generateContent", json=PROMPT)
    assert response.status_code == 200, response.text
    assert response.json()["candidates"][0]["content"]["role"] == "model"


def test_same_answer_under_a_path_prefix_and_without_a_version(http):
    plain = http.post("/v1beta/models/gemini-2.5-flash:generateContent", json=PROMPT).json()
    prefixed = http.post("/some/prefix/v1beta/models/gemini-2.5-flash:generateContent", json=PROMPT).json()
    versionless = http.post("/models/gemini-2.5-flash:generateContent", json=PROMPT).json()
    assert plain == prefixed == versionless


def test_key_may_come_from_the_query_string(gemini_mock):
    response = httpx.post(f"{gemini_mock.base_url}/v1beta/models/gemini-2.5-flash:generateContent",
                          params={"key": gemini_mock.api_key}, json=PROMPT)
    assert response.status_code == 200


def test_missing_key_is_permission_denied(gemini_mock):
    response = httpx.post(f"{gemini_mock.base_url}/v1beta/models/gemini-2.5-flash:generateContent", json=PROMPT)
    assert_envelope(response, 403, "PERMISSION_DENIED")


def test_keys_file_refuses_unknown_keys_as_the_real_api(tmp_path):
    keys = tmp_path / "keys.yaml"
    keys.write_text("keys:\n  - key: good\n    project: alpha\n    email: a@example.com\n    groups: [team@example.com]\n    tier: tier1\n")
    from gemini_mockserver.auth import load_keys_file
    with serve(keys=KeyRing(load_keys_file(keys))) as server:
        bad = httpx.get(f"{server.base_url}/v1beta/models", headers={"x-goog-api-key": "nope"})
        error = assert_envelope(bad, 400, "INVALID_ARGUMENT")
        assert error["details"][0]["reason"] == "API_KEY_INVALID"
        good = httpx.get(f"{server.base_url}/_mock/whoami", headers={"x-goog-api-key": "good"})
        assert good.json() == {"key": "good", "project": "alpha", "email": "a@example.com",
                               "groups": ["team@example.com"], "tier": "tier1"}


def test_any_key_is_its_own_project_by_default(gemini_mock):
    first = httpx.get(f"{gemini_mock.base_url}/_mock/whoami", headers={"x-goog-api-key": "k1"}).json()
    second = httpx.get(f"{gemini_mock.base_url}/_mock/whoami", headers={"x-goog-api-key": "k2"}).json()
    assert first["project"] != second["project"] and first["email"] != second["email"]
    assert first["tier"] == "free"


def test_unknown_route_and_unknown_model_are_404(http):
    assert_envelope(http.get("/v1beta/nothing/here"), 404, "NOT_FOUND")
    error = assert_envelope(http.post("/v1beta/models/gemini-9:generateContent", json=PROMPT), 404, "NOT_FOUND")
    assert "models/gemini-9" in error["message"]
    assert_envelope(http.get("/v1beta/models/gemini-9"), 404, "NOT_FOUND")


def test_method_the_model_does_not_support_is_400(http):
    response = http.post("/v1beta/models/gemini-embedding-001:generateContent", json=PROMPT)
    assert_envelope(response, 400, "INVALID_ARGUMENT", field="generateContent")


def test_malformed_json_is_400(http):
    response = http.post("/v1beta/models/gemini-2.5-flash:generateContent", content=b'{"contents": [',
                         headers={"content-type": "application/json"})
    assert_envelope(response, 400, "INVALID_ARGUMENT")


def test_relaxed_json_with_single_quotes_is_accepted(http):
    body = b"{'contents': [{'parts': [{'text': 'Explain how AI works in a few words'}]}]}"
    relaxed = http.post("/v1beta/models/gemini-2.5-flash:generateContent", content=body,
                        headers={"content-type": "application/json"})
    assert relaxed.status_code == 200, relaxed.text
    strict = http.post("/v1beta/models/gemini-2.5-flash:generateContent",
                       json={"contents": [{"parts": [{"text": "Explain how AI works in a few words"}]}]})
    assert relaxed.json() == strict.json()


def test_unknown_field_is_400_in_the_real_wording(http):
    body = {**PROMPT, "generationConfig": {"temperature": 0.5, "flavour": "mint"}}
    error = assert_envelope(http.post("/v1beta/models/gemini-2.5-flash:generateContent", json=body),
                            400, "INVALID_ARGUMENT")
    assert 'Unknown name "flavour"' in error["message"] and "generation_config" in error["message"]


def test_wrong_type_is_400_naming_the_field(http):
    body = {**PROMPT, "generationConfig": {"temperature": "hot"}}
    error = assert_envelope(http.post("/v1beta/models/gemini-2.5-flash:generateContent", json=body),
                            400, "INVALID_ARGUMENT")
    assert "temperature" in error["message"]


def test_out_of_range_value_is_400_naming_the_field(http):
    body = {**PROMPT, "generationConfig": {"candidateCount": 9}}
    error = assert_envelope(http.post("/v1beta/models/gemini-2.5-flash:generateContent", json=body),
                            400, "INVALID_ARGUMENT")
    assert "candidate" in json.dumps(error).lower()


def test_snake_case_input_gives_the_camel_case_answer(http):
    camel = {**PROMPT, "generationConfig": {"maxOutputTokens": 7, "candidateCount": 2},
             "systemInstruction": {"parts": [{"text": "be brief"}]}}
    snake = {**PROMPT, "generation_config": {"max_output_tokens": 7, "candidate_count": 2},
             "system_instruction": {"parts": [{"text": "be brief"}]}}
    first = http.post("/v1beta/models/gemini-2.5-flash:generateContent", json=camel)
    second = http.post("/v1beta/models/gemini-2.5-flash:generateContent", json=snake)
    assert first.status_code == 200, first.text
    assert first.json() == second.json()
    assert "usageMetadata" in first.json() and "usage_metadata" not in first.text


def test_body_over_20_mb_is_refused_with_the_envelope(http):
    big = b'{"contents": [{"parts": [{"text": "' + b"a" * (21 * 1024 * 1024) + b'"}]}]}'
    response = http.post("/v1beta/models/gemini-2.5-flash:generateContent", content=big,
                         headers={"content-type": "application/json"})
    error = assert_envelope(response, 400, "INVALID_ARGUMENT")
    assert "size" in error["message"]
    # the server is still there and loses nothing
    assert http.get("/v1beta/models/gemini-2.5-flash").status_code == 200


def test_chunked_body_over_the_limit_is_refused_too(http, gemini_mock):
    gemini_mock.store.config.patch({"limits": {"requestBytes": 1000}})

    def chunks():
        for _ in range(10):
            yield b" " * 500
    response = http.post("/v1beta/models/gemini-2.5-flash:generateContent", content=chunks(),
                         headers={"content-type": "application/json"})
    assert_envelope(response, 400, "INVALID_ARGUMENT")


def test_cors_preflight_allows_the_sdk_headers_and_exposes_upload_headers(gemini_mock):
    response = httpx.options(f"{gemini_mock.base_url}/v1beta/models/gemini-2.5-flash:generateContent", headers={
        "Origin": "http://localhost:5173", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type,x-goog-api-key,x-goog-api-client"})
    assert response.status_code == 200
    allowed = response.headers["access-control-allow-headers"].lower()
    assert "x-goog-api-key" in allowed and "x-goog-api-client" in allowed
    actual = httpx.get(f"{gemini_mock.base_url}/v1beta/models", headers={
        "Origin": "http://localhost:5173", "x-goog-api-key": gemini_mock.api_key})
    assert "x-goog-upload-url" in actual.headers["access-control-expose-headers"].lower()


def test_only_200_on_success(http):
    assert http.get("/v1beta/models").status_code == 200


# -- control plane ---------------------------------------------------------------------------------

def test_clock_read_advance_and_set(gemini_mock):
    base = gemini_mock.base_url
    before = httpx.get(f"{base}/_mock/clock").json()
    after = httpx.post(f"{base}/_mock/clock", json={"advanceSeconds": 3600}).json()
    assert after["epochSeconds"] - before["epochSeconds"] == pytest.approx(3600, abs=5)
    assert after["now"].endswith("Z")
    jumped = httpx.post(f"{base}/_mock/clock", json={"now": "2030-01-01T00:00:00+00:00"}).json()
    assert jumped["now"].startswith("2030-01-01T00:00:0")
    assert_envelope(httpx.post(f"{base}/_mock/clock", json={"advanceSeconds": "soon"}), 400, "INVALID_ARGUMENT",
                    field="advanceSeconds")
    assert_envelope(httpx.post(f"{base}/_mock/clock", json={"now": "yesterday"}), 400, "INVALID_ARGUMENT")


def test_config_patch_merges_deeply_and_refuses_unknown_keys(gemini_mock):
    base = gemini_mock.base_url
    patched = httpx.patch(f"{base}/_mock/config", json={"batch": {"pendingSeconds": 60}}).json()
    assert patched["batch"]["pendingSeconds"] == 60
    assert patched["batch"]["runningSeconds"] == httpx.get(f"{base}/_mock/config").json()["batch"]["runningSeconds"]
    assert_envelope(httpx.patch(f"{base}/_mock/config", json={"batch": {"pendingSecs": 1}}), 400,
                    "INVALID_ARGUMENT", field="batch.pendingSecs")
    assert_envelope(httpx.patch(f"{base}/_mock/config", json={"batch": {"pendingSeconds": "x"}}), 400,
                    "INVALID_ARGUMENT", field="batch.pendingSeconds")


def test_reset_keeps_config_and_clock_unless_asked(gemini_mock):
    base = gemini_mock.base_url
    httpx.patch(f"{base}/_mock/config", json={"seed": 7})
    httpx.post(f"{base}/_mock/clock", json={"advanceSeconds": 86400})
    moved = httpx.get(f"{base}/_mock/clock").json()["epochSeconds"]
    httpx.post(f"{base}/_mock/reset")
    assert httpx.get(f"{base}/_mock/config").json()["seed"] == 7
    assert httpx.get(f"{base}/_mock/clock").json()["epochSeconds"] >= moved
    httpx.post(f"{base}/_mock/reset", json={"config": True, "clock": True})
    assert httpx.get(f"{base}/_mock/config").json()["seed"] == 0
    assert httpx.get(f"{base}/_mock/clock").json()["epochSeconds"] < moved - 80000


def test_journal_records_requests_with_project_and_status(gemini_mock, http):
    http.post("/v1beta/models/gemini-2.5-flash:generateContent", json=PROMPT)
    http.get("/v1beta/models/nope")
    entries = httpx.get(f"{gemini_mock.base_url}/_mock/requests").json()["requests"]
    project = gemini_mock.identity.project
    assert [(e["method"], e["status"], e["project"]) for e in entries[-2:]] == [
        ("POST", 200, project), ("GET", 404, project)]
    assert entries[-2]["model"] == "gemini-2.5-flash"
    assert gemini_mock.requests[-1]["path"] == "/v1beta/models/nope"
    httpx.delete(f"{gemini_mock.base_url}/_mock/requests")
    assert httpx.get(f"{gemini_mock.base_url}/_mock/requests").json()["requests"] == []


def test_whoami_needs_a_key(gemini_mock):
    assert_envelope(httpx.get(f"{gemini_mock.base_url}/_mock/whoami"), 403, "PERMISSION_DENIED")
    me = httpx.get(f"{gemini_mock.base_url}/_mock/whoami", headers={"x-goog-api-key": gemini_mock.api_key}).json()
    assert me["project"] == gemini_mock.identity.project and me["key"] == gemini_mock.api_key


def test_identity_is_a_plain_value():
    assert Identity("k", "p", "e@x").as_dict()["groups"] == []
