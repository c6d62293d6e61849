"""The thin HTTP skin shared by every resource: the request context, body reading, JSON in and out."""
from __future__ import annotations

import asyncio
import json
import math
import re
import threading
from typing import TYPE_CHECKING, Any, AsyncIterator, Callable, TypeVar

import orjson

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.types import Receive, Scope, Send

from .auth import Identity
from .call import current_call
from .errors import ApiError, invalid_argument
from .routing import Match
from .schema import normalize

if TYPE_CHECKING:
    from .store import Store

JSON_TYPE = "application/json; charset=UTF-8"


def dumps(data: Any) -> bytes:
    """Compact UTF-8 JSON. orjson writes the same bytes as the stdlib for strings (escapes included); it
    writes NaN and infinities as null and refuses non-string keys and integers beyond 64 bits, so an
    answer with a null in it, or one orjson refuses, takes the stdlib path below."""
    try:
        encoded = orjson.dumps(data)
    except TypeError:   # orjson.JSONEncodeError: a key that is not a string, an integer beyond 64 bits
        encoded = b"null"
    if b"null" not in encoded:
        return encoded
    try:
        return json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()
    except ValueError:   # NaN or an infinity: written as proto3 JSON writes them, strings (never bare NaN)
        return json.dumps(_finite(data), ensure_ascii=False, separators=(",", ":")).encode()


_NON_FINITE = {math.inf: "Infinity", -math.inf: "-Infinity"}


def _finite(value: Any) -> Any:
    if type(value) is float and not math.isfinite(value):
        return _NON_FINITE.get(value, "NaN")
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(item) for item in value]
    return value


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(dumps(data), status_code=status, media_type=JSON_TYPE, headers=headers)


class EventStream(StreamingResponse):
    """A finished SSE answer (`events`: every event, built once), sent in one write after the headers,
    chunked as a stream is. Where the answer is reshaped or paced (rules.finish_response or capture.py
    replace `body_iterator`: delays, a cut, a pace), the events go out one by one as that iterator yields them."""

    def __init__(self, events: list[bytes]) -> None:
        self.events = events
        super().__init__(self.one_by_one(), media_type="text/event-stream")
        self._own_iterator = self.body_iterator

    async def one_by_one(self) -> AsyncIterator[bytes]:
        for event in self.events:
            yield event

    @property
    def untouched(self) -> bool:
        """Nothing replaced the events' own iterator: the answer may go out in one write."""
        return self.body_iterator is self._own_iterator

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self.untouched or scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        # Nothing to wait for between events: no task listening for a disconnect meanwhile either.
        await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
        await send({"type": "http.response.body", "body": b"".join(self.events), "more_body": False})


def error_response(error: ApiError) -> Response:
    return json_response(error.envelope(), error.code, error.headers)


# Nesting deeper than this is refused, as the real front end's proto3-JSON parser refuses it (and no
# recursive walk of a request can then run out of stack).
MAX_JSON_DEPTH = 100
# The general relaxed-JSON parser (json5) is pure Python and slow (~0.1 ms per value): only bodies this
# small go to it. Larger ones take a rewrite at C speed (see _rewrite_relaxed).
RELAXED_PARSER_BYTES = 4096
# A lone UTF-16 surrogate, escaped (\ud800) or raw (what `surrogatepass` decoding lets through).
_SURROGATE_HINT = re.compile(rb"\\u[dD][89a-fA-F]|\xed[\xa0-\xbf]")
# One token of a relaxed body worth rewriting: a double-quoted string, a single-quoted string (group 1),
# or a comma right before a closing bracket (a trailing comma, group 2).
_RELAXED_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|\'((?:[^\'\\]|\\.)*)\'|,(\s*[}\]])', re.DOTALL)
# Inside a string: an escape (a backslash-newline is a line continuation), a double quote (in a
# single-quoted string) or a raw control character (curl -d bodies carry raw newlines and tabs).
_STRING_PIECE = re.compile(r'\\(\r\n|.)|["\x00-\x1f]', re.DOTALL)
_LINE_BREAKS = ("\n", "\r", "\r\n", "\u2028", "\u2029")


class _NotJson(ValueError):
    """A token strict JSON does not have (NaN, Infinity) or a number no double holds."""


def _constant(name: str) -> Any:
    raise _NotJson(f"{name} is not a JSON value")


