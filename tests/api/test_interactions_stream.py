"""Streamed interactions (SSE, resumable), background runs on the emulator's clock, cancel, and agents."""
from __future__ import annotations

import json
import warnings

import pytest
from google.genai import _interactions_errors as errors

MODEL = "gemini-3.6-flash"
PROMPT = "Tell me about the ocean"
AGENT = "deep-research-pro-preview-12-2025"


def _text(events) -> str:
    return "".join(e.delta.text for e in events if e.event_type == "step.delta" and e.delta.type == "text")


def test_stream_events_come_in_the_documented_order_and_add_up_to_the_answer(client):
    whole = client.interactions.create(model=MODEL, input=PROMPT)
    events = list(client.interactions.create(model=MODEL, input=PROMPT, stream=True))
    kinds = [e.event_type for e in events]
    assert kinds[:2] == ["interaction.created", "interaction.status_update"]
    assert kinds[-2:] == ["interaction.status_update", "interaction.completed"]
    assert events[0].interaction.status == "in_progress"
    assert events[-1].interaction.status == "completed" and events[-1].interaction.usage.total_tokens
    starts = [e for e in events if e.event_type == "step.start"]
    stops = [e for e in events if e.event_type == "step.stop"]
    assert [s.index for s in starts] == [s.index for s in stops] == list(range(len(whole.steps)))
    assert [s.step.type for s in starts] == [s.type for s in whole.steps]
    assert _text(events) == whole.output_text
    assert len({e.event_id for e in events}) == len(events)   # every event has its own id


def test_stream_resumes_after_the_last_event_id(client):
    events = list(client.interactions.create(model=MODEL, input=PROMPT, stream=True))
    interaction_id = events[0].interaction.id
    cut = len(events) // 2
    rest = list(client.interactions.get(interaction_id, stream=True, last_event_id=events[cut].event_id))
    assert [e.event_id for e in rest] == [e.event_id for e in events[cut + 1:]]
    again = list(client.interactions.get(interaction_id, stream=True))
    assert _text(again) == _text(events)


def test_unknown_last_event_id_is_a_400(client, http):
    interaction = client.interactions.create(model=MODEL, input=PROMPT)
    answer = http.get(f"/v1beta/interactions/{interaction.id}", params={"stream": "true", "last_event_id": "x.9"})
    assert answer.status_code == 400 and answer.json()["error"]["code"] == "invalid_request"
    assert "last_event_id" in answer.json()["error"]["message"]


def test_function_call_streams_its_arguments(client):
    tool = {"type": "function", "name": "get_weather", "description": "Get the weather in a city",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}
    whole = client.interactions.create(model=MODEL, input="Weather in Rome?", tools=[tool])
    events = list(client.interactions.create(model=MODEL, input="Weather in Rome?", tools=[tool], stream=True))
    deltas = [e.delta for e in events if e.event_type == "step.delta" and e.delta.type == "arguments_delta"]
    assert json.loads(deltas[0].arguments) == whole.steps[-1].arguments
    assert events[-1].interaction.status == "requires_action"


def test_stream_sse_framing_on_the_wire(http):
    with http.stream("POST", "/v1beta/interactions", json={"model": MODEL, "input": PROMPT, "stream": True}) as r:
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
        body = r.read().decode()
    frames = [f for f in body.split("\n\n") if f]
    first = dict(line.split(": ", 1) for line in frames[0].splitlines())
    assert first["event"] == "interaction.created"
    assert json.loads(first["data"])["event_type"] == "interaction.created"


def test_background_interaction_follows_the_clock(gemini_mock, client):
    gemini_mock.configure({"interactions": {"backgroundSeconds": 30.0}})
    foreground = client.interactions.create(model=MODEL, input=PROMPT)
    started = client.interactions.create(model=MODEL, input=PROMPT, background=True)
    assert started.status == "in_progress" and started.steps == [] and started.usage is None
    gemini_mock.advance(29)
    assert client.interactions.get(started.id).status == "in_progress"
    gemini_mock.advance(2)
    done = client.interactions.get(started.id)
    assert done.status == "completed" and done.output_text == foreground.output_text


def test_cancel_moves_a_background_interaction_to_cancelled(gemini_mock, client):
    started = client.interactions.create(model=MODEL, input=PROMPT, background=True)
    cancelled = client.interactions.cancel(started.id)
    assert cancelled.status == "cancelled"
    gemini_mock.advance(3600)
    assert client.interactions.get(started.id).status == "cancelled"
    with pytest.raises(errors.BadRequestError):
        client.interactions.cancel(started.id)       # nothing left to cancel
    finished = client.interactions.create(model=MODEL, input=PROMPT)
    with pytest.raises(errors.BadRequestError):
        client.interactions.cancel(finished.id)


