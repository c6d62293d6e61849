"""The v1beta methods beside the big resource families: model operations (list), generatedFiles and their
operations, corpus operations, files:register, dynamic/*:generateContent, and usage, journal and state for
them. generateAnswer has its own file (test_generate_answer.py)."""
from __future__ import annotations

import httpx
import pytest
from google.genai import errors, types

from support import assert_envelope, validate_response

VEO = "veo-3.1-generate-preview"
FLASH = "gemini-3.5-flash"


def _start_video(http, prompt: str = "waves on a beach") -> str:
    started = http.post(f"/v1beta/models/{VEO}:predictLongRunning", json={"instances": [{"prompt": prompt}]})
    assert started.status_code == 200, started.text
    return started.json()["name"]


# -- models/*/operations -------------------------------------------------------------------------------------

def test_model_operations_list_pages_and_follows_the_clock(gemini_mock, http):
    names = [_start_video(http, f"scene {i}") for i in range(3)]
    first = http.get(f"/v1beta/models/{VEO}/operations", params={"pageSize": 2})
    assert first.status_code == 200, first.text
    body = first.json()
    assert [op["name"] for op in body["operations"]] == names[:2]
    assert all(set(op) == {"name"} for op in body["operations"])   # still running
    rest = http.get(f"/v1beta/models/{VEO}/operations", params={"pageToken": body["nextPageToken"]}).json()
    assert [op["name"] for op in rest["operations"]] == names[2:] and "nextPageToken" not in rest
    validate_response("v1beta", "ListOperationsResponse", body)

    gemini_mock.advance(60)
    done = http.get(f"/v1beta/models/{VEO}/operations").json()["operations"]
    assert [op["done"] for op in done] == [True] * 3
    assert done[0] == http.get(f"/v1beta/{names[0]}").json()   # each as GET shows it


def test_model_operations_are_per_model_and_per_project(gemini_mock, http):
    _start_video(http)
    assert http.get("/v1beta/models/veo-3.1-fast-generate-preview/operations").json() == {"operations": []}
    other = {"x-goog-api-key": gemini_mock.other_key("other")}
    assert http.get(f"/v1beta/models/{VEO}/operations", headers=other).json() == {"operations": []}


def test_model_operations_of_an_unknown_model_is_the_catalog_404(http):
    assert_envelope(http.get("/v1beta/models/no-such-model/operations"), 404, "NOT_FOUND")
    assert_envelope(http.get(f"/v1beta/models/{VEO}/operations", params={"pageSize": "x"}), 400,
                    "INVALID_ARGUMENT", field="pageSize")


# -- generatedFiles ------------------------------------------------------------------------------------------

def _finished_video(gemini_mock, http) -> tuple[str, str]:
    """(operation id, generated file id) of a finished Veo operation."""
    name = _start_video(http)
    gemini_mock.advance(60)
    (sample,) = http.get(f"/v1beta/{name}").json()["response"]["generateVideoResponse"]["generatedSamples"]
    return name.rsplit("/", 1)[1], sample["video"]["uri"].split("/files/")[1].split(":")[0]


def test_generated_files_list_the_files_the_service_made(gemini_mock, http, beta_client):
    beta_client.files.upload(file=__file__, config={"mime_type": "text/plain"})   # uploaded: not listed
    op_id, file_id = _finished_video(gemini_mock, http)
    listed = http.get("/v1beta/generatedFiles")
    assert listed.status_code == 200, listed.text
    assert listed.json() == {"generatedFiles": [
        {"name": f"generatedFiles/{file_id}", "mimeType": "video/mp4", "state": "GENERATED"}]}
    other = {"x-goog-api-key": gemini_mock.other_key("other")}
    assert http.get("/v1beta/generatedFiles", headers=other).json() == {"generatedFiles": []}


def test_generated_files_page(gemini_mock, http):
    for prompt in ("one", "two", "three"):
        _start_video(http, prompt)
    gemini_mock.advance(60)
    for op in http.get(f"/v1beta/models/{VEO}/operations").json()["operations"]:
        assert op["done"]
    first = http.get("/v1beta/generatedFiles", params={"pageSize": 2}).json()
    second = http.get("/v1beta/generatedFiles", params={"pageToken": first["nextPageToken"]}).json()
    assert len(first["generatedFiles"]) == 2 and len(second["generatedFiles"]) == 1
    assert "nextPageToken" not in second


