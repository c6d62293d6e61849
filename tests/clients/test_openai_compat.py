"""The OpenAI-compatible layer (`/v1beta/openai/`) driven by the real openai SDK, plus its pure mappings."""
from __future__ import annotations

import base64
import io
import json
import struct

import httpx
import openai
import pytest
from google.genai import types

from gemini_mockserver.resources import openai as layer

MODEL = "gemini-2.5-flash"
EMBEDDING_MODEL = "gemini-embedding-001"
WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the current weather in a city",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}, "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}},
            "required": ["city", "unit"],
        },
    },
}


@pytest.fixture
def oai(gemini_mock):
    return openai.OpenAI(api_key=gemini_mock.api_key, base_url=gemini_mock.base_url + "/v1beta/openai/",
                         max_retries=0)


@pytest.fixture
def native_client(gemini_mock):
    """A google-genai client on the same key (its default API version)."""
    return gemini_mock.client()


@pytest.fixture
def raw(gemini_mock):
    """Plain HTTP on the layer, with the test's key as a bearer token."""
    with httpx.Client(base_url=gemini_mock.base_url + "/v1beta/openai",
                      headers={"Authorization": f"Bearer {gemini_mock.api_key}"}, timeout=30) as session:
        yield session


def ask(oai, prompt="Tell me about the ocean", **options):
    return oai.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": prompt}], **options)


# -- chat completions ------------------------------------------------------------------------------

def test_chat_completion_shape(oai, gemini_mock):
    before = int(gemini_mock.store.now())
    response = ask(oai)
    assert response.object == "chat.completion"
    assert response.id and response.model == MODEL
    assert before <= response.created <= int(gemini_mock.store.now())   # the clock runs: a second may turn
    [choice] = response.choices
    assert choice.index == 0 and choice.finish_reason == "stop"
    assert choice.message.role == "assistant" and choice.message.content.strip()
    assert choice.message.tool_calls is None
    usage = response.usage
    assert usage.prompt_tokens > 0 and usage.completion_tokens > 0
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens


def test_same_prompt_same_text_as_the_native_api(oai, gemini_mock):
    prompt = "Explain how tides work"
    text = ask(oai, prompt).choices[0].message.content
    for client in (gemini_mock.client(), gemini_mock.client(api_version="v1beta")):
        assert client.models.generate_content(model=MODEL, contents=prompt).text == text
    assert ask(oai, prompt).choices[0].message.content == text          # deterministic
    assert ask(oai, "Tell me about mountains").choices[0].message.content != text


def test_same_usage_and_id_as_the_native_api(oai, gemini_mock, native_client):
    native = native_client.models.generate_content(model=MODEL, contents="hello there")
    mapped = ask(oai, "hello there")
    meta = native.usage_metadata
    assert mapped.id == native.response_id
    assert mapped.usage.prompt_tokens == meta.prompt_token_count
    assert mapped.usage.completion_tokens == meta.candidates_token_count + (meta.thoughts_token_count or 0)
    assert mapped.usage.completion_tokens_details.reasoning_tokens == meta.thoughts_token_count
    assert mapped.usage.total_tokens == meta.total_token_count


def test_model_may_carry_the_models_prefix(oai):
    plain = ask(oai).choices[0].message.content
    prefixed = oai.chat.completions.create(model=f"models/{MODEL}",
                                           messages=[{"role": "user", "content": "Tell me about the ocean"}])
    assert prefixed.choices[0].message.content == plain


def test_system_and_multi_turn_messages(oai, gemini_mock, native_client):
    messages = [
        {"role": "system", "content": "You are terse."},
        {"role": "user", "content": "Name a river"},
        {"role": "assistant", "content": "The Nile."},
        {"role": "user", "content": [{"type": "text", "text": "And a mountain?"}]},
    ]
    response = oai.chat.completions.create(model=MODEL, messages=messages)
    native = native_client.models.generate_content(
        model=MODEL,
        contents=[types.Content(role="user", parts=[types.Part(text="Name a river")]),
                  types.Content(role="model", parts=[types.Part(text="The Nile.")]),
                  types.Content(role="user", parts=[types.Part(text="And a mountain?")])],
        config=types.GenerateContentConfig(system_instruction=types.Content(parts=[types.Part(text="You are terse.")])))
    assert response.choices[0].message.content == native.text


