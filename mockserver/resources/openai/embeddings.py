"""Embeddings and models: OpenAI requests answered by the native embedding path and the catalog."""
from __future__ import annotations

import base64
import struct
from typing import Any

from starlette.responses import Response

from ... import inference
from ...errors import ApiError, invalid_argument
from ...generation.tokens import count_text
from ...http import Context, json_response
from .errors import expect_integer, expect_object, json_body, unknown_field
from .wire import native_model_name

MAX_EMBEDDING_INPUTS = 2048
EMBEDDINGS_ENDPOINT = "/v1/embeddings"


def embedding_inputs(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        if len(value) > MAX_EMBEDDING_INPUTS:
            raise invalid_argument(f"input can hold at most {MAX_EMBEDDING_INPUTS} texts, got {len(value)}.", "input")
        return value
    if isinstance(value, list) and value and all(isinstance(v, (int, list)) for v in value):
        raise invalid_argument("input as token arrays is not supported; send text.", "input")
    raise invalid_argument("input must be a string or a non-empty list of strings.", "input")


def embedding_requests(body: dict[str, Any], model_name: str) -> tuple[list[dict[str, Any]], str]:
    """(native EmbedContentRequests, one per input, and the encoding format) of an embeddings request."""
    for key in body:
        if key not in ("model", "input", "dimensions", "encoding_format", "user", "extra_body"):
            raise unknown_field(key)
    texts = embedding_inputs(body.get("input"))
    encoding = body.get("encoding_format") or "float"
    if encoding not in ("float", "base64"):
        raise invalid_argument(f"encoding_format must be float or base64, not {encoding!r}.", "encoding_format")
    requests = []
    for text in texts:
        item: dict[str, Any] = {"model": model_name, "content": {"parts": [{"text": text}]}}
        if body.get("dimensions") is not None:
            item["outputDimensionality"] = expect_integer(body["dimensions"], "dimensions", 1)
        requests.append(item)
    return requests, encoding


def embedding_batch_request(body: Any) -> tuple[str, dict[str, Any], str, int]:
    """(the model as named, the native EmbedContentRequest, encoding_format, prompt tokens) of the body of an
    embeddings batch line. A line embeds one text: a native batch line is one EmbedContentRequest."""
    body = expect_object(body, "body")
    model = body.get("model")
    if not isinstance(model, str) or not model.strip():
        raise invalid_argument("model is required (for example \"gemini-embedding-001\").", "model")
    requests, encoding = embedding_requests(body, native_model_name(model.strip()))
    if len(requests) != 1:
        raise invalid_argument(f"input holds {len(requests)} texts; a batch line embeds one text.", "input")
    return model.strip(), requests[0], encoding, count_text(requests[0]["content"]["parts"][0]["text"])


def encode_vector(values: list[float], encoding: str) -> list[float] | str:
    if encoding == "base64":
        return base64.b64encode(struct.pack(f"<{len(values)}f", *values)).decode("ascii")
    return values


def embedding_response(vectors: list[list[float]], tokens: int, model: str, encoding: str) -> dict[str, Any]:
    data = [{"object": "embedding", "index": i, "embedding": encode_vector(values, encoding)}
            for i, values in enumerate(vectors)]
    return {"object": "list", "data": data, "model": model,
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens}}


# -- models, files and batches as OpenAI objects (pure) ---------------------------------------------


def model_object(model: dict[str, Any]) -> dict[str, Any]:
    return {"id": model["name"], "object": "model", "owned_by": "google"}


async def embeddings(ctx: Context) -> Response:
    body = await json_body(ctx)
    name = body.get("model")
    if not isinstance(name, str) or not name.strip():
        raise invalid_argument("model is required (for example \"gemini-embedding-001\").", "model")
    model = ctx.store.models.get(name.strip(), "embedContent", ctx.version)
    requests, encoding = embedding_requests(body, model["name"])
    vectors = [inference.embed(ctx.store, ctx.identity, model, request)["embedding"]["values"]
               for request in requests]
    tokens = sum(count_text(request["content"]["parts"][0]["text"]) for request in requests)
    return json_response(embedding_response(vectors, tokens, name.strip(), encoding))


def _listed(ctx: Context, model: dict[str, Any]) -> bool:
    return not ctx.store.models.is_legacy(model)


async def list_models(ctx: Context) -> Response:
    data = [model_object(m) for m in ctx.store.models.all() if _listed(ctx, m)]
    return json_response({"object": "list", "data": data})


async def get_model(ctx: Context) -> Response:
    name = ctx.params["id"]
    model = ctx.store.models.find(name)
    if model is None or not _listed(ctx, model):
        shown = name if name.startswith("models/") else f"models/{name}"
        raise ApiError(404, "NOT_FOUND", f"Model {shown} is not found.")
    return json_response(model_object(model))
