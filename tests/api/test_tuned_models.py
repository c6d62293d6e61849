"""Tuned models: creation as a long-running operation, training on the emulator's clock, get / list /
patch / delete / transferOwnership, generation with an ACTIVE model, and the google-genai SDK's paths."""
from __future__ import annotations

import json
import re

import pytest
from google.genai import errors

from gemini_mockserver.errors import missing_resource

from support import assert_envelope, validate_response

BASE = "models/gemini-1.5-flash-001-tuning"
EXAMPLES = [{"textInput": "Hello", "output": "Bonjour"}, {"textInput": "Goodbye", "output": "Au revoir"},
            {"textInput": "Thank you", "output": "Merci"}]


def tuned_body(**changes) -> dict:
    body = {
        "displayName": "My Custom Translator",
        "description": "English to French.",
        "baseModel": BASE,
        "tuningTask": {"trainingData": {"examples": {"examples": EXAMPLES}},
                       "hyperparameters": {"epochCount": 4, "batchSize": 2, "learningRate": 0.001}},
    }
    body.update(changes)
    return body


def create(http, model_id: str | None = "translator", version: str = "v1beta", **changes):
    params = {"tunedModelId": model_id} if model_id else {}
    return http.post(f"/{version}/tunedModels", params=params, json=tuned_body(**changes))


def metadata_of(operation: dict, version: str) -> dict:
    metadata = dict(operation["metadata"])
    prefix = "type.googleapis.com/google.ai.generativelanguage"
    assert metadata.pop("@type") == f"{prefix}.{version}.CreateTunedModelMetadata"
    validate_response(version, "CreateTunedModelMetadata", metadata)
    return metadata


@pytest.fixture
def active(http, gemini_mock):
    """An ACTIVE tuned model `tunedModels/translator`."""
    assert create(http).status_code == 200
    gemini_mock.advance(gemini_mock.store.config["tunedModel"]["trainingSeconds"])
    return "tunedModels/translator"


# -- create ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("version", ["v1beta", "v1beta3"])
def test_create_answers_a_long_running_operation(http, version):
    response = create(http, version=version)
    assert response.status_code == 200, response.text
    operation = response.json()
    validate_response(version, "Operation", operation)
    assert re.fullmatch(r"tunedModels/translator/operations/[a-z0-9]+", operation["name"])
    assert operation["done"] is False and "response" not in operation
    metadata = metadata_of(operation, version)
    # 3 examples in batches of 2: 2 steps an epoch, 4 epochs.
    assert metadata == {"tunedModel": "tunedModels/translator", "totalSteps": 8, "completedSteps": 0,
                        "completedPercent": 0.0, "snapshots": []}


def test_training_progresses_with_the_clock(http, gemini_mock):
    operation = create(http).json()
    training = gemini_mock.store.config["tunedModel"]["trainingSeconds"]
    model = http.get("/v1beta/tunedModels/translator").json()
    assert model["state"] == "CREATING" and "completeTime" not in model["tuningTask"]

    gemini_mock.advance(training / 2)
    half = http.get(f"/v1beta/{operation['name']}").json()
    metadata = metadata_of(half, "v1beta")
    assert half["done"] is False
    assert metadata["completedSteps"] == 4 and metadata["completedPercent"] == 50.0
    assert [s["step"] for s in metadata["snapshots"]] == [1, 2, 3, 4]
    assert [s["epoch"] for s in metadata["snapshots"]] == [1, 1, 2, 2]
    assert http.get("/v1beta/tunedModels/translator").json()["state"] == "CREATING"

    gemini_mock.advance(training / 2)
    done = http.get(f"/v1beta/{operation['name']}").json()
    validate_response("v1beta", "Operation", done)
    assert done["done"] is True
    assert metadata_of(done, "v1beta")["completedSteps"] == 8
    result = dict(done["response"])
    assert result.pop("@type") == "type.googleapis.com/google.ai.generativelanguage.v1beta.TunedModel"
    validate_response("v1beta", "TunedModel", result)
    assert result["state"] == "ACTIVE"
    assert result == http.get("/v1beta/tunedModels/translator").json()
    losses = [s["meanLoss"] for s in result["tuningTask"]["snapshots"]]
    assert len(losses) == 8 and losses[-1] < losses[0]


