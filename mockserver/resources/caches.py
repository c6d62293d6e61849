"""Context caching: explicit `cachedContents/{id}` with their TTLs, and the implicit prefix cache.

Explicit caches hold a prompt prefix (contents, system instruction, tools, tool config) for one model and
one project until their `expireTime`, read from the clock when asked: a cache is visible exactly while
`now < expireTime` and it has not been deleted. Expired, deleted and other projects' caches all answer
the same 403, so a caller learns nothing about caches that are not its own. Get and list never return
the cached contents, only the metadata.

Implicit caching (Gemini 2.5 models) remembers, per project, fingerprints of the leading part of recent
prompts at content boundaries; a later prompt that repeats one of them within `cache.implicitWindowSeconds`
reports the longest such prefix as cached tokens, when it reaches the model's implicit minimum.
"""
from __future__ import annotations

import hashlib
import re
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

from starlette.responses import Response

from ..auth import Identity
from ..errors import ApiError, invalid_argument
from ..generation.counting import Counts, canonical_json, count_content, count_tools, count_contents
from ..http import Context, json_response
from ..generation.media import MediaInfo
from ..persistence import build, fields_of
from ..routing import route
from ..timeline import Timeline
from . import url_media
from ..wire import format_time, paginate, page_size, parse_duration, parse_time

if TYPE_CHECKING:
    from ..store import Store

PREFIX = "cachedContents/"
NOT_FOUND_MESSAGE = "CachedContent not found (or permission denied)"

# Fields a create may set; a patch may only move the expiry.
CREATE_FIELDS = ("model", "displayName", "contents", "systemInstruction", "tools", "toolConfig", "ttl",
                 "expireTime")
OUTPUT_FIELDS = ("name", "createTime", "updateTime", "usageMetadata")
LIVE = "LIVE"
UPDATABLE = {"ttl": "ttl", "expireTime": "expireTime", "expire_time": "expireTime"}
# Request fields that belong in the cache and may not be set beside `cachedContent`.
CACHE_ONLY_FIELDS = ("systemInstruction", "tools", "toolConfig")

# Expired caches are kept this long (a clock moved back sees them again), then dropped for good.
EXPIRED_KEEP_SECONDS = 24 * 3600.0
# The latest instant a timestamp can name (9999-12-31T23:59:59Z).
MAX_EPOCH = 253402300799.0
# Implicit cache: fingerprints remembered per project (least recently seen dropped first).
IMPLICIT_ENTRIES_PER_PROJECT = 2048

ResolveFile = Callable[[str], MediaInfo]
# (fingerprint, tokens so far) at the content boundaries of a prompt
Boundaries = list[tuple[str, int]]


def _text_tokens_bound(request: dict[str, Any]) -> int | None:
    """At least the prompt's token count when it is text parts only, and no tools: the characters of its
    texts (every token spans a character or more, tokens.py). None for any other prompt."""
    if request.get("tools"):
        return None
    turns = list(request.get("contents") or ())
    if request.get("systemInstruction"):
        turns.append(request["systemInstruction"])
    chars = 0
    for turn in turns:
        if not isinstance(turn, dict):
            return None
        for part in turn.get("parts") or ():
            if not isinstance(part, dict) or part.keys() != {"text"} or not isinstance(part["text"], str):
                return None
            chars += len(part["text"])
    return chars