def test_background_needs_store(client):
    with pytest.raises(errors.BadRequestError) as caught:
        client.interactions.create(model=MODEL, input=PROMPT, background=True, store=False)
    assert "store" in caught.value.body["error"]["message"]


def test_background_stream_stays_open_until_the_interaction_completes(gemini_mock, client):
    gemini_mock.configure({"interactions": {"backgroundSeconds": 3600.0}})
    whole = client.interactions.create(model=MODEL, input=PROMPT)
    events = []
    for event in client.interactions.create(model=MODEL, input=PROMPT, background=True, stream=True):
        events.append(event)
        if len(events) == 2:    # created and in_progress: the rest comes when the clock gets there
            gemini_mock.advance(3600)
    kinds = [e.event_type for e in events]
    assert kinds[:2] == ["interaction.created", "interaction.status_update"] and "step.delta" in kinds
    assert kinds[-2:] == ["interaction.status_update", "interaction.completed"]
    assert events[-2].status == events[-1].interaction.status == "completed"
    assert _text(events) == whole.output_text
    done = client.interactions.get(events[0].interaction.id)
    assert done.status == "completed" and done.output_text == whole.output_text
    assert done.usage.total_tokens == events[-1].interaction.usage.total_tokens


def test_a_dropped_background_stream_resumes_from_its_last_event_id(gemini_mock, client):
    gemini_mock.configure({"interactions": {"backgroundSeconds": 3600.0}})
    first = []
    stream = client.interactions.create(model=MODEL, input=PROMPT, background=True, stream=True)
    for event in stream:
        first.append(event)
        if len(first) == 2:
            break
    stream.close()
    interaction_id = first[0].interaction.id
    assert client.interactions.get(interaction_id).status == "in_progress"
    rest = []
    for event in client.interactions.get(interaction_id, stream=True, last_event_id=first[0].event_id):
        if not rest:    # what was issued comes again, then the resumed stream waits for the clock
            gemini_mock.advance(3600)
        rest.append(event)
    assert rest[0].event_id == first[1].event_id and rest[1].event_type == "step.start"
    assert rest[-1].event_type == "interaction.completed" and rest[-1].interaction.status == "completed"
    replay = list(client.interactions.get(interaction_id, stream=True))
    assert [e.event_id for e in replay] == [e.event_id for e in first[:1] + rest]


def test_a_cancel_ends_the_open_stream_of_a_background_interaction(gemini_mock, client):
    gemini_mock.configure({"interactions": {"backgroundSeconds": 3600.0}})
    events = []
    for event in client.interactions.create(model=MODEL, input=PROMPT, background=True, stream=True):
        events.append(event)
        if len(events) == 2:
            client.interactions.cancel(event.interaction_id)
    assert [e.event_type for e in events[2:]] == ["interaction.status_update", "interaction.completed"]
    assert events[-1].interaction.status == client.interactions.get(events[0].interaction.id).status == "cancelled"


def test_a_background_stream_on_the_wire_sends_each_event_as_it_happens(gemini_mock, http):
    gemini_mock.configure({"interactions": {"backgroundSeconds": 3600.0}})
    body = {"model": MODEL, "input": PROMPT, "stream": True, "background": True}
    frames: list[str] = []
    with http.stream("POST", "/v1beta/interactions", json=body) as answer:
        assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/event-stream")
        pending = ""
        for text in answer.iter_text():
            pending += text
            while "\n\n" in pending:
                piece, pending = pending.split("\n\n", 1)
                frames.append(piece)
                if len(frames) == 2:   # the connection is still open, waiting for the clock
                    gemini_mock.advance(3600)
    parsed = [dict(line.split(": ", 1) for line in f.splitlines()) for f in frames]
    assert all(json.loads(p["data"])["event_type"] == p["event"] for p in parsed)
    assert [p["event"] for p in parsed][-1] == "interaction.completed" and pending == ""


def test_last_event_id_without_stream_is_a_400(client, http):
    interaction = client.interactions.create(model=MODEL, input=PROMPT)
    answer = http.get(f"/v1beta/interactions/{interaction.id}", params={"last_event_id": f"{interaction.id}.1"})
    assert answer.status_code == 400 and answer.json()["error"]["code"] == "invalid_request"
    assert "last_event_id" in answer.json()["error"]["message"]


