"""`gemini_mock_tls`: the emulator over HTTPS and WSS, for code that needs TLS (google-genai's Live API).

google-genai always dials `wss://` for `client.aio.live.connect` when an API key is set, so the plain-HTTP
emulator of `gemini_mock` cannot take it. This fixture serves a second emulator (one per session, started
on first use) with a certificate from a local CA (gemini_mockserver/tls.py), and points the environment at
it for the test: GOOGLE_GEMINI_BASE_URL (https://127.0.0.1:<port>), the API key variables, and SSL_CERT_FILE
(the CA plus certifi's roots), which google-genai reads for both its HTTP and its WebSocket connections.
So `genai.Client()` built by the code under test, unmodified, reaches the emulator over TLS. The object is
a `GeminiMock` like `gemini_mock`'s (clients, rules, faults, clock, journal), on its own server and state.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Iterator

import pytest

from .plugin import GeminiMock, test_key
from .session import ENV_BASE_URL, ENV_CLEARED, ENV_KEYS

if TYPE_CHECKING:   # the server is imported only when a test asks for it
    from .server import LiveServer


@pytest.fixture(scope="session")
def gemini_tls_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The emulator served over TLS for the session (per xdist worker)."""
    from gemini_mockserver import tls

    from .server import LiveServer

    server = LiveServer(tls=tls.ensure(tmp_path_factory.mktemp("gemini-mock-tls"))).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def gemini_mock_tls(gemini_tls_server: LiveServer, request: pytest.FixtureRequest,
                    monkeypatch: pytest.MonkeyPatch) -> Iterator[GeminiMock]:
    """The TLS emulator for one test, with the environment (and SSL_CERT_FILE) pointed at it."""
    store, tls = gemini_tls_server.store, gemini_tls_server.tls
    assert store is not None and tls is not None   # gemini_tls_server serves the emulator over TLS
    store.reset(config=True, clock=True)
    store.internal_errors.clear()
    mock = GeminiMock(gemini_tls_server, test_key(request.node.nodeid))
    for name in ENV_CLEARED:
        monkeypatch.delenv(name, raising=False)
    for name in ENV_KEYS:
        monkeypatch.setenv(name, mock.api_key)
    monkeypatch.setenv(ENV_BASE_URL, gemini_tls_server.base_url)
    monkeypatch.setenv("SSL_CERT_FILE", str(tls.bundle))
    try:
        yield mock
    finally:
        mock.close()
    errors = list(store.internal_errors)
    store.internal_errors.clear()
    if errors:
        pytest.fail("the emulator answered 500 INTERNAL:\n" + "\n".join(errors), pytrace=False)
