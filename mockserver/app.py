"""create_app(): the Starlette application and the whole route table in one place."""
from __future__ import annotations

import logging
import traceback
from pathlib import Path
from typing import Any, Callable

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Mount, Route, WebSocketRoute, request_response
from starlette.types import Receive, Scope, Send

from . import capture, cassettes, control, landing, openapi, persistence, quotas, rules, service_tiers, tiers, timeouts
from .access import AccessMiddleware, ControlAccess
from .auth import KeyRing
from .call import bare_model
from .cassettes import Cassettes, Dispatch
from .config import Config
from .fastpath import EmulatorApp
from .errors import ApiError, status_for_code
from .http import Context, error_response, json_response
from .resources import batches, files, models
from .resources import caches
from .resources import corpora, legacy, permissions, tuned_models
from .resources import openai as openai_compat
from .resources import logs
from .resources import media_generation, url_media
from .resources import interactions
from .resources import answers, dynamic, environments, file_registration, generated_files
from .resources import file_search_stores, file_search_upload
from . import live
from .routing import Route as ApiRoute, Router
from .store import Store

log = logging.getLogger("gemini_mockserver")

# One module per resource family: each has `register(store)` (its backend) and `ROUTES` (its handlers).
RESOURCES = [
    legacy,
    permissions,
    tuned_models,
    corpora,
    models,
    caches,
    files,
    batches,
    openai_compat,
    logs,
    media_generation,
    file_search_stores,
    file_search_upload,
    live,           # the Live API: ephemeral tokens here, its WebSocket route below
    interactions,   # the Interactions API, agents and webhooks (their own error body: Route.render_error)
    generated_files,
    file_registration,
    dynamic,
    answers,
    environments,
]

# Backends with no API routes of their own: scripted rules and faults, rate limits and the usage ledger,
# run-time tier changes, service tiers' rules, the media behind registered URLs.
SERVICES = [rules, quotas, tiers, service_tiers, url_media]

# Headers the browser may read from answers (the resumable upload protocol lives in them).
EXPOSED_HEADERS = ["X-Goog-Upload-URL", "X-Goog-Upload-Status", "X-Goog-Upload-Size-Received",
                   "X-Goog-Upload-Chunk-Granularity", "X-Goog-Upload-Control-URL", "Content-Disposition",
                   "x-gemini-service-tier"]   # the tier that served a call naming one (service_tiers.py)


# The journal keeps this much of a path or model name: its memory is bounded by its entry cap times this,
# whatever lengths the requests' paths have.
JOURNAL_TEXT_CHARS = 2048


def _clip(text: str | None) -> str | None:
    return text if text is None or len(text) <= JOURNAL_TEXT_CHARS else text[:JOURNAL_TEXT_CHARS] + "..."


def _renderer(item: ApiRoute | None) -> Callable[[ApiError], Response]:
    """How an error is answered: the route's own error body (the OpenAI layer's, the Interactions API's),
    or the Google envelope."""
    if item is not None and item.render_error is not None:
        return item.render_error
    return error_response


def create_store(config: Config | None = None, keys: KeyRing | None = None, state_dir: str | Path | None = None,
                 *, recover: bool = False) -> Store:
    """A store with every backend registered. A damaged state dir is a persistence.StateDirError unless
    `recover`."""
    store = Store(config=config, keys=keys, state_dir=state_dir)
    for module in RESOURCES:
        module.register(store)
    for module in SERVICES:
        module.register(store)
    if state_dir is not None:   # keep the state there: restore it now, persist every change
        persistence.attach(store, recover=recover)
    return store


