"""The Live API's WebSocket skin: `/ws/google.ai.generativelanguage.{version}.GenerativeService.{method}`.

The SDKs build these URLs from the base URL (google/genai/live.py AsyncLive.connect; @google/genai's
live.ts): `BidiGenerateContent` with an API key (google-genai: the `x-goog-api-key` header; @google/genai:
`?key=`), and `BidiGenerateContentConstrained` with an ephemeral token (google-genai: `Authorization:
Token auth_tokens/...`; @google/genai: `?access_token=auth_tokens/...`). Any prefix before `/ws/` is
allowed, as for the REST paths.

The upgrade is always accepted; every refusal is a close frame (protocol.py has the codes), so a client
sees the reason. Server messages go out as binary frames holding JSON, as the real service sends them.
Every session is one journal entry (method `WEBSOCKET`) with its outcome and the kinds of the messages
it carried; an unexpected exception closes with 1011 and lands in `store.internal_errors` like a 500.

Faults (rules.py) apply at `setup`, matched on method `WEBSOCKET`, the path and the setup's model: a
status fault closes the session with its error, a latency fault delays `setupComplete` (and every later
message by `chunkLatencyMs`), a stream cut drops the connection (1011) after `afterChunks` server messages.

`BidiGenerateMusic` is Live music (music.py): an API key only (google/genai/live_music.py sends it as
`x-goog-api-key`, @google/genai's LiveMusic as `?key=`; neither has a token path, so a token is refused as on
BidiGenerateContent). Its session shares the credentials, faults, journal and close frames above; while it
plays, a task sends its audio chunks at the config's `music.speed`.
"""
from __future__ import annotations

import asyncio
import logging
import re
import traceback
from typing import TYPE_CHECKING, Any

from starlette.types import Message
from starlette.websockets import WebSocket, WebSocketDisconnect

from ..errors import ApiError
from ..http import HEAVY_BODY_BYTES, off_loop
from ..journal import redact_headers, redact_query
from ..pacing import pace_for, tokens_in
from ..rules import build_error
from . import protocol
from .music import CHUNK_SECONDS, MusicSession, read_music_message
from .session import LiveSession, SessionEnded
from .tokens import PREFIX, Token

if TYPE_CHECKING:
    from ..auth import Identity
    from ..store import Store

log = logging.getLogger("gemini_mockserver")

PATH = re.compile(r"/ws/google\.ai\.generativelanguage\.(v1alpha|v1beta|v1)\.GenerativeService\."
                  r"(BidiGenerateContent|BidiGenerateContentConstrained|BidiGenerateMusic)\Z")
MUSIC = "BidiGenerateMusic"
JOURNAL_METHOD = "WEBSOCKET"
JOURNAL_MESSAGES = 200          # message kinds kept per session in the journal
JOURNAL_PATH_CHARS = 2048


def _kind(message: dict[str, Any]) -> str:
    if "serverContent" in message:
        return "serverContent." + next(iter(message["serverContent"]), "")
    return next(iter(message), "")


class _Record:
    """What the journal keeps of one session."""

    def __init__(self, path: str, body_limit: int = 0) -> None:
        self.path = path[:JOURNAL_PATH_CHARS]
        self.project: str | None = None
        self.model: str | None = None
        self.messages: list[dict[str, Any]] = []
        self.dropped = 0
        self.room = body_limit   # bytes of message bodies the journal may still keep

    def note(self, direction: str, kind: str, message: dict[str, Any] | None = None, size: int = 0) -> None:
        if len(self.messages) < JOURNAL_MESSAGES:
            noted: dict[str, Any] = {"from": direction, "type": kind}
            if message is not None and 0 < size <= self.room:   # the message itself while there is room
                noted["message"] = message
                self.room -= size
            self.messages.append(noted)
        else:
            self.dropped += 1


def _credential(ws: WebSocket, constrained: bool) -> str:
    """The API key or ephemeral token the client sent, checked against the endpoint it dialled."""
    key = ws.headers.get("x-goog-api-key") or ws.query_params.get("key") or ""
    if constrained:
        auth = ws.headers.get("authorization", "")
        token = ws.query_params.get("access_token") or (auth[6:].strip() if auth[:6].lower() == "token " else "")
        token = token or (key if key.startswith(PREFIX) else "")
        if not token.startswith(PREFIX):
            raise ApiError(401, "UNAUTHENTICATED", "BidiGenerateContentConstrained takes an ephemeral token "
                                                   "(access_token=auth_tokens/...), not an API key.")
        return token
    if key.startswith(PREFIX):
        raise ApiError(401, "UNAUTHENTICATED", "An ephemeral token is accepted only on "
                                               "BidiGenerateContentConstrained.")
    return key


