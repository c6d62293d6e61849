"""The `/_mock/...` control plane: reset, clock, config, journal and whoami. No API key needed,
except for whoami, which tells who a key is."""
from __future__ import annotations

from functools import wraps

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .errors import ApiError, invalid_argument
from .http import api_key, error_response, json_response, parse_json, read_body
from .wire import parse_time


def _endpoint(handler):
    """Control handlers raise ApiError like the API does and get the same envelope."""
    @wraps(handler)
    async def wrapped(request: Request) -> Response:
        try:
            return await handler(request)
        except ApiError as error:
            return error_response(error)
    return wrapped


async def _json_body(request: Request, store) -> dict:
    data = parse_json(await read_body(request, store.config["limits"]["requestBytes"]))
    if not isinstance(data, dict):
        raise invalid_argument("The request body must be a JSON object.")
    return data


def routes(store) -> list[Route]:
    @_endpoint
    async def reset(request: Request) -> Response:
        body = await _json_body(request, store)
        store.reset(config=bool(body.get("config")), clock=bool(body.get("clock")))
        return json_response({})

    def clock_state() -> dict:
        return {"now": store.timestamp(), "epochSeconds": store.now()}

    @_endpoint
    async def clock(request: Request) -> Response:
        if request.method == "POST":
            body = await _json_body(request, store)
            if "advanceSeconds" in body and "now" in body:
                raise invalid_argument("Give either advanceSeconds or now, not both.", "advanceSeconds")
            if "advanceSeconds" in body:
                seconds = body["advanceSeconds"]
                if isinstance(seconds, bool) or not isinstance(seconds, (int, float)):
                    raise invalid_argument("advanceSeconds must be a number.", "advanceSeconds")
                store.clock.advance(seconds)
            elif "now" in body:
                store.clock.set(parse_time(body["now"], "now"))
            else:
                raise invalid_argument("Give advanceSeconds or now.", "advanceSeconds")
        return json_response(clock_state())

    @_endpoint
    async def config(request: Request) -> Response:
        if request.method == "PATCH":
            return json_response(store.config.patch(await _json_body(request, store)))
        return json_response(store.config.as_dict())

    @_endpoint
    async def whoami(request: Request) -> Response:
        return json_response(store.keys.identify(api_key(request)).as_dict())

    @_endpoint
    async def requests(request: Request) -> Response:
        if request.method == "DELETE":
            store.journal.clear()
            return json_response({})
        return json_response({"requests": store.journal.entries(), "dropped": store.journal.dropped})

    return [
        Route("/reset", reset, methods=["POST"]),
        Route("/clock", clock, methods=["GET", "POST"]),
        Route("/config", config, methods=["GET", "PATCH"]),
        Route("/whoami", whoami, methods=["GET"]),
        Route("/requests", requests, methods=["GET", "DELETE"]),
    ]
