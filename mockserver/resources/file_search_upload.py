"""`media.uploadToFileSearchStore`: bytes uploaded straight into a File Search store as a new document.

`POST /upload/{version}/fileSearchStores/{id}:uploadToFileSearchStore` speaks the Files API's upload
protocols, reusing their parts (files/upload.py: the resumable sessions; multipart.py: the multipart reader;
files/records.py: the streaming receiver), with an UploadToFileSearchStoreRequest as the metadata
(`displayName`, `mimeType`, `customMetadata`, `chunkingConfig`, at the top level: google-genai 3.6.1
`_UploadToFileSearchStoreConfig_to_mldev`). The
final answer is the long-running Operation `fileSearchStores/{id}/upload/operations/{op}` itself, not a
`{"file": ...}` wrapper (the SDK parses the last chunk's body with `_UploadToFileSearchStoreOperation_from_mldev`).
The same path without the `upload/` prefix is the method's metadata URI; a document needs bytes, so there it
is a 400 unless the request speaks an upload protocol.
"""
from __future__ import annotations

import hashlib
import re
from typing import TYPE_CHECKING, Any, AsyncIterator, Callable

from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect
from starlette.responses import Response

from ..errors import ApiError, invalid_argument
from ..generation import file_search
from ..http import Context, json_response, parse_json
from ..multipart import MultipartReader, part_headers
from ..routing import route
from .files import records as file_records
from .files import upload as file_upload
from .file_search_stores import (MAX_UPLOAD_BYTES, VERSIONS, FileSearchStores, camel_fields, check_display_name,
                                 request_fields)

if TYPE_CHECKING:
    from ..store import Store

METADATA_FIELDS = camel_fields("displayName", "mimeType", "customMetadata", "chunkingConfig")


def _metadata(raw: bytes) -> dict[str, Any]:
    """The UploadToFileSearchStoreRequest, checked up front (so a bad field fails before any bytes)."""
    data = request_fields(parse_json(raw), METADATA_FIELDS)
    check_display_name(data.get("displayName"), "displayName")
    file_search.check_custom_metadata(data.get("customMetadata"))
    file_search.check_chunking(data.get("chunkingConfig"))
    if data.get("mimeType") is not None and not isinstance(data["mimeType"], str):
        raise invalid_argument("mimeType must be a string.", "mimeType")
    return data


def _finisher(ctx: Context, store_name: str,
              metadata: dict[str, Any]) -> Callable[[file_records.Upload], dict[str, Any]]:
    backend: FileSearchStores = ctx.store.file_search_stores
    identity = ctx.identity

    def finish(upload: file_records.Upload) -> dict[str, Any]:
        assert upload.mime_type is not None, "FileStore.finish_upload resolves it first"
        return backend.add_document(identity, store_name, upload.path, size=upload.received,
                                    mime_type=upload.mime_type, display_name=metadata.get("displayName"),
                                    custom_metadata=metadata.get("customMetadata"),
                                    chunking=metadata.get("chunkingConfig"), kind="upload")
    return finish


def _check_size(size: int | None) -> None:
    if size is not None and size > MAX_UPLOAD_BYTES:
        raise invalid_argument(f"The upload declares {size} bytes; uploadToFileSearchStore takes at most "
                               f"{MAX_UPLOAD_BYTES}.", "X-Goog-Upload-Header-Content-Length")


async def upload_to_store(ctx: Context) -> Response:
    """`POST /upload/{version}/fileSearchStores/{id}:uploadToFileSearchStore`: every upload form."""
    upload_id = ctx.query("upload_id")
    if upload_id:   # a chunk of a session started here: the Files API's chunk handling, its finish is ours
        return await file_upload.upload_chunk(ctx, upload_id)
    protocol = (file_upload.header(ctx, "x-goog-upload-protocol") or ctx.query("uploadType")
                or ctx.query("upload_protocol") or "").lower()
    store_name = f"fileSearchStores/{ctx.params['store']}"
    try:
        ctx.store.file_search_stores.check_store(ctx.identity, store_name)
    except ApiError:
        await file_upload.drain(ctx)
        raise
    if protocol == "resumable":
        return await _start(ctx, store_name)
    if protocol == "multipart":
        return await _multipart(ctx, store_name)
    return await _one_shot(ctx, store_name, {}, ctx.request.stream(), file_upload.header(ctx, "content-type"))


