"""Logs and datasets: the records (a log entry, a dataset, a project's logging settings) and names.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


from ...errors import invalid_argument

PAID_TIERS = ("tier1", "tier2", "tier3")
TIER_RANK = {"free": 0, "tier1": 1, "tier2": 2, "tier3": 3}
THUMBS_UP, THUMBS_DOWN = "THUMBS_UP", "THUMBS_DOWN"
RATINGS = (THUMBS_UP, THUMBS_DOWN)
CLEAR_RATING = "RATING_UNSPECIFIED"
LOGGED_METHODS = ("generateContent", "streamGenerateContent")
DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE = 50, 1000
MAX_COMMENT = 10_000
ALL_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]
MAX_DISPLAY_NAME = 512
MAX_DESCRIPTION = 10_000
USAGE_FIELDS = ("promptTokenCount", "candidatesTokenCount", "cachedContentTokenCount", "thoughtsTokenCount",
                "toolUsePromptTokenCount", "totalTokenCount")


@dataclass
class LogEntry:
    id: str
    project: str
    method: str                    # generateContent | streamGenerateContent
    model: str                     # models/...
    version: str                   # v1, v1beta, v1alpha
    create_time: float
    expire_time: float
    latency: float                 # seconds, read from the emulator's clock
    http_status: int
    status: str                    # OK, or the google.rpc status name of the error
    request: Any = None            # the request as the handler read it (camelCase)
    response: Any = None           # the body answered: a dict, or the list of chunks of a stream
    error: dict[str, Any] | None = None   # the envelope's `error` on failure
    rating: str | None = None
    comment: str = ""
    feedback_time: float | None = None
    datasets: set[str] = field(default_factory=set)   # ids of the datasets that keep it

    @property
    def name(self) -> str:
        return f"projects/{self.project}/logs/{self.id}"

    @property
    def retained(self) -> bool:
        return bool(self.datasets)

    def alive(self, now: float) -> bool:
        return self.retained or now < self.expire_time

    def usage(self) -> dict[str, Any]:
        """usageMetadata of the answer (the last chunk's for a stream)."""
        answer = self.response
        if isinstance(answer, list):
            answer = next((c for c in reversed(answer) if isinstance(c, dict) and c.get("usageMetadata")), None)
        usage = answer.get("usageMetadata") if isinstance(answer, dict) else None
        return {k: usage[k] for k in USAGE_FIELDS if isinstance(usage, dict) and k in usage}


@dataclass
class Dataset:
    id: str
    project: str
    display_name: str
    description: str
    shared: bool
    create_time: float
    update_time: float
    logs: list[str] = field(default_factory=list)     # log ids, in the order they were added

    @property
    def name(self) -> str:
        return f"projects/{self.project}/datasets/{self.id}"


@dataclass
class Logging:
    enabled: bool = False
    update_time: float | None = None


def id_of(name: object, project: str, collection: str, field_name: str) -> str | None:
    """The id in `projects/{project}/{collection}/{id}`, `{collection}/{id}` or a bare id. A name in
    another project gives None (that resource is not found here)."""
    if not isinstance(name, str):
        raise invalid_argument(f"{field_name} must be a string.", field_name)
    text = name.strip()
    full = f"projects/{project}/{collection}/"
    if text.startswith(full):
        text = text[len(full):]
    elif text.startswith("projects/"):
        return None
    elif text.startswith(f"{collection}/"):
        text = text[len(collection) + 1:]
    return text if text and "/" not in text else None
