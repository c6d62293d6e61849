"""Built-in tools in generateContent: Google Search grounding, URL context, code execution and Google Maps,
through google-genai (v1beta, where the Tool message has them) and raw HTTP, streaming included; their
results scripted by rules; and the documented 400s."""
from __future__ import annotations

import json

import pytest
from google.genai import errors, types

from gemini_mockserver.generation.tokens import count_text

from support import assert_envelope, validate_response

FLASH = "gemini-2.5-flash"
GEMINI_3 = "gemini-3-flash-preview"
SEARCH = types.Tool(google_search=types.GoogleSearch())


def _post(http, model: str, body: dict, method: str = "generateContent"):
    return http.post(f"/v1beta/models/{model}:{method}", json=body)


def _user(text: str) -> list[dict]:
    return [{"role": "user", "parts": [{"text": text}]}]


def _check_supports(metadata, text: str) -> None:
    """Every support's segment is the UTF-8 byte range of its text inside the answer, with valid chunks."""
    raw = text.encode("utf-8")
    assert metadata.grounding_supports, metadata
    for support in metadata.grounding_supports:
        segment = support.segment
        start = segment.start_index or 0
        assert 0 <= start < segment.end_index <= len(raw)
        assert raw[start:segment.end_index].decode("utf-8") == segment.text
        assert support.grounding_chunk_indices
        assert all(0 <= i < len(metadata.grounding_chunks) for i in support.grounding_chunk_indices)


# ----------------------------------------------------------------------------------------------------
# Google Search


def test_google_search_grounds_the_answer(beta_client):
    config = types.GenerateContentConfig(tools=[SEARCH])
    response = beta_client.models.generate_content(model=FLASH, contents="Who won the euro 2024?", config=config)
    candidate = response.candidates[0]
    metadata = candidate.grounding_metadata
    assert metadata.web_search_queries and metadata.web_search_queries[0] == "who won the euro 2024"
    assert 2 <= len(metadata.grounding_chunks) <= 4
    for chunk in metadata.grounding_chunks:
        assert chunk.web.uri.startswith("https://vertexaisearch.cloud.google.com/grounding-api-redirect/")
        assert "." in chunk.web.title and chunk.web.domain is None   # domain: not in the Gemini API
    assert "<a class=\"chip\"" in metadata.search_entry_point.rendered_content
    assert "who won the euro 2024" in metadata.search_entry_point.rendered_content
    _check_supports(metadata, response.text)
    usage = response.usage_metadata
    assert usage.tool_use_prompt_token_count > 0
    assert usage.total_token_count == (usage.prompt_token_count + usage.candidates_token_count
                                       + (usage.thoughts_token_count or 0) + usage.tool_use_prompt_token_count)
    again = beta_client.models.generate_content(model=FLASH, contents="Who won the euro 2024?", config=config)
    # deterministic; the SDK's copy of the HTTP response is left out: its Date header moves with the wall clock
    assert again.model_dump(exclude={"sdk_http_response"}) == response.model_dump(exclude={"sdk_http_response"})


def test_segments_are_byte_offsets_with_non_ascii_text(gemini_mock, beta_client):
    text = "Zürich hat 430 000 Einwohner. Die Stadt liegt am Zürichsee. Ça va très bien."
    gemini_mock.rules.add(respond={"text": text}, tools={"googleSearch": {"sources": [
        {"uri": "https://example.org/zurich", "title": "Zürich facts", "snippet": "Zürichsee lake city"},
        {"uri": "https://example.org/fr", "title": "français", "snippet": "Ça va très bien"}]}})
    response = beta_client.models.generate_content(model=FLASH, contents="Zürich?",
                                                   config=types.GenerateContentConfig(tools=[SEARCH]))
    metadata = response.candidates[0].grounding_metadata
    assert response.text == text
    _check_supports(metadata, text)
    supports = metadata.grounding_supports
    assert [s.segment.text for s in supports] == ["Zürich hat 430 000 Einwohner.", "Die Stadt liegt am Zürichsee.",
                                                  "Ça va très bien."]
    # Byte offsets, not characters: "ü" takes two bytes.
    assert supports[1].segment.start_index == len("Zürich hat 430 000 Einwohner. ".encode())
    assert supports[0].segment.start_index is None   # 0 is left out on the wire (proto3 JSON)
    assert supports[2].grounding_chunk_indices == [1]   # the sentence shares words with source 1's snippet
    assert [c.web.title for c in metadata.grounding_chunks] == ["Zürich facts", "français"]


