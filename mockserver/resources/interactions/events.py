"""The server-sent events of a streamed interaction, and resuming them from an event id.

Event types and fields are google-genai 3.6.1's `InteractionSSEEvent` union (`_gaos/types/interactions/`):
`interaction.created` {interaction}, `interaction.status_update` {interaction_id, status},
`step.start` {index, step}, `step.delta` {index, delta}, `step.stop` {index}, `interaction.completed`
{interaction}, `error` {error}; each has an `event_id` a client passes back as `last_event_id` to resume
after it. The streamed created / completed interactions carry no steps (the steps come as events), and a
stream skips the input step. The deltas of a model output concatenate to its text; a function call's
arguments come as one `arguments_delta` of JSON; a thought's summary and signature as `thought_summary` and
`thought_signature` deltas.

The events are computed from the stored interaction, so a stream read again (GET with `stream=true`)
yields the same events with the same ids. A stream of a background interaction still in progress (created
with `stream=true`, or read again) stays open: it sends what exists so far (created and in_progress), then
the rest as soon as the emulator's clock reaches the outcome (or a cancel ends it), closing after
`interaction.completed` (ai.google.dev/gemini-api/docs/background-execution: a background interaction's
progress is streamed, and a dropped stream is reconnected to with `last_event_id`).
"""
from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING, Any, AsyncIterator

from ...errors import invalid_argument
from .backend import Interaction, view

if TYPE_CHECKING:
    from ...store import Store

# A model output's text streams in pieces of about this many characters, cut after a space.
DELTA_CHARS = 48
# How often (real seconds) an open stream looks at the emulator's clock again while its interaction runs, so
# a clock moved by /_mock/clock, the plugin or a cancel shows at once.
POLL_SECONDS = 0.05


def _pieces(text: str) -> list[str]:
    pieces, start = [], 0
    while start < len(text):
        end = min(len(text), start + DELTA_CHARS)
        if end < len(text):
            space = text.rfind(" ", start + 1, end)
            end = space + 1 if space > start else end
        pieces.append(text[start:end])
        start = end
    return pieces or [""]


def _step_events(index: int, step: dict[str, Any]) -> list[dict[str, Any]]:
    kind = step["type"]
    if kind == "model_output":
        events = [{"event_type": "step.start", "index": index, "step": {"type": "model_output"}}]
        for item in step.get("content") or ():
            if item.get("type") == "text":
                events += [{"event_type": "step.delta", "index": index, "delta": {"type": "text", "text": piece}}
                           for piece in _pieces(item["text"])]
            else:
                events.append({"event_type": "step.delta", "index": index, "delta": dict(item)})
    elif kind == "thought":
        events = [{"event_type": "step.start", "index": index, "step": {"type": "thought"}}]
        for item in step.get("summary") or ():
            events.append({"event_type": "step.delta", "index": index,
                           "delta": {"type": "thought_summary", "content": item}})
        if step.get("signature"):
            events.append({"event_type": "step.delta", "index": index,
                           "delta": {"type": "thought_signature", "signature": step["signature"]}})
    elif kind == "function_call":
        start = {key: value for key, value in step.items() if key != "arguments"} | {"arguments": {}}
        events = [{"event_type": "step.start", "index": index, "step": start},
                  {"event_type": "step.delta", "index": index,
                   "delta": {"type": "arguments_delta",
                             "arguments": json.dumps(step.get("arguments") or {}, ensure_ascii=False)}}]
    else:   # server-side tool calls and results come whole
        events = [{"event_type": "step.start", "index": index, "step": dict(step)}]
    events.append({"event_type": "step.stop", "index": index})
    return events


def all_events(store: Store, record: Interaction) -> list[dict[str, Any]]:
    """Every event of the interaction as it stands now, with their ids."""
    status = record.status(store.now())
    created = view(store, record, timeline=False, steps=False) | {"status": "in_progress"}
    created.pop("usage", None)
    events: list[dict[str, Any]] = [
        {"event_type": "interaction.created", "interaction": created},
        {"event_type": "interaction.status_update", "interaction_id": record.id, "status": "in_progress"}]
    if status in ("completed", "requires_action"):
        for index, step in enumerate(record.steps):
            events += _step_events(index, step)
    if status != "in_progress":
        events.append({"event_type": "interaction.status_update", "interaction_id": record.id, "status": status})
        events.append({"event_type": "interaction.completed",
                       "interaction": view(store, record, timeline=False, steps=False) | {"steps": []}})
    for n, event in enumerate(events):
        event["event_id"] = f"{record.id}.{n}"
    return events


def resume_index(store: Store, record: Interaction, last_event_id: str | None) -> int:
    """The position of the event a client last saw (-1: none), checked against the events issued so far."""
    if not last_event_id:
        return -1
    prefix, _, number = last_event_id.rpartition(".")
    if prefix != record.id or not number.isdigit() or int(number) >= len(all_events(store, record)):
        raise invalid_argument(f"last_event_id {last_event_id!r} is not an event of interaction {record.id}.",
                               "last_event_id")
    return int(number)


async def follow(store: Store, record: Interaction, after: int = -1) -> AsyncIterator[bytes]:
    """The SSE frames of the events after position `after`, waiting on the emulator's clock while the
    interaction runs; the stream ends with `interaction.completed`."""
    sent = after
    while True:
        events = all_events(store, record)
        for event in events[sent + 1:]:
            yield frame(event)
        sent = max(sent, len(events) - 1)
        if events[-1]["event_type"] == "interaction.completed":
            return
        left = record.done_time - store.now()
        await asyncio.sleep(min(max(left, 0.0), POLL_SECONDS))


def frame(event: dict[str, Any]) -> bytes:
    return (b"event: " + str(event["event_type"]).encode() + b"\ndata: " + json.dumps(event, ensure_ascii=False).encode()
            + b"\n\n")
