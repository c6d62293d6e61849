"""The thin HTTP skin shared by every resource: the request context, body reading, JSON in and out."""
from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from .auth import Identity
from .errors import ApiError, invalid_argument
from .schema import normalize

JSON_TYPE = "application/json; charset=UTF-8"


def dumps(data: Any) -> bytes:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(dumps(data), status_code=status, media_type=JSON_TYPE, headers=headers)


def error_response(error: ApiError) -> Response:
    return json_response(error.envelope(), error.code, error.headers)


def parse_json(body: bytes) -> Any:
    """Strict JSON first; then the relaxed JSON Google's front end also takes (single quotes, as the
    seed's own curl examples send)."""
    if not body.strip():
        return {}
    try:
        return json.loads(body)
    except ValueError as strict_error:
        try:
            import json5
            return json5.loads(body.decode("utf-8"))
        except Exception:
            raise invalid_argument(
                f"Invalid JSON payload received. {strict_error.msg} at line {strict_error.lineno}"
                f" column {strict_error.colno}.") from None


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
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def _too_large(size: int, limit: int) -> ApiError:
    return invalid_argument(f"Request payload size exceeds the limit: {limit} bytes (got {size} bytes).")


class Context:
    """What a handler gets: the request, the store, the API version, path parameters and the caller."""

    __slots__ = ("request", "store", "version", "params", "_identity")

    def __init__(self, request: Request, store, version: str, params: dict[str, str]) -> None:
        self.request = request
        self.store = store
        self.version = version
        self.params = params
        self._identity: Identity | None = None

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
        return await read_body(self.request, self.store.config["limits"]["requestBytes"])

    async def json(self, message: str | None = None) -> dict:
        """The body as a dict, normalised to camelCase and validated against `message`'s schema."""
        data = parse_json(await self.body())
        if not isinstance(data, dict):
            raise invalid_argument("Invalid JSON payload received. The request body must be a JSON object.")
        if message:
            data = normalize(self.version, message, data)
        return data


def api_key(request: Request) -> str | None:
    """The key from `x-goog-api-key`, `?key=` or `Authorization: Bearer` (the OpenAI-compatible layer)."""
    key = request.headers.get("x-goog-api-key") or request.query_params.get("key")
    if not key:
        auth = request.headers.get("authorization", "")
        if auth[:7].lower() == "bearer ":
            key = auth[7:]
    return key