def test_operation_type_follows_the_url_version(http, gemini_mock):
    name = create(http).json()["name"]
    gemini_mock.advance(3600)
    operation = http.get(f"/v1beta3/{name}").json()
    validate_response("v1beta3", "Operation", operation)
    assert operation["metadata"]["@type"].endswith(".v1beta3.CreateTunedModelMetadata")
    assert operation["response"]["@type"] == "type.googleapis.com/google.ai.generativelanguage.v1beta3.TunedModel"


@pytest.mark.parametrize("version", ["v1beta", "v1beta3"])
def test_list_operations(http, version):
    name = create(http).json()["name"]
    listed = http.get(f"/{version}/tunedModels/translator/operations").json()
    validate_response(version, "ListOperationsResponse", listed)
    assert [op["name"] for op in listed["operations"]] == [name]


def test_unknown_operation_is_404(http):
    create(http)
    assert_envelope(http.get("/v1beta/tunedModels/translator/operations/nope"), 404, "NOT_FOUND")


def test_zero_training_seconds_is_active_at_once(http, gemini_mock):
    gemini_mock.store.config.patch({"tunedModel": {"trainingSeconds": 0}})
    operation = create(http).json()
    assert operation["done"] is True and operation["response"]["state"] == "ACTIVE"


def test_tuned_model_resource_fields(http, active):
    model = http.get(f"/v1beta/{active}").json()
    validate_response("v1beta", "TunedModel", model)
    assert model["name"] == active
    assert model["displayName"] == "My Custom Translator" and model["description"] == "English to French."
    assert model["baseModel"] == BASE
    assert (model["temperature"], model["topP"], model["topK"]) == (1.0, 0.95, 64)  # the base model's
    task = model["tuningTask"]
    assert task["hyperparameters"] == {"epochCount": 4, "batchSize": 2, "learningRate": 0.001}
    assert task["startTime"] == model["createTime"] and task["completeTime"] == model["updateTime"]
    assert {"step", "epoch", "meanLoss", "computeTime"} == set(task["snapshots"][0])
    assert "trainingData" not in task and "readerProjectNumbers" not in model


def test_default_hyperparameters(http):
    body = tuned_body()
    del body["tuningTask"]["hyperparameters"]
    http.post("/v1beta/tunedModels", params={"tunedModelId": "plain"}, json=body)
    assert http.get("/v1beta/tunedModels/plain").json()["tuningTask"]["hyperparameters"] == \
        {"epochCount": 5, "batchSize": 4, "learningRate": 0.001}


def test_v1beta3_resource_validates_against_its_schema(http, active):
    validate_response("v1beta3", "TunedModel", http.get(f"/v1beta3/{active}").json())
    validate_response("v1beta3", "ListTunedModelsResponse", http.get("/v1beta3/tunedModels").json())


@pytest.mark.parametrize("bad_id", ["1abc", "Abc", "abc-", "a_b", "a" * 41, "-abc", ""])
def test_invalid_tuned_model_id_is_400(http, bad_id):
    response = http.post("/v1beta/tunedModels", params={"tunedModelId": bad_id}, json=tuned_body())
    if bad_id == "":   # an empty id is no id: one is derived from the display name
        assert response.status_code == 200
    else:
        assert_envelope(response, 400, "INVALID_ARGUMENT", field="tunedModelId")


@pytest.mark.parametrize("good_id", ["a", "ab", "a1", "a-b", "a" * 40])
def test_valid_tuned_model_ids(http, good_id):
    assert create(http, good_id).json()["metadata"]["tunedModel"] == f"tunedModels/{good_id}"


