"""Scripted rules and injected faults through the real SDKs, and the request journal's filters and paging.

Rules: text, function call, JSON, error and latency answers; `times`; first match wins; matching by model,
method, project and a regular expression over the prompt. Faults: 429 / 500 / 503 / other status answers
with the real bodies, latency, and a stream cut mid-way. The control plane is driven with raw httpx.
"""
from __future__ import annotations

import json
import time

import httpx
import pytest
from google.genai import errors, types

from support import assert_envelope

MODEL = "gemini-2.5-flash"
GENERATE_PATH = r":generateContent$"


@pytest.fixture
def control(gemini_mock):
    """Raw httpx on the control plane (no key)."""
    with httpx.Client(base_url=gemini_mock.base_url, timeout=30) as session:
        yield session


def add_rule(control, rule: dict) -> dict:
    response = control.post("/_mock/rules", json=rule)
    assert response.status_code == 200, response.text
    return response.json()


def add_fault(control, fault: dict) -> dict:
    response = control.post("/_mock/faults", json=fault)
    assert response.status_code == 200, response.text
    return response.json()


def details_of(error: errors.APIError) -> dict:
    """The error's details by @type (the SDK keeps the whole body in `.details`)."""
    return {item["@type"].rsplit(".", 1)[-1]: item for item in error.details["error"].get("details", [])}


# -- rules: the kinds of answer ----------------------------------------------------------------------

def test_text_rule_answers_matching_prompts_only(client, control):
    rule = add_rule(control, {"match": {"model": MODEL, "prompt": "(?i)weather"}, "respond": {"text": "Sunny."}})
    assert rule["id"] and rule["times"] is None and rule["hits"] == 0
    reply = client.models.generate_content(model=MODEL, contents="What is the WEATHER like?")
    assert reply.text == "Sunny."
    assert reply.candidates[0].finish_reason == types.FinishReason.STOP
    assert reply.usage_metadata.candidates_token_count > 0
    assert client.models.generate_content(model=MODEL, contents="Tell me a story").text != "Sunny."
    assert client.models.generate_content(model="gemini-2.5-pro", contents="weather?").text != "Sunny."
    assert control.get("/_mock/rules").json()["rules"][0]["hits"] == 1


def test_function_call_rule(client, control):
    add_rule(control, {"respond": {"functionCall": {"name": "get_weather", "args": {"city": "Paris"}}}})
    tool = types.Tool(function_declarations=[types.FunctionDeclaration(
        name="get_weather", description="Weather of a city",
        parameters=types.Schema(type="OBJECT", properties={"city": types.Schema(type="STRING")}))])
    reply = client.models.generate_content(model=MODEL, contents="Weather in Paris?",
                                           config=types.GenerateContentConfig(tools=[tool]))
    assert [(call.name, call.args) for call in reply.function_calls] == [("get_weather", {"city": "Paris"})]


def test_json_rule(client, control):
    value = {"name": "Ada", "languages": ["en", "fr"], "age": 36}
    add_rule(control, {"match": {"method": "generateContent"}, "respond": {"json": value}})
    reply = client.models.generate_content(model=MODEL, contents="A person, please",
                                           config=types.GenerateContentConfig(response_mime_type="application/json"))
    assert json.loads(reply.text) == value


def test_error_rules_raise_the_sdk_errors(client, control):
    add_rule(control, {"match": {"prompt": "quota"}, "respond": {"error": {"code": 429}}})
    add_rule(control, {"match": {"prompt": "crash"}, "respond": {"error": {"code": 500}}})
    add_rule(control, {"match": {"prompt": "busy"}, "respond": {"error": {"code": 503}}})
    add_rule(control, {"match": {"prompt": "refuse"},
                       "respond": {"error": {"code": 400, "status": "FAILED_PRECONDITION", "message": "No."}}})
    with pytest.raises(errors.ClientError) as caught:
        client.models.generate_content(model=MODEL, contents="use up the quota")
    assert caught.value.code == 429 and caught.value.status == "RESOURCE_EXHAUSTED"
    found = details_of(caught.value)
    violation = found["QuotaFailure"]["violations"][0]
    assert violation["quotaDimensions"]["model"] == MODEL and violation["quotaMetric"].startswith(
        "generativelanguage.googleapis.com/")
    assert found["RetryInfo"]["retryDelay"] == "39s"
    with pytest.raises(errors.ServerError) as caught:
        client.models.generate_content(model=MODEL, contents="crash now")
    assert (caught.value.code, caught.value.status, caught.value.message) == (500, "INTERNAL",
                                                                             "Internal error encountered.")
    with pytest.raises(errors.ServerError) as caught:
        client.models.generate_content(model=MODEL, contents="are you busy")
    assert (caught.value.code, caught.value.status) == (503, "UNAVAILABLE")
    assert caught.value.message == "The model is overloaded. Please try again later."
    with pytest.raises(errors.ClientError) as caught:
        client.models.generate_content(model=MODEL, contents="refuse this")
    assert (caught.value.code, caught.value.status, caught.value.message) == (400, "FAILED_PRECONDITION", "No.")


