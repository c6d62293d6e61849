"""`generatedFiles`: the files the service made on the caller's behalf, and the operations that made them.

The v1beta discovery document (../shared/reference/v1beta.methods.tsv: generatedFiles.list and
generatedFiles.operations.get; the GeneratedFile schema in the 2024-10-16 OpenAPI conversion) describes a
GeneratedFile as `{name: "generatedFiles/{id}", mimeType, state: GENERATING|GENERATED|FAILED, error}`.

In the emulator the files it generates (Veo videos, batch result files) live in the Files API with source
GENERATED; this view lists the same files under their `generatedFiles/` names, so nothing is stored twice.
A generated file's operation is the long-running operation that produced it: for a Veo video, the model
operation (media_generation.py) whose result names the file. A file that is absent or another project's is
the usual 403; an operation that did not make the file is a 404.
"""
from __future__ import annotations

from starlette.responses import Response
from typing import TYPE_CHECKING, Any

from ..auth import Identity
from ..errors import ApiError, missing_resource, not_found
from ..http import Context, json_response
from ..routing import route
from ..wire import page_size, paginate
from .files import GENERATED, base_url

if TYPE_CHECKING:
    from ..store import Store

KIND = "GeneratedFile"
DEFAULT_PAGE, MAX_PAGE = 10, 100
STATES = {"ACTIVE": "GENERATED", "PROCESSING": "GENERATING", "FAILED": "FAILED"}


def render(file: dict[str, Any]) -> dict[str, Any]:
    """A File (source GENERATED) as its GeneratedFile."""
    body = {"name": f"generatedFiles/{file['name'].split('/', 1)[1]}", "mimeType": file["mimeType"],
            "state": STATES.get(file["state"], "STATE_UNSPECIFIED")}
    if "error" in file:
        body["error"] = file["error"]
    return body


def list_generated(store: Store, identity: Identity, size: int, token: str | None) -> dict[str, Any]:
    files = [f for f in store.files.list_files(identity) if f.get("source") == GENERATED]
    page, following = paginate([render(f) for f in files], size, token)
    body: dict[str, Any] = {"generatedFiles": page}
    if following:
        body["nextPageToken"] = following
    return body


def get_operation(store: Store, identity: Identity, file_id: str, op_id: str, base: str) -> dict[str, Any]:
    try:
        record = store.files.record_of(identity, file_id)
    except ApiError:   # the files backend's own 403 names a File; this resource is a GeneratedFile
        raise missing_resource(KIND, f"generatedFiles/{file_id}") from None
    if record.source != GENERATED:
        raise missing_resource(KIND, f"generatedFiles/{file_id}")
    operation = store.video_operations.made_file(identity, file_id, op_id)
    if operation is None:
        raise not_found(f"Operation generatedFiles/{file_id}/operations/{op_id} not found.")
    model_id = operation.model.split("/", 1)[1]
    return store.video_operations.get(identity, model_id, op_id, base)


# -- HTTP skin --------------------------------------------------------------------------------------

async def list_files(ctx: Context) -> Response:
    size = page_size(ctx.query("pageSize"), DEFAULT_PAGE, MAX_PAGE)
    return json_response(await ctx.work(list_generated, ctx.store, ctx.identity, size, ctx.query("pageToken")))


async def get_file_operation(ctx: Context) -> Response:
    return json_response(await ctx.work(get_operation, ctx.store, ctx.identity, ctx.params["file"],
                                        ctx.params["operation"], base_url(ctx)))


def register(store: Store) -> None:
    """No state of its own: the files and operations backends hold it."""


ROUTES = [
    route("GET", "generatedFiles", list_files),
    route("GET", "generatedFiles/{file}/operations/{operation}", get_file_operation),
]
