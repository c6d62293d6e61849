"""The Files API: uploads (resumable, multipart, raw), the File resource, downloads and 48 h expiry.

Backend (`FileStore`, no HTTP): per project, a dict of `FileRecord`s whose bytes live on disk under
`store.project_dir(project)/files/`, and the upload sessions in progress, whose bytes grow in
`store.project_dir(project)/uploads/` until they are finalised. State (PROCESSING -> ACTIVE or FAILED)
and expiry are computed from `store.now()` whenever a file is read; an expired file, or an upload left
unfinished for `files.abandonedUploadSeconds`, is removed (bytes included) the next time it is touched
or its project's files are listed. There are no timers.

The resumable protocol, as the SDKs speak it:

* start: `POST /upload/{version}/files` with `X-Goog-Upload-Protocol: resumable` and
  `X-Goog-Upload-Command: start`; metadata `{"file": {...}}` in the body. Answer: 200 with
  `X-Goog-Upload-URL` (this server's own address, carrying `upload_id`).
* chunks: `POST <upload URL>` with `X-Goog-Upload-Command: upload` or `upload, finalize` and
  `X-Goog-Upload-Offset`. Authorised by the upload id alone (the Python SDK sends no key on them).
  Every answer carries `X-Goog-Upload-Status`: `active`, or `final` with `{"file": {...}}` on finalize.
  Error answers carry `final` when the upload is over (unknown, finalised, cancelled for a size limit)
  and `active` with `X-Goog-Upload-Size-Received` when it can go on (a wrong offset).
* `X-Goog-Upload-Command: query` answers the bytes received so far (`X-Goog-Upload-Size-Received`);
  `cancel` drops the upload.

Media bytes are never held whole in memory: handlers feed the request stream, piece by piece, to a
`Receiver`, which appends them to the upload's file, hashes them and enforces the size limits.
"""
from __future__ import annotations

import asyncio
import base64
import hashlib
import mimetypes
import os
import re
import secrets
import shutil
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator
from urllib.parse import urlsplit

from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect
from starlette.responses import Response, StreamingResponse

from ..auth import Identity
from ..errors import ApiError, already_exists, failed_precondition, invalid_argument, missing_resource, not_found
from ..generation import media
from ..http import Context, api_key, json_response, parse_json
from ..integrity import TOMBSTONE, VerifiedBytes
from ..persistence import build, fields_of
from ..routing import ALL_VERSIONS, route
from ..schema import normalize
from ..wire import format_duration, page_size, paginate

UPLOADED, GENERATED = "UPLOADED", "GENERATED"
PROCESSING, ACTIVE, FAILED = "PROCESSING", "ACTIVE", "FAILED"

CHUNK_GRANULARITY = 8 * 1024 * 1024   # what the real upload server advertises (and the SDKs send)
TEXT_COUNT_LIMIT = 8 * 1024 * 1024    # text files up to this size are tokenised at upload; larger: ~4 bytes/token
DISPLAY_NAME_LIMIT = 512
PUBLIC_HOST = "https://generativelanguage.googleapis.com"

_NAME_RE = re.compile(r"files/([a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?)\Z")
_URI_RE = re.compile(r"(?:^|/)files/([a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?)/?\Z")


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
    hasher: Any = field(default_factory=hashlib.sha256)
    busy: bool = False
    file_name: str | None = None   # set once finalised
    finish: Any = None             # an upload to another resource: called with the upload at finalize, its JSON answer

    @property
    def project(self) -> str:
        return self.identity.project


