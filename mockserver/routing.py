"""The API router: one table of (method, path template, handler), served under every API version.

Paths look like `[prefix/][upload|download/]{version}/{resource path}`; the version segment is found
wherever it stands, so a base URL with a path prefix works, and a path with no version is taken as v1beta
(the SDKs' `api_version=''`). Templates use `{name}` for one id segment (no `/` or `:`) and
`{name:path}` for the rest of the path.

A route that runs a model says so (`runs=GENERATE` or `runs=EMBED`): that is what the rate limits, the
usage ledger and the journal count. The router's answer, a `Match`, is the one description of the request
every later step reads (call.py builds the call record from it).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Awaitable, Callable

from starlette.responses import Response

from .errors import ApiError

GEMINI_VERSIONS = ("v1", "v1beta", "v1alpha")
ALL_VERSIONS = (*GEMINI_VERSIONS, "v1beta3")
MEDIA_PREFIXES = ("upload", "download")
# The quota families of the routes that run a model: generation and embedding are limited apart.
GENERATE, EMBED = "generate", "embed"

Handler = Callable[..., Awaitable[Response]]
_PARAM = re.compile(r"\{(\w+)(:path)?\}")


@dataclass(frozen=True)
class Route:
    method: str
    template: str
    handler: Handler
    versions: tuple[str, ...] = GEMINI_VERSIONS
    media: str | None = None        # "upload" or "download" for the media paths
    auth: bool = True               # False: the handler authorises the call itself (upload chunks)
    render_error: Callable[[ApiError], Response] | None = None   # an API with its own error body (Interactions)
    runs: str | None = None         # GENERATE or EMBED: the route runs a model (it counts against the quotas)
    name: str | None = None         # the API method's name; by default what follows the template's last `:`
    model_in_body: bool = False     # the model is the body's `model` field (OpenAI layer, Interactions)

    @property
    def api_method(self) -> str | None:
        if self.name is not None:
            return self.name
        last = self.template.rsplit("/", 1)[-1]
        return last.rsplit(":", 1)[1] if ":" in last else None


def route(method: str, template: str, handler: Handler, **options: Any) -> Route:
    return Route(method, template, handler, **options)


@dataclass(frozen=True)
class Match:
    """A request as the router read it, once: the route, the API version, the path parameters (shared by
    every request on the same path: read, never written), and the path after the version."""
    route: Route
    version: str
    params: dict[str, str]
    resource: str

    @property
    def model(self) -> str | None:
        """The model named in the path (`models/x`, `tunedModels/x`), or None."""
        if "model" in self.params:
            return model_name(self.params["model"], tuned=False)
        if "tuned" in self.params:
            return model_name(self.params["tuned"], tuned=True)
        return None


def model_name(name: str, tuned: bool) -> str:
    """A model as the quotas and the journal name it: `models/x` or `tunedModels/x`."""
    name = name.strip()
    if name.startswith(("models/", "tunedModels/")):
        return name
    return f"tunedModels/{name}" if tuned else f"models/{name}"


def _compile(template: str) -> re.Pattern[str]:
    pattern, last = [], 0
    for match in _PARAM.finditer(template):
        pattern.append(re.escape(template[last:match.start()]))
        pattern.append(f"(?P<{match.group(1)}>.+)" if match.group(2) else f"(?P<{match.group(1)}>[^/:]+)")
        last = match.end()
    pattern.append(re.escape(template[last:]))
    return re.compile("".join(pattern) + r"\Z", re.DOTALL)   # a `{name:path}` may hold a newline too


def split_path(path: str) -> tuple[str | None, str, str]:
    """(media prefix, version, resource path) of a request path."""
    segments = [s for s in path.split("/") if s]
    for index, segment in enumerate(segments):
        if segment in ALL_VERSIONS:
            media = segments[index - 1] if index and segments[index - 1] in MEDIA_PREFIXES else None
            return media, segment, "/".join(segments[index + 1:])
    if segments and segments[0] in MEDIA_PREFIXES:   # `/upload/files` from api_version=''
        return segments[0], "v1beta", "/".join(segments[1:])
    return None, "v1beta", "/".join(segments)


MATCH_MEMO = 4096


class Router:
    def __init__(self, routes: list[Route]) -> None:
        self._matched: dict[tuple[str, str], Match] = {}
        # Routes grouped by (media, first path segment) so a lookup tries a handful of patterns.
        self._table: dict[tuple[str | None, str], list[tuple[re.Pattern[str], Route]]] = {}
        for item in routes:
            head = re.split(r"[/:{]", item.template, maxsplit=1)[0]
            self._table.setdefault((item.media, head), []).append((_compile(item.template), item))

    def match(self, method: str, path: str) -> Match:
        """The request's Match, or the real API's 404. Matches are remembered (a client calls the same few
        paths again and again); the memo is bounded."""
        found = self._matched.get((method, path))
        if found is None:
            found = self._match(method, path)
            if len(self._matched) >= MATCH_MEMO:
                self._matched.clear()
            self._matched[(method, path)] = found
        return found

    def _match(self, method: str, path: str) -> Match:
        media, version, rest = split_path(path)
        head = re.split(r"[/:]", rest, maxsplit=1)[0]
        method_mismatch = False
        for pattern, item in self._table.get((media, head), ()):
            found = pattern.match(rest)
            if not found or version not in item.versions:
                continue
            if item.method != method:
                method_mismatch = True
                continue
            return Match(item, version, found.groupdict(), rest)
        if method_mismatch:  # the real front end answers an unknown verb on a known path with 404 too
            raise ApiError(404, "NOT_FOUND", f"Method {method} /{version}/{rest} is not found.")
        raise ApiError(404, "NOT_FOUND", f"The requested URL /{version}/{rest} was not found on this server.")