def test_image_data_url_counts_as_an_image(oai):
    png = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\0" * 64).decode()
    with_image = oai.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": [
        {"type": "text", "text": "What is this?"},
        {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{png}"}}]}])
    text_only = ask(oai, "What is this?")
    assert with_image.usage.prompt_tokens > text_only.usage.prompt_tokens


def test_generation_options(oai):
    two = ask(oai, n=2, temperature=0.3, top_p=0.9, seed=7)
    assert [c.index for c in two.choices] == [0, 1]
    assert two.choices[0].message.content != two.choices[1].message.content
    short = ask(oai, max_tokens=5, reasoning_effort="none")
    assert short.choices[0].finish_reason == "length" and short.usage.completion_tokens <= 5
    short2 = ask(oai, max_completion_tokens=5, reasoning_effort="none")
    assert short2.choices[0].message.content == short.choices[0].message.content
    full = ask(oai).choices[0].message.content
    word = full.split()[3]
    stopped = ask(oai, stop=word).choices[0].message.content
    assert stopped == full[:full.index(word)]
    assert ask(oai, stop=[word, "zzz"]).choices[0].message.content == stopped


def test_reasoning_effort_maps_to_thinking(oai):
    assert ask(oai, reasoning_effort="none").usage.completion_tokens_details is None
    high = ask(oai, reasoning_effort="high").usage
    assert high.completion_tokens_details.reasoning_tokens > 0
    with pytest.raises(openai.BadRequestError) as error:
        ask(oai, reasoning_effort="extreme")
    assert error.value.status_code == 400
    with pytest.raises(openai.BadRequestError):  # 2.5 Pro cannot stop thinking
        oai.chat.completions.create(model="gemini-2.5-pro", reasoning_effort="none",
                                    messages=[{"role": "user", "content": "hi"}])


def test_thinking_config_in_extra_body_shows_thoughts(oai):
    google = {"thinking_config": {"include_thoughts": True, "thinking_budget": 1024}}
    nested = ask(oai, extra_body={"extra_body": {"google": google}})
    content = nested.choices[0].message.content
    assert content.startswith("<thought>") and "</thought>" in content
    answer = content.split("</thought>", 1)[1]
    assert answer.strip()
    top_level = ask(oai, extra_body={"google": google})
    assert top_level.choices[0].message.content == content
    with pytest.raises(openai.BadRequestError):
        ask(oai, reasoning_effort="low", extra_body={"extra_body": {"google": google}})
    with pytest.raises(openai.BadRequestError):
        ask(oai, extra_body={"extra_body": {"google": {"no_such_option": 1}}})


def test_cached_content_in_extra_body(oai, gemini_mock):
    client = gemini_mock.client(api_version="v1beta")
    document = " ".join(f"Paragraph {i} describes rivers, lakes and the sea in detail." for i in range(200))
    cache = client.caches.create(model=MODEL, config=types.CreateCachedContentConfig(
        contents=[types.Content(role="user", parts=[types.Part(text=document)])], ttl="600s"))
    response = ask(oai, "Summarise the document", extra_body={"extra_body": {"google": {"cached_content": cache.name}}})
    native = client.models.generate_content(model=MODEL, contents="Summarise the document",
                                            config=types.GenerateContentConfig(cached_content=cache.name))
    assert response.choices[0].message.content == native.text
    assert response.usage.prompt_tokens_details.cached_tokens == native.usage_metadata.cached_content_token_count > 0
    with pytest.raises(openai.PermissionDeniedError):
        ask(oai, extra_body={"extra_body": {"google": {"cached_content": "cachedContents/nope"}}})


def test_json_object_and_json_schema_response_formats(oai):
    loose = ask(oai, "Describe a cat", response_format={"type": "json_object"})
    assert isinstance(json.loads(loose.choices[0].message.content), dict)
    schema = {"type": "object", "properties": {"name": {"type": "string"}, "legs": {"type": "integer"}},
              "required": ["name", "legs"]}
    strict = ask(oai, "Describe a cat", response_format={
        "type": "json_schema", "json_schema": {"name": "animal", "schema": schema, "strict": True}})
    value = json.loads(strict.choices[0].message.content)
    assert isinstance(value["name"], str) and isinstance(value["legs"], int)


# -- streaming ------------------------------------------------------------------------------------

def test_stream_concatenates_to_the_answer_with_a_usage_chunk(oai):
    whole = ask(oai)
    chunks = list(ask(oai, stream=True, stream_options={"include_usage": True}))
    assert len(chunks) >= 3
    assert all(c.object == "chat.completion.chunk" and c.id == whole.id for c in chunks)
    assert chunks[0].choices[0].delta.role == "assistant"
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == whole.choices[0].message.content
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices]
    assert finishes[-1] == "stop" and set(finishes[:-1]) == {None}
    last = chunks[-1]
    assert last.choices == [] and last.usage.total_tokens == whole.usage.total_tokens
    assert all(c.usage is None for c in chunks[:-1])


