"""The request journal: every API request with what was sent and what was answered, bounded.

An entry is captured cheaply on the hot path (references to bytes already read, never a copy of a large
body) and turned into JSON only when read:

    {"id": 7, "time": "...", "method": "POST", "path": "...", "project": "...", "model": "...",
     "status": 400, "source": "emulated" | "rule" | "replay" | "fault", "rule"?: "rule-1", "fault"?: ...,
     "error"?: "<the error envelope's message>",
     "request": {"headers": {...}, "query": {...}, "body": <JSON | text | summary>, "bodyBytes": n},
     "response": {"headers": {...}, "body": ..., "bodyBytes": n, "events"?: [...], "messages"?: [...]}}

Bounds (config `limits`): `journalEntries` entries, `journalBytes` bytes in all, `journalEntryBytes` bytes of
body per entry (a longer body keeps its head, with base64 media left out first). The oldest entries go
first and are counted in `dropped`. API keys never enter the journal: the key headers and the `key` /
`access_token` query parameters are replaced by `REDACTED` as the entry is made.
"""
from __future__ import annotations

import asyncio
import json
import re
import threading
from collections import deque
from typing import Any, Callable, Iterable
from urllib.parse import parse_qsl

from .wire import format_time

REDACTED = "REDACTED"
SECRET_HEADERS = frozenset({b"x-goog-api-key", b"authorization", b"cookie", b"x-gemini-mock-token",
                            b"proxy-authorization"})
SECRET_QUERY = re.compile(r"(?i)(^|&)(key|access_token)=[^&]*")
ENTRY_OVERHEAD = 512        # what an entry costs besides its bodies, for the byte bound
# A string this long under one of these keys (a media part's base64 `data`) is left out of a body that is
# over the entry cap. Found with bytes.find (C speed: a 20 MB body takes milliseconds, not a regex's 80 ms).
MEDIA_KEYS = (b'"data"', b'"bytesBase64Encoded"', b'"b64_json"')
MEDIA_CHARS = 1024
SOURCES = ("emulated", "rule", "replay", "fault")


def redact_headers(raw: Iterable[tuple[bytes, bytes]]) -> str:
    """The headers as one `name: value` line each, secrets redacted. One string, not a list of pairs: a
    full journal then holds a few objects per entry, not dozens for the garbage collector to walk."""
    return "\n".join(f"{name.decode('latin-1')}: "
                     f"{REDACTED if name.lower() in SECRET_HEADERS else value.decode('latin-1')}"
                     for name, value in raw)


def header_map(text: str | None) -> dict[str, str]:
    pairs = (line.split(": ", 1) for line in (text or "").split("\n") if line)
    return {pair[0]: (pair[1] if len(pair) > 1 else "") for pair in pairs}


def redact_query(query: str) -> str:
    return SECRET_QUERY.sub(lambda m: f"{m.group(1)}{m.group(2)}={REDACTED}", query) if query else ""


def clip_body(body: bytes | None, limit: int) -> tuple[bytes | None, int]:
    """(what the journal keeps of `body`, its full size). Under `limit` the body itself (no copy); over
    it, base64 media left out, then the head."""
    if body is None:
        return None, 0
    size = len(body)
    if size <= limit:
        return body, size
    body = without_media(body)
    return (body if len(body) <= limit else body[:limit]), size


def without_media(body: bytes) -> bytes:
    """`body` with every long string under a MEDIA_KEYS key replaced by a note of its length."""
    spans = []
    for key in MEDIA_KEYS:
        at = body.find(key)
        while at >= 0:
            start = at + len(key)
            while start < len(body) and body[start] in b" \t\r\n:":
                start += 1
            if start >= len(body) or body[start] != 0x22:   # not a string value
                at = body.find(key, start)
                continue
            end = body.find(b'"', start + 1)
            if end < 0:
                break
            if end - start - 1 >= MEDIA_CHARS:
                spans.append((start + 1, end))
            at = body.find(key, end)
    if not spans:
        return body
    pieces, last = [], 0
    for start, end in sorted(spans):
        pieces += [body[last:start], b"[%d base64 characters left out]" % (end - start)]
        last = end
    pieces.append(body[last:])
    return b"".join(pieces)


class Entry(dict[str, Any]):
    """One journal entry as read: a dict (the JSON above) with the bodies decoded for tests.

    `request_json` / `response_json`: the bodies as JSON (None when not JSON); `events`: a streamed
    answer's events (SSE `data:` payloads as JSON) or a Live session's messages."""

    @property
    def request_json(self) -> Any:
        body = (self.get("request") or {}).get("body")
        return body if isinstance(body, (dict, list)) else None

    @property
    def response_json(self) -> Any:
        body = (self.get("response") or {}).get("body")
        return body if isinstance(body, (dict, list)) else None

    @property
    def events(self) -> list[Any]:
        response = self.get("response") or {}
        return list(response.get("events") or response.get("messages") or [])