class Receiver:
    """Appends bytes to a file while hashing and counting them, refusing anything over the limits.

    `write()` raises a 400 ApiError before writing a piece that would pass the declared size, the
    per-file limit or the project's limit. `close()` must follow (the handlers use `with`).
    """

    def __init__(self, path: Path, hasher, received: int, *, declared: int | None, limits: "Limits | None" = None,
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

    def __exit__(self, *exc) -> None:
        self.close()


@dataclass(frozen=True)
class Limits:
    """The size limits an upload is under: per file, and what the rest of its project already takes."""
    max_file: int
    max_project: int
    used: int   # bytes of the project's other files and unfinished uploads

    def __iter__(self):
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


def _project(owner: Identity | str) -> str:
    return owner if isinstance(owner, str) else owner.project


def new_upload_id() -> str:
    """An upload id: random and unguessable (the upload URL alone lets its holder send the bytes), never
    derived from the seed, the project or a counter. Not part of the deterministic output: the id only
    lives in the upload URL, never in a resource."""
    return secrets.token_urlsafe(24)


def _remove(path: Path | None) -> None:
    if path is not None:
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass


def parse_name(name: str) -> str:
    """The id of `files/{id}` (or of a bare id)."""
    name = (name or "").strip()
    return name[len("files/"):] if name.startswith("files/") else name


def check_new_name(name: Any) -> str:
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


# -- backend ----------------------------------------------------------------------------------------

class FileStore:
    """Files and uploads of every project. Registered as `store.files`.

    Public API (used by handlers, other backends and tests):

    * `create_generated(project, display_name, mime_type, source_path=None, data=None) -> dict`:
      a file the server made (batch results): source GENERATED, downloadable; the File JSON.
    * `get_file(identity, name) -> dict`: the File JSON; `missing_resource` (403) when absent,
      expired or another project's.
    * `path_of(identity, name) -> Path`: where its bytes are; raises as `get_file`.
    * `media_info(identity, uri) -> MediaInfo`: the prompt cost of `fileData.fileUri` (a full uri on any
      host, or `files/{id}`); 403 as above, 400 FAILED_PRECONDITION while PROCESSING or when FAILED.
    * `list_files(project) -> list[dict]`: the project's live files, newest first.
    * `delete_file(identity, name)`: removes the record and its bytes.
    * `reset()`: wipes every record, upload and byte.

    `identity` arguments take an `auth.Identity` or a project id string alike.
    Every `-> dict` method takes an optional `base_url` for `uri`/`downloadUri` (default: the address
    the file was uploaded through, else the last address a request reached).
    """

    def __init__(self, store) -> None:
        self.store = store
        self.lock = threading.RLock()
        self._files: dict[str, dict[str, FileRecord]] = {}
        self._uploads: dict[str, Upload] = {}
        self._projects: set[str] = set()
        self._seq = 0
        self.last_base_url: str | None = None
        self.verified = VerifiedBytes()      # bytes last seen matching their record (integrity.py)
        self.import_problems: list[str] = []   # records the last import left out, and why

    # -- config and dirs ---------------------------------------------------------------------------
    @property
    def config(self) -> dict:
        return self.store.config["files"]

    def _dir(self, project: str, kind: str) -> Path:
        with self.lock:
            self._projects.add(project)
        path = self.store.project_dir(project) / kind
        path.mkdir(parents=True, exist_ok=True)
        return path

    def reset(self) -> None:
        with self.lock:
            for project in self._projects:
                for kind in ("files", "uploads"):
                    shutil.rmtree(self.store.data_dir / "projects" / project / kind, ignore_errors=True)
            self._files.clear()
            self._uploads.clear()
            self._projects.clear()
            self._seq = 0
            self.verified = VerifiedBytes()

    # -- state and rendering -----------------------------------------------------------------------
    def state(self, record: FileRecord, now: float | None = None) -> str:
        now = self.store.now() if now is None else now
        if now < record.ready_time:
            return PROCESSING
        return FAILED if record.error else ACTIVE

    def render(self, record: FileRecord, base_url: str | None = None) -> dict:
        """The File resource as the wire shows it."""
        now = self.store.now()
        state = self.state(record, now)
        base = (base_url or record.base_url or self.last_base_url or PUBLIC_HOST).rstrip("/")
        body: dict[str, Any] = {"name": record.name}
        if record.display_name:
            body["displayName"] = record.display_name
        body.update({
            "mimeType": record.mime_type,
            "sizeBytes": str(record.size),
            "createTime": self.store.timestamp(record.create_time),
            "updateTime": self.store.timestamp(record.create_time if state == PROCESSING else record.ready_time),
            "expirationTime": self.store.timestamp(record.expire_time),
            "sha256Hash": sha256_hash(record.sha256_hex),
            "uri": f"{base}/v1beta/files/{record.id}",
        })
        if record.source == GENERATED:
            body["downloadUri"] = f"{base}/download/v1beta/files/{record.id}:download?alt=media"
        body["state"] = state
        body["source"] = record.source
        if record.info is not None and record.info.video_seconds:
            body["videoMetadata"] = {"videoDuration": format_duration(record.info.video_seconds)}
        if state == FAILED:
            body["error"] = {"code": 400, "message": record.error}
        return body

    # -- lookup and expiry -------------------------------------------------------------------------
    def _expired(self, record: FileRecord, now: float) -> bool:
        return now >= record.expire_time

    def _drop(self, record: FileRecord) -> None:
        with self.lock:
            self._files.get(record.project, {}).pop(record.id, None)
        self.verified.forget(record.path)
        self.store.discard(record.path)

    def _checked(self, record: FileRecord) -> FileRecord:
        """`record`, once its bytes are known to be what was stored; a file whose bytes changed on disk
        is marked FAILED and refused (400 FAILED_PRECONDITION), never served as if it were valid."""
        problem = self.verified.problem(record.path, record.size, record.sha256_hex)
        if problem is None:
            return record
        message = f"The stored bytes of {record.name} are damaged: {problem}."
        if record.error != message:
            record.error = message
            self.store.changed()
        raise failed_precondition(message)

    def check_stored(self) -> list[str]:
        """Check every record's bytes (size and SHA-256); drop the records whose bytes are damaged and
        say which, with those the last import left out (persistence.attach reports them)."""
        with self.lock:
            records = [r for files in self._files.values() for r in files.values()]
        problems = list(self.import_problems)
        for record in records:
            problem = self.verified.problem(record.path, record.size, record.sha256_hex)
            if problem is not None:
                problems.append(f"{record.name} of {record.project}: {problem}")
                with self.lock:
                    self._files.get(record.project, {}).pop(record.id, None)
        self.import_problems = []
        return problems

    def _purge_project(self, project: str) -> None:
        now = self.store.now()
        with self.lock:
            gone = [r for r in self._files.get(project, {}).values() if self._expired(r, now)]
        for record in gone:
            self._drop(record)

    def _record(self, owner: Identity | str, name: str) -> FileRecord:
        """The live record of `name` in the caller's project, or the one 403 for every other case."""
        project = _project(owner)
        file_id = parse_name(name)
        shown = f"files/{file_id}"
        with self.lock:
            record = self._files.get(project, {}).get(file_id)
        if record is None:
            raise missing_resource("File", shown)
        if self._expired(record, self.store.now()):
            self._drop(record)
            raise missing_resource("File", shown)
        return record

    def usage(self, project: str, *, excluding: str | None = None) -> int:
        """Bytes the project's live files and unfinished uploads take (without upload `excluding`)."""
        self._purge_project(project)
        with self.lock:
            total = sum(r.size for r in self._files.get(project, {}).values())
            total += sum(u.received for u in self._uploads.values()
                         if u.project == project and u.file_name is None and u.id != excluding)
        return total

    # -- public API ----------------------------------------------------------------------------------
    def get_file(self, identity: Identity | str, name: str, base_url: str | None = None) -> dict:
        """The File JSON of `name` (`files/{id}` or `{id}`); 403 missing_resource otherwise."""
        return self.render(self._record(identity, name), base_url)

    def path_of(self, identity: Identity | str, name: str) -> Path:
        """Where the bytes of `name` are stored (checked: see `_checked`); raises like `get_file`."""
        return self._checked(self._record(identity, name)).path

    def projects(self) -> set[str]:
        """The projects that hold files (for the dashboard)."""
        with self.lock:
            return {project for project, files in self._files.items() if files}

    def record_of(self, identity: Identity | str, name: str) -> FileRecord:
        """The internal record (measured duration, prompt cost); raises like `get_file`."""
        return self._record(identity, name)

    def downloadable(self, identity: Identity | str, name: str, field: str = "name") -> FileRecord:
        """The record of a file the caller may download. As on the real API only generated files (batch
        results) can be, unless `files.downloadUploaded` is on: otherwise a 400 naming `field`."""
        record = self._record(identity, name)
        if record.source != GENERATED and not self.config["downloadUploaded"]:
            raise invalid_argument(
                f"Only generated files can be downloaded; {record.name} was uploaded (source UPLOADED), "
                f"and uploaded files cannot be downloaded.", field)
        return self._checked(record)

    def list_files(self, project: Identity | str, base_url: str | None = None) -> list[dict]:
        """The project's live files as File JSON, newest first (expired ones are removed)."""
        project = _project(project)
        self._purge_uploads()
        self._purge_project(project)
        with self.lock:
            records = sorted(self._files.get(project, {}).values(), key=lambda r: -r.seq)
        return [self.render(r, base_url) for r in records]

    def delete_file(self, identity: Identity | str, name: str) -> None:
        """Delete `name` and its bytes; raises like `get_file`."""
        self._drop(self._record(identity, name))

    def media_info(self, identity: Identity | str, uri: str) -> media.MediaInfo:
        """The prompt cost of a `fileData.fileUri`: `<any base>/{version}/files/{id}` or `files/{id}`."""
        text = (uri or "").strip()
        path = urlsplit(text).path if "://" in text else text
        match = _URI_RE.search(path)
        if not match:
            raise invalid_argument(f"Invalid or unsupported file uri: {uri}", "fileData.fileUri")
        record = self._checked(self._record(identity, match.group(1)))
        if not record.measured:
            record.info, record.unusable, _, record.duration = self.analyse(record.path, record.mime_type,
                                                                            record.size)
            record.measured = True
        state = self.state(record)
        if state != ACTIVE:
            raise failed_precondition(
                f"The File {record.id} is not in an ACTIVE state and usage is not allowed.")
        if record.info is None:
            raise invalid_argument(record.unusable or f"Unsupported MIME type: {record.mime_type}",
                                   "fileData.fileUri")
        return record.info

    def create_generated(self, project: Identity | str, display_name: str, mime_type: str,
                         source_path: Path | None = None, data: bytes | None = None,
                         *, base_url: str | None = None) -> dict:
        """A file the server made (e.g. batch results): ACTIVE at once, source GENERATED, downloadable.

        Its bytes are `data`, or a copy of the file at `source_path` (copied in pieces). Returns the File
        JSON (`name` is what a batch puts in `responsesFile`).
        """
        if (source_path is None) == (data is None):
            raise ValueError("create_generated needs exactly one of source_path and data")
        project = _project(project)
        file_id = self._new_file_id(project)
        part = self._dir(project, "uploads") / f"{file_id}.generated"
        hasher = hashlib.sha256()
        with open(part, "wb") as out:
            if data is not None:
                out.write(data)
                hasher.update(data)
            else:
                with open(source_path, "rb") as source:
                    while block := source.read(1 << 20):
                        out.write(block)
                        hasher.update(block)
        size = part.stat().st_size
        record = self._commit(project, file_id, part, size=size, sha256_hex=hasher.hexdigest(),
                              display_name=display_name, mime_type=mime_type, source=GENERATED,
                              base_url=base_url, processing=0.0, measure=False)
        return self.render(record, base_url)

    # -- creating files ------------------------------------------------------------------------------
    def _new_file_id(self, project: str) -> str:
        with self.lock:
            taken = self._files.get(project, {})
            while True:
                file_id = self.store.new_id(project, "file")
                if file_id not in taken:
                    return file_id

    def _check_free(self, project: str, name: str) -> None:
        file_id = parse_name(name)
        with self.lock:
            record = self._files.get(project, {}).get(file_id)
        if record is not None and not self._expired(record, self.store.now()):
            raise already_exists(f"File {name} already exists.")

    def analyse(self, path: Path, mime_type: str, size: int) -> tuple[media.MediaInfo | None, str | None,
                                                                        str | None, float | None]:
        """(prompt cost, why unusable, processing error, audio duration) of stored bytes, measured once.

        Undecodable audio makes the file FAILED; other unsupported types stay ACTIVE but cannot be
        used in a prompt (400 "Unsupported MIME type" then), as on the real API."""
        modality = media.modality_for_mime(mime_type)
        is_audio = mime_type.split(";", 1)[0].strip().lower().startswith("audio/")
        if modality == media.TEXT and size > TEXT_COUNT_LIMIT:
            return media.MediaInfo(mime_type, media.TEXT, -(-size // 4)), None, None, None
        if modality is None and not is_audio:
            return None, f"Unsupported MIME type: {mime_type}", None, None
        try:
            info = media.describe_media(path, mime_type)
        except ApiError as error:
            if is_audio:  # undecodable or unsupported audio: processing fails
                return None, error.message, error.message, None
            return None, error.message, None, None
        return info, None, None, (info.audio_seconds or None)

    def _commit(self, project: str, file_id: str, part: Path, *, size: int, sha256_hex: str,
                display_name: str | None, mime_type: str, source: str, base_url: str | None,
                processing: float | None = None, check_name: bool = False, measure: bool = True) -> FileRecord:
        """Measure the bytes at `part` (unless not `measure`: then on first use in a prompt), move them
        into place and record the file."""
        info, unusable, error, duration = self.analyse(part, mime_type, size) if measure else (None, None, None, None)
        now = self.store.now()
        processing = self.config["processingSeconds"] if processing is None else processing
        with self.lock:
            if check_name:
                try:
                    self._check_free(project, f"files/{file_id}")
                except ApiError:
                    _remove(part)
                    raise
            stale = self._files.get(project, {}).get(file_id)   # an expired file of the same name
            if stale is not None:
                self._drop(stale)
            target = self._dir(project, "files") / file_id
            os.replace(part, target)
            self.verified.remember(target)
            self._seq += 1
            record = FileRecord(
                project=project, id=file_id, display_name=display_name, mime_type=mime_type, size=size,
                sha256_hex=sha256_hex, source=source, path=target, create_time=now,
                ready_time=now + max(0.0, float(processing)), expire_time=now + float(self.config["ttlSeconds"]),
                base_url=base_url, seq=self._seq, info=info, unusable=unusable, error=error, duration=duration,
                measured=measure)
            self._files.setdefault(project, {})[file_id] = record
        self.store.changed(target)   # the record and its bytes are made durable before the answer
        return record

    def create_empty(self, identity: Identity, metadata: dict, base_url: str) -> dict:
        """`POST /{version}/files` with metadata only: a File with no bytes."""
        meta = self.check_metadata(metadata)
        project = identity.project
        if meta["name"]:
            self._check_free(project, meta["name"])
        file_id = parse_name(meta["name"]) if meta["name"] else self._new_file_id(project)
        part = self._dir(project, "uploads") / f"{file_id}.empty"
        part.write_bytes(b"")
        record = self._commit(project, file_id, part, size=0, sha256_hex=hashlib.sha256().hexdigest(),
                              display_name=meta["displayName"],
                              mime_type=meta["mimeType"] or "application/octet-stream",
                              source=UPLOADED, base_url=base_url, check_name=bool(meta["name"]))
        return self.render(record, base_url)

    # -- uploads -------------------------------------------------------------------------------------
    def check_metadata(self, metadata: dict) -> dict:
        """name / displayName / mimeType / sizeBytes of a normalised File, checked."""
        name = metadata.get("name")
        name = check_new_name(name) if name else None
        display = metadata.get("displayName")
        if display is not None and len(display) > DISPLAY_NAME_LIMIT:
            raise invalid_argument(f"file.display_name must be at most {DISPLAY_NAME_LIMIT} characters "
                                   f"(got {len(display)}).", "file.displayName")
        size = metadata.get("sizeBytes")
        if size is not None and size < 0:
            raise invalid_argument("file.size_bytes must not be negative.", "file.sizeBytes")
        return {"name": name, "displayName": display or None, "mimeType": metadata.get("mimeType") or None,
                "sizeBytes": size}

    def limits(self, project: str, excluding: str | None = None) -> Limits:
        """The limits a new file of `project` is under (without counting upload `excluding`)."""
        return Limits(int(self.config["maxFileBytes"]), int(self.config["maxProjectBytes"]),
                      self.usage(project, excluding=excluding))

    def start_upload(self, identity: Identity, metadata: dict, *, declared: int | None, header_mime: str | None,
                     file_hint: str | None, base_url: str) -> Upload:
        """A new resumable upload; the declared size is checked against the limits here already."""
        self._purge_uploads()
        meta = self.check_metadata(metadata)
        if declared is None:
            declared = meta["sizeBytes"]
        project = identity.project
        if declared is not None:
            self.limits(project).check(declared)
        if meta["name"]:
            self._check_free(project, meta["name"])
        upload_id = new_upload_id()
        now = self.store.now()
        upload = Upload(id=upload_id, identity=identity, name=meta["name"], display_name=meta["displayName"],
                        mime_type=meta["mimeType"] or header_mime or None, declared=declared, base_url=base_url,
                        path=self._dir(project, "uploads") / f"{upload_id}.part", started=now, touched=now,
                        file_hint=file_hint)
        upload.path.write_bytes(b"")
        with self.lock:
            self._uploads[upload_id] = upload
        return upload

    def _purge_uploads(self) -> None:
        """Forget uploads untouched for `files.abandonedUploadSeconds` (and remove their bytes)."""
        limit = float(self.config["abandonedUploadSeconds"])
        now = self.store.now()
        with self.lock:
            stale = [u for u in self._uploads.values() if not u.busy and now - u.touched >= limit]
            for upload in stale:
                del self._uploads[upload.id]
        for upload in stale:
            if upload.file_name is None:
                _remove(upload.path)

    def get_upload(self, upload_id: str) -> Upload:
        self._purge_uploads()
        with self.lock:
            upload = self._uploads.get(upload_id)
        if upload is None:
            raise upload_error(not_found(
                f"No upload with id {upload_id!r}: it was never started, was cancelled, or was abandoned."),
                "final")
        return upload

    def begin_chunk(self, upload: Upload, offset: int | None) -> Receiver:
        """Claim the upload for one chunk starting at `offset`; the Receiver appends to its bytes."""
        with self.lock:
            if upload.file_name is not None:
                raise upload_error(failed_precondition(
                    f"The upload {upload.id} was already finalized as {upload.file_name}; "
                    f"no more bytes can be sent to it."), "final")
            if upload.busy:
                raise upload_error(ApiError(409, "ABORTED",
                                            f"Another chunk of upload {upload.id} is being received."),
                                   "active", upload.received)
            if offset is not None and offset != upload.received:
                raise upload_error(invalid_argument(
                    f"Wrong X-Goog-Upload-Offset {offset}: the upload has received {upload.received} bytes, "
                    f"so the next chunk must start at offset {upload.received}.", "X-Goog-Upload-Offset"),
                    "active", upload.received)
            upload.busy = True
            upload.touched = self.store.now()
        try:
            return Receiver(upload.path, upload.hasher, upload.received, declared=upload.declared,
                            limits=self.limits(upload.project, excluding=upload.id))
        except BaseException:
            upload.busy = False
            raise

    def end_chunk(self, upload: Upload, receiver: Receiver, *, keep_busy: bool = False) -> None:
        """Record the bytes a chunk delivered (also after an interruption: the client can resume).

        With `keep_busy` the upload stays claimed (while it is being finalised)."""
        with self.lock:
            upload.received = receiver.received
            upload.busy = keep_busy
            upload.touched = self.store.now()
            alive = self._uploads.get(upload.id) is upload
        if not alive:   # reset or cancelled meanwhile
            _remove(upload.path)
            raise upload_error(not_found(f"The upload {upload.id} was cancelled while receiving."), "final")

    def cancel_upload(self, upload: Upload) -> None:
        """Forget the upload and remove its bytes (unless it already became a file)."""
        with self.lock:
            self._uploads.pop(upload.id, None)
        if upload.file_name is None:
            _remove(upload.path)

    def finalize_upload(self, upload: Upload) -> dict:
        """Turn a complete upload into a File (JSON). The upload must be claimed (busy) by the caller;
        it is released here."""
        try:
            if upload.declared is not None and upload.received != upload.declared:
                raise upload_error(invalid_argument(
                    f"The upload was finalized after {upload.received} bytes, but {upload.declared} were "
                    f"declared; send the rest from offset {upload.received}.", "X-Goog-Upload-Command"),
                    "active", upload.received)
            project = upload.project
            file_id = parse_name(upload.name) if upload.name else self._new_file_id(project)
            mime = resolve_mime(upload.mime_type, upload.chunk_mime, upload.path,
                                upload.file_hint or upload.display_name)
            try:
                record = self._commit(project, file_id, upload.path, size=upload.received,
                                      sha256_hex=upload.hasher.hexdigest(), display_name=upload.display_name,
                                      mime_type=mime, source=UPLOADED, base_url=upload.base_url,
                                      check_name=bool(upload.name))
            except ApiError as error:
                self.cancel_upload(upload)
                raise upload_error(error, "final") from None
            with self.lock:
                upload.file_name = record.name
                upload.touched = self.store.now()
            return self.render(record, upload.base_url)
        finally:
            upload.busy = False

    def finish_upload(self, upload: Upload) -> dict:
        """Hand a complete upload to its `finish` (an upload to another resource, e.g. a File Search store);
        its answer is the final JSON. The upload must be claimed (busy) by the caller; it is released here."""
        try:
            if upload.declared is not None and upload.received != upload.declared:
                raise upload_error(invalid_argument(
                    f"The upload was finalized after {upload.received} bytes, but {upload.declared} were "
                    f"declared; send the rest from offset {upload.received}.", "X-Goog-Upload-Command"),
                    "active", upload.received)
            upload.mime_type = resolve_mime(upload.mime_type, upload.chunk_mime, upload.path,
                                            upload.file_hint or upload.display_name)
            try:
                answer = upload.finish(upload)
            except ApiError as error:
                self.cancel_upload(upload)
                raise upload_error(error, "final") from None
            with self.lock:
                upload.file_name = answer.get("name") or upload.id
                upload.touched = self.store.now()
            return answer
        finally:
            upload.busy = False

    def store_bytes(self, identity: Identity, metadata: dict, part: Path, *, size: int, sha256_hex: str,
                    mime_type: str | None, base_url: str) -> dict:
        """A File from bytes already received at `part` (the multipart and raw media uploads)."""
        meta = self.check_metadata(metadata)
        project = identity.project
        if meta["name"]:
            self._check_free(project, meta["name"])
        file_id = parse_name(meta["name"]) if meta["name"] else self._new_file_id(project)
        mime = resolve_mime(meta["mimeType"], mime_type, part, meta["displayName"])
        record = self._commit(project, file_id, part, size=size, sha256_hex=sha256_hex,
                              display_name=meta["displayName"], mime_type=mime, source=UPLOADED,
                              base_url=base_url, check_name=bool(meta["name"]))
        return self.render(record, base_url)

    def new_part(self, identity: Identity) -> Path:
        """A fresh temp file for a one-request upload."""
        part_id = new_upload_id()
        path = self._dir(identity.project, "uploads") / f"{part_id}.part"
        path.write_bytes(b"")
        return path

    # -- state export and import (persistence.py) ----------------------------------------------------
    def export_state(self) -> dict:
        """Every project's files, bytes by reference. Uploads not yet finalized are not kept."""
        with self.lock:
            records = sorted((r for files in self._files.values() for r in files.values()), key=lambda r: r.seq)
            return {"seq": self._seq, "lastBaseUrl": self.last_base_url, "files": [
                fields_of(r, path=self.store.blob_ref(r.path),
                          info=fields_of(r.info) if r.info is not None else None) for r in records]}

    def import_state(self, data: dict) -> None:
        """Replace every record by those of `data`. A record whose bytes are gone because a delete was
        under way when the server stopped (its bytes renamed to a tombstone) is left out quietly; one
        whose bytes are missing or of another size is left out and named in `import_problems`."""
        with self.lock:
            self._files, self._uploads, self._projects = {}, {}, set()
            self.verified, self.import_problems = VerifiedBytes(), []
            for item in data.get("files") or []:
                path = self.store.blob_path(item["path"])
                try:
                    size = path.stat().st_size
                except OSError:
                    if not path.with_name(path.name + TOMBSTONE).exists():
                        self.import_problems.append(f"files/{item['id']} of {item['project']}: its bytes "
                                                    f"{item['path']['$blob']} are missing")
                    continue
                if size != item["size"]:
                    self.import_problems.append(f"files/{item['id']} of {item['project']}: its bytes were "
                                                f"modified ({size} bytes on disk, {item['size']} stored)")
                    continue
                info = media.MediaInfo(**item["info"]) if item.get("info") else None
                record = build(FileRecord, item, path=path, info=info)
                self._files.setdefault(record.project, {})[record.id] = record
                self._projects.add(record.project)
            self._seq = int(data.get("seq") or 0)
            self.last_base_url = data.get("lastBaseUrl")


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


def register(store) -> None:
    store.register("files", FileStore(store))


# -- HTTP skin --------------------------------------------------------------------------------------

def base_url(ctx: Context) -> str:
    """scheme://host:port plus any path prefix in front of `[resumable/]upload|download/{version}/`."""
    url = ctx.request.url
    segments = url.path.split("/")
    cut = next((i for i, segment in enumerate(segments) if segment in ALL_VERSIONS), None)
    if cut is None:   # a path without a version (the SDKs' api_version=''): cut before the resource
        cut = next((i for i, segment in enumerate(segments) if segment.startswith("files")), len(segments))
    if cut and segments[cut - 1] in ("upload", "download"):
        cut -= 1
        if cut and segments[cut - 1] == "resumable":
            cut -= 1
    prefix = "/".join(segments[:cut]).rstrip("/")
    base = f"{url.scheme}://{url.netloc}{prefix}"
    ctx.store.files.last_base_url = base
    return base


def _header(ctx: Context, name: str) -> str | None:
    value = ctx.request.headers.get(name)
    return value.strip() if value is not None else None


def _int_header(ctx: Context, name: str) -> int | None:
    value = _header(ctx, name)
    if value is None or value == "":
        return None
    if not value.isdigit():
        raise invalid_argument(f"Header {name} must be a non-negative integer, not {value!r}.", name)
    return int(value)


async def _drain(ctx: Context) -> None:
    """Read and drop the rest of the body, so a client still sending gets the answer."""
    try:
        async for _ in ctx.request.stream():
            pass
    except ClientDisconnect:
        pass
    except RuntimeError:  # the stream was consumed already
        pass


HASH_BATCH = 2 * 1024 * 1024


async def _pump(pieces, receiver: Receiver) -> None:
    """Stream `pieces` (an async iterator of bytes) into `receiver`, as they arrive.

    Each piece (a few hundred KiB from the server's socket reads) is checked and appended at once (the
    write lands in the page cache). Hashing, the costliest step, runs in a worker thread on batches of
    HASH_BATCH bytes while the next batch arrives (hashlib releases the GIL), so at most two batches are
    held. Whatever happens, every appended byte is hashed before this returns or raises.
    """
    loop = asyncio.get_running_loop()
    batch: list[bytes] = []
    size = 0
    pending = None
    try:
        async for piece in pieces:
            if not piece:
                continue
            receiver.append(piece)
            batch.append(piece)
            size += len(piece)
            if size >= HASH_BATCH:
                if pending is not None:
                    await pending
                pending = loop.run_in_executor(None, receiver.hash, batch)
                batch, size = [], 0
    finally:
        if pending is not None:
            await pending
        receiver.hash(batch)


def _disconnected() -> Response:
    return json_response(ApiError(499, "CANCELLED", "The client closed the connection.").envelope(), 499)


async def _metadata(ctx: Context, raw: bytes) -> dict:
    data = parse_json(raw)
    if not isinstance(data, dict):
        raise invalid_argument("Invalid JSON payload received. The request body must be a JSON object.")
    return normalize(ctx.version, "CreateFileRequest", data).get("file") or {}


def _upload_headers(status: str, **extra: str) -> dict[str, str]:
    return {"X-Goog-Upload-Status": status, **extra}


async def upload_files(ctx: Context) -> Response:
    """`POST /upload/{version}/files` (and `/resumable/upload/...`): every upload form."""
    upload_id = ctx.query("upload_id")
    if upload_id:
        return await _chunk(ctx, upload_id)
    protocol = (_header(ctx, "x-goog-upload-protocol") or ctx.query("uploadType")
                or ctx.query("upload_protocol") or "").lower()
    ctx.identity  # every upload form but the chunks needs a key
    if protocol == "resumable":
        return await _start(ctx)
    if protocol == "multipart":
        return await _multipart(ctx)
    return await _raw(ctx)


async def _start(ctx: Context) -> Response:
    command = (_header(ctx, "x-goog-upload-command") or "start").lower()
    if command != "start":
        await _drain(ctx)
        raise invalid_argument(f"A resumable upload begins with X-Goog-Upload-Command: start, not {command!r}.",
                               "X-Goog-Upload-Command")
    metadata = await _metadata(ctx, await ctx.body())
    base = base_url(ctx)
    upload = ctx.store.files.start_upload(
        ctx.identity, metadata, declared=_int_header(ctx, "x-goog-upload-header-content-length"),
        header_mime=_header(ctx, "x-goog-upload-header-content-type"),
        file_hint=_header(ctx, "x-goog-upload-file-name"), base_url=base)
    url = ctx.request.url
    upload_url = f"{url.scheme}://{url.netloc}{url.path}?upload_id={upload.id}&upload_protocol=resumable"
    return Response(b"", 200, headers={
        "X-Goog-Upload-URL": upload_url,
        "X-Goog-Upload-Control-URL": upload_url,
        "X-Goog-Upload-Status": "active",
        "X-Goog-Upload-Chunk-Granularity": str(CHUNK_GRANULARITY),
    })


async def _chunk(ctx: Context, upload_id: str) -> Response:
    files: FileStore = ctx.store.files
    try:
        upload = files.get_upload(upload_id)
    except ApiError:
        await _drain(ctx)
        raise
    if api_key(ctx.request):
        # The upload URL is a capability (the seed's curl flow sends chunks to it without a key), but a
        # chunk that names another project's key is not its owner's: the same answer as an unknown id.
        try:
            foreign = ctx.identity.project != upload.project
        except ApiError:
            await _drain(ctx)
            raise
        if foreign:
            await _drain(ctx)
            raise upload_error(not_found(f"No upload with id {upload_id!r}: it was never started, was "
                                         f"cancelled, or was abandoned."), "final")
    ctx._identity = upload.identity   # the journal shows whose upload it was
    raw_command = _header(ctx, "x-goog-upload-command") or "upload"
    commands = {c.strip().lower() for c in raw_command.split(",") if c.strip()}
    unknown = commands - {"upload", "finalize", "query", "cancel"}
    if unknown or not commands:
        await _drain(ctx)
        raise upload_error(invalid_argument(f"Unknown X-Goog-Upload-Command {raw_command!r}.",
                                            "X-Goog-Upload-Command"), "active", upload.received)
    if "query" in commands:
        await _drain(ctx)
        return _query_answer(files, upload)
    if "cancel" in commands:
        await _drain(ctx)
        files.cancel_upload(upload)
        return Response(b"", 200, headers=_upload_headers("cancelled"))
    try:
        offset = _int_header(ctx, "x-goog-upload-offset")
        if offset is None and "upload" in commands:
            raise invalid_argument("X-Goog-Upload-Offset is required with X-Goog-Upload-Command: upload.",
                                   "X-Goog-Upload-Offset")
        receiver = files.begin_chunk(upload, offset)
    except ApiError as error:
        await _drain(ctx)
        if "X-Goog-Upload-Status" not in error.headers:
            upload_error(error, "active", upload.received)
        raise
    declared_length = _int_header(ctx, "content-length")
    if upload.chunk_mime is None and upload.received == 0:
        upload.chunk_mime = _header(ctx, "content-type")
    try:
        with receiver:
            if declared_length:   # refuse up front what Content-Length already shows to be too much
                end = upload.received + declared_length
                if upload.declared is not None and end > upload.declared:
                    raise invalid_argument(
                        f"The upload sent more bytes than the {upload.declared} declared: this chunk of "
                        f"{declared_length} bytes at offset {upload.received} would end at {end}. "
                        f"The upload was cancelled.", "Content-Length")
                receiver.limits.check(end)
            await _pump(ctx.request.stream(), receiver)
    except ApiError as error:   # over a limit: the upload is cancelled, its bytes removed
        files.cancel_upload(upload)
        await _drain(ctx)
        raise upload_error(error, "final") from None
    except ClientDisconnect:    # interrupted: keep what arrived, the client can query and resume
        files.end_chunk(upload, receiver)
        return _disconnected()
    except BaseException:
        files.end_chunk(upload, receiver)
        raise
    files.end_chunk(upload, receiver, keep_busy="finalize" in commands)
    if "finalize" not in commands:
        return Response(b"", 200, headers=_upload_headers(
            "active", **{"X-Goog-Upload-Size-Received": str(upload.received)}))
    if upload.finish is not None:
        answer = await run_in_threadpool(files.finish_upload, upload)
        return json_response(answer, headers=_upload_headers(
            "final", **{"X-Goog-Upload-Size-Received": str(upload.received)}))
    file = await run_in_threadpool(files.finalize_upload, upload)
    return json_response({"file": file}, headers=_upload_headers(
        "final", **{"X-Goog-Upload-Size-Received": str(upload.received)}))


def _query_answer(files: FileStore, upload: Upload) -> Response:
    headers = {"X-Goog-Upload-Size-Received": str(upload.received)}
    if upload.file_name is None:
        return Response(b"", 200, headers=_upload_headers("active", **headers))
    try:
        file = files.get_file(upload.identity, upload.file_name, upload.base_url)
    except ApiError:
        return Response(b"", 200, headers=_upload_headers("final", **headers))
    return json_response({"file": file}, headers=_upload_headers("final", **headers))


async def _one_shot(ctx: Context, metadata: dict, pieces, mime_type: str | None) -> Response:
    """Receive `pieces` (an async iterator of bytes) into a new file described by `metadata`."""
    files: FileStore = ctx.store.files
    meta = files.check_metadata(metadata)
    project = ctx.project
    limits = files.limits(project)
    if meta["sizeBytes"] is not None:
        limits.check(meta["sizeBytes"])
    part = files.new_part(ctx.identity)
    hasher = hashlib.sha256()
    try:
        with Receiver(part, hasher, 0, declared=None, limits=limits) as receiver:
            await _pump(pieces, receiver)
        if meta["sizeBytes"] is not None and receiver.received != meta["sizeBytes"]:
            raise invalid_argument(f"file.size_bytes is {meta['sizeBytes']} but {receiver.received} bytes "
                                   f"were sent.", "file.sizeBytes")
        file = await run_in_threadpool(
            files.store_bytes, ctx.identity, metadata, part, size=receiver.received,
            sha256_hex=hasher.hexdigest(), mime_type=mime_type, base_url=base_url(ctx))
    except ApiError:
        _remove(part)
        await _drain(ctx)
        raise
    except ClientDisconnect:
        _remove(part)
        return _disconnected()
    except BaseException:
        _remove(part)
        raise
    return json_response({"file": file})


async def _raw(ctx: Context) -> Response:
    """`uploadType=media` (or no protocol): the body is the bytes, Content-Type their MIME type."""
    return await _one_shot(ctx, {}, ctx.request.stream(), _header(ctx, "content-type"))


class MultipartReader:
    """A streaming reader of a multipart body: headers in memory (bounded), part bodies in pieces."""

    HEADER_LIMIT = 64 * 1024

    def __init__(self, stream) -> None:
        self._stream = stream.__aiter__()
        self.buffer = bytearray()
        self.eof = False

    async def _fill(self) -> bool:
        if self.eof:
            return False
        try:
            self.buffer += await self._stream.__anext__()
        except StopAsyncIteration:
            self.eof = True
            return False
        return True

    async def until(self, marker: bytes, limit: int) -> bytes:
        """The bytes before `marker` (consumed, marker included); 400 past `limit` or at the end."""
        start = 0
        while True:
            index = self.buffer.find(marker, start)
            if index >= 0:
                data = bytes(self.buffer[:index])
                del self.buffer[:index + len(marker)]
                return data
            if len(self.buffer) > limit:
                raise invalid_argument("Malformed multipart body: a part or its headers are too large.")
            start = max(0, len(self.buffer) - len(marker) + 1)
            if not await self._fill():
                raise invalid_argument("Malformed multipart body: it ends before the closing boundary.")

    async def pieces_until(self, marker: bytes):
        """Yield the bytes before `marker` as they arrive; the marker is consumed."""
        keep = len(marker) - 1
        while True:
            index = self.buffer.find(marker)
            if index >= 0:
                if index:
                    yield bytes(self.buffer[:index])
                del self.buffer[:index + len(marker)]
                return
            if len(self.buffer) > keep:
                cut = len(self.buffer) - keep
                yield bytes(self.buffer[:cut])
                del self.buffer[:cut]
            if not await self._fill():
                raise invalid_argument("Malformed multipart body: it ends before the closing boundary.")


def part_headers(raw: bytes) -> dict[str, str]:
    headers = {}
    for line in raw.decode("latin-1").split("\r\n"):
        if ":" in line:
            key, value = line.split(":", 1)
            headers[key.strip().lower()] = value.strip()
    return headers


async def _multipart(ctx: Context) -> Response:
    """`uploadType=multipart`: a metadata part (JSON) then a media part, in multipart/related."""
    content_type = _header(ctx, "content-type") or ""
    match = re.search(r'boundary="?([^";]+)"?', content_type)
    if not content_type.lower().startswith("multipart/") or not match:
        await _drain(ctx)
        raise invalid_argument("A multipart upload needs Content-Type: multipart/related; boundary=...",
                               "Content-Type")
    boundary = match.group(1).encode("latin-1")
    parts = MultipartReader(ctx.request.stream())
    limit = ctx.store.config["limits"]["requestBytes"]
    try:
        await parts.until(b"--" + boundary, MultipartReader.HEADER_LIMIT)
        await parts.until(b"\r\n", MultipartReader.HEADER_LIMIT)
        first = part_headers(await parts.until(b"\r\n\r\n", MultipartReader.HEADER_LIMIT))
        delimiter = b"\r\n--" + boundary
        first_body = await parts.until(delimiter, limit)
        if "json" in first.get("content-type", "application/json").lower():
            metadata = await _metadata(ctx, first_body)
            closing = await parts.until(b"\r\n", MultipartReader.HEADER_LIMIT)
            if closing.startswith(b"--"):
                raise invalid_argument("A multipart upload needs a media part after the metadata part.")
            media_headers = part_headers(await parts.until(b"\r\n\r\n", MultipartReader.HEADER_LIMIT))

            async def media_pieces():
                async for piece in parts.pieces_until(delimiter):
                    yield piece
        else:  # a media part alone
            metadata, media_headers = {}, first

            async def media_pieces():
                yield first_body
    except ApiError:
        await _drain(ctx)
        raise
    except ClientDisconnect:
        return _disconnected()
    return await _one_shot(ctx, metadata, media_pieces(), media_headers.get("content-type"))


async def create_file(ctx: Context) -> Response:
    """`POST /{version}/files`: metadata only (CreateFileRequest -> CreateFileResponse)."""
    if _header(ctx, "x-goog-upload-protocol") or ctx.query("upload_id"):
        return await upload_files(ctx)
    ctx.identity
    metadata = await _metadata(ctx, await ctx.body())
    return json_response({"file": ctx.store.files.create_empty(ctx.identity, metadata, base_url(ctx))})


async def list_files(ctx: Context) -> Response:
    files = ctx.store.files.list_files(ctx.identity, base_url(ctx))
    page, token = paginate(files, page_size(ctx.query("pageSize"), 10, 100), ctx.query("pageToken"))
    body: dict[str, Any] = {"files": page} if page else {}
    if token:
        body["nextPageToken"] = token
    return json_response(body)


async def get_file(ctx: Context) -> Response:
    return json_response(ctx.store.files.get_file(ctx.identity, ctx.params["file"], base_url(ctx)))


async def delete_file(ctx: Context) -> Response:
    ctx.store.files.delete_file(ctx.identity, ctx.params["file"])
    return json_response({})


def _read_pieces(handle) -> Iterator[bytes]:
    try:
        while block := handle.read(1 << 20):
            yield block
    finally:
        handle.close()


def bytes_response(record: FileRecord) -> Response:
    """The stored bytes of `record`, streamed with its MIME type."""
    handle = open(record.path, "rb")   # held open: a delete meanwhile does not cut the answer short
    size = os.fstat(handle.fileno()).st_size
    return StreamingResponse(_read_pieces(handle), media_type=record.mime_type,
                             headers={"Content-Length": str(size)})


async def download_file(ctx: Context) -> Response:
    """`GET [/download]/{version}/files/{id}:download?alt=media`: the exact bytes, streamed."""
    record = ctx.store.files.downloadable(ctx.identity, ctx.params["file"])
    if ctx.query("alt") != "media":
        return json_response({})   # DownloadFileResponse: the bytes come with alt=media
    return bytes_response(record)


ROUTES = [
    route("POST", "files", upload_files, media="upload", auth=False),
    route("PUT", "files", upload_files, media="upload", auth=False),
    route("POST", "files", create_file, auth=False),
    route("GET", "files", list_files),
    route("GET", "files/{file}", get_file),
    route("DELETE", "files/{file}", delete_file),
    route("GET", "files/{file}:download", download_file),
    route("GET", "files/{file}:download", download_file, media="download"),
]
