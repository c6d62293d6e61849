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

from typing import Any, Awaitable, Callable

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response

from .access import CONTROL_PREFIX
from .timeouts import BodyTimeoutMiddleware

Dispatch = Callable[[Request], Awaitable[Response]]


class EmulatorApp(Starlette):
    """The Starlette application, with the direct path in front of its middleware stack."""

    direct: Any = None   # the ASGI app of the direct path, set by enable_direct_path

    def enable_direct_path(self, dispatch: Dispatch, store, body_seconds: Callable[[], float]) -> None:
        async def api(scope, receive, send) -> None:
            response = await dispatch(Request(scope, receive, send))
            await response(scope, receive, send)

        self.direct = BodyTimeoutMiddleware(api, seconds=body_seconds)
        self._store = store

    def takes_direct_path(self, scope: dict) -> bool:
        if scope["type"] != "http" or scope["method"] != "POST" or self._store.persister is not None:
            return False
        if scope["path"].startswith(CONTROL_PREFIX):
            return False
        for name, _ in scope["headers"]:
            if name == b"origin":
                return False
        return True

    async def __call__(self, scope, receive, send) -> None:
        if self.direct is not None and self.takes_direct_path(scope):
            scope["app"] = self
            await self.direct(scope, receive, send)
            return
        await super().__call__(scope, receive, send)
