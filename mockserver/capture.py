"""What the journal keeps of an HTTP call (journal.py holds the entries and their bounds).

Capture is cheap: the request body is the bytes the handler already read (`http.read_body` leaves a
reference in the scope), an answer's body is the Response's own bytes, and a stream's chunks are kept as
they pass, up to the per-entry cap. An upload streamed to disk keeps only its size and type. The stream's
pace (pacing.py) is applied here too, so a paced stream is journaled as it is delivered.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, AsyncIterable, AsyncIterator

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from . import pacing
from .http import EventStream, off_loop
from .journal import Journal, clip_body, redact_headers, redact_query

if TYPE_CHECKING:
    from .call import Call
    from .store import Store

BODY_KEY = "gemini_mock.body"       # scope key: the request body as read (http.read_body)
ENTRY_KEY = "gemini_mock.entry"     # scope key: the journal entry of the request (the access log reads it)
OFF_LOOP_BYTES = 1024 * 1024


def request_part(request: Request, limit: int) -> dict[str, Any]:
    scope = request.scope
    part: dict[str, Any] = {"headers": redact_headers(scope.get("headers") or ()),
                            "query": redact_query(scope.get("query_string", b"").decode("latin-1"))}
    body = scope.get(BODY_KEY)
    if body is None:
        body = getattr(request, "_body", None)
    if body is not None:
        part["body"], part["bodyBytes"] = clip_body(body, limit)
    else:
        declared = request.headers.get("content-length", "")
        part["bodyBytes"] = int(declared) if declared.isdigit() else 0
        if part["bodyBytes"]:
            part["summary"] = (f"{part['bodyBytes']} bytes of {request.headers.get('content-type') or 'data'}, "
                               f"streamed to storage (not kept)")
    return part


def response_part(response: Response, limit: int) -> dict[str, Any]:
    part: dict[str, Any] = {"status": response.status_code, "headers": redact_headers(response.raw_headers)}
    body = getattr(response, "body", None)
    if isinstance(body, (bytes, bytearray)) and not isinstance(response, StreamingResponse):
        part["body"], part["bodyBytes"] = clip_body(bytes(body), limit)
    elif isinstance(response, StreamingResponse) and \
            response.headers.get("content-type", "").startswith("text/event-stream"):
        part["events"], part["bodyBytes"] = [], 0
    else:
        length = response.headers.get("content-length", "")
        part["bodyBytes"] = int(length) if length.isdigit() else 0
        part["summary"] = f"{response.headers.get('content-type') or 'bytes'} streamed back (not kept)"
    return part


def mark(entry: dict[str, Any], call: Call | None) -> None:
    """Who answered: a scripted rule, an injected fault, or the emulator."""
    if call is None:
        return
    if getattr(call, "rule", None):
        entry["source"], entry["rule"] = "rule", call.rule
    if call.fault:
        entry["fault"] = call.fault
        entry.setdefault("source", "fault")
    elif call.family is not None and not getattr(call, "rule", None):
        entry["unscripted"] = True   # a model ran and nothing scripted its answer (the plugin's strict mode)


async def finish(store: Store, call: Call | None, request: Request, response: Response,
                 entry: dict[str, Any]) -> Response:
    """Journal `entry` with the answer; a stream is paced and journaled as it goes out."""
    journal: Journal = store.journal
    limit = journal.body_limit
    body = request.scope.get(BODY_KEY)
    # cutting a large body (a 20 MB one: ~15 ms) is done off the event loop, like the handler's own work
    entry["request"] = await off_loop(body is not None and len(body) > OFF_LOOP_BYTES, request_part, request, limit)
    entry["response"] = part = response_part(response, limit)
    mark(entry, call)
    request.scope[ENTRY_KEY] = entry
    journal.add(entry)
    if "events" in part and isinstance(response, StreamingResponse):
        pace = pacing.pace_for(store.config, call.model, call.pace) if call is not None else None
        whole = response if isinstance(response, EventStream) and response.untouched else None
        if whole is not None and pace is None:   # a finished answer sent in one write: journaled at once
            kept = [0]
            for event in whole.events:
                _keep(journal, entry, part, limit, event, kept)
            journal.finished(entry)
            return response
        source: AsyncIterable[str | bytes | memoryview] = \
            whole.one_by_one() if whole is not None else response.body_iterator
        if pace is not None:
            source = pacing.paced(source, pace)
        response.body_iterator = _journaled(source, journal, entry, part, limit)
    return response


def _keep(journal: Journal, entry: dict[str, Any], part: dict[str, Any], limit: int, data: bytes,
          kept: list[int]) -> None:
    """Journal one event of a stream within the entry's limit (`kept`: bytes kept so far; later events are
    counted, not kept)."""
    part["bodyBytes"] += len(data)
    if kept[0] + len(data) <= limit:
        part["events"].append(data)
        kept[0] += len(data)
        journal.grew(entry, len(data))
    else:
        part["eventsDropped"] = part.get("eventsDropped", 0) + 1


async def _journaled(source: AsyncIterable[str | bytes | memoryview], journal: Journal, entry: dict[str, Any],
                     part: dict[str, Any], limit: int) -> AsyncIterator[bytes]:
    kept = [0]
    try:
        async for chunk in source:
            data = chunk.encode() if isinstance(chunk, str) else bytes(chunk)
            _keep(journal, entry, part, limit, data, kept)
            yield data
    finally:
        closing = getattr(source, "aclose", None)
        if closing is not None:
            await closing()
        journal.finished(entry)