def test_taken_id_is_409(http, gemini_mock):
    assert create(http).status_code == 200
    assert_envelope(create(http), 409, "ALREADY_EXISTS")
    # taken by another project's model too: names are global
    other = gemini_mock.other_key("other")
    response = http.post("/v1beta/tunedModels", params={"tunedModelId": "translator"}, json=tuned_body(),
                         headers={"x-goog-api-key": other})
    assert_envelope(response, 409, "ALREADY_EXISTS")


def test_id_is_derived_from_the_display_name_deterministically(http, gemini_mock):
    first = create(http, None).json()["metadata"]["tunedModel"]
    assert re.fullmatch(r"tunedModels/my-custom-translator-[a-z0-9]{5}", first)
    second = create(http, None).json()["metadata"]["tunedModel"]
    assert second != first and second.startswith("tunedModels/my-custom-translator-")
    gemini_mock.store.reset()
    assert create(http, None).json()["metadata"]["tunedModel"] == first


def test_id_without_a_display_name(http):
    name = create(http, None, displayName="").json()["metadata"]["tunedModel"]
    assert re.fullmatch(r"tunedModels/tuned-model-[a-z0-9]{5}", name)


@pytest.mark.parametrize("changes,field", [
    ({"baseModel": "models/gemini-2.5-flash"}, "baseModel"),
    ({"baseModel": None}, "baseModel"),
    ({"tuningTask": None}, "tuningTask"),
    ({"tuningTask": {"trainingData": {"examples": {"examples": []}}}}, "examples"),
    ({"tuningTask": {}}, "examples"),
    ({"tuningTask": {"trainingData": {"examples": {"examples": [{"textInput": "x"}]}}}}, "output"),
    ({"tuningTask": {"trainingData": {"examples": {"examples": [{"output": "x"}]}}}}, "textInput"),
    ({"tuningTask": {"trainingData": {"examples": {"examples": EXAMPLES}},
                     "hyperparameters": {"epochCount": 0}}}, "epochCount"),
    ({"tuningTask": {"trainingData": {"examples": {"examples": EXAMPLES}},
                     "hyperparameters": {"batchSize": -1}}}, "batchSize"),
    ({"tuningTask": {"trainingData": {"examples": {"examples": EXAMPLES}},
                     "hyperparameters": {"learningRate": 0}}}, "learningRate"),
    ({"displayName": "x" * 41}, "displayName"),
    ({"temperature": 2.5}, "temperature"),
    ({"topP": 1.5}, "topP"),
])
def test_invalid_create_is_400_naming_the_field(http, changes, field):
    response = create(http, **changes)
    assert_envelope(response, 400, "INVALID_ARGUMENT", field=field)


def test_unknown_base_model_is_404(http):
    assert_envelope(create(http, baseModel="models/no-such-model"), 404, "NOT_FOUND")


def test_legacy_base_model_can_be_tuned(http):
    response = create(http, baseModel="models/text-bison-001")
    assert response.status_code == 200, response.text


# -- read ------------------------------------------------------------------------------------------------

def test_list_pages_and_filters(http, gemini_mock):
    for model_id in ("m-one", "m-two", "m-three"):
        assert create(http, model_id).status_code == 200
    first = http.get("/v1beta/tunedModels", params={"pageSize": 2}).json()
    validate_response("v1beta", "ListTunedModelsResponse", first)
    assert [m["name"] for m in first["tunedModels"]] == ["tunedModels/m-one", "tunedModels/m-two"]
    second = http.get("/v1beta/tunedModels", params={"pageSize": 2, "pageToken": first["nextPageToken"]}).json()
    assert [m["name"] for m in second["tunedModels"]] == ["tunedModels/m-three"]
    assert "nextPageToken" not in second
    assert len(http.get("/v1beta/tunedModels", params={"filter": "owner:me"}).json()["tunedModels"]) == 3
    assert http.get("/v1beta/tunedModels", params={"filter": "readers:everyone"}).json()["tunedModels"] == []
    http.post("/v1beta/tunedModels/m-two/permissions", json={"granteeType": "EVERYONE", "role": "READER"})
    everyone = http.get("/v1beta/tunedModels", params={"filter": "readers:everyone"}).json()["tunedModels"]
    assert [m["name"] for m in everyone] == ["tunedModels/m-two"]


