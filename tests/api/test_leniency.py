"""Where the real API is lenient: enum names in any case, role `tool` for function results, an OBJECT
schema without properties, and the relaxed JSON bodies the documentation's curl examples send. Driven
through google-genai (its default /v1 and /v1beta) and raw HTTP; unknown values stay 400s naming the field."""
from __future__ import annotations

import json

import pytest
from google.genai import errors, types

from support import assert_envelope, validate_response

MODEL = "gemini-2.5-flash"
GEN = f"/v1beta/models/{MODEL}:generateContent"
PROMPT = {"contents": [{"parts": [{"text": "Explain how AI works in a few words"}]}]}


def _post(http, body: bytes, path: str = GEN):
    return http.post(path, content=body, headers={"content-type": "application/json"})


# -- enum names in any case --------------------------------------------------------------------------

def test_sdk_response_modalities_in_mixed_case(client):
    # the cookbook's `response_modalities=["Text"]`: the SDK sends the strings verbatim
    config = types.GenerateContentConfig(response_modalities=["Text"])
    response = client.models.generate_content(model=MODEL, contents="Say hi", config=config)
    assert response.text


@pytest.mark.parametrize("spelling", ["harm_category_harassment", "Harm_Category_Harassment"])
def test_harm_category_and_threshold_in_any_case_mean_the_exact_names(http, spelling):
    lower = {**PROMPT, "safetySettings": [{"category": spelling, "threshold": "block_none"}]}
    exact = {**PROMPT, "safetySettings": [{"category": "HARM_CATEGORY_HARASSMENT", "threshold": "BLOCK_NONE"}]}
    answer = http.post(GEN, json=lower)
    assert answer.status_code == 200, answer.text
    assert answer.json() == http.post(GEN, json=exact).json()


def test_lower_case_schema_types_give_the_same_answer_as_upper_case(http):
    def schema(case):
        return {"type": case("object"), "properties": {"name": {"type": case("string")},
                                                        "age": {"type": case("integer")}},
                "required": ["name", "age"]}
    body = lambda case: {**PROMPT, "generationConfig": {"responseMimeType": "application/json",
                                                        "responseSchema": schema(case)}}
    lower = http.post(GEN, json=body(str.lower))
    assert lower.status_code == 200, lower.text
    validate_response("v1beta", "GenerateContentResponse", lower.json())
    value = json.loads(lower.json()["candidates"][0]["content"]["parts"][0]["text"])
    assert isinstance(value["name"], str) and isinstance(value["age"], int)
    assert lower.json() == http.post(GEN, json=body(str.upper)).json()


