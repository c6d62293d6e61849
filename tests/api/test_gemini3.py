"""Gemini 3 semantics (generation/gemini3.py) through google-genai 3.6.1 and raw HTTP."""
from __future__ import annotations

import base64

import pytest
from google.genai import errors, types

from support import assert_envelope, validate_response
from support.media import png

MODEL = "gemini-3.8-flash"
WEATHER = types.Tool(function_declarations=[types.FunctionDeclaration(
    name="get_weather", description="the weather of a city",
    parameters={"type": "OBJECT", "properties": {"city": {"type": "STRING"}}, "required": ["city"]})])
NO_AFC = types.AutomaticFunctionCallingConfig(disable=True)
ASK = "What is the weather in Paris? Call get_weather."


# -- thinking levels ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("model, level", [("gemini-3.8-flash", "high"), ("gemini-3.6-flash", "minimal"),
                                          ("gemini-3.1-pro-preview", "medium"), ("gemini-3-flash-preview", "low")])
def test_a_level_the_model_takes(beta_client, model, level):
    config = types.GenerateContentConfig(thinking_config=types.ThinkingConfig(thinking_level=level))
    response = beta_client.models.generate_content(model=model, contents="Plan a trip to Lyon", config=config)
    assert response.text and response.usage_metadata.thoughts_token_count > 0


def test_levels_order_the_thinking(beta_client):
    def thoughts(level):
        config = types.GenerateContentConfig(thinking_config=types.ThinkingConfig(thinking_level=level))
        return beta_client.models.generate_content(model="gemini-3.6-flash", contents="Plan a trip",
                                                   config=config).usage_metadata.thoughts_token_count
    assert thoughts("minimal") <= 40 < 200 <= thoughts("high")


@pytest.mark.parametrize("model, level, words", [
    ("gemini-3.8-flash", "MINIMAL", "MINIMAL is not supported by models/gemini-3.8-flash"),
    ("gemini-3-pro-preview", "MEDIUM", "Supported thinking levels: LOW, HIGH"),
    ("gemini-2.5-flash-lite", "LOW", "Thinking level is not supported for models/gemini-2.5-flash-lite"),
])
def test_a_level_the_model_does_not_take_is_a_400_naming_the_field(http, model, level, words):
    body = {"contents": [{"parts": [{"text": "hi"}]}],
            "generationConfig": {"thinkingConfig": {"thinkingLevel": level}}}
    error = assert_envelope(http.post(f"/v1beta/models/{model}:generateContent", json=body), 400,
                            "INVALID_ARGUMENT", field="generationConfig.thinkingConfig.thinkingLevel")
    assert words in error["message"]


def test_level_and_budget_together_are_refused(http):
    body = {"contents": [{"parts": [{"text": "hi"}]}],
            "generationConfig": {"thinkingConfig": {"thinkingLevel": "LOW", "thinkingBudget": 100}}}
    assert_envelope(http.post(f"/v1beta/models/{MODEL}:generateContent", json=body), 400, "INVALID_ARGUMENT",
                    field="generationConfig.thinkingConfig")


# -- thought signatures -------------------------------------------------------------------------------------

def _call(client):
    config = types.GenerateContentConfig(tools=[WEATHER], automatic_function_calling=NO_AFC)
    response = client.models.generate_content(model=MODEL, contents=ASK, config=config)
    return config, response


def test_function_calls_carry_a_signature_and_replay_works(beta_client):
    config, response = _call(beta_client)
    part = response.candidates[0].content.parts[-1]
    assert part.function_call.name == "get_weather" and part.thought_signature
    assert _call(beta_client)[1].candidates[0].content.parts[-1].thought_signature == part.thought_signature
    history = [types.Content(role="user", parts=[types.Part(text=ASK)]), response.candidates[0].content,
               types.Content(role="user", parts=[types.Part.from_function_response(name="get_weather",
                                                                                 response={"temp": 20})])]
    assert beta_client.models.generate_content(model=MODEL, contents=history, config=config).text


def test_a_scripted_call_is_signed_too(gemini_mock, beta_client):
    gemini_mock.rules.function_call("get_weather", {"city": "Paris"})
    part = _call(beta_client)[1].candidates[0].content.parts[0]
    assert part.function_call.args == {"city": "Paris"} and part.thought_signature


def test_a_missing_signature_in_the_current_turn_is_the_documented_400(beta_client, http):
    config, response = _call(beta_client)
    stripped = types.Content(role="model", parts=[types.Part(function_call=response.function_calls[0])])
    answer = types.Content(role="user", parts=[types.Part.from_function_response(name="get_weather",
                                                                               response={"temp": 20})])
    with pytest.raises(errors.ClientError) as caught:
        beta_client.models.generate_content(
            model=MODEL, contents=[types.Content(role="user", parts=[types.Part(text=ASK)]), stripped, answer],
            config=config)
    assert caught.value.code == 400
    assert caught.value.message.startswith("Function call is missing a thought_signature in functionCall parts.")
    assert "`default_api:get_weather` , position 2" in caught.value.message
    # Raw REST: the field is named; the documented dummy signature passes; an earlier turn is not checked.
    call = {"functionCall": {"name": "get_weather", "args": {"city": "Paris"}}}
    reply = {"functionResponse": {"name": "get_weather", "response": {"temp": 20}}}
    turn = [{"role": "user", "parts": [{"text": ASK}]}, {"role": "model", "parts": [call]},
            {"role": "user", "parts": [reply]}]
    body = {"contents": turn, "tools": [{"functionDeclarations": [{"name": "get_weather"}]}]}
    assert_envelope(http.post(f"/v1beta/models/{MODEL}:generateContent", json=body), 400, "INVALID_ARGUMENT",
                    field="contents[1].parts[0].thoughtSignature")
    dummy = dict(call, thoughtSignature="skip_thought_signature_validator")
    body["contents"] = [turn[0], {"role": "model", "parts": [dummy]}, turn[2]]
    assert http.post(f"/v1beta/models/{MODEL}:generateContent", json=body).status_code == 200
    body["contents"] = turn + [{"role": "model", "parts": [{"text": "It is 20 degrees."}]},
                               {"role": "user", "parts": [{"text": "Thanks! And tomorrow?"}]}]
    assert http.post(f"/v1beta/models/{MODEL}:generateContent", json=body).status_code == 200
    # Gemini 2.5 does not enforce it.
    body["contents"] = turn
    assert http.post("/v1beta/models/gemini-2.5-flash-lite:generateContent", json=body).status_code == 200


