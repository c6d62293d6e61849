"""A live server with two listed keys, a free-tier and a tier1 one (rate limits apply to listed keys only),
for the quota and usage tests. Import the fixtures into a test module:
`from support.tiers import FREE_KEY, PAID_KEY, control, keyed_server, sdk, server  # noqa: F401`."""
from __future__ import annotations

import httpx
import pytest
from google import genai
from google.genai import types

from gemini_mockserver.auth import Identity, KeyRing

from support.servers import serve

FREE_KEY, PAID_KEY = "free-key", "paid-key"


@pytest.fixture(scope="module")
def keyed_server():
    keys = KeyRing({
        FREE_KEY: Identity(key=FREE_KEY, project="free-project", email="free@example.com", tier="free"),
        PAID_KEY: Identity(key=PAID_KEY, project="paid-project", email="paid@example.com", tier="tier1"),
    })
    with serve(keys=keys) as server:
        yield server


@pytest.fixture
def server(keyed_server):
    """The module's server, reset (config and clock too) for each test, which must cause no internal error."""
    keyed_server.store.reset(config=True, clock=True)
    yield keyed_server
    seen = list(keyed_server.store.internal_errors)
    keyed_server.store.internal_errors.clear()
    assert not seen, seen


@pytest.fixture
def control(server):
    with httpx.Client(base_url=server.base_url, timeout=60) as session:
        yield session


def sdk(server, key: str) -> genai.Client:
    return genai.Client(api_key=key, http_options=types.HttpOptions(base_url=server.base_url, timeout=120_000))