def test_error_rule_on_a_stream_fails_before_the_first_chunk(client, control):
    add_rule(control, {"match": {"method": "streamGenerateContent"}, "respond": {"error": {"code": 503}}})
    assert client.models.generate_content(model=MODEL, contents="hello").text   # another method
    with pytest.raises(errors.ServerError) as caught:
        list(client.models.generate_content_stream(model=MODEL, contents="hello"))
    assert caught.value.code == 503


def test_latency_rule_adds_time(client, control):
    add_rule(control, {"match": {"prompt": "slow"}, "respond": {"text": "eventually"}, "latencyMs": 400})
    start = time.monotonic()
    assert client.models.generate_content(model=MODEL, contents="be slow").text == "eventually"
    assert time.monotonic() - start >= 0.4
    assert client.models.generate_content(model=MODEL, contents="be quick").text != "eventually"
    assert control.get("/_mock/rules").json()["rules"][0]["hits"] == 1   # the quick call was not delayed


def test_pure_latency_rule_keeps_the_generated_answer(client, control):
    plain = client.models.generate_content(model=MODEL, contents="hello there").text
    add_rule(control, {"latencyMs": 300})
    start = time.monotonic()
    assert client.models.generate_content(model=MODEL, contents="hello there").text == plain
    assert time.monotonic() - start >= 0.3


# -- rules: times, order, matching -------------------------------------------------------------------

def test_times_then_back_to_generation(client, control):
    add_rule(control, {"respond": {"text": "scripted"}, "times": 2})
    answers = [client.models.generate_content(model=MODEL, contents="hi").text for _ in range(3)]
    assert answers[:2] == ["scripted", "scripted"] and answers[2] != "scripted"
    [rule] = control.get("/_mock/rules").json()["rules"]
    assert rule["hits"] == 2 and rule["times"] == 2


def test_first_match_wins_and_delete_one(client, control):
    first = add_rule(control, {"match": {"prompt": "hello"}, "respond": {"text": "first"}})
    add_rule(control, {"respond": {"text": "second"}})
    assert client.models.generate_content(model=MODEL, contents="hello").text == "first"
    assert client.models.generate_content(model=MODEL, contents="bye").text == "second"
    assert control.get(f"/_mock/rules/{first['id']}").json()["hits"] == 1
    assert control.delete(f"/_mock/rules/{first['id']}").status_code == 200
    assert client.models.generate_content(model=MODEL, contents="hello").text == "second"
    assert_envelope(control.delete(f"/_mock/rules/{first['id']}"), 404, "NOT_FOUND")
    assert control.delete("/_mock/rules").status_code == 200
    assert control.get("/_mock/rules").json() == {"rules": []}
    assert client.models.generate_content(model=MODEL, contents="hello").text not in ("first", "second")


def test_project_matching(gemini_mock, control):
    other = gemini_mock.other_key("b")
    project = gemini_mock.store.keys.identify(other).project
    add_rule(control, {"match": {"project": project}, "respond": {"text": "for b only"}})
    assert gemini_mock.client().models.generate_content(model=MODEL, contents="hi").text != "for b only"
    assert gemini_mock.client(api_key=other).models.generate_content(model=MODEL, contents="hi").text == "for b only"


