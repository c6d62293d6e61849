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
from collections.abc import Coroutine, Generator
from typing import Any, Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .errors import ApiError


def _request_timeout(seconds: float) -> ApiError:
    return ApiError(408, "DEADLINE_EXCEEDED",
                    f"The request body did not arrive in time (nothing received for {seconds:g} s).",
                    headers={"Connection": "close"})


async def _within(awaitable: Any, seconds: float) -> Any:
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
        waiting = Resumed(awaitable, first)
    timeout = getattr(asyncio, "timeout", None)
    if timeout is None:
        return await asyncio.wait_for(waiting, seconds)
    async with timeout(seconds):
        return await waiting


class Resumed:
    """The rest of a coroutine that was stepped once and yielded `first` (what `yield from` does)."""

    def __init__(self, coroutine: Coroutine[Any, Any, Any], first: Any) -> None:
        self._coroutine = coroutine
        self._first = first

    def __await__(self) -> Generator[Any, Any, Any]:
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

    def __init__(self, app: ASGIApp, seconds: Callable[[], float]) -> None:
        self.app = app
        self.seconds = seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        complete = False

        async def bounded_receive() -> Message:
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


def header_timed(seconds: Callable[[], float]) -> type[asyncio.Protocol]:
    """uvicorn's HTTP protocol (httptools when installed, else h11) with a header timer: see the module doc."""
    try:
        from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
    except ImportError:  # pragma: no cover - httptools not installed
        return _h11_header_timed(seconds)

    class HeaderTimedProtocol(HttpToolsProtocol):
        """The wait for headers starts when the connection opens and when a request's first byte arrives,
        and ends with its last header (the parser's callbacks). One timer a connection, re-armed only when
        it fires early: a request whose headers come at once costs a clock read, no timer."""
        _header_timer: asyncio.TimerHandle | None = None
        _head_since: float | None = None   # when the headers now awaited began to be awaited

        def connection_made(self, transport: Any) -> None:
            super().connection_made(transport)
            self._await_head()

        def on_message_begin(self) -> None:
            super().on_message_begin()
            self._await_head()

        def on_headers_complete(self) -> None:
            self._head_since = None
            super().on_headers_complete()

        def connection_lost(self, exc: Exception | None) -> None:
            if self._header_timer is not None:
                self._header_timer.cancel()
                self._header_timer = None
            super().connection_lost(exc)

        def _await_head(self) -> None:
            self._head_since = self.loop.time()
            if self._header_timer is None:
                self._schedule(float(seconds()))

        def _schedule(self, delay: float) -> None:
            if delay > 0:
                self._header_timer = self.loop.call_later(delay, self._headers_due)

        def _headers_due(self) -> None:
            self._header_timer = None
            since, limit = self._head_since, float(seconds())
            if since is None or limit <= 0 or self.transport.is_closing():
                return
            left = since + limit - self.loop.time()
            if left > 0:   # a later request's headers: their own deadline
                self._schedule(left)
            else:
                self.transport.close()

    return HeaderTimedProtocol


def _h11_header_timed(seconds: Callable[[], float]) -> type[asyncio.Protocol]:  # pragma: no cover
    """The header timer on uvicorn's h11 protocol (no parser callbacks: armed on data while no request is
    being answered)."""
    from uvicorn.protocols.http.h11_impl import H11Protocol

    class HeaderTimedProtocol(H11Protocol):
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

        def connection_made(self, transport: Any) -> None:
            super().connection_made(transport)
            self._arm()

        def data_received(self, data: bytes) -> None:
            if self._waiting_for_headers():
                self._arm()
            super().data_received(data)
            if not self._waiting_for_headers():
                self._disarm()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

    return HeaderTimedProtocol