async def live_endpoint(ws: WebSocket) -> None:
    store = ws.app.state.store
    record = _Record(ws.scope.get("path", ""), store.journal.body_limit)
    code, reason, status = protocol.NORMAL_CLOSE, "", 200
    client_gone = False
    await ws.accept()
    try:
        await _serve(ws, store, record)
    except WebSocketDisconnect as gone:
        code, reason, client_gone = gone.code, "closed by the client", True
    except ApiError as error:
        code, reason, status = protocol.close_code(error), protocol.close_reason(error.message), error.code
    except SessionEnded as ended:
        reason = str(ended)
    except Exception:   # a bug: keep it where the plugin's guard looks, and close as the real service would
        detail = traceback.format_exc()
        log.error("internal error in a Live session on %s\n%s", record.path, detail)
        store.internal_errors.append(detail)
        code, reason, status = protocol.INTERNAL_ERROR, "Internal error encountered.", 500
    if not client_gone:
        try:
            await ws.close(code, reason)
        except Exception:   # the client is already gone
            pass
    store.journal.add({
        "time": store.now(), "method": JOURNAL_METHOD, "path": record.path, "project": record.project,
        "model": record.model, "status": status,
        "live": {"closeCode": code, "closeReason": reason, "messagesDropped": record.dropped},
        "request": {"headers": redact_headers(ws.scope.get("headers") or ()),
                    "query": redact_query(ws.scope.get("query_string", b"").decode("latin-1"))},
        "response": {"status": status, "messages": record.messages},
    })


async def _serve(ws: WebSocket, store: Store, record: _Record) -> None:
    found = PATH.search(record.path)
    if found is None:
        raise ApiError(404, "NOT_FOUND", f"The requested URL {record.path[:200]} was not found on this server.")
    version, method = found.groups()
    constrained = method.endswith("Constrained")
    credential = _credential(ws, constrained)
    identity = None if constrained else store.keys.identify(credential)   # constrained: the token's, at setup
    record.project = identity.project if identity else None
    if method == MUSIC:
        assert identity is not None, "the music endpoint takes an API key, never a token"
        await _serve_music(ws, store, record, version, identity)
        return
    session: LiveSession | None = None
    token: Token | None = None   # the ephemeral token of a constrained session
    pacing: dict[str, Any] = {"latency": 0.0, "cut": None}
    turn: _Turn | None = None   # a paced answer being sent while the next client message is read
    try:
        while True:
            frame = await _next_frame(ws, turn.task if turn is not None else None)
            if frame["type"] == "websocket.disconnect":
                raise WebSocketDisconnect(frame.get("code", 1000))
            data: str | bytes = frame["text"] if frame.get("text") is not None else frame.get("bytes") or b""
            kind, body = protocol.read_message(data, version)
            record.note("client", kind, body, len(data))
            if session is None:
                if kind != "setup":
                    raise ApiError(400, "INVALID_ARGUMENT",
                                   f"The first message of a Live session must be setup; got {kind}.")
                if identity is None:
                    token = store.auth_tokens.start_session(
                        credential, resuming=bool((body.get("sessionResumption") or {}).get("handle")))
                    identity = token.identity
                    record.project = identity.project
                    session = LiveSession(store, identity.project, version, identity=identity,
                                          constraints=store.auth_tokens.constraints(token))
                else:
                    session = LiveSession(store, identity.project, version, identity=identity)
                record.model = str(body.get("model") or "")[:JOURNAL_PATH_CHARS] or None
                await _faults(store, identity, record, pacing)
                pacing["pace"] = pace_for(store.config, record.model)
            elif token is not None:
                store.auth_tokens.check_message(token)
            if turn is not None:
                if session.interrupts(kind, body) and await turn.stop():
                    pace = pacing.get("pace")
                    if pace is not None:
                        pace.started = False
                    for message in session.interrupt(turn.delivered):
                        await _send(ws, message, record, pacing)
                else:
                    await turn.task   # the answer goes out whole before this message is taken
                turn = None
            heavy = len(data) >= HEAVY_BODY_BYTES
            messages = await off_loop(heavy, session.handle, kind, body)
            if pacing.get("pace") is not None or pacing["latency"]:   # delivery takes time: it may be interrupted
                turn = _Turn(ws, messages, record, pacing)
            else:
                for message in messages:
                    await _send(ws, message, record, pacing)
            if session.model is not None:
                record.model = session.model["name"].removeprefix("models/")
    finally:   # the session ended (a close, an error): an answer still being sent stops
        if turn is not None:
            turn.task.cancel()


class _Turn:
    """The sending of a paced answer, in a task of its own so that the next client message can be read
    meanwhile; `delivered` counts the modelTurn messages sent so far."""

    def __init__(self, ws: WebSocket, messages: list[dict[str, Any]], record: _Record,
                 pacing: dict[str, Any]) -> None:
        self.delivered = 0
        self.task = asyncio.create_task(self._send_all(ws, messages, record, pacing))

    async def _send_all(self, ws: WebSocket, messages: list[dict[str, Any]], record: _Record,
                        pacing: dict[str, Any]) -> None:
        for message in messages:
            await _send(ws, message, record, pacing)
            if (message.get("serverContent") or {}).get("modelTurn"):
                self.delivered += 1

    async def stop(self) -> bool:
        """Stop sending; True when the answer was still being sent (it is then interrupted)."""
        return await _stop(self.task)


