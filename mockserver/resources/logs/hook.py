"""The hook around the generation handlers that turns a call into a log when logging is on.
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Iterator

from ...errors import ApiError

if TYPE_CHECKING:
    from ...http import Context

# -- the hook around the generation handlers ------------------------------------------------------------


class LoggedExchange:
    """The request and the answer a generation handler hands to `log_call` (call.Call is the per-request
    record, a different thing)."""
    __slots__ = ("request", "response")

    def __init__(self) -> None:
        self.request: Any = None
        self.response: Any = None


@contextmanager
def log_call(ctx: Context, method: str, model: str | None = None) -> Iterator[LoggedExchange]:
    """Wrap the body of a generateContent / streamGenerateContent handler: when logging is on for the
    caller's project, the call becomes a log (its answer, or the error it raised, re-raised)."""
    exchange = LoggedExchange()
    logs = ctx.store.logs
    project = ctx.identity.project
    if not logs.enabled(project):
        yield exchange
        return
    start = ctx.store.now()
    model = model or ctx.params.get("model", "")
    model = model if model.startswith(("models/", "tunedModels/")) else f"models/{model}"
    try:
        yield exchange
    except ApiError as error:
        logs.record(project, method=method, model=model, version=ctx.version, request=exchange.request,
                    error=error, latency=ctx.store.now() - start)
        raise
    logs.record(project, method=method, model=model, version=ctx.version, request=exchange.request,
                response=exchange.response, latency=ctx.store.now() - start)