def test_only_the_first_of_parallel_calls_needs_one(http):
    first = {"functionCall": {"name": "a", "args": {}}, "thoughtSignature": "c2ln"}
    second = {"functionCall": {"name": "b", "args": {}}}
    replies = [{"functionResponse": {"name": n, "response": {}}} for n in ("a", "b")]
    body = {"contents": [{"role": "user", "parts": [{"text": "do a and b"}]},
                         {"role": "model", "parts": [first, second]}, {"role": "user", "parts": replies}],
            "tools": [{"functionDeclarations": [{"name": "a"}, {"name": "b"}]}]}
    response = http.post(f"/v1beta/models/{MODEL}:generateContent", json=body)
    assert response.status_code == 200, response.text
    validate_response("v1beta", "GenerateContentResponse", response.json())


# -- per-part media resolution --------------------------------------------------------------------------------

@pytest.mark.parametrize("resolution, tokens", [(None, 1120), ("MEDIA_RESOLUTION_LOW", 280),
                                                ("MEDIA_RESOLUTION_MEDIUM", 560), ("MEDIA_RESOLUTION_HIGH", 1120),
                                                ("MEDIA_RESOLUTION_ULTRA_HIGH", 2240)])
def test_per_part_media_resolution_sets_the_image_tokens(beta_client, resolution, tokens):
    part = types.Part.from_bytes(data=png(4, 4, rgb=b"\x00\x00\x00"), mime_type="image/png",
                                 media_resolution=types.PartMediaResolution(level=resolution) if resolution else None)
    counted = beta_client.models.count_tokens(model=MODEL, contents=[part])
    assert counted.total_tokens == tokens
    usage = beta_client.models.generate_content(model=MODEL, contents=[part, "What is this?"]).usage_metadata
    assert usage.prompt_token_count == tokens + beta_client.models.count_tokens(
        model=MODEL, contents="What is this?").total_tokens


def test_media_resolution_levels_mix_and_override_the_request_setting(http):
    data = base64.b64encode(png(4, 4, rgb=b"\x00\x00\x00")).decode()
    low = {"inlineData": {"mimeType": "image/png", "data": data}, "mediaResolution": {"level": "MEDIA_RESOLUTION_LOW"}}
    plain = {"inlineData": {"mimeType": "image/png", "data": data}}
    exact = dict(plain, mediaResolution={"numTokens": 99})
    body = {"contents": [{"parts": [low, plain, exact]}],
            "generationConfig": {"mediaResolution": "MEDIA_RESOLUTION_MEDIUM"}}
    counted = http.post(f"/v1beta/models/{MODEL}:countTokens", json={"generateContentRequest": dict(
        body, model=f"models/{MODEL}")}).json()
    assert counted["totalTokens"] == 280 + 560 + 99
    # Gemini 2.5 counts an image as 258 tokens whatever the part says.
    old = http.post("/v1beta/models/gemini-2.5-flash-lite:countTokens", json={"contents": [{"parts": [low]}]}).json()
    assert old["totalTokens"] == 258
    bad = dict(plain, mediaResolution={"numTokens": -3})
    assert_envelope(http.post(f"/v1beta/models/{MODEL}:countTokens", json={"contents": [{"parts": [bad]}]}), 400,
                    "INVALID_ARGUMENT", field="contents[0].parts[0].mediaResolution.numTokens")


# -- gemini-3.1-pro-preview-customtools ---------------------------------------------------------------------

def test_the_custom_tools_endpoint_is_3_1_pro_preview(beta_client):
    model = beta_client.models.get(model="gemini-3.1-pro-preview-customtools")
    pro = beta_client.models.get(model="gemini-3.1-pro-preview")
    assert (model.input_token_limit, model.output_token_limit) == (pro.input_token_limit, pro.output_token_limit)
    assert set(model.supported_actions) == set(pro.supported_actions)
    config = types.GenerateContentConfig(tools=[WEATHER], automatic_function_calling=NO_AFC)
    response = beta_client.models.generate_content(model="gemini-3.1-pro-preview-customtools", contents=ASK,
                                                   config=config)
    part = response.candidates[0].content.parts[0]
    assert part.function_call.name == "get_weather" and part.thought_signature


def test_the_custom_tools_endpoint_refuses_minimal_like_3_1_pro(http):
    body = {"contents": [{"parts": [{"text": "hi"}]}],
            "generationConfig": {"thinkingConfig": {"thinkingLevel": "MINIMAL"}}}
    error = assert_envelope(http.post("/v1beta/models/gemini-3.1-pro-preview-customtools:generateContent",
                                      json=body), 400, "INVALID_ARGUMENT",
                            field="generationConfig.thinkingConfig.thinkingLevel")
    assert "Supported thinking levels: LOW, MEDIUM, HIGH" in error["message"]