@dataclass
class CachedContent:
    project: str
    id: str
    model: str
    display_name: str
    contents: list[Any]
    system_instruction: dict[str, Any] | None
    tools: list[Any] | None
    tool_config: dict[str, Any] | None
    create_time: float
    update_time: float
    expire_time: float
    counts: Counts = field(default_factory=Counts)
    media: dict[str, MediaInfo] = field(default_factory=dict)   # fileUri -> MediaInfo, resolved at create time

    @property
    def name(self) -> str:
        return PREFIX + self.id

    @property
    def total_tokens(self) -> int:
        return self.counts.total

    def timeline(self) -> Timeline:
        """One state all its life (LIVE: the emulator's name, CachedContent has no state field) until it
        expires at `expire_time`."""
        return Timeline(LIVE, expires=self.expire_time)

    def alive(self, now: float) -> bool:
        return not self.timeline().expired(now)

    def resource(self) -> dict[str, Any]:
        """The CachedContent as get and list show it: metadata only, never the contents."""
        body: dict[str, Any] = {"name": self.name, "model": self.model}
        if self.display_name:
            body["displayName"] = self.display_name
        body.update({
            "createTime": format_time(self.create_time),
            "updateTime": format_time(self.update_time),
            "expireTime": format_time(self.expire_time),
            "usageMetadata": {"totalTokenCount": self.total_tokens},
        })
        return body

    def prefix(self) -> dict[str, Any]:
        """The prompt prefix in the shape the generation engine takes as `cached=`, plus `media`: what
        each file the cache names was worth when the cache was made (the cache keeps its tokens even if
        the file goes away afterwards)."""
        prefix = {"contents": self.contents, "media": dict(self.media)}
        if self.system_instruction is not None:
            prefix["systemInstruction"] = self.system_instruction
        if self.tools is not None:
            prefix["tools"] = self.tools
        if self.tool_config is not None:
            prefix["toolConfig"] = self.tool_config
        return prefix


@dataclass
class ImplicitProbe:
    """What `implicit_lookup` found: the cached tokens and the request's boundaries to remember."""
    project: str
    tokens: int = 0
    boundaries: Boundaries = field(default_factory=list)


def cache_id(name: object) -> str:
    """The id in `cachedContents/{id}` (a bare id is taken as well)."""
    text = name if isinstance(name, str) else ""
    if text.startswith(PREFIX):
        text = text[len(PREFIX):]
    return text


def _snake(name: str) -> str:
    return re.sub(r"([A-Z])", lambda m: "_" + m.group(1).lower(), name)


def _not_updatable(path: str, field_name: str) -> ApiError:
    return invalid_argument(f"Field '{_snake(path)}' cannot be updated: only ttl and expire_time can be changed "
                            f"on a CachedContent.", field_name)


def not_found() -> ApiError:
    return ApiError(403, "PERMISSION_DENIED", NOT_FOUND_MESSAGE)


