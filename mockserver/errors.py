"""The one error type. Backends raise ApiError; one handler renders the Google envelope."""
from __future__ import annotations

from http import HTTPStatus
from typing import Any

# HTTP code for each google.rpc.Code name the emulator uses.
STATUS_CODES = {
    "INVALID_ARGUMENT": 400,
    "FAILED_PRECONDITION": 400,
    "OUT_OF_RANGE": 400,
    "UNAUTHENTICATED": 401,
    "PERMISSION_DENIED": 403,
    "NOT_FOUND": 404,
    "ALREADY_EXISTS": 409,
    "ABORTED": 409,
    "RESOURCE_EXHAUSTED": 429,
    "CANCELLED": 499,
    "INTERNAL": 500,
    "UNIMPLEMENTED": 501,
    "UNAVAILABLE": 503,
    "DEADLINE_EXCEEDED": 504,
}

_STATUS_FOR_CODE: dict[int, str] = {}
for _name, _code in STATUS_CODES.items():
    _STATUS_FOR_CODE.setdefault(_code, _name)


class ApiError(Exception):
    """An error answered to the client as {"error": {"code", "message", "status", "details"}}."""

    def __init__(self, code: int, status: str, message: str, details: list[dict[str, Any]] | None = None,
                 headers: dict[str, str] | None = None):
        super().__init__(message)
        self.code = code
        self.status = status
        self.message = message
        self.details = details or []
        self.headers = headers or {}

    def envelope(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message, "status": self.status}
        if self.details:
            error["details"] = self.details
        return {"error": error}

    def __repr__(self) -> str:
        return f"ApiError({self.code}, {self.status!r}, {self.message!r})"


def status_for_code(code: int) -> str:
    """The google.rpc status name for an HTTP code (for faults and rules given only a code)."""
    if code in _STATUS_FOR_CODE:
        return _STATUS_FOR_CODE[code]
    return "INTERNAL" if code >= 500 else "UNKNOWN"


def reason_phrase(code: int) -> str:
    try:
        return HTTPStatus(code).phrase
    except ValueError:
        return "Error"


def invalid_argument(message: str, field: str | None = None) -> ApiError:
    """400 INVALID_ARGUMENT; with `field`, a BadRequest detail naming it, as the real API does."""
    details = []
    if field:
        details.append({
            "@type": "type.googleapis.com/google.rpc.BadRequest",
            "fieldViolations": [{"field": field, "description": message}],
        })
    return ApiError(400, "INVALID_ARGUMENT", message, details)


def failed_precondition(message: str) -> ApiError:
    return ApiError(400, "FAILED_PRECONDITION", message)


def not_found(message: str) -> ApiError:
    return ApiError(404, "NOT_FOUND", message)


def already_exists(message: str) -> ApiError:
    return ApiError(409, "ALREADY_EXISTS", message)


def permission_denied(message: str) -> ApiError:
    return ApiError(403, "PERMISSION_DENIED", message)


def missing_resource(kind: str, name: str) -> ApiError:
    """The one answer for a project resource that is absent, expired, deleted or someone else's.

    The real API answers all of these alike so a caller cannot learn whether the resource exists.
    `kind` is the resource's display word: "File", "CachedContent", "TunedModel", "Corpus", ...
    """
    return ApiError(403, "PERMISSION_DENIED",
                    f"You do not have permission to access the {kind} {name} or it may not exist.")


# google.rpc.Code numbers: a per-request error and Operation.error are google.rpc.Status messages.
RPC_CODES = {
    "OK": 0, "CANCELLED": 1, "UNKNOWN": 2, "INVALID_ARGUMENT": 3, "DEADLINE_EXCEEDED": 4, "NOT_FOUND": 5,
    "ALREADY_EXISTS": 6, "PERMISSION_DENIED": 7, "RESOURCE_EXHAUSTED": 8, "FAILED_PRECONDITION": 9,
    "ABORTED": 10, "OUT_OF_RANGE": 11, "UNIMPLEMENTED": 12, "INTERNAL": 13, "UNAVAILABLE": 14,
    "DATA_LOSS": 15, "UNAUTHENTICATED": 16,
}


def rpc_status(error: ApiError) -> dict[str, Any]:
    """An ApiError as a google.rpc.Status (the `error` of a request that failed inside a batch)."""
    status: dict[str, Any] = {"code": RPC_CODES.get(error.status, 2), "message": error.message}
    if error.details:
        status["details"] = error.details
    return status