def _float(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise _NotJson(f"the number {text[:40]} is out of range")
    return value


def parse_json(body: bytes) -> Any:
    """Strict JSON first; then the relaxed JSON Google's front end also takes (single quotes, as the
    seed's own curl examples send). Invalid UTF-8, lone surrogates, NaN / Infinity, numbers out of a
    double's range and nesting deeper than MAX_JSON_DEPTH are 400s."""
    if not body.strip():
        return {}
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:   # what orjson refuses: the stdlib's verdict and message (see _relaxed)
        data = _stdlib_loads(body)
    else:
        if _check_tree(data, strings=_may_hold_surrogates(body), wide=True):
            # orjson reads an integer beyond 64 bits as a float, where the stdlib keeps it exact
            data = _stdlib_loads(body)
        else:
            return data
    _check_tree(data, strings=_may_hold_surrogates(body), wide=False)
    return data


def _may_hold_surrogates(body: bytes) -> bool:
    if b"\\u" not in body and b"\xed" not in body and body[:4].count(0) == 0:
        return False
    return _SURROGATE_HINT.search(body) is not None or body[:4].count(0) > 0


def _stdlib_loads(body: bytes) -> Any:
    try:
        return json.loads(body, parse_constant=_constant, parse_float=_float)
    except RecursionError:
        raise _too_deep() from None
    except UnicodeDecodeError as error:
        raise invalid_argument(
            f"Invalid JSON payload received. Invalid UTF-8 at byte {error.start}.") from None
    except _NotJson as error:
        raise invalid_argument(f"Invalid JSON payload received. {error}.") from None
    except ValueError as strict_error:
        return _relaxed(body, strict_error)


def _relaxed(body: bytes, strict_error: ValueError) -> Any:
    """The relaxed JSON Google's front end takes and the documentation's curl bodies send: single-quoted
    strings, raw newlines and tabs inside strings, backslash-newline continuations, trailing commas
    (rewritten to strict JSON, then parsed at C speed); small bodies may also use the rest of JSON5
    (unquoted keys, comments). Anything else is the strict parser's 400 with its position."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    try:
        if text is not None:
            try:
                return json.loads(_RELAXED_TOKEN.sub(_strict_token, text), parse_constant=_constant,
                                  parse_float=_float)
            except ValueError as error:
                if isinstance(error, _NotJson):
                    raise
        if text is not None and len(body) <= RELAXED_PARSER_BYTES:
            import json5
            return json5.loads(text, parse_constant=_constant, parse_float=_float)
    except RecursionError:
        raise _too_deep() from None
    except _NotJson as error:
        raise invalid_argument(f"Invalid JSON payload received. {error}.") from None
    except Exception:
        pass
    if isinstance(strict_error, json.JSONDecodeError):
        raise invalid_argument(f"Invalid JSON payload received. {strict_error.msg} at line "
                               f"{strict_error.lineno} column {strict_error.colno}.") from None
    # not a syntax error: Python's cap on the digits of an integer literal
    raise invalid_argument("Invalid JSON payload received. A number has more digits than any field "
                           "can hold.") from None


def _strict_token(match: re.Match[str]) -> str:
    """One _RELAXED_TOKEN as strict JSON: a string double-quoted with its control characters escaped,
    a trailing comma dropped."""
    if match.group(2) is not None:
        return str(match.group(2))
    single = match.group(1)
    inner = match.group(0)[1:-1] if single is None else single
    return '"' + _STRING_PIECE.sub(_strict_piece, inner) + '"'


def _strict_piece(match: re.Match[str]) -> str:
    escaped = match.group(1)
    if escaped is None:   # a raw double quote (single-quoted string) or control character
        return "\\u%04x" % ord(match.group(0))
    if escaped in _LINE_BREAKS:   # a line continuation: the backslash and the line break vanish
        return ""
    if escaped == "'":
        return "'"
    return str(match.group(0))


def _too_deep() -> ApiError:
    return invalid_argument(f"Invalid JSON payload received. The payload is nested deeper than "
                            f"{MAX_JSON_DEPTH} levels.")


# orjson parses integers within [-2**63, 2**64) exactly, and larger ones as floats at least this large.
_WIDE = float(2 ** 63)


def _check_tree(data: Any, *, strings: bool, wide: bool = False) -> bool:
    """400 when objects and arrays nest more than MAX_JSON_DEPTH levels, or (with `strings`) when a key
    or string holds a lone surrogate (not UTF-8: no answer could carry it). Iterative: no recursion.
    With `wide`: True (and no further check) at the first float of magnitude 2**63 or more."""
    if not isinstance(data, (dict, list)):
        data = [data]
    stack = [(data, 1)]
    while stack:
        node, depth = stack.pop()
        if type(node) is dict:
            if strings:
                for key in node:
                    _check_string(key)
            children = node.values()
        else:
            children = node
        for child in children:
            kind = type(child)
            if kind is dict or kind is list:
                if depth >= MAX_JSON_DEPTH:
                    raise _too_deep()
                stack.append((child, depth + 1))
            elif strings and kind is str:
                _check_string(child)
            elif wide and kind is float and (child >= _WIDE or child <= -_WIDE):
                return True
    return False


def _check_string(text: str) -> None:
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as error:
            raise invalid_argument(f"Invalid JSON payload received. A string holds a lone surrogate "
                                   f"(U+{ord(text[error.start]):04X}), which is not valid Unicode.") from None


# Requests with a body this large are parsed, validated and answered in a worker thread: the event loop goes
# on serving other clients meanwhile (the interpreter switches threads every few milliseconds). At most
# HEAVY_AT_ONCE run together, so a flood of large requests queues instead of starving the loop.
HEAVY_BODY_BYTES = 256 * 1024
# Schema-driven answers (JSON mode, function arguments) can take up to about a second of generation each: a
# body that may carry a schema goes to a worker thread too.
_SCHEMA_WORDS = (b"chema", b"parameters")
HEAVY_AT_ONCE = 2
_HEAVY_SLOTS = threading.BoundedSemaphore(HEAVY_AT_ONCE)
T = TypeVar("T")


def _in_slot(function: Callable[..., T], *args: Any) -> T:
    with _HEAVY_SLOTS:
        return function(*args)


async def off_loop(heavy: bool, function: Callable[..., T], *args: Any) -> T:
    """`function(*args)`, in a worker thread when `heavy` (with the caller's context variables), else right
    here. asyncio's own thread hand-off, which needs no current task: a request answered at the protocol
    level (direct_answers.py) starts outside one."""
    if not heavy:
        return function(*args)
    return await asyncio.to_thread(_in_slot, function, *args)


async def read_body(request: Request, limit: int) -> bytes:
    """The whole body, or a 400 when it is over `limit` bytes.

    An oversized body is read to the end and dropped before answering, so a client that is still
    sending gets the error envelope rather than a reset connection.
    """
    declared = request.headers.get("content-length")
    size = int(declared) if declared and declared.isdigit() else None
    chunks, received = [], 0
    async for chunk in request.stream():
        received += len(chunk)
        if received <= limit and (size is None or size <= limit):
            chunks.append(chunk)
    if max(received, size or 0) > limit:
        raise _too_large(max(received, size or 0), limit)
    body = chunks[0] if len(chunks) == 1 else b"".join(chunks)
    request.scope["gemini_mock.body"] = body   # for the journal (capture.py): a reference, not a copy
    return body


def _too_large(size: int, limit: int) -> ApiError:
    return invalid_argument(f"Request payload size exceeds the limit: {limit} bytes (got {size} bytes).")


class Context:
    """What a handler gets: the request, the store, the router's Match (the API version, the path
    parameters) and the caller. The body is read, and parsed, once: whoever asks first (the call's
    description reads the `model` of an OpenAI or Interactions body) leaves it for the handler."""

    __slots__ = ("request", "store", "match", "version", "params", "_identity", "heavy", "_body", "_data")

    def __init__(self, request: Request, store: Store, match: Match) -> None:
        self.request = request
        self.store = store
        self.match = match
        self.version = match.version
        self.params = match.params
        self._identity: Identity | None = None
        self.heavy = False   # a large body: its work runs off the event loop (see off_loop)
        self._body: bytes | ApiError | None = None   # the body as read, or why it could not be
        self._data: Any = _UNPARSED

    @property
    def identity(self) -> Identity:
        if self._identity is None:
            self._identity = self.store.keys.identify(api_key(self.request))
        return self._identity

    @property
    def project(self) -> str:
        return self.identity.project

    def query(self, name: str, default: str | None = None) -> str | None:
        return self.request.query_params.get(name, default)

    async def body(self) -> bytes:
        if self._body is None:
            try:
                self._body = await read_body(self.request, self.store.config["limits"]["requestBytes"])
            except ApiError as error:   # too large: the stream is spent, so asking again gets the same answer
                self._body = error
                raise
            self.heavy = self.heavy or len(self._body) >= HEAVY_BODY_BYTES or \
                any(word in self._body for word in _SCHEMA_WORDS)
        if isinstance(self._body, ApiError):
            raise self._body
        return self._body

    async def data(self) -> Any:
        """The body parsed as JSON (any value; a 400 when it is not JSON), parsed once."""
        if self._data is _UNPARSED:
            body = await self.body()
            self._data = await off_loop(self.heavy, parse_json, body)
        return self._data

    async def json(self, message: str | None = None) -> dict[str, Any]:
        """The body as a dict, normalised to camelCase and validated against `message`'s schema."""
        body = await self.body()
        if self._data is not _UNPARSED:
            return await off_loop(self.heavy, _as_request, self.version, message, self._data)
        return await off_loop(self.heavy, _decode, self.version, message, body)

    async def work(self, function: Callable[..., T], *args: Any) -> T:
        """`function(*args)`, off the event loop when this request's body is large or its model makes media:
        a song's MP3, a video or speech takes from milliseconds to most of a second to make, however small
        the request, and other clients must not wait for it."""
        return await off_loop(self.heavy or self._makes_media(), function, *args)

    def _makes_media(self) -> bool:
        call = current_call()
        model = self.store.models.find(call.model) if call is not None and call.model else None
        produced = ((model or {}).get("emulator") or {}).get("responseModalities") or ()
        return any(modality != "TEXT" for modality in produced)


_UNPARSED = object()


def _decode(version: str, message: str | None, body: bytes) -> dict[str, Any]:
    return _as_request(version, message, parse_json(body))


def _as_request(version: str, message: str | None, data: Any) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise invalid_argument("Invalid JSON payload received. The request body must be a JSON object.")
    return normalize(version, message, data) if message else data


def api_key(request: Request) -> str | None:
    """The key from `x-goog-api-key`, `?key=` or `Authorization: Bearer` (the OpenAI-compatible layer)."""
    key = request.headers.get("x-goog-api-key") or request.query_params.get("key")
    if not key:
        auth = request.headers.get("authorization", "")
        if auth[:7].lower() == "bearer ":
            key = auth[7:]
    return key
