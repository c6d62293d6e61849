"""Fixtures: `gemini_server` (one live emulator per session and xdist worker) and `gemini_mock`
(per test: a fresh state, its own API key, clients pointed at the emulator, time travel)."""
from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import Iterator

import pytest

from .server import LiveServer


class GeminiMock:
    """What a test gets from the `gemini_mock` fixture."""

    def __init__(self, server: LiveServer, api_key: str) -> None:
        self.server = server
        self.store = server.store
        self.base_url = server.base_url
        self.api_key = api_key

    # -- clients -------------------------------------------------------------------------------------
    def client(self, api_key: str | None = None, **http_options):
        """A google-genai Client pointed at the emulator (the SDK's default API version unless given)."""
        from google import genai
        from google.genai import types

        return genai.Client(api_key=api_key or self.api_key,
                            http_options=types.HttpOptions(base_url=self.base_url, **http_options))

    def other_key(self, name: str) -> str:
        """Another API key, hence another project: for isolation tests."""
        return f"{self.api_key}-{name}"

    # -- state ---------------------------------------------------------------------------------------
    @property
    def identity(self):
        return self.store.keys.identify(self.api_key)

    @property
    def requests(self) -> list[dict]:
        """The journal of this test's requests made with its key."""
        project = self.identity.project
        return [entry for entry in self.store.journal.entries() if entry["project"] == project]

    # -- time ----------------------------------------------------------------------------------------
    def advance(self, seconds: float | timedelta) -> datetime:
        if isinstance(seconds, timedelta):
            seconds = seconds.total_seconds()
        self.store.clock.advance(seconds)
        return self.store.clock.now_dt()

    def set_time(self, when: datetime) -> datetime:
        self.store.clock.set(when.timestamp())
        return self.store.clock.now_dt()

    def now(self) -> datetime:
        return self.store.clock.now_dt()


@pytest.fixture(scope="session")
def gemini_server() -> Iterator[LiveServer]:
    """One live emulator for the session (per xdist worker, since each worker is its own session)."""
    with LiveServer() as server:
        yield server


@pytest.fixture
def gemini_mock(gemini_server: LiveServer, request: pytest.FixtureRequest,
                monkeypatch: pytest.MonkeyPatch) -> Iterator[GeminiMock]:
    """A fresh emulator state for one test, and the environment pointed at it, so code under test that
    builds `genai.Client()` itself reaches the emulator."""
    store = gemini_server.store
    store.reset(config=True, clock=True)
    key = "test-" + hashlib.blake2b(request.node.nodeid.encode(), digest_size=6).hexdigest()
    mock = GeminiMock(gemini_server, key)
    monkeypatch.setenv("GEMINI_API_KEY", key)
    monkeypatch.setenv("GOOGLE_API_KEY", key)   # the SDKs prefer it when both are set
    monkeypatch.setenv("GOOGLE_GEMINI_BASE_URL", gemini_server.base_url)
    yield mock
    errors = list(store.internal_errors)
    store.internal_errors.clear()
    if errors:
        pytest.fail("the emulator answered 500 INTERNAL:\n" + "\n".join(errors), pytrace=False)