def test_scripted_search_sources_and_queries(gemini_mock, http):
    gemini_mock.rules.add(match={"prompt": "euro"}, tools={"googleSearch": {
        "queries": ["euro 2024 final"],
        "sources": [{"uri": "https://www.uefa.com/euro2024/", "snippet": "Spain beat England 2-1 in the final."}]}})
    response = _post(http, FLASH, {"contents": _user("Who won the euro?"), "tools": [{"google_search": {}}]})
    assert response.status_code == 200, response.text
    body = response.json()
    validate_response("v1beta", "GenerateContentResponse", body)
    metadata = body["candidates"][0]["groundingMetadata"]
    assert metadata["webSearchQueries"] == ["euro 2024 final"]
    assert metadata["groundingChunks"] == [{"web": {"uri": "https://www.uefa.com/euro2024/", "title": "uefa.com"}}]
    assert all(s["groundingChunkIndices"] == [0] for s in metadata["groundingSupports"])
    # The snippet is what the search brought into the prompt.
    assert body["usageMetadata"]["toolUsePromptTokenCount"] == count_text("Spain beat England 2-1 in the final.")


def test_streaming_carries_grounding_on_the_last_chunk(beta_client):
    config = types.GenerateContentConfig(tools=[SEARCH])
    whole = beta_client.models.generate_content(model=FLASH, contents="Latest news about the Mars rover",
                                               config=config)
    chunks = list(beta_client.models.generate_content_stream(model=FLASH, contents="Latest news about the Mars rover",
                                                            config=config))
    assert len(chunks) >= 2
    assert all(c.candidates[0].grounding_metadata is None for c in chunks[:-1])
    assert chunks[-1].candidates[0].grounding_metadata == whole.candidates[0].grounding_metadata
    text = "".join(c.text or "" for c in chunks)
    assert text == whole.text
    _check_supports(chunks[-1].candidates[0].grounding_metadata, text)
    assert chunks[0].usage_metadata.tool_use_prompt_token_count == whole.usage_metadata.tool_use_prompt_token_count
    assert chunks[-1].usage_metadata.total_token_count == whole.usage_metadata.total_token_count


def test_streaming_raw_sse(http):
    body = {"contents": _user("Tallest mountain in Africa"), "tools": [{"googleSearch": {}}]}
    response = http.post(f"/v1beta/models/{FLASH}:streamGenerateContent", params={"alt": "sse"}, json=body)
    assert response.status_code == 200
    events = [json.loads(line[len("data: "):]) for line in response.text.splitlines() if line.startswith("data: ")]
    for event in events:
        validate_response("v1beta", "GenerateContentResponse", event)
    assert "groundingMetadata" in events[-1]["candidates"][0]
    assert all("groundingMetadata" not in e["candidates"][0] for e in events[:-1] if e["candidates"])


def test_legacy_search_retrieval_on_gemini_1_5(http):
    body = {"contents": _user("Who won the euro 2024?"), "tools": [{"googleSearchRetrieval": {
        "dynamicRetrievalConfig": {"mode": "MODE_DYNAMIC", "dynamicThreshold": 0}}}]}
    response = _post(http, "gemini-1.5-flash", body)
    assert response.status_code == 200, response.text
    metadata = response.json()["candidates"][0]["groundingMetadata"]
    assert 0 <= metadata["retrievalMetadata"]["googleSearchDynamicRetrievalScore"] <= 1
    assert metadata["groundingChunks"] and metadata["webSearchQueries"]
    # Threshold 1: the model answers without searching (unless the score is exactly 1).
    body["tools"][0]["googleSearchRetrieval"]["dynamicRetrievalConfig"]["dynamicThreshold"] = 1
    quiet = _post(http, "gemini-1.5-flash", body).json()["candidates"][0]["groundingMetadata"]
    assert "groundingChunks" not in quiet and "retrievalMetadata" in quiet


