"""The OpenAI layer's wire conventions: times in unix seconds, cursor list pages, native resource names."""
from __future__ import annotations

from ...errors import invalid_argument
from ...http import Context
from ...wire import parse_time
from typing import Any

LIST_LIMIT_DEFAULT, LIST_LIMIT_MAX = 20, 10000


def epoch_seconds(value: str | None) -> int | None:
    """A native RFC 3339 time as OpenAI's whole unix seconds (None stays None)."""
    return int(parse_time(value, "time")) if value else None


def cursor_page(ctx: Context, items: list[dict[str, Any]]) -> dict[str, Any]:
    """A cursor page (`after` an id, at most `limit`) in OpenAI's list shape."""
    raw_limit = ctx.query("limit")
    try:
        limit = int(raw_limit) if raw_limit else LIST_LIMIT_DEFAULT
    except ValueError:
        raise invalid_argument(f"limit must be an integer, not {raw_limit!r}.", "limit") from None
    limit = max(1, min(limit, LIST_LIMIT_MAX))
    after = ctx.query("after")
    if after:
        ids = [item["id"] for item in items]
        if after not in ids:
            raise invalid_argument(f"after names {after!r}, which is not in this list.", "after")
        items = items[ids.index(after) + 1:]
    page = items[:limit]
    return {"object": "list", "data": page, "first_id": page[0]["id"] if page else None,
            "last_id": page[-1]["id"] if page else None, "has_more": len(items) > limit}


def native_file_name(raw: str) -> str:
    """An OpenAI file id as the native File name (`abc` or `files/abc` -> `files/abc`)."""
    return raw if raw.startswith("files/") else f"files/{raw}"


def native_model_name(name: str) -> str:
    """An OpenAI model id as the native model name (`gemini-x` -> `models/gemini-x`; tuned models kept)."""
    return name if name.startswith(("models/", "tunedModels/")) else f"models/{name}"
