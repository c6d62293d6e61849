"""The Gemini 4 family (Argon, Carbon, Hydrogen) through google-genai 3.6.1 and raw HTTP: the catalog entries,
thinking levels, the one token limit input and output share, explicit caching refused, thought signatures and
the price rows."""
from __future__ import annotations

import openai
import pytest
from google.genai import _interactions_errors as interaction_errors
from google.genai import errors, types

from support import assert_envelope, validate_response

MODEL = "gemini-4-argon"
FAMILY = ["gemini-4-argon", "gemini-4-carbon", "gemini-4-hydrogen"]
LIMIT = 1048576
# model -> (its levels, its default level, the thoughtsTokenCount range of the default: engine.THOUGHT_TOKENS)
LEVELS = {"gemini-4-argon": (("low", "medium", "high"), (100, 500)),
          "gemini-4-carbon": (("low", "medium", "high"), (100, 500)),
          "gemini-4-hydrogen": (("low", "medium", "high", "xhigh"), (200, 1200))}
BODY = {"contents": [{"parts": [{"text": "Explain how bees dance."}]}]}


def _level(level: str) -> types.GenerateContentConfig:
    return types.GenerateContentConfig(thinking_config=types.ThinkingConfig(thinking_level=level))


# -- the catalog --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("model_id", FAMILY)
def test_models_get_shows_the_entry(beta_client, model_id):
    model = beta_client.models.get(model=model_id)
    assert (model.input_token_limit, model.output_token_limit, model.thinking) == (LIMIT, LIMIT, True)
    assert model.display_name == "Gemini 4 " + model_id.rsplit("-", 1)[1].capitalize()
    assert set(model.supported_actions) == {"generateContent", "countTokens"}


def test_models_list_shows_the_family(beta_client):
    assert {f"models/{m}" for m in FAMILY} <= {m.name for m in beta_client.models.list()}


# -- generateContent, stream, countTokens --------------------------------------------------------------------

@pytest.mark.parametrize("model_id", FAMILY)
def test_generate_content_thinks_at_the_default_level(beta_client, model_id):
    default = beta_client.models.generate_content(model=model_id, contents="Plan a trip to Lyon")
    assert default.text and default.candidates[0].finish_reason == types.FinishReason.STOP
    low, high = LEVELS[model_id][1]
    assert low <= default.usage_metadata.thoughts_token_count <= high


@pytest.mark.parametrize("model_id", FAMILY)
def test_stream_gives_the_same_answer(beta_client, model_id):
    whole = beta_client.models.generate_content(model=model_id, contents="Tell me about bees")
    chunks = list(beta_client.models.generate_content_stream(model=model_id, contents="Tell me about bees"))
    assert "".join(c.text or "" for c in chunks) == whole.text
    assert chunks[-1].candidates[0].finish_reason == types.FinishReason.STOP


@pytest.mark.parametrize("model_id", FAMILY)
def test_count_tokens_matches_the_prompt_usage(beta_client, model_id):
    counted = beta_client.models.count_tokens(model=model_id, contents="Tell me about bees").total_tokens
    answer = beta_client.models.generate_content(model=model_id, contents="Tell me about bees")
    assert counted == answer.usage_metadata.prompt_token_count > 0


def test_raw_http_answer_is_a_valid_response(http):
    response = http.post(f"/v1beta/models/{MODEL}:generateContent", json=BODY)
    assert response.status_code == 200, response.text
    validate_response("v1beta", "GenerateContentResponse", response.json())


# -- thinking levels ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("model_id, level", [(m, level) for m in FAMILY for level in LEVELS[m][0]])
def test_the_documented_levels_are_taken(beta_client, model_id, level):
    response = beta_client.models.generate_content(model=model_id, contents="Plan a trip", config=_level(level))
    assert response.text and response.usage_metadata.thoughts_token_count > 0


def test_xhigh_thinks_past_what_high_allows(beta_client):
    def thoughts(level, prompt):
        return beta_client.models.generate_content(model="gemini-4-hydrogen", contents=prompt,
                                                   config=_level(level)).usage_metadata.thoughts_token_count
    prompts = [f"Plan a trip to {city}" for city in ("Lyon", "Oslo", "Lima", "Pune", "Kyiv")]
    assert max(thoughts("high", p) for p in prompts) <= 1200 < max(thoughts("xhigh", p) for p in prompts)


@pytest.mark.parametrize("model_id, level", [("gemini-4-argon", "minimal"), ("gemini-4-carbon", "xhigh"),
                                             ("gemini-4-hydrogen", "minimal")])
