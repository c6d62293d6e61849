"""Files: the File resource over HTTP (create, list, get, delete, download) and the route table.
"""
from __future__ import annotations

import os
from typing import Any, BinaryIO, Iterator

from starlette.responses import Response, StreamingResponse

from ...http import Context, json_response
from ...routing import route
from ...wire import page_size, paginate

from .records import FileRecord
from .upload import base_url, file_metadata, header, upload_files


async def create_file(ctx: Context) -> Response:
    """`POST /{version}/files`: metadata only (CreateFileRequest -> CreateFileResponse)."""
    if header(ctx, "x-goog-upload-protocol") or ctx.query("upload_id"):
        return await upload_files(ctx)
    ctx.identity
    metadata = await file_metadata(ctx, await ctx.body())
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


def _read_pieces(handle: BinaryIO) -> Iterator[bytes]:
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
