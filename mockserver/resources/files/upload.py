"""Files: the upload protocols over HTTP (resumable, multipart, raw).
"""
from __future__ import annotations

import asyncio
import hashlib
import re
from typing import Any, AsyncIterator

from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect
from starlette.responses import Response

from ...errors import ApiError, invalid_argument, not_found
from ...http import Context, api_key, json_response, parse_json
from ...routing import ALL_VERSIONS
from ...schema import normalize

from ...multipart import MultipartReader, part_headers
from .records import CHUNK_GRANULARITY, Receiver, Upload, remove_quietly, upload_error
from .store import FileStore

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


def header(ctx: Context, name: str) -> str | None:
    value = ctx.request.headers.get(name)
    return value.strip() if value is not None else None


def int_header(ctx: Context, name: str) -> int | None:
    value = header(ctx, name)
    if value is None or value == "":
        return None
    if not value.isdigit():
        raise invalid_argument(f"Header {name} must be a non-negative integer, not {value!r}.", name)
    return int(value)


async def drain(ctx: Context) -> None:
    """Read and drop the rest of the body, so a client still sending gets the answer."""
    try:
        async for _ in ctx.request.stream():
            pass
    except ClientDisconnect:
        pass
    except RuntimeError:  # the stream was consumed already
        pass


HASH_BATCH = 2 * 1024 * 1024


async def pump(pieces: AsyncIterator[bytes], receiver: Receiver) -> None:
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


def disconnected() -> Response:
    return json_response(ApiError(499, "CANCELLED", "The client closed the connection.").envelope(), 499)


async def file_metadata(ctx: Context, raw: bytes) -> dict[str, Any]:
    """The `file` of a CreateFileRequest body (metadata of an upload or a metadata-only create)."""
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
        return await upload_chunk(ctx, upload_id)
    protocol = (header(ctx, "x-goog-upload-protocol") or ctx.query("uploadType")
                or ctx.query("upload_protocol") or "").lower()
    ctx.identity  # every upload form but the chunks needs a key
    if protocol == "resumable":
        return await _start(ctx)
    if protocol == "multipart":
        return await _multipart(ctx)
    return await _raw(ctx)


async def _start(ctx: Context) -> Response:
    command = (header(ctx, "x-goog-upload-command") or "start").lower()
    if command != "start":
        await drain(ctx)
        raise invalid_argument(f"A resumable upload begins with X-Goog-Upload-Command: start, not {command!r}.",
                               "X-Goog-Upload-Command")
    metadata = await file_metadata(ctx, await ctx.body())
    base = base_url(ctx)
    upload = ctx.store.files.start_upload(
        ctx.identity, metadata, declared=int_header(ctx, "x-goog-upload-header-content-length"),
        header_mime=header(ctx, "x-goog-upload-header-content-type"),
        file_hint=header(ctx, "x-goog-upload-file-name"), base_url=base)
    return upload_started(ctx, upload)


def upload_started(ctx: Context, upload: Upload) -> Response:
    """The answer to a resumable upload's start: where its chunks go (this very URL with the upload id)."""
    url = ctx.request.url
    upload_url = f"{url.scheme}://{url.netloc}{url.path}?upload_id={upload.id}&upload_protocol=resumable"
    return Response(b"", 200, headers={
        "X-Goog-Upload-URL": upload_url,
        "X-Goog-Upload-Control-URL": upload_url,
        "X-Goog-Upload-Status": "active",
        "X-Goog-Upload-Chunk-Granularity": str(CHUNK_GRANULARITY),
    })