def test_generated_file_operation_is_the_operation_that_made_it(gemini_mock, http):
    op_id, file_id = _finished_video(gemini_mock, http)
    got = http.get(f"/v1beta/generatedFiles/{file_id}/operations/{op_id}")
    assert got.status_code == 200, got.text
    assert got.json() == http.get(f"/v1beta/models/{VEO}/operations/{op_id}").json()
    assert got.json()["done"] is True


def test_generated_file_operation_errors(gemini_mock, http, beta_client):
    op_id, file_id = _finished_video(gemini_mock, http)
    other_op = _start_video(http, "another").rsplit("/", 1)[1]
    assert_envelope(http.get(f"/v1beta/generatedFiles/{file_id}/operations/{other_op}"), 404, "NOT_FOUND")
    assert_envelope(http.get(f"/v1beta/generatedFiles/nosuchfile/operations/{op_id}"), 403, "PERMISSION_DENIED")
    uploaded = beta_client.files.upload(file=__file__, config={"mime_type": "text/plain"})
    assert_envelope(http.get(f"/v1beta/generatedFiles/{uploaded.name.split('/')[1]}/operations/{op_id}"), 403,
                    "PERMISSION_DENIED")
    other = {"x-goog-api-key": gemini_mock.other_key("other")}
    assert_envelope(http.get(f"/v1beta/generatedFiles/{file_id}/operations/{op_id}", headers=other), 403,
                    "PERMISSION_DENIED")


# -- corpora/*/operations/* ----------------------------------------------------------------------------------

def test_corpus_operations(gemini_mock, http):
    corpus = http.post("/v1beta/corpora", json={"displayName": "Notes"}).json()["name"]
    assert_envelope(http.get(f"/v1beta/{corpus}/operations/op1"), 404, "NOT_FOUND")
    assert_envelope(http.get("/v1beta/corpora/nosuch/operations/op1"), 403, "PERMISSION_DENIED")
    other = {"x-goog-api-key": gemini_mock.other_key("other")}
    assert_envelope(http.get(f"/v1beta/{corpus}/operations/op1", headers=other), 403, "PERMISSION_DENIED")


# -- files:register ------------------------------------------------------------------------------------------

def test_register_files_without_oauth_credentials_is_401(http):
    error = assert_envelope(http.post("/v1beta/files:register", json={"uris": ["gs://bucket/a.pdf"]}), 401,
                            "UNAUTHENTICATED")
    assert error["details"][0]["reason"] == "CREDENTIALS_MISSING"


def test_register_files_through_the_sdk_with_credentials_is_refused_for_an_unreadable_bucket(gemini_mock):
    from google.oauth2.credentials import Credentials

    client = gemini_mock.client(api_version="v1beta")
    with pytest.raises(errors.ClientError) as caught:
        client.files.register_files(auth=Credentials(token="ya29.test-token"), uris=["gs://my-bucket/doc.pdf"])
    assert caught.value.code == 403 and caught.value.status == "PERMISSION_DENIED"
    assert "gs://my-bucket/doc.pdf" in caught.value.message


@pytest.mark.parametrize("body, field", [
    ({}, "uris"), ({"uris": []}, "uris"), ({"uris": ["https://example.com/a.pdf"]}, "uris[0]"),
    ({"uris": ["gs://bucket/a.pdf", "gs://bucket"]}, "uris[1]"), ({"uris": "gs://b/a"}, "uris"),
])
def test_register_files_bad_uris(http, body, field):
    response = http.post("/v1beta/files:register", json=body, headers={"authorization": "Bearer ya29.x"})
    assert_envelope(response, 400, "INVALID_ARGUMENT", field=field)


def test_register_files_needs_a_key(gemini_mock):
    response = httpx.post(f"{gemini_mock.base_url}/v1beta/files:register", json={"uris": ["gs://b/a"]})
    assert response.status_code in (400, 401, 403) and "error" in response.json()


# -- dynamic/*:generateContent -------------------------------------------------------------------------------

