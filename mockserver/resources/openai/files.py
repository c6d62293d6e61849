"""Files: uploads as multipart/form-data, listed and read as OpenAI file objects."""
from __future__ import annotations

import hashlib
import re
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect
from starlette.responses import Response

from ...errors import ApiError, invalid_argument
from ...http import Context, json_response
from ...multipart import MultipartReader, part_headers
from .. import files as native_files
from .wire import cursor_page, epoch_seconds, native_file_name

FIELD_LIMIT = 64 * 1024            # a non-file field of a multipart upload


def file_object(file: dict[str, Any], purpose: str) -> dict[str, Any]:
    status = {"ACTIVE": "processed", "FAILED": "error"}.get(file.get("state", ""), "uploaded")
    body = {"id": file["name"], "object": "file", "bytes": int(file.get("sizeBytes") or 0),
            "created_at": epoch_seconds(file.get("createTime")),
            "filename": file.get("displayName") or file["name"].split("/", 1)[-1],
            "purpose": purpose, "status": status, "expires_at": epoch_seconds(file.get("expirationTime"))}
    if file.get("error"):
        body["status_details"] = file["error"].get("message")
    return body


# -- handlers: files --------------------------------------------------------------------------------


def _disposition(headers: dict[str, str]) -> tuple[str | None, str | None]:
    """(name, filename) of a multipart part's Content-Disposition."""
    value = headers.get("content-disposition", "")
    found = dict(re.findall(r';\s*([\w*]+)="?([^";]*)"?', value))
    return found.get("name"), found.get("filename")


def _upload_mime(declared: str | None, filename: str | None) -> str | None:
    if filename and filename.lower().endswith(".jsonl"):
        return "application/jsonl"
    if declared and declared.split(";", 1)[0].strip().lower() not in ("application/octet-stream", ""):
        return declared
    return None


async def _receive_form(ctx: Context) -> tuple[dict[str, str], dict[str, Any] | None]:
    """Read a multipart/form-data upload: its text fields, and its `file` part received to disk
    (`{"path", "size", "sha256", "filename", "mime"}`), without holding the file in memory."""
    content_type = ctx.request.headers.get("content-type", "")
    match = re.search(r'boundary="?([^";]+)"?', content_type)
    if not content_type.lower().startswith("multipart/form-data") or not match:
        raise invalid_argument("files.create takes multipart/form-data with the fields purpose and file.", "file")
    boundary = match.group(1).encode("latin-1")
    files = ctx.store.files
    parts = MultipartReader(ctx.request.stream())
    limit = MultipartReader.HEADER_LIMIT
    delimiter = b"\r\n--" + boundary
    fields: dict[str, str] = {}
    upload: dict[str, Any] | None = None
    try:
        await parts.until(b"--" + boundary, limit)
        while True:
            tail = await parts.until(b"\r\n", limit)
            if tail.startswith(b"--"):
                break
            headers = part_headers(await parts.until(b"\r\n\r\n", limit))
            name, filename = _disposition(headers)
            if filename is None:
                fields[name or ""] = (await parts.until(delimiter, FIELD_LIMIT)).decode("utf-8", "replace")
                continue
            if name != "file" or upload is not None:
                raise invalid_argument("files.create takes exactly one file, in the field named file.", "file")
            path = files.new_part(ctx.identity)
            upload = {"path": path, "filename": filename, "mime": headers.get("content-type")}
            hasher = hashlib.sha256()
            with native_files.Receiver(path, hasher, 0, declared=None,
                                       limits=files.limits(ctx.project)) as receiver:
                async for piece in parts.pieces_until(delimiter):
                    receiver.write(piece)
            upload.update(size=receiver.received, sha256=hasher.hexdigest())
    except (ApiError, ClientDisconnect):
        if upload is not None:
            upload["path"].unlink(missing_ok=True)
        raise
    return fields, upload


async def create_file(ctx: Context) -> Response:
    fields, upload = await _receive_form(ctx)
    try:
        purpose = fields.get("purpose")
        if not purpose:
            raise invalid_argument("purpose is required (for a batch input file: purpose=batch).", "purpose")
        if upload is None:
            raise invalid_argument("file is required.", "file")
        metadata = {"displayName": upload["filename"]} if upload["filename"] else {}
        file = await run_in_threadpool(
            ctx.store.files.store_bytes, ctx.identity, metadata, upload["path"], size=upload["size"],
            sha256_hex=upload["sha256"], mime_type=_upload_mime(upload["mime"], upload["filename"]),
            base_url=native_files.base_url(ctx))
    except BaseException:
        if upload is not None:
            upload["path"].unlink(missing_ok=True)
        raise
    ctx.store.openai.set_purpose(ctx.project, file["name"], purpose)
    return json_response(file_object(file, purpose))


async def list_files(ctx: Context) -> Response:
    project, layer = ctx.project, ctx.store.openai
    items = [file_object(f, layer.purpose_of(project, f)) for f in ctx.store.files.list_files(ctx.identity)]
    purpose = ctx.query("purpose")
    if purpose:
        items = [item for item in items if item["purpose"] == purpose]
    if ctx.query("order") == "asc":
        items.reverse()
    return json_response(cursor_page(ctx, items))


async def get_file(ctx: Context) -> Response:
    file = ctx.store.files.get_file(ctx.identity, native_file_name(ctx.params["id"]), native_files.base_url(ctx))
    return json_response(file_object(file, ctx.store.openai.purpose_of(ctx.project, file)))


async def delete_file(ctx: Context) -> Response:
    name = native_file_name(ctx.params["id"])
    ctx.store.files.delete_file(ctx.identity, name)
    ctx.store.openai.forget_file(ctx.project, name)
    return json_response({"id": name, "object": "file", "deleted": True})


async def file_content(ctx: Context) -> Response:
    """The bytes of a file, under the native API's rule for which files can be downloaded."""
    record = ctx.store.files.downloadable(ctx.identity, native_file_name(ctx.params["id"]), "file_id")
    return native_files.bytes_response(record)