async def _start(ctx: Context, store_name: str) -> Response:
    command = (file_upload.header(ctx, "x-goog-upload-command") or "start").lower()
    if command != "start":
        await file_upload.drain(ctx)
        raise invalid_argument(f"A resumable upload begins with X-Goog-Upload-Command: start, not {command!r}.",
                               "X-Goog-Upload-Command")
    metadata = _metadata(await ctx.body())
    declared = file_upload.int_header(ctx, "x-goog-upload-header-content-length")
    _check_size(declared)
    upload = ctx.store.files.start_upload(
        ctx.identity, {"displayName": metadata.get("displayName"), "mimeType": metadata.get("mimeType")},
        declared=declared, header_mime=file_upload.header(ctx, "x-goog-upload-header-content-type"),
        file_hint=file_upload.header(ctx, "x-goog-upload-file-name"), base_url=file_upload.base_url(ctx))
    upload.finish = _finisher(ctx, store_name, metadata)
    return file_upload.upload_started(ctx, upload)


async def _one_shot(ctx: Context, store_name: str, metadata: dict[str, Any], pieces: AsyncIterator[bytes],
                    mime_type: str | None) -> Response:
    """Receive `pieces` into a new document of the store (multipart and raw media uploads)."""
    files = ctx.store.files
    part = files.new_part(ctx.identity)
    limits = file_records.Limits(MAX_UPLOAD_BYTES, MAX_UPLOAD_BYTES, 0)
    try:
        with file_records.Receiver(part, hashlib.sha256(), 0, declared=None, limits=limits) as receiver:
            await file_upload.pump(pieces, receiver)
        mime = file_records.resolve_mime(metadata.get("mimeType"), mime_type, part, metadata.get("displayName"))
        operation = await run_in_threadpool(
            ctx.store.file_search_stores.add_document, ctx.identity, store_name, part, size=receiver.received,
            mime_type=mime, display_name=metadata.get("displayName"),
            custom_metadata=metadata.get("customMetadata"), chunking=metadata.get("chunkingConfig"),
            kind="upload")
    except ApiError:
        file_records.remove_quietly(part)
        await file_upload.drain(ctx)
        raise
    except ClientDisconnect:
        file_records.remove_quietly(part)
        return file_upload.disconnected()
    except BaseException:
        file_records.remove_quietly(part)
        raise
    return json_response(operation)


async def _multipart(ctx: Context, store_name: str) -> Response:
    """`uploadType=multipart`: the request metadata (JSON) then the document's bytes, in multipart/related."""
    content_type = file_upload.header(ctx, "content-type") or ""
    match = re.search(r'boundary="?([^";]+)"?', content_type)
    if not content_type.lower().startswith("multipart/") or not match:
        await file_upload.drain(ctx)
        raise invalid_argument("A multipart upload needs Content-Type: multipart/related; boundary=...",
                               "Content-Type")
    boundary = match.group(1).encode("latin-1")
    parts = MultipartReader(ctx.request.stream())
    limit = MultipartReader.HEADER_LIMIT
    try:
        await parts.until(b"--" + boundary, limit)
        await parts.until(b"\r\n", limit)
        first = part_headers(await parts.until(b"\r\n\r\n", limit))
        delimiter = b"\r\n--" + boundary
        first_body = await parts.until(delimiter, ctx.store.config["limits"]["requestBytes"])
        if "json" not in first.get("content-type", "application/json").lower():
            raise invalid_argument("A multipart upload to a File Search store starts with its JSON metadata part.")
        metadata = _metadata(first_body)
        if (await parts.until(b"\r\n", limit)).startswith(b"--"):
            raise invalid_argument("A multipart upload needs a media part after the metadata part.")
        media_headers = part_headers(await parts.until(b"\r\n\r\n", limit))
    except ApiError:
        await file_upload.drain(ctx)
        raise
    except ClientDisconnect:
        return file_upload.disconnected()

    async def media_pieces() -> AsyncIterator[bytes]:
        async for piece in parts.pieces_until(delimiter):
            yield piece
    return await _one_shot(ctx, store_name, metadata, media_pieces(), media_headers.get("content-type"))


async def metadata_only(ctx: Context) -> Response:
    """`POST /{version}/fileSearchStores/{id}:uploadToFileSearchStore` (the metadata URI)."""
    if file_upload.header(ctx, "x-goog-upload-protocol") or ctx.query("upload_id") or ctx.query("uploadType"):
        return await upload_to_store(ctx)
    ctx.store.file_search_stores.check_store(ctx.identity, f"fileSearchStores/{ctx.params['store']}")
    _metadata(await ctx.body())
    raise invalid_argument("uploadToFileSearchStore needs the document's bytes: send them to the upload URI "
                           "(/upload/v1beta/fileSearchStores/...:uploadToFileSearchStore).")


ROUTES = [
    route("POST", "fileSearchStores/{store}:uploadToFileSearchStore", upload_to_store, media="upload",
          auth=False, versions=VERSIONS),
    route("POST", "fileSearchStores/{store}:uploadToFileSearchStore", metadata_only, auth=False,
          versions=VERSIONS),
]


def register(store: Store) -> None:
    """No backend of its own: the documents go to file_search_stores' (registered there)."""