def test_legacy_search_retrieval_refused_on_2_x(http):
    response = _post(http, FLASH, {"contents": _user("hi"), "tools": [{"googleSearchRetrieval": {}}]})
    error = assert_envelope(response, 400, "INVALID_ARGUMENT", field="tools[0].googleSearchRetrieval")
    assert error["message"] == "google_search_retrieval is not supported. Please use google_search tool instead."


# ----------------------------------------------------------------------------------------------------
# URL context


def test_url_context_metadata(gemini_mock, beta_client):
    gemini_mock.rules.add(tools={"urlContext": {
        "https://example.com/private": {"status": "URL_RETRIEVAL_STATUS_PAYWALL"},
        "https://example.com/recipe": {"content": "Mix flour and water."}}})
    prompt = ("Compare https://example.com/recipe and https://example.com/private, then "
              "https://example.com/recipe again.")
    response = beta_client.models.generate_content(
        model=FLASH, contents=prompt,
        config=types.GenerateContentConfig(tools=[types.Tool(url_context=types.UrlContext())]))
    urls = response.candidates[0].url_context_metadata.url_metadata
    assert [(u.retrieved_url, u.url_retrieval_status) for u in urls] == [
        ("https://example.com/recipe", types.UrlRetrievalStatus.URL_RETRIEVAL_STATUS_SUCCESS),
        ("https://example.com/private", types.UrlRetrievalStatus.URL_RETRIEVAL_STATUS_PAYWALL)]
    # Only the page that was read counts.
    assert response.usage_metadata.tool_use_prompt_token_count == count_text("Mix flour and water.")
    assert response.candidates[0].grounding_metadata is None


def test_url_context_unscripted_pages_are_read(http):
    body = {"contents": _user("Summarise https://ai.google.dev/gemini-api/docs please"), "tools": [{"url_context": {}}]}
    first = _post(http, FLASH, body).json()
    validate_response("v1beta", "GenerateContentResponse", first)
    assert first["candidates"][0]["urlContextMetadata"] == {"urlMetadata": [
        {"retrievedUrl": "https://ai.google.dev/gemini-api/docs",
         "urlRetrievalStatus": "URL_RETRIEVAL_STATUS_SUCCESS"}]}
    assert first["usageMetadata"]["toolUsePromptTokenCount"] >= 300
    assert _post(http, FLASH, body).json() == first


# ----------------------------------------------------------------------------------------------------
# Code execution


def test_code_execution_parts(beta_client):
    config = types.GenerateContentConfig(tools=[types.Tool(code_execution=types.ToolCodeExecution())])
    response = beta_client.models.generate_content(model=FLASH, contents="What is 123 * 45 + 6?", config=config)
    parts = response.candidates[0].content.parts
    kinds = [next(k for k in ("executable_code", "code_execution_result", "text") if getattr(p, k) is not None)
             for p in parts if not p.thought]
    assert kinds == ["executable_code", "code_execution_result", "text"]
    assert response.executable_code == "result = 123 * 45 + 6\nprint(result)\n"
    assert response.code_execution_result == "5541\n"
    code = next(p for p in parts if p.executable_code).executable_code
    assert code.language == types.Language.PYTHON
    result = next(p for p in parts if p.code_execution_result).code_execution_result
    assert result.outcome == types.Outcome.OUTCOME_OK


