"""Verification of what a test's code sent (`gemini_mock.find_requests`, `gemini_mock.verify`), and strict
mode (`@pytest.mark.gemini(strict=True)` or `gemini_mock.strict = True`).

    gemini_mock.verify(1, model="gemini-2.5-flash", method="generateContent",
                       body=lambda b: "weather" in b["contents"][0]["parts"][0]["text"])
    gemini_mock.verify(0, path=":embedContent")

A predicate is made of any of: `model` (with or without `models/`), `method` (the API method: the name after
the path's colon, or an OpenAI-compatible path's last words such as `chat/completions`), `http_method`
(GET, POST, ...), `path` (a regular expression searched in the path), `status` (a code), and `body` (a
function of the request's JSON returning true, or a dict that must be contained in it).

Strict mode: when the test ends, every request of its project that ran a model without a scripted rule
answering it (or, on a replaying server, that no cassette matched) fails the test with the list of them.
"""
from __future__ import annotations

import json
import re
from typing import Any, Callable

Predicate = dict[str, Any]


class VerificationError(AssertionError):
    """What `verify` raises: the count it expected, what it found, and the requests that were made."""


def _contains(whole: Any, part: Any) -> bool:
    if isinstance(part, dict):
        return isinstance(whole, dict) and all(key in whole and _contains(whole[key], value)
                                               for key, value in part.items())
    if isinstance(part, list):
        return isinstance(whole, list) and len(whole) == len(part) and all(map(_contains, whole, part))
    return bool(whole == part)


def _api_method(path: str) -> str:
    last = path.rsplit("/", 1)[-1]
    return last.rsplit(":", 1)[1] if ":" in last else path


def matches(entry: dict[str, Any], *, model: str | None = None, method: str | None = None,
            http_method: str | None = None,
            path: str | None = None, status: int | None = None,
            body: Callable[[Any], bool] | dict[str, Any] | None = None) -> bool:
    if model is not None and (entry.get("model") or "").removeprefix("models/") != model.removeprefix("models/"):
        return False
    entry_path = entry.get("path") or ""
    if method is not None and _api_method(entry_path) != method and not entry_path.endswith("/" + method):
        return False
    if http_method is not None and (entry.get("method") or "").upper() != http_method.upper():
        return False
    if path is not None and not re.search(path, entry_path):
        return False
    if status is not None and entry.get("status") != status:
        return False
    if body is not None:
        sent = entry.request_json if hasattr(entry, "request_json") else None
        if callable(body):
            try:
                return bool(body(sent))
            except (KeyError, IndexError, TypeError, AttributeError):   # a body of another shape: no match
                return False
        return _contains(sent, body)
    return True


def describe(predicate: Predicate) -> str:
    shown = {key: ("<function>" if callable(value) else value) for key, value in predicate.items()
             if value is not None}
    return ", ".join(f"{key}={value!r}" for key, value in shown.items()) or "any request"


def listing(entries: list[dict[str, Any]], limit: int = 20) -> str:
    lines = []
    for entry in entries[-limit:]:
        sent = entry.request_json if hasattr(entry, "request_json") else None
        text = json.dumps(sent, ensure_ascii=False)[:160] if sent is not None else ""
        lines.append(f"  #{entry.get('id')} {entry.get('method')} {entry.get('path')} -> {entry.get('status')}"
                     + (f"  {text}" if text else ""))
    if len(entries) > limit:
        lines.insert(0, f"  ... {len(entries) - limit} earlier requests not shown")
    return "\n".join(lines) or "  (none)"


def verify(entries: list[dict[str, Any]], times: int | None, predicate: Predicate) -> list[dict[str, Any]]:
    """The entries matching `predicate`; a VerificationError unless there are `times` of them (None: at
    least one)."""
    found = [entry for entry in entries if matches(entry, **predicate)]
    if (times is None and not found) or (times is not None and len(found) != times):
        wanted = "at least 1" if times is None else str(times)
        raise VerificationError(f"expected {wanted} request(s) matching {describe(predicate)}, found "
                                f"{len(found)}; the test's requests were:\n{listing(entries)}")
    return found


def unmatched(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The requests strict mode refuses: a model ran with no rule answering, or no cassette matched."""
    return [entry for entry in entries
            if entry.get("source") not in ("rule", "replay") and (entry.get("unscripted") or entry.get("unmatched"))]
