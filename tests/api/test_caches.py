"""Context caching: explicit cachedContents (create, get, list, update, delete, TTLs and expiry by the mock
clock and by freezegun), generation on a cache with cached-token accounting, and implicit caching."""
from __future__ import annotations

import datetime as dt
import io

import freezegun
import pytest
from google.genai import errors, types

from gemini_mockserver.generation.tokens import count_text

from support import assert_envelope, mp4_bytes, validate_response
from support.documents import document

MODEL = "gemini-2.5-flash"          # explicit minimum 1,024 tokens, implicit minimum 1,024
PRO = "gemini-2.5-pro"              # explicit minimum 2,048, implicit minimum 4,096
VERSIONED = "gemini-2.0-flash-001"  # explicit minimum 4,096, no implicit caching
NOT_FOUND = "CachedContent not found (or permission denied)"


def parse_time(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def seconds_between(start: str, end: str) -> float:
    return (parse_time(end) - parse_time(start)).total_seconds()


def client_error(excinfo, code: int, status: str) -> str:
    error = excinfo.value
    assert isinstance(error, errors.ClientError), error
    assert error.code == code and error.status == status, (error.code, error.status, error.message)
    return error.message


def create(http, *, model: str = MODEL, tokens: int = 1500, topic: str = "ocean", **fields) -> dict:
    body = {"model": f"models/{model}", "contents": [{"role": "user", "parts": [{"text": document(tokens, topic)}]}],
            **fields}
    response = http.post("/v1beta/cachedContents", json=body)
    assert response.status_code == 200, response.text
    return response.json()


def ask(cache: str | None, text: str = "What is this about?") -> dict:
    body: dict = {"contents": [{"role": "user", "parts": [{"text": text}]}]}
    if cache:
        body["cachedContent"] = cache
    return body


@pytest.fixture(params=["v1", "v1beta"])
def sdk(request, gemini_mock):
    return gemini_mock.client() if request.param == "v1" else gemini_mock.client(api_version="v1beta")


# -- explicit caches through the SDK ------------------------------------------------------------------

def test_create_get_list_update_delete(sdk, gemini_mock):
    text = document(1500)
    cache = sdk.caches.create(model=MODEL, config=types.CreateCachedContentConfig(
        display_name="my cache", system_instruction="You are a careful reader.", contents=[text], ttl="300s"))
    assert cache.name.startswith("cachedContents/")
    assert cache.model == f"models/{MODEL}"
    assert cache.display_name == "my cache"
    assert cache.usage_metadata.total_token_count == 1500 + count_text("You are a careful reader.")
    assert cache.create_time == cache.update_time
    assert cache.expire_time - cache.create_time == dt.timedelta(seconds=300)

    fetched = sdk.caches.get(name=cache.name)
    assert fetched == cache
    assert sdk.caches.get(name=cache.name.split("/")[1]).name == cache.name  # a bare id works too
    assert [c.name for c in sdk.caches.list()] == [cache.name]

    gemini_mock.advance(60)
    updated = sdk.caches.update(name=cache.name, config=types.UpdateCachedContentConfig(ttl="600s"))
    assert updated.update_time > cache.update_time
    assert updated.expire_time - updated.update_time == dt.timedelta(seconds=600)
    assert updated.create_time == cache.create_time

    in10min = gemini_mock.now() + dt.timedelta(minutes=10)
    moved = sdk.caches.update(name=cache.name, config=types.UpdateCachedContentConfig(expire_time=in10min))
    assert moved.expire_time == in10min
    assert sdk.caches.get(name=cache.name).expire_time == in10min

    sdk.caches.delete(name=cache.name)
    with pytest.raises(errors.ClientError) as excinfo:
        sdk.caches.get(name=cache.name)
    assert client_error(excinfo, 403, "PERMISSION_DENIED") == NOT_FOUND
    assert list(sdk.caches.list()) == []


def test_generate_content_on_a_cache_reports_cached_tokens(sdk):
    cache = sdk.caches.create(model=MODEL, config=types.CreateCachedContentConfig(
        system_instruction="You answer questions about the document.", contents=[document(2000)], ttl="300s"))
    total = cache.usage_metadata.total_token_count
    question = "Summarise the document please"
    response = sdk.models.generate_content(model=MODEL, contents=question,
                                           config=types.GenerateContentConfig(cached_content=cache.name))
    usage = response.usage_metadata
    assert usage.cached_content_token_count == total
    assert usage.prompt_token_count == total + count_text(question)
    assert [(d.modality.value, d.token_count) for d in usage.cache_tokens_details] == [("TEXT", total)]
    assert response.text

    again = sdk.models.generate_content(model=MODEL, contents=question,
                                        config=types.GenerateContentConfig(cached_content=cache.name))
    assert again.text == response.text
    plain = sdk.models.generate_content(model=MODEL, contents=question)
    assert plain.text != response.text  # the cached prefix is part of the prompt
    assert not plain.usage_metadata.cached_content_token_count


def test_streaming_on_a_cache_reports_cached_tokens(sdk):
    cache = sdk.caches.create(model=MODEL, config=types.CreateCachedContentConfig(contents=[document(1200)]))
    chunks = list(sdk.models.generate_content_stream(
        model=MODEL, contents="Tell me more", config=types.GenerateContentConfig(cached_content=cache.name)))
    assert len(chunks) >= 2
    assert all(c.usage_metadata.cached_content_token_count == 1200 for c in chunks)
    assert chunks[-1].usage_metadata.prompt_token_count == 1200 + count_text("Tell me more")


def test_different_caches_give_different_answers(beta_client):
    first = beta_client.caches.create(model=MODEL, config={"contents": [document(1100, "ocean")]})
    second = beta_client.caches.create(model=MODEL, config={"contents": [document(1100, "desert")]})
    answers = [beta_client.models.generate_content(model=MODEL, contents="What is it about?",
                                                   config={"cached_content": c.name}).text for c in (first, second)]
    assert answers[0] != answers[1]


def test_count_tokens_with_a_cache(http):
    cache = create(http, tokens=1300)
    request = {"generateContentRequest": {"model": f"models/{MODEL}", "cachedContent": cache["name"],
                                          "contents": [{"role": "user", "parts": [{"text": "one two three"}]}]}}
    for version in ("v1beta", "v1"):
        body = http.post(f"/{version}/models/{MODEL}:countTokens", json=request).json()
        assert body["cachedContentTokenCount"] == 1300, body
        assert body["totalTokens"] == 1303
        validate_response("v1beta", "CountTokensResponse", body)


def test_default_ttl_is_one_hour_and_configurable(http, gemini_mock):
    cache = create(http)
    assert seconds_between(cache["createTime"], cache["expireTime"]) == 3600
    gemini_mock.store.config.patch({"cache": {"defaultTtlSeconds": 120}})
    cache = create(http)
    assert seconds_between(cache["createTime"], cache["expireTime"]) == 120


def test_fractional_ttl_and_expire_time_with_offset(http, gemini_mock):
    cache = create(http, ttl="1.5s")
    assert seconds_between(cache["createTime"], cache["expireTime"]) == 1.5
    when = (gemini_mock.now() + dt.timedelta(hours=2)).replace(microsecond=0)
    cache = create(http, expire_time=when.astimezone(dt.timezone(dt.timedelta(hours=2))).isoformat())
    assert parse_time(cache["expireTime"]) == when
    assert cache["expireTime"].endswith("Z")


def test_ttl_and_expire_time_together_is_400(http, gemini_mock):
    when = (gemini_mock.now() + dt.timedelta(hours=1)).isoformat()
    response = http.post("/v1beta/cachedContents", json={
        "model": f"models/{MODEL}", "contents": [{"parts": [{"text": document(1100)}]}],
        "ttl": "60s", "expireTime": when})
    assert_envelope(response, 400, "INVALID_ARGUMENT")


@pytest.mark.parametrize("fields", [{"ttl": "soon"}, {"ttl": "-5s"}, {"ttl": "0s"},
                                    {"expireTime": "2001-01-01T00:00:00Z"}, {"expireTime": "tomorrow"}])
def test_bad_expiry_is_400(http, fields):
    body = {"model": f"models/{MODEL}", "contents": [{"parts": [{"text": document(1100)}]}], **fields}
    assert_envelope(http.post("/v1beta/cachedContents", json=body), 400, "INVALID_ARGUMENT")


def test_snake_case_body_is_accepted(http):
    body = {"model": f"models/{MODEL}", "display_name": "snake", "ttl": "90s",
            "system_instruction": {"parts": [{"text": "be brief"}]},
            "contents": [{"role": "user", "parts": [{"text": document(1100)}]}]}
    cache = http.post("/v1beta/cachedContents", json=body).json()
    assert cache["displayName"] == "snake"
    assert cache["usageMetadata"]["totalTokenCount"] == 1100 + count_text("be brief")


def test_get_and_list_return_only_metadata(http):
    created = create(http, displayName="meta", ttl="300s",
                     systemInstruction={"parts": [{"text": "secret instructions"}]},
                     tools=[{"functionDeclarations": [{"name": "lookup", "description": "Looks a thing up"}]}],
                     toolConfig={"functionCallingConfig": {"mode": "AUTO"}})
    expected = {"name", "model", "displayName", "createTime", "updateTime", "expireTime", "usageMetadata"}
    fetched = http.get(f"/v1beta/{created['name']}").json()
    listed = http.get("/v1beta/cachedContents").json()
    assert set(created) == expected and fetched == created
    assert listed["cachedContents"] == [created]
    assert "secret" not in http.get("/v1beta/cachedContents").text
    for payload in (created, fetched):
        validate_response("v1beta", "CachedContent", payload)
    validate_response("v1beta", "ListCachedContentsResponse", listed)


def test_list_pages(http, beta_client):
    names = [create(http, tokens=1024 + i)["name"] for i in range(5)]
    first = http.get("/v1beta/cachedContents", params={"pageSize": 2}).json()
    assert [c["name"] for c in first["cachedContents"]] == names[:2]
    second = http.get("/v1beta/cachedContents", params={"pageSize": 2, "pageToken": first["nextPageToken"]}).json()
    third = http.get("/v1beta/cachedContents", params={"pageSize": 2, "pageToken": second["nextPageToken"]}).json()
    assert [c["name"] for c in second["cachedContents"] + third["cachedContents"]] == names[2:]
    assert "nextPageToken" not in third
    assert [c.name for c in beta_client.caches.list(config={"page_size": 2})] == names
    assert_envelope(http.get("/v1beta/cachedContents", params={"pageToken": "bogus"}), 400, "INVALID_ARGUMENT")


# -- update ------------------------------------------------------------------------------------------

def test_patch_infers_the_mask_from_the_body(http, gemini_mock):
    cache = create(http, ttl="300s")
    patched = http.patch(f"/v1beta/{cache['name']}", json={"ttl": "1000s"}).json()
    assert seconds_between(patched["updateTime"], patched["expireTime"]) == 1000
    when = (gemini_mock.now() + dt.timedelta(days=2)).replace(microsecond=0)
    patched = http.patch(f"/v1beta/{cache['name']}", json={"expire_time": when.isoformat()}).json()
    assert parse_time(patched["expireTime"]) == when
    validate_response("v1beta", "CachedContent", patched)


def test_patch_with_an_update_mask(http, gemini_mock):
    cache = create(http, ttl="300s")
    patched = http.patch(f"/v1beta/{cache['name']}", params={"updateMask": "ttl"}, json={"ttl": "50s"}).json()
    assert seconds_between(patched["updateTime"], patched["expireTime"]) == 50
    when = (gemini_mock.now() + dt.timedelta(hours=3)).replace(microsecond=0)
    patched = http.patch(f"/v1beta/{cache['name']}", params={"updateMask": "expire_time"},
                         json={"expireTime": when.isoformat()}).json()
    assert parse_time(patched["expireTime"]) == when
    response = http.patch(f"/v1beta/{cache['name']}", params={"updateMask": "displayName"},
                          json={"displayName": "renamed"})
    assert_envelope(response, 400, "INVALID_ARGUMENT", field="display_name")


@pytest.mark.parametrize("body", [
    {"displayName": "renamed"},
    {"model": "models/gemini-2.5-pro"},
    {"contents": [{"parts": [{"text": "new"}]}]},
    {"systemInstruction": {"parts": [{"text": "new"}]}},
    {"ttl": "60s", "displayName": "renamed"},
    {},
    {"ttl": "60s", "expireTime": "2100-01-01T00:00:00Z"},
])
def test_patch_of_anything_but_the_expiry_is_400(http, body):
    cache = create(http, ttl="300s", displayName="original")
    assert_envelope(http.patch(f"/v1beta/{cache['name']}", json=body), 400, "INVALID_ARGUMENT")
    assert http.get(f"/v1beta/{cache['name']}").json() == cache


# -- model and size rules ----------------------------------------------------------------------------

def test_unversioned_model_without_caching_is_400(sdk):
    with pytest.raises(errors.ClientError) as excinfo:
        sdk.caches.create(model="gemini-2.0-flash", config={"contents": [document(5000)]})
    assert "createCachedContent" in client_error(excinfo, 400, "INVALID_ARGUMENT")


def test_model_errors(http):
    body = {"contents": [{"parts": [{"text": document(5000)}]}]}
    assert_envelope(http.post("/v1beta/cachedContents", json=body), 400, "INVALID_ARGUMENT", field="model")
    assert_envelope(http.post("/v1beta/cachedContents", json={**body, "model": "models/gemini-9-ultra"}),
                    404, "NOT_FOUND")
    assert_envelope(http.post("/v1beta/cachedContents", json={**body, "model": "models/text-embedding-004"}),
                    400, "INVALID_ARGUMENT")


@pytest.mark.parametrize("model, minimum", [(MODEL, 1024), ("gemini-2.5-flash-lite", 1024), (PRO, 2048),
                                            (VERSIONED, 4096), ("gemini-1.5-flash-001", 4096)])
def test_minimum_cache_size(http, sdk, model, minimum):
    fact = http.get(f"/v1beta/models/{model}")
    assert fact.status_code == 200 and "emulator" not in fact.json()
    response = http.post("/v1beta/cachedContents", json={
        "model": f"models/{model}", "contents": [{"parts": [{"text": document(minimum - 1)}]}]})
    error = assert_envelope(response, 400, "INVALID_ARGUMENT")
    assert f"min_total_token_count={minimum}" in error["message"]
    assert f"total_token_count={minimum - 1}" in error["message"]
    with pytest.raises(errors.ClientError) as excinfo:
        sdk.caches.create(model=model, config={"contents": [document(minimum - 1)]})
    assert str(minimum) in client_error(excinfo, 400, "INVALID_ARGUMENT")
    cache = sdk.caches.create(model=model, config={"contents": [document(minimum)]})
    assert cache.usage_metadata.total_token_count == minimum


def test_system_instruction_and_tools_count_toward_the_size(http):
    system = {"parts": [{"text": document(600, "rules")}]}
    cache = create(http, tokens=500, systemInstruction=system)
    assert cache["usageMetadata"]["totalTokenCount"] == 1100


# -- using a cache -----------------------------------------------------------------------------------

def test_cache_with_another_model_is_400(http):
    cache = create(http)
    response = http.post(f"/v1beta/models/{PRO}:generateContent", json=ask(cache["name"]))
    error = assert_envelope(response, 400, "INVALID_ARGUMENT")
    assert cache["model"] in error["message"] and f"models/{PRO}" in error["message"]


def test_system_instruction_beside_a_cache_is_400(sdk):
    cache = sdk.caches.create(model=MODEL, config={"contents": [document(1100)]})
    with pytest.raises(errors.ClientError) as excinfo:
        sdk.models.generate_content(model=MODEL, contents="hi", config=types.GenerateContentConfig(
            cached_content=cache.name, system_instruction="Be someone else"))
    assert "system_instruction" in client_error(excinfo, 400, "INVALID_ARGUMENT")


@pytest.mark.parametrize("extra", [
    {"systemInstruction": {"parts": [{"text": "x"}]}},
    {"tools": [{"functionDeclarations": [{"name": "f", "description": "d"}]}]},
    {"toolConfig": {"functionCallingConfig": {"mode": "NONE"}}},
])
@pytest.mark.parametrize("method", ["generateContent", "streamGenerateContent"])
def test_fields_that_belong_in_the_cache_are_400_beside_it(http, extra, method):
    cache = create(http)
    response = http.post(f"/v1beta/models/{MODEL}:{method}", json={**ask(cache["name"]), **extra})
    assert_envelope(response, 400, "INVALID_ARGUMENT")


def test_tools_in_the_cache_are_used(http):
    tools = [{"functionDeclarations": [{"name": "get_weather", "description": "Weather in a city",
                                        "parameters": {"type": "OBJECT", "properties": {
                                            "city": {"type": "STRING"}}, "required": ["city"]}}]}]
    cache = create(http, tools=tools, toolConfig={"functionCallingConfig": {"mode": "ANY"}})
    body = http.post(f"/v1beta/models/{MODEL}:generateContent", json=ask(cache["name"], "weather?")).json()
    call = body["candidates"][0]["content"]["parts"][-1]["functionCall"]
    assert call["name"] == "get_weather"
    validate_response("v1beta", "GenerateContentResponse", body)


def test_another_projects_cache_is_403_and_leaks_nothing(gemini_mock, http):
    cache = create(http)
    stranger = gemini_mock.client(api_key=gemini_mock.other_key("stranger"), api_version="v1beta")
    with pytest.raises(errors.ClientError) as excinfo:
        stranger.caches.get(name=cache["name"])
    assert client_error(excinfo, 403, "PERMISSION_DENIED") == NOT_FOUND
    with pytest.raises(errors.ClientError) as excinfo:
        stranger.caches.update(name=cache["name"], config={"ttl": "10s"})
    assert client_error(excinfo, 403, "PERMISSION_DENIED") == NOT_FOUND
    with pytest.raises(errors.ClientError) as excinfo:
        stranger.caches.delete(name=cache["name"])
    assert client_error(excinfo, 403, "PERMISSION_DENIED") == NOT_FOUND
    with pytest.raises(errors.ClientError) as excinfo:
        stranger.models.generate_content(model=MODEL, contents="hi", config={"cached_content": cache["name"]})
    assert client_error(excinfo, 403, "PERMISSION_DENIED") == NOT_FOUND
    assert list(stranger.caches.list()) == []
    # the same answer as for a cache that never existed
    with pytest.raises(errors.ClientError) as excinfo:
        stranger.caches.get(name="cachedContents/doesnotexist")
    assert client_error(excinfo, 403, "PERMISSION_DENIED") == NOT_FOUND
    assert http.get(f"/v1beta/{cache['name']}").json() == cache


def test_unknown_cache_in_generation_is_403(http):
    response = http.post(f"/v1beta/models/{MODEL}:generateContent", json=ask("cachedContents/nope"))
    error = assert_envelope(response, 403, "PERMISSION_DENIED")
    assert error["message"] == NOT_FOUND


# -- expiry ------------------------------------------------------------------------------------------

def assert_gone(http, name: str) -> None:
    for response in (http.get(f"/v1beta/{name}"), http.patch(f"/v1beta/{name}", json={"ttl": "60s"}),
                     http.delete(f"/v1beta/{name}"),
                     http.post(f"/v1beta/models/{MODEL}:generateContent", json=ask(name)),
                     http.post(f"/v1beta/models/{MODEL}:streamGenerateContent", json=ask(name),
                               params={"alt": "sse"})):
        assert assert_envelope(response, 403, "PERMISSION_DENIED")["message"] == NOT_FOUND
    assert name not in [c["name"] for c in http.get("/v1beta/cachedContents").json()["cachedContents"]]


def test_expiry_by_advancing_the_mock_clock(http, gemini_mock):
    short = create(http, ttl="300s")
    long = create(http, ttl="900s")
    gemini_mock.advance(299)
    assert http.get(f"/v1beta/{short['name']}").status_code == 200
    gemini_mock.advance(1)
    assert_gone(http, short["name"])
    assert [c["name"] for c in http.get("/v1beta/cachedContents").json()["cachedContents"]] == [long["name"]]
    gemini_mock.advance(dt.timedelta(minutes=10))
    assert_gone(http, long["name"])


def test_exactly_at_expire_time_the_cache_is_gone(http, gemini_mock):
    cache = create(http, ttl="60s")
    gemini_mock.set_time(parse_time(cache["expireTime"]))
    assert_gone(http, cache["name"])


def test_update_extends_the_life(http, gemini_mock):
    cache = create(http, ttl="300s")
    gemini_mock.advance(250)
    http.patch(f"/v1beta/{cache['name']}", json={"ttl": "300s"})
    gemini_mock.advance(200)  # past the first expiry
    assert http.get(f"/v1beta/{cache['name']}").status_code == 200
    gemini_mock.advance(100)
    assert_gone(http, cache["name"])


def test_expiry_through_the_control_plane_clock(http, gemini_mock):
    cache = create(http, ttl="120s")
    assert http.post("/_mock/clock", json={"advanceSeconds": 121}).status_code == 200
    assert_gone(http, cache["name"])


def test_expiry_by_freezegun_with_tick(sdk, gemini_mock):
    cache = sdk.caches.create(model=MODEL, config={"contents": [document(1100)], "ttl": "300s"})
    later = dt.datetime.now(dt.timezone.utc) + dt.timedelta(minutes=10)
    with freezegun.freeze_time(later, tick=True):
        with pytest.raises(errors.ClientError) as excinfo:
            sdk.caches.get(name=cache.name)
        assert client_error(excinfo, 403, "PERMISSION_DENIED") == NOT_FOUND
        assert list(sdk.caches.list()) == []
        with pytest.raises(errors.ClientError):
            sdk.models.generate_content(model=MODEL, contents="hi", config={"cached_content": cache.name})
    # state is computed from the clock when read: back in the present the cache is alive again
    assert sdk.caches.get(name=cache.name).name == cache.name


def test_expiry_by_freezegun_frozen_and_ticked_by_hand(beta_client):
    with freezegun.freeze_time("2025-01-27T16:00:00+00:00") as frozen:
        cache = beta_client.caches.create(model=MODEL, config={"contents": [document(1100)], "ttl": "300s"})
        assert cache.create_time == dt.datetime(2025, 1, 27, 16, 0, tzinfo=dt.timezone.utc)
        assert cache.expire_time == dt.datetime(2025, 1, 27, 16, 5, tzinfo=dt.timezone.utc)
        frozen.tick(dt.timedelta(seconds=299))
        assert beta_client.caches.get(name=cache.name).name == cache.name
        frozen.tick(dt.timedelta(seconds=1))
        with pytest.raises(errors.ClientError) as excinfo:
            beta_client.caches.get(name=cache.name)
        client_error(excinfo, 403, "PERMISSION_DENIED")


def test_expiry_by_time_machine(beta_client):
    time_machine = pytest.importorskip("time_machine")
    cache = beta_client.caches.create(model=MODEL, config={"contents": [document(1100)], "ttl": "60s"})
    with time_machine.travel(dt.datetime.now(dt.timezone.utc) + dt.timedelta(minutes=2)):
        with pytest.raises(errors.ClientError) as excinfo:
            beta_client.caches.get(name=cache.name)
        client_error(excinfo, 403, "PERMISSION_DENIED")


def test_long_expired_caches_are_dropped(http, gemini_mock):
    cache = create(http, ttl="60s")
    gemini_mock.advance(dt.timedelta(days=2))
    create(http, ttl="60s")  # creating sweeps caches that expired more than a day ago
    gemini_mock.advance(dt.timedelta(days=-2))
    assert_envelope(http.get(f"/v1beta/{cache['name']}"), 403, "PERMISSION_DENIED")


# -- files in cached contents ------------------------------------------------------------------------

def upload_text(client, text: str):
    return client.files.upload(file=io.BytesIO(text.encode()), config={"mime_type": "text/plain"})


def test_file_parts_count_at_create_time_and_survive_the_file(beta_client):
    file = upload_text(beta_client, document(900, "ledger"))
    cache = beta_client.caches.create(model=MODEL, config=types.CreateCachedContentConfig(
        contents=[types.Content(role="user", parts=[
            types.Part.from_uri(file_uri=file.uri, mime_type="text/plain"),
            types.Part(text=document(300, "notes"))])]))
    assert cache.usage_metadata.total_token_count == 1200
    first = beta_client.models.generate_content(model=MODEL, contents="what is in the ledger?",
                                                config={"cached_content": cache.name})
    assert first.usage_metadata.cached_content_token_count == 1200
    beta_client.files.delete(name=file.name)
    after = beta_client.models.generate_content(model=MODEL, contents="what is in the ledger?",
                                                config={"cached_content": cache.name})
    assert after.usage_metadata.cached_content_token_count == 1200
    assert after.text == first.text


def test_a_missing_file_in_the_contents_is_refused(http):
    response = http.post("/v1beta/cachedContents", json={
        "model": f"models/{MODEL}",
        "contents": [{"parts": [{"fileData": {"fileUri": "files/nosuchfile", "mimeType": "text/plain"}},
                                {"text": document(1100)}]}]})
    assert response.status_code in (400, 403, 404), response.text
    assert http.get("/v1beta/cachedContents").json()["cachedContents"] == []


# -- implicit caching --------------------------------------------------------------------------------

def implicit_request(prefix_tokens: int, question: str, topic: str = "ocean") -> dict:
    return {"systemInstruction": {"parts": [{"text": "You answer briefly."}]},
            "contents": [{"role": "user", "parts": [{"text": document(prefix_tokens, topic)}]},
                         {"role": "model", "parts": [{"text": "I have read it."}]},
                         {"role": "user", "parts": [{"text": question}]}]}


def cached_count(http, request: dict, model: str = MODEL) -> int:
    response = http.post(f"/v1beta/models/{model}:generateContent", json=request)
    assert response.status_code == 200, response.text
    return response.json()["usageMetadata"].get("cachedContentTokenCount", 0)


def prefix_tokens(request: dict, contents: int) -> int:
    texts = [request["systemInstruction"]["parts"][0]["text"]]
    texts += [c["parts"][0]["text"] for c in request["contents"][:contents]]
    return sum(count_text(t) for t in texts)


def test_implicit_hit_on_a_repeated_prefix(http):
    first = implicit_request(1500, "What is the first point?")
    second = implicit_request(1500, "And the second one?")
    assert cached_count(http, first) == 0
    assert cached_count(http, second) == prefix_tokens(second, 2)
    # the whole of a repeated request is a prefix too
    assert cached_count(http, second) == prefix_tokens(second, 3)


def test_implicit_hit_changes_usage_only(http, sdk):
    request = implicit_request(1500, "Why?")
    first = http.post(f"/v1beta/models/{MODEL}:generateContent", json=request).json()
    again = http.post(f"/v1beta/models/{MODEL}:generateContent", json=request).json()
    assert first["candidates"] == again["candidates"]
    assert "cachedContentTokenCount" not in first["usageMetadata"]
    usage = again["usageMetadata"]
    assert usage["cachedContentTokenCount"] == usage["promptTokenCount"]
    assert usage["cacheTokensDetails"] == [{"modality": "TEXT", "tokenCount": usage["promptTokenCount"]}]
    assert {k: v for k, v in usage.items() if "cache" not in k} == first["usageMetadata"]
    validate_response("v1beta", "GenerateContentResponse", again)
    # through the SDK, as a user sees it
    response = sdk.models.generate_content(model=MODEL, contents=document(1500, "harbor"))
    assert not response.usage_metadata.cached_content_token_count
    response = sdk.models.generate_content(model=MODEL, contents=document(1500, "harbor"))
    assert response.usage_metadata.cached_content_token_count == 1500


def test_implicit_miss_after_the_window(http, gemini_mock):
    window = gemini_mock.store.config["cache"]["implicitWindowSeconds"]
    assert cached_count(http, implicit_request(1500, "one")) == 0
    gemini_mock.advance(window - 1)
    assert cached_count(http, implicit_request(1500, "two")) > 0   # a hit refreshes the prefix
    gemini_mock.advance(window + 1)
    assert cached_count(http, implicit_request(1500, "three")) == 0
    gemini_mock.store.config.patch({"cache": {"implicitWindowSeconds": 10_000.0}})
    gemini_mock.advance(5_000)
    assert cached_count(http, implicit_request(1500, "four")) > 0


def test_implicit_miss_on_a_different_prefix(http):
    assert cached_count(http, implicit_request(1500, "one", topic="ocean")) == 0
    assert cached_count(http, implicit_request(1500, "one", topic="desert")) == 0
    other_system = implicit_request(1500, "one", topic="ocean")
    other_system["systemInstruction"] = {"parts": [{"text": "You answer at length."}]}
    assert cached_count(http, other_system) == 0


def test_implicit_miss_under_the_minimum(http):
    assert cached_count(http, implicit_request(900, "one")) == 0
    assert cached_count(http, implicit_request(900, "two")) == 0


def test_implicit_minimum_is_per_model(http):
    request = implicit_request(2500, "one")
    for model in (MODEL, PRO, VERSIONED):
        cached_count(http, request, model)
    assert cached_count(http, implicit_request(2500, "two"), MODEL) > 0
    assert cached_count(http, implicit_request(2500, "two"), PRO) == 0       # 4,096 for 2.5 Pro
    assert cached_count(http, implicit_request(2500, "two"), VERSIONED) == 0  # not a 2.5 model
    big = implicit_request(4200, "one")
    cached_count(http, big, PRO)
    assert cached_count(http, implicit_request(4200, "two"), PRO) == prefix_tokens(big, 2)


def test_implicit_cache_is_per_project_and_per_model(http, gemini_mock):
    import httpx

    assert cached_count(http, implicit_request(1500, "one")) == 0
    with httpx.Client(base_url=gemini_mock.base_url,
                      headers={"x-goog-api-key": gemini_mock.other_key("b")}) as other:
        assert cached_count(other, implicit_request(1500, "two")) == 0
    assert cached_count(http, implicit_request(1500, "two"), "gemini-2.5-flash-lite") == 0


def test_implicit_counts_are_deterministic(http, gemini_mock):
    def run() -> list[int]:
        counts = []
        for step, (tokens, question, topic) in enumerate([(1500, "a", "ocean"), (1500, "b", "ocean"),
                                                          (2000, "c", "desert"), (1500, "d", "ocean"),
                                                          (2000, "e", "desert")]):
            counts.append(cached_count(http, implicit_request(tokens, question, topic)))
            gemini_mock.advance(30)
        return counts

    first = run()
    gemini_mock.store.reset()
    assert run() == first
    assert first[0] == 0 and first[1] > 0 and first[2] == 0 and first[3] > 0 and first[4] > 0


def test_no_implicit_count_on_top_of_an_explicit_cache(http):
    cache = create(http, tokens=1100)
    for _ in range(2):
        body = http.post(f"/v1beta/models/{MODEL}:generateContent", json=ask(cache["name"], document(1200)))
        assert body.json()["usageMetadata"]["cachedContentTokenCount"] == 1100


def test_implicit_memory_is_bounded(gemini_mock):
    from gemini_mockserver.resources.caches import IMPLICIT_ENTRIES_PER_PROJECT

    caches = gemini_mock.store.caches
    model = gemini_mock.store.models.get(MODEL)
    identity = gemini_mock.identity
    text = document(1100)
    for i in range(IMPLICIT_ENTRIES_PER_PROJECT + 50):
        request = {"contents": [{"role": "user", "parts": [{"text": f"{text} {i}"}]}]}
        caches.implicit_hit(identity, model, request)
    assert len(caches._implicit[identity.project]) == IMPLICIT_ENTRIES_PER_PROJECT
    last = {"contents": [{"role": "user", "parts": [{"text": f"{text} {IMPLICIT_ENTRIES_PER_PROJECT + 49}"}]}]}
    assert caches.implicit_hit(identity, model, last) > 0
    first = {"contents": [{"role": "user", "parts": [{"text": f"{text} 0"}]}]}
    assert caches.implicit_hit(identity, model, first) == 0   # the oldest were dropped


# -- the seed's examples, pointed at the emulator ----------------------------------------------------

def pdf_bytes(pages: int) -> bytes:
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>",
               b"<< /Type /Pages /Count %d /Kids [%s] >>" % (
                   pages, b" ".join(b"%d 0 R" % (3 + i) for i in range(pages)))]
    objects += [b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>"] * pages
    body = b"%PDF-1.4\n" + b"".join(b"%d 0 obj\n%s\nendobj\n" % (i + 1, o) for i, o in enumerate(objects))
    return body + b"trailer\n<< /Root 1 0 R >>\n%%EOF\n"


def test_seed_example_video(gemini_mock, tmp_path):
    import time
    from google import genai

    client = genai.Client()  # reaches the emulator through the environment the fixture sets

    path_to_video_file = tmp_path / "SherlockJr._10min.mp4"
    path_to_video_file.write_bytes(mp4_bytes(30))   # stands in for the download

    video_file = client.files.upload(file=path_to_video_file)
    while video_file.state.name == "PROCESSING":
        time.sleep(0.1)
        video_file = client.files.get(name=video_file.name)

    model = "models/gemini-2.0-flash-001"
    cache = client.caches.create(
        model=model,
        config=types.CreateCachedContentConfig(
            display_name="sherlock jr movie",
            system_instruction=(
                "You are an expert video analyzer, and your job is to answer "
                "the user's query based on the video file you have access to."
            ),
            contents=[video_file],
            ttl="300s",
        ),
    )
    response = client.models.generate_content(
        model=model,
        contents=("Introduce different characters in the movie by describing "
                  "their personality, looks, and names. Also list the timestamps "
                  "they were introduced for the first time."),
        config=types.GenerateContentConfig(cached_content=cache.name),
    )
    usage = response.usage_metadata
    assert usage.cached_content_token_count == cache.usage_metadata.total_token_count
    assert usage.prompt_token_count > usage.cached_content_token_count
    assert {d.modality.value for d in usage.cache_tokens_details} == {"TEXT", "VIDEO"}
    video = [d for d in usage.cache_tokens_details if d.modality.value == "VIDEO"][0]
    assert video.token_count == 263 * 30
    assert response.text


def test_seed_example_pdf_list_update_delete(gemini_mock):
    from google import genai

    client = genai.Client()
    doc_io = io.BytesIO(pdf_bytes(20))   # stands in for the downloaded flight plan
    document_file = client.files.upload(file=doc_io, config=dict(mime_type="application/pdf"))

    model_name = "gemini-2.0-flash-001"
    system_instruction = "You are an expert analyzing transcripts."
    cache = client.caches.create(
        model=model_name,
        config=types.CreateCachedContentConfig(system_instruction=system_instruction, contents=[document_file]),
    )
    assert cache.usage_metadata.total_token_count == 258 * 20 + count_text(system_instruction)
    response = client.models.generate_content(
        model=model_name, contents="Please summarize this transcript",
        config=types.GenerateContentConfig(cached_content=cache.name))
    assert response.usage_metadata.cached_content_token_count == cache.usage_metadata.total_token_count
    assert response.text

    # List caches / get one
    assert [c.name for c in client.caches.list()] == [cache.name]
    assert client.caches.get(name=cache.name).display_name is None

    # Update a cache: ttl, then expire_time as a datetime and as an ISO string
    client.caches.update(name=cache.name, config=types.UpdateCachedContentConfig(ttl="300s"))
    in10min = dt.datetime.now(dt.timezone.utc) + dt.timedelta(minutes=10)
    updated = client.caches.update(name=cache.name, config=types.UpdateCachedContentConfig(expire_time=in10min))
    assert updated.expire_time == in10min
    in20min = in10min + dt.timedelta(minutes=10)
    updated = client.caches.update(name=cache.name, config={"expire_time": in20min.isoformat()})
    assert updated.expire_time == in20min

    # Delete a cache
    client.caches.delete(name=cache.name)
    assert list(client.caches.list()) == []
