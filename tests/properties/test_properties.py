"""Properties of the whole emulator, driven through HTTP with the strategies of gemini_mockserver.pytest_plugin.strategies:
any schema-valid request gets a 200 or a 4xx envelope (never a 5xx), the same request gets the same
answer, and no key sees another key's resources."""
from __future__ import annotations

import itertools
import json

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gemini_mockserver.pytest_plugin import contract
from gemini_mockserver.pytest_plugin import strategies as gst

SETTINGS = settings(max_examples=100, deadline=None, database=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
_keys = itertools.count()


def fresh_key(prefix: str = "prop") -> str:
    return f"{prefix}-{next(_keys)}"


@pytest.fixture(scope="module")
def server(gemini_server):
    with httpx.Client(base_url=gemini_server.base_url, timeout=30) as client:
        yield gemini_server, client
    gemini_server.store.reset(config=True, clock=True)


def assert_ok_or_4xx(answer: httpx.Response) -> dict:
    assert answer.status_code < 500, answer.text
    body = answer.json()
    if answer.status_code != 200:
        assert set(body) == {"error"} and body["error"]["code"] == answer.status_code, body
        assert body["error"]["status"] and body["error"]["message"], body
    return body


def post(client: httpx.Client, path: str, body: dict, key: str, **params) -> httpx.Response:
    return client.post(path, json=body, headers={"x-goog-api-key": key}, params=params)


@SETTINGS
@given(body=gst.generate_content_requests(), model=gst.model_names(),
       version=st.sampled_from(["v1", "v1beta"]))
def test_any_valid_generate_request_is_answered_without_a_server_error(server, body, model, version):
    live, client = server
    answer = post(client, f"/{version}/models/{model}:generateContent", body, fresh_key())
    body = assert_ok_or_4xx(answer)
    if answer.status_code == 200:
        contract.assert_valid(body, "GenerateContentResponse", version=version)
    assert not live.store.internal_errors


@SETTINGS
@given(body=gst.generate_content_requests(max_turns=2))
def test_the_same_request_gets_the_same_answer(server, body):
    live, client = server
    path = "/v1beta/models/gemini-2.5-flash:generateContent"
    first = post(client, path, body, fresh_key())
    again = post(client, path, body, fresh_key())     # another project: no implicit cache in common
    assert first.status_code == again.status_code
    assert first.json() == again.json()
    stream = post(client, path.replace(":generateContent", ":streamGenerateContent"), body, fresh_key(), alt="sse")
    if first.status_code == 200:   # the stream says the same, in pieces
        events = contract.assert_valid_stream(stream.text, version="v1beta")
        for candidate in first.json()["candidates"]:
            index = candidate.get("index", 0)
            streamed = "".join(part.get("text", "") for event in events for c in event.get("candidates", [])
                               if c.get("index", 0) == index for part in c.get("content", {}).get("parts", []))
            whole = "".join(part.get("text", "") for part in candidate.get("content", {}).get("parts", []))
            assert streamed == whole


@settings(SETTINGS, max_examples=40)
@given(body=gst.count_tokens_requests(), embed=gst.embed_content_requests())
def test_counting_and_embedding_never_fail_on_the_server(server, body, embed):
    live, client = server
    key = fresh_key()
    assert_ok_or_4xx(post(client, "/v1beta/models/gemini-2.5-flash:countTokens", body, key))
    answer = post(client, "/v1beta/models/gemini-embedding-001:embedContent", embed, key)
    body = assert_ok_or_4xx(answer)
    if answer.status_code == 200:
        contract.assert_valid(body, "EmbedContentResponse")


@settings(SETTINGS, max_examples=40)
@given(batch=gst.batch_requests(), upload=gst.file_uploads(max_size=300))
def test_batches_and_files_are_accepted_or_refused_cleanly(server, batch, upload):
    live, client = server
    key = fresh_key()
    answer = post(client, "/v1beta/models/gemini-2.5-flash:batchGenerateContent", batch, key)
    body = assert_ok_or_4xx(answer)
    if answer.status_code == 200:
        contract.assert_valid(body, "GenerateContentBatchOperation")
        live.store.clock.advance(60)
        done = client.get(f"/v1beta/{body['name']}", headers={"x-goog-api-key": key})
        contract.assert_valid(assert_ok_or_4xx(done), "GenerateContentBatchOperation")
        live.store.clock.advance(-60)
    metadata, data = upload
    made = client.post("/upload/v1beta/files", params={"uploadType": "media"}, content=data,
                       headers={"x-goog-api-key": key, "Content-Type": metadata["mimeType"]})
    contract.assert_valid(assert_ok_or_4xx(made), "CreateFileResponse")
    created = post(client, "/v1beta/files", {"file": metadata}, key)
    if created.status_code == 200:
        contract.assert_valid(created.json(), "CreateFileResponse")


@settings(SETTINGS, max_examples=25)
@given(text=gst.texts(min_size=1, max_size=80), jsonl=gst.batch_jsonl(max_requests=2))
def test_no_key_sees_another_keys_resources(server, text, jsonl):
    live, client = server
    owner, stranger = fresh_key("owner"), fresh_key("stranger")
    as_owner, as_stranger = {"x-goog-api-key": owner}, {"x-goog-api-key": stranger}
    file = client.post("/upload/v1beta/files", params={"uploadType": "media"}, content=jsonl.encode(),
                       headers={**as_owner, "Content-Type": "application/jsonl"}).json()["file"]["name"]
    batch = post(client, "/v1beta/models/gemini-2.5-flash:batchGenerateContent",
                 {"batch": {"inputConfig": {"fileName": file}}}, owner).json()["name"]
    cache = post(client, "/v1beta/cachedContents", {
        "model": "models/gemini-2.5-flash", "ttl": "600s",
        "contents": [{"role": "user", "parts": [{"text": (text + " ") * (4200 // len(text) + 1)}]}]}, owner)
    assert cache.status_code == 200, cache.text
    cache = cache.json()["name"]
    corpus = post(client, "/v1beta/corpora", {"displayName": text[:100]}, owner).json()["name"]
    for collection, name in (("files", file), ("batches", batch), ("cachedContents", cache), ("corpora", corpus)):
        mine = client.get(f"/v1beta/{collection}", headers=as_owner).json()
        theirs = client.get(f"/v1beta/{collection}", headers=as_stranger).json()
        assert name in json.dumps(mine) and name not in json.dumps(theirs), collection
        assert client.get(f"/v1beta/{name}", headers=as_owner).status_code == 200
        refused = client.get(f"/v1beta/{name}", headers=as_stranger)
        assert refused.status_code in (403, 404), refused.text
        assert client.delete(f"/v1beta/{name}", headers=as_stranger).status_code in (403, 404)
        assert client.get(f"/v1beta/{name}", headers=as_owner).status_code == 200
    use = post(client, "/v1beta/models/gemini-2.5-flash:generateContent",
               {"contents": [{"parts": [{"fileData": {"fileUri": file, "mimeType": "text/plain"}}]}]}, stranger)
    assert use.status_code == 403
    use = post(client, "/v1beta/models/gemini-2.5-flash:generateContent",
               {"contents": [{"parts": [{"text": "q"}]}], "cachedContent": cache}, stranger)
    assert use.status_code == 403
