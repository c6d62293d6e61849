"""A live emulator (or any ASGI app) on a free loopback port, served from a background thread.

The server keeps working while a test freezes or moves time with freezegun or time-machine: its event
loop reads a monotonic clock those libraries do not patch (uvloop's own, or the real `time.monotonic`
kept aside before any test could patch it), so its timers, keep-alive handling and shutdown run on real
time while the emulator's `Clock` (which reads `time.time()`) follows the frozen time.
"""
from __future__ import annotations

import asyncio
import socket
import threading
import time
from typing import TYPE_CHECKING, Any

import uvicorn

from gemini_mockserver.cli import base_url, bind
from gemini_mockserver.store import Store

if TYPE_CHECKING:
    from gemini_mockserver.tls import TlsFiles

    from .plugin import _Occupancy

# Kept in a dict, not a module attribute: freezegun swaps every module attribute that is the real
# `time.monotonic`, but it does not look inside containers.
_REAL = {"monotonic": time.monotonic}


class _RealTimeLoop(asyncio.SelectorEventLoop):
    """An asyncio loop whose timers follow the real monotonic clock even while time is faked."""

    def time(self) -> float:
        return _REAL["monotonic"]()


def new_real_time_loop() -> asyncio.AbstractEventLoop:
    """uvloop's loop (libuv keeps its own clock) when installed, else a `_RealTimeLoop`."""
    try:
        import uvloop
    except ImportError:
        return _RealTimeLoop()
    return uvloop.new_event_loop()


class _ThreadServer(uvicorn.Server):
    """uvicorn.Server that says when it is listening and stops at once when asked, whatever the time."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None

    def run(self, sockets: list[socket.socket] | None = None) -> None:
        loop = new_real_time_loop()
        try:
            loop.run_until_complete(self.serve(sockets=sockets))
        finally:
            try:
                loop.run_until_complete(loop.shutdown_asyncgens())
            finally:
                loop.close()

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        await super().startup(sockets=sockets)
        self.ready.set()

    async def main_loop(self) -> None:
        # uvicorn's own loop polls `should_exit` every 0.1 s; this one also wakes up on `wake()`.
        counter = 0
        should_exit = await self.on_tick(counter)
        wake = self._wake
        assert wake is not None   # set by startup(), which serve() runs first
        while not should_exit:
            counter = (counter + 1) % 864000
            try:
                await asyncio.wait_for(wake.wait(), 0.1)
            except asyncio.TimeoutError:
                pass
            should_exit = await self.on_tick(counter)

    def wake(self) -> None:
        loop, event = self._loop, self._wake
        if loop is not None and event is not None and not loop.is_closed():
            try:
                loop.call_soon_threadsafe(event.set)
            except RuntimeError:   # the loop closed meanwhile
                pass


class LiveServer:
    """The emulator served on 127.0.0.1:<free port> in a daemon thread.

    `.base_url` is its address, `.store` its state (None for an app that has none). Give `app=` to
    serve another ASGI application the same way (the record-and-replay tests serve the recorder so);
    `sock=` serves an already bound socket; `tls=` (a `gemini_mockserver.tls.TlsFiles`) serves HTTPS and
    WSS; otherwise the keyword arguments go to `gemini_mockserver.app.create_app`.
    """

    occupancy: _Occupancy   # set by the gemini_server fixture (declared only: `hasattr` tells whether it is)

    def __init__(self, app: Any = None, *, host: str = "127.0.0.1", sock: socket.socket | None = None,
                 tls: TlsFiles | None = None, **app_options: Any) -> None:
        if app is None:
            from gemini_mockserver.app import create_app
            app = create_app(**app_options)
        elif app_options:
            raise TypeError("give either app= or create_app options, not both")
        self.app = app
        state = getattr(app, "state", None)
        self.store: Store | None = getattr(state, "store", None) if state is not None else None
        self._sock = sock if sock is not None else bind(host, 0)
        self.base_url = base_url(self._sock)
        self.tls = tls   # gemini_mockserver.tls.TlsFiles: serve HTTPS and WSS with them
        ssl_options: dict[str, Any] = {}
        if tls is not None:
            self.base_url = "https://" + self.base_url.removeprefix("http://")
            ssl_options = {"ssl_certfile": str(tls.cert), "ssl_keyfile": str(tls.key)}
        self.port = self._sock.getsockname()[1]
        from gemini_mockserver.direct_answers import uvicorn_options
        self._server = _ThreadServer(uvicorn.Config(
            app, log_level="warning", access_log=False, lifespan="off", **uvicorn_options(app), **ssl_options))
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [self._sock]},
                                        name=f"gemini-mock:{self.port}", daemon=True)
        self._stopped = False

    def start(self) -> "LiveServer":
        self._thread.start()
        # Event.wait measures real time, whatever freezegun or time-machine do to `time`.
        while not self._server.ready.wait(0.01):
            if not self._thread.is_alive():
                raise RuntimeError("the emulator did not start")
        return self

    def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        server = self._server
        server.should_exit = True
        server.wake()
        self._thread.join(timeout=5)
        if self._thread.is_alive():   # a connection that will not close: stop without waiting for it
            server.force_exit = True
            server.wake()
            self._thread.join(timeout=5)
        self._sock.close()
        if self.store is not None:
            self.store.close()

    def __enter__(self) -> "LiveServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
