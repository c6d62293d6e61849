"""The one path every generation takes, whether direct, streamed, batched, tuned or OpenAI-compatible.

It gathers what the engine needs from the project's resources (uploaded files, caches), lets the
control plane's rules script an answer, and hands the canonical request to the deterministic engine.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

from . import quotas
from .auth import Identity
from .generation import embeddings, engine
from .generation import file_search
from .generation.engine import MediaInfo
from .resources import file_search_stores, url_media

if TYPE_CHECKING:
    from .store import Store

Retrieve = Callable[[dict[str, Any], str, str], list[file_search.Retrieved]]


def _file_resolver(store: Store, identity: Identity, cached: dict[str, Any] | None,
                   request: dict[str, Any]) -> Callable[[str], MediaInfo]:
    """Resolves fileData URIs (url_media.resolver); those an explicit cache names are answered as they
    were when the cache was made."""
    known: dict[str, MediaInfo] = (cached or {}).get("media") or {}
    resolve_uri = url_media.resolver(store, identity, request)

    def resolve(uri: str) -> MediaInfo:
        if uri in known:
            return known[uri]
        return resolve_uri(uri)
    return resolve


def _cache_prefix(store: Store, identity: Identity, model: dict[str, Any],
                  request: dict[str, Any]) -> dict[str, Any] | None:
    name = request.get("cachedContent")
    if not name:
        return None
    return store.caches.prefix_for(identity, name, model, request)


_PREFIX_KEYS = ("contents", "systemInstruction", "tools", "toolConfig")


def _engine_prefix(cached: dict[str, Any] | None) -> dict[str, Any] | None:
    """The cache's prompt prefix as the engine takes it."""
    return None if cached is None else {key: cached[key] for key in _PREFIX_KEYS if key in cached}


def _override(store: Store, identity: Identity, model: dict[str, Any], request: dict[str, Any],
              method: str) -> dict[str, Any] | None:
    return store.rules.answer_for(identity, model, request, method)


def _retriever(store: Store, identity: Identity) -> Retrieve:
    """The File Search retrieval for this caller, as builtin_tools.run_tools calls it."""
    def retrieve(tool: dict[str, Any], where: str, query: str) -> list[file_search.Retrieved]:
        return file_search_stores.retrieve(store, identity, tool, query, where)
    return retrieve


def generate(store: Store, identity: Identity, model: dict[str, Any], request: dict[str, Any], *,
             override: dict[str, Any] | None = None, method: str = "generateContent") -> dict[str, Any]:
    cached = _cache_prefix(store, identity, model, request)
    override = override or _override(store, identity, model, request, method)
    resolve_file = _file_resolver(store, identity, cached, request)
    caches = store.caches
    # Implicit caching (usage only): a leading part this project sent within the window.
    probe = caches.implicit_lookup(identity, model, request, resolve_file) if cached is None else None
    response = engine.generate_content(model, request, seed=store.seed, resolve_file=resolve_file,
                                       cached=_engine_prefix(cached), override=override,
                                       implicit_cached_tokens=probe.tokens if probe else 0,
                                       retrieve=_retriever(store, identity),
                                       streamed=method == "streamGenerateContent")
    if probe is not None:
        caches.implicit_remember(probe)
    quotas.record(store, identity, model, response.get("usageMetadata"))   # the usage ledger
    status = store.models.lifecycle.status(model)
    if status:
        response["modelStatus"] = status
    return response


def stream(store: Store, identity: Identity, model: dict[str, Any], request: dict[str, Any], *,
           override: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    response = generate(store, identity, model, request, method="streamGenerateContent", override=override)
    chunks = engine.stream_chunks(response)
    for chunk in chunks if "modelStatus" in response else ():
        chunk["modelStatus"] = response["modelStatus"]
    return chunks


def count_tokens(store: Store, identity: Identity, model: dict[str, Any], request: dict[str, Any]) -> dict[str, Any]:
    inner = request.get("generateContentRequest") or {}
    cached = _cache_prefix(store, identity, model, inner) if inner else None
    _override(store, identity, model, request, "countTokens")   # only error and latency rules act here
    return engine.count_tokens(model, request, resolve_file=_file_resolver(store, identity, cached, request),
                               cached=_engine_prefix(cached))


def embed(store: Store, identity: Identity, model: dict[str, Any], request: dict[str, Any]) -> dict[str, Any]:
    _override(store, identity, model, request, "embedContent")   # only error and latency rules act here
    response = engine.embed_content(model, request)
    quotas.record(store, identity, model, quotas.embedding_usage([request]))
    return response


def batch_embed(store: Store, identity: Identity, model: dict[str, Any], request: dict[str, Any]) -> dict[str, Any]:
    _override(store, identity, model, request, "batchEmbedContents")
    response = engine.batch_embed_contents(model, request)
    usage = quotas.embedding_usage(request.get("requests") or [])
    quotas.record(store, identity, model, usage)
    return {**response, "usageMetadata": embeddings.usage_metadata(usage["promptTokenCount"])}


def last_user_text(request: dict[str, Any]) -> str | None:
    """The text of the last user turn of a GenerateContentRequest (its text parts joined)."""
    for content in reversed(request.get("contents") or []):
        if content.get("role", "user") == "user":
            texts = [part["text"] for part in content.get("parts") or [] if "text" in part]
            return "".join(texts) if texts else None
    return None
