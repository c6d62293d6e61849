"""Contract assertions for downstream suites: check payloads against the recorded Gemini API schemas.

    from gemini_mockserver.pytest_plugin import contract

    contract.assert_valid(payload, "GenerateContentResponse")                 # v1beta by default
    contract.assert_valid(payload, "Model", version="v1")
    contract.assert_valid_stream(sse_text, "GenerateContentResponse")         # every `data:` event
    contract.assert_request_valid(body, "GenerateContentRequest")             # as the server reads requests
    problems = contract.errors(payload, "File")                               # [] when it conforms

Answers are checked in their canonical proto3-JSON form (camelCase names, enums by name, int64 as
strings, at most one member of each oneof); requests the way the emulator (and the real API's front
end) reads them: camelCase or snake_case names, int64 as numbers or strings, enums by name or number.
"""
from __future__ import annotations

import json
from typing import Any

from gemini_mockserver.errors import ApiError
from gemini_mockserver.schema import json_schema, known_messages, normalize, response_errors
from gemini_mockserver.wire import sse_events

__all__ = ["assert_valid", "assert_valid_stream", "assert_request_valid", "errors", "schema", "messages",
           "stream_events"]


def errors(payload: Any, message: str, version: str = "v1beta") -> list[str]:
    """Every way `payload` deviates from the `message` answer schema; empty when it conforms."""
    problems: list[str] = response_errors(version, message, payload)
    return problems


def assert_valid(payload: Any, message: str, version: str = "v1beta") -> Any:
    """Fail (AssertionError listing each problem) unless `payload` is a valid `message` answer.
    Returns the payload, so it can wrap an expression."""
    __tracebackhide__ = True
    problems = errors(payload, message, version)
    if problems:
        shown = problems[:25]
        more = f"\n  ... and {len(problems) - 25} more" if len(problems) > 25 else ""
        raise AssertionError(f"{version} {message} does not match the recorded schema:\n  "
                             + "\n  ".join(shown) + more)
    return payload


def stream_events(body: str | bytes) -> list[Any]:
    """The JSON events of a server-sent-events body (`data: <json>` lines), or of a JSON array body."""
    text = body.decode("utf-8") if isinstance(body, bytes) else body
    events: list[Any] = json.loads(text) if text.lstrip().startswith("[") else sse_events(text)
    return events


def assert_valid_stream(body: str | bytes, message: str = "GenerateContentResponse",
                        version: str = "v1beta") -> list[Any]:
    """Every event of a stream is a valid `message`; returns the events."""
    __tracebackhide__ = True
    events = stream_events(body)
    if not events:
        raise AssertionError("the stream has no events")
    for index, event in enumerate(events):
        problems = errors(event, message, version)
        if problems:
            raise AssertionError(f"event {index} of the stream is not a valid {version} {message}:\n  "
                                 + "\n  ".join(problems[:25]))
    return events


def assert_request_valid(body: Any, message: str, version: str = "v1beta") -> dict[str, Any]:
    """Fail unless the emulator would accept `body` as a `message` request; returns it normalised
    (camelCase names)."""
    __tracebackhide__ = True
    try:
        normalized: dict[str, Any] = normalize(version, message, body)
        return normalized
    except ApiError as error:
        raise AssertionError(f"{version} {message} request is not valid: {error.message}") from None


def schema(message: str, version: str = "v1beta") -> dict[str, Any]:
    """The self-contained JSON Schema (draft 2020-12) of a `message` answer."""
    found: dict[str, Any] = json_schema(version, message)
    return found


def messages(version: str = "v1beta") -> set[str]:
    """The message names a version's schema knows."""
    names: set[str] = known_messages(version)
    return names