def test_stream_without_usage_and_the_done_sentinel(raw):
    body = {"model": MODEL, "stream": True, "messages": [{"role": "user", "content": "hi"}]}
    with raw.stream("POST", "/chat/completions", json=body) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        lines = [line for line in response.iter_lines() if line]
    assert lines[-1] == "data: [DONE]"
    events = [json.loads(line[len("data: "):]) for line in lines[:-1]]
    assert all(line.startswith("data: ") for line in lines)
    assert all(event["choices"] for event in events) and all("usage" not in event for event in events)


def test_stream_errors_before_the_first_chunk(oai):
    with pytest.raises(openai.NotFoundError):
        oai.chat.completions.create(model="gemini-0-nope", stream=True, messages=[{"role": "user", "content": "x"}])


def test_stream_with_thoughts_and_n(oai):
    google = {"extra_body": {"google": {"thinking_config": {"include_thoughts": True}}}}
    whole = ask(oai, n=2, extra_body=google)
    texts = {0: "", 1: ""}
    for chunk in ask(oai, n=2, stream=True, extra_body=google):
        for choice in chunk.choices:
            texts[choice.index] += choice.delta.content or ""
    assert texts == {c.index: c.message.content for c in whole.choices}


# -- tools ----------------------------------------------------------------------------------------

def test_required_tool_choice_gives_a_tool_call(oai):
    response = ask(oai, "What should I wear in Paris?", tools=[WEATHER_TOOL], tool_choice="required")
    choice = response.choices[0]
    assert choice.finish_reason == "tool_calls"
    [call] = choice.message.tool_calls
    assert call.type == "function" and call.function.name == "get_weather" and call.id
    args = json.loads(call.function.arguments)
    assert isinstance(args["city"], str) and args["unit"] in ("celsius", "fahrenheit")


def test_auto_none_and_named_tool_choice(oai):
    auto = ask(oai, "Use get_weather for Rome", tools=[WEATHER_TOOL])
    assert auto.choices[0].message.tool_calls[0].function.name == "get_weather"
    assert ask(oai, "Tell me a story", tools=[WEATHER_TOOL]).choices[0].message.tool_calls is None
    none = ask(oai, "Use get_weather for Rome", tools=[WEATHER_TOOL], tool_choice="none")
    assert none.choices[0].message.tool_calls is None and none.choices[0].finish_reason == "stop"
    other = {"type": "function", "function": {"name": "get_time", "parameters": {"type": "object", "properties": {}}}}
    named = ask(oai, "Use get_weather for Rome", tools=[WEATHER_TOOL, other],
                tool_choice={"type": "function", "function": {"name": "get_time"}})
    assert named.choices[0].message.tool_calls[0].function.name == "get_time"


def test_tool_round_trip_maps_to_function_response(oai, gemini_mock):
    first = ask(oai, "Use get_weather for Rome", tools=[WEATHER_TOOL])
    call = first.choices[0].message.tool_calls[0]
    messages = [
        {"role": "user", "content": "Use get_weather for Rome"},
        first.choices[0].message.model_dump(exclude_none=True),
        {"role": "tool", "tool_call_id": call.id, "content": json.dumps({"temperature": 21, "sky": "clear"})},
    ]
    second = oai.chat.completions.create(model=MODEL, messages=messages, tools=[WEATHER_TOOL])
    assert second.choices[0].message.tool_calls is None
    assert second.choices[0].message.content.strip() and second.choices[0].finish_reason == "stop"
    # The thought signature the layer returned travels back with the call.
    assert call.model_extra["extra_content"]["google"]["thought_signature"]
    with pytest.raises(openai.BadRequestError):
        oai.chat.completions.create(model=MODEL, tools=[WEATHER_TOOL], messages=[
            *messages[:2], {"role": "tool", "tool_call_id": "call_unknown", "content": "{}"}])