async def _stop(task: asyncio.Task[None]) -> bool:
    """Stop a sending task; True when it was still sending. A stream cut or a send error surfaces here."""
    if task.done():
        task.result()
        return False
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        pass
    return True


async def _next_frame(ws: WebSocket, sending: asyncio.Task[None] | None) -> Message:
    """The next client frame; while server messages are being sent (a turn, music), their failure (a stream
    cut) ends the wait."""
    if sending is None or sending.done():
        if sending is not None:
            sending.result()
        return await ws.receive()
    receiving = asyncio.create_task(ws.receive())
    await asyncio.wait({receiving, sending}, return_when=asyncio.FIRST_COMPLETED)
    if sending.done() and sending.exception() is not None and not receiving.done():
        receiving.cancel()
        sending.result()
    return await receiving


async def _faults(store: Store, identity: Identity, record: _Record, pacing: dict[str, Any]) -> None:
    fault = store.faults.take(identity, JOURNAL_METHOD, record.path, record.model, stream=True)
    if fault is None:
        return
    spec = {key: fault[key] for key in ("code", "status", "message", "details", "retryDelay") if key in fault}
    if fault.get("latencyMs"):
        await asyncio.sleep(fault["latencyMs"] / 1000)
    pacing["latency"] = (fault.get("chunkLatencyMs") or 0.0) / 1000
    if fault["kind"] == "status":
        raise build_error(store, spec, identity=identity, model=record.model)
    if fault["kind"] == "streamCut":
        pacing["cut"] = (fault["afterChunks"], build_error(store, spec, identity=identity, model=record.model))


async def _send(ws: WebSocket, message: dict[str, Any], record: _Record, pacing: dict[str, Any]) -> None:
    cut = pacing["cut"]
    if cut is not None:
        left, error = cut
        if left <= 0:
            raise error
        pacing["cut"] = (left - 1, error)
    if pacing["latency"] and record.messages:
        await asyncio.sleep(pacing["latency"])
    data = protocol.encode(message).encode("utf-8")
    await pace_message(pacing, message, data)
    await ws.send_bytes(data)
    record.note("server", _kind(message), message, len(data))


async def pace_message(pacing: dict[str, Any], message: dict[str, Any], data: bytes) -> None:
    """The configured stream pace (pacing.py) before each message of a model turn; a turn's first waits
    the time to first token."""
    pace = pacing.get("pace")
    if pace is None or "serverContent" not in message:
        return
    content = message["serverContent"]
    if content.get("modelTurn") or content.get("outputTranscription"):
        await pace.wait(tokens_in(data))
    if content.get("turnComplete"):
        pace.started = False   # the next turn waits for its first token again


# -- Live music (BidiGenerateMusic) ---------------------------------------------------------------------

async def _serve_music(ws: WebSocket, store: Store, record: _Record, version: str, identity: Identity) -> None:
    """A Live music session: client messages go to the plain session (music.py); while it plays, a task
    sends its audio chunks, one CHUNK_SECONDS chunk ahead of the listener, at the `music.speed` of the
    config (1: real time; a test may speed it up). Faults apply at setup as for a Live session."""
    session = MusicSession(store, identity.project, version, identity=identity)
    pacing: dict[str, Any] = {"latency": 0.0, "cut": None}
    player: asyncio.Task[None] | None = None
    due = [0.0]   # when the next chunk may go out (the event loop's clock), kept across PAUSE and PLAY
    try:
        while True:
            frame = await _next_frame(ws, player)
            if frame["type"] == "websocket.disconnect":
                raise WebSocketDisconnect(frame.get("code", 1000))
            data: str | bytes = frame["text"] if frame.get("text") is not None else frame.get("bytes") or b""
            kind, body = read_music_message(protocol.parse_frame(data))
            record.note("client", kind, body if isinstance(body, dict) else {kind: body}, len(data))
            if kind == "setup" and session.model is None:
                model = body.get("model") if isinstance(body, dict) else None
                record.model = str(model or "")[:JOURNAL_PATH_CHARS] or None
                await _faults(store, identity, record, pacing)
            for message in session.handle(kind, body):
                await _send(ws, message, record, pacing)
            if session.model is not None:
                record.model = session.model["name"].removeprefix("models/")
            if session.playing and player is None:
                player = asyncio.create_task(_play(ws, session, record, pacing, due))
            elif not session.playing and player is not None:
                await _stop(player)
                player = None
    finally:
        if player is not None:
            player.cancel()


async def _play(ws: WebSocket, session: MusicSession, record: _Record, pacing: dict[str, Any],
                due: list[float]) -> None:
    loop = asyncio.get_running_loop()
    while True:
        wait = due[0] - loop.time()
        if wait > 0:
            await asyncio.sleep(wait)
        await _send(ws, session.next_chunk(), record, pacing)
        due[0] = max(due[0], loop.time()) + CHUNK_SECONDS / float(session.store.config["music"]["speed"])
