"""The v1beta generation surface driven by the real google-genai SDK, on /v1 (its default) and /v1beta."""
from __future__ import annotations

import math
import shutil
import subprocess

import pytest
from google.genai import errors, types

from gemini_mockserver.generation.tokens import count_text
from support import validate_response, wav_bytes
from support.paths import AUDIO_FIXTURES

MODEL = "gemini-2.5-flash"




@pytest.fixture(params=["v1", "v1beta"])
def sdk(request, gemini_mock):
    return gemini_mock.client() if request.param == "v1" else gemini_mock.client(api_version="v1beta")


def test_generate_content(sdk):
    response = sdk.models.generate_content(model=MODEL, contents="Tell me about the ocean")
    assert response.text and response.text.strip()
    assert response.candidates[0].finish_reason == types.FinishReason.STOP
    usage = response.usage_metadata
    assert usage.total_token_count == (usage.prompt_token_count + usage.candidates_token_count
                                       + (usage.thoughts_token_count or 0))
    assert response.response_id and response.model_version


def test_generation_is_deterministic_and_depends_on_the_prompt(sdk):
    first = sdk.models.generate_content(model=MODEL, contents="Tell me about the ocean")
    again = sdk.models.generate_content(model=MODEL, contents="Tell me about the ocean")
    other = sdk.models.generate_content(model=MODEL, contents="Tell me about mountains")
    assert first.text == again.text and first.response_id == again.response_id
    assert first.text != other.text


def test_the_seed_changes_the_answer(gemini_mock):
    client = gemini_mock.client()
    before = client.models.generate_content(model=MODEL, contents="hello").text
    gemini_mock.store.config.patch({"seed": 42})
    assert client.models.generate_content(model=MODEL, contents="hello").text != before


def test_response_matches_the_recorded_schema(beta_client, http):
    raw = http.post(f"/v1beta/models/{MODEL}:generateContent",
                    json={"contents": [{"parts": [{"text": "hi"}]}]}).json()
    validate_response("v1beta", "GenerateContentResponse", raw)


def test_system_instruction_multi_turn_and_candidates(sdk):
    # thinking off: on 2.5 models thoughts count against maxOutputTokens, as on the real API
    config = types.GenerateContentConfig(system_instruction="You are a pirate", candidate_count=3,
                                         max_output_tokens=200,
                                         thinking_config=types.ThinkingConfig(thinking_budget=0))
    contents = [types.Content(role="user", parts=[types.Part(text="hello")]),
                types.Content(role="model", parts=[types.Part(text="ahoy")]),
                types.Content(role="user", parts=[types.Part(text="where is the treasure?")])]
    response = sdk.models.generate_content(model=MODEL, contents=contents, config=config)
    assert len(response.candidates) == 3
    texts = {c.content.parts[-1].text for c in response.candidates}
    assert len(texts) == 3
    plain = sdk.models.generate_content(model=MODEL, contents=contents)
    assert plain.text != response.text


def test_thoughts_count_against_max_output_tokens(sdk):
    """As on the real 2.5 models: a small budget can be spent on thinking before any text."""
    response = sdk.models.generate_content(model=MODEL, contents="Write a long story",
                                           config=types.GenerateContentConfig(max_output_tokens=5))
    assert response.candidates[0].finish_reason == types.FinishReason.MAX_TOKENS
    usage = response.usage_metadata
    assert (usage.thoughts_token_count or 0) + (usage.candidates_token_count or 0) <= 5


def test_max_output_tokens_truncates(sdk):
    config = types.GenerateContentConfig(max_output_tokens=5, thinking_config=types.ThinkingConfig(thinking_budget=0))
    response = sdk.models.generate_content(model=MODEL, contents="Write a long story", config=config)
    assert response.candidates[0].finish_reason == types.FinishReason.MAX_TOKENS
    assert response.usage_metadata.candidates_token_count <= 5


def test_json_output_follows_the_response_schema(sdk):
    schema = {"type": "OBJECT", "properties": {
        "name": {"type": "STRING"}, "age": {"type": "INTEGER", "minimum": 0, "maximum": 120},
        "tags": {"type": "ARRAY", "items": {"type": "STRING", "enum": ["a", "b"]}}}, "required": ["name", "age"]}
    config = types.GenerateContentConfig(response_mime_type="application/json", response_schema=schema)
    response = sdk.models.generate_content(model=MODEL, contents="A person", config=config)
    data = response.parsed if isinstance(response.parsed, dict) else __import__("json").loads(response.text)
    assert isinstance(data["name"], str) and 0 <= data["age"] <= 120
    assert all(tag in ("a", "b") for tag in data.get("tags", []))


def test_json_output_follows_a_json_schema(sdk):
    import json

    import jsonschema
    schema = {"type": "object", "properties": {"id": {"type": "integer"}, "when": {"type": "string", "format": "date"}},
              "required": ["id", "when"], "additionalProperties": False}
    config = types.GenerateContentConfig(response_mime_type="application/json", response_json_schema=schema)
    response = sdk.models.generate_content(model=MODEL, contents="An event", config=config)
    jsonschema.validate(json.loads(response.text), schema)