class Journal:
    """The last requests, bounded in count and bytes; says how many it had to drop.

    `limits`: a function giving (entries, total bytes, body bytes per entry), read at each entry so a
    config change at run time applies at once."""

    def __init__(self, limits: Callable[[], tuple[int, int, int]] | int) -> None:
        self._limits = limits if callable(limits) else (lambda: (limits, 1 << 62, 1 << 20))
        self._entries: deque[dict[str, Any]] = deque()
        self._bytes = 0
        self._next = 1
        self.dropped = 0
        self._lock = threading.Lock()
        self._listeners: list[tuple[asyncio.AbstractEventLoop, asyncio.Queue[dict[str, Any]]]] = []

    def limits(self) -> tuple[int, int, int]:
        try:
            count, total, each = self._limits()
            return max(0, int(count)), max(0, int(total)), max(0, int(each))
        except (TypeError, ValueError, OverflowError):
            return 0, 0, 0

    @property
    def body_limit(self) -> int:
        return self.limits()[2]

    def add(self, entry: dict[str, Any]) -> dict[str, Any]:
        """Keep `entry` (its `time` in epoch seconds); gives it an id and returns it."""
        size = ENTRY_OVERHEAD + _body_bytes(entry)
        with self._lock:
            entry["id"] = self._next
            entry["_size"] = size
            self._next += 1
            self._entries.append(entry)
            self._bytes += size
            self._trim()
        self._notify(entry)
        return entry

    def grew(self, entry: dict[str, Any], size: int) -> None:
        """`entry` (a stream being answered) now holds `size` more bytes."""
        with self._lock:
            entry["_size"] = entry.get("_size", 0) + size
            if not entry.get("_gone"):
                self._bytes += size
                self._trim()

    def finished(self, entry: dict[str, Any]) -> None:
        """`entry`'s answer is complete (a stream ended): tell the listeners."""
        self._notify(entry)

    def _trim(self) -> None:
        count, total, _ = self.limits()
        while self._entries and (len(self._entries) > count or self._bytes > total):
            old = self._entries.popleft()
            old["_gone"] = True
            self._bytes -= old.get("_size", 0)
            self.dropped += 1

    def raw(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._entries)

    def find(self, entry_id: int) -> dict[str, Any] | None:
        entry: dict[str, Any]   # reversed() of a container of dict[str, Any] is typed Any
        with self._lock:
            for entry in reversed(self._entries):
                if entry.get("id") == entry_id:
                    return entry
        return None

    def entries(self, bodies: bool = False) -> list[Entry]:
        """The entries, oldest first, times as RFC 3339 timestamps; with `bodies`, requests and answers."""
        return [render(entry, bodies) for entry in self.raw()]

    @property
    def bytes(self) -> int:
        return self._bytes

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._bytes = 0
            self.dropped = 0

    # -- server push (the dashboard's live list) --------------------------------------------------------
    def listen(self) -> asyncio.Queue[dict[str, Any]]:
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize=1000)
        with self._lock:
            self._listeners.append((asyncio.get_running_loop(), queue))
        return queue

    def unlisten(self, queue: asyncio.Queue[dict[str, Any]]) -> None:
        with self._lock:
            self._listeners = [(loop, q) for loop, q in self._listeners if q is not queue]

    def _notify(self, entry: dict[str, Any]) -> None:
        if not self._listeners:
            return
        for loop, queue in list(self._listeners):
            try:
                loop.call_soon_threadsafe(_offer, queue, entry)
            except RuntimeError:   # that loop is closed
                self.unlisten(queue)


def _offer(queue: asyncio.Queue[dict[str, Any]], entry: dict[str, Any]) -> None:
    try:
        queue.put_nowait(entry)
    except asyncio.QueueFull:   # a listener that does not read misses entries; it never blocks serving
        pass


def _body_bytes(entry: dict[str, Any]) -> int:
    size = 0
    for side in ("request", "response"):
        part = entry.get(side)
        if isinstance(part, dict) and isinstance(part.get("body"), (bytes, bytearray)):
            size += len(part["body"])
    return size


# -- reading ------------------------------------------------------------------------------------------

def decode_body(body: Any, content_type: str = "") -> Any:
    """A kept body as JSON when it is JSON, else text, else a summary of its bytes."""
    if body is None or isinstance(body, (dict, list)):
        return body
    if isinstance(body, str):
        return body
    data = bytes(body)
    if not data:
        return None
    if data[:1] in (b"{", b"[") or "json" in content_type:
        try:
            return json.loads(data)
        except ValueError:
            pass
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return {"binary": True, "bytes": len(data)}


def sse_payloads(chunks: Iterable[bytes]) -> list[Any]:
    """The `data:` payloads of the SSE events in a stream's chunks, as JSON where they are JSON."""
    out: list[Any] = []
    joined = b"".join(chunks).decode("utf-8", "replace").replace("\r\n", "\n")
    for text in joined.split("\n\n"):
        data = "\n".join(line[5:].lstrip() for line in text.splitlines() if line.startswith("data:"))
        if not data:
            continue
        try:
            out.append(json.loads(data))
        except ValueError:
            out.append(data)
    return out


