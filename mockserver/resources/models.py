"""The model catalog and the generation methods of `models/{model}`."""
from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from starlette.responses import Response

from .. import inference
from ..call import current_call
from ..errors import ApiError, invalid_argument
from ..http import Context, EventStream, dumps, json_response
from ..paths import FIXTURES
from ..routing import ALL_VERSIONS, EMBED, GENERATE, route
from ..wire import paginate, page_size
from .lifecycle import Lifecycles
from .logs import log_call

if TYPE_CHECKING:
    from ..store import Store

CATALOG = FIXTURES / "models.json"


def not_found(name: str, method: str | None, version: str) -> ApiError:
    """The real API's 404 for a model it does not have (or no longer has)."""
    shown = name if name.startswith("models/") else f"models/{name}"
    return ApiError(404, "NOT_FOUND",
                    f"{shown} is not found for API version {version}, or is not supported for "
                    f"{method or 'get'}. Call ListModels to see the list of available models and "
                    f"their supported methods.")


class Catalog:
    """The base models, read once from fixtures/models.json (or `serve --catalog FILE`). Immutable: reset has
    nothing to do. Which models are retired follows the clock and the config (see lifecycle.py)."""

    def __init__(self, path: Path | str | None = None, store: Store | None = None) -> None:
        self._store = store
        self._path = str(path or "")
        self._loaded = {m["name"]: m for m in load_catalog(path)}
        self.lifecycle = Lifecycles(now=store.now if store else _real_now,
                                    mode=(lambda: store.config["models"]["retired"]) if store else (lambda: "serve"))

    @property
    def _models(self) -> dict[str, dict[str, Any]]:
        """The catalog file the config names (`models.catalog`; empty: the shipped one), reloaded on change."""
        wanted = str(self._store.config["models"]["catalog"]) if self._store else self._path
        if wanted != self._path:
            self._loaded, self._path = {m["name"]: m for m in load_catalog(wanted)}, wanted
        return self._loaded

    def reset(self) -> None:
        pass

    def all(self) -> list[dict[str, Any]]:
        """The models the API lists (without the ones the real service has shut down, when refusing them)."""
        return [m for m in self._models.values() if not self.lifecycle.hidden(m)]

    def find(self, name: str) -> dict[str, Any] | None:
        if not name.startswith("models/"):
            name = f"models/{name}"
        return self._models.get(name)

    def get(self, name: str, method: str | None = None, version: str = "v1beta") -> dict[str, Any]:
        """The model, or the real API's 404; with `method`, a 400 if the model does not offer it."""
        model = self.find(name)
        if model is None:
            raise not_found(name, method, version)
        if self.lifecycle.retired(model):
            routed = (model.get("emulator") or {}).get("lifecycle", {}).get("routedTo")
            if not self.lifecycle.refusing():
                self.lifecycle.served(model)
            elif method and routed and self.find(routed) is not None:
                model = self.get(routed, method, version)   # the real service answers with the successor
            else:
                raise not_found(name, method, version)
        if method and method not in model["supportedGenerationMethods"]:
            raise invalid_argument(
                f"{model['name']} does not support {method}. Its methods are: "
                f"{', '.join(model['supportedGenerationMethods'])}.", "model")
        return model

    @staticmethod
    def public(model: dict[str, Any]) -> dict[str, Any]:
        """The Model resource as the wire shows it (without the emulator's own facts)."""
        return {k: v for k, v in model.items() if k != "emulator"}

    def is_legacy(self, model: dict[str, Any]) -> bool:
        return bool(model.get("emulator", {}).get("legacy"))


def _real_now() -> float:
    from ..clock import Clock
    return Clock().now()


def register(store: Store) -> None:
    store.register("models", Catalog(store.config["models"]["catalog"], store))


def load_catalog(path: Path | str | None) -> list[dict[str, Any]]:
    """The models of a catalog file (`{"models": [...]}`, as models.list answers or `catalog record` writes)."""
    models = json.loads(Path(path or CATALOG).read_text(encoding="utf-8"))["models"]
    if not isinstance(models, list) or not all(isinstance(m, dict) and m.get("name") for m in models):
        raise ValueError(f"{path}: not a model catalog (a 'models' list of Model objects with names)")
    return models


# -- handlers -----------------------------------------------------------------------------------------

def _listed(ctx: Context) -> list[dict[str, Any]]:
    """The models ListModels shows. The Gemini versions list the Gemini models. v1beta3 lists every model
    its get serves (the reference: a get name "should match a model name returned by the ListModels
    method"), the legacy PaLM models first, each with the fields v1beta3 has."""
    catalog = ctx.store.models
    if ctx.version != "v1beta3":
        return [catalog.public(m) for m in catalog.all() if not catalog.is_legacy(m)]
    ordered = sorted(catalog.all(), key=lambda m: not catalog.is_legacy(m))   # stable: catalog order kept
    return [_v1beta3_view(catalog.public(m)) for m in ordered]