def test_prompt_regex_sees_every_turn(client, control):
    add_rule(control, {"match": {"prompt": r"^order #\d+$"}, "respond": {"text": "shipped"}})
    contents = [types.Content(role="user", parts=[types.Part(text="hi")]),
                types.Content(role="model", parts=[types.Part(text="hello")]),
                types.Content(role="user", parts=[types.Part(text="order #42")])]
    assert client.models.generate_content(model=MODEL, contents=contents).text != "shipped"   # ^...$ spans lines
    add_rule(control, {"match": {"prompt": r"(?m)^order #\d+$"}, "respond": {"text": "found"}})
    assert client.models.generate_content(model=MODEL, contents=contents).text == "found"


def test_rules_on_methods_that_do_not_generate(client, control):
    text_rule = add_rule(control, {"respond": {"text": "never used by countTokens"}, "times": 1})
    add_rule(control, {"match": {"method": ["countTokens", "embedContent", "batchEmbedContents"]},
                       "respond": {"error": {"code": 429}}})
    with pytest.raises(errors.ClientError) as caught:
        client.models.count_tokens(model=MODEL, contents="count me")
    assert caught.value.code == 429
    with pytest.raises(errors.ClientError):
        client.models.embed_content(model="gemini-embedding-001", contents="embed me")
    assert control.get(f"/_mock/rules/{text_rule['id']}").json()["hits"] == 0


def test_rules_reach_the_streamed_and_openai_paths(gemini_mock, client, control):
    add_rule(control, {"respond": {"text": "one answer everywhere"}})
    streamed = "".join(chunk.text or "" for chunk in client.models.generate_content_stream(model=MODEL,
                                                                                           contents="hi"))
    assert streamed == "one answer everywhere"
    import openai
    chat = openai.OpenAI(api_key=gemini_mock.api_key, base_url=gemini_mock.base_url + "/v1beta/openai/")
    answer = chat.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "hi"}])
    assert answer.choices[0].message.content == "one answer everywhere"


def test_several_rules_in_one_post(control):
    body = {"rules": [{"respond": {"text": "a"}}, {"respond": {"text": "b"}, "times": 1}]}
    added = control.post("/_mock/rules", json=body).json()["rules"]
    assert [rule["respond"]["text"] for rule in added] == ["a", "b"]
    assert_envelope(control.post("/_mock/rules", json={"rules": [{"respond": {"text": "c"}}, {"times": 0}]}),
                    400, "INVALID_ARGUMENT")
    assert len(control.get("/_mock/rules").json()["rules"]) == 2   # all or nothing


@pytest.mark.parametrize("body, field", [
    ({"respond": {"text": "x"}, "match": {"prompt": "(unclosed"}}, "match.prompt"),
    ({"respond": {"text": "x", "json": 1}}, "respond"),
    ({"respond": {"txt": "x"}}, "respond.txt"),
    ({"respond": {"text": "x"}, "times": 0}, "times"),
    ({"respond": {"text": "x"}, "latencyMs": -1}, "latencyMs"),
    ({"respond": {"error": {"code": 200}}}, "respond.error.code"),
    ({"respond": {"functionCall": {"args": {}}}}, "respond.functionCall.name"),
    ({"respond": {"text": "x"}, "match": {"modle": "m"}}, "match.modle"),
    ({"respond": {"text": "x"}, "extra": 1}, "extra"),
    ({"match": {"model": MODEL}}, "respond"),
])
def test_bad_rules_are_400s_naming_the_field(control, body, field):
    assert_envelope(control.post("/_mock/rules", json=body), 400, "INVALID_ARGUMENT", field=field)


# -- faults ------------------------------------------------------------------------------------------

def test_429_fault_with_quota_failure_and_retry_info(client, control):
    fault = add_fault(control, {"kind": "status", "code": 429, "match": {"path": GENERATE_PATH}})
    assert fault["times"] == 1 and fault["hits"] == 0
    with pytest.raises(errors.ClientError) as caught:
        client.models.generate_content(model=MODEL, contents="hi")
    error = caught.value
    assert error.code == 429 and error.status == "RESOURCE_EXHAUSTED"
    assert error.message == "Resource has been exhausted (e.g. check quota)."
    found = details_of(error)
    [violation] = found["QuotaFailure"]["violations"]
    assert violation["quotaMetric"] == "generativelanguage.googleapis.com/generate_content_free_tier_requests"
    assert violation["quotaId"] == "GenerateRequestsPerMinutePerProjectPerModel-FreeTier"
    assert violation["quotaDimensions"] == {"location": "global", "model": MODEL}
    assert violation["quotaValue"] == "10" and violation["subject"].startswith("project:")
    assert found["RetryInfo"] == {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "39s"}
    assert client.models.generate_content(model=MODEL, contents="hi").text   # used up
    assert control.get("/_mock/faults").json()["faults"][0]["hits"] == 1


