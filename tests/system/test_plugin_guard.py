"""The plugin keeps tests off the real API: the SDK environment points at the emulator from the start of
the session (before collection), and requests to Google's real Gemini hosts fail while tests run."""
from __future__ import annotations

import os

import pytest

from gemini_mockserver.pytest_plugin import guard
from gemini_mockserver.pytest_plugin.session import ENV_BASE_URL, ENV_KEYS

pytest_plugins = ["pytester"]

REAL_KEY = "AIzaSyFAKE-real-looking-key-from-the-shell"


def _a_developer_shell(monkeypatch: pytest.MonkeyPatch) -> None:
    """What a developer's shell may hold: a real key, no base URL, even the Vertex AI switch."""
    for name in ENV_KEYS:
        monkeypatch.setenv(name, REAL_KEY)
    monkeypatch.delenv(ENV_BASE_URL, raising=False)
    monkeypatch.setenv("GOOGLE_GENAI_USE_VERTEXAI", "true")
    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", "my-real-project")


MODULE_LEVEL_CLIENT = f'''
import os
from google import genai

REAL_KEY = {REAL_KEY!r}
client = genai.Client()                                   # built at import time, before any fixture
ANSWER = client.models.generate_content(model="gemini-2.5-flash", contents="at import").text   # and used


def test_the_module_level_client_talks_to_the_emulator():
    assert client._api_client.api_key != REAL_KEY and not client._api_client.vertexai
    assert client._api_client._http_options.base_url.startswith("http://127.0.0.1:")
    assert ANSWER
    assert client.models.generate_content(model="gemini-2.5-flash", contents="in a test").text


def test_it_is_the_session_emulator(gemini_server):
    assert client._api_client._http_options.base_url.rstrip("/") == gemini_server.base_url
    paths = [entry["path"] for entry in gemini_server.store.journal.entries()]
    assert any(path.endswith(":generateContent") for path in paths)


def test_the_fixture_keeps_working(gemini_mock):
    assert genai.Client().models.generate_content(model="gemini-2.5-flash", contents="hi").text
    assert len(gemini_mock.requests) == 1
'''


def test_a_client_built_at_import_time_reaches_the_emulator(pytester, monkeypatch):
    _a_developer_shell(monkeypatch)
    pytester.makepyfile(test_module_level=MODULE_LEVEL_CLIENT)
    result = pytester.runpytest_inprocess("-q", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=3)
    # the session put back what the shell had
    assert os.environ["GEMINI_API_KEY"] == REAL_KEY and ENV_BASE_URL not in os.environ
    assert os.environ["GOOGLE_GENAI_USE_VERTEXAI"] == "true"


def test_a_session_that_never_calls_it_starts_no_emulator(pytester):
    pytester.makepyfile(test_plain='''
        import os
        from gemini_mockserver.pytest_plugin.plugin import SESSION
        def test_plain(pytestconfig):
            lazy = pytestconfig.stash[SESSION]
            assert os.environ["GOOGLE_GEMINI_BASE_URL"] == lazy.base_url
            assert not lazy.running
    ''')
    pytester.runpytest_inprocess("-q", "-p", "no:cacheprovider").assert_outcomes(passed=1)


REAL_HOST_CALLS = '''
import asyncio, socket, urllib.request
import httpx, pytest, requests, websockets
from google import genai
from gemini_mockserver.pytest_plugin.guard import RealGeminiApiBlocked

REAL = "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:generateContent"
HOW = "gemini_mock_allow_real_api = true"


def _blocked(call):
    with pytest.raises(RealGeminiApiBlocked) as raised:
        call()
    assert HOW in str(raised.value) and "generativelanguage.googleapis.com" in str(raised.value)


def test_httpx():
    _blocked(lambda: httpx.post(REAL + "?key=x", json={}))


def test_httpx_async():
    async def call():
        async with httpx.AsyncClient() as session:
            await session.get(REAL)
    _blocked(lambda: asyncio.run(call()))


def test_requests():
    _blocked(lambda: requests.get(REAL, timeout=5))


def test_urllib_through_the_resolver():
    _blocked(lambda: urllib.request.urlopen(REAL, timeout=5))
    _blocked(lambda: socket.getaddrinfo("generativelanguage.googleapis.com", 443))


def test_websockets():
    async def call():
        async with websockets.connect("wss://generativelanguage.googleapis.com/ws/live?key=x"):
            pass
    _blocked(lambda: asyncio.run(call()))


def test_the_sdk_with_an_explicit_base_url():
    client = genai.Client(api_key="x", http_options={"base_url": "https://generativelanguage.googleapis.com/"})
    _blocked(lambda: client.models.generate_content(model="gemini-2.5-flash", contents="hi"))


def test_vertex_ai_hosts():
    with pytest.raises(RealGeminiApiBlocked):
        httpx.get("https://us-central1-aiplatform.googleapis.com/v1/projects/p/locations/us-central1/models")
    with pytest.raises(RealGeminiApiBlocked):
        httpx.get("https://aiplatform.googleapis.com/v1/publishers/google/models")


def test_other_hosts_are_left_alone(gemini_server):
    answer = httpx.get(gemini_server.base_url + "/healthz")
    assert answer.status_code == 200, answer.text
    assert requests.get(gemini_server.base_url + "/healthz", timeout=5).status_code == 200
'''


def test_requests_to_the_real_hosts_fail_loudly(pytester):
    pytester.makepyfile(test_real=REAL_HOST_CALLS)
    result = pytester.runpytest_inprocess("-q", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=8)
    assert guard.blocking()   # the enclosing session's guard is still on


OPTED_OUT = '''
import httpx
from support.servers import serve


async def echo_host(scope, receive, send):
    host = dict(scope["headers"]).get(b"host", b"")
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": host})


def test_the_request_goes_out():
    # through a local forward proxy, so the request leaves the client but not the machine
    with serve(app=echo_host) as proxy:
        answer = httpx.get("http://generativelanguage.googleapis.com/v1beta/models", proxy=proxy.base_url)
    assert answer.text == "generativelanguage.googleapis.com"
'''


def test_the_ini_option_opts_out(pytester):
    pytester.makepyfile(test_opted_out=OPTED_OUT)
    pytester.makeini("[pytest]\ngemini_mock_allow_real_api = true\n")
    result = pytester.runpytest_inprocess("-q", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    assert guard.blocking()


def test_the_host_list():
    for host in ("generativelanguage.googleapis.com", "GENERATIVELANGUAGE.googleapis.com.",
                 "aiplatform.googleapis.com", "europe-west4-aiplatform.googleapis.com", b"aiplatform.googleapis.com"):
        assert guard.is_real_host(host), host
    for host in ("googleapis.com", "storage.googleapis.com", "127.0.0.1", "generativelanguage.example.com", None):
        assert not guard.is_real_host(host), host