def test_function_call_in_any_mode_has_valid_args(sdk):
    weather = types.FunctionDeclaration(name="get_weather", description="Get the weather for a city",
                                        parameters={"type": "OBJECT", "properties": {
                                            "city": {"type": "STRING"}, "days": {"type": "INTEGER"}},
                                            "required": ["city"]})
    config = types.GenerateContentConfig(
        tools=[types.Tool(function_declarations=[weather])],
        tool_config=types.ToolConfig(function_calling_config=types.FunctionCallingConfig(mode="ANY")),
        automatic_function_calling=types.AutomaticFunctionCallingConfig(disable=True))
    response = sdk.models.generate_content(model=MODEL, contents="What's up?", config=config)
    call = response.function_calls[0]
    assert call.name == "get_weather" and isinstance(call.args["city"], str)
    none = sdk.models.generate_content(model=MODEL, contents="What's up?", config=config.model_copy(update={
        "tool_config": types.ToolConfig(function_calling_config=types.FunctionCallingConfig(mode="NONE"))}))
    assert not none.function_calls and none.text


def test_function_response_turn_gets_text(sdk):
    contents = [
        types.Content(role="user", parts=[types.Part(text="weather in Paris?")]),
        types.Content(role="model", parts=[types.Part(function_call=types.FunctionCall(name="get_weather", args={"city": "Paris"}))]),
        types.Content(role="user", parts=[types.Part(function_response=types.FunctionResponse(name="get_weather", response={"temp": 21}))]),
    ]
    tool = types.Tool(function_declarations=[types.FunctionDeclaration(name="get_weather", description="weather")])
    response = sdk.models.generate_content(model=MODEL, contents=contents,
                                           config=types.GenerateContentConfig(tools=[tool]))
    assert response.text and not response.function_calls


def test_thinking_with_thoughts_included(sdk):
    config = types.GenerateContentConfig(thinking_config=types.ThinkingConfig(include_thoughts=True, thinking_budget=1024))
    response = sdk.models.generate_content(model=MODEL, contents="Solve a riddle", config=config)
    parts = response.candidates[0].content.parts
    assert parts[0].thought is True and parts[0].text
    assert response.usage_metadata.thoughts_token_count > 0
    assert parts[0].text not in (response.text or "")


def test_every_generation_option_the_sdk_offers_is_accepted(sdk):
    config = types.GenerateContentConfig(
        system_instruction="be nice", temperature=0.2, top_p=0.9, top_k=20, candidate_count=1,
        max_output_tokens=5000, stop_sequences=["zzz"], response_logprobs=False, presence_penalty=0.1,
        frequency_penalty=0.1, seed=1, response_mime_type="text/plain", response_modalities=["TEXT"],
        media_resolution="MEDIA_RESOLUTION_LOW",
        speech_config=types.SpeechConfig(voice_config=types.VoiceConfig(
            prebuilt_voice_config=types.PrebuiltVoiceConfig(voice_name="Kore"))),
        safety_settings=[types.SafetySetting(category="HARM_CATEGORY_HARASSMENT", threshold="BLOCK_NONE")],
        thinking_config=types.ThinkingConfig(thinking_level="LOW", include_thoughts=False),
        labels=None,
    )
    response = sdk.models.generate_content(model="gemini-3.8-flash", contents="hi", config=config)
    assert response.text


def test_streaming_chunks_concatenate_to_the_answer(sdk):
    whole = sdk.models.generate_content(model=MODEL, contents="Tell me about rivers")
    chunks = list(sdk.models.generate_content_stream(model=MODEL, contents="Tell me about rivers"))
    assert len(chunks) >= 3
    assert "".join(c.text or "" for c in chunks) == whole.text
    assert all(c.usage_metadata is not None for c in chunks)
    assert chunks[-1].candidates[0].finish_reason == types.FinishReason.STOP
    assert chunks[-1].usage_metadata.total_token_count == whole.usage_metadata.total_token_count


def test_stream_without_sse_is_a_json_array(http):
    response = http.post(f"/v1beta/models/{MODEL}:streamGenerateContent",
                         json={"contents": [{"parts": [{"text": "Tell me about rivers"}]}]})
    chunks = response.json()
    assert isinstance(chunks, list) and len(chunks) >= 3
    sse = http.post(f"/v1beta/models/{MODEL}:streamGenerateContent?alt=sse",
                    json={"contents": [{"parts": [{"text": "Tell me about rivers"}]}]})
    assert sse.headers["content-type"].startswith("text/event-stream")
    events = [line for line in sse.text.split("\r\n\r\n") if line]
    assert all(e.startswith("data: ") for e in events) and len(events) == len(chunks)


def test_count_tokens_matches_the_prompt_count(sdk):
    contents = "How many tokens is this sentence, exactly?"
    counted = sdk.models.count_tokens(model=MODEL, contents=contents).total_tokens
    used = sdk.models.generate_content(model=MODEL, contents=contents).usage_metadata.prompt_token_count
    assert counted == used > 0


