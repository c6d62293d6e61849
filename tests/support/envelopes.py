"""Assertions on the wire: the Google error envelope and the recorded response schemas."""
from __future__ import annotations

from gemini_mockserver.schema import validate_response  # noqa: F401  (re-exported)


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
