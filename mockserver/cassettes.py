"""Record and replay: cassettes of real interactions, served back before emulation, and checked for drift.

* Recording: `create_recorder(upstream, out_dir)` is an ASGI app (`gemini-mock record --upstream URL
  --out DIR`) that forwards every request to `upstream` (the real API, or another emulator) and writes
  each interaction as one JSON file in `out_dir`, named `<n>-<METHOD>-<path>.json`:

      {"cassette": 1, "upstream": "https://generativelanguage.googleapis.com", "proxy": "http://127.0.0.1:8080",
       "request": {"method": "POST", "path": "/v1beta/models/gemini-2.5-flash:generateContent",
                   "query": [["alt", "sse"]], "headers": {"content-type": "application/json"},
                   "body": {...}},
       "response": {"status": 200, "headers": {"content-type": "text/event-stream"},
                    "bodyText": "data: {...}\\r\\n\\r\\n"}}

  A body is stored as `body` (JSON), `bodyText` (text: SSE streams, JSONL) or `bodyBase64` (bytes).
  API keys never reach a cassette: the `x-goog-api-key` and `Authorization` headers are not kept, a
  `?key=` value becomes "REDACTED", and any key value found elsewhere (a body, a header) is replaced too.
  Upload URLs the upstream hands out (`X-Goog-Upload-URL`) are rewritten to point at the recorder, so
  the upload's bytes go through it as well.

* Replay: `Cassettes(dir)` answers a request from the cassettes whose method, path, query (less `key`)
  and canonical body (JSON with sorted keys; `{}` and an empty body alike) match; several cassettes
  with the same match are answered in the order they were recorded, the last one again once they run
  out. `gemini-mock serve --replay DIR` tries them before the emulator; what matches no cassette is
  emulated.

* Drift (drift.py): `drift(dir)` validates every cassette against the recorded schemas (the request with the
  server's own request reader, the answer with the response schema of its route, each event of a
  stream alike) and reports the fields the schemas do not know apart from other mismatches
  (`gemini-mock drift DIR`).
"""
from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import logging
import re
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, AsyncIterator, Awaitable, Callable, Iterable
from urllib.parse import parse_qsl, urlencode, urlsplit

from starlette.requests import Request
from starlette.responses import Response

from . import capture

if TYPE_CHECKING:
    import httpx
    from starlette.applications import Starlette

    from .store import Store

Dispatch = Callable[[Request], Awaitable[Response]]
# What a request is matched on: (method, path, query without secrets, canonical body)
MatchKey = tuple[str, str, str, str]

log = logging.getLogger("gemini_mockserver")
REDACTED = "REDACTED"
CASSETTE_VERSION = 1
SECRET_HEADERS = frozenset({"x-goog-api-key", "authorization", "proxy-authorization", "cookie", "set-cookie"})
SECRET_QUERY = frozenset({"key", "access_token"})
HOP_BY_HOP = frozenset({"connection", "keep-alive", "proxy-connection", "te", "trailer", "trailers",
                        "transfer-encoding", "upgrade", "host", "content-length", "accept-encoding",
                        "content-encoding"})
REQUEST_HEADERS_KEPT = ("content-type", "x-goog-upload-protocol", "x-goog-upload-command",
                        "x-goog-upload-offset", "x-goog-upload-header-content-length",
                        "x-goog-upload-header-content-type", "x-goog-upload-file-name")
RESPONSE_HEADERS_KEPT = ("content-type", "x-goog-upload-url", "x-goog-upload-control-url",
                         "x-goog-upload-status", "x-goog-upload-chunk-granularity",
                         "x-goog-upload-size-received", "content-disposition", "retry-after")
URL_HEADERS = ("x-goog-upload-url", "x-goog-upload-control-url")
NOT_FORWARDED_BACK = frozenset({"date", "server"})   # the recorder's own server sets these
METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]


# ---------------------------------------------------------------------------------------------------
# Bodies and match keys

def _is_text(content_type: str) -> bool:
    ct = content_type.lower()
    return ct.startswith("text/") or "json" in ct or "jsonl" in ct or "event-stream" in ct \
        or "x-www-form-urlencoded" in ct


def encode_body(data: bytes, content_type: str = "") -> dict[str, Any]:
    """The cassette form of a body: {} (empty), {"body": json}, {"bodyText": str} or {"bodyBase64": str}."""
    if not data:
        return {}
    ct = content_type.lower()
    if "json" in ct and "jsonl" not in ct and "event-stream" not in ct:
        try:
            return {"body": json.loads(data)}
        except ValueError:
            pass
    if _is_text(ct) or not ct:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            pass
        else:
            if ct or text.isprintable() or text.strip().startswith(("{", "[")):
                return {"bodyText": text}
    return {"bodyBase64": base64.b64encode(data).decode("ascii")}