def create_app(config: Config | dict[str, Any] | None = None, *, keys: KeyRing | None = None,
               state_dir: str | Path | None = None, store: Store | None = None,
               replay: Cassettes | str | Path | None = None, access: ControlAccess | None = None,
               recover: bool = False) -> Starlette:
    """The emulator. `replay`: a directory of recorded cassettes (or `cassettes.Cassettes`) answered
    before emulation. `access`: the control plane's protection (access.py; default: loopback names, no
    token)."""
    if isinstance(config, dict):
        config = Config(config)
    store = store or create_store(config, keys, state_dir, recover=recover)
    access = access or ControlAccess()
    routes = [item for module in RESOURCES for item in module.ROUTES]
    router = Router(routes)

    async def dispatch(request: Request) -> Response:
        ctx = call = token = item = None
        try:
            match = router.match(request.method, request.scope["path"])
            item = match.route
            ctx = Context(request, store, match)
            if item.auth:
                ctx.identity  # authenticate before any work
            call = await quotas.describe_call(ctx)
            token = quotas.CALL.set(call)
            await rules.apply_faults(store, call)     # injected faults: latency, an error, a stream cut
            quotas.admit(store, call)                 # rate limits, and the usage ledger's count
            response = await rules.finish_response(call, await item.handler(ctx))
        except ApiError as error:
            response = _renderer(item)(error)
        except ClientDisconnect:   # the client went away mid-body: nobody reads the answer, and no bug
            response = _renderer(item)(ApiError(499, "CANCELLED", "The client closed the request."))
        except Exception:  # a 500 is always a bug: log it, keep it, answer the envelope
            detail = traceback.format_exc()
            log.error("internal error on %s %s\n%s", request.method, request.scope["path"], detail)
            store.internal_errors.append(detail)
            response = _renderer(item)(ApiError(500, "INTERNAL", "Internal error encountered."))
        finally:
            if token is not None:
                quotas.CALL.reset(token)
        if call is not None:
            quotas.settle(store, call, response.status_code)   # charge or not; TPM; cache storage
        return await capture.finish(store, call, request, response, {
            "time": store.now(),  # epoch seconds; the journal formats it when read
            "method": request.method,
            "path": _clip(request.scope["path"]),
            "project": ctx._identity.project if ctx is not None and ctx._identity else None,
            "model": _clip(bare_model(call.model) if call is not None and call.model
                           else ctx.params.get("model") if ctx is not None else None),
            "status": response.status_code,
        })

    api: Dispatch = dispatch if replay is None else cassettes.replaying(dispatch, replay, store)

    async def openapi_document(request: Request) -> Response:
        return json_response(openapi.document(routes, str(request.base_url).rstrip("/")))

    async def starlette_error(request: Request, exc: HTTPException) -> Response:
        """Starlette's own answers (a /_mock typo, a verb /openapi.json lacks) in the Google envelope;
        an unknown verb is a 404 there too, as the router answers it."""
        code = 404 if exc.status_code in (404, 405) else exc.status_code
        message = (f"The requested URL {request.url.path} was not found on this server." if code == 404
                   else str(exc.detail))
        return error_response(ApiError(code, status_for_code(code), message))

    app = EmulatorApp(
        # Starlette types every handler as taking any Exception; this one is only registered for HTTPException
        exception_handlers={HTTPException: starlette_error},  # type: ignore[dict-item]
        routes=[
            Mount("/_mock", routes=control.routes(store, access)),
            Route("/openapi.json", openapi_document, methods=["GET"]),
            Route("/", landing.landing, methods=["GET"]),       # no key, no journal entry
            Route("/healthz", landing.healthz, methods=["GET"]),
            Route("/favicon.ico", landing.favicon, methods=["GET"]),
            Route("/{path:path}", api, methods=["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]),
            WebSocketRoute("/{path:path}", live.live_endpoint),   # every WebSocket: the Live API or its close
        ],
        # CORS for the API routes only; the control plane answers its own rules (access.py). The ignore: mypy
        # matches a class taking **options to Middleware's factory protocol only if its `app` is positional-only
        middleware=[Middleware(AccessMiddleware, access=access,  # type: ignore[arg-type]
                               allow_origins=["*"], allow_methods=["*"], allow_headers=["*"],
                               expose_headers=EXPOSED_HEADERS, max_age=3600),
                    Middleware(persistence.PersistMiddleware, store=store),    # durable before answering
                    Middleware(timeouts.BodyTimeoutMiddleware,                 # a stalled body is a 408
                               seconds=lambda: store.config["limits"]["bodyIdleSeconds"])],
    )
    # A path the catch-all's pattern cannot match (a newline in it) still goes to the API router.
    http_default = request_response(api)

    async def default(scope: Scope, receive: Receive, send: Send) -> None:
        handler = http_default if scope["type"] == "http" else WebSocketRoute("/", live.live_endpoint).app
        await handler(scope, receive, send)

    app.router.default = default
    # API calls no middleware acts on skip the stack (fastpath.py), under the same body timeout
    app.enable_direct_path(api, store, lambda: store.config["limits"]["bodyIdleSeconds"], router)
    app.state.store = store
    app.state.access = access
    return app
