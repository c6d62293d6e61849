"""The control plane's thin HTTP skin, the counterpart of http.py's for the API.

A control handler is `async def handler(ctx: ControlContext) -> Response`, as an API handler is over
`http.Context`: it reads the request through `ctx` (the store, path parameters, query, body) and raises
`errors.ApiError` for what it refuses. `route_table` turns a table of handlers into Starlette routes and
renders every ApiError as the Google envelope, in one place. Who may call the control plane at all is
access.py's to say.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Awaitable, Callable, Iterable

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .errors import ApiError, invalid_argument
from .http import error_response, parse_json, read_body

if TYPE_CHECKING:
    from .store import Store


class ControlContext:
    """What a control handler gets: the shape of http.Context, without an API version or a caller."""

    __slots__ = ("request", "store", "params")

    def __init__(self, request: Request, store: Store) -> None:
        self.request = request
        self.store = store
        self.params: dict[str, Any] = request.path_params

    @property
    def method(self) -> str:
        return self.request.method

    def query(self, name: str, default: str | None = None) -> str | None:
        return self.request.query_params.get(name, default)

    async def body(self, limit: int | None = None) -> bytes:
        """The whole body; over `limit` bytes (by default the API's request limit) it is a 400."""
        return await read_body(self.request, self.store.config["limits"]["requestBytes"] if limit is None else limit)

    async def json(self) -> dict[str, Any]:
        """The body as a JSON object (control bodies follow no API schema)."""
        data = parse_json(await self.body())
        if not isinstance(data, dict):
            raise invalid_argument("The request body must be a JSON object.")
        return data


ControlHandler = Callable[[ControlContext], Awaitable[Response]]


def endpoint(store: Store, handler: ControlHandler) -> Callable[[Request], Awaitable[Response]]:
    """A Starlette endpoint running `handler` over the request; an ApiError answers the Google envelope."""
    async def run(request: Request) -> Response:
        try:
            return await handler(ControlContext(request, store))
        except ApiError as error:
            return error_response(error)
    return run


def route_table(store: Store, table: Iterable[tuple[str, ControlHandler, list[str]]]) -> list[Route]:
    """One Starlette route per `(path, handler, methods)` row (a verb outside `methods` is Starlette's 405)."""
    return [Route(path, endpoint(store, handler), methods=methods) for path, handler, methods in table]


def by_verb(handlers: dict[str, ControlHandler]) -> ControlHandler:
    """One handler serving several verbs, each with its own; any other verb is a 404 envelope, as the API
    router answers it (mount it with every method allowed)."""
    async def handler(ctx: ControlContext) -> Response:
        chosen = handlers.get(ctx.method)
        if chosen is None:
            raise ApiError(404, "NOT_FOUND", f"Method {ctx.method} {ctx.request.url.path} is not found.")
        return await chosen(ctx)
    return handler
