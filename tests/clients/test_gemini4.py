"""Gemini 4 Argon through google-genai 3.6.1 and raw HTTP: the catalog entry, thinking levels, the one token
limit input and output share, explicit caching refused, thought signatures and the price row."""
from __future__ import annotations

import pytest
from google.genai import errors, types

from support import assert_envelope, validate_response

MODEL = "gemini-4-argon"
LIMIT = 1048576
BODY = {"contents": [{"parts": [{"text": "Explain how bees dance."}]}]}


def _level(level: str) -> types.GenerateContentConfig:
    return types.GenerateContentConfig(thinking_config=types.ThinkingConfig(thinking_level=level))


# -- the catalog --------------------------------------------------------------------------------------------

def test_models_get_and_list_show_argon(beta_client):
    model = beta_client.models.get(model=MODEL)
    assert (model.input_token_limit, model.output_token_limit, model.thinking) == (LIMIT, LIMIT, True)
    assert model.display_name == "Gemini 4 Argon"
    assert set(model.supported_actions) == {"generateContent", "countTokens"}
    assert f"models/{MODEL}" in {m.name for m in beta_client.models.list()}


# -- generateContent, stream, countTokens --------------------------------------------------------------------

def test_generate_content_thinks_at_medium_by_default(beta_client):
    default = beta_client.models.generate_content(model=MODEL, contents="Plan a trip to Lyon")
    assert default.text and default.candidates[0].finish_reason == types.FinishReason.STOP
    assert 100 <= default.usage_metadata.thoughts_token_count <= 500   # the MEDIUM range (engine.THOUGHT_TOKENS)


def test_stream_gives_the_same_answer(beta_client):
    whole = beta_client.models.generate_content(model=MODEL, contents="Tell me about bees")
    chunks = list(beta_client.models.generate_content_stream(model=MODEL, contents="Tell me about bees"))
    assert "".join(c.text or "" for c in chunks) == whole.text
    assert chunks[-1].candidates[0].finish_reason == types.FinishReason.STOP


def test_count_tokens_matches_the_prompt_usage(beta_client):
    counted = beta_client.models.count_tokens(model=MODEL, contents="Tell me about bees").total_tokens
    answer = beta_client.models.generate_content(model=MODEL, contents="Tell me about bees")
    assert counted == answer.usage_metadata.prompt_token_count > 0


def test_raw_http_answer_is_a_valid_response(http):
    response = http.post(f"/v1beta/models/{MODEL}:generateContent", json=BODY)
    assert response.status_code == 200, response.text
    validate_response("v1beta", "GenerateContentResponse", response.json())


# -- thinking levels ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("level", ["low", "medium", "high"])
def test_the_documented_levels_are_taken(beta_client, level):
    response = beta_client.models.generate_content(model=MODEL, contents="Plan a trip", config=_level(level))
    assert response.text and response.usage_metadata.thoughts_token_count > 0


def test_minimal_is_refused_through_the_sdk(beta_client):
    with pytest.raises(errors.ClientError) as caught:
        beta_client.models.generate_content(model=MODEL, contents="hi", config=_level("minimal"))
    assert caught.value.code == 400 and "Supported thinking levels: LOW, MEDIUM, HIGH" in caught.value.message


def test_minimal_is_a_400_naming_the_field(http):
    body = {**BODY, "generationConfig": {"thinkingConfig": {"thinkingLevel": "MINIMAL"}}}
    assert_envelope(http.post(f"/v1beta/models/{MODEL}:generateContent", json=body), 400, "INVALID_ARGUMENT",
                    field="generationConfig.thinkingConfig.thinkingLevel")


# -- the unified token limit --------------------------------------------------------------------------------