def test_streamed_tool_call(oai):
    chunks = list(ask(oai, "What should I wear in Paris?", tools=[WEATHER_TOOL], tool_choice="required", stream=True))
    calls = [call for c in chunks for call in (c.choices[0].delta.tool_calls or [])]
    assert len(calls) == 1 and calls[0].index == 0 and calls[0].function.name == "get_weather"
    assert json.loads(calls[0].function.arguments)["city"]
    assert chunks[-1].choices[0].finish_reason == "tool_calls"


def test_same_function_call_as_the_native_api(oai, gemini_mock, native_client):
    response = ask(oai, "What should I wear in Paris?", tools=[WEATHER_TOOL], tool_choice="required")
    declaration = types.FunctionDeclaration(name="get_weather", description="Get the current weather in a city",
                                            parameters_json_schema=WEATHER_TOOL["function"]["parameters"])
    native = native_client.models.generate_content(
        model=MODEL, contents="What should I wear in Paris?",
        config=types.GenerateContentConfig(
            tools=[types.Tool(function_declarations=[declaration])],
            tool_config=types.ToolConfig(function_calling_config=types.FunctionCallingConfig(mode="ANY"))))
    assert json.loads(response.choices[0].message.tool_calls[0].function.arguments) == native.function_calls[0].args


# -- embeddings -----------------------------------------------------------------------------------

def test_embeddings_float_base64_and_dimensions(oai, http):
    floats = oai.embeddings.create(model=EMBEDDING_MODEL, input=["first text", "second text"],
                                   encoding_format="float")
    assert floats.object == "list" and [d.index for d in floats.data] == [0, 1]
    assert len(floats.data[0].embedding) == 3072 and floats.usage.prompt_tokens > 0
    default = oai.embeddings.create(model=EMBEDDING_MODEL, input=["first text", "second text"])  # base64 on the wire
    assert default.data[0].embedding == pytest.approx(floats.data[0].embedding, rel=1e-6, abs=1e-7)
    small = oai.embeddings.create(model=EMBEDDING_MODEL, input="first text", dimensions=8, encoding_format="float")
    assert len(small.data[0].embedding) == 8
    native = http.post(f"/v1beta/models/{EMBEDDING_MODEL}:embedContent",
                       json={"content": {"parts": [{"text": "first text"}]}, "outputDimensionality": 8})
    assert small.data[0].embedding == pytest.approx(native.json()["embedding"]["values"])


def test_embedding_usage_is_the_native_prompt_tokens(oai, http):
    texts = ["Your text string goes here", "and a second, longer text to embed"]
    usage = oai.embeddings.create(model=EMBEDDING_MODEL, input=texts).usage
    native = http.post(f"/v1beta/models/{EMBEDDING_MODEL}:batchEmbedContents", json={"requests": [
        {"model": f"models/{EMBEDDING_MODEL}", "content": {"parts": [{"text": t}]}} for t in texts]}).json()
    assert usage.prompt_tokens == usage.total_tokens == native["usageMetadata"]["promptTokenCount"] > 0


def test_embeddings_base64_wire_format(raw):
    body = {"model": EMBEDDING_MODEL, "input": "a", "dimensions": 4, "encoding_format": "base64"}
    encoded = raw.post("/embeddings", json=body).json()["data"][0]["embedding"]
    values = struct.unpack("<4f", base64.b64decode(encoded))
    floats = raw.post("/embeddings", json={**body, "encoding_format": "float"}).json()["data"][0]["embedding"]
    assert values == pytest.approx(floats)


def test_embedding_errors(oai):
    with pytest.raises(openai.BadRequestError):
        oai.embeddings.create(model=EMBEDDING_MODEL, input=[[1, 2, 3]])
    with pytest.raises(openai.BadRequestError):
        oai.embeddings.create(model=EMBEDDING_MODEL, input="x", dimensions=99999)
    with pytest.raises(openai.BadRequestError):
        oai.embeddings.create(model=MODEL, input="x")


# -- models ---------------------------------------------------------------------------------------

