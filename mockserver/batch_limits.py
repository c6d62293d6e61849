"""The Batch API's own limits (fixtures/rate_limits.json, `batch`): how many batch jobs a project may have
in flight at once, and how many input tokens may wait in its unfinished jobs per model, by tier. A create
over either is refused with 429 RESOURCE_EXHAUSTED, as the real API refuses it (the body carries a
QuotaFailure naming the limit), and nothing is made.

Jobs in flight are those PENDING or RUNNING. Enqueued tokens are the text tokens of a job's inline requests;
a job from a JSONL file counts towards the number of jobs, its tokens are not read here.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterable

from .auth import Identity
from .errors import ApiError
from .generation.tokens import count_text
from .paths import FIXTURES
from .call import bare_model, longest_prefix
from .rate_limits import RATE_LIMITS_DOC


class BatchLimits:
    def __init__(self, path: Path = FIXTURES / "rate_limits.json") -> None:
        data = json.loads(path.read_text())["batch"]
        self.concurrent_jobs: int = int(data["concurrentJobs"])
        self.enqueued: dict[str, dict[str, int]] = data["enqueuedTokens"]   # tier -> model prefix -> tokens

    def enqueued_limit(self, tier: str, model: str) -> int | None:
        """The enqueued-token limit of `tier` for `model` (a bare id, matched by its longest listed
        prefix), or None when none is published."""
        table = self.enqueued.get(tier) or {}
        key = longest_prefix(table, bare_model(model))
        return table[key] if key is not None else None

    def check(self, identity: Identity, model: str, tokens: int,
              in_flight: Iterable[tuple[str, int]]) -> None:
        """Raise 429 when a new job of `tokens` enqueued tokens for `model` would go over a limit.
        `in_flight`: (model, enqueued tokens) of the project's PENDING and RUNNING jobs."""
        jobs = list(in_flight)
        if len(jobs) >= self.concurrent_jobs:
            raise _exhausted(identity, f"Concurrent batch jobs per project: {len(jobs)} in flight, limit "
                                       f"{self.concurrent_jobs}. Wait for a job to end, or cancel one.")
        limit = self.enqueued_limit(identity.tier, model)
        if limit is None:
            return
        waiting = sum(n for name, n in jobs if bare_model(name) == bare_model(model))
        if waiting + tokens > limit:
            raise _exhausted(identity, f"Batch enqueued tokens for {bare_model(model)} on {identity.tier}: "
                                       f"{waiting} waiting + {tokens} in this batch would exceed the limit "
                                       f"of {limit}. Wait for jobs to finish or send a smaller batch.")


def _exhausted(identity: Identity, described: str) -> ApiError:
    return ApiError(429, "RESOURCE_EXHAUSTED",
                    f"You exceeded your current quota, please check your plan and billing details. For more "
                    f"information on this error, head to: {RATE_LIMITS_DOC}.\n* {described}", [
                        {"@type": "type.googleapis.com/google.rpc.QuotaFailure",
                         "violations": [{"subject": f"project:{identity.project}", "description": described}]},
                        {"@type": "type.googleapis.com/google.rpc.Help",
                         "links": [{"description": "Learn more about Gemini API quotas", "url": RATE_LIMITS_DOC}]},
                    ])


def request_tokens(requests: list[Any]) -> int:
    """The text tokens of a batch's inline requests (their contents and system instructions)."""
    total = 0
    for item in requests:
        request = item.get("request") if isinstance(item, dict) else None
        if not isinstance(request, dict):
            continue
        contents = list(request.get("contents") or [])
        if isinstance(request.get("systemInstruction"), dict):
            contents.append(request["systemInstruction"])
        if isinstance(request.get("content"), dict):   # an embedding request
            contents.append(request["content"])
        for content in contents:
            for part in (content.get("parts") or []) if isinstance(content, dict) else ():
                if isinstance(part, dict) and isinstance(part.get("text"), str):
                    total += count_text(part["text"])
    return total
