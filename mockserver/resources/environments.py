"""Environments (`environments/{id}`): the execution environments agents run in, and their files.

The newer v1beta discovery revision lists environments.create, .list, .get, .delete and
environments.files.media.download (../shared/reference/v1beta.methods.tsv, source B). The wire follows
google-genai 3.6.1 (`client.environments`, google/genai/_gaos/environments.py and files.py, and the types in
_gaos/types/environments/ and interactions/source.py), which speaks the snake_case JSON of the Interactions API:

* `POST /{v}/environments` `{mode: on_demand|self_hosted, network, sources, system_instruction, custom_config,
  from_environment}` -> Environment `{id, created, updated, last_accessed, mode, network, sources, status,
  file_count, size_bytes}`; `environment_key` (a secret for self-hosted pollers) only in this answer.
* `GET /{v}/environments?mode=&page_size=&page_token=` -> `{environments, next_page_token}` (default 50, max 1000).
* `GET` / `DELETE /{v}/environments/{id}` -> Environment / `{}`.
* `GET /{v}/environments/{id}/files/{path}?recursive=&page_size=&page_token=` -> `{files: [EnvironmentFile],
  next_page_token}` (a directory's entries, or the one file); with `alt=media` the file's bytes.

Sources of type `inline` (`content`, optional `encoding: base64`, `target` path) are mounted as files; the
emulator fetches nothing, so `gcs`, `repository` and `skill_registry` sources are refused with a 400 naming
the source. Environments are per project; a missing or foreign one is the usual 403. The real service's
expiry of idle environments is not documented with a duration, so environments here stay `active`.
"""
from __future__ import annotations

import base64
import binascii
import builtins
import hashlib
import posixpath
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from starlette.responses import Response

from ..auth import Identity
from ..errors import invalid_argument, missing_resource
from ..http import Context, json_response
from ..persistence import build, fields_of
from ..routing import route
from ..wire import format_time, page_size, paginate
from .corpora import parse_bool
from .url_media import EXTENSIONS

if TYPE_CHECKING:
    from ..store import Store

KIND = "Environment"
MODES = ("on_demand", "self_hosted")
DEFAULT_PAGE, MAX_PAGE = 50, 1000
MAX_SOURCES = 100


@dataclass
class Environment:
    id: str
    project: str
    mode: str
    created: float
    updated: float
    last_accessed: float
    network: object = None
    sources: list[Any] = field(default_factory=list)    # as given, for the Environment view
    files: dict[str, str] = field(default_factory=dict)   # path -> base64 bytes (small: request-bounded)
    system_instruction: str | None = None
    custom_config: dict[str, Any] | None = None

    def render(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": self.id, "created": format_time(self.created), "updated": format_time(self.updated),
            "last_accessed": format_time(self.last_accessed), "mode": self.mode, "status": "active",
            "file_count": len(self.files),
            "size_bytes": sum(len(base64.b64decode(data)) for data in self.files.values())}
        if self.network is not None:
            body["network"] = self.network
        if self.sources:
            body["sources"] = self.sources
        if self.custom_config is not None:
            body["custom_config"] = self.custom_config
        return body


def _clean_path(raw: object, field_name: str) -> str:
    if not isinstance(raw, str) or not raw.strip():
        raise invalid_argument(f"{field_name} must be a relative path.", field_name)
    path = posixpath.normpath(raw.strip().lstrip("/"))
    if path in (".", "") or path.startswith(".."):
        raise invalid_argument(f"{field_name} {raw!r} leaves the environment's workspace.", field_name)
    return path


def _mount(sources: object) -> dict[str, str]:
    """The files inline sources put in the workspace (path -> base64 bytes)."""
    if sources is None:
        return {}
    if not isinstance(sources, list) or len(sources) > MAX_SOURCES:
        raise invalid_argument(f"sources must be a list of at most {MAX_SOURCES} sources.", "sources")
    files: dict[str, str] = {}
    for index, source in enumerate(sources):
        where = f"sources[{index}]"
        if not isinstance(source, dict):
            raise invalid_argument(f"{where} must be an object.", where)
        kind = source.get("type")
        if kind != "inline":
            raise invalid_argument(f"{where}.type {kind!r}: the emulator mounts only inline sources (it fetches "
                                   f"nothing from Cloud Storage, repositories or skill registries).", f"{where}.type")
        content = source.get("content")
        if not isinstance(content, str):
            raise invalid_argument(f"{where}.content is required for an inline source.", f"{where}.content")
        encoding = source.get("encoding")
        if encoding in (None, ""):
            data = content.encode("utf-8")
        elif encoding == "base64":
            try:
                data = base64.b64decode(content, validate=True)
            except (binascii.Error, ValueError):
                raise invalid_argument(f"{where}.content is not valid base64.", f"{where}.content") from None
        else:
            raise invalid_argument(f"{where}.encoding {encoding!r} is not supported (base64 or none).",
                                   f"{where}.encoding")
        files[_clean_path(source.get("target"), f"{where}.target")] = base64.b64encode(data).decode("ascii")
    return files


