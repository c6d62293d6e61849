"""Files: the records (a stored file, an upload in progress), the receiver that writes upload bytes to disk
under the size limits, names, and MIME type resolution.
"""
from __future__ import annotations

import base64
import hashlib
import mimetypes
import os
import re
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Protocol


from ...auth import Identity
from ...errors import ApiError, invalid_argument
from ...generation import media
from ...timeline import Timeline, Transition


UPLOADED, GENERATED = "UPLOADED", "GENERATED"
PROCESSING, ACTIVE, FAILED = "PROCESSING", "ACTIVE", "FAILED"

CHUNK_GRANULARITY = 8 * 1024 * 1024   # what the real upload server advertises (and the SDKs send)
TEXT_COUNT_LIMIT = 8 * 1024 * 1024    # text files up to this size are tokenised at upload; larger: ~4 bytes/token
DISPLAY_NAME_LIMIT = 512
PUBLIC_HOST = "https://generativelanguage.googleapis.com"

_NAME_RE = re.compile(r"files/([a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?)\Z")
# A File's uri or name (`<base>/{version}/files/{id}`, `files/{id}`); the id is the group
FILE_URI_RE = re.compile(r"(?:^|/)files/([a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?)/?\Z")


# -- records ----------------------------------------------------------------------------------------


@dataclass
class FileRecord:
    """One stored file. Its bytes are at `path`; what it costs in a prompt was measured at upload."""
    project: str
    id: str
    display_name: str | None
    mime_type: str
    size: int
    sha256_hex: str
    source: str
    path: Path
    create_time: float
    ready_time: float              # PROCESSING until then
    expire_time: float
    base_url: str | None           # the address the uploader reached, for `uri`
    seq: int                       # creation order, for listing
    info: media.MediaInfo | None = None   # prompt cost (None: not usable in a prompt)
    unusable: str | None = None    # why it cannot be used in a prompt (unsupported MIME type)
    error: str | None = None       # processing failed (undecodable audio): the file ends FAILED
    duration: float | None = None  # measured playing time of audio (kept internally, not on the wire)
    measured: bool = True          # False: prompt cost not measured yet (generated files: on first use)

    @property
    def name(self) -> str:
        return f"files/{self.id}"

    def timeline(self) -> Timeline:
        """PROCESSING until `ready_time`, then ACTIVE (FAILED when processing failed); gone at `expire_time`."""
        return Timeline(PROCESSING, end=Transition(FAILED if self.error else ACTIVE, self.ready_time),
                        expires=self.expire_time)


@dataclass
class Upload:
    """A resumable upload in progress (or just finished: `file_name` is then set)."""
    id: str
    identity: Identity
    name: str | None               # the File name the client chose, if any
    display_name: str | None
    mime_type: str | None          # from the metadata or X-Goog-Upload-Header-Content-Type
    declared: int | None           # X-Goog-Upload-Header-Content-Length or file.sizeBytes
    base_url: str
    path: Path
    started: float
    touched: float
    file_hint: str | None = None   # X-Goog-Upload-File-Name
    chunk_mime: str | None = None  # Content-Type of the first chunk (the last resort for mimeType)
    received: int = 0
    hasher: Hasher = field(default_factory=hashlib.sha256)
    busy: bool = False
    file_name: str | None = None   # set once finalised
    # an upload to another resource: called with the upload at finalize, its JSON answer
    finish: Callable[[Upload], dict[str, Any]] | None = None

    @property
    def project(self) -> str:
        return self.identity.project


class Hasher(Protocol):
    """What an upload's bytes are fed to (a hashlib object)."""
    def update(self, data: bytes, /) -> None: ...

    def hexdigest(self) -> str: ...


class Receiver:
    """Appends bytes to a file while hashing and counting them, refusing anything over the limits.

    `write()` raises a 400 ApiError before writing a piece that would pass the declared size, the
    per-file limit or the project's limit. `close()` must follow (the handlers use `with`).
    """

    def __init__(self, path: Path, hasher: Hasher, received: int, *, declared: int | None, limits: Limits | None = None,
                 max_file: int | None = None, project_room: int | None = None) -> None:
        """`limits` from `FileStore.limits(project)`; or, equivalently, `max_file` and `project_room`
        (the two values a `Limits` unpacks to)."""
        if limits is None:
            if max_file is None or project_room is None:
                raise TypeError("Receiver needs limits, or max_file and project_room")
            limits = Limits(max_file, project_room, 0)
        self.path = path
        self.hasher = hasher
        self.received = received
        self.declared = declared
        self.limits = limits
        self._handle = open(path, "ab")

    def check(self, total: int) -> None:
        """400 if the file would pass a limit at `total` bytes."""
        if self.declared is not None and total > self.declared:
            raise invalid_argument(
                f"The upload sent more bytes than the {self.declared} declared "
                f"(X-Goog-Upload-Header-Content-Length / file.sizeBytes): at least {total}. "
                f"The upload was cancelled.")
        self.limits.check(total)

    def append(self, data: bytes) -> None:
        """Check `data` against the limits and append it, without hashing it (see `hash`)."""
        total = self.received + len(data)
        self.check(total)
        self._handle.write(data)
        self.received = total

    def hash(self, pieces: list[bytes]) -> None:
        """Feed appended pieces to the hash, in the order they were appended."""
        for piece in pieces:
            self.hasher.update(piece)

    def write(self, data: bytes) -> None:
        """Append and hash `data`."""
        self.append(data)
        self.hasher.update(data)

    def close(self) -> None:
        self._handle.close()

    def __enter__(self) -> "Receiver":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclass(frozen=True)