def test_models_list_and_retrieve(oai):
    models = list(oai.models.list())
    ids = [m.id for m in models]
    assert f"models/{MODEL}" in ids and f"models/{EMBEDDING_MODEL}" in ids
    assert all(m.object == "model" and m.owned_by == "google" for m in models)
    assert "models/text-bison-001" not in ids      # legacy PaLM models are not on this surface
    assert oai.models.retrieve(MODEL).id == f"models/{MODEL}"
    assert oai.models.retrieve(f"models/{MODEL}").id == f"models/{MODEL}"
    with pytest.raises(openai.NotFoundError) as error:
        oai.models.retrieve("gemini-0-nope")
    assert error.value.status_code == 404


# -- files ----------------------------------------------------------------------------------------

def test_file_upload_retrieve_list_delete(oai, gemini_mock, native_client):
    data = b'{"custom_id": "a"}\n'
    before = int(gemini_mock.store.now())
    created = oai.files.create(file=("requests.jsonl", io.BytesIO(data)), purpose="batch")
    assert created.id.startswith("files/") and created.object == "file"
    assert created.bytes == len(data) and created.filename == "requests.jsonl" and created.purpose == "batch"
    assert before <= created.created_at <= int(gemini_mock.store.now()) and created.status == "processed"
    assert created.expires_at == created.created_at + 48 * 3600
    # The id holds a '/', sent unencoded by the client: /files/files/{id}
    assert oai.files.retrieve(created.id).id == created.id
    assert [f.id for f in oai.files.list()] == [created.id]
    assert [f.id for f in oai.files.list(purpose="batch_output")] == []
    native = native_client.files.get(name=created.id)
    assert native.size_bytes == len(data) and native.mime_type == "application/jsonl"
    with pytest.raises(openai.BadRequestError):   # uploaded files cannot be downloaded, as natively
        oai.files.content(created.id)
    deleted = oai.files.delete(created.id)
    assert deleted.deleted and deleted.id == created.id
    with pytest.raises(openai.PermissionDeniedError):
        oai.files.retrieve(created.id)


def test_file_upload_needs_purpose_and_file(raw):
    response = raw.post("/files", files={"file": ("x.jsonl", b"{}\n")})
    assert response.status_code == 400 and "purpose" in response.json()[0]["error"]["message"]
    response = raw.post("/files", data={"purpose": "batch"}, files={"other": ("x.jsonl", b"{}\n")})
    assert response.status_code == 400


def test_files_are_per_key(oai, gemini_mock):
    created = oai.files.create(file=("a.jsonl", io.BytesIO(b"{}\n")), purpose="batch")
    other = openai.OpenAI(api_key=gemini_mock.other_key("b"), base_url=gemini_mock.base_url + "/v1beta/openai/",
                          max_retries=0)
    assert list(other.files.list()) == []
    with pytest.raises(openai.PermissionDeniedError):
        other.files.retrieve(created.id)


# -- batches --------------------------------------------------------------------------------------

def batch_line(custom_id: str, prompt: str, **body) -> dict:
    return {"custom_id": custom_id, "method": "POST", "url": "/v1/chat/completions",
            "body": {"model": MODEL, "messages": [{"role": "user", "content": prompt}], **body}}


def upload_jsonl(oai, lines: list[dict]):
    data = "".join(json.dumps(line) + "\n" for line in lines).encode()
    return oai.files.create(file=("batch.jsonl", io.BytesIO(data)), purpose="batch")