def test_code_execution_default_program_prints_what_it_says(http):
    body = {"contents": _user("Tell me about prime numbers"), "tools": [{"codeExecution": {}}]}
    response = _post(http, FLASH, body).json()
    validate_response("v1beta", "GenerateContentResponse", response)
    parts = [p for p in response["candidates"][0]["content"]["parts"] if not p.get("thought")]
    code = parts[0]["executableCode"]["code"]
    scope: dict = {}
    import contextlib
    import io
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(code, scope)   # the emulator's own generated program, to check its output is honest
    assert parts[1]["codeExecutionResult"] == {"outcome": "OUTCOME_OK", "output": out.getvalue()}
    # The code and its output are part of the answer's tokens.
    plain = _post(http, FLASH, {"contents": _user("Tell me about prime numbers")}).json()
    assert response["usageMetadata"]["candidatesTokenCount"] > plain["usageMetadata"]["candidatesTokenCount"]


def test_scripted_code_execution_and_stream(gemini_mock, beta_client):
    gemini_mock.rules.add(tools={"codeExecution": {"code": "print(1/0)", "outcome": "OUTCOME_FAILED",
                                                   "output": "ZeroDivisionError: division by zero"}})
    config = types.GenerateContentConfig(tools=[types.Tool(code_execution=types.ToolCodeExecution())])
    chunks = list(beta_client.models.generate_content_stream(model=FLASH, contents="divide", config=config))
    parts = [p for c in chunks for p in c.candidates[0].content.parts or () if not p.thought]
    assert parts[0].executable_code.code == "print(1/0)"
    assert parts[1].code_execution_result.outcome == types.Outcome.OUTCOME_FAILED
    assert parts[1].code_execution_result.output == "ZeroDivisionError: division by zero"
    assert all(p.text for p in parts[2:])


# ----------------------------------------------------------------------------------------------------
# Google Maps


def test_google_maps_chunks_and_widget(beta_client):
    config = types.GenerateContentConfig(
        tools=[types.Tool(google_maps=types.GoogleMaps(enable_widget=True))],
        tool_config=types.ToolConfig(retrieval_config=types.RetrievalConfig(
            lat_lng=types.LatLng(latitude=34.050481, longitude=-118.248526))))
    response = beta_client.models.generate_content(
        model=GEMINI_3, contents="What are the best Italian restaurants within a 15-minute walk from here?",
        config=config)
    metadata = response.candidates[0].grounding_metadata
    assert metadata.google_maps_widget_context_token.startswith("widgetcontent/")
    assert 2 <= len(metadata.grounding_chunks) <= 3
    for chunk in metadata.grounding_chunks:
        assert chunk.maps.title and chunk.maps.uri.startswith("https://maps.google.com/?cid=")
        assert chunk.maps.place_id.startswith("places/ChIJ")
    assert metadata.web_search_queries is None and metadata.search_entry_point is None
    _check_supports(metadata, response.text)
    without = beta_client.models.generate_content(
        model=GEMINI_3, contents="Coffee near me", config=types.GenerateContentConfig(
            tools=[types.Tool(google_maps=types.GoogleMaps())]))
    assert without.candidates[0].grounding_metadata.google_maps_widget_context_token is None


def test_scripted_places(gemini_mock, http):
    gemini_mock.rules.add(tools={"googleMaps": {"places": [
        {"title": "Bestia", "placeId": "places/ChIJbestia", "uri": "https://maps.google.com/?cid=1"}]}})
    body = {"contents": _user("Dinner?"), "tools": [{"googleMaps": {}}]}
    response = _post(http, GEMINI_3, body).json()
    validate_response("v1beta", "GenerateContentResponse", response)
    assert response["candidates"][0]["groundingMetadata"]["groundingChunks"] == [
        {"maps": {"uri": "https://maps.google.com/?cid=1", "title": "Bestia", "placeId": "places/ChIJbestia"}}]


def test_bad_lat_lng(http):
    body = {"contents": _user("Dinner?"), "tools": [{"googleMaps": {}}],
            "toolConfig": {"retrievalConfig": {"latLng": {"latitude": 91, "longitude": 0}}}}
    assert_envelope(_post(http, GEMINI_3, body), 400, "INVALID_ARGUMENT",
                    field="toolConfig.retrievalConfig.latLng.latitude")