class Environments:
    """Every project's environments. Registered as `store.environments`."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.lock = threading.Lock()
        self._items: dict[str, Environment] = {}

    def reset(self) -> None:
        with self.lock:
            self._items.clear()

    def _fetch(self, identity: Identity, env_id: str) -> Environment:
        env_id = env_id.removeprefix("environments/")
        with self.lock:
            env = self._items.get(env_id)
        if env is None or env.project != identity.project:
            raise missing_resource(KIND, f"environments/{env_id}")
        return env

    def create(self, identity: Identity, body: dict[str, Any]) -> dict[str, Any]:
        mode = body.get("mode") or "on_demand"
        if mode not in MODES:
            raise invalid_argument(f"mode must be one of {', '.join(MODES)}, got {mode!r}.", "mode")
        if body.get("custom_config") is not None and (mode != "self_hosted"
                                                       or not isinstance(body["custom_config"], dict)):
            raise invalid_argument("custom_config is an object, and only for self_hosted environments.",
                                   "custom_config")
        instruction = body.get("system_instruction")
        if instruction is not None and not isinstance(instruction, str):
            raise invalid_argument("system_instruction must be a string.", "system_instruction")
        parent = body.get("from_environment")
        if parent:
            if body.get("sources"):
                raise invalid_argument("from_environment and sources cannot be given together.", "sources")
            source = self._fetch(identity, str(parent))
            files, sources = dict(source.files), list(source.sources)
        else:
            sources = body.get("sources") or []
            files = _mount(sources)
        now = self.store.now()
        env = Environment(id=self.store.new_id(identity.project, "environment"), project=identity.project,
                          mode=mode, created=now, updated=now, last_accessed=now, network=body.get("network"),
                          sources=sources, files=files, system_instruction=instruction,
                          custom_config=body.get("custom_config"))
        with self.lock:
            self._items[env.id] = env
        answer = env.render()
        if mode == "self_hosted":   # shown once, at creation (Environment.environment_key)
            secret = hashlib.blake2b(f"{self.store.seed}:{identity.project}:{env.id}".encode(), digest_size=24)
            answer["environment_key"] = secret.hexdigest()
        return answer

    def get(self, identity: Identity, env_id: str) -> dict[str, Any]:
        env = self._fetch(identity, env_id)
        env.last_accessed = self.store.now()
        return env.render()

    def list(self, identity: Identity, mode: str | None, size: int, token: str | None) -> dict[str, Any]:
        if mode is not None and mode not in MODES:
            raise invalid_argument(f"mode must be one of {', '.join(MODES)}, got {mode!r}.", "mode")
        with self.lock:
            mine = sorted((e for e in self._items.values() if e.project == identity.project
                           and (mode is None or e.mode == mode)), key=lambda e: (e.created, e.id))
        page, following = paginate([e.render() for e in mine], size, token)
        body: dict[str, Any] = {"environments": page}
        if following:
            body["next_page_token"] = following
        return body

    def records(self) -> builtins.list[Environment]:
        """Every environment, oldest first (for the dashboard)."""
        with self.lock:
            return sorted(self._items.values(), key=lambda e: (e.created, e.id))

    def delete(self, identity: Identity, env_id: str) -> None:
        env = self._fetch(identity, env_id)
        with self.lock:
            self._items.pop(env.id, None)

    # -- files ----------------------------------------------------------------------------------------
    def file_bytes(self, identity: Identity, env_id: str, path: str) -> tuple[bytes, str]:
        env = self._fetch(identity, env_id)
        clean = _clean_path(path, "path")
        if clean not in env.files:
            raise missing_resource("EnvironmentFile", f"environments/{env.id}/files/{clean}")
        return base64.b64decode(env.files[clean]), _mime(clean)

    def list_files(self, identity: Identity, env_id: str, path: str, recursive: bool, size: int,
                   token: str | None) -> dict[str, Any]:
        env = self._fetch(identity, env_id)
        clean = _clean_path(path, "path")
        stamp = format_time(env.created)
        if clean in env.files:
            return {"files": [self._entry(env, clean, stamp)]}
        prefix = clean + "/"
        below = sorted(p for p in env.files if p.startswith(prefix))
        if not below:
            raise missing_resource("EnvironmentFile", f"environments/{env.id}/files/{clean}")
        entries: dict[str, dict[str, Any]] = {}
        for file_path in below:
            rest = file_path[len(prefix):].split("/")
            if recursive or len(rest) == 1:
                entries[file_path] = self._entry(env, file_path, stamp)
            else:
                folder = prefix + rest[0]
                entries[folder] = {"name": rest[0], "path": folder, "type": "directory", "created": stamp,
                                   "modified": stamp}
        page, following = paginate([entries[k] for k in sorted(entries)], size, token)
        body: dict[str, Any] = {"files": page}
        if following:
            body["next_page_token"] = following
        return body

    @staticmethod
    def _entry(env: Environment, path: str, stamp: str) -> dict[str, Any]:
        return {"name": posixpath.basename(path), "path": path, "type": "file", "mime_type": _mime(path),
                "size_bytes": len(base64.b64decode(env.files[path])), "created": stamp, "modified": stamp}

    # -- state export and import (persistence.py) -------------------------------------------------------
    def export_state(self) -> dict[str, Any]:
        with self.lock:
            return {"environments": [fields_of(e, files=dict(e.files)) for e in self._items.values()]}

    def import_state(self, data: dict[str, Any]) -> None:
        with self.lock:
            self._items = {item["id"]: build(Environment, item) for item in data.get("environments") or []}


def _mime(path: str) -> str:
    extension = path.rsplit(".", 1)[-1].lower() if "." in posixpath.basename(path) else ""
    return EXTENSIONS.get(extension, "application/octet-stream")


def register(store: Store) -> None:
    store.register("environments", Environments(store))


# -- HTTP skin --------------------------------------------------------------------------------------

async def create_environment(ctx: Context) -> Response:
    return json_response(ctx.store.environments.create(ctx.identity, await ctx.json()))


async def list_environments(ctx: Context) -> Response:
    size = page_size(ctx.query("page_size") or ctx.query("pageSize"), DEFAULT_PAGE, MAX_PAGE)
    return json_response(ctx.store.environments.list(ctx.identity, ctx.query("mode"), size,
                                                     ctx.query("page_token") or ctx.query("pageToken")))


async def get_environment(ctx: Context) -> Response:
    return json_response(ctx.store.environments.get(ctx.identity, ctx.params["environment"]))


async def delete_environment(ctx: Context) -> Response:
    ctx.store.environments.delete(ctx.identity, ctx.params["environment"])
    return json_response({})


async def environment_files(ctx: Context) -> Response:
    backend, env_id, path = ctx.store.environments, ctx.params["environment"], ctx.params["path"]
    if (ctx.query("alt") or "").startswith("media"):
        data, mime = backend.file_bytes(ctx.identity, env_id, path)
        return Response(data, media_type=mime)
    size = page_size(ctx.query("page_size") or ctx.query("pageSize"), DEFAULT_PAGE, MAX_PAGE)
    return json_response(backend.list_files(ctx.identity, env_id, path, parse_bool(ctx.query("recursive"),
                                                                                   "recursive"),
                                            size, ctx.query("page_token") or ctx.query("pageToken")))


ROUTES = [
    route("POST", "environments", create_environment),
    route("GET", "environments", list_environments),
    route("GET", "environments/{environment}", get_environment),
    route("DELETE", "environments/{environment}", delete_environment),
    route("GET", "environments/{environment}/files/{path:path}", environment_files),
    # the discovery revision's custom-verb spellings of the same methods
    route("POST", "environments:create", create_environment),
    route("GET", "environments:list", list_environments),
    route("GET", "environments/{environment}:get", get_environment),
    route("DELETE", "environments/{environment}:delete", delete_environment),
]
