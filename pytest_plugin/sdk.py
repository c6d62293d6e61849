"""Cheaper google-genai clients for a plain-http emulator.

Building a `genai.Client()` costs tens of milliseconds, nearly all of it two TLS contexts (one for the
httpx clients, one for websockets) loaded with the whole CA bundle. A client whose base URL is
`http://...` never makes a TLS connection to that URL, so for such clients the plugin hands the SDK one
TLS context built once (by the SDK's own code, with the same settings) instead of two new ones per
client.

Such clients (the synchronous side) also share one keep-alive connection pool, so a test that builds
a new client does not open a new TCP connection to the emulator: the pool's transport is handed to
each client behind a wrapper whose `close()` does nothing (closing a client must not close the pool
the others use); `uninstall()` closes the pool. The asyncio side keeps its own per-loop pools.

Nothing else changes: clients with an `https://` base URL, Vertex AI clients and clients given their
own `verify` / `ssl` / transport / proxy / limits arguments go the SDK's usual way.

`install()` is idempotent and `uninstall()` restores the SDK; both are no-ops if the SDK is absent or
its internals have changed shape (then clients are simply built the slow way).
"""
from __future__ import annotations

import os
import threading
from typing import Any

_lock = threading.Lock()
_saved: dict[str, Any] = {}
_contexts: dict[tuple[Any, ...], Any] = {}
_pools: dict[tuple[Any, ...], Any] = {}
_transports: dict[tuple[Any, ...], Any] = {}   # (client class, id of the TLS context): its shared transport
_built: dict[Any, Any] = {}   # the client args a plain-http client with no args of its own gets, per kind
# client_args a caller may give and still share the pool (anything else: the SDK's usual way)
_POOL_SAFE_ARGS = frozenset({"verify", "timeout", "follow_redirects", "headers", "cookies", "params", "trust_env"})


def _shared_transport(client_cls: Any, ctx: Any) -> Any:
    """A transport on the process-wide pool for clients of `client_cls`'s library (httpx or httpx2). One
    transport object per pool, handed to every client: its `close()` does nothing, so sharing it is safe."""
    key = (client_cls, id(ctx))
    transport = _transports.get(key)
    if transport is None:
        transport = _transports[key] = _new_shared_transport(client_cls, ctx)
    return transport


def _new_shared_transport(client_cls: Any, ctx: Any) -> Any:
    import importlib
    for name in ("httpx2", "httpx"):
        try:
            lib = importlib.import_module(name)
        except ImportError:
            continue
        if isinstance(client_cls, type) and issubclass(client_cls, lib.Client):
            break
    else:
        return None
    pool: Any = _pools.get((name, id(ctx)))   # an HTTPTransport of the library found above
    if pool is None:
        pool = _pools[(name, id(ctx))] = lib.HTTPTransport(verify=ctx)

    # the base is httpx's or httpx2's, found at run time, so mypy cannot know it
    class SharedTransport(lib.BaseTransport):   # type: ignore[misc,name-defined]
        def handle_request(self, request: Any) -> Any:
            return pool.handle_request(request)

        def close(self) -> None:   # the pool outlives the client; uninstall() closes it
            pass

    return SharedTransport()


def _plain_http(options: Any) -> bool:
    url = getattr(options, "base_url", None) or ""
    return isinstance(url, str) and url[:7].lower() == "http://"


def _env_key(*extra: Any) -> tuple[Any, ...]:
    return (os.environ.get("SSL_CERT_FILE"), os.environ.get("SSL_CERT_DIR"), *extra)


def _with_arg(options: Any, key: str, value: Any) -> Any:
    """A copy of `options` whose client_args / async_client_args carry `key` (unless already set)."""
    update: dict[str, Any] = {}
    for field in ("client_args", "async_client_args"):
        args = getattr(options, field, None) or {}
        if not args.get(key):
            update[field] = {**args, key: value}
    return options.model_copy(update=update) if update else options


def _given(options: Any, key: str) -> bool:
    return bool((getattr(options, "client_args", None) or {}).get(key)
                or (getattr(options, "async_client_args", None) or {}).get(key))