def test_bad_filter_is_400(http):
    assert_envelope(http.get("/v1beta/tunedModels", params={"filter": "color:blue"}), 400, "INVALID_ARGUMENT",
                    field="filter")


def test_other_projects_see_nothing(http, gemini_mock, active):
    other = {"x-goog-api-key": gemini_mock.other_key("stranger")}
    assert http.get("/v1beta/tunedModels", headers=other).json() == {"tunedModels": []}
    denied = assert_envelope(http.get(f"/v1beta/{active}", headers=other), 403, "PERMISSION_DENIED")
    assert denied["message"] == missing_resource("TunedModel", active).message


# -- patch -----------------------------------------------------------------------------------------------

def test_patch_with_update_mask(http, active, gemini_mock):
    before = http.get(f"/v1beta/{active}").json()
    gemini_mock.advance(10)
    response = http.patch(f"/v1beta/{active}", params={"updateMask": "description"},
                          json={"description": "Now better.", "displayName": "ignored: not in the mask"})
    assert response.status_code == 200, response.text
    after = response.json()
    validate_response("v1beta", "TunedModel", after)
    assert after["description"] == "Now better." and after["displayName"] == before["displayName"]
    assert after["updateTime"] > before["updateTime"]


def test_patch_infers_the_mask_from_the_body(http, active):
    after = http.patch(f"/v1beta/{active}", json={"displayName": "Renamed", "temperature": 0.5}).json()
    assert (after["displayName"], after["temperature"], after["description"]) == ("Renamed", 0.5,
                                                                                  "English to French.")


def test_patch_snake_case_mask(http, active):
    after = http.patch(f"/v1beta/{active}", params={"updateMask": "display_name,top_k"},
                       json={"display_name": "Snake", "top_k": 10}).json()
    assert (after["displayName"], after["topK"]) == ("Snake", 10)


@pytest.mark.parametrize("mask,body,field", [
    ("baseModel", {"baseModel": "models/text-bison-001"}, "updateMask"),
    ("tuningTask", {"tuningTask": {}}, "updateMask"),
    ("state", {}, "updateMask"),
    (None, {"baseModel": "models/text-bison-001"}, "baseModel"),
    ("displayName", {"displayName": "x" * 41}, "displayName"),
    ("temperature", {"temperature": 3.0}, "temperature"),
])
def test_patch_of_immutable_or_invalid_fields_is_400(http, active, mask, body, field):
    params = {"updateMask": mask} if mask else {}
    assert_envelope(http.patch(f"/v1beta/{active}", params=params, json=body), 400, "INVALID_ARGUMENT", field=field)


def test_patch_ignores_output_only_fields_when_inferring(http, active):
    current = http.get(f"/v1beta/{active}").json()
    response = http.patch(f"/v1beta/{active}", json={"name": current["name"], "state": "ACTIVE",
                                                     "baseModel": current["baseModel"], "description": "d"})
    assert response.status_code == 200, response.text
    assert response.json()["description"] == "d"


# -- delete ----------------------------------------------------------------------------------------------

def test_delete_then_every_access_is_the_missing_resource_403(http, active):
    response = http.delete(f"/v1beta/{active}")
    assert response.status_code == 200 and response.json() == {}
    expected = missing_resource("TunedModel", active).message
    for answer in (http.get(f"/v1beta/{active}"), http.delete(f"/v1beta/{active}"),
                   http.get(f"/v1beta/{active}/operations"),
                   http.post(f"/v1beta/{active}:generateText", json={"prompt": {"text": "Hello"}})):
        assert assert_envelope(answer, 403, "PERMISSION_DENIED")["message"] == expected
    assert http.get("/v1beta/tunedModels").json() == {"tunedModels": []}
    assert create(http).status_code == 200   # the name is free again