# ----------------------------------------------------------------------------------------------------
# Combinations and errors


def test_search_and_url_context_together(http):
    body = {"contents": _user("What does https://example.com/a say about tides?"),
            "tools": [{"googleSearch": {}}, {"urlContext": {}}]}
    candidate = _post(http, FLASH, body).json()["candidates"][0]
    assert candidate["groundingMetadata"]["groundingChunks"]
    assert candidate["urlContextMetadata"]["urlMetadata"][0]["retrievedUrl"] == "https://example.com/a"


def test_search_with_function_declarations_on_2_5(beta_client):
    tool = types.Tool(google_search=types.GoogleSearch(),
                      function_declarations=[types.FunctionDeclaration(name="get_weather", description="Weather")])
    with pytest.raises(errors.ClientError) as raised:
        beta_client.models.generate_content(model=FLASH, contents="Weather in Paris?",
                                            config=types.GenerateContentConfig(tools=[tool]))
    assert raised.value.code == 400
    assert raised.value.message == "Tool use with function calling is unsupported by the model."


def test_gemini_3_combination_needs_server_side_invocations(http):
    body = {"contents": _user("Northernmost US city and its weather?"),
            "tools": [{"googleSearch": {}, "functionDeclarations": [{"name": "getWeather", "description": "weather"}]}]}
    assert_envelope(_post(http, GEMINI_3, body), 400, "INVALID_ARGUMENT",
                    field="toolConfig.includeServerSideToolInvocations")
    body["toolConfig"] = {"includeServerSideToolInvocations": True}
    response = _post(http, GEMINI_3, body)
    assert response.status_code == 200, response.text


def test_json_output_with_search(http):
    body = {"contents": _user("List two facts"), "tools": [{"googleSearch": {}}],
            "generationConfig": {"responseMimeType": "application/json"}}
    error = assert_envelope(_post(http, FLASH, body), 400, "INVALID_ARGUMENT",
                            field="generationConfig.responseMimeType")
    assert error["message"] == "Tool use with a response mime type: 'application/json' is unsupported"
    response = _post(http, GEMINI_3, body)   # Gemini 3 combines structured output with built-in tools
    assert response.status_code == 200, response.text
    candidate = response.json()["candidates"][0]
    text = "".join(p["text"] for p in candidate["content"]["parts"] if "text" in p and not p.get("thought"))
    json.loads(text)
    assert candidate["groundingMetadata"]["groundingChunks"]


def test_a_tool_refused_where_the_model_lacks_it(http):
    response = _post(http, "gemini-1.5-flash", {"contents": _user("hi"), "tools": [{"codeExecution": {}}],
                                                "generationConfig": {}})
    assert response.status_code == 200   # 1.5 has the default tools
    response = _post(http, "gemini-1.5-flash", {"contents": _user("hi"), "tools": [{"googleMaps": {}}]})
    assert_envelope(response, 400, "INVALID_ARGUMENT", field="tools[0].googleMaps")


@pytest.mark.parametrize("prompt, code, output", [
    ("What is 123 * 45 + 6?", "result = 123 * 45 + 6\nprint(result)\n", "5541\n"),
    ("Compute (2 + 3) ** 2 please", "result = (2 + 3) ** 2\nprint(result)\n", "25\n"),
    ("What is 10 - 4 / 2?", "result = 10 - 4 / 2\nprint(result)\n", "8.0\n"),
    ("What is 2 ** 10 - 24?", "result = 2 ** 10 - 24\nprint(result)\n", "1000\n"),
    ("(1 + 2) * (3 - 1)", "result = (1 + 2) * (3 - 1)\nprint(result)\n", "6\n"),
])
def test_code_for_arithmetic_prints_its_value(prompt, code, output):
    import random

    from gemini_mockserver.generation import tools_code

    run = tools_code.program(random.Random(0), prompt, ["x"], None)
    assert (run["code"], run["output"]) == (code, output)
    # A date is not a subtraction.
    dated = tools_code.program(random.Random(0), "What happened on 2024-06-14?", ["happened"], None)
    assert dated["output"] == "1 words, 8 letters\n"


