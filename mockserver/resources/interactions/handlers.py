"""HTTP skin of the Interactions API: `/{version}/interactions[/{id}[/cancel]]`, and its error shape.

Paths and verbs are google-genai 3.6.1's (`_gaos/interactions.py`): POST /interactions (JSON, or
`text/event-stream` when the body says `stream: true`), GET /interactions/{id}?stream=&include_input=
&last_event_id=, POST /interactions/{id}/cancel, DELETE /interactions/{id}.

Errors are not the classic Google envelope: the SDK's error model (`_gaos/types/interactions/error.py`) is
`{"error": {"code": "<string>", "message"}}`, with the codes of ai.google.dev/gemini-api/docs/api-errors
(invalid_request, authentication, permission_denied, not_found, model_not_found, rate_limit_exceeded, ...).
"""
from __future__ import annotations

from typing import Any, AsyncIterator

from starlette.responses import Response, StreamingResponse

from ...call import current_call
from ...errors import ApiError, invalid_argument
from ...http import Context, dumps, json_response
from ..files import base_url
from . import events
from .backend import LEGACY_REVISION_BEFORE, error_code, legacy, view

def error_response(error: ApiError) -> Response:
    """The Interactions error body for any ApiError (also those the app raises before the handler runs)."""
    return json_response({"error": {"code": error_code(error), "message": error.message}}, error.code,
                         error.headers)


def _legacy(ctx: Context) -> bool:
    revision = ctx.request.headers.get("api-revision")
    return bool(revision and revision < LEGACY_REVISION_BEFORE)


def _answer(ctx: Context, body: dict[str, Any]) -> Response:
    return json_response(legacy(body) if _legacy(ctx) else body)


def _stream(frames: AsyncIterator[bytes]) -> Response:
    # an async iterator, so Starlette does not hand each chunk to a worker thread
    return StreamingResponse(frames, media_type="text/event-stream")


async def _body(ctx: Context) -> dict[str, Any]:
    body = await ctx.data()
    if not isinstance(body, dict):
        raise ApiError(400, "INVALID_ARGUMENT", "The request body must be a JSON object.")
    return body


def _model_error(error: ApiError, body: dict[str, Any]) -> ApiError:
    """An unknown model answers model_not_found naming it."""
    if error.code == 404 and body.get("model"):
        return ApiError(404, "NOT_FOUND", f"models/{str(body['model']).removeprefix('models/')} is not found.")
    return error


async def create(ctx: Context) -> Response:
    body = await _body(ctx)
    try:
        record = await ctx.work(ctx.store.interactions.create, ctx.identity, body, base_url(ctx))
    except ApiError as error:
        raise _model_error(error, body) from None
    if body.get("stream") is True:
        return _tier_header(ctx, _stream(events.follow(ctx.store, record)))
    return _tier_header(ctx, _answer(ctx, view(ctx.store, record, timeline=False)))


def _tier_header(ctx: Context, response: Response) -> Response:
    """The tier that served a model call naming one (service_tiers.py), as generateContent answers it."""
    call = current_call()
    if call is not None and call.service_tier is not None:
        response.headers[ctx.store.service_tiers.header] = call.service_tier
    return response


async def get(ctx: Context) -> Response:
    record = ctx.store.interactions.find(ctx.project, ctx.params["id"])
    last_event_id = ctx.query("last_event_id")
    if (ctx.query("stream") or "").lower() == "true":
        return _stream(events.follow(ctx.store, record, events.resume_index(ctx.store, record, last_event_id)))
    if last_event_id:   # "Can only be used if `stream` is true" (google-genai 3.6.1, interactions.get)
        raise invalid_argument("last_event_id can only be used with stream=true.", "last_event_id")
    include_input = (ctx.query("include_input") or "").lower() == "true"
    return _answer(ctx, view(ctx.store, record, timeline=True, include_input=include_input))


async def cancel(ctx: Context) -> Response:
    record = ctx.store.interactions.cancel(ctx.project, ctx.params["id"])
    return _answer(ctx, view(ctx.store, record, timeline=False))


async def delete(ctx: Context) -> Response:
    ctx.store.interactions.delete(ctx.project, ctx.params["id"])
    return Response(dumps({}), media_type="application/json")