def test_sixty_seconds_of_wav_audio_is_1920_tokens(sdk):
    part = types.Part.from_bytes(data=wav_bytes(60), mime_type="audio/wav")
    assert sdk.models.count_tokens(model=MODEL, contents=[part]).total_tokens == 1920


@pytest.mark.parametrize("name", ["mp3", "flac"])
def test_audio_fixtures_count_32_tokens_a_second(sdk, name):
    from gemini_mockserver.generation.audio import duration_seconds

    folder = AUDIO_FIXTURES
    path = next(folder.glob(f"*.{name}"))
    mime = {"mp3": "audio/mp3", "flac": "audio/flac"}[name]
    seconds = duration_seconds(path, mime)
    part = types.Part.from_bytes(data=path.read_bytes(), mime_type=mime)
    total = sdk.models.count_tokens(model=MODEL, contents=[part]).total_tokens
    assert total == math.ceil(seconds * 32) or total == round(seconds * 32)


def test_unsupported_or_broken_audio_is_400(sdk):
    with pytest.raises(errors.ClientError) as broken:
        sdk.models.count_tokens(model=MODEL, contents=[types.Part.from_bytes(data=b"not audio", mime_type="audio/wav")])
    assert broken.value.code == 400
    with pytest.raises(errors.ClientError) as unsupported:
        sdk.models.count_tokens(model=MODEL, contents=[types.Part.from_bytes(data=b"x", mime_type="audio/midi")])
    assert unsupported.value.code == 400


def test_embeddings(sdk):
    texts = ["the cat sat on the mat", "a cat sat on a mat", "stock prices fell"]
    result = sdk.models.embed_content(model="gemini-embedding-001", contents=texts)
    assert result.usage_metadata.prompt_token_count == sum(count_text(t) for t in texts) > 0
    vectors = [e.values for e in result.embeddings]
    assert all(len(v) == 3072 for v in vectors)
    assert all(abs(sum(x * x for x in v) - 1) < 1e-6 for v in vectors)

    def cosine(a, b):
        return sum(x * y for x, y in zip(a, b))
    assert cosine(vectors[0], vectors[1]) > cosine(vectors[0], vectors[2])
    small = sdk.models.embed_content(model="gemini-embedding-001", contents="hello",
                                     config=types.EmbedContentConfig(output_dimensionality=8))
    assert len(small.embeddings[0].values) == 8


def test_batch_embed_contents_usage_on_the_wire(http):
    requests = [{"model": "models/gemini-embedding-001", "content": {"parts": [{"text": text}]}}
                for text in ("What is the meaning of life?", "How does the brain work?")]
    body = http.post("/v1beta/models/gemini-embedding-001:batchEmbedContents", json={"requests": requests}).json()
    validate_response("v1beta", "BatchEmbedContentsResponse", body)
    tokens = count_text("What is the meaning of life?") + count_text("How does the brain work?")
    # the embedding shape: promptTokenDetails (singular "Token") and no totalTokenCount
    assert body["usageMetadata"] == {"promptTokenCount": tokens,
                                     "promptTokenDetails": [{"modality": "TEXT", "tokenCount": tokens}]}


def test_embed_content_method(http):
    response = http.post("/v1beta/models/text-embedding-004:embedContent",
                         json={"content": {"parts": [{"text": "hello"}]}})
    assert len(response.json()["embedding"]["values"]) == 768


def test_models_list_pages_and_get(sdk):
    pager = sdk.models.list(config={"page_size": 3})
    names = [m.name for m in pager]
    assert "models/gemini-2.5-flash" in names and "models/gemini-embedding-001" in names
    assert len(names) == len(set(names)) >= 12
    model = sdk.models.get(model=MODEL)
    assert model.input_token_limit == 1048576 and "generateContent" in model.supported_actions


def test_unknown_model_is_404_through_the_sdk(sdk):
    with pytest.raises(errors.ClientError) as caught:
        sdk.models.generate_content(model="gemini-0-nothing", contents="hi")
    assert caught.value.code == 404 and caught.value.status == "NOT_FOUND"


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_the_seed_curl_example_for_generate_content(gemini_mock):
    script = f"""
 curl "{gemini_mock.base_url}/v1beta/models/gemini-2.5-flash:generateContent" \\
 -H 'Content-Type: application/json' \\
 -H "x-goog-api-key: {gemini_mock.api_key}" \\
 -X POST \\
 -d '{{
 "contents": [
 {{
 "parts": [
 {{
 "text": "Explain how AI works in a few words"
 }}
 ]
 }}
 ]
 }}'
"""
    import json
    out = subprocess.run(["bash", "-c", script], capture_output=True, text=True, check=True).stdout
    body = json.loads(out)
    assert body["candidates"][0]["content"]["parts"][0]["text"]
    assert body["usageMetadata"]["promptTokenCount"] > 0