def _v1beta3_view(model: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in model.items() if k in _v1beta3_model_fields()}


async def list_models(ctx: Context) -> Response:
    ctx.identity  # listing needs a key, like every API method
    models = _listed(ctx)
    page, token = paginate(models, page_size(ctx.query("pageSize"), 50, 1000), ctx.query("pageToken"))
    body: dict[str, Any] = {"models": page}
    if token:
        body["nextPageToken"] = token
    return json_response(body)


async def get_model(ctx: Context) -> Response:
    ctx.identity
    found = ctx.store.models.get(ctx.params["model"], version=ctx.version)
    model = ctx.store.models.public(found)
    if ctx.version == "v1beta3":   # a Gemini model asked for on v1beta3: the fields that version has
        model = _v1beta3_view(model)
    response = json_response(model)
    response.headers.update(ctx.store.models.lifecycle.headers(found))
    return response


def _v1beta3_model_fields() -> frozenset[str]:
    global _V1BETA3_FIELDS
    if _V1BETA3_FIELDS is None:
        from ..schema import json_schema
        _V1BETA3_FIELDS = frozenset(json_schema("v1beta3", "Model")["$defs"]["Model"]["properties"])
    return _V1BETA3_FIELDS


_V1BETA3_FIELDS: frozenset[str] | None = None


async def generate_content(ctx: Context) -> Response:
    with log_call(ctx, "generateContent") as exchange:   # a log, when the project turned logging on
        exchange.request = request = await ctx.json("GenerateContentRequest")
        model = ctx.store.models.get(ctx.params["model"], "generateContent", ctx.version)
        tier = ctx.store.service_tiers.serve(current_call(), request.get("serviceTier"))
        exchange.response = await ctx.work(inference.generate, ctx.store, ctx.identity, model, request)
    return _tier_header(ctx, json_response(exchange.response), tier)


async def stream_generate_content(ctx: Context) -> Response:
    with log_call(ctx, "streamGenerateContent") as exchange:
        exchange.request = request = await ctx.json("GenerateContentRequest")
        model = ctx.store.models.get(ctx.params["model"], "generateContent", ctx.version)
        tier = ctx.store.service_tiers.serve(current_call(), request.get("serviceTier"))
        exchange.response = await ctx.work(inference.stream, ctx.store, ctx.identity, model, request)
    return _tier_header(ctx, stream_response(ctx, exchange.response), tier)


def _tier_header(ctx: Context, response: Response, tier: str | None) -> Response:
    """The tier that served a call naming one (service_tiers.py); other answers are left as they were."""
    if tier is not None:
        response.headers[ctx.store.service_tiers.header] = tier
    return response


def stream_response(ctx: Context, chunks: list[dict[str, Any]]) -> Response:
    """SSE (`alt=sse`): `data: <json>\\r\\n\\r\\n` per chunk, the framing both SDKs accept.
    Without it, a JSON array of the same chunks, as the real API answers."""
    if ctx.query("alt") == "sse":
        return EventStream([b"data: " + dumps(chunk) + b"\r\n\r\n" for chunk in chunks])
    return Response(b"[" + b",\r\n".join(dumps(c) for c in chunks) + b"]",
                    media_type="application/json; charset=UTF-8")


async def count_tokens(ctx: Context) -> Response:
    request = await ctx.json("CountTokensRequest")
    model = ctx.store.models.get(ctx.params["model"], "countTokens", ctx.version)
    return json_response(await ctx.work(inference.count_tokens, ctx.store, ctx.identity, model, request))


async def embed_content(ctx: Context) -> Response:
    request = await ctx.json("EmbedContentRequest")
    model = ctx.store.models.get(ctx.params["model"], "embedContent", ctx.version)
    return json_response(await ctx.work(inference.embed, ctx.store, ctx.identity, model, request))


async def batch_embed_contents(ctx: Context) -> Response:
    request = await ctx.json("BatchEmbedContentsRequest")
    model = ctx.store.models.get(ctx.params["model"], "embedContent", ctx.version)
    return json_response(await ctx.work(inference.batch_embed, ctx.store, ctx.identity, model, request))


ROUTES = [
    route("GET", "models", list_models, versions=ALL_VERSIONS),
    route("GET", "models/{model}", get_model, versions=ALL_VERSIONS),
    route("POST", "models/{model}:generateContent", generate_content, runs=GENERATE),
    route("POST", "models/{model}:streamGenerateContent", stream_generate_content, runs=GENERATE),
    route("POST", "models/{model}:countTokens", count_tokens),
    route("POST", "models/{model}:embedContent", embed_content, runs=EMBED),
    route("POST", "models/{model}:batchEmbedContents", batch_embed_contents, runs=EMBED),
]