def test_tool_combination_circulates_the_search_then_replays(gemini_mock, beta_client):
    gemini_mock.rules.function_call("getWeather", {"city": "Utqiagvik"}, times=1)
    question = "What is the northernmost city in the United States? What's the weather like there today?"
    get_weather = types.FunctionDeclaration(name="getWeather", description="Gets the weather for a requested city.")
    config = types.GenerateContentConfig(
        tools=[types.Tool(google_search=types.GoogleSearch(), function_declarations=[get_weather])],
        tool_config=types.ToolConfig(include_server_side_tool_invocations=True))
    first = beta_client.models.generate_content(model=GEMINI_3, contents=question, config=config)
    candidate = first.candidates[0]
    assert candidate.grounding_metadata is None   # a function call is not an answer from the sources
    parts = [p for p in candidate.content.parts if not p.thought]
    call, response, function = parts
    assert call.tool_call.tool_type == types.ToolType.GOOGLE_SEARCH_WEB
    assert call.tool_call.args == {"queries": ["what is the northernmost city in the united states",
                                               "what's the weather like there today"]}
    assert response.tool_response.id == call.tool_call.id and len(call.tool_call.id) == 8
    assert "<a class=\"chip\"" in response.tool_response.response["search_suggestions"]
    assert call.thought_signature and response.thought_signature
    assert function.function_call.name == "getWeather"
    # Turn 2: every part goes back as received, with the function's answer; the circulated parts count
    # toward the prompt.
    history = [types.Content(role="user", parts=[types.Part(text=question)]), candidate.content,
               types.Content(role="user", parts=[types.Part.from_function_response(
                   name="getWeather", response={"response": "Very cold. 22 degrees Fahrenheit."})])]
    second = beta_client.models.generate_content(model=GEMINI_3, contents=history, config=config)
    assert second.text and second.usage_metadata.prompt_token_count > first.usage_metadata.prompt_token_count + 20


def test_circulation_without_functions_and_with_url_context(http):
    body = {"contents": _user("Summarise https://example.com/news"), "tools": [{"urlContext": {}}],
            "toolConfig": {"includeServerSideToolInvocations": True}}
    candidate = _post(http, GEMINI_3, body).json()["candidates"][0]
    parts = [p for p in candidate["content"]["parts"] if not p.get("thought")]
    assert parts[0]["toolCall"]["toolType"] == "URL_CONTEXT"
    assert parts[0]["toolCall"]["args"] == {"urls": ["https://example.com/news"]}
    assert parts[1]["toolResponse"]["response"] == {"urls_metadata": [
        {"retrieved_url": "https://example.com/news", "url_retrieval_status": "URL_RETRIEVAL_STATUS_SUCCESS"}]}
    assert "text" in parts[2]
    plain = _post(http, GEMINI_3, dict(body, toolConfig={})).json()["candidates"][0]
    assert not any("toolCall" in p for p in plain["content"]["parts"])


# ----------------------------------------------------------------------------------------------------
# Rules: the control plane and bad scripts


def test_control_plane_rule_with_tools(gemini_server, gemini_mock, http):
    import httpx

    rule = {"match": {"prompt": "tides", "project": gemini_mock.project},
            "tools": {"googleSearch": {"sources": [{"uri": "https://tides.example/", "title": "Tides"}]}}}
    added = httpx.post(f"{gemini_mock.base_url}/_mock/rules", json=rule)
    assert added.status_code == 200, added.text
    assert added.json()["tools"]["googleSearch"]["sources"][0]["uri"] == "https://tides.example/"
    body = {"contents": _user("tides today"), "tools": [{"googleSearch": {}}]}
    chunks = _post(http, FLASH, body).json()["candidates"][0]["groundingMetadata"]["groundingChunks"]
    assert chunks == [{"web": {"uri": "https://tides.example/", "title": "Tides"}}]


