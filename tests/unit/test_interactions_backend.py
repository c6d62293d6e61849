"""Unit tests of the Interactions backends without HTTP: wire mapping, state, export and import."""
from __future__ import annotations

import asyncio
import json

import pytest

from gemini_mockserver.app import create_store
from gemini_mockserver.errors import ApiError
from gemini_mockserver.resources.interactions import convert, events
from gemini_mockserver.resources.interactions.backend import legacy, view

MODEL = "gemini-3.6-flash"


@pytest.fixture
def store():
    made = create_store()
    yield made
    made.webhooks.close()
    made.close()


def test_input_forms_become_generate_content_turns():
    assert convert.input_contents("hi", []) == [{"role": "user", "parts": [{"text": "hi"}]}]
    image = {"type": "image", "data": "AAAA", "mime_type": "image/png"}
    assert convert.input_contents([{"type": "text", "text": "a"}, image], []) == [
        {"role": "user", "parts": [{"text": "a"}, {"inlineData": {"mimeType": "image/png", "data": "AAAA"}}]}]
    turns = convert.input_contents([
        {"type": "user_input", "content": [{"type": "text", "text": "q"}]},
        {"type": "function_call", "id": "c1", "name": "f", "arguments": {"x": 1}},
        {"type": "function_result", "call_id": "c1", "result": "ok"}], [])
    assert turns == [{"role": "user", "parts": [{"text": "q"}]},
                     {"role": "model", "parts": [{"functionCall": {"id": "c1", "name": "f", "args": {"x": 1}}}]},
                     {"role": "user", "parts": [{"functionResponse": {"id": "c1", "name": "f",
                                                                      "response": {"result": "ok"}}}]}]
    older = convert.input_contents([{"role": "user", "content": "x"}, {"role": "model", "content": "y"}], [])
    assert [t["role"] for t in older] == ["user", "model"]


@pytest.mark.parametrize("value, field", [(None, "input"), ([], "input"), ([{"type": "nope"}], "input[0].type"),
                                          ([{"type": "function_result", "call_id": "zz", "result": 1}],
                                           "input[0].call_id"),
                                          ([{"type": "image"}], "input[0]")])
def test_bad_input_names_the_field(value, field):
    with pytest.raises(ApiError) as caught:
        convert.input_contents(value, [])
    assert caught.value.code == 400 and field in str(caught.value.details)


def test_generation_config_and_response_format_mapping():
    config, tools = convert.generation_config({
        "generation_config": {"temperature": 0.5, "max_output_tokens": 9, "thinking_level": "low",
                              "thinking_summaries": "auto", "tool_choice": "any"},
        "response_format": {"type": "text", "mime_type": "application/json", "schema": {"type": "object"}}})
    assert config == {"temperature": 0.5, "maxOutputTokens": 9,
                      "thinkingConfig": {"thinkingLevel": "LOW", "includeThoughts": True},
                      "responseMimeType": "application/json", "responseJsonSchema": {"type": "object"}}
    assert tools == {"functionCallingConfig": {"mode": "ANY"}}
    older, _ = convert.generation_config({"response_format": {"type": "object"},
                                          "response_mime_type": "application/json"})
    assert older == {"responseMimeType": "application/json", "responseJsonSchema": {"type": "object"}}


def test_usage_mapping():
    assert convert.usage({"promptTokenCount": 3, "candidatesTokenCount": 4, "totalTokenCount": 9,
                          "thoughtsTokenCount": 2, "promptTokensDetails": [{"modality": "TEXT", "tokenCount": 3}]}) == {
        "total_input_tokens": 3, "total_output_tokens": 4, "total_tokens": 9, "total_thought_tokens": 2,
        "input_tokens_by_modality": [{"modality": "text", "tokens": 3}]}


def test_state_survives_export_and_import(store):
    identity = store.keys.identify("key-a")
    record = store.interactions.create(identity, {"model": MODEL, "input": "hi"})
    hook = store.webhooks.create(identity.project, {"uri": "http://127.0.0.1:9/x",
                                                    "subscribed_events": ["batch.succeeded"]})
    store.agents.create(identity.project, {"id": "mine", "base_agent": "deep-research-pro-preview-12-2025"})
    exported = store.export_state()
    store.reset()
    with pytest.raises(ApiError):
        store.interactions.find(identity.project, record.id)
    store.import_state(exported)
    again = store.interactions.find(identity.project, record.id)
    assert view(store, again, timeline=False) == view(store, record, timeline=False)
    assert store.webhooks.find(identity.project, hook["id"]).uri == "http://127.0.0.1:9/x"
    assert store.agents.get(identity.project, "mine")["base_agent"] == "deep-research-pro-preview-12-2025"


def _frames(store, record, after=-1, advance=None):
    """The event ids a stream sends; `advance`: seconds the clock moves once the stream has caught up."""
    async def read():
        ids = []
        async for frame in events.follow(store, record, after):
            ids.append(json.loads(frame.split(b"\ndata: ", 1)[1])["event_id"])
            if advance and len(ids) == 2:
                store.clock.advance(advance)
        return ids
    return asyncio.run(read())


def test_events_resume_and_legacy_view(store):
    identity = store.keys.identify("key-a")
    record = store.interactions.create(identity, {"model": MODEL, "input": "hi"})
    every = events.all_events(store, record)
    assert _frames(store, record) == [e["event_id"] for e in every]
    assert _frames(store, record, events.resume_index(store, record, every[3]["event_id"])) == [
        e["event_id"] for e in every[4:]]
    assert events.resume_index(store, record, every[-1]["event_id"]) == len(every) - 1
    assert events.resume_index(store, record, None) == -1
    with pytest.raises(ApiError):
        events.resume_index(store, record, "other.1")
    old = legacy(view(store, record, timeline=True))
    assert "steps" not in old and old["outputs"][0]["type"] == "thought" and old["outputs"][-1]["type"] == "text"


def test_a_background_stream_waits_for_the_clock_and_ends_with_the_outcome(store):
    identity = store.keys.identify("key-a")
    store.config.patch({"interactions": {"backgroundSeconds": 3600.0}})
    record = store.interactions.create(identity, {"model": MODEL, "input": "hi", "background": True})
    issued = events.all_events(store, record)
    assert [e["event_type"] for e in issued] == ["interaction.created", "interaction.status_update"]
    with pytest.raises(ApiError):    # not issued yet
        events.resume_index(store, record, f"{record.id}.2")
    ids = _frames(store, record, advance=3600)
    final = events.all_events(store, record)
    assert ids == [e["event_id"] for e in final] and final[-1]["interaction"]["status"] == "completed"
    assert len(ids) > 4


def test_a_cancel_ends_an_open_background_stream(store):
    identity = store.keys.identify("key-a")
    record = store.interactions.create(identity, {"model": MODEL, "input": "hi", "background": True})

    async def read():
        kinds = []
        async for frame in events.follow(store, record):
            event = json.loads(frame.split(b"\ndata: ", 1)[1])
            kinds.append((event["event_type"], event.get("status") or event.get("interaction", {}).get("status")))
            if len(kinds) == 2:
                store.interactions.cancel(identity.project, record.id)
        return kinds
    assert asyncio.run(read()) == [("interaction.created", "in_progress"), ("interaction.status_update", "in_progress"),
                                   ("interaction.status_update", "cancelled"), ("interaction.completed", "cancelled")]
