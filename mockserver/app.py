"""create_app(): the Starlette application and the whole route table in one place."""
from __future__ import annotations

import logging
import traceback

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route

from . import control
from .auth import KeyRing
from .config import Config
from .errors import ApiError
from .http import Context, error_response
from .resources import models
from .routing import Router
from .store import Store

log = logging.getLogger("mockserver")

# One module per resource family: each has `register(store)` (its backend) and `ROUTES` (its handlers).
RESOURCES = [
    models,
]

# Headers the browser may read from answers (the resumable upload protocol lives in them).
EXPOSED_HEADERS = ["X-Goog-Upload-URL", "X-Goog-Upload-Status", "X-Goog-Upload-Size-Received",
                   "X-Goog-Upload-Chunk-Granularity", "X-Goog-Upload-Control-URL", "Content-Disposition"]


def create_store(config: Config | None = None, keys: KeyRing | None = None, state_dir=None) -> Store:
    """A store with every backend registered."""
    store = Store(config=config, keys=keys, state_dir=state_dir)
    for module in RESOURCES:
        module.register(store)
    return store


def create_app(config: Config | dict | None = None, *, keys: KeyRing | None = None, state_dir=None,
               store: Store | None = None) -> Starlette:
    if isinstance(config, dict):
        config = Config(config)
    store = store or create_store(config, keys, state_dir)
    router = Router([item for module in RESOURCES for item in module.ROUTES])

    async def dispatch(request: Request) -> Response:
        ctx = None
        try:
            item, version, params = router.match(request.method, request.url.path)
            ctx = Context(request, store, version, params)
            if item.auth:
                ctx.identity  # authenticate before any work
            response = await item.handler(ctx)
        except ApiError as error:
            response = error_response(error)
        except Exception:  # a 500 is always a bug: log it, keep it, answer the envelope
            detail = traceback.format_exc()
            log.error("internal error on %s %s\n%s", request.method, request.url.path, detail)
            store.internal_errors.append(detail)
            response = error_response(ApiError(500, "INTERNAL", "Internal error encountered."))
        store.journal.add({
            "time": store.timestamp(),
            "method": request.method,
            "path": request.url.path,
            "project": ctx._identity.project if ctx is not None and ctx._identity else None,
            "model": ctx.params.get("model") if ctx is not None else None,
            "status": response.status_code,
        })
        return response

    app = Starlette(
        routes=[
            Mount("/_mock", routes=control.routes(store)),
            Route("/{path:path}", dispatch, methods=["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]),
        ],
        middleware=[Middleware(CORSMiddleware, allow_origins=["*"], allow_methods=["*"], allow_headers=["*"],
                               expose_headers=EXPOSED_HEADERS, max_age=3600)],
    )
    app.state.store = store
    return app