# -- generation ------------------------------------------------------------------------------------------

def test_generation_waits_for_training(http, gemini_mock):
    create(http)
    for path, body in ((":generateText", {"prompt": {"text": "Hello"}}),
                       (":generateContent", {"contents": [{"parts": [{"text": "Hello"}]}]})):
        error = assert_envelope(http.post(f"/v1beta/tunedModels/translator{path}", json=body), 400,
                                "FAILED_PRECONDITION")
        assert "CREATING" in error["message"]
    gemini_mock.advance(3600)
    assert http.post("/v1beta/tunedModels/translator:generateText", json={"prompt": {"text": "Hi"}}).status_code == 200


@pytest.mark.parametrize("version", ["v1beta", "v1beta3"])
def test_generate_text_reproduces_a_training_example(http, active, version):
    response = http.post(f"/{version}/{active}:generateText",
                         json={"prompt": {"text": "Hello"}, "temperature": 0.2, "candidateCount": 1})
    assert response.status_code == 200, response.text
    answer = response.json()
    validate_response(version, "GenerateTextResponse", answer)
    assert [c["output"] for c in answer["candidates"]] == ["Bonjour"]
    two = http.post(f"/{version}/{active}:generateText", json={"prompt": {"text": " Goodbye "}, "candidateCount": 2})
    assert [c["output"] for c in two.json()["candidates"]] == ["Au revoir", "Au revoir"]


def test_other_prompts_are_answered_deterministically(http, active):
    first = http.post(f"/v1beta/{active}:generateText", json={"prompt": {"text": "Tell me about Paris"}}).json()
    again = http.post(f"/v1beta/{active}:generateText", json={"prompt": {"text": "Tell me about Paris"}}).json()
    assert first == again
    assert first["candidates"][0]["output"] not in {e["output"] for e in EXAMPLES}


def test_generate_content_reproduces_a_training_example(http, active):
    response = http.post(f"/v1beta/{active}:generateContent",
                         json={"contents": [{"role": "user", "parts": [{"text": "Thank you"}]}]})
    assert response.status_code == 200, response.text
    answer = response.json()
    validate_response("v1beta", "GenerateContentResponse", answer)
    assert answer["candidates"][0]["content"]["parts"][0]["text"] == "Merci"


def test_stream_generate_content_reproduces_a_training_example(http, active):
    response = http.post(f"/v1beta/{active}:streamGenerateContent", params={"alt": "sse"},
                         json={"contents": [{"role": "user", "parts": [{"text": "Hello"}]}]})
    assert response.status_code == 200, response.text
    chunks = [json.loads(line[len("data: "):]) for line in response.text.split("\r\n\r\n") if line]
    assert "".join(c["candidates"][0]["content"]["parts"][0]["text"] for c in chunks) == "Bonjour"


def test_generate_text_validates_like_the_base_method(http, active):
    assert_envelope(http.post(f"/v1beta/{active}:generateText", json={"prompt": {"text": "Hi"}, "temperature": 5}),
                    400, "INVALID_ARGUMENT", field="temperature")


# -- transferOwnership -----------------------------------------------------------------------------------

def test_transfer_ownership(http, active, gemini_mock):
    new_owner_key = gemini_mock.other_key("heir")
    heir = gemini_mock.store.keys.identify(new_owner_key)
    me = gemini_mock.identity
    response = http.post(f"/v1beta/{active}:transferOwnership", json={"emailAddress": heir.email})
    assert response.status_code == 200 and response.json() == {}
    heir_headers = {"x-goog-api-key": new_owner_key}
    roles = {p.get("emailAddress"): p["role"]
             for p in http.get(f"/v1beta/{active}/permissions", headers=heir_headers).json()["permissions"]}
    assert roles == {heir.email: "OWNER", me.email: "WRITER"}
    # the previous owner is a WRITER now: may patch, may not delete
    assert http.patch(f"/v1beta/{active}", json={"description": "still mine?"}).status_code == 200
    assert_envelope(http.delete(f"/v1beta/{active}"), 403, "PERMISSION_DENIED")
    assert http.delete(f"/v1beta/{active}", headers=heir_headers).status_code == 200