def decode_body(part: dict[str, Any]) -> bytes:
    """The bytes of a cassette body (as encode_body wrote it)."""
    if "body" in part:
        return json.dumps(part["body"], ensure_ascii=False, separators=(",", ":")).encode()
    if "bodyText" in part:
        text: str = part["bodyText"]
        return text.encode("utf-8")
    if "bodyBase64" in part:
        return base64.b64decode(part["bodyBase64"])
    return b""


def canonical_body(data: bytes) -> str:
    """JSON with sorted keys (an empty body and `{}` alike); other bodies by their SHA-256."""
    if not data.strip():
        return ""
    try:
        value = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        return "sha256:" + hashlib.sha256(data).hexdigest()
    if value == {}:
        return ""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def canonical_query(pairs: Iterable[tuple[str, str]]) -> str:
    return urlencode(sorted((k, v) for k, v in pairs if k not in SECRET_QUERY))


def match_key(method: str, path: str, query_pairs: Iterable[tuple[str, str]], body: bytes) -> MatchKey:
    return (method.upper(), path, canonical_query(query_pairs), canonical_body(body))


def _redact(value: Any, secrets: list[str]) -> Any:
    if not secrets:
        return value
    if isinstance(value, str):
        for secret in secrets:
            value = value.replace(secret, REDACTED)
        return value
    if isinstance(value, dict):
        return {_redact(k, secrets): _redact(v, secrets) for k, v in value.items()}
    if isinstance(value, list):
        return [_redact(v, secrets) for v in value]
    return value


def _secrets(request: Request) -> list[str]:
    found = []
    key = request.headers.get("x-goog-api-key")
    if key:
        found.append(key)
    for name in SECRET_QUERY:
        for value in request.query_params.getlist(name):
            found.append(value)
    auth = request.headers.get("authorization", "")
    if auth:
        found.append(auth.split(" ", 1)[-1])
    # longest first, so a key that contains another is replaced whole; tiny values are not secrets
    return sorted({s.strip() for s in found if len(s.strip()) >= 4}, key=len, reverse=True)