async def upload_chunk(ctx: Context, upload_id: str) -> Response:
    files: FileStore = ctx.store.files
    try:
        upload = files.get_upload(upload_id)
    except ApiError:
        await drain(ctx)
        raise
    if api_key(ctx.request):
        # The upload URL is a capability (the seed's curl flow sends chunks to it without a key), but a
        # chunk that names another project's key is not its owner's: the same answer as an unknown id.
        try:
            foreign = ctx.identity.project != upload.project
        except ApiError:
            await drain(ctx)
            raise
        if foreign:
            await drain(ctx)
            raise upload_error(not_found(f"No upload with id {upload_id!r}: it was never started, was "
                                         f"cancelled, or was abandoned."), "final")
    ctx._identity = upload.identity   # the journal shows whose upload it was
    raw_command = header(ctx, "x-goog-upload-command") or "upload"
    commands = {c.strip().lower() for c in raw_command.split(",") if c.strip()}
    unknown = commands - {"upload", "finalize", "query", "cancel"}
    if unknown or not commands:
        await drain(ctx)
        raise upload_error(invalid_argument(f"Unknown X-Goog-Upload-Command {raw_command!r}.",
                                            "X-Goog-Upload-Command"), "active", upload.received)
    if "query" in commands:
        await drain(ctx)
        return _query_answer(files, upload)
    if "cancel" in commands:
        await drain(ctx)
        files.cancel_upload(upload)
        return Response(b"", 200, headers=_upload_headers("cancelled"))
    try:
        offset = int_header(ctx, "x-goog-upload-offset")
        if offset is None and "upload" in commands:
            raise invalid_argument("X-Goog-Upload-Offset is required with X-Goog-Upload-Command: upload.",
                                   "X-Goog-Upload-Offset")
        receiver = files.begin_chunk(upload, offset)
    except ApiError as error:
        await drain(ctx)
        if "X-Goog-Upload-Status" not in error.headers:
            upload_error(error, "active", upload.received)
        raise
    declared_length = int_header(ctx, "content-length")
    if upload.chunk_mime is None and upload.received == 0:
        upload.chunk_mime = header(ctx, "content-type")
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
            await pump(ctx.request.stream(), receiver)
    except ApiError as error:   # over a limit: the upload is cancelled, its bytes removed
        files.cancel_upload(upload)
        await drain(ctx)
        raise upload_error(error, "final") from None
    except ClientDisconnect:    # interrupted: keep what arrived, the client can query and resume
        files.end_chunk(upload, receiver)
        return disconnected()
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


async def _one_shot(ctx: Context, metadata: dict[str, Any], pieces: AsyncIterator[bytes],
                    mime_type: str | None) -> Response:
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
            await pump(pieces, receiver)
        if meta["sizeBytes"] is not None and receiver.received != meta["sizeBytes"]:
            raise invalid_argument(f"file.size_bytes is {meta['sizeBytes']} but {receiver.received} bytes "
                                   f"were sent.", "file.sizeBytes")
        file = await run_in_threadpool(
            files.store_bytes, ctx.identity, metadata, part, size=receiver.received,
            sha256_hex=hasher.hexdigest(), mime_type=mime_type, base_url=base_url(ctx))
    except ApiError:
        remove_quietly(part)
        await drain(ctx)
        raise
    except ClientDisconnect:
        remove_quietly(part)
        return disconnected()
    except BaseException:
        remove_quietly(part)
        raise
    return json_response({"file": file})


async def _raw(ctx: Context) -> Response:
    """`uploadType=media` (or no protocol): the body is the bytes, Content-Type their MIME type."""
    return await _one_shot(ctx, {}, ctx.request.stream(), header(ctx, "content-type"))


async def _multipart(ctx: Context) -> Response:
    """`uploadType=multipart`: a metadata part (JSON) then a media part, in multipart/related."""
    content_type = header(ctx, "content-type") or ""
    match = re.search(r'boundary="?([^";]+)"?', content_type)
    if not content_type.lower().startswith("multipart/") or not match:
        await drain(ctx)
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
            metadata = await file_metadata(ctx, first_body)
            closing = await parts.until(b"\r\n", MultipartReader.HEADER_LIMIT)
            if closing.startswith(b"--"):
                raise invalid_argument("A multipart upload needs a media part after the metadata part.")
            media_headers = part_headers(await parts.until(b"\r\n\r\n", MultipartReader.HEADER_LIMIT))

            async def media_pieces() -> AsyncIterator[bytes]:
                async for piece in parts.pieces_until(delimiter):
                    yield piece
        else:  # a media part alone
            metadata, media_headers = {}, first

            async def media_pieces() -> AsyncIterator[bytes]:
                yield first_body
    except ApiError:
        await drain(ctx)
        raise
    except ClientDisconnect:
        return disconnected()
    return await _one_shot(ctx, metadata, media_pieces(), media_headers.get("content-type"))
