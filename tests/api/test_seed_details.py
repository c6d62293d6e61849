"""The v1beta3 reference (seed 001) to the letter, and error messages that say what really works.

* ListModels on v1beta3 lists every model its get serves;
* an empty `updateMask=` on a tuned-model PATCH is no mask; a permission PATCH takes `update_mask` too;
* generateText's maxOutputTokens error states the accepted range (0 = unset);
* deleting a corpus's last OWNER grant says to grant another OWNER (corpora have no transferOwnership);
* another project's log named in a dataset request is named once in the 404.
"""
from __future__ import annotations

import httpx
import pytest

from gemini_mockserver.auth import Identity, KeyRing

from support import assert_envelope
from support.servers import serve

TUNED_BODY = {"displayName": "Mine", "baseModel": "models/gemini-1.5-flash-001-tuning",
              "tuningTask": {"trainingData": {"examples": {"examples": [{"textInput": "Hello", "output": "Bonjour"}]}}}}


# -- v1beta3 ListModels ------------------------------------------------------------------------------------

def _all_pages(http, path: str) -> list[dict]:
    models, token = [], None
    while True:
        body = http.get(path, params={"pageSize": 50, **({"pageToken": token} if token else {})}).json()
        models += body["models"]
        token = body.get("nextPageToken")
        if not token:
            return models


def test_v1beta3_lists_every_model_its_get_serves(http):
    listed = {m["name"]: m for m in _all_pages(http, "/v1beta3/models")}
    assert "models/gemini-1.5-flash-001" in listed and "models/text-bison-001" in listed
    for name, model in listed.items():
        got = http.get(f"/v1beta3/{name}")
        assert got.status_code == 200 and got.json() == model   # the same resource, v1beta3's fields
    gemini = {m["name"] for m in _all_pages(http, "/v1beta/models")}
    assert gemini <= set(listed)
    assert "thinking" not in listed["models/gemini-2.5-flash"]   # a v1beta field v1beta3 lacks
    first = http.get("/v1beta3/models", params={"pageSize": 3}).json()["models"]
    assert [m["name"] for m in first][0] == "models/text-bison-001"   # the PaLM models come first


# -- update masks --------------------------------------------------------------------------------------------

@pytest.fixture
def tuned(http, gemini_mock):
    response = http.post("/v1beta/tunedModels", params={"tunedModelId": "mine"}, json=TUNED_BODY)
    assert response.status_code == 200, response.text
    gemini_mock.advance(gemini_mock.store.config["tunedModel"]["trainingSeconds"])
    return "tunedModels/mine"


@pytest.mark.parametrize("param", ["updateMask", "update_mask"])
def test_an_empty_update_mask_is_no_mask(http, tuned, param):
    response = http.patch(f"/v1beta/{tuned}", params={param: ""}, json={"description": "Changed."})
    assert response.status_code == 200, response.text
    assert response.json()["description"] == "Changed."
    assert http.get(f"/v1beta/{tuned}").json()["description"] == "Changed."


def test_a_permission_patch_takes_update_mask_in_snake_case(http, tuned):
    made = http.post(f"/v1beta/{tuned}/permissions",
                     json={"granteeType": "USER", "emailAddress": "bob@example.com", "role": "READER"})
    assert made.status_code == 200, made.text
    name = made.json()["name"]
    response = http.patch(f"/v1beta/{name}", params={"update_mask": "role"}, json={"role": "WRITER"})
    assert response.status_code == 200, response.text
    assert response.json()["role"] == "WRITER"
    assert_envelope(http.patch(f"/v1beta/{name}", params={"update_mask": ""}, json={"role": "READER"}),
                    400, "INVALID_ARGUMENT", field="updateMask")


# -- messages ------------------------------------------------------------------------------------------------

def test_generate_text_max_output_tokens_message_states_the_accepted_range(http):
    url = "/v1beta3/models/text-bison-001:generateText"
    limit = http.get("/v1beta3/models/text-bison-001").json()["outputTokenLimit"]
    for accepted in (0, 1, limit):
        assert http.post(url, json={"prompt": {"text": "hi"}, "maxOutputTokens": accepted}).status_code == 200
    for refused in (-1, limit + 1):
        error = assert_envelope(http.post(url, json={"prompt": {"text": "hi"}, "maxOutputTokens": refused}),
                                400, "INVALID_ARGUMENT", field="maxOutputTokens")
        assert f"[0, {limit}]" in error["message"] and "0 leaves it unset" in error["message"]


def test_the_last_corpus_owner_message_names_what_works(http):
    assert http.post("/v1beta/corpora", json={"name": "corpora/kept", "displayName": "Kept"}).status_code == 200
    [owner] = http.get("/v1beta/corpora/kept/permissions").json()["permissions"]
    error = assert_envelope(http.delete(f"/v1beta/{owner['name']}"), 400, "FAILED_PRECONDITION")
    assert "grant another OWNER" in error["message"] and "transfer the ownership" not in error["message"]
    error = assert_envelope(http.patch(f"/v1beta/{owner['name']}", params={"updateMask": "role"},
                                       json={"role": "WRITER"}), 400, "FAILED_PRECONDITION")
    assert "grant another OWNER" in error["message"]
    # and it works: another OWNER first, then the first may go
    other = http.post("/v1beta/corpora/kept/permissions",
                      json={"granteeType": "USER", "emailAddress": "bob@example.com", "role": "OWNER"})
    assert other.status_code == 200, other.text
    assert http.delete(f"/v1beta/{owner['name']}").status_code == 200


def test_the_last_tuned_model_owner_message_still_offers_the_transfer(http, tuned):
    [owner] = http.get(f"/v1beta/{tuned}/permissions").json()["permissions"]
    error = assert_envelope(http.delete(f"/v1beta/{owner['name']}"), 400, "FAILED_PRECONDITION")
    assert "transferOwnership" in error["message"]


def test_another_projects_log_is_named_once_in_a_dataset_404():
    keys = KeyRing({key: Identity(key, project, f"{key}@example.com", tier="tier1")
                    for key, project in (("ours", "project-ours"), ("theirs", "project-theirs"))})
    with serve(keys=keys) as server, httpx.Client(base_url=server.base_url, timeout=30) as api:
        assert api.patch("/_mock/projects/project-theirs/logging", json={"enabled": True}).status_code == 200
        answer = api.post("/v1beta/models/gemini-2.5-flash:generateContent", headers={"x-goog-api-key": "theirs"},
                          json={"contents": [{"parts": [{"text": "hi"}]}]})
        assert answer.status_code == 200, answer.text
        [log] = api.get("/_mock/projects/project-theirs/logs").json()["logs"]
        response = api.post("/_mock/projects/project-ours/datasets", json={"displayName": "x", "logs": [log["name"]]})
        error = assert_envelope(response, 404, "NOT_FOUND")
        assert error["message"].count("logs/") == 1 and log["name"] in error["message"], error
        assert not server.store.internal_errors
