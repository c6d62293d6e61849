"""The Interactions API through google-genai's `client.interactions` (and raw HTTP for the wire details)."""
from __future__ import annotations

import json

import pytest
from google.genai import _interactions_errors as errors

MODEL = "gemini-3.6-flash"
PROMPT = "Tell me about the ocean"
WEATHER = {"type": "function", "name": "get_weather", "description": "Get the current weather in a city",
           "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}


def test_create_answers_the_same_text_as_generate_content(client):
    interaction = client.interactions.create(model=MODEL, input=PROMPT)
    assert interaction.status == "completed"
    assert interaction.id and interaction.model == MODEL
    assert [step.type for step in interaction.steps] == ["thought", "model_output"]
    assert interaction.steps[0].signature                     # thinking model: a signed thought step
    same = client.models.generate_content(model=MODEL, contents=PROMPT)
    assert interaction.output_text == same.text
    assert interaction.usage.total_input_tokens == same.usage_metadata.prompt_token_count
    assert interaction.usage.total_output_tokens == same.usage_metadata.candidates_token_count
    assert interaction.usage.total_thought_tokens == same.usage_metadata.thoughts_token_count


def test_get_shows_the_timeline_with_the_input_first(client):
    made = client.interactions.create(model=MODEL, input=PROMPT)
    got = client.interactions.get(made.id)
    assert [s.type for s in got.steps] == ["user_input", "thought", "model_output"]
    assert got.steps[0].content[0].text == PROMPT
    assert got.output_text == made.output_text and got.status == "completed"


def test_input_as_content_list_and_as_steps_is_the_same_prompt(client):
    text = client.interactions.create(model=MODEL, input=PROMPT)
    content = client.interactions.create(model=MODEL, input=[{"type": "text", "text": PROMPT}])
    steps = client.interactions.create(model=MODEL, input=[
        {"type": "user_input", "content": [{"type": "text", "text": PROMPT}]}])
    assert text.output_text == content.output_text == steps.output_text


def test_system_instruction_and_generation_config_change_the_answer(client):
    plain = client.interactions.create(model=MODEL, input=PROMPT)
    told = client.interactions.create(model=MODEL, input=PROMPT, system_instruction="Answer like a pirate.")
    assert told.output_text != plain.output_text
    short = client.interactions.create(model=MODEL, input=PROMPT, generation_config={
        "max_output_tokens": 120, "thinking_level": "low", "thinking_summaries": "auto"})
    thought = short.steps[0]
    assert thought.type == "thought" and thought.summary and thought.summary[0].text
    assert short.usage.total_output_tokens + short.usage.total_thought_tokens <= 120


def test_response_format_gives_json_valid_for_its_schema(client):
    schema = {"type": "object", "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
              "required": ["name", "age"]}
    interaction = client.interactions.create(model=MODEL, input="A person", response_format={
        "type": "text", "mime_type": "application/json", "schema": schema})
    data = json.loads(interaction.output_text)
    assert isinstance(data["name"], str) and isinstance(data["age"], int)


def test_function_call_then_result_continues_the_conversation(client):
    first = client.interactions.create(model=MODEL, input="What is the weather in Paris?", tools=[WEATHER])
    assert first.status == "requires_action"
    call = first.steps[-1]
    assert call.type == "function_call" and call.name == "get_weather" and call.id
    assert isinstance(call.arguments["city"], str)
    second = client.interactions.create(model=MODEL, previous_interaction_id=first.id, tools=[WEATHER], input=[
        {"type": "function_result", "call_id": call.id, "name": "get_weather", "result": {"temp": "21C"}}])
    assert second.status == "completed" and second.output_text
    timeline = client.interactions.get(second.id).steps
    assert timeline[0].type == "function_result" and timeline[0].call_id == call.id


def test_previous_interaction_id_gives_the_model_the_earlier_turns(client):
    first = client.interactions.create(model=MODEL, input="My name is Ada.")
    alone = client.interactions.create(model=MODEL, input="What is my name?")
    follow = client.interactions.create(model=MODEL, input="What is my name?", previous_interaction_id=first.id)
    assert follow.previous_interaction_id == first.id
    assert follow.usage.total_input_tokens > alone.usage.total_input_tokens + first.usage.total_input_tokens
    assert follow.output_text != alone.output_text


def test_store_false_is_answered_but_never_kept(client):
    interaction = client.interactions.create(model=MODEL, input=PROMPT, store=False)
    assert interaction.status == "completed" and interaction.output_text
    with pytest.raises(errors.NotFoundError) as caught:
        client.interactions.get(interaction.id)
    assert caught.value.body == {"error": {"code": "not_found",
                                           "message": f"Interaction {interaction.id} was not found."}}
    with pytest.raises(errors.NotFoundError):
        client.interactions.create(model=MODEL, input="more", previous_interaction_id=interaction.id)


def test_missing_deleted_and_foreign_interactions_answer_the_same_404(gemini_mock, client, http):
    made = client.interactions.create(model=MODEL, input=PROMPT)
    other = gemini_mock.client(api_key=gemini_mock.other_key("interactions-other"))
    bodies = []
    for reader in (lambda: other.interactions.get(made.id), lambda: other.interactions.delete(made.id),
                   lambda: other.interactions.cancel(made.id)):
        with pytest.raises(errors.NotFoundError) as caught:
            reader()
        bodies.append(caught.value.body)
    client.interactions.delete(made.id)
    with pytest.raises(errors.NotFoundError) as caught:
        client.interactions.get(made.id)
    bodies.append(caught.value.body)
    assert all(body == bodies[0] for body in bodies)
    never = http.get("/v1beta/interactions/neverexisted")
    assert never.status_code == 404 and never.json()["error"]["code"] == "not_found"
    assert set(never.json()) == {"error"} and set(never.json()["error"]) == {"code", "message"}


def test_errors_use_the_interactions_error_body(client, http):
    with pytest.raises(errors.NotFoundError) as caught:
        client.interactions.create(model="no-such-model", input=PROMPT)
    assert caught.value.body["error"]["code"] == "model_not_found"
    assert "no-such-model" in caught.value.body["error"]["message"]
    with pytest.raises(errors.BadRequestError) as caught:
        client.interactions.create(model=MODEL)
    assert caught.value.body["error"] == {"code": "invalid_request", "message": "input is required."}
    answer = http.post("/v1beta/interactions", json={"model": MODEL, "input": PROMPT, "tools": [{"type": "bogus"}]})
    assert answer.status_code == 400 and "tools[0].type" in answer.json()["error"]["message"]
    bad_key = http.post("/v1beta/interactions", json={"model": MODEL, "input": PROMPT},
                        headers={"x-goog-api-key": ""})
    assert bad_key.status_code in (400, 401, 403)
    assert isinstance(bad_key.json()["error"]["code"], str)


def _store_with(client, tmp_path, text: str) -> str:
    store = client.file_search_stores.create(config={"display_name": "ocean notes"})
    source = tmp_path / "ocean.txt"
    source.write_text(text)
    operation = client.file_search_stores.upload_to_file_search_store(
        file=str(source), file_search_store_name=store.name, config={"display_name": "ocean.txt"})
    assert client.operations.get(operation).done
    return store.name


def test_file_search_tool_grounds_the_answer_in_the_store(client, tmp_path):
    store = _store_with(client, tmp_path, "The Mariana Trench is the deepest part of the ocean, nearly eleven "
                                          "kilometres down. Coral reefs cover less than one percent of the seabed.")
    interaction = client.interactions.create(model=MODEL, input="How deep is the Mariana Trench?", tools=[
        {"type": "file_search", "file_search_store_names": [store], "top_k": 2}])
    kinds = [step.type for step in interaction.steps]
    assert kinds.index("file_search_call") < kinds.index("file_search_result") < kinds.index("model_output")
    call = interaction.steps[kinds.index("file_search_call")]
    assert interaction.steps[kinds.index("file_search_result")].call_id == call.id
    assert "Mariana Trench" in interaction.output_text   # the answer draws on the retrieved chunk
    output = interaction.steps[kinds.index("model_output")]
    citations = [a for part in output.content for a in (part.annotations or []) if a.type == "file_citation"]
    assert citations and citations[0].file_name == "ocean.txt" and citations[0].source == store
    same = client.models.generate_content(model=MODEL, contents="How deep is the Mariana Trench?", config={
        "tools": [{"file_search": {"file_search_store_names": [store], "top_k": 2}}]})
    assert interaction.output_text == same.text   # the same retrieval as generateContent


def test_file_search_tool_naming_a_missing_store_or_an_unknown_field_is_refused(client):
    with pytest.raises(errors.APIStatusError) as missing:
        client.interactions.create(model=MODEL, input=PROMPT,
                                   tools=[{"type": "file_search", "file_search_store_names": ["fileSearchStores/x"]}])
    assert missing.value.status_code == 403
    with pytest.raises(errors.BadRequestError) as unknown:
        client.interactions.create(model=MODEL, input=PROMPT, tools=[
            {"type": "file_search", "file_search_store_names": ["fileSearchStores/x"], "stores": []}])
    assert "tools[0].stores" in unknown.value.body["error"]["message"]


def test_built_in_tools_answer_with_their_call_and_result_steps(client):
    searched = client.interactions.create(model=MODEL, input="Who won the latest football world cup?",
                                          tools=[{"type": "google_search"}])
    kinds = [s.type for s in searched.steps]
    assert kinds.index("google_search_call") < kinds.index("google_search_result") < kinds.index("model_output")
    call = searched.steps[kinds.index("google_search_call")]
    assert call.arguments.queries and searched.steps[kinds.index("google_search_result")].call_id == call.id
    coded = client.interactions.create(model=MODEL, input="Compute the sum of the first 50 primes with code",
                                       tools=[{"type": "code_execution"}])
    kinds = [s.type for s in coded.steps]
    assert "code_execution_call" in kinds and "code_execution_result" in kinds
    run = coded.steps[kinds.index("code_execution_call")]
    assert run.arguments.code and coded.steps[kinds.index("code_execution_result")].call_id == run.id
    read = client.interactions.create(model=MODEL, input="Summarise https://example.com/page",
                                      tools=[{"type": "url_context"}])
    kinds = [s.type for s in read.steps]
    assert "url_context_call" in kinds and "url_context_result" in kinds
    assert read.steps[kinds.index("url_context_call")].arguments.urls == ["https://example.com/page"]


def test_every_api_version_serves_interactions(gemini_mock):
    for version in ("v1", "v1beta", "v1alpha"):
        client = gemini_mock.client(api_version=version)
        assert client.interactions.create(model=MODEL, input=PROMPT).status == "completed"


def test_older_revision_gets_outputs_instead_of_steps(http):
    answer = http.post("/v1beta/interactions", json={"model": MODEL, "input": PROMPT},
                       headers={"Api-Revision": "2026-05-07"})
    body = answer.json()
    assert "steps" not in body and body["outputs"][-1]["type"] == "text"
    newer = http.post("/v1beta/interactions", json={"model": MODEL, "input": PROMPT},
                      headers={"Api-Revision": "2026-05-20"}).json()
    assert newer["steps"][-1]["content"][-1]["text"] == body["outputs"][-1]["text"]


def test_plugin_journal_and_dashboard_know_interactions(gemini_mock, client, http):
    made = client.interactions.create(model=MODEL, input=PROMPT)
    stored = gemini_mock.interactions()
    assert [i["id"] for i in stored] == [made.id]
    assert [s["type"] for s in stored[0]["steps"]] == ["user_input", "thought", "model_output"]
    assert any(e["path"] == "/v1/interactions" and e["method"] == "POST" and e["status"] == 200
               for e in gemini_mock.requests)
    state = http.get("/_mock/ui/state").json()
    row = next(r for r in state["interactions"] if r["id"] == made.id)
    assert row["status"] == "completed" and row["steps"][0] == f"user_input: {PROMPT}"
    assert "interactions" not in state["errors"]
    page = http.get("/_mock/ui").text
    assert 'id="interactions"' in page


def test_interactions_are_rate_limited_counted_and_scriptable(gemini_mock, client, http):
    gemini_mock.rules.reply("Scripted.", prompt="scripted")
    assert client.interactions.create(model=MODEL, input="a scripted question").output_text == "Scripted."
    entry = [e for e in gemini_mock.requests if e["path"] == "/v1/interactions"][-1]
    assert entry["model"] == MODEL
    gemini_mock.rules.error(429, times=1)
    refused = http.post("/v1beta/interactions", json={"model": MODEL, "input": PROMPT})
    assert refused.status_code == 429 and refused.json()["error"]["code"] in ("rate_limit_exceeded", "quota_exceeded")
    gemini_mock.rules.error(429, times=1)
    answered = client.interactions.create(model=MODEL, input=PROMPT)   # the SDK retries a 429 by itself
    assert answered.status == "completed"
    statuses = [e["status"] for e in gemini_mock.requests if e["path"] == "/v1/interactions"]
    assert statuses[-2:] == [429, 200]