def install() -> bool:
    """Patch the SDK (once per process). Returns whether the fast path is active."""
    with _lock:
        if _saved:
            return True
        try:
            from google.genai import _api_client
            from google.genai import types
        except ImportError:
            return False
        cls = getattr(_api_client, "BaseApiClient", None)
        httpx_ctx = getattr(cls, "__dict__", {}).get("_ensure_httpx_ssl_ctx")
        ws_ctx = getattr(cls, "__dict__", {}).get("_ensure_websocket_ssl_ctx")
        if cls is None or not isinstance(httpx_ctx, staticmethod) or not isinstance(ws_ctx, staticmethod):
            return False
        original_httpx, original_ws = httpx_ctx.__func__, ws_ctx.__func__

        def shared(kind: str, *classes: Any) -> Any:
            key = (kind, *_env_key(*classes))
            ctx = _contexts.get(key)
            if ctx is None:
                if kind == "httpx":   # what the SDK would build for a client with no options
                    ctx = original_httpx(types.HttpOptions(), False, *classes)[0]["verify"]
                else:
                    ctx = original_ws(types.HttpOptions(), False)["ssl"]
                _contexts[key] = ctx
            return ctx

        def ensure_httpx_ssl_ctx(options: Any, vertexai: bool = False, client_cls: Any = None,
                                 async_client_cls: Any = None) -> Any:
            fast = not vertexai and _plain_http(options) and not _given(options, "verify")
            if not fast:
                return original_httpx(options, vertexai, client_cls, async_client_cls)
            # A client given no client args (the usual `genai.Client()`) gets what the last such client got:
            # the SDK's own answer inspects the client classes' signatures each time, ~0.1 ms a client
            plain = not options.client_args and not options.async_client_args
            key = ("httpx", _api_client._get_http_client_classes(options), client_cls, async_client_cls,
                   *_env_key()) if plain else None
            built = _built.get(key) if key is not None else None
            if built is None:
                built = _fast_httpx_args(options, client_cls, async_client_cls)
                if key is not None:
                    _built[key] = built
            client_args, async_args = built
            return dict(client_args), dict(async_args)   # copies: the SDK may add to them

        def _fast_httpx_args(options: Any, client_cls: Any, async_client_cls: Any) -> tuple[Any, Any]:
            options = _with_arg(options, "verify", shared("httpx", client_cls, async_client_cls))
            client_args, async_args = original_httpx(options, False, client_cls, async_client_cls)
            if set(options.client_args or {}) <= _POOL_SAFE_ARGS:
                try:
                    sync_cls = client_cls or _api_client._get_http_client_classes(options)[0]
                    transport = _shared_transport(sync_cls, client_args.get("verify"))
                except Exception:   # the SDK changed shape: no sharing, nothing else changes
                    transport = None
                if transport is not None:
                    client_args = {**client_args, "transport": transport}
            return client_args, async_args

        def ensure_websocket_ssl_ctx(options: Any, vertexai: bool = False) -> Any:
            if vertexai or not _plain_http(options) or _given(options, "ssl"):
                return original_ws(options, vertexai)
            key = ("ws", *_env_key()) if not options.async_client_args else None
            built = _built.get(key) if key is not None else None
            if built is None:
                args = getattr(options, "async_client_args", None) or {}
                options = options.model_copy(update={"async_client_args": {**args, "ssl": shared("ws")}})
                built = original_ws(options, vertexai)
                if key is not None:
                    _built[key] = built
            return dict(built)

        _saved.update(cls=cls, httpx=httpx_ctx, ws=ws_ctx)
        cls._ensure_httpx_ssl_ctx = staticmethod(ensure_httpx_ssl_ctx)
        cls._ensure_websocket_ssl_ctx = staticmethod(ensure_websocket_ssl_ctx)
        return True


def uninstall() -> None:
    with _lock:
        if not _saved:
            return
        cls = _saved["cls"]
        cls._ensure_httpx_ssl_ctx = _saved["httpx"]
        cls._ensure_websocket_ssl_ctx = _saved["ws"]
        _saved.clear()
        _contexts.clear()
        for pool in _pools.values():
            try:
                pool.close()
            except Exception:
                pass
        _pools.clear()
        _transports.clear()
        _built.clear()


def installed() -> bool:
    return bool(_saved)