def test_500_and_503_faults_are_server_errors(client, control):
    add_fault(control, {"kind": "status", "code": 500, "match": {"path": GENERATE_PATH}})
    add_fault(control, {"kind": "status", "code": 503, "match": {"path": GENERATE_PATH}})
    with pytest.raises(errors.ServerError) as caught:
        client.models.generate_content(model=MODEL, contents="hi")
    assert (caught.value.code, caught.value.status, caught.value.message) == (
        500, "INTERNAL", "Internal error encountered.")
    with pytest.raises(errors.ServerError) as caught:
        client.models.generate_content(model=MODEL, contents="hi")
    assert (caught.value.code, caught.value.status, caught.value.message) == (
        503, "UNAVAILABLE", "The model is overloaded. Please try again later.")
    assert client.models.generate_content(model=MODEL, contents="hi").text


@pytest.mark.parametrize("code, status", [(400, "INVALID_ARGUMENT"), (403, "PERMISSION_DENIED"),
                                          (404, "NOT_FOUND"), (504, "DEADLINE_EXCEEDED"), (502, "INTERNAL")])
def test_other_status_faults_take_their_status(http, control, code, status):
    add_fault(control, {"code": code, "match": {"path": "/files"}})
    assert_envelope(http.get("/v1beta/files"), code, status)
    assert http.get("/v1beta/files").status_code == 200


def test_fault_with_explicit_status_and_message(http, control):
    add_fault(control, {"code": 429, "status": "RESOURCE_EXHAUSTED", "message": "Slow down.",
                        "retryDelay": "7s", "match": {"path": "models"}})
    error = assert_envelope(http.get("/v1beta/models"), 429, "RESOURCE_EXHAUSTED")
    assert error["message"] == "Slow down."
    assert error["details"][-1] == {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "7s"}


def test_fault_matching_by_method_model_project_and_times(gemini_mock, http, control):
    add_fault(control, {"code": 500, "times": None, "match": {"method": "POST", "model": "gemini-2.5-pro"}})
    assert http.get("/v1beta/models/gemini-2.5-pro").status_code == 200          # GET: not matched
    body = {"contents": [{"parts": [{"text": "hi"}]}]}
    assert http.post(f"/v1beta/models/{MODEL}:generateContent", json=body).status_code == 200
    for _ in range(3):   # times null: every call
        assert_envelope(http.post("/v1beta/models/gemini-2.5-pro:generateContent", json=body), 500, "INTERNAL")
    control.delete("/_mock/faults")
    other = gemini_mock.other_key("x")
    add_fault(control, {"code": 503, "times": 2,
                        "match": {"project": gemini_mock.store.keys.identify(other).project}})
    assert http.post(f"/v1beta/models/{MODEL}:generateContent", json=body).status_code == 200
    for expected in (503, 503, 200):
        answer = http.post(f"/v1beta/models/{MODEL}:generateContent", json=body, headers={"x-goog-api-key": other})
        assert answer.status_code == expected


def test_sdk_retries_through_transient_faults(gemini_mock, control):
    add_fault(control, {"code": 429, "times": 2, "match": {"path": GENERATE_PATH}})
    retrying = gemini_mock.client(retry_options=types.HttpRetryOptions(attempts=3, initial_delay=0.01,
                                                                       max_delay=0.02))
    assert retrying.models.generate_content(model=MODEL, contents="hi").text
    statuses = [e["status"] for e in control.get("/_mock/requests", params={"path": GENERATE_PATH}).json()["requests"]]
    assert statuses == [429, 429, 200]


def test_latency_fault_is_measurable(client, control):
    add_fault(control, {"kind": "latency", "latencyMs": 500, "match": {"path": GENERATE_PATH}})
    start = time.monotonic()
    client.models.generate_content(model=MODEL, contents="hi")
    assert time.monotonic() - start >= 0.5
    client.models.generate_content(model=MODEL, contents="hi")
    [fault] = control.get("/_mock/faults").json()["faults"]
    assert fault["hits"] == 1 and fault["times"] == 1   # used up: the second call was not delayed