def test_dynamic_generate_content_is_the_model_answer(http):
    body = {"contents": [{"role": "user", "parts": [{"text": "Name three rivers."}]}]}
    dynamic = http.post(f"/v1beta/dynamic/{FLASH}:generateContent", json=body)
    direct = http.post(f"/v1beta/models/{FLASH}:generateContent", json=body)
    assert dynamic.status_code == 200, dynamic.text
    assert dynamic.json()["candidates"] == direct.json()["candidates"]
    validate_response("v1beta", "GenerateContentResponse", dynamic.json())


def test_dynamic_stream_generate_content_sse(http):
    body = {"contents": [{"role": "user", "parts": [{"text": "Count to five."}]}]}
    streamed = http.post(f"/v1beta/dynamic/{FLASH}:streamGenerateContent", params={"alt": "sse"}, json=body)
    assert streamed.status_code == 200 and streamed.headers["content-type"].startswith("text/event-stream")
    assert streamed.text.startswith("data: ")
    as_array = http.post(f"/v1beta/dynamic/{FLASH}:streamGenerateContent", json=body)
    assert isinstance(as_array.json(), list) and as_array.json()


def test_dynamic_errors(http):
    body = {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}
    assert_envelope(http.post("/v1beta/dynamic/no-such-model:generateContent", json=body), 404, "NOT_FOUND")
    assert_envelope(http.post(f"/v1beta/dynamic/{FLASH}:generateContent", json={"contents": "x"}), 400,
                    "INVALID_ARGUMENT")
    assert_envelope(http.get(f"/v1beta/dynamic/{FLASH}:generateContent"), 404, "NOT_FOUND")


def test_dynamic_generation_is_counted_and_journaled(gemini_mock, http):
    gemini_mock.rules.reply("scripted answer", model=FLASH)
    body = {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}
    answer = http.post(f"/v1beta/dynamic/{FLASH}:generateContent", json=body).json()
    assert answer["candidates"][0]["content"]["parts"][0]["text"] == "scripted answer"
    (entry,) = [e for e in gemini_mock.requests if e["path"].startswith("/v1beta/dynamic/")]
    assert entry["status"] == 200 and entry["model"] == FLASH
    usage = http.get(f"{gemini_mock.base_url}/_mock/usage").json()
    assert FLASH in str(usage)


# -- state export and import ---------------------------------------------------------------------------------

def test_model_operations_survive_export_and_import(gemini_mock, http):
    running = _start_video(http, "first")
    op_id, file_id = _finished_video(gemini_mock, http)
    before = http.get(f"/v1beta/models/{VEO}/operations").json()
    saved = httpx.get(f"{gemini_mock.base_url}/_mock/state:export").json()
    assert httpx.post(f"{gemini_mock.base_url}/_mock/reset").status_code == 200
    assert http.get(f"/v1beta/models/{VEO}/operations").json() == {"operations": []}
    assert httpx.post(f"{gemini_mock.base_url}/_mock/state:import", json=saved).status_code == 200
    assert http.get(f"/v1beta/models/{VEO}/operations").json() == before
    assert http.get(f"/v1beta/generatedFiles/{file_id}/operations/{op_id}").json()["done"] is True
    assert running in {op["name"] for op in before["operations"]}


def test_sdk_operations_get_reads_a_listed_operation(gemini_mock, http, beta_client):
    name = _start_video(http)
    gemini_mock.advance(60)
    (listed,) = http.get(f"/v1beta/models/{VEO}/operations").json()["operations"]
    operation = beta_client.operations.get(types.GenerateVideosOperation(name=listed["name"]))
    assert operation.done and operation.name == name


def test_the_dashboard_state_shows_model_operations_and_environments(gemini_mock, http):
    name = _start_video(http)
    env_id = http.post("/v1beta/environments", json={}).json()["id"]
    state = httpx.get(f"{gemini_mock.base_url}/_mock/ui/state").json()
    assert state["errors"] == {}
    (operation,) = state["modelOperations"]
    assert operation["name"] == name and operation["done"] is False and operation["project"] == gemini_mock.project
    assert [e["id"] for e in state["environments"]] == [env_id]
    gemini_mock.advance(60)
    assert httpx.get(f"{gemini_mock.base_url}/_mock/ui/state").json()["modelOperations"][0]["done"] is True
    page = httpx.get(f"{gemini_mock.base_url}/_mock/ui")
    assert 'id="operations"' in page.text
