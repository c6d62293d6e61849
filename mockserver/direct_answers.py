"""Model calls answered at the HTTP-protocol level: the server side of the direct path (fastpath.py).

For every request uvicorn builds a request/response cycle, starts an asyncio task for the ASGI app, and
sends the answer as two ASGI messages, written as two socket writes (head, then body). For a model call
on the direct path (`EmulatorApp.answers_at_once`: one that runs a model or counts tokens) whose body
came with its headers, or in the next piece read (at most HOLD_SECONDS later), this protocol runs the
dispatcher's coroutine at once instead, in a context of its own; when it finishes without waiting for
anything (no latency fault, no worker thread) and its answer is whole bytes (a JSON answer, or an SSE
answer built at once), head and body leave in one write. Everything else goes on uvicorn's own cycle
unchanged: a body still arriving (under the body timeout), a coroutine that waits (resumed in a task, in
the same context), a streamed answer (sent through the cycle's ASGI `send`), a client that is not
reading (its writes are paused). The dispatcher, and so every behaviour, is the same on both paths; only
the plumbing differs.

This leans on uvicorn's httptools protocol (its parser callbacks, `cycle`, `_start_asgi_task`,
`server_state.default_headers`), so it is used with the uvicorn versions it was tested with
(UVICORN_TESTED; `tests/system/test_direct_answers.py` checks the path is taken and answers as the ASGI
path does). With a newer uvicorn, without httptools, or on Python 3.10 (no task context),
`protocol_class` returns the plain protocol: the same answers, at uvicorn's own cost.
"""
from __future__ import annotations

import asyncio
import contextvars
import sys
import time
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, Callable

from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from .http import EventStream
from .timeouts import Resumed, header_timed

if TYPE_CHECKING:
    from .access_log import AccessLog
    from .fastpath import EmulatorApp

_STATUS_LINES = {status.value: b"HTTP/1.1 %d %s\r\n" % (status.value, status.phrase.encode()) for status in HTTPStatus}
# The uvicorn versions whose protocol internals this was tested against: [first, last-minor-excluded).
UVICORN_TESTED = ((0, 30), (0, 56))
# How long a request whose headers came without their body is held back for the body to follow; then (or
# at the body's second piece) uvicorn's cycle reads it, its body timeout starting from there.
HOLD_SECONDS = 0.05
# Headers that would change how the request is read or answered, so such a request takes the ASGI path:
# uvicorn's proxy-headers middleware rewrites the client and scheme from the x-forwarded ones.
_ASGI_HEADERS = frozenset({b"x-forwarded-for", b"x-forwarded-proto", b"x-forwarded-host", b"forwarded"})


def protocol_class(header_seconds: Callable[[], float], emulator: EmulatorApp | None = None,
                   access_log: AccessLog | None = None) -> type[asyncio.Protocol]:
    """uvicorn's HTTP protocol with the header timer (timeouts.header_timed) and, for `emulator`, the direct
    answers. `access_log`: the AccessLog wrapping `emulator` (`serve` without `--quiet`), whose line a
    direct answer writes too."""
    base = header_timed(header_seconds)
    if emulator is None or sys.version_info < (3, 11) or not _tested_uvicorn() or \
            not hasattr(base, "_start_asgi_task"):
        return base
    direct: EmulatorApp = emulator
    served: ASGIApp = access_log if access_log is not None else emulator

    class DirectAnswers(base):  # type: ignore[misc, valid-type]
        _holding = False          # inside on_headers_complete: a new request's task may be held back
        _held: Any = None         # the cycle of a request held back until its body is complete
        _hold_timer: asyncio.TimerHandle | None = None

        def on_headers_complete(self) -> None:
            self._holding = True
            try:
                super().on_headers_complete()
            finally:
                self._holding = False

        def _start_asgi_task(self, cycle: Any, app: ASGIApp) -> None:
            # `app` is uvicorn's own 503 answer when its concurrency limit is reached: that one goes as it is
            if self._holding and app is self.app and self._direct(cycle.scope):
                self._held = cycle
                return
            super()._start_asgi_task(cycle, app)

        def _direct(self, scope: Scope) -> bool:
            if self.expect_100_continue or not _served_as_is(self.app, served):
                return False
            if not direct.answers_at_once(scope):
                return False
            return not any(name in _ASGI_HEADERS for name, _ in scope["headers"])

        def on_message_complete(self) -> None:
            super().on_message_complete()
            held = self._unhold()
            if held is not None:
                if held is self.cycle and not self.flow.write_paused:
                    self._answer(held)
                else:
                    super()._start_asgi_task(held, self.app)

        def data_received(self, data: bytes) -> None:
            super().data_received(data)
            if self._held is None:
                return
            if self._hold_timer is None:   # the body follows its headers in a piece of its own (httpx does so)
                self._hold_timer = self.loop.call_later(HOLD_SECONDS, self._release)
            else:   # a body arriving piece by piece: the cycle reads the rest, under the body timeout
                self._release()

        def _release(self) -> None:
            held = self._unhold()
            if held is not None:
                super()._start_asgi_task(held, self.app)

        def _unhold(self) -> Any:
            held, self._held = self._held, None
            if self._hold_timer is not None:
                self._hold_timer.cancel()
                self._hold_timer = None
            return held

        def connection_lost(self, exc: Exception | None) -> None:
            held = self._unhold()
            super().connection_lost(exc)
            if held is not None:   # gone mid-body: the dispatcher sees the disconnect and journals it (499)
                super()._start_asgi_task(held, self.app)

        def _answer(self, cycle: Any) -> None:
            started = time.perf_counter()
            context = contextvars.copy_context()
            coroutine = direct.respond(cycle.scope, cycle.receive)
            try:
                waited_on = context.run(coroutine.send, None)
            except StopIteration as done:
                response: Response = done.value
                body = _whole(response)
                if body is None:   # a streamed answer: sent through the cycle
                    self._run(cycle, _Sending(response, access_log, started), context)
                else:
                    self._write(cycle, response, body)
                    if access_log is not None:
                        access_log.write_line(cycle.scope, response.status_code, started)
                return
            except Exception as error:   # the dispatcher answers every error; this is a bug: uvicorn's 500
                self._run(cycle, _Raising(error), context)
                return
            self._run(cycle, _Sending(Resumed(coroutine, waited_on), access_log, started), context)

        def _run(self, cycle: Any, app: ASGIApp, context: contextvars.Context) -> None:
            """The rest of the request as uvicorn runs an ASGI app, in the request's own context (where the
            dispatcher set its context variables)."""
            task = self.loop.create_task(cycle.run_asgi(app), context=context)
            task.add_done_callback(self.tasks.discard)
            self.tasks.add(task)

        def _write(self, cycle: Any, response: Response, body: bytes) -> None:
            """Head and body in one write, as uvicorn's `send` would frame them, then the cycle's end."""
            head = [_STATUS_LINES.get(response.status_code) or b"HTTP/1.1 %d \r\n" % response.status_code]
            closing = False
            for name, value in (*self.server_state.default_headers, *response.raw_headers):
                if name == b"connection" and b"close" in value.lower():
                    cycle.keep_alive, closing = False, True
                head += (name, b": ", value, b"\r\n")
            if not cycle.keep_alive and not closing:
                head.append(b"connection: close\r\n")
            if isinstance(response, EventStream):   # no length: one chunk, then the last chunk
                head.append(b"transfer-encoding: chunked\r\n\r\n")
                head += (b"%x\r\n" % len(body), body, b"\r\n0\r\n\r\n") if body else (b"0\r\n\r\n",)
            else:
                head += (b"\r\n", body)
            cycle.response_started = cycle.response_complete = True
            self.transport.write(b"".join(head))
            cycle.message_event.set()
            if not cycle.keep_alive:
                self.transport.close()
            cycle.on_response()

    return DirectAnswers