def test_transfer_needs_an_email(http, active):
    assert_envelope(http.post(f"/v1beta/{active}:transferOwnership", json={}), 400, "INVALID_ARGUMENT",
                    field="emailAddress")


# -- the google-genai SDK --------------------------------------------------------------------------------

def test_sdk_models_get_list_update_delete(http, active, beta_client):
    model = beta_client.models.get(model=active)
    assert model.name == active and model.display_name == "My Custom Translator"
    assert model.tuned_model_info.base_model == BASE
    listed = list(beta_client.models.list(config={"query_base": False}))
    assert [m.name for m in listed] == [active]
    updated = beta_client.models.update(model=active, config={"display_name": "New name", "description": "dd"})
    assert (updated.display_name, updated.description) == ("New name", "dd")
    beta_client.models.delete(model=active)
    with pytest.raises(errors.ClientError) as caught:
        beta_client.models.get(model=active)
    assert caught.value.code == 403


def test_sdk_list_pages_through_tuned_models(http, gemini_mock, beta_client):
    gemini_mock.store.config.patch({"tunedModel": {"trainingSeconds": 0}})
    for i in range(5):
        create(http, f"model-{i}")
    names = [m.name for m in beta_client.models.list(config={"query_base": False, "page_size": 2})]
    assert names == [f"tunedModels/model-{i}" for i in range(5)]


def test_sdk_tunings_get(http, active, beta_client):
    job = beta_client.tunings.get(name=active)
    assert job.name == active and job.state.name == "JOB_STATE_SUCCEEDED"
    assert job.base_model == BASE


@pytest.mark.filterwarnings("ignore:The SDK's tuning implementation is experimental")
def test_sdk_tunings_tune_is_a_400_because_it_drops_the_examples(beta_client):
    from google.genai import types
    dataset = types.TuningDataset(examples=[types.TuningExample(text_input="Hello", output="Bonjour")])
    with pytest.raises(errors.ClientError) as caught:
        beta_client.tunings.tune(base_model=BASE, training_dataset=dataset,
                                 config=types.CreateTuningJobConfig(tuned_model_display_name="mine", epoch_count=5))
    assert caught.value.code == 400 and "examples" in caught.value.message


def test_tuning_from_a_tuned_model(http, active, gemini_mock):
    body = tuned_body(tunedModelSource={"tunedModel": active})
    del body["baseModel"]
    body["tuningTask"]["trainingData"]["examples"]["examples"] = [{"textInput": "Yes", "output": "Oui"}]
    response = http.post("/v1beta/tunedModels", params={"tunedModelId": "second"}, json=body)
    assert response.status_code == 200, response.text
    gemini_mock.advance(3600)
    model = http.get("/v1beta/tunedModels/second").json()
    validate_response("v1beta", "TunedModel", model)
    assert model["tunedModelSource"] == {"tunedModel": active, "baseModel": BASE} and "baseModel" not in model
    answer = http.post("/v1beta/tunedModels/second:generateText", json={"prompt": {"text": "Yes"}}).json()
    assert answer["candidates"][0]["output"] == "Oui"
    # both a base model and a source: the oneof is refused by the schema
    both = http.post("/v1beta/tunedModels", json={**body, "baseModel": BASE})
    assert_envelope(both, 400, "INVALID_ARGUMENT")
    stranger = {"x-goog-api-key": gemini_mock.other_key("stranger")}
    assert_envelope(http.post("/v1beta/tunedModels", json=body, headers=stranger), 403, "PERMISSION_DENIED")