def _agents(client):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # "Agents usage is experimental"
        return client.agents


def test_agents_list_get_create_delete(gemini_mock, client):
    agents = _agents(client)
    listed = [a.id for a in agents.list().agents]
    assert AGENT in listed
    assert agents.get(AGENT).description
    made = agents.create(id="my-researcher", base_agent=AGENT, system_instruction="Focus on marine biology.")
    assert made.id == "my-researcher" and made.base_agent == AGENT
    assert "my-researcher" in [a.id for a in agents.list().agents]
    other = _agents(gemini_mock.client(api_key=gemini_mock.other_key("agents-other")))
    assert "my-researcher" not in [a.id for a in other.list().agents]
    agents.delete("my-researcher")
    with pytest.raises(errors.NotFoundError):
        agents.get("my-researcher")


def test_deep_research_runs_in_the_background_with_plan_searches_and_cited_report(gemini_mock, client):
    with pytest.raises(errors.BadRequestError):
        client.interactions.create(agent=AGENT, input="Research the history of tidal power.")
    started = client.interactions.create(agent=AGENT, input="Research the history of tidal power.", background=True)
    assert started.status == "in_progress" and started.agent == AGENT
    gemini_mock.advance(60)
    assert client.interactions.get(started.id).status == "in_progress"
    gemini_mock.advance(61)
    done = client.interactions.get(started.id)
    assert done.status == "completed"
    kinds = [s.type for s in done.steps]
    assert kinds[0] == "user_input" and kinds[1] == "thought" and done.steps[1].summary
    assert kinds.index("google_search_call") < kinds.index("google_search_result") < kinds.index("model_output")
    report = done.steps[-1].content[-1]
    assert report.text and report.annotations and report.annotations[0].type == "url_citation"
    again = client.interactions.create(agent=AGENT, input="Research the history of tidal power.", background=True)
    gemini_mock.advance(3600)
    assert client.interactions.get(again.id).output_text == done.output_text   # deterministic


def test_a_background_run_the_model_fails_ends_failed(gemini_mock, client):
    gemini_mock.rules.error(503, times=1)
    started = client.interactions.create(model=MODEL, input=PROMPT, background=True)
    assert started.status == "in_progress"
    gemini_mock.advance(3600)
    failed = client.interactions.get(started.id)
    assert failed.status == "failed" and failed.errors[0].code == "unavailable" and failed.errors[0].message
    assert failed.steps[0].type == "user_input" and len(failed.steps) == 1


def test_deep_research_streams_its_progress_until_the_report_is_done(gemini_mock, client):
    events = []
    stream = client.interactions.create(agent=AGENT, input="Research the history of tidal power.", background=True,
                                        stream=True, agent_config={"type": "deep-research",
                                                                   "thinking_summaries": "auto"})
    for event in stream:
        events.append(event)
        if len(events) == 2:
            gemini_mock.advance(3600)
    deltas = {e.delta.type for e in events if e.event_type == "step.delta"}
    assert {"thought_summary", "text"} <= deltas
    assert events[-1].event_type == "interaction.completed" and events[-1].interaction.status == "completed"
    assert _text(events) == client.interactions.get(events[0].interaction.id).output_text


def test_parallel_function_calls_are_steps_with_their_own_ids(client):
    tools = [{"type": "function", "name": "switch_lights", "description": "Turn the room lights on or off.",
              "parameters": {"type": "object", "properties": {"on": {"type": "boolean"}}, "required": ["on"]}},
             {"type": "function", "name": "play_music", "description": "Play music of a genre.",
              "parameters": {"type": "object", "properties": {"genre": {"type": "string", "enum": ["jazz", "rock"]}},
                             "required": ["genre"]}}]
    asked = client.interactions.create(model=MODEL, input="turn on the lights and play some jazz", tools=tools)
    calls = [s for s in asked.steps if s.type == "function_call"]
    assert [(c.name, c.arguments) for c in calls] == [("switch_lights", {"on": True}), ("play_music", {"genre": "jazz"})]
    assert asked.status == "requires_action" and len({c.id for c in calls}) == 2
    results = [{"type": "function_result", "call_id": c.id, "name": c.name, "result": "done"} for c in calls]
    answered = client.interactions.create(model=MODEL, input=results, tools=tools, previous_interaction_id=asked.id)
    assert answered.status == "completed" and answered.output_text