class ContextCaches:
    """Every project's explicit caches and implicit-cache memory."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._caches: dict[tuple[str, str], CachedContent] = {}
        self._implicit: dict[str, OrderedDict[str, tuple[int, float]]] = {}

    def reset(self) -> None:
        with self._store.lock:
            self._caches.clear()
            self._implicit.clear()

    # -- helpers -----------------------------------------------------------------------------------------
    def _now(self) -> float:
        return self._store.now()

    def _resolver(self, identity: Identity, body: dict[str, Any] | None) -> ResolveFile:
        return url_media.resolver(self._store, identity, body)

    def _find(self, identity: Identity, name: object) -> CachedContent:
        """The caller's live cache of that name, or the one 403 for anything else."""
        entry = self._caches.get((identity.project, cache_id(name)))
        if entry is None or not entry.alive(self._now()):
            raise not_found()
        return entry

    def _drop_long_expired(self, now: float) -> None:
        stale = [key for key, entry in self._caches.items()
                 if entry.expire_time + EXPIRED_KEEP_SECONDS <= now]
        for key in stale:
            del self._caches[key]

    def _expiry(self, body: dict[str, Any], now: float, *, default: float | None) -> float:
        """expireTime from `ttl` or `expireTime` (a oneof), or now + `default` when neither is given."""
        has_ttl, has_expire = body.get("ttl") is not None, body.get("expireTime") is not None
        if has_ttl and has_expire:
            raise invalid_argument("Only one of ttl and expire_time may be set.", "expire_time")
        if has_ttl:
            seconds = parse_duration(body["ttl"], "ttl")
            if seconds <= 0:
                raise invalid_argument(f"ttl must be positive (got {body['ttl']!r}).", "ttl")
            expire = now + seconds
        elif has_expire:
            expire = parse_time(body["expireTime"], "expire_time")
            if expire <= now:
                raise invalid_argument(
                    f"expire_time ({body['expireTime']}) must be in the future (now is {format_time(now)}).",
                    "expire_time")
        elif default is not None:
            expire = now + default
        else:
            raise invalid_argument("Give ttl or expire_time: they are the only fields a CachedContent update "
                                   "may change.", "ttl")
        if expire > MAX_EPOCH:
            raise invalid_argument("The expiration time is too far in the future.", "ttl" if has_ttl else
                                   "expire_time")
        return expire

    def _model_for_cache(self, name: object, version: str) -> dict[str, Any]:
        if not isinstance(name, str) or not name:
            raise invalid_argument("CachedContent.model is required.", "model")
        model = self._store.models.get(name, "createCachedContent", version)
        if not model.get("emulator", {}).get("supportsCaching"):
            raise invalid_argument(f"{model['name']} does not support createCachedContent.", "model")
        return model

    # -- explicit caches ---------------------------------------------------------------------------------
    def create(self, identity: Identity, body: dict[str, Any], *, version: str = "v1beta") -> dict[str, Any]:
        """cachedContents.create. `body` is a CachedContent in camelCase (as schema.normalize gives it)."""
        unknown = [key for key in body if key not in CREATE_FIELDS and key not in OUTPUT_FIELDS]
        if unknown:
            raise invalid_argument(f'Invalid JSON payload received. Unknown name "{unknown[0]}": Cannot find '
                                   f'field.', unknown[0])
        model = self._model_for_cache(body.get("model"), version)
        now = self._now()
        expire = self._expiry(body, now, default=float(self._store.config["cache"]["defaultTtlSeconds"]))
        contents = body.get("contents") or []
        system_instruction = body.get("systemInstruction")
        tools = body.get("tools")
        media: dict[str, Any] = {}
        resolve = self._resolver(identity, body)

        def remember(uri: str) -> MediaInfo:
            media[uri] = info = resolve(uri)
            return info
        counts = count_contents(contents, system_instruction, tools, resolve_file=remember)
        minimum = int(model.get("emulator", {}).get("cacheMinTokens", 0))
        if counts.total < minimum:
            raise invalid_argument(
                f"Cached content is too small. total_token_count={counts.total}, "
                f"min_total_token_count={minimum}", "contents")
        limit = model.get("inputTokenLimit")
        if limit and counts.total > limit:
            raise invalid_argument(
                f"The input token count ({counts.total}) exceeds the maximum number of tokens allowed "
                f"({limit}).", "contents")
        with self._store.lock:
            self._drop_long_expired(now)
            entry = CachedContent(
                project=identity.project,
                id=self._store.new_id(identity.project, "cache"),
                model=model["name"],
                display_name=body.get("displayName") or "",
                contents=contents,
                system_instruction=system_instruction,
                tools=tools,
                tool_config=body.get("toolConfig"),
                create_time=now,
                update_time=now,
                expire_time=expire,
                counts=counts,
                media=media,
            )
            self._caches[(identity.project, entry.id)] = entry
        return entry.resource()

    def get(self, identity: Identity, name: str) -> dict[str, Any]:
        return self._find(identity, name).resource()

    def projects(self) -> set[str]:
        """The projects that hold caches (for the dashboard)."""
        with self._store.lock:
            return {project for project, _ in self._caches}

    def list(self, identity: Identity) -> list[dict[str, Any]]:
        """The caller's live caches, oldest first."""
        now = self._now()
        with self._store.lock:
            entries = [entry for (project, _), entry in self._caches.items()
                       if project == identity.project and entry.alive(now)]
        return [entry.resource() for entry in entries]

    def update(self, identity: Identity, name: str, body: dict[str, Any],
               update_mask: str | None = None) -> dict[str, Any]:
        """cachedContents.patch: only the expiry moves.

        With `update_mask` (field paths, snake_case or camelCase) only the named fields are read, and
        naming any field but ttl / expire_time is a 400. Without one (the SDKs send none) the body says
        what changes, and any field in it but ttl / expireTime is a 400."""
        if "name" in body and cache_id(body["name"]) != cache_id(name):
            raise invalid_argument("The name in the body does not match the CachedContent being updated.", "name")
        if update_mask is not None and update_mask.strip():
            paths = [path.strip() for path in update_mask.split(",") if path.strip()]
            for path in paths:
                if path not in UPDATABLE:
                    raise _not_updatable(path, "update_mask")
            changes = {UPDATABLE[path]: body.get(UPDATABLE[path]) for path in paths}
        else:
            for key in body:
                if key not in UPDATABLE and key != "name":
                    raise _not_updatable(key, key)
            changes = {key: value for key, value in body.items() if key in UPDATABLE}
        with self._store.lock:
            entry = self._find(identity, name)
            now = self._now()
            entry.expire_time = self._expiry(changes, now, default=None)
            entry.update_time = now
            return entry.resource()

    def delete(self, identity: Identity, name: str) -> None:
        with self._store.lock:
            entry = self._find(identity, name)
            del self._caches[(entry.project, entry.id)]

    def expire_now(self, identity: Identity, name: str) -> None:
        """End the cache's life at the clock's present (the control plane's "expire now")."""
        with self._store.lock:
            self._find(identity, name).expire_time = self._now()

    # -- using a cache -----------------------------------------------------------------------------------
    def prefix_for(self, identity: Identity, name: str, model: dict[str, Any],
                   request: dict[str, Any]) -> dict[str, Any]:
        """The cached prefix a generation with `cachedContent: name` runs on (for the engine's `cached=`).

        403 for a cache the caller cannot see; 400 for another model or for fields that belong in the
        cache set on the request too."""
        entry = self._find(identity, name)
        if entry.model != model.get("name"):
            raise invalid_argument(
                f"Model used by GenerateContent request ({model.get('name')}) and CachedContent "
                f"({entry.model}) has to be the same.", "model")
        beside = [key for key in CACHE_ONLY_FIELDS if request.get(key)]
        if beside:
            raise invalid_argument(
                "CachedContent can not be used with GenerateContent request setting system_instruction, tools "
                "or tool_config.\n\nProposed fix: move those values to CachedContent from GenerateContent "
                "request.", "cached_content")
        return entry.prefix()

    # -- implicit caching --------------------------------------------------------------------------------
    def _fingerprints(self, identity: Identity, model: dict[str, Any], request: dict[str, Any],
                      resolve_file: ResolveFile | None, minimum: int) -> Boundaries:
        """(fingerprint, tokens so far) at each content boundary of the prompt that reaches `minimum`
        tokens: after the system instruction and tools, then after each content. Tokens are counted
        first, so a prompt too short to ever hit costs no hashing."""
        resolve_file = resolve_file or self._resolver(identity, request)
        counts = Counts()
        system_instruction = request.get("systemInstruction")
        if system_instruction:
            count_content(system_instruction, counts, "systemInstruction", resolve_file)
        count_tools(request.get("tools"), counts)
        running = [counts.total]
        contents = request.get("contents") or ()
        for i, content in enumerate(contents):
            count_content(content, counts, f"contents[{i}]", resolve_file)
            running.append(counts.total)
        if counts.total < minimum:
            return []
        digest = hashlib.blake2b(canonical_json([
            model.get("name"), system_instruction, request.get("tools"), request.get("toolConfig"),
        ]).encode(), digest_size=16)
        boundaries = []
        if running[0]:
            boundaries.append((digest.hexdigest(), running[0]))
        for content, tokens in zip(contents, running[1:]):
            digest.update(canonical_json(content).encode())
            boundaries.append((digest.hexdigest(), tokens))
        return boundaries

    def implicit_lookup(self, identity: Identity, model: dict[str, Any], request: dict[str, Any],
                        resolve_file: ResolveFile | None = None) -> ImplicitProbe:
        """How many leading tokens of `request` the project sent within the implicit window: the longest
        matching boundary, 0 below the model's implicit minimum, for models without implicit caching and
        for requests on an explicit cache. Pass the probe to `implicit_remember` once the request is
        answered."""
        probe = ImplicitProbe(identity.project)
        minimum = model.get("emulator", {}).get("implicitCacheMinTokens")
        if not minimum or request.get("cachedContent"):
            return probe
        bound = _text_tokens_bound(request)
        if bound is not None and bound < minimum:   # too short to reach the minimum: no counting, no hashing
            return probe
        try:
            boundaries = self._fingerprints(identity, model, request, resolve_file, minimum)
        except (ApiError, AttributeError, TypeError):
            return probe  # a malformed prompt: the engine answers it with the proper error
        probe.boundaries = [(key, tokens) for key, tokens in boundaries if tokens >= minimum]
        if not probe.boundaries:
            return probe
        window = float(self._store.config["cache"]["implicitWindowSeconds"])
        now = self._now()
        with self._store.lock:
            memory = self._implicit.get(identity.project) or OrderedDict()
            for key, tokens in probe.boundaries:
                seen = memory.get(key)
                if seen is not None and seen[1] <= now < seen[1] + window:
                    probe.tokens = max(probe.tokens, tokens)
        return probe

    def implicit_remember(self, probe: ImplicitProbe) -> None:
        """Remember the boundaries of an answered request (a hit refreshes them); the least recently seen
        are dropped past the per-project cap, and those older than the window whenever one is added."""
        if not probe.boundaries:
            return
        window = float(self._store.config["cache"]["implicitWindowSeconds"])
        now = self._now()
        with self._store.lock:
            memory = self._implicit.setdefault(probe.project, OrderedDict())
            for key, tokens in probe.boundaries:
                memory[key] = (tokens, now)
                memory.move_to_end(key)
            while len(memory) > IMPLICIT_ENTRIES_PER_PROJECT:
                memory.popitem(last=False)
            while memory:
                oldest_key, (_, seen) = next(iter(memory.items()))
                if now - seen < window:
                    break
                del memory[oldest_key]

    def implicit_hit(self, identity: Identity, model: dict[str, Any], request: dict[str, Any],
                     resolve_file: ResolveFile | None = None) -> int:
        """`implicit_lookup` and `implicit_remember` in one step: the implicitly cached tokens."""
        probe = self.implicit_lookup(identity, model, request, resolve_file)
        self.implicit_remember(probe)
        return probe.tokens

    # -- state export and import (persistence.py) ----------------------------------------------------
    def export_state(self) -> dict[str, Any]:
        """The explicit caches (expired ones kept as the backend keeps them) and the implicit-cache
        memory (kept lazily: it is saved with the next snapshot, never causes one)."""
        with self._store.lock:
            caches = [fields_of(entry, counts=fields_of(entry.counts, by_modality=dict(entry.counts.by_modality)),
                                media={uri: fields_of(info) for uri, info in entry.media.items()})
                      for entry in self._caches.values()]
            implicit = {project: [[key, tokens, seen] for key, (tokens, seen) in memory.items()]
                        for project, memory in self._implicit.items()}
        return {"caches": caches, "implicit": implicit}

    def import_state(self, data: dict[str, Any]) -> None:
        with self._store.lock:
            self._caches = {}
            for item in data.get("caches") or []:
                counts = item.get("counts") or {}
                entry = build(CachedContent, item,
                              counts=Counts(dict(counts.get("by_modality") or {}), float(counts.get("audio_seconds") or 0)),
                              media={uri: MediaInfo(**info) for uri, info in (item.get("media") or {}).items()})
                self._caches[(entry.project, entry.id)] = entry
            self._implicit = {project: OrderedDict((key, (tokens, seen)) for key, tokens, seen in entries)
                              for project, entries in (data.get("implicit") or {}).items()}


