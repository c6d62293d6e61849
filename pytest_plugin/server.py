"""A live emulator on a free loopback port, served from a background thread."""
from __future__ import annotations

import threading
import time

import uvicorn

from mockserver.app import create_app
from mockserver.cli import base_url, bind
from mockserver.store import Store


class LiveServer:
    """The emulator served on 127.0.0.1:<free port> in a daemon thread; `.store` reaches its state."""

    def __init__(self, **app_options) -> None:
        self.app = create_app(**app_options)
        self.store: Store = self.app.state.store
        self._sock = bind("127.0.0.1", 0)
        self.base_url = base_url(self._sock)
        self._server = uvicorn.Server(uvicorn.Config(self.app, log_level="warning", access_log=False,
                                                     lifespan="off"))
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [self._sock]},
                                        name="gemini-mock", daemon=True)

    def start(self) -> "LiveServer":
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the emulator did not start")
            time.sleep(0.005)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._sock.close()
        self.store.close()

    def __enter__(self) -> "LiveServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