class Limits:
    """The size limits an upload is under: per file, and what the rest of its project already takes."""
    max_file: int
    max_project: int
    used: int   # bytes of the project's other files and unfinished uploads

    def __iter__(self) -> Iterator[int]:
        """Unpacks as (max bytes per file, bytes of room left in the project)."""
        return iter((self.max_file, self.max_project - self.used))

    def check(self, size: int) -> None:
        """400 naming the limit when a file of `size` bytes would pass it."""
        if size > self.max_file:
            raise invalid_argument(
                f"File too large: {size} bytes is over the limit of {self.max_file} bytes per file.",
                "file.sizeBytes")
        if self.used + size > self.max_project:
            raise invalid_argument(
                f"Storage quota exceeded: with this file ({size} bytes) the project's files would take "
                f"{self.used + size} bytes, over the limit of {self.max_project} bytes per project.",
                "file.sizeBytes")


def sha256_hash(hex_digest: str) -> str:
    """`sha256Hash` as the real API writes it: base64 of the lowercase hex digest."""
    return base64.b64encode(hex_digest.encode()).decode()


def project_of(owner: Identity | str) -> str:
    """The project of a caller, or a project given by name (for the server's own files)."""
    return owner if isinstance(owner, str) else owner.project


def new_upload_id() -> str:
    """An upload id: random and unguessable (the upload URL alone lets its holder send the bytes), never
    derived from the seed, the project or a counter. Not part of the deterministic output: the id only
    lives in the upload URL, never in a resource."""
    return secrets.token_urlsafe(24)


def remove_quietly(path: Path | None) -> None:
    if path is not None:
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass


def parse_name(name: str) -> str:
    """The id of `files/{id}` (or of a bare id)."""
    name = (name or "").strip()
    return name[len("files/"):] if name.startswith("files/") else name


def check_new_name(name: object) -> str:
    """A client-chosen File name: `files/` + 1-40 of [a-z0-9-], not starting or ending with '-'."""
    if not isinstance(name, str) or not name:
        raise invalid_argument("file.name must be a string such as 'files/my-file-1'.", "file.name")
    if not name.startswith("files/"):
        name = f"files/{name}"
    if not _NAME_RE.match(name):
        raise invalid_argument(
            f"Invalid file name '{name}': the id after 'files/' must be 1 to 40 characters of lowercase "
            f"letters, digits or dashes (-), not starting or ending with a dash.", "file.name")
    return name


def upload_error(error: ApiError, status: str, received: int | None = None) -> ApiError:
    """`error` with the upload protocol headers every chunk answer needs."""
    error.headers = {**error.headers, "X-Goog-Upload-Status": status}
    if received is not None:
        error.headers["X-Goog-Upload-Size-Received"] = str(received)
    return error


# MIME types recognisable from the first bytes, for uploads that name none.
_MAGIC = [
    (b"%PDF-", "application/pdf"), (b"\x89PNG\r\n\x1a\n", "image/png"), (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"), (b"GIF89a", "image/gif"), (b"fLaC", "audio/flac"), (b"OggS", "audio/ogg"),
    (b"ID3", "audio/mp3"),
]
_IGNORED_CHUNK_TYPES = {"application/x-www-form-urlencoded", "multipart/form-data"}


def _sniff(path: Path) -> str | None:
    try:
        with open(path, "rb") as handle:
            head = handle.read(16)
    except OSError:
        return None
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "audio/wav"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head[:4] == b"FORM" and head[8:12] in (b"AIFF", b"AIFC"):
        return "audio/aiff"
    if head[4:8] == b"ftyp":
        return "video/mp4"
    for magic, mime in _MAGIC:
        if head.startswith(magic):
            return mime
    return None


def resolve_mime(declared: str | None, chunk_type: str | None, path: Path, file_name: str | None) -> str:
    """The File's mimeType: declared (metadata, upload header), else the request's Content-Type (when it
    says something: not curl's default form type), else sniffed from the bytes or guessed from the name."""
    if declared:
        return declared
    if chunk_type and chunk_type.split(";", 1)[0].strip().lower() not in _IGNORED_CHUNK_TYPES:
        return chunk_type
    return _sniff(path) or (mimetypes.guess_type(file_name)[0] if file_name else None) or "application/octet-stream"
