"""Files: the backend (`FileStore`, no HTTP), registered as `store.files`.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit


from ...auth import Identity
from ...errors import ApiError, already_exists, failed_precondition, invalid_argument, missing_resource, not_found
from ...generation import media
from ...integrity import TOMBSTONE, VerifiedBytes
from ...persistence import build, fields_of
from ...wire import format_duration

from .records import (ACTIVE, DISPLAY_NAME_LIMIT, FAILED, FILE_URI_RE, FileRecord, GENERATED, Limits, PROCESSING,
    PUBLIC_HOST, Receiver, TEXT_COUNT_LIMIT, UPLOADED, Upload, check_new_name, new_upload_id, parse_name, project_of,
    remove_quietly, resolve_mime, sha256_hash, upload_error)

if TYPE_CHECKING:
    from ...store import Store

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

    def __init__(self, store: Store) -> None:
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
    def config(self) -> dict[str, Any]:
        config: dict[str, Any] = self.store.config["files"]
        return config

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
        return record.timeline().state_at(self.store.now() if now is None else now)

    def render(self, record: FileRecord, base_url: str | None = None) -> dict[str, Any]:
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
        return record.timeline().expired(now)

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
        project = project_of(owner)
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
    def get_file(self, identity: Identity | str, name: str, base_url: str | None = None) -> dict[str, Any]:
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

    def list_files(self, project: Identity | str, base_url: str | None = None) -> list[dict[str, Any]]:
        """The project's live files as File JSON, newest first (expired ones are removed)."""
        project = project_of(project)
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
        match = FILE_URI_RE.search(path)
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
                         *, base_url: str | None = None) -> dict[str, Any]:
        """A file the server made (e.g. batch results): ACTIVE at once, source GENERATED, downloadable.

        Its bytes are `data`, or a copy of the file at `source_path` (copied in pieces). Returns the File
        JSON (`name` is what a batch puts in `responsesFile`).
        """
        if (source_path is None) == (data is None):
            raise ValueError("create_generated needs exactly one of source_path and data")
        project = project_of(project)
        file_id = self._new_file_id(project)
        part = self._dir(project, "uploads") / f"{file_id}.generated"
        hasher = hashlib.sha256()
        with open(part, "wb") as out:
            if data is not None:
                out.write(data)
                hasher.update(data)
            elif source_path is not None:
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
                    remove_quietly(part)
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

    def create_empty(self, identity: Identity, metadata: dict[str, Any], base_url: str) -> dict[str, Any]:
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
    def check_metadata(self, metadata: dict[str, Any]) -> dict[str, Any]:
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

    def start_upload(self, identity: Identity, metadata: dict[str, Any], *, declared: int | None,
                     header_mime: str | None, file_hint: str | None, base_url: str) -> Upload:
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
                remove_quietly(upload.path)

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
            remove_quietly(upload.path)
            raise upload_error(not_found(f"The upload {upload.id} was cancelled while receiving."), "final")

    def cancel_upload(self, upload: Upload) -> None:
        """Forget the upload and remove its bytes (unless it already became a file)."""
        with self.lock:
            self._uploads.pop(upload.id, None)
        if upload.file_name is None:
            remove_quietly(upload.path)

    def finalize_upload(self, upload: Upload) -> dict[str, Any]:
        """Turn a complete upload into a File (JSON). The upload must be claimed (busy) by the caller;
        it is released here."""
        try:
            _check_complete(upload)
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

    def finish_upload(self, upload: Upload) -> dict[str, Any]:
        """Hand a complete upload to its `finish` (an upload to another resource, e.g. a File Search store);
        its answer is the final JSON. The upload must be claimed (busy) by the caller; it is released here."""
        assert upload.finish is not None, "only an upload to another resource has a finish"
        try:
            _check_complete(upload)
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

    def store_bytes(self, identity: Identity, metadata: dict[str, Any], part: Path, *, size: int, sha256_hex: str,
                    mime_type: str | None, base_url: str) -> dict[str, Any]:
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
    def export_state(self) -> dict[str, Any]:
        """Every project's files, bytes by reference. Uploads not yet finalized are not kept."""
        with self.lock:
            records = sorted((r for files in self._files.values() for r in files.values()), key=lambda r: r.seq)
            return {"seq": self._seq, "lastBaseUrl": self.last_base_url, "files": [
                fields_of(r, path=self.store.blob_ref(r.path),
                          info=fields_of(r.info) if r.info is not None else None) for r in records]}

    def import_state(self, data: dict[str, Any]) -> None:
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


def register(store: Store) -> None:
    store.register("files", FileStore(store))


def _check_complete(upload: Upload) -> None:
    """A finalize before every declared byte came is refused; the upload stays open at its offset."""
    if upload.declared is not None and upload.received != upload.declared:
        raise upload_error(invalid_argument(
            f"The upload was finalized after {upload.received} bytes, but {upload.declared} were "
            f"declared; send the rest from offset {upload.received}.", "X-Goog-Upload-Command"),
            "active", upload.received)