def register(store: Store) -> None:
    store.register("caches", ContextCaches(store))


# -- handlers -----------------------------------------------------------------------------------------

async def create_cache(ctx: Context) -> Response:
    body = await ctx.json("CachedContent")
    return json_response(ctx.store.caches.create(ctx.identity, body, version=ctx.version))


async def get_cache(ctx: Context) -> Response:
    return json_response(ctx.store.caches.get(ctx.identity, ctx.params["id"]))


async def list_caches(ctx: Context) -> Response:
    size = page_size(ctx.query("pageSize") or ctx.query("page_size"), 100, 1000)
    items = ctx.store.caches.list(ctx.identity)
    page, token = paginate(items, size, ctx.query("pageToken") or ctx.query("page_token"))
    body: dict[str, Any] = {"cachedContents": page}
    if token:
        body["nextPageToken"] = token
    return json_response(body)


async def update_cache(ctx: Context) -> Response:
    body = await ctx.json("CachedContent")
    mask = ctx.query("updateMask") or ctx.query("update_mask")
    return json_response(ctx.store.caches.update(ctx.identity, ctx.params["id"], body, mask))


async def delete_cache(ctx: Context) -> Response:
    ctx.store.caches.delete(ctx.identity, ctx.params["id"])
    return json_response({})


ROUTES = [
    route("POST", "cachedContents", create_cache),
    route("GET", "cachedContents", list_caches),
    route("GET", "cachedContents/{id}", get_cache),
    route("PATCH", "cachedContents/{id}", update_cache),
    route("DELETE", "cachedContents/{id}", delete_cache),
]