def stream_texts(client, prompt: str = "Write a long story about the sea") -> list[str]:
    return [chunk.text or "" for chunk in client.models.generate_content_stream(model=MODEL, contents=prompt)]


@pytest.mark.parametrize("code, exception, status", [(500, errors.ServerError, "INTERNAL"),
                                                     (503, errors.ServerError, "UNAVAILABLE")])
def test_stream_cut_yields_k_chunks_then_raises(client, control, code, exception, status):
    full = stream_texts(client)
    assert len(full) > 2
    add_fault(control, {"kind": "streamCut", "afterChunks": 2, "code": code})
    assert client.models.generate_content(model=MODEL, contents="not a stream").text   # not taken
    received = []
    with pytest.raises(exception) as caught:
        for chunk in client.models.generate_content_stream(model=MODEL, contents="Write a long story about the sea"):
            received.append(chunk.text or "")
    assert received == full[:2]
    assert caught.value.code == code and caught.value.status == status
    assert stream_texts(client) == full   # used up


def test_stream_cut_through_raw_sse(http, control):
    add_fault(control, {"kind": "streamCut", "afterChunks": 1})
    body = {"contents": [{"parts": [{"text": "Write a long story about the sea"}]}]}
    answer = http.post(f"/v1beta/models/{MODEL}:streamGenerateContent", params={"alt": "sse"}, json=body)
    events = [event for event in answer.text.split("\r\n\r\n") if event]
    assert len(events) == 2 and all(event.startswith("data: ") for event in events)
    assert json.loads(events[0][6:])["candidates"]
    assert json.loads(events[1][6:]) == {"error": {"code": 500, "message": "Internal error encountered.",
                                                   "status": "INTERNAL"}}


def test_chunk_latency_spaces_out_stream_events(client, control):
    count = len(stream_texts(client))
    add_fault(control, {"kind": "latency", "chunkLatencyMs": 100, "match": {"path": "streamGenerateContent"}})
    start = time.monotonic()
    assert len(stream_texts(client)) == count
    assert time.monotonic() - start >= 0.1 * count


def test_fault_on_the_openai_layer_keeps_its_error_shape(gemini_mock, control):
    import openai
    add_fault(control, {"code": 429, "match": {"path": "openai/chat/completions"}})
    chat = openai.OpenAI(api_key=gemini_mock.api_key, base_url=gemini_mock.base_url + "/v1beta/openai/",
                         max_retries=0)
    with pytest.raises(openai.RateLimitError):
        chat.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "hi"}])
    add_fault(control, {"code": 503, "match": {"path": "openai/chat/completions"}})
    raw = httpx.post(gemini_mock.base_url + "/v1beta/openai/chat/completions",
                     headers={"Authorization": f"Bearer {gemini_mock.api_key}"},
                     json={"model": MODEL, "messages": [{"role": "user", "content": "hi"}]})
    assert raw.status_code == 503
    assert raw.json() == [{"error": {"code": 503, "message": "The model is overloaded. Please try again later.",
                                     "status": "UNAVAILABLE"}}]   # the layer's one-element list
    journal = control.get("/_mock/requests", params={"path": "chat/completions"}).json()["requests"]
    assert [entry["status"] for entry in journal] == [429, 503] and journal[0]["model"] == MODEL


@pytest.mark.parametrize("body, field", [
    ({"kind": "status"}, "code"),
    ({"kind": "explode", "code": 500}, "kind"),
    ({"code": 99}, "fault.code"),
    ({"code": 500, "match": {"path": "("}}, "match.path"),
    ({"code": 500, "times": -1}, "times"),
    ({"kind": "latency"}, "latencyMs"),
    ({"kind": "latency", "latencyMs": 10, "code": 500}, "code"),
    ({"kind": "streamCut", "afterChunks": "two"}, "afterChunks"),
    ({"code": 500, "retryDelay": "soon"}, "fault.retryDelay"),
    ({"code": 500, "match": {"verb": "GET"}}, "match.verb"),
])
def test_bad_faults_are_400s_naming_the_field(control, body, field):
    assert_envelope(control.post("/_mock/faults", json=body), 400, "INVALID_ARGUMENT", field=field)