def test_an_undocumented_level_is_refused_through_the_sdk(beta_client, model_id, level):
    with pytest.raises(errors.ClientError) as caught:
        beta_client.models.generate_content(model=model_id, contents="hi", config=_level(level))
    supported = ", ".join(x.upper() for x in LEVELS[model_id][0])
    assert caught.value.code == 400 and f"Supported thinking levels: {supported}." in caught.value.message


@pytest.mark.parametrize("model_id, level", [("gemini-4-argon", "MINIMAL"), ("gemini-3.8-flash", "XHIGH")])
def test_a_level_the_model_does_not_take_is_a_400_naming_the_field(http, model_id, level):
    body = {**BODY, "generationConfig": {"thinkingConfig": {"thinkingLevel": level}}}
    error = assert_envelope(http.post(f"/v1beta/models/{model_id}:generateContent", json=body), 400,
                            "INVALID_ARGUMENT", field="generationConfig.thinkingConfig.thinkingLevel")
    assert f"Thinking level {level} is not supported by models/{model_id}" in error["message"]


# -- the unified token limit --------------------------------------------------------------------------------

@pytest.mark.parametrize("model_id", FAMILY)
def test_output_may_use_the_limit_minus_the_input(beta_client, model_id):
    prompt = beta_client.models.count_tokens(model=model_id, contents="Tell me about bees").total_tokens
    config = types.GenerateContentConfig(max_output_tokens=LIMIT - prompt)
    assert beta_client.models.generate_content(model=model_id, contents="Tell me about bees", config=config).text
    config = types.GenerateContentConfig(max_output_tokens=LIMIT - prompt + 1)
    with pytest.raises(errors.ClientError) as caught:
        beta_client.models.generate_content(model=model_id, contents="Tell me about bees", config=config)
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

@pytest.mark.parametrize("model_id", FAMILY)
def test_explicit_caching_is_refused(http, model_id):
    body = {"model": f"models/{model_id}", "contents": [{"role": "user", "parts": [{"text": "bees " * 7000}]}]}
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


@pytest.mark.parametrize("model_id, rates", [("gemini-4-argon", (4.0, 20.0)), ("gemini-4-hydrogen", (1.5, 7.5)),
                                             ("gemini-4-carbon", (0.0, 0.0))])
def test_usage_is_priced_at_the_model_rates(http, model_id, rates):
    answer = http.post(f"/v1beta/models/{model_id}:generateContent", json=BODY).json()["usageMetadata"]
    usage = http.get("/_mock/usage").json()
    [row] = [r for project in usage["projects"] for r in project["models"] if r["model"] == f"models/{model_id}"]
    expected = (answer["promptTokenCount"] * rates[0]
                + (answer["candidatesTokenCount"] + answer["thoughtsTokenCount"]) * rates[1]) / 1_000_000
    assert row["paidTierCostUsd"] == pytest.approx(expected, abs=1e-6)


# -- the Interactions API -----------------------------------------------------------------------------------

def test_interactions_take_hydrogen_xhigh(client):
    interaction = client.interactions.create(model="gemini-4-hydrogen", input="Plan a trip to Lyon",
                                             generation_config={"thinking_level": "xhigh"})
    assert interaction.status == "completed" and interaction.output_text
    same = client.models.generate_content(model="gemini-4-hydrogen", contents="Plan a trip to Lyon",
                                          config=_level("xhigh"))
    assert interaction.usage.total_thought_tokens == same.usage_metadata.thoughts_token_count


def test_interactions_refuse_an_output_cap_over_the_shared_limit(client):
    with pytest.raises(interaction_errors.BadRequestError) as caught:
        client.interactions.create(model=MODEL, input="Plan a trip", generation_config={"max_output_tokens": LIMIT})
    assert "maxOutputTokens" in str(caught.value.body)


# -- the OpenAI-compatible layer ----------------------------------------------------------------------------

def test_openai_sdk_chat_with_argon_and_its_shared_limit(gemini_mock):
    oai = openai.OpenAI(api_key=gemini_mock.api_key, base_url=gemini_mock.base_url + "/v1beta/openai/",
                        max_retries=0)
    messages = [{"role": "user", "content": "Tell me about bees"}]
    answer = oai.chat.completions.create(model=MODEL, messages=messages)
    assert answer.choices[0].message.content and answer.usage.completion_tokens_details.reasoning_tokens > 0
    with pytest.raises(openai.BadRequestError) as caught:
        oai.chat.completions.create(model=MODEL, messages=messages, max_tokens=LIMIT)
    assert caught.value.status_code == 400 and "maxOutputTokens" in str(caught.value.body)
