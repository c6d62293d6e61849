"""The one path every generation takes, whether direct, streamed, batched, tuned or OpenAI-compatible.

It gathers what the engine needs from the project's resources (uploaded files, caches), lets the
control plane's rules script an answer, and hands the canonical request to the deterministic engine.
"""
from __future__ import annotations

from . import quotas
from .auth import Identity
from .generation import engine
from .generation.engine import MediaInfo
from .resources import file_search_stores, url_media


def _file_resolver(store, identity: Identity, cached: dict | None, request: dict):
    """Resolves fileData URIs (url_media.resolver); those an explicit cache names are answered as they
    were when the cache was made."""
    known = (cached or {}).get("media") or {}
    resolve_uri = url_media.resolver(store, identity, request)

    def resolve(uri: str) -> MediaInfo:
        if uri in known:
            return known[uri]
        return resolve_uri(uri)
    return resolve


def _cache_prefix(store, identity: Identity, model: dict, request: dict) -> dict | None:
    name = request.get("cachedContent")
    if not name:
        return None
    return store.caches.prefix_for(identity, name, model, request)


_PREFIX_KEYS = ("contents", "systemInstruction", "tools", "toolConfig")


def _engine_prefix(cached: dict | None) -> dict | None:
    """The cache's prompt prefix as the engine takes it."""
    return None if cached is None else {key: cached[key] for key in _PREFIX_KEYS if key in cached}


def _override(store, identity: Identity, model: dict, request: dict, method: str) -> dict | None:
    return store.rules.answer_for(identity, model, request, method)


def _retriever(store, identity: Identity):
    """The File Search retrieval for this caller, as builtin_tools.run_tools calls it."""
    def retrieve(tool: dict, where: str, query: str):
        return file_search_stores.retrieve(store, identity, tool, query, where)
    return retrieve


def generate(store, identity: Identity, model: dict, request: dict, *, override: dict | None = None,
             method: str = "generateContent") -> dict:
    cached = _cache_prefix(store, identity, model, request)
    override = override or _override(store, identity, model, request, method)
    resolve_file = _file_resolver(store, identity, cached, request)
    caches = store.caches
    # Implicit caching (usage only): a leading part this project sent within the window.
    probe = caches.implicit_lookup(identity, model, request, resolve_file) if cached is None else None
    response = engine.generate_content(model, request, seed=store.seed, resolve_file=resolve_file,
                                       cached=_engine_prefix(cached), override=override,
                                       implicit_cached_tokens=probe.tokens if probe else 0,
                                       retrieve=_retriever(store, identity))
    if probe is not None:
        caches.implicit_remember(probe)
    quotas.record(store, identity, model, response.get("usageMetadata"))   # the usage ledger
    status = store.models.lifecycle.status(model)
    if status:
        response["modelStatus"] = status
    return response


def stream(store, identity: Identity, model: dict, request: dict, **options) -> list[dict]:
    response = generate(store, identity, model, request, method="streamGenerateContent", **options)
    chunks = engine.stream_chunks(response)
    for chunk in chunks if "modelStatus" in response else ():
        chunk["modelStatus"] = response["modelStatus"]
    return chunks


def count_tokens(store, identity: Identity, model: dict, request: dict) -> dict:
    inner = request.get("generateContentRequest") or {}
    cached = _cache_prefix(store, identity, model, inner) if inner else None
    _override(store, identity, model, request, "countTokens")   # only error and latency rules act here
    return engine.count_tokens(model, request, resolve_file=_file_resolver(store, identity, cached, request),
                               cached=_engine_prefix(cached))


def embed(store, identity: Identity, model: dict, request: dict) -> dict:
    _override(store, identity, model, request, "embedContent")   # only error and latency rules act here
    response = engine.embed_content(model, request)
    quotas.record(store, identity, model, quotas.embedding_usage([request]))
    return response


def batch_embed(store, identity: Identity, model: dict, request: dict) -> dict:
    _override(store, identity, model, request, "batchEmbedContents")
    response = engine.batch_embed_contents(model, request)
    quotas.record(store, identity, model, quotas.embedding_usage(request.get("requests") or []))
    return response


def last_user_text(request: dict) -> str | None:
    """The text of the last user turn of a GenerateContentRequest (its text parts joined)."""
    for content in reversed(request.get("contents") or []):
        if content.get("role", "user") == "user":
            texts = [part["text"] for part in content.get("parts") or [] if "text" in part]
            return "".join(texts) if texts else None
    return None