def error_message(entry: dict[str, Any]) -> str | None:
    """The error envelope's message of an answer that is an error."""
    if not isinstance(entry.get("status"), int) or entry["status"] < 400:
        return None
    body = decode_body((entry.get("response") or {}).get("body"))
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        return str(body["error"].get("message", ""))[:500]
    live = entry.get("live") or {}
    return live.get("closeReason") or None


def render(entry: dict[str, Any], bodies: bool) -> Entry:
    out = Entry((key, value) for key, value in entry.items()
                if not key.startswith("_") and key not in ("request", "response"))
    out["time"] = format_time(entry["time"])
    out.setdefault("source", "replay" if entry.get("replayed") else "emulated")
    message = error_message(entry)
    if message:
        out["error"] = message
    if bodies:
        out["request"] = _side(entry.get("request"))
        out["response"] = _side(entry.get("response"))
    return out


def _side(part: dict[str, Any] | None) -> dict[str, Any]:
    if not part:
        return {}
    headers = header_map(part.get("headers"))
    content_type = headers.get("content-type", "")
    side: dict[str, Any] = {"headers": headers}
    if "query" in part:
        side["query"] = dict(parse_qsl(part.get("query") or "", keep_blank_values=True))
    if "status" in part:
        side["status"] = part["status"]
    side["body"] = decode_body(part.get("body"), content_type)
    side["bodyBytes"] = part.get("bodyBytes", 0)
    kept = part.get("body")
    if isinstance(kept, (bytes, bytearray)) and len(kept) < side["bodyBytes"]:
        side["truncated"] = True
    if "summary" in part:
        side["summary"] = part["summary"]
    if part.get("events") is not None:
        side["events"] = sse_payloads(part["events"])
        if part.get("eventsDropped"):
            side["eventsDropped"] = part["eventsDropped"]
    if part.get("messages") is not None:
        side["messages"] = list(part["messages"])
    return side


def search_text(entry: dict[str, Any]) -> str:
    """Everything the `text` filter looks through, lower-cased."""
    pieces = [entry.get("path") or "", entry.get("model") or ""]
    for side in ("request", "response"):
        part = entry.get(side) or {}
        for key in ("body",):
            value = part.get(key)
            if isinstance(value, (bytes, bytearray)):
                pieces.append(bytes(value).decode("utf-8", "replace"))
        for event in part.get("events") or ():
            pieces.append(event.decode("utf-8", "replace"))
        for message in part.get("messages") or ():
            pieces.append(json.dumps(message))
        pieces.append(part.get("query") or "")
    return "\n".join(pieces).lower()


# -- one line of it (the access log's --log-bodies) ----------------------------------------------------

LINE_CHARS = 80
# Secrets a prompt or answer may carry: Google API keys and ephemeral tokens.
_SECRETS = re.compile(r"AIza[0-9A-Za-z_\-]{20,}|auth_tokens/[0-9A-Za-z_\-]+")


def _short(text: str) -> str:
    text = _SECRETS.sub(REDACTED, " ".join(text.split()))
    text = text if len(text) <= LINE_CHARS else text[:LINE_CHARS - 3] + "..."
    return json.dumps(text, ensure_ascii=False)


def _texts(value: Any) -> list[str]:
    """The answer's text: Gemini's candidates' parts, OpenAI's choices (message or delta)."""
    if not isinstance(value, dict):
        return []
    out: list[str] = []
    for candidate in value.get("candidates") or ():
        for part in ((candidate or {}).get("content") or {}).get("parts") or ():
            if isinstance(part, dict) and isinstance(part.get("text"), str) and not part.get("thought"):
                out.append(part["text"])
            elif isinstance(part, dict) and part.get("functionCall"):
                out.append(f"[functionCall {part['functionCall'].get('name')}]")
    for choice in value.get("choices") or ():
        message = (choice or {}).get("message") or (choice or {}).get("delta") or {}
        if isinstance(message.get("content"), str):
            out.append(message["content"])
    return out


def _prompt(body: Any) -> str:
    if not isinstance(body, dict):
        return ""
    from .rules import prompt_text
    text = prompt_text(body)
    messages = body.get("messages")
    if not text and isinstance(messages, list) and messages and isinstance(messages[-1], dict):
        content = messages[-1].get("content")
        text = content if isinstance(content, str) else ""
    return text


def one_line(entry: dict[str, Any] | None) -> str:
    """`prompt="..." answer="..."` (or `error="..."`) of a journaled call, each cut short, keys redacted."""
    if not entry:
        return ""
    request = decode_body((entry.get("request") or {}).get("body"))
    response = entry.get("response") or {}
    pieces = []
    prompt = _prompt(request)
    if prompt:
        pieces.append(f"prompt={_short(prompt)}")
    message = error_message(entry)
    if message:
        pieces.append(f"error={_short(message)}")
    else:
        answers = [text for event in sse_payloads(response.get("events") or ()) for text in _texts(event)] \
            if response.get("events") is not None else _texts(decode_body(response.get("body")))
        if answers:
            pieces.append(f"answer={_short(''.join(answers))}")
    return " ".join(pieces)
