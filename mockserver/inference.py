"""The one path every generation takes, whether direct, streamed, batched, tuned or OpenAI-compatible.

It gathers what the engine needs from the project's resources (uploaded files, caches), lets the
control plane's rules script an answer, and hands the canonical request to the deterministic engine.
"""
from __future__ import annotations

from .auth import Identity
from .errors import missing_resource
from .generation import engine
from .generation.engine import MediaInfo


def _file_resolver(store, identity: Identity):
    files = store.backends.get("files")

    def resolve(uri: str) -> MediaInfo:
        if files is None:
            raise missing_resource("File", uri)
        return files.media_info(identity, uri)
    return resolve


def _cache_prefix(store, identity: Identity, model: dict, request: dict) -> dict | None:
    name = request.get("cachedContent")
    if not name:
        return None
    caches = store.backends.get("caches")
    if caches is None:
        raise missing_resource("CachedContent", name)
    return caches.prefix_for(identity, name, model, request)


def _override(store, identity: Identity, model: dict, request: dict, method: str) -> dict | None:
    rules = store.backends.get("rules")
    return rules.answer_for(identity, model, request, method) if rules else None


def generate(store, identity: Identity, model: dict, request: dict, *, override: dict | None = None,
             method: str = "generateContent") -> dict:
    cached = _cache_prefix(store, identity, model, request)
    override = override or _override(store, identity, model, request, method)
    return engine.generate_content(model, request, seed=store.seed, resolve_file=_file_resolver(store, identity),
                                   cached=cached, override=override)


def stream(store, identity: Identity, model: dict, request: dict, **options) -> list[dict]:
    return engine.stream_chunks(generate(store, identity, model, request, method="streamGenerateContent",
                                         **options))


def count_tokens(store, identity: Identity, model: dict, request: dict) -> dict:
    inner = request.get("generateContentRequest") or {}
    cached = _cache_prefix(store, identity, model, inner) if inner else None
    return engine.count_tokens(model, request, resolve_file=_file_resolver(store, identity), cached=cached)


def embed(store, identity: Identity, model: dict, request: dict) -> dict:
    return engine.embed_content(model, request)


def batch_embed(store, identity: Identity, model: dict, request: dict) -> dict:
    return engine.batch_embed_contents(model, request)