def _tested_uvicorn() -> bool:
    import uvicorn
    try:
        version = tuple(int(part) for part in uvicorn.__version__.split(".")[:2])
    except ValueError:
        return False
    return UVICORN_TESTED[0] <= version < UVICORN_TESTED[1]


def _served_as_is(loaded: ASGIApp, served: ASGIApp) -> bool:
    """uvicorn serves `served` itself, or behind its proxy-headers middleware only (not behind a message
    logger at trace level, or any other wrapper whose work the direct path would skip)."""
    return loaded is served or getattr(loaded, "app", None) is served


def _whole(response: Response) -> bytes | None:
    """The answer's body when it can leave in one write with its head, else None."""
    if isinstance(response, EventStream):
        return b"".join(response.events) if response.untouched else None
    body = getattr(response, "body", None)
    if type(body) is bytes and response.status_code >= 200 and response.status_code not in (204, 304):
        for name, value in response.raw_headers:
            if b"\r" in value or b"\n" in value:   # uvicorn refuses such a header: let it
                return None
        return body
    return None


class _Sending:
    """The ASGI app that finishes a request the protocol started: awaits the answer (a Response, or the
    rest of the dispatcher's coroutine), sends it, and writes the access-log line."""

    def __init__(self, answer: Response | Resumed, access_log: AccessLog | None, started: float) -> None:
        self.answer = answer
        self.access_log = access_log
        self.started = started

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = self.answer if isinstance(self.answer, Response) else await self.answer
        status = response.status_code
        if self.access_log is None:
            await response(scope, receive, send)
            return

        async def logged(message: Any) -> None:
            await send(message)
            if message["type"] == "http.response.body" and not message.get("more_body", False):
                assert self.access_log is not None
                self.access_log.write_line(scope, status, self.started)
        await response(scope, receive, logged)


class _Raising:
    def __init__(self, error: BaseException) -> None:
        self.error = error

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        raise self.error


# How long an idle keep-alive connection stays open. Longer than the idle expiry of the clients' pools
# (httpx 5 s, aiohttp 15 s, Node's undici 4 s), so the client always drops an idle connection first: with
# equal timers (uvicorn's default is httpx's 5 s), a request sent on a connection the server is closing at
# that moment fails with "Server disconnected without sending a response".
KEEP_ALIVE_SECONDS = 20


def uvicorn_options(app: Any) -> dict[str, Any]:
    """The uvicorn.Config options for serving `app` (an EmulatorApp, or the AccessLog around one): the
    protocol with the header timer and the direct answers, and the keep-alive timeout."""
    from .access_log import AccessLog
    from .fastpath import EmulatorApp
    access_log = app if isinstance(app, AccessLog) else None
    emulator = access_log.app if access_log is not None else app
    store = getattr(getattr(emulator, "state", None), "store", None)
    if store is None:
        return {"timeout_keep_alive": KEEP_ALIVE_SECONDS}
    protocol = protocol_class(lambda: store.config["limits"]["headerSeconds"],
                              emulator if isinstance(emulator, EmulatorApp) else None, access_log)
    return {"timeout_keep_alive": KEEP_ALIVE_SECONDS, "http": protocol}