@pytest.mark.parametrize("tools, field", [
    ({"googleSearch": {"sources": [{"title": "no uri"}]}}, "tools.googleSearch.sources[0].uri"),
    ({"codeExecution": {"outcome": "MAYBE"}}, "tools.codeExecution.outcome"),
    ({"urlContext": {"https://a.example/": "LOST"}}, "tools.urlContext[https://a.example/].status"),
    ({"webBrowsing": {}}, "tools.webBrowsing"),
])
def test_bad_tool_scripts(gemini_mock, http, tools, field):
    response = http.post(f"{gemini_mock.base_url}/_mock/rules", json={"tools": tools})
    assert_envelope(response, 400, "INVALID_ARGUMENT", field=field)


def test_builtin_tools_unit():
    from gemini_mockserver.generation import builtin_tools, engine
    from gemini_mockserver.resources.models import Catalog

    model = Catalog().find("models/" + FLASH)
    request = {"contents": _user("Who discovered penicillin?"), "tools": [{"googleSearch": {}}, {"codeExecution": {}}]}
    one = engine.generate_content(model, request, seed=7, resolve_file=None)
    assert one == engine.generate_content(model, request, seed=7, resolve_file=None)
    assert one != engine.generate_content(model, request, seed=8, resolve_file=None)
    plan = builtin_tools.plan_tools(model, request["tools"], None, functions=False, json_output=False)
    assert plan.search and plan.code and not plan.urls and plan.names == ["googleSearch", "codeExecution"]
    assert not builtin_tools.plan_tools(model, [{"functionDeclarations": []}], None, functions=False,
                                        json_output=True)


def test_plugin_tool_results_helper(gemini_mock, beta_client):
    gemini_mock.rules.tool_results(code_execution={"code": "print(6 * 7)", "output": "42\n"},
                                   google_search={"sources": [{"uri": "https://answers.example/42"}]},
                                   prompt="life", times=1)
    config = types.GenerateContentConfig(tools=[SEARCH, types.Tool(code_execution=types.ToolCodeExecution())])
    response = beta_client.models.generate_content(model=FLASH, contents="The meaning of life?", config=config)
    assert response.executable_code == "print(6 * 7)" and response.code_execution_result == "42\n"
    assert response.candidates[0].grounding_metadata.grounding_chunks[0].web.title == "answers.example"
    # times=1: the next call is generated again.
    again = beta_client.models.generate_content(model=FLASH, contents="The meaning of life?", config=config)
    assert again.code_execution_result != "42\n"


def test_rules_with_tools_survive_export_and_import(gemini_mock):
    rules = gemini_mock.store.rules
    added = gemini_mock.rules.tool_results(url_context={"https://a.example/": "ERROR"})
    assert added["tools"] == {"urlContext": {"https://a.example/": {"status": "URL_RETRIEVAL_STATUS_ERROR"}}}
    state = rules.export_state()
    rules.import_state(state)
    assert [r for r in rules.list() if r["id"] == added["id"]][0]["tools"] == added["tools"]


def test_the_docs_quickstart_as_written_on_the_default_client(client):
    # https://ai.google.dev/gemini-api/docs/google-search, with the SDK's default API version.
    grounding_tool = types.Tool(google_search=types.GoogleSearch())
    config = types.GenerateContentConfig(tools=[grounding_tool])
    response = client.models.generate_content(model=FLASH, contents="Who won the euro 2024?", config=config)
    supports = response.candidates[0].grounding_metadata.grounding_supports
    chunks = response.candidates[0].grounding_metadata.grounding_chunks
    text = response.text
    # The docs' add_citations: insert links at each support's end_index, last first.
    for support in sorted(supports, key=lambda s: s.segment.end_index, reverse=True):
        links = ", ".join(f"[{i + 1}]({chunks[i].web.uri})" for i in support.grounding_chunk_indices)
        cut = len(text.encode()[:support.segment.end_index].decode())
        text = text[:cut] + links + text[cut:]
    assert text.count("grounding-api-redirect") >= len(supports)
