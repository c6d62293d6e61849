"""The OpenAI layer's error shape, its small value checks, and the wrapper every handler runs in."""
from __future__ import annotations

from typing import Any

from starlette.responses import Response

from ...errors import ApiError, invalid_argument
from ...http import Context, json_response
from ...routing import Handler


def error_body(error: ApiError) -> list[Any]:
    """The layer's error body: the native envelope in a one-element list."""
    return [error.envelope()]


def error_response(error: ApiError) -> Response:
    return json_response(error_body(error), error.code, error.headers)


# -- small checks -----------------------------------------------------------------------------------


def unknown_field(name: str, where: str = "") -> ApiError:
    at = f" at '{where}'" if where else ""
    return invalid_argument(f'Invalid JSON payload received. Unknown name "{name}"{at}: Cannot find field.', name)


def expect_object(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise invalid_argument(f"Invalid value at '{where}': expected an object.", where)
    return value


def expect_integer(value: Any, where: str, low: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or int(value) != value:
        raise invalid_argument(f"Invalid value at '{where}': expected an integer, got {value!r}.", where)
    if low is not None and value < low:
        raise invalid_argument(f"Invalid value at '{where}': must be at least {low}, got {value!r}.", where)
    return int(value)


def expect_number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise invalid_argument(f"Invalid value at '{where}': expected a number, got {value!r}.", where)
    return value


# -- handlers: shared -------------------------------------------------------------------------------


def with_openai_errors(handler: Handler) -> Handler:
    """Authenticate, run, and answer any ApiError in the layer's own error shape."""
    async def wrapped(ctx: Context) -> Response:
        try:
            ctx.identity
            return await handler(ctx)
        except ApiError as error:
            return error_response(error)
    wrapped.__name__ = handler.__name__
    wrapped.__doc__ = handler.__doc__
    return wrapped


async def json_body(ctx: Context) -> dict[str, Any]:
    data = await ctx.data()
    if not isinstance(data, dict):
        raise invalid_argument("Invalid JSON payload received. The request body must be a JSON object.")
    return data
