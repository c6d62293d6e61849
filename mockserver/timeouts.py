"""Read timeouts on connections, so a client that stops sending cannot hold a connection forever.

* Headers: a connection that opens, or starts a request, and does not finish its headers within
  `limits.headerSeconds` is closed (uvicorn has no such timer of its own: its keep-alive timer only runs
  between requests, and the first byte of a new request stops it).
* Body: while a request's body is incomplete, each wait for the next piece may last `limits.bodyIdleSeconds`;
  past it the request is answered 408 in the Google envelope (`Connection: close`), and the server goes on
  serving others. An idle timeout rather than a total one, so a slow but steady upload still completes.

Both read the live config, so `/_mock/config` changes them; `gemini-mock serve --read-timeout` sets both.
"""
from __future__ import annotations

import asyncio
from typing import Callable

from .errors import ApiError


def _request_timeout(seconds: float) -> ApiError:
    return ApiError(408, "DEADLINE_EXCEEDED",
                    f"The request body did not arrive in time (nothing received for {seconds:g} s).",
                    headers={"Connection": "close"})


async def _within(awaitable, seconds: float):
    """`await awaitable`, or asyncio.TimeoutError after `seconds` of waiting. A receive whose message is
    already there completes in its first step: then no timer is armed at all (arming and cancelling one
    costs more than the rest of the read). asyncio.timeout (Python 3.11+) runs the wait in the current
    task; wait_for (3.10) wraps it in a task of its own."""
    waiting = awaitable
    if hasattr(awaitable, "send"):   # a coroutine (every ASGI server's receive)
        try:
            first = awaitable.send(None)
        except StopIteration as done:
            return done.value
        waiting = _Resumed(awaitable, first)
    timeout = getattr(asyncio, "timeout", None)
    if timeout is None:
        return await asyncio.wait_for(waiting, seconds)
    async with timeout(seconds):
        return await waiting


class _Resumed:
    """The rest of a coroutine that was stepped once and yielded `first` (what `yield from` does)."""

    def __init__(self, coroutine, first) -> None:
        self._coroutine = coroutine
        self._first = first

    def __await__(self):
        coroutine, value = self._coroutine, self._first
        while True:
            try:
                sent = yield value
            except GeneratorExit:
                coroutine.close()
                raise
            except BaseException as error:   # a cancellation (the timeout's) goes on into the coroutine
                try:
                    value = coroutine.throw(error)
                except StopIteration as done:
                    return done.value
            else:
                try:
                    value = coroutine.send(sent)
                except StopIteration as done:
                    return done.value


class BodyTimeoutMiddleware:
    """ASGI middleware: `receive` raises a 408 ApiError when the body stalls (handlers answer it as any
    other ApiError). Once the body is complete, `receive` is passed through untouched (it then only waits
    for a disconnect, which may take as long as a streamed answer does)."""

    def __init__(self, app, seconds: Callable[[], float]) -> None:
        self.app = app
        self.seconds = seconds

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        complete = False

        async def bounded_receive():
            nonlocal complete
            if complete:
                return await receive()
            seconds = float(self.seconds())
            try:
                message = await _within(receive(), seconds) if seconds > 0 else await receive()
            except asyncio.TimeoutError:
                complete = True
                raise _request_timeout(seconds) from None
            if message["type"] != "http.request" or not message.get("more_body", False):
                complete = True
            return message

        await self.app(scope, bounded_receive, send)


def protocol_class(seconds: Callable[[], float]):
    """uvicorn's HTTP protocol (httptools when installed, else h11) with a header timer: see the module doc."""
    try:
        from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol as Base
    except ImportError:  # pragma: no cover - httptools not installed
        from uvicorn.protocols.http.h11_impl import H11Protocol as Base

    class HeaderTimedProtocol(Base):  # type: ignore[misc, valid-type]
        _header_timer: asyncio.TimerHandle | None = None

        def _waiting_for_headers(self) -> bool:
            return self.cycle is None or self.cycle.response_complete

        def _arm(self) -> None:
            limit = float(seconds())
            if self._header_timer is None and limit > 0:
                self._header_timer = self.loop.call_later(limit, self._headers_late)

        def _disarm(self) -> None:
            if self._header_timer is not None:
                self._header_timer.cancel()
                self._header_timer = None

        def _headers_late(self) -> None:
            self._header_timer = None
            if self._waiting_for_headers() and not self.transport.is_closing():
                self.transport.close()

        def connection_made(self, transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._arm()

        def data_received(self, data: bytes) -> None:
            if self._waiting_for_headers():
                self._arm()
            super().data_received(data)
            if not self._waiting_for_headers():
                self._disarm()

        def connection_lost(self, exc) -> None:
            self._disarm()
            super().connection_lost(exc)

    return HeaderTimedProtocol


def uvicorn_options(app) -> dict:
    """The uvicorn.Config options that give `app`'s server its header timeout (body timeouts are in the app)."""
    store = getattr(getattr(app, "state", None), "store", None)
    if store is None:
        return {}
    return {"http": protocol_class(lambda: store.config["limits"]["headerSeconds"])}