def test_function_declaration_types_in_lower_case(http):
    body = {"contents": [{"parts": [{"text": "What is the weather in Paris?"}]}],
            "tools": [{"functionDeclarations": [{"name": "get_weather", "parameters": {
                "type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}]}],
            "toolConfig": {"functionCallingConfig": {"mode": "any"}}}
    answer = http.post(GEN, json=body)
    assert answer.status_code == 200, answer.text
    call = answer.json()["candidates"][0]["content"]["parts"][0]["functionCall"]
    assert call["name"] == "get_weather" and isinstance(call["args"]["city"], str)


@pytest.mark.parametrize("config, field", [
    ({"responseModalities": ["Texte"]}, "response_modalities[0]"),
    ({"mediaResolution": "media_resolution_huge"}, "media_resolution"),
])
def test_unknown_enum_values_stay_400_naming_the_field(http, config, field):
    error = assert_envelope(http.post(GEN, json={**PROMPT, "generationConfig": config}), 400, "INVALID_ARGUMENT")
    assert field in error["message"]


def test_unknown_lower_case_harm_category_is_400(http):
    body = {**PROMPT, "safetySettings": [{"category": "harm_category_nope", "threshold": "block_none"}]}
    error = assert_envelope(http.post(GEN, json=body), 400, "INVALID_ARGUMENT")
    assert "safety_settings[0].category" in error["message"]


# -- role `tool` ---------------------------------------------------------------------------------------

def _weather_turns(role: str) -> list:
    return [
        types.Content(role="user", parts=[types.Part.from_text(text="What is the weather in Oslo?")]),
        types.Content(role="model", parts=[types.Part.from_function_call(name="get_weather",
                                                                         args={"city": "Oslo"})]),
        types.Content(role=role, parts=[types.Part.from_function_response(
            name="get_weather", response={"forecast": "snowy and cold"})]),
    ]


def test_sdk_role_tool_for_function_responses(client):
    tool = types.Tool(function_declarations=[types.FunctionDeclaration(
        name="get_weather", parameters=types.Schema(type="OBJECT", properties={"city": types.Schema(type="STRING")}))])
    config = types.GenerateContentConfig(tools=[tool])
    as_tool = client.models.generate_content(model=MODEL, contents=_weather_turns("tool"), config=config)
    # the turn answers the call: the model speaks about the function's result (not another call)
    assert "snowy" in as_tool.text and not as_tool.function_calls


def test_an_unknown_role_is_still_400(http):
    body = {"contents": [{"role": "assistant", "parts": [{"text": "hi"}]}]}
    assert_envelope(http.post(GEN, json=body), 400, "INVALID_ARGUMENT", field="contents[0].role")


# -- OBJECT without properties -------------------------------------------------------------------------

def test_sdk_response_schema_object_without_properties(client):
    config = types.GenerateContentConfig(response_mime_type="application/json",
                                         response_schema=types.Schema(type="OBJECT"))
    response = client.models.generate_content(model=MODEL, contents="Describe a cat as JSON", config=config)
    value = json.loads(response.text)
    assert isinstance(value, dict) and value   # a free-form object with some entries
    assert all(isinstance(key, str) for key in value)
    again = client.models.generate_content(model=MODEL, contents="Describe a cat as JSON", config=config)
    assert again.text == response.text


def test_nested_object_without_properties(http):
    schema = {"type": "OBJECT", "properties": {"meta": {"type": "OBJECT"}}, "required": ["meta"]}
    body = {**PROMPT, "generationConfig": {"responseMimeType": "application/json", "responseSchema": schema}}
    answer = http.post(GEN, json=body)
    assert answer.status_code == 200, answer.text
    value = json.loads(answer.json()["candidates"][0]["content"]["parts"][0]["text"])
    assert isinstance(value["meta"], dict)


def test_sdk_function_without_parameters_is_called_with_no_arguments(client):
    tool = types.Tool(function_declarations=[types.FunctionDeclaration(
        name="get_current_time", description="Current time", parameters=types.Schema(type="OBJECT"))])
    config = types.GenerateContentConfig(
        tools=[tool], tool_config=types.ToolConfig(function_calling_config=types.FunctionCallingConfig(mode="ANY")),
        automatic_function_calling=types.AutomaticFunctionCallingConfig(disable=True))
    response = client.models.generate_content(model=MODEL, contents="What time is it?", config=config)
    call = response.function_calls[0]
    assert call.name == "get_current_time" and not call.args


def test_object_schema_required_name_without_property_is_still_400(http):
    schema = {"type": "OBJECT", "required": ["name"]}
    body = {**PROMPT, "generationConfig": {"responseMimeType": "application/json", "responseSchema": schema}}
    assert_envelope(http.post(GEN, json=body), 400, "INVALID_ARGUMENT",
                    field="generationConfig.responseSchema.required[0]")


# -- relaxed JSON bodies -------------------------------------------------------------------------------

RAW_NEWLINES = b'''{
  "contents": [{
    "parts": [{"text": "Write a poem
about the sea,\tplease"}]
  }]
}'''


def test_raw_newlines_and_tabs_inside_strings(http):
    answer = _post(http, RAW_NEWLINES)
    assert answer.status_code == 200, answer.text
    strict = http.post(GEN, json={"contents": [{"parts": [{"text": "Write a poem\nabout the sea,\tplease"}]}]})
    assert answer.json() == strict.json()


def test_backslash_newline_continues_the_string(http):
    body = b'{"contents": [{"parts": [{"text": "Explain how AI \\\nworks"}]}]}'
    answer = _post(http, body)
    assert answer.status_code == 200, answer.text
    strict = http.post(GEN, json={"contents": [{"parts": [{"text": "Explain how AI works"}]}]})
    assert answer.json() == strict.json()


def test_trailing_commas(http):
    body = b'{"contents": [{"parts": [{"text": "Explain how AI works in a few words",},],},],}'
    answer = _post(http, body)
    assert answer.status_code == 200, answer.text
    assert answer.json() == http.post(GEN, json=PROMPT).json()


def test_all_at_once_in_a_large_body_and_on_count_tokens(http):
    # big bodies skip the slow general parser: the rewrite handles these at any size
    text = "word " * 3000
    body = ("{'contents': [{'parts': [{'text': '" + text + "\nend',},\n{\"text\": \"tab\there \\\nmore\"},],},],}").encode()
    assert len(body) > 4096
    answer = _post(http, body, f"/v1beta/models/{MODEL}:countTokens")
    assert answer.status_code == 200, answer.text
    strict = http.post(f"/v1beta/models/{MODEL}:countTokens", json={"contents": [{"parts": [
        {"text": text + "\nend"}, {"text": "tab\there more"}]}]})
    assert answer.json() == strict.json()


@pytest.mark.parametrize("body, where", [
    (b'{"contents": [{"parts": [{"text": "hi"}]}]} trailing', "line 1 column 45"),
    (b'{"contents": [{"parts": [{"text": "hi"}]},,]}', "line 1 column 43"),
    (b'{"contents": [{"parts": [{"text": "unterminated}]}]}', "line 1 column"),
    (b'{"contents":\n [{"parts": [{"text" "hi"}]}]}', "line 2 column"),
])
def test_real_garbage_is_400_with_the_parse_position(http, body, where):
    error = assert_envelope(_post(http, body), 400, "INVALID_ARGUMENT")
    assert error["message"].startswith("Invalid JSON payload received.") and where in error["message"], error