def _slug(path: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", path).strip("_")[:80] or "root"


def _origin(request: Request) -> str:
    host = request.headers.get("host") or f"{request.url.hostname}:{request.url.port}"
    return f"{request.url.scheme}://{host}"


# ---------------------------------------------------------------------------------------------------
# Recording

class Recorder:
    """Forwards requests to `upstream` and writes one cassette per interaction into `out_dir`."""

    def __init__(self, upstream: str, out_dir: str | Path, *, timeout: float = 600.0) -> None:
        parts = urlsplit(upstream)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"upstream must be an http(s) URL, not {upstream!r}")
        self.upstream = upstream.rstrip("/")
        self.out_dir = Path(out_dir)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self.timeout = timeout
        self._lock = threading.Lock()
        self._count = len(list(self.out_dir.glob("*.json")))
        self._client: httpx.AsyncClient | None = None

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            try:
                import httpx
            except ImportError as exc:   # pragma: no cover - httpx comes with the test extra
                raise RuntimeError("recording needs httpx: pip install httpx") from exc
            self._client = httpx.AsyncClient(timeout=self.timeout, follow_redirects=False)
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    def _next_path(self, method: str, path: str) -> Path:
        with self._lock:
            self._count += 1
            return self.out_dir / f"{self._count:04d}-{method}-{_slug(path)}.json"

    async def handle(self, request: Request) -> Response:
        body = await request.body()
        path = request.scope["path"]
        query = parse_qsl(request.url.query, keep_blank_values=True)
        headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP}
        headers["accept-encoding"] = "identity"
        target = self.upstream + path + (f"?{request.url.query}" if request.url.query else "")
        client = self._http()
        try:
            upstream = await client.request(request.method, target, content=body, headers=headers)
        except Exception as exc:   # the upstream is down or refused: a 502 envelope, recorded as well
            status, answer_headers = 502, {"content-type": "application/json; charset=UTF-8"}
            content = json.dumps({"error": {"code": 502, "status": "UNAVAILABLE",
                                            "message": f"Upstream {self.upstream} failed: {exc}"}}).encode()
        else:
            status, content = upstream.status_code, upstream.content
            answer_headers = {k.lower(): v for k, v in upstream.headers.items()
                              if k.lower() not in HOP_BY_HOP | SECRET_HEADERS | NOT_FORWARDED_BACK}
        proxy = _origin(request)
        for name in URL_HEADERS:   # uploads continue through the recorder
            if name in answer_headers and answer_headers[name].startswith(self.upstream):
                answer_headers[name] = proxy + answer_headers[name][len(self.upstream):]
        secrets = _secrets(request)
        cassette = {
            "cassette": CASSETTE_VERSION,
            "upstream": self.upstream,
            "proxy": proxy,
            "request": {
                "method": request.method,
                "path": path,
                "query": [[k, REDACTED if k in SECRET_QUERY else v] for k, v in query],
                "headers": {k: request.headers[k] for k in REQUEST_HEADERS_KEPT if k in request.headers},
                **encode_body(body, request.headers.get("content-type", "")),
            },
            "response": {
                "status": status,
                "headers": {k: answer_headers[k] for k in RESPONSE_HEADERS_KEPT if k in answer_headers},
                **encode_body(content, answer_headers.get("content-type", "")),
            },
        }
        cassette = _redact(cassette, secrets)
        target_file = self._next_path(request.method, path)
        target_file.write_text(json.dumps(cassette, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        return Response(content, status_code=status, headers=answer_headers)


def create_recorder(upstream: str, out_dir: str | Path, **options: Any) -> Starlette:
    """The recording proxy as a Starlette app (`app.state.recorder` is the Recorder)."""
    from starlette.applications import Starlette
    from starlette.routing import Route

    recorder = Recorder(upstream, out_dir, **options)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        await recorder.aclose()

    app = Starlette(routes=[Route("/{path:path}", recorder.handle, methods=METHODS)], lifespan=lifespan)
    app.state.recorder = recorder
    return app


# ---------------------------------------------------------------------------------------------------
# Replay

def load_cassettes(directory: str | Path) -> list[tuple[Path, dict[str, Any]]]:
    directory = Path(directory)
    if not directory.is_dir():
        raise FileNotFoundError(f"no cassette directory {directory}")
    out: list[tuple[Path, dict[str, Any]]] = []
    for path in sorted(directory.glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(data, dict) and "request" in data and "response" in data:
            out.append((path, data))
    return out


def cassette_key(cassette: dict[str, Any]) -> MatchKey:
    req = cassette["request"]
    return match_key(req["method"], req["path"], [tuple(p) for p in req.get("query") or []], decode_body(req))


class Cassettes:
    """The cassettes of a directory, ready to answer requests."""

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)
        self._by_key: dict[MatchKey, list[dict[str, Any]]] = {}
        self._next: dict[MatchKey, int] = {}
        self._lock = threading.Lock()
        self.count = 0
        for _, cassette in load_cassettes(self.directory):
            self._by_key.setdefault(cassette_key(cassette), []).append(cassette)
            self.count += 1

    def take(self, method: str, path: str, query_pairs: Iterable[tuple[str, str]],
             body: bytes) -> dict[str, Any] | None:
        """The next cassette recorded for this request, or None."""
        key = match_key(method, path, query_pairs, body)
        with self._lock:
            found = self._by_key.get(key)
            if not found:
                return None
            index = self._next.get(key, 0)
            self._next[key] = index + 1
            return found[min(index, len(found) - 1)]

    def rewind(self) -> None:
        with self._lock:
            self._next.clear()

    async def answer(self, request: Request) -> Response | None:
        body = await request.body()
        cassette = self.take(request.method, request.scope["path"],
                             parse_qsl(request.url.query, keep_blank_values=True), body)
        if cassette is None:
            return None
        recorded = cassette["response"]
        headers = dict(recorded.get("headers") or {})
        here = _origin(request)
        for name in URL_HEADERS:   # upload URLs point at whoever serves the replay
            value = headers.get(name)
            for base in (cassette.get("proxy"), cassette.get("upstream")):
                if value and base and value.startswith(base):
                    headers[name] = here + value[len(base):]
                    break
        headers["x-gemini-mock-replayed"] = "true"
        return Response(decode_body(recorded), status_code=int(recorded.get("status", 200)), headers=headers)


def replaying(dispatch: Dispatch, cassettes: Cassettes | str | Path, store: Store) -> Dispatch:
    """Wrap the app's dispatch: a request a cassette matches is answered from it (and journaled),
    anything else goes to `dispatch`."""
    if not isinstance(cassettes, Cassettes):
        cassettes = Cassettes(cassettes)

    async def replay_first(request: Request) -> Response:
        answer = await cassettes.answer(request)
        if answer is None:   # emulated: the journal says no cassette matched it
            response = await dispatch(request)
            entry = request.scope.get(capture.ENTRY_KEY)
            if entry is not None:
                entry["unmatched"] = True
            log.warning("no cassette matched %s %s: answered by the emulator", request.method,
                        request.scope["path"][:300])
            return response
        from .http import api_key
        project = None
        try:
            key = api_key(request)
            project = store.keys.identify(key).project if key else None
        except Exception:
            project = None
        return await capture.finish(store, None, request, answer, {
            "time": store.now(), "method": request.method, "path": request.scope["path"][:2048],
            "project": project, "model": None, "status": answer.status_code, "replayed": True,
            "source": "replay"})

    return replay_first
