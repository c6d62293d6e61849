"""What the plugin does for a whole pytest session, from `pytest_configure` on, before any test module is
imported: reserve the emulator's address, point the SDK environment at it, and start the real-API guard.

A client built at import or collection time (`client = genai.Client()` at the top of a module) then talks
to the emulator, never to the real, billed API, whatever keys the developer's shell holds.

google-genai reads (google/genai/_api_client.py and _base_url.py, 3.6.1): GOOGLE_API_KEY, then GEMINI_API_KEY
for the key; GOOGLE_GEMINI_BASE_URL for the Gemini API's base URL (GOOGLE_VERTEX_BASE_URL for Vertex AI);
GOOGLE_GENAI_USE_VERTEXAI / GOOGLE_GENAI_USE_ENTERPRISE, GOOGLE_CLOUD_PROJECT and GOOGLE_CLOUD_LOCATION to
choose Vertex AI. The session sets the first three and removes the Vertex AI switches; everything is
restored when the session ends.
"""
from __future__ import annotations

import os
import select
import socket
import threading
from typing import TYPE_CHECKING, Any, Callable

from gemini_mockserver.cli import base_url, bind

if TYPE_CHECKING:
    from .server import LiveServer

ENV_KEYS = ("GEMINI_API_KEY", "GOOGLE_API_KEY")
ENV_BASE_URL = "GOOGLE_GEMINI_BASE_URL"
# Set in a developer's shell these would send genai.Client() to Vertex AI instead of the emulator.
ENV_CLEARED = ("GOOGLE_GENAI_USE_VERTEXAI", "GOOGLE_GENAI_USE_ENTERPRISE", "GOOGLE_CLOUD_PROJECT",
               "GOOGLE_CLOUD_LOCATION")
# The key clients built outside a `gemini_mock` test use (its own project on the emulator).
SESSION_KEY = "gemini-mock-session"


class Environment:
    """Sets variables and puts back exactly what was there before."""

    def __init__(self) -> None:
        self._saved: dict[str, str | None] = {}

    def set(self, name: str, value: str | None) -> None:
        if name not in self._saved:
            self._saved[name] = os.environ.get(name)
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value

    def point_at(self, url: str, key: str = SESSION_KEY) -> None:
        for name in ENV_CLEARED:
            self.set(name, None)
        for name in ENV_KEYS:   # GOOGLE_API_KEY wins in the SDK when both are set; set both alike
            self.set(name, key)
        self.set(ENV_BASE_URL, url)

    def restore(self) -> None:
        for name, value in self._saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        self._saved.clear()


class LazyServer:
    """A loopback address reserved now, with the emulator behind it started on first use.

    The emulator starts when a test asks for it (`started()`, the `gemini_server` fixture) or when the
    first connection arrives (a client built and used at import time): the kernel queues that connection
    on the listening socket until the server takes it. Sessions that never call it pay only for a socket.
    """

    def __init__(self, host: str = "127.0.0.1", *, on_start: Callable[[LiveServer], object] | None = None,
                 **app_options: Any) -> None:
        self._on_start = on_start              # called with the LiveServer once it runs
        self._app_options = app_options        # for gemini_mockserver.app.create_app
        self._sock = bind(host, 0)
        self.base_url = base_url(self._sock)
        self._lock = threading.Lock()
        self._server: LiveServer | None = None
        self._closed = False
        self._stop_r, self._stop_w = socket.socketpair()
        self._watcher = threading.Thread(target=self._watch, name="gemini-mock:lazy", daemon=True)
        self._watcher.start()

    def _watch(self) -> None:
        try:
            readable, _, _ = select.select([self._sock, self._stop_r], [], [])
        except (OSError, ValueError):   # closed meanwhile
            return
        if self._stop_r not in readable:
            try:
                self.started()
            except Exception:   # the reason shows again when a test asks for the server
                pass

    def started(self) -> "LiveServer":
        """The emulator, started now if it was not yet."""
        with self._lock:
            if self._closed:
                raise RuntimeError("the session's emulator was stopped")
            if self._server is None:
                from .server import LiveServer
                self._server = LiveServer(sock=self._sock, **self._app_options).start()
                if self._on_start is not None:
                    self._on_start(self._server)
            return self._server

    @property
    def running(self) -> bool:
        return self._server is not None

    def stop(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            server = self._server
        try:
            self._stop_w.send(b"x")
        except OSError:
            pass
        self._watcher.join(timeout=5)
        if server is not None:
            server.stop()
        else:
            self._sock.close()
        self._stop_w.close()
        self._stop_r.close()
