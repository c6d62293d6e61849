"""The journal's control routes besides the list (control.py): one entry in full, and the live feed.

    GET /_mock/requests/{id}        the entry with its request and answer, and a curl command replaying it
    GET /_mock/requests:stream      SSE: `event: request` with each entry's summary as it is made, and again
                                    when its answer is complete (a stream that ended); a comment every
                                    KEEPALIVE_SECONDS keeps proxies from closing the connection
"""
from __future__ import annotations

import asyncio
import json
import shlex
from typing import TYPE_CHECKING, Any, AsyncIterator

from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from .control_http import ControlContext, route_table
from .errors import invalid_argument, not_found
from .http import dumps, json_response
from .journal import REDACTED, render

if TYPE_CHECKING:
    from .store import Store

KEEPALIVE_SECONDS = 15.0
# Headers a replayed request needs (the rest are the client's own: user agent, lengths, encodings).
CURL_HEADERS = ("content-type", "x-goog-upload-protocol", "x-goog-upload-command", "x-goog-upload-offset",
                "x-goog-upload-header-content-length", "x-goog-upload-header-content-type")


def curl_command(base_url: str, detail: dict[str, Any]) -> str:
    """A curl command that sends the journaled request again; the key comes from $GEMINI_API_KEY."""
    request = detail.get("request") or {}
    query = "&".join(f"{name}={value}" for name, value in (request.get("query") or {}).items()
                     if value != REDACTED)
    url = base_url.rstrip("/") + detail["path"] + (f"?{query}" if query else "")
    words = ["curl", "-X", detail["method"], shlex.quote(url), "-H", '"x-goog-api-key: $GEMINI_API_KEY"']
    for name, value in (request.get("headers") or {}).items():
        if name.lower() in CURL_HEADERS:
            words += ["-H", shlex.quote(f"{name}: {value}")]
    body = request.get("body")
    if isinstance(body, (dict, list)):
        words += ["-d", shlex.quote(json.dumps(body, ensure_ascii=False))]
    elif isinstance(body, str) and body:
        words += ["--data-binary", shlex.quote(body)]
    return " ".join(words)


async def entry(ctx: ControlContext) -> Response:
    text = ctx.params["item"]
    if not text.isdigit():
        raise invalid_argument(f"A journal entry id is a number, not {text[:40]!r}.", "id")
    found = ctx.store.journal.find(int(text))
    if found is None:
        raise not_found(f"Journal entry {text} was not found (it may have been dropped).")
    detail = render(found, True)
    detail["curl"] = curl_command(str(ctx.request.base_url).removesuffix("/_mock/"), detail)
    return json_response(detail)


async def feed(ctx: ControlContext) -> Response:
    journal = ctx.store.journal
    queue = journal.listen()

    async def events() -> AsyncIterator[bytes]:
        try:
            yield b": the request journal, live\n\n"
            while True:
                try:
                    found = await asyncio.wait_for(queue.get(), KEEPALIVE_SECONDS)
                except asyncio.TimeoutError:
                    yield b": keepalive\n\n"
                    continue
                yield b"event: request\ndata: " + dumps(render(found, False)) + b"\n\n"
        finally:
            journal.unlisten(queue)

    return StreamingResponse(events(), media_type="text/event-stream", headers={"Cache-Control": "no-store"})


def journal_routes(store: Store) -> list[Route]:
    return route_table(store, [
        ("/requests:stream", feed, ["GET"]),
        ("/requests/{item}", entry, ["GET"]),
    ])