def test_output_may_use_the_limit_minus_the_input(beta_client):
    prompt = beta_client.models.count_tokens(model=MODEL, contents="Tell me about bees").total_tokens
    config = types.GenerateContentConfig(max_output_tokens=LIMIT - prompt)
    assert beta_client.models.generate_content(model=MODEL, contents="Tell me about bees", config=config).text
    config = types.GenerateContentConfig(max_output_tokens=LIMIT - prompt + 1)
    with pytest.raises(errors.ClientError) as caught:
        beta_client.models.generate_content(model=MODEL, contents="Tell me about bees", config=config)
    assert caught.value.code == 400 and f"at most {LIMIT - prompt}" in caught.value.message


def test_a_max_output_over_the_shared_limit_is_a_400_naming_the_field(http):
    body = {**BODY, "generationConfig": {"maxOutputTokens": LIMIT}}
    error = assert_envelope(http.post(f"/v1beta/models/{MODEL}:generateContent", json=body), 400,
                            "INVALID_ARGUMENT", field="generationConfig.maxOutputTokens")
    assert "input and output together" in error["message"]
    body = {**BODY, "generationConfig": {"maxOutputTokens": LIMIT + 1}}
    assert_envelope(http.post(f"/v1beta/models/{MODEL}:streamGenerateContent", json=body), 400,
                    "INVALID_ARGUMENT", field="generationConfig.maxOutputTokens")


def test_a_large_cap_on_another_model_keeps_its_own_range(http):
    """The shared-limit rule is Argon's: gemini-3.8-flash still refuses maxOutputTokens over 65,536 by range."""
    body = {**BODY, "generationConfig": {"maxOutputTokens": 65536}}
    assert http.post("/v1beta/models/gemini-3.8-flash:generateContent", json=body).status_code == 200
    body = {**BODY, "generationConfig": {"maxOutputTokens": 65537}}
    error = assert_envelope(http.post("/v1beta/models/gemini-3.8-flash:generateContent", json=body), 400,
                            "INVALID_ARGUMENT", field="generationConfig.maxOutputTokens")
    assert "supported range is from 1 (inclusive) to 65537 (exclusive)" in error["message"]


# -- explicit caching, thought signatures, price ------------------------------------------------------------

def test_explicit_caching_is_refused(http):
    body = {"model": f"models/{MODEL}", "contents": [{"role": "user", "parts": [{"text": "bees " * 7000}]}]}
    assert_envelope(http.post("/v1beta/cachedContents", json=body), 400, "INVALID_ARGUMENT", field="model")


def test_function_calls_carry_a_thought_signature_and_must_be_replayed(beta_client):
    weather = types.Tool(function_declarations=[types.FunctionDeclaration(
        name="get_weather", description="the weather of a city",
        parameters={"type": "OBJECT", "properties": {"city": {"type": "STRING"}}, "required": ["city"]})])
    config = types.GenerateContentConfig(
        tools=[weather], automatic_function_calling=types.AutomaticFunctionCallingConfig(disable=True))
    asked = "What is the weather in Paris? Call get_weather."
    response = beta_client.models.generate_content(model=MODEL, contents=asked, config=config)
    part = response.candidates[0].content.parts[0]
    assert part.function_call and part.thought_signature
    unsigned = types.Content(role="model", parts=[types.Part(function_call=part.function_call)])
    reply = types.Content(role="user", parts=[types.Part.from_function_response(
        name="get_weather", response={"weather": "sunny"})])
    with pytest.raises(errors.ClientError) as caught:
        beta_client.models.generate_content(model=MODEL, contents=[asked, unsigned, reply], config=config)
    assert caught.value.code == 400 and "thought_signature" in caught.value.message


def test_usage_is_priced_at_the_argon_rates(http):
    answer = http.post(f"/v1beta/models/{MODEL}:generateContent", json=BODY).json()["usageMetadata"]
    usage = http.get("/_mock/usage").json()
    [row] = [r for project in usage["projects"] for r in project["models"] if r["model"] == f"models/{MODEL}"]
    expected = (answer["promptTokenCount"] * 4.0
                + (answer["candidatesTokenCount"] + answer["thoughtsTokenCount"]) * 20.0) / 1_000_000
    assert row["paidTierCostUsd"] == pytest.approx(expected, abs=1e-6)
