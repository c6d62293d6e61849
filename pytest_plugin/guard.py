"""The real-API guard: while a pytest session runs, no request reaches Google's real Gemini hosts.

A test that builds a client the emulator does not see (an explicit `base_url`, `vertexai=True`, a client made
before the environment was pointed at the emulator) would otherwise call the real, billed API with
whatever key the developer's shell holds. The guard makes such a request fail before any byte leaves the
machine, with `RealGeminiApiBlocked` saying how to opt out (the ini option `gemini_mock_allow_real_api`).

It checks the host where each HTTP library decides where to connect: httpcore and httpcore2 connection
pools (httpx, httpx2 and google-genai), urllib3 (requests), aiohttp's connector and the websockets
client (the Live API). A library imported after the guard started is patched at the next test's set-up
(`refresh()`); until then, and for anything else (urllib, sockets), `socket.getaddrinfo` refuses to
resolve these hosts. Patches are applied once per process and removed when the last session that asked
for them ends; nested sessions (pytester) each push their own policy, the innermost one decides.
"""
from __future__ import annotations

import socket
import sys
import threading
from typing import Any, Callable

INI_OPTION = "gemini_mock_allow_real_api"

# The hosts of the Gemini API (generativelanguage.googleapis.com) and of Vertex AI, global
# (aiplatform.googleapis.com) and regional (us-central1-aiplatform.googleapis.com); google-genai builds
# these in _api_client.py (BaseApiClient.__init__) when no base URL is set.
EXACT_HOSTS = ("generativelanguage.googleapis.com", "aiplatform.googleapis.com")
HOST_SUFFIXES = (".generativelanguage.googleapis.com", "-aiplatform.googleapis.com", ".aiplatform.googleapis.com")


class RealGeminiApiBlocked(RuntimeError):
    """A test tried to reach the real Gemini API (or Vertex AI) while the gemini-mockserver plugin was on."""


def is_real_host(host: str | bytes | None) -> bool:
    if host is None:
        return False
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    host = host.strip("[]").rstrip(".").lower()
    return host in EXACT_HOSTS or host.endswith(HOST_SUFFIXES)


def _message(where: str) -> str:
    return (f"gemini-mockserver blocked a request to the real Gemini API ({where}) during a test. Point the "
            "client at the emulator instead: use the gemini_mock fixture (gemini_mock.client(), or "
            "genai.Client() with no base_url, which follows GOOGLE_GEMINI_BASE_URL). To allow real calls, set "
            f"`{INI_OPTION} = true` in the [pytest] ini options (or pass -o {INI_OPTION}=true).")


_lock = threading.RLock()
_policies: list[bool] = []                        # one per live session: True = block; the last one decides
_patched: list[tuple[Any, str, Any]] = []        # (owner, attribute, original) to restore
_done: set[str] = set()                           # modules already patched


def blocking() -> bool:
    return bool(_policies) and _policies[-1]


def check(host: str | bytes | None, where: str | None = None) -> None:
    """Raise RealGeminiApiBlocked if the guard is on and `host` is a real Gemini host."""
    if blocking() and is_real_host(host):
        if isinstance(host, bytes):
            host = host.decode("ascii", "replace")
        raise RealGeminiApiBlocked(_message(where or str(host)))


def _patch(owner: Any, name: str, make: Callable[[Any], Any]) -> None:
    original = owner.__dict__.get(name)
    if original is None:
        return
    _patched.append((owner, name, original))
    setattr(owner, name, make(original))


# -- one patcher per library ------------------------------------------------------------------------

def _url_of(request: Any) -> str:
    url = request.url
    target = url.target.decode("ascii", "replace") if isinstance(url.target, bytes) else str(url.target)
    return f"{url.scheme.decode()}://{url.host.decode()}{target}"


def _httpcore(module: Any) -> None:
    def sync(original: Any) -> Any:
        def handle_request(self: Any, request: Any) -> Any:
            check(request.url.host, _url_of(request))
            return original(self, request)
        return handle_request

    def asynchronous(original: Any) -> Any:
        async def handle_async_request(self: Any, request: Any) -> Any:
            check(request.url.host, _url_of(request))
            return await original(self, request)
        return handle_async_request

    _patch(module.ConnectionPool, "handle_request", sync)
    _patch(module.AsyncConnectionPool, "handle_async_request", asynchronous)


def _urllib3(module: Any) -> None:
    from urllib.parse import urlsplit

    def make(original: Any) -> Any:
        def urlopen(self: Any, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
            target = urlsplit(url).hostname if "://" in str(url) else None
            check(target or self.host, f"{self.scheme}://{target or self.host}")
            return original(self, method, url, *args, **kwargs)
        return urlopen

    _patch(module.HTTPConnectionPool, "urlopen", make)


def _aiohttp(module: Any) -> None:
    def make(original: Any) -> Any:
        async def connect(self: Any, req: Any, *args: Any, **kwargs: Any) -> Any:
            check(req.url.host, str(req.url.with_query(None)))
            return await original(self, req, *args, **kwargs)
        return connect

    _patch(module.BaseConnector, "connect", make)


def _websockets(module: Any) -> None:
    def make(original: Any) -> Any:
        async def open_tcp_connection(self: Any) -> Any:
            check(self.ws_uri.host, f"{'wss' if self.ws_uri.secure else 'ws'}://{self.ws_uri.host}"
                                    f"{self.ws_uri.resource_name.split('?')[0]}")
            return await original(self)
        return open_tcp_connection

    _patch(module.connect, "open_tcp_connection", make)


def _sockets() -> None:
    def make(original: Any) -> Any:
        def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
            check(host)
            return original(host, *args, **kwargs)
        return getaddrinfo

    _patched.append((socket, "getaddrinfo", socket.getaddrinfo))
    socket.getaddrinfo = make(socket.getaddrinfo)


PATCHERS: dict[str, Callable[[Any], None]] = {
    "httpcore": _httpcore,
    "httpcore2": _httpcore,
    "urllib3.connectionpool": _urllib3,
    "aiohttp.connector": _aiohttp,
    "websockets.asyncio.client": _websockets,
}


def refresh() -> None:
    """Patch the libraries imported since the last look (cheap: a few dict lookups)."""
    if not _policies:
        return
    with _lock:
        for name, patcher in PATCHERS.items():
            module = sys.modules.get(name)
            if module is None or name in _done:
                continue
            _done.add(name)
            try:
                patcher(module)
            except AttributeError:   # the library changed shape: getaddrinfo still guards it
                pass


def push(block: bool) -> None:
    """A session starts: apply its policy (and the patches, the first time)."""
    with _lock:
        if not _policies:
            _sockets()
        _policies.append(block)
        refresh()


def pop() -> None:
    """A session ends: back to the enclosing session's policy; the last one removes every patch."""
    with _lock:
        if _policies:
            _policies.pop()
        if _policies:
            return
        for owner, name, original in reversed(_patched):
            setattr(owner, name, original)
        _patched.clear()
        _done.clear()
