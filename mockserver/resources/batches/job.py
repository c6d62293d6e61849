"""Batch jobs: the states, the two kinds (generate, embed), the `Job` record and its JSONL helpers.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


from ...auth import Identity
from ...timeline import Timeline, Transition

PENDING = "BATCH_STATE_PENDING"
RUNNING = "BATCH_STATE_RUNNING"
SUCCEEDED = "BATCH_STATE_SUCCEEDED"
FAILED = "BATCH_STATE_FAILED"
CANCELLED = "BATCH_STATE_CANCELLED"
EXPIRED = "BATCH_STATE_EXPIRED"
TERMINAL = frozenset({SUCCEEDED, FAILED, CANCELLED, EXPIRED})

INLINE_LIMIT = 20 * 1024 * 1024        # inline requests: the whole create body
INPUT_FILE_LIMIT = 2 * 1024 ** 3       # an input file
TYPE_PREFIX = "type.googleapis.com/google.ai.generativelanguage.v1main."
RESULTS_MIME_TYPE = "application/jsonl"
DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE = 50, 1000
UPDATABLE = ("displayName", "priority")


@dataclass(frozen=True)
class Kind:
    """What differs between a generateContent batch and an embedContent batch."""
    name: str                  # "generate" | "embed"
    batch_message: str         # the resource (Operation.metadata)
    output_message: str        # Operation.response
    create_message: str        # the create body
    request_message: str       # one request
    create_method: str         # what the model must offer to be batched
    request_method: str        # what the model of one request must offer
    update_verb: str           # the PATCH custom verb


GENERATE = Kind("generate", "GenerateContentBatch", "GenerateContentBatchOutput", "BatchGenerateContentRequest",
                "GenerateContentRequest", "batchGenerateContent", "generateContent", "updateGenerateContentBatch")
EMBED = Kind("embed", "EmbedContentBatch", "EmbedContentBatchOutput", "AsyncBatchEmbedContentRequest",
             "EmbedContentRequest", "asyncBatchEmbedContent", "embedContent", "updateEmbedContentBatch")
KINDS = {GENERATE.name: GENERATE, EMBED.name: EMBED}


_LINE_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), check_circular=False)


def jsonl_line(data: Any) -> bytes:
    """One JSONL line (compact, UTF-8)."""
    return _LINE_ENCODER.encode(data).encode() + b"\n"


# -- the job --------------------------------------------------------------------------------------------


@dataclass(eq=False)
class Job:
    id: str
    identity: Identity            # the creator: results are computed as their calls would be
    kind: Kind
    version: str                  # API version of the create call (requests are read with its schema)
    model: str                    # models/... or tunedModels/...
    display_name: str
    priority: int
    webhook: dict[str, Any] | None
    created: float
    pending_s: float
    running_s: float
    expiry_s: float
    request_count: int
    seq: int
    inline: list[dict[str, Any]] | None = None   # [{"request": {...}, "metadata"?: {...}}], normalised
    file_name: str | None = None          # files/... (file input)
    input_path: Path | None = None        # its bytes (a hard link taken at creation, when possible)
    work_dir: Path | None = None
    input_error: str | None = None        # the file is not JSON Lines: the job ends FAILED
    modified: float = 0.0                 # last update (PATCH)
    # progress
    processed: int = 0
    succeeded: int = 0
    failed: int = 0
    results: list[dict[str, Any]] = field(default_factory=list)   # inline results so far
    offset: int = 0                        # file input: bytes read so far
    line_no: int = 0                       # file input: physical lines read so far
    parsed_any: bool = False               # file input: some line was a JSON object
    seen_running: bool = False
    enqueued_tokens: int = 0              # its inline requests' text tokens (batch_limits.py)
    # outcome
    final: str | None = None
    end_time: float | None = None
    output: dict[str, Any] | None = None
    error: dict[str, Any] | None = None

    @property
    def name(self) -> str:
        return f"batches/{self.id}"

    @property
    def project(self) -> str:
        return self.identity.project

    @property
    def start(self) -> float:
        return self.created + self.pending_s

    @property
    def finish(self) -> float:
        """When the job ends if nothing stops it: after its pending and running time, or, when its
        input cannot be read, as soon as it would start running."""
        return self.start if self.input_error else self.start + self.running_s

    @property
    def expires(self) -> float:
        return self.created + self.expiry_s

    @property
    def will_expire(self) -> bool:
        return self.finish > self.expires

    def timeline(self) -> Timeline:
        """PENDING from creation (RUNNING once seen running), RUNNING from `start`, and the end: EXPIRED at
        `expires` when it comes before `finish`, else SUCCEEDED (FAILED for unreadable input) at `finish`."""
        if self.will_expire:
            end = Transition(EXPIRED, self.expires)
        else:
            end = Transition(FAILED if self.input_error else SUCCEEDED, self.finish)
        return Timeline(RUNNING if self.seen_running else PENDING, Transition(RUNNING, self.start), end=end,
                        expires=self.expires)

    def state(self, now: float) -> str:
        """The state the clock gives (without computing anything): the final one once it has ended."""
        return self.final or self.timeline().state_at(now)

    def next_transition(self, now: float) -> Transition | None:
        """The state the clock will bring next, and when (None once the job has ended)."""
        return None if self.final else self.timeline().next_transition(now)

    @property
    def out_path(self) -> Path:
        assert self.work_dir is not None, "only a job with an input file has a work dir"
        return self.work_dir / "responses.jsonl"


def readable_duration(seconds: float) -> str:
    """`seconds` in an error message: in hours from an hour on."""
    return f"{seconds / 3600:g} hours" if seconds >= 3600 else f"{seconds:g} seconds"


def scan_jsonl(path: Path, name: str) -> tuple[int, str | None]:
    """(number of non-blank lines, why the file is not JSON Lines or None), reading it line by line."""
    count = 0
    with open(path, "rb") as handle:
        for number, line in enumerate(handle, 1):
            if b"\0" in line:
                return 0, f"The input file {name} is not a JSON Lines file: line {number} holds binary data."
            try:
                line.decode("utf-8")
            except UnicodeDecodeError:
                return 0, f"The input file {name} is not a JSON Lines file: line {number} is not UTF-8 text."
            if line.strip():   # the same test as when the lines are processed
                count += 1
    if not count:
        return 0, f"The input file {name} is not a JSON Lines file: it has no requests."
    return count, None