def test_faults_list_get_delete(control):
    first = add_fault(control, {"code": 500})
    second = add_fault(control, {"kind": "latency", "latencyMs": 5})
    assert [f["id"] for f in control.get("/_mock/faults").json()["faults"]] == [first["id"], second["id"]]
    assert control.get(f"/_mock/faults/{second['id']}").json()["latencyMs"] == 5
    control.delete(f"/_mock/faults/{first['id']}")
    assert [f["id"] for f in control.get("/_mock/faults").json()["faults"]] == [second["id"]]
    assert_envelope(control.get(f"/_mock/faults/{first['id']}"), 404, "NOT_FOUND")
    control.delete("/_mock/faults")
    assert control.get("/_mock/faults").json() == {"faults": []}


def test_reset_clears_rules_and_faults(control):
    add_rule(control, {"respond": {"text": "x"}})
    add_fault(control, {"code": 500})
    control.post("/_mock/reset", json={})
    assert control.get("/_mock/rules").json() == {"rules": []}
    assert control.get("/_mock/faults").json() == {"faults": []}
    assert add_rule(control, {"respond": {"text": "x"}})["id"] == "rule-1"


def test_backends_are_reachable_without_http(gemini_mock, client):
    gemini_mock.store.rules.add({"match": {"model": MODEL}, "respond": {"text": "direct"}})
    assert client.models.generate_content(model=MODEL, contents="hi").text == "direct"
    fault = gemini_mock.store.faults.add({"code": 503, "match": {"path": "countTokens"}})
    taken = gemini_mock.store.faults.take(gemini_mock.identity, "POST", "/v1/models/x:countTokens", "x")
    assert taken["id"] == fault["id"] and taken["hits"] == 1
    assert gemini_mock.store.faults.take(gemini_mock.identity.project, "POST", "/v1/models/x:countTokens", "x") is None


# -- the journal: filters and paging -----------------------------------------------------------------

def test_journal_filters_and_paging(gemini_mock, http, control):
    body = {"contents": [{"parts": [{"text": "hi"}]}]}
    other = gemini_mock.other_key("z")
    assert http.post(f"/v1beta/models/{MODEL}:generateContent", json=body).status_code == 200
    assert http.post(f"/v1beta/models/{MODEL}:countTokens", json=body).status_code == 200
    assert http.post("/v1beta/models/no-such-model:generateContent", json=body).status_code == 404
    assert http.get("/v1beta/models").status_code == 200
    assert http.post(f"/v1beta/models/{MODEL}:generateContent", json=body,
                     headers={"x-goog-api-key": other}).status_code == 200

    def paths(**query) -> list[str]:
        answer = control.get("/_mock/requests", params=query)
        assert answer.status_code == 200, answer.text
        return [entry["path"] for entry in answer.json()["requests"]]

    project = gemini_mock.identity.project
    assert len(paths(project=project)) == 4
    assert paths(project=gemini_mock.store.keys.identify(other).project) == [
        f"/v1beta/models/{MODEL}:generateContent"]
    assert paths(path=":countTokens") == [f"/v1beta/models/{MODEL}:countTokens"]
    assert len(paths(path=r"models/[^/]+:generateContent$")) == 3
    assert len(paths(model=MODEL)) == 3 and len(paths(model=f"models/{MODEL}")) == 3
    assert paths(status="404") == ["/v1beta/models/no-such-model:generateContent"]
    assert len(paths(status="4xx")) == 1 and len(paths(status="2xx")) == 4
    assert paths(method="get") == ["/v1beta/models"]
    assert len(paths(method="POST", status="200", project=project)) == 2

    seen, token = [], None
    while True:
        query = {"pageSize": 2, **({"pageToken": token} if token else {})}
        page = control.get("/_mock/requests", params=query).json()
        assert len(page["requests"]) <= 2
        seen += [entry["path"] for entry in page["requests"]]
        token = page.get("nextPageToken")
        if not token:
            break
    assert seen == paths()
    assert len(seen) == 5

    assert_envelope(control.get("/_mock/requests", params={"status": "teapot"}), 400, "INVALID_ARGUMENT",
                    field="status")
    assert_envelope(control.get("/_mock/requests", params={"stauts": "200"}), 400, "INVALID_ARGUMENT",
                    field="stauts")
    assert_envelope(control.get("/_mock/requests", params={"pageToken": "nonsense"}), 400, "INVALID_ARGUMENT",
                    field="pageToken")
    assert control.delete("/_mock/requests").status_code == 200
    assert paths() == []
