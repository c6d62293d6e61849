"""Seed details: tuned models served on /v1 (the SDKs' default version) as on /v1beta, and an absent or
deleted permission answering the one 403 every missing resource gets (seed 001's permissions methods)."""
from __future__ import annotations

import pytest
from google.genai import errors

from gemini_mockserver.errors import missing_resource

from support import assert_envelope, validate_response

TUNED_BODY = {
    "displayName": "My Custom Translator",
    "baseModel": "models/gemini-1.5-flash-001-tuning",
    "tuningTask": {"trainingData": {"examples": {"examples": [
        {"textInput": "Hello", "output": "Bonjour"}, {"textInput": "Goodbye", "output": "Au revoir"}]}},
        "hyperparameters": {"epochCount": 2, "batchSize": 1, "learningRate": 0.001}},
}


@pytest.fixture
def tuned(http, gemini_mock) -> str:
    answer = http.post("/v1beta/tunedModels", params={"tunedModelId": "translator"}, json=TUNED_BODY)
    assert answer.status_code == 200, answer.text
    gemini_mock.advance(gemini_mock.store.config["tunedModel"]["trainingSeconds"])
    return "tunedModels/translator"


# -- tuned models on /v1 -------------------------------------------------------------------------------

def test_get_and_list_on_v1_match_v1beta(http, tuned):
    got = http.get(f"/v1/{tuned}")
    assert got.status_code == 200, got.text
    assert got.json() == http.get(f"/v1beta/{tuned}").json() and got.json()["state"] == "ACTIVE"
    listed = http.get("/v1/tunedModels", params={"pageSize": 5})
    assert listed.status_code == 200, listed.text
    validate_response("v1beta", "ListTunedModelsResponse", listed.json())
    assert [m["name"] for m in listed.json()["tunedModels"]] == [tuned]


def test_sdk_default_client_generates_with_a_tuned_model(client, beta_client, tuned):
    # google-genai's default version is /v1: both calls below go there
    answer = client.models.generate_content(model=tuned, contents="Hello")
    assert answer.text == "Bonjour"   # a training example's output, as on /v1beta
    assert beta_client.models.generate_content(model=tuned, contents="Hello").text == "Bonjour"
    streamed = "".join(chunk.text or "" for chunk in client.models.generate_content_stream(model=tuned,
                                                                                          contents="Hello"))
    assert streamed == "Bonjour"
    job = client.tunings.get(name=tuned)
    assert job.name == tuned and job.state.name == "JOB_STATE_SUCCEEDED"


def test_v1_tuned_model_errors_are_the_same_403(http, client):
    assert_envelope(http.get("/v1/tunedModels/nobody"), 403, "PERMISSION_DENIED", field="tunedModels/nobody")
    with pytest.raises(errors.ClientError) as caught:
        client.models.generate_content(model="tunedModels/nobody", contents="Hello")
    assert caught.value.code == 403


def test_v1_does_not_create_or_delete_tuned_models(http, tuned):
    # only reading and generation are served there; managing stays on /v1beta (and v1beta3, v1alpha)
    assert_envelope(http.post("/v1/tunedModels", json=TUNED_BODY), 404, "NOT_FOUND")
    assert_envelope(http.delete(f"/v1/{tuned}"), 404, "NOT_FOUND")


# -- permissions ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("version", ["v1beta", "v1beta3"])
def test_a_deleted_permission_answers_the_one_403(http, gemini_mock, tuned, version):
    made = gemini_mock.share(tuned, "alice@example.com", "READER")
    name = made["name"]
    assert http.delete(f"/{version}/{name}").json() == {}
    expected = missing_resource("Permission", name).envelope()
    for answer in (http.get(f"/{version}/{name}"),
                   http.patch(f"/{version}/{name}", params={"updateMask": "role"}, json={"role": "WRITER"}),
                   http.delete(f"/{version}/{name}")):
        assert_envelope(answer, 403, "PERMISSION_DENIED")
        assert answer.json() == expected
    never = f"{tuned}/permissions/never-made"
    assert http.get(f"/{version}/{never}").json() == missing_resource("Permission", never).envelope()


def test_a_deleted_corpus_permission_answers_the_one_403(http, gemini_mock):
    assert http.post("/v1beta/corpora", json={"name": "corpora/notes", "displayName": "Notes"}).status_code == 200
    made = gemini_mock.share("corpora/notes", "bob@example.com", "WRITER")
    assert http.delete(f"/v1beta/{made['name']}").json() == {}
    answer = http.get(f"/v1beta/{made['name']}")
    assert_envelope(answer, 403, "PERMISSION_DENIED", field=made["name"])
    # the same words as for a whole missing parent, kind aside
    parent = http.get("/v1beta/corpora/nothing/permissions/x")
    assert_envelope(parent, 403, "PERMISSION_DENIED")
    assert answer.json()["error"]["message"].replace("Permission " + made["name"], "X") == \
        parent.json()["error"]["message"].replace("Corpus corpora/nothing", "X")
