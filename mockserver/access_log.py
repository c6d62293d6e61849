"""One line per request on the terminal (`gemini-mock serve` without `--quiet`).

    POST /v1beta/models/gemini-2.5-flash:generateContent model=gemini-2.5-flash 200 3.1 ms

The line carries the method, the path (never the query string, where `?key=` would sit, nor any
header, so no API key is ever printed; with `--log-bodies`, a short `prompt="..." answer="..."` from the
journal, with anything shaped like a key redacted), the model the path names, the status and the latency in
milliseconds from the request's arrival to its last byte. It is written to stderr, so the start-up lines on
stdout stay easy to read for scripts. The latency is measured on the real monotonic clock: it describes the
process, not emulated state.
"""
from __future__ import annotations

import re
import sys
import time
from typing import TextIO

from starlette.types import ASGIApp, Message, Receive, Scope, Send

# A model named in the path: /v1beta/models/NAME:method, /v1beta/tunedModels/NAME, ...
MODEL_IN_PATH = re.compile(r"/(?:models|tunedModels)/([^/:]+)")
PATH_CHARS = 300


def model_of(path: str) -> str:
    found = MODEL_IN_PATH.search(path)
    return found.group(1) if found else "-"


def printable(path: str) -> str:
    """The path as one harmless line: control characters escaped, long paths cut."""
    cleaned = path.encode("unicode_escape", "backslashreplace").decode("ascii") if not path.isprintable() else path
    return cleaned if len(cleaned) <= PATH_CHARS else cleaned[:PATH_CHARS] + "..."


def format_line(method: str, path: str, status: int, millis: float) -> str:
    return f"{method} {printable(path)} model={model_of(path)} {status} {millis:.1f} ms"


class AccessLog:
    """ASGI middleware writing `format_line` for every HTTP request once its answer is sent."""

    def __init__(self, app: ASGIApp, stream: TextIO | None = None, bodies: bool = False) -> None:
        self.app = app
        self.stream = stream
        self.bodies = bodies   # --log-bodies: the prompt and the answer in one short line (journal.one_line)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 0
        logged = False

        def log(code: int) -> None:
            nonlocal logged
            if not logged:
                logged = True
                self.write_line(scope, code, started)

        async def logging_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)
            if message["type"] == "http.response.body" and not message.get("more_body", False):
                log(status)

        try:
            await self.app(scope, receive, logging_send)
        finally:
            log(status or 500)   # an answer cut short still gets its line

    def write_line(self, scope: Scope, status: int, started: float) -> None:
        """The request's line, `started` being its arrival on the perf_counter clock."""
        millis = (time.perf_counter() - started) * 1000
        stream = self.stream or sys.stderr
        try:
            line = format_line(scope["method"], scope.get("path", ""), status, millis)
            if self.bodies:
                from .journal import one_line
                summary = one_line(scope.get("gemini_mock.entry"))
                line += f" {summary}" if summary else ""
            stream.write(line + "\n")
            stream.flush()
        except (OSError, ValueError):   # the terminal went away: serving goes on
            pass
