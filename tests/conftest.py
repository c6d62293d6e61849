"""Shared test helpers. The emulator's own pytest plugin (fixtures `gemini_mock`, `gemini_server`) is
installed with the package and loaded through its entry point, so the suite uses it like a user would."""
from __future__ import annotations

import pytest

from mockserver.schema import validate_response


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


def assert_envelope(response, code: int, status: str, *, field: str | None = None) -> dict:
    """The response is the Google error envelope with this code and status (and names `field`)."""
    assert response.status_code == code, response.text
    body = response.json()
    assert set(body) == {"error"}, body
    error = body["error"]
    assert error["code"] == code and error["status"] == status, error
    assert isinstance(error["message"], str) and error["message"], error
    if field is not None:
        assert field in error["message"] or field in str(error.get("details")), error
    return error


__all__ = ["assert_envelope", "validate_response"]