def test_batch_to_completion(oai, gemini_mock):
    source = upload_jsonl(oai, [batch_line("r1", "Tell me about the ocean"),
                                batch_line("r2", "Tell me about mountains", max_tokens=5, reasoning_effort="none"),
                                batch_line("r3", "Hello", tools=[WEATHER_TOOL], tool_choice="required")])
    batch = oai.batches.create(input_file_id=source.id, endpoint="/v1/chat/completions", completion_window="24h",
                               metadata={"description": "nightly"})
    assert batch.id.startswith("batches/") and batch.object == "batch"
    assert batch.status == "validating" and batch.input_file_id == source.id
    assert batch.endpoint == "/v1/chat/completions" and batch.metadata == {"description": "nightly"}
    assert batch.output_file_id is None and batch.request_counts.total == 3
    # the native job's 48 h expiry, not a window of the layer's own
    assert batch.expires_at == batch.created_at + 48 * 3600
    gemini_mock.advance(3600)
    done = oai.batches.retrieve(batch.id)       # /batches/batches/{id}, unencoded
    assert done.status == "completed" and done.completed_at >= done.created_at
    assert (done.request_counts.completed, done.request_counts.failed) == (3, 0)
    assert done.output_file_id and done.error_file_id is None
    output = oai.files.retrieve(done.output_file_id)
    assert output.purpose == "batch_output"
    lines = [json.loads(line) for line in oai.files.content(done.output_file_id).text.splitlines()]
    by_id = {line["custom_id"]: line for line in lines}
    assert set(by_id) == {"r1", "r2", "r3"}
    assert all(line["response"]["status_code"] == 200 and line["error"] is None for line in lines)
    ocean = by_id["r1"]["response"]["body"]
    assert ocean["object"] == "chat.completion"
    assert ocean["choices"][0]["message"]["content"] == ask(oai).choices[0].message.content
    assert by_id["r2"]["response"]["body"]["choices"][0]["finish_reason"] == "length"
    assert by_id["r3"]["response"]["body"]["choices"][0]["message"]["tool_calls"][0]["function"]["name"] == "get_weather"
    assert oai.batches.retrieve(batch.id).output_file_id == done.output_file_id   # converted once
    assert [b.id for b in oai.batches.list()] == [batch.id]


def test_batch_requests_that_fail_go_to_the_error_file(oai, gemini_mock):
    source = upload_jsonl(oai, [batch_line("ok", "hi"), batch_line("bad", "hi", temperature=9.5)])
    batch = oai.batches.create(input_file_id=source.id, endpoint="/v1/chat/completions", completion_window="24h")
    gemini_mock.advance(3600)
    done = oai.batches.retrieve(batch.id)
    assert done.status == "completed"
    assert (done.request_counts.completed, done.request_counts.failed) == (1, 1)
    [line] = [json.loads(x) for x in oai.files.content(done.error_file_id).text.splitlines()]
    assert line["custom_id"] == "bad" and line["response"]["status_code"] == 400
    assert line["response"]["body"][0]["error"]["status"] == "INVALID_ARGUMENT"


def embedding_line(custom_id: str, text, **body) -> dict:
    return {"custom_id": custom_id, "method": "POST", "url": "/v1/embeddings",
            "body": {"model": EMBEDDING_MODEL, "input": text, **body}}


def test_embeddings_batch(oai, gemini_mock):
    texts = ["Tell me a one-sentence joke.", "Why is the sky blue?"]
    source = upload_jsonl(oai, [embedding_line("e1", texts[0]),
                                embedding_line("e2", [texts[1]], dimensions=4, encoding_format="base64"),
                                embedding_line("e3", "too big", dimensions=99999)])
    batch = oai.batches.create(input_file_id=source.id, endpoint="/v1/embeddings", completion_window="24h")
    assert batch.endpoint == "/v1/embeddings" and batch.request_counts.total == 3
    gemini_mock.advance(3600)
    done = oai.batches.retrieve(batch.id)
    assert done.status == "completed" and (done.request_counts.completed, done.request_counts.failed) == (2, 1)
    [failed] = [json.loads(x) for x in oai.files.content(done.error_file_id).text.splitlines()]
    assert failed["custom_id"] == "e3" and failed["response"]["status_code"] == 400
    output = oai.files.content(done.output_file_id).text.splitlines()
    lines = {line["custom_id"]: line for line in map(json.loads, output)}
    for custom_id, text, options in (("e1", texts[0], {}), ("e2", texts[1], {"dimensions": 4})):
        body = lines[custom_id]["response"]["body"]
        direct = oai.embeddings.create(model=EMBEDDING_MODEL, input=text, encoding_format="float", **options)
        assert body["object"] == "list" and body["usage"] == direct.usage.model_dump()
        values = body["data"][0]["embedding"]
        if custom_id == "e2":   # base64 little-endian float32, as the direct call sends it
            values = list(struct.unpack("<4f", base64.b64decode(values)))
        assert values == pytest.approx(direct.data[0].embedding)


