"""Batch jobs over HTTP: create, get, list, cancel, delete, update, and the route table.
"""
from __future__ import annotations


from starlette.responses import Response

from ...http import Context, json_response, parse_json
from ...routing import route
from ...wire import page_size, parse_update_mask
from .job import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE

# -- handlers -------------------------------------------------------------------------------------------


def _name(ctx: Context) -> str:
    return f"batches/{ctx.params['batch']}"


async def _create(ctx: Context, collection: str, kind: str) -> Response:
    raw = await ctx.body()
    body = parse_json(raw)
    return json_response(ctx.store.batches.create(ctx.identity, f"{collection}/{ctx.params['model']}", body,
                                                  kind=kind, version=ctx.version, payload_bytes=len(raw)))


async def batch_generate_content(ctx: Context) -> Response:
    return await _create(ctx, "models", "generate")


async def async_batch_embed_content(ctx: Context) -> Response:
    return await _create(ctx, "models", "embed")


async def tuned_batch_generate_content(ctx: Context) -> Response:
    return await _create(ctx, "tunedModels", "generate")


async def tuned_async_batch_embed_content(ctx: Context) -> Response:
    return await _create(ctx, "tunedModels", "embed")


async def get_batch(ctx: Context) -> Response:
    return json_response(ctx.store.batches.get(ctx.identity, _name(ctx)))


async def list_batches(ctx: Context) -> Response:
    size = page_size(ctx.query("pageSize"), DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
    return json_response(ctx.store.batches.list(ctx.identity, size, ctx.query("pageToken")))


async def cancel_batch(ctx: Context) -> Response:
    await ctx.body()   # Python sends nothing, JS sends {}; either way there is nothing to read
    ctx.store.batches.cancel(ctx.identity, _name(ctx))
    return json_response({})


async def delete_batch(ctx: Context) -> Response:
    ctx.store.batches.delete(ctx.identity, _name(ctx))
    return json_response({})


async def _update(ctx: Context, kind: str) -> Response:
    body = parse_json(await ctx.body())
    mask = parse_update_mask(ctx.query("updateMask", ctx.query("update_mask")))
    return json_response(ctx.store.batches.update(ctx.identity, _name(ctx), body, mask, kind=kind,
                                                  version=ctx.version))


async def update_generate_content_batch(ctx: Context) -> Response:
    return await _update(ctx, "generate")


async def update_embed_content_batch(ctx: Context) -> Response:
    return await _update(ctx, "embed")


TUNED_VERSIONS = ("v1beta", "v1alpha")   # where tunedModels/* generate, as in tuned_models.py

ROUTES = [
    route("POST", "models/{model}:batchGenerateContent", batch_generate_content),
    route("POST", "models/{model}:asyncBatchEmbedContent", async_batch_embed_content),
    route("POST", "tunedModels/{model}:batchGenerateContent", tuned_batch_generate_content, versions=TUNED_VERSIONS),
    route("POST", "tunedModels/{model}:asyncBatchEmbedContent", tuned_async_batch_embed_content,
          versions=TUNED_VERSIONS),
    route("GET", "batches", list_batches),
    route("GET", "batches/{batch}", get_batch),
    route("DELETE", "batches/{batch}", delete_batch),
    route("POST", "batches/{batch}:cancel", cancel_batch),
    route("PATCH", "batches/{batch}:updateGenerateContentBatch", update_generate_content_batch),
    route("PATCH", "batches/{batch}:updateEmbedContentBatch", update_embed_content_batch),
    # The Batch API guide's curl examples send these as written there: `curl .../batches/x:cancel` and
    # `curl .../batches/x:delete` are GETs (no -X, no body).
    route("GET", "batches/{batch}:cancel", cancel_batch),
    route("GET", "batches/{batch}:delete", delete_batch),
    route("POST", "batches/{batch}:delete", delete_batch),
]
