"""Wire-format helpers shared by every resource: timestamps, durations, int64, paging tokens."""
from __future__ import annotations

import base64
import re
from datetime import datetime, timezone
from typing import Any, Callable, TypeVar

from .errors import invalid_argument

T = TypeVar("T")


# The range of google.protobuf.Timestamp (0001-01-01 to 9999-12-31): a later or earlier time (a TTL of
# ten thousand years) is written as the nearest end, not a crash.
_FIRST_EPOCH, _LAST_EPOCH = -62135596800.0, 253402300799.0


def format_time(epoch: float) -> str:
    """RFC 3339 UTC with microseconds and `Z`, as the real API writes timestamps."""
    if not _FIRST_EPOCH <= epoch <= _LAST_EPOCH:
        epoch = _FIRST_EPOCH if epoch < 0 else _LAST_EPOCH
    d = datetime.fromtimestamp(epoch, tz=timezone.utc)
    return (f"{d.year:04d}-{d.month:02d}-{d.day:02d}T{d.hour:02d}:{d.minute:02d}:{d.second:02d}"
            f".{d.microsecond:06d}Z")


_FRACTION = re.compile(r"\.(\d+)")


def parse_time(value: object, field: str) -> float:
    """Epoch seconds from an RFC 3339 timestamp with `Z` or an offset (Python sends `+00:00`)."""
    if not isinstance(value, str):
        raise invalid_argument(f"Invalid value at '{field}': expected an RFC 3339 timestamp.", field)
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    # fromisoformat takes at most 6 fractional digits; the wire allows 9.
    text = _FRACTION.sub(lambda m: "." + m.group(1)[:6].ljust(6, "0"), text, count=1)
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise invalid_argument(f"Invalid value at '{field}' ({value!r}): not an RFC 3339 timestamp.", field) from None
    if parsed.tzinfo is None:
        raise invalid_argument(f"Invalid value at '{field}' ({value!r}): the timestamp needs a time zone.", field)
    return parsed.timestamp()


_DURATION = re.compile(r"^\s*(-?\d+(?:\.\d{1,9})?)s\s*$")


def parse_duration(value: object, field: str) -> float:
    """Seconds from a protobuf Duration string such as "300s" or "1.5s"."""
    match = _DURATION.match(value) if isinstance(value, str) else None
    if not match:
        raise invalid_argument(f"Invalid value at '{field}' ({value!r}): expected a duration such as \"300s\".", field)
    return float(match.group(1))


def format_duration(seconds: float) -> str:
    text = f"{seconds:.9f}".rstrip("0").rstrip(".")
    return f"{text}s"


def int64(value: int) -> str:
    """int64 and uint64 fields travel as JSON strings."""
    return str(int(value))


def page_token(offset: int) -> str:
    return base64.urlsafe_b64encode(f"o{offset}".encode()).decode().rstrip("=")


def page_offset(token: str | None) -> int:
    """Offset encoded in a page token; a token this server did not issue is a 400."""
    if not token:
        return 0
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        if raw.startswith("o") and raw[1:].isdigit():
            return int(raw[1:])
    except (ValueError, UnicodeDecodeError):
        pass
    raise invalid_argument(f"Invalid page token: {token!r}.", "pageToken")


def page_size(raw: str | None, default: int, maximum: int) -> int:
    """pageSize from a query string: absent or 0 means the default, above the maximum is capped."""
    if raw in (None, ""):
        return default
    try:
        size = int(raw)
    except ValueError:
        raise invalid_argument(f"Invalid value at 'page_size' ({raw!r}): not an integer.", "pageSize") from None
    if size < 0:
        raise invalid_argument("page_size must not be negative.", "pageSize")
    return min(size or default, maximum)


def paginate(items: list[T], size: int, token: str | None) -> tuple[list[T], str | None]:
    """One page of `items` and the token of the next page (None on the last page)."""
    start = page_offset(token)
    page = items[start:start + size]
    following = start + size
    return page, (page_token(following) if following < len(items) else None)


def sse_events(text: str, loads: Callable[[str], Any] | None = None) -> list[Any]:
    """The JSON events of a server-sent-events body (`data: <json>` lines; continuation lines joined).
    `loads` parses each event (json.loads by default); the OpenAI layer's closing `[DONE]` is skipped."""
    import json

    loads = loads or json.loads
    events, data = [], []
    for line in text.splitlines():
        if line.startswith("data:"):
            data.append(line[5:].lstrip())
        elif not line.strip() and data:
            events.append("\n".join(data))
            data = []
    if data:
        events.append("\n".join(data))
    return [loads(event) for event in events if event != "[DONE]"]


# -- field masks -----------------------------------------------

def snake_to_camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def parse_update_mask(raw: str | None) -> list[str] | None:
    """The field paths of an `updateMask` query value in camelCase; None when it is absent or names no
    field (an empty `updateMask=` is no mask, as the API's FieldMask parsing takes it)."""
    if raw is None:
        return None
    return [snake_to_camel(part.strip()) for part in raw.split(",") if part.strip()] or None
