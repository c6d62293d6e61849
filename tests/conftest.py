"""Fixtures for every test group (tests/README.md describes the layout). The emulator's own pytest plugin
(fixtures `gemini_mock`, `gemini_server`) is installed with the package and loaded through its entry point,
so the suite uses it like a user would. This conftest sits at the suite's root, so pytest puts tests/ on
sys.path and every group imports the shared helpers as `support` (tests/support/)."""
from __future__ import annotations

import pytest


@pytest.fixture
def client(gemini_mock):
    """A google-genai client on the SDK's default API version (/v1)."""
    return gemini_mock.client()


@pytest.fixture
def beta_client(gemini_mock):
    """A google-genai client on /v1beta."""
    return gemini_mock.client(api_version="v1beta")


@pytest.fixture
def http(gemini_mock):
    """A plain httpx client on the emulator, sending the test's key, for REST-level assertions."""
    import httpx

    with httpx.Client(base_url=gemini_mock.base_url, headers={"x-goog-api-key": gemini_mock.api_key},
                      timeout=30) as session:
        yield session
