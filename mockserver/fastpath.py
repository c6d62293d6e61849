"""The direct path for API calls: a POST to the API that none of the middleware would act on goes
straight to the API dispatcher, under the same body-read timeout, without Starlette's middleware stack
and route table.

What the skipped layers do, and why such a call does not need them:

* CORS (access.AccessMiddleware): acts only on a request with an `Origin` header, or on the control plane.
  A request with an Origin takes the full stack.
* Control-plane checks (Host, Origin, token): only for `/_mock/...`, which always takes the full stack.
* Persistence (persistence.PersistMiddleware): a no-op without a state dir; with one, the full stack.
* Starlette's routing: every POST outside `/_mock` reaches the API catch-all (`/openapi.json`, `/` and
  `/healthz` route GET only), so the dispatcher is called directly.
* Starlette's error middleware: the dispatcher answers every error itself (a 500 envelope for a bug).

The body-read timeout (timeouts.BodyTimeoutMiddleware) wraps the direct path too.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Awaitable, Callable

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from .access import CONTROL_PREFIX
from .errors import ApiError
from .routing import Router
from .timeouts import BodyTimeoutMiddleware

if TYPE_CHECKING:
    from .store import Store

Dispatch = Callable[[Request], Awaitable[Response]]


class EmulatorApp(Starlette):
    """The Starlette application, with the direct path in front of its middleware stack."""

    direct: ASGIApp | None = None   # the ASGI app of the direct path, set by enable_direct_path

    def enable_direct_path(self, dispatch: Dispatch, store: Store, body_seconds: Callable[[], float],
                           router: Router) -> None:
        async def api(scope: Scope, receive: Receive, send: Send) -> None:
            response = await dispatch(Request(scope, receive, send))
            await response(scope, receive, send)

        self.direct = BodyTimeoutMiddleware(api, seconds=body_seconds)
        self._dispatch = dispatch
        self._store = store
        self._router = router

    def answers_at_once(self, scope: Scope) -> bool:
        """A direct-path call the protocol may answer itself (direct_answers.py): one that runs a model or
        counts its tokens. Their handlers wait on nothing a task must own (worker threads are asyncio's
        own); other handlers may use anyio, which needs the current task that a request answered in the
        protocol's callback does not have."""
        if not self.takes_direct_path(scope):
            return False
        try:
            route = self._router.match(scope["method"], scope["path"]).route
        except ApiError:
            return False
        return route.runs is not None or route.api_method == "countTokens"

    async def respond(self, scope: Scope, receive: Receive) -> Response:
        """The dispatcher's answer to a direct-path request whose body is complete (direct_answers.py
        sends it)."""
        scope["app"] = self
        return await self._dispatch(Request(scope, receive))

    def takes_direct_path(self, scope: Scope) -> bool:
        if scope["type"] != "http" or scope["method"] != "POST" or self._store.persister is not None:
            return False
        if scope["path"].startswith(CONTROL_PREFIX):
            return False
        for name, _ in scope["headers"]:
            if name == b"origin":
                return False
        return True

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.direct is not None and self.takes_direct_path(scope):
            scope["app"] = self
            await self.direct(scope, receive, send)
            return
        await super().__call__(scope, receive, send)