def test_batch_cancel_and_list(oai, gemini_mock):
    first = oai.batches.create(input_file_id=upload_jsonl(oai, [batch_line("a", "x")]).id,
                               endpoint="/v1/chat/completions", completion_window="24h")
    second = oai.batches.create(input_file_id=upload_jsonl(oai, [batch_line("b", "y")]).id,
                                endpoint="/v1/chat/completions", completion_window="24h")
    cancelled = oai.batches.cancel(first.id)
    assert cancelled.status == "cancelled" and cancelled.cancelled_at is not None
    listed = oai.batches.list()
    assert [b.id for b in listed] == [second.id, first.id]
    page = oai.batches.list(limit=1)
    assert [b.id for b in page.data] == [second.id] and page.has_more
    assert [b.id for b in page] == [second.id, first.id]     # the SDK pages on with `after`
    with pytest.raises(openai.BadRequestError):   # already ended
        oai.batches.cancel(first.id)
    with pytest.raises(openai.NotFoundError):
        oai.batches.retrieve("batches/nope")


def test_batch_input_is_checked(oai):
    bad_url = upload_jsonl(oai, [{**batch_line("a", "x"), "url": "/v1/embeddings"}])
    twice = upload_jsonl(oai, [batch_line("a", "x"), batch_line("a", "y")])
    no_messages = upload_jsonl(oai, [{"custom_id": "a", "url": "/v1/chat/completions", "body": {"model": MODEL}}])
    for source in (bad_url, twice, no_messages):
        with pytest.raises(openai.BadRequestError):
            oai.batches.create(input_file_id=source.id, endpoint="/v1/chat/completions", completion_window="24h")
    two_texts = upload_jsonl(oai, [embedding_line("a", ["x", "y"])])     # a native batch line embeds one text
    chat_model = upload_jsonl(oai, [{**embedding_line("a", "x"), "body": {"model": MODEL, "input": "x"}}])
    for source in (two_texts, chat_model):
        with pytest.raises(openai.BadRequestError):
            oai.batches.create(input_file_id=source.id, endpoint="/v1/embeddings", completion_window="24h")
    with pytest.raises(openai.BadRequestError):
        oai.batches.create(input_file_id=two_texts.id, endpoint="/v1/completions", completion_window="24h")
    with pytest.raises(openai.BadRequestError):
        oai.batches.create(input_file_id=twice.id, endpoint="/v1/embeddings", completion_window="24h")
    with pytest.raises(openai.PermissionDeniedError):
        oai.batches.create(input_file_id="files/nope", endpoint="/v1/chat/completions", completion_window="24h")


# -- errors ---------------------------------------------------------------------------------------

def test_errors_raise_the_matching_openai_exceptions(oai):
    with pytest.raises(openai.NotFoundError) as not_found:
        oai.chat.completions.create(model="gemini-0-nope", messages=[{"role": "user", "content": "x"}])
    assert not_found.value.status_code == 404
    with pytest.raises(openai.BadRequestError) as bad:
        oai.chat.completions.create(model=MODEL, messages=[])
    assert bad.value.status_code == 400
    with pytest.raises(openai.BadRequestError):
        oai.chat.completions.create(model=MODEL, messages=[{"role": "wizard", "content": "x"}])
    with pytest.raises(openai.BadRequestError):
        ask(oai, temperature=5)
    with pytest.raises(openai.BadRequestError):
        ask(oai, extra_body={"web_search_options": {}})


def test_error_body_is_the_native_envelope_in_a_list(raw):
    response = raw.post("/chat/completions", json={"model": "gemini-0-nope", "messages": [{"role": "user",
                                                                                          "content": "x"}]})
    assert response.status_code == 404
    [item] = response.json()
    assert item["error"]["code"] == 404 and item["error"]["status"] == "NOT_FOUND" and item["error"]["message"]
    unknown = raw.get("/images/generations")
    assert unknown.status_code == 404 and unknown.json()[0]["error"]["status"] == "NOT_FOUND"


def test_a_missing_key_is_permission_denied(gemini_mock):
    response = httpx.post(gemini_mock.base_url + "/v1beta/openai/chat/completions",
                          json={"model": MODEL, "messages": [{"role": "user", "content": "x"}]})
    assert response.status_code == 403 and response.json()[0]["error"]["status"] == "PERMISSION_DENIED"
    response = httpx.get(gemini_mock.base_url + "/v1beta/openai/models", headers={"Authorization": "Bearer"})
    assert response.status_code == 403


def test_the_native_api_keeps_its_error_shape(http):
    response = http.post("/v1beta/models/gemini-0-nope:generateContent",
                         json={"contents": [{"parts": [{"text": "x"}]}]})
    assert response.status_code == 404 and response.json()["error"]["status"] == "NOT_FOUND"


# -- the pure mappings ----------------------------------------------------------------------------

def test_messages_map_to_native_contents():
    system, contents = layer.messages_to_native([
        {"role": "developer", "content": "rules"},
        {"role": "user", "content": "weather in Rome and Oslo?"},
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "c1", "type": "function", "function": {"name": "w", "arguments": '{"city": "Rome"}'}},
            {"id": "c2", "type": "function", "function": {"name": "w", "arguments": '{"city": "Oslo"}'},
             "extra_content": {"google": {"thought_signature": "c2ln"}}}]},
        {"role": "tool", "tool_call_id": "c1", "content": '{"t": 20}'},
        {"role": "tool", "tool_call_id": "c2", "content": "cold"},
    ])
    assert system == {"parts": [{"text": "rules"}]}
    assert contents == [
        {"role": "user", "parts": [{"text": "weather in Rome and Oslo?"}]},
        {"role": "model", "parts": [{"functionCall": {"name": "w", "args": {"city": "Rome"}}},
                                    {"functionCall": {"name": "w", "args": {"city": "Oslo"}},
                                     "thoughtSignature": "c2ln"}]},
        {"role": "user", "parts": [{"functionResponse": {"name": "w", "response": {"t": 20}}},
                                   {"functionResponse": {"name": "w", "response": {"result": "cold"}}}]},
    ]


def test_chat_request_maps_options():
    chat = layer.chat_to_native({
        "model": MODEL, "messages": [{"role": "user", "content": "x"}], "n": 2, "max_tokens": 10, "stop": "END",
        "temperature": 0.5, "top_p": 0.8, "seed": 3, "reasoning_effort": "low",
        "response_format": {"type": "json_schema", "json_schema": {"name": "s", "schema": {"type": "object"}}},
        "tool_choice": "required", "tools": [WEATHER_TOOL], "stream": True, "stream_options": {"include_usage": True},
        "extra_body": {"google": {"cached_content": "cachedContents/c"}}})
    assert chat.stream and chat.include_usage
    request = chat.request
    assert request["generationConfig"] == {
        "candidateCount": 2, "maxOutputTokens": 10, "stopSequences": ["END"], "temperature": 0.5, "topP": 0.8,
        "seed": 3, "responseMimeType": "application/json", "responseJsonSchema": {"type": "object"},
        "thinkingConfig": {"thinkingBudget": 1024}}
    assert request["toolConfig"] == {"functionCallingConfig": {"mode": "ANY"}}
    assert request["tools"][0]["functionDeclarations"][0]["parametersJsonSchema"] == WEATHER_TOOL["function"]["parameters"]
    assert request["cachedContent"] == "cachedContents/c"


def test_stream_chunks_wrap_thoughts_and_report_usage_last():
    chunks = [
        {"responseId": "r", "candidates": [{"index": 0, "content": {"parts": [{"text": "hm", "thought": True}]}}]},
        {"responseId": "r", "candidates": [{"index": 0, "content": {"parts": [{"text": "Hi"}]}}]},
        {"responseId": "r", "candidates": [{"index": 0, "content": {"parts": [{"text": "!"}]}, "finishReason": "STOP"}],
         "usageMetadata": {"promptTokenCount": 2, "candidatesTokenCount": 2, "thoughtsTokenCount": 1,
                           "totalTokenCount": 5}},
    ]
    events = layer.chat_chunks(chunks, model="m", created=1, include_usage=True)
    text = "".join(e["choices"][0]["delta"].get("content", "") for e in events if e["choices"])
    assert text == "<thought>hm</thought>Hi!"
    assert events[-1]["choices"] == [] and events[-1]["usage"] == {
        "prompt_tokens": 2, "completion_tokens": 3, "total_tokens": 5,
        "completion_tokens_details": {"reasoning_tokens": 1}}
    assert layer.finish_reason("MAX_TOKENS", False) == "length"
    assert layer.finish_reason("SAFETY", False) == "content_filter"
    assert layer.finish_reason("STOP", True) == "tool_calls"
