"""Model calls answered at the HTTP-protocol level (direct_answers.py), over raw sockets against a live
server: the direct path is taken where it should be, and its answers are byte for byte those of the ASGI
path; whatever it cannot finish at once (a body still arriving, a latency fault, a paced stream, a
pipelined request) is finished by uvicorn's own cycle; keep-alive, `Connection: close` and the header
timer behave as before.

The ASGI path's answer is obtained with an `Origin` header (CORS: the full middleware stack), whose
answer differs only by the CORS headers."""
from __future__ import annotations

import json
import socket
import threading
import time

import httpx
import pytest

from gemini_mockserver.fastpath import EmulatorApp
from support.servers import serve

KEY = "direct-answers-key"
GENERATE = "/v1beta/models/gemini-2.5-flash-lite:generateContent"
STREAM = "/v1beta/models/gemini-2.5-flash-lite:streamGenerateContent?alt=sse"
CORS = (b"access-control-", b"vary")


@pytest.fixture(scope="module")
def live():
    with serve(config={"limits": {"headerSeconds": 1.0, "bodyIdleSeconds": 2.0},
                       "rateLimits": {"enabled": False}}) as server:
        yield server


@pytest.fixture()
def answered_directly(live, monkeypatch):
    """How many requests the protocol answered itself (EmulatorApp.respond is its only caller)."""
    calls = []
    respond = EmulatorApp.respond

    def counting(self, scope, receive):
        calls.append(scope["path"])
        return respond(self, scope, receive)
    monkeypatch.setattr(EmulatorApp, "respond", counting)
    live.store.faults.reset()
    yield calls
    live.store.faults.reset()


def _request(path: str, body: dict, *, extra: str = "") -> bytes:
    data = json.dumps(body).encode()
    return (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nx-goog-api-key: {KEY}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n{extra}\r\n").encode() + data


def _prompt(text: str) -> dict:
    return {"contents": [{"role": "user", "parts": [{"text": text}]}]}


class Reader:
    """HTTP/1.1 answers read off one socket, in order."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buffer = b""

    def _fill(self) -> bool:
        data = self.sock.recv(65536)
        self.buffer += data
        return bool(data)

    def _take(self, count: int) -> bytes:
        while len(self.buffer) < count:
            if not self._fill():
                raise ConnectionError("closed mid-answer")
        data, self.buffer = self.buffer[:count], self.buffer[count:]
        return data

    def _line(self) -> bytes:
        while b"\r\n" not in self.buffer:
            if not self._fill():
                raise ConnectionError("closed mid-answer")
        line, self.buffer = self.buffer.split(b"\r\n", 1)
        return line

    def answer(self) -> tuple[int, dict[bytes, bytes], bytes]:
        status = int(self._line().split()[1])
        headers = {}
        self.names: list[bytes] = []
        while line := self._line():
            name, value = line.split(b": ", 1)
            headers[name.lower()] = value
            self.names.append(name.lower())
        if b"content-length" in headers:
            return status, headers, self._take(int(headers[b"content-length"]))
        body = b""
        while size := int(self._line(), 16):
            body += self._take(size)
            self._take(2)
        self._take(2)
        return status, headers, body

    def closed(self) -> bool:
        return not self.buffer and not self._fill()


def _connect(live) -> tuple[socket.socket, Reader]:
    sock = socket.create_connection(("127.0.0.1", live.port), timeout=10)
    return sock, Reader(sock)


def _without_cors(headers: dict[bytes, bytes]) -> dict[bytes, bytes]:
    return {k: v for k, v in headers.items() if not k.startswith(CORS) and k != b"date"}


def test_a_model_call_is_answered_directly_and_as_the_asgi_path_answers(live, answered_directly):
    sock, reader = _connect(live)
    with sock:
        sock.sendall(_request(GENERATE, _prompt("direct one")))
        direct = reader.answer()
        sock.sendall(_request(GENERATE, _prompt("direct one"), extra="Origin: http://example.test\r\n"))
        via_asgi = reader.answer()
    assert answered_directly == [GENERATE.split("?")[0]]
    assert direct[0] == via_asgi[0] == 200
    assert direct[2] == via_asgi[2]
    assert json.loads(direct[2])["candidates"][0]["content"]["parts"][0]["text"]
    assert _without_cors(direct[1]) == _without_cors(via_asgi[1])
    assert b"access-control-allow-origin" in via_asgi[1]


def test_keep_alive_serves_many_calls_on_one_connection(live, answered_directly):
    sock, reader = _connect(live)
    with sock:
        texts = set()
        for n in range(5):
            sock.sendall(_request(GENERATE, _prompt(f"call number {n}")))
            status, _, body = reader.answer()
            assert status == 200
            texts.add(json.loads(body)["candidates"][0]["content"]["parts"][0]["text"])
    assert len(answered_directly) == 5 and len(texts) == 5


def test_an_sse_answer_goes_out_whole_and_equal(live, answered_directly):
    sock, reader = _connect(live)
    with sock:
        sock.sendall(_request(STREAM, _prompt("stream me")))
        status, headers, body = reader.answer()
        sock.sendall(_request(STREAM, _prompt("stream me"), extra="Origin: http://example.test\r\n"))
        _, asgi_headers, asgi_body = reader.answer()
    assert status == 200 and headers[b"transfer-encoding"] == b"chunked"
    assert body == asgi_body and body.count(b"data: ") >= 2
    assert _without_cors(headers) == _without_cors(asgi_headers)
    assert len(answered_directly) == 1


def test_errors_are_the_same_envelope(live, answered_directly):
    sock, reader = _connect(live)
    with sock:
        sock.sendall(_request(GENERATE, {"contents": [], "bogusField": 1}))
        direct = reader.answer()
        sock.sendall(_request(GENERATE, {"contents": [], "bogusField": 1}, extra="Origin: http://example.test\r\n"))
        via_asgi = reader.answer()
    assert direct[0] == via_asgi[0] == 400
    assert direct[2] == via_asgi[2]
    assert json.loads(direct[2])["error"]["status"] == "INVALID_ARGUMENT"
    assert "bogus" in json.loads(direct[2])["error"]["message"]


def test_a_body_still_arriving_takes_the_asgi_path(live, answered_directly):
    data = json.dumps(_prompt("slow body")).encode()
    head = (f"POST {GENERATE} HTTP/1.1\r\nHost: 127.0.0.1\r\nx-goog-api-key: {KEY}\r\n"
            f"Content-Length: {len(data)}\r\n\r\n").encode()
    sock, reader = _connect(live)
    with sock:
        sock.sendall(head + data[:10])
        time.sleep(0.5)   # well past the hold (HOLD_SECONDS), even on a busy machine
        sock.sendall(data[10:])
        status, _, body = reader.answer()
    assert status == 200 and json.loads(body)["candidates"]
    assert answered_directly == []


def test_a_stalled_body_is_still_a_408(live, answered_directly):
    sock, reader = _connect(live)
    with sock:
        sock.sendall(_request(GENERATE, _prompt("never finished"))[:-5])
        status, headers, body = reader.answer()
    assert status == 408 and json.loads(body)["error"]["status"] == "DEADLINE_EXCEEDED"
    assert headers[b"connection"] == b"close"


def test_a_latency_fault_waits_then_answers_in_a_task(live, answered_directly):
    """The dispatcher's coroutine waits (the fault's sleep): uvicorn's cycle resumes it, in the context
    where it set the call record, so the journal and quotas see the call as usual."""
    live.store.faults.add({"kind": "latency", "match": {"model": "gemini-2.5-flash-lite"}, "latencyMs": 300,
                           "times": 1})
    before = len(live.store.journal.entries())
    sock, reader = _connect(live)
    with sock:
        started = time.monotonic()
        sock.sendall(_request(GENERATE, _prompt("slow answer")))
        status, _, body = reader.answer()
        waited = time.monotonic() - started
        sock.sendall(_request(GENERATE, _prompt("then a quick one")))
        assert reader.answer()[0] == 200
    assert status == 200 and json.loads(body)["candidates"]
    assert waited >= 0.3
    assert len(answered_directly) == 2
    entries = live.store.journal.entries()[before:]
    assert [entry["status"] for entry in entries] == [200, 200]
    assert entries[0].get("fault") and not live.store.internal_errors


def test_an_injected_error_answers_directly(live, answered_directly):
    live.store.faults.add({"match": {"model": "gemini-2.5-flash-lite"}, "code": 503, "times": 1})
    with httpx.Client(base_url=live.base_url, headers={"x-goog-api-key": KEY}) as client:
        answer = client.post(GENERATE, json=_prompt("fails"))
    assert answer.status_code == 503 and answer.json()["error"]["status"] == "UNAVAILABLE"
    assert len(answered_directly) == 1


def test_pipelined_requests_are_answered_in_order(live, answered_directly):
    sock, reader = _connect(live)
    with sock:
        sock.sendall(b"".join(_request(GENERATE, _prompt(f"pipelined {n}")) for n in range(3)))
        bodies = [reader.answer() for _ in range(3)]
    assert [status for status, _, _ in bodies] == [200, 200, 200]
    for n, (_, _, body) in enumerate(bodies):
        sock2, reader2 = _connect(live)
        with sock2:
            sock2.sendall(_request(GENERATE, _prompt(f"pipelined {n}")))
            assert reader2.answer()[2] == body   # the same prompt's answer: in order, none mixed up


def test_connection_close_is_honoured(live, answered_directly):
    sock, reader = _connect(live)
    with sock:
        sock.sendall(_request(GENERATE, _prompt("last one"), extra="Connection: close\r\n"))
        status, headers, _ = reader.answer()
        assert status == 200 and headers[b"connection"] == b"close"
        assert reader.names.count(b"connection") == 1
        assert reader.closed()
    assert len(answered_directly) == 1


@pytest.mark.parametrize("pause", [
    1.6,   # past headerSeconds (1 s here): the wait between requests is the keep-alive's, not the header timer's
    5.5,   # past httpx's 5 s pool expiry: the server keeps the connection longer (KEEP_ALIVE_SECONDS), so a
           # client never sends on a connection the server is closing at that very moment
])
def test_an_idle_connection_between_answers_stays_open(live, answered_directly, pause):
    sock, reader = _connect(live)
    with sock:
        sock.sendall(_request(GENERATE, _prompt("first")))
        assert reader.answer()[0] == 200
        time.sleep(pause)
        sock.sendall(_request(GENERATE, _prompt("second, after a pause")))
        assert reader.answer()[0] == 200


def test_headers_that_stop_midway_are_still_cut(live):
    sock, reader = _connect(live)
    with sock:
        sock.sendall(_request(GENERATE, _prompt("first")))
        assert reader.answer()[0] == 200
        sock.sendall(b"POST " + GENERATE.encode() + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        started = time.monotonic()
        assert reader.closed()
        assert 0.5 < time.monotonic() - started < 5


def test_calls_outside_the_direct_path_are_untouched(live, answered_directly):
    with httpx.Client(base_url=live.base_url, headers={"x-goog-api-key": KEY}) as client:
        assert client.get("/v1beta/models/gemini-2.5-flash-lite").status_code == 200
        assert client.post("/_mock/reset").status_code in (200, 204)
    assert answered_directly == []


def test_a_schema_request_is_worked_in_a_thread_with_its_call_record(live, answered_directly):
    """A body that may carry a schema is worked off the event loop (http.off_loop): the thread sees the
    call record the dispatcher set, so the usage ledger charges the call."""
    project = live.store.keys.identify(KEY).project
    before = live.store.usage.report(project)
    body = {**_prompt("list three things"), "generationConfig": {
        "responseMimeType": "application/json",
        "responseSchema": {"type": "ARRAY", "items": {"type": "STRING"}, "minItems": 3, "maxItems": 3}}}
    sock, reader = _connect(live)
    with sock:
        sock.sendall(_request(GENERATE, body))
        status, _, answer = reader.answer()
    assert status == 200
    assert len(json.loads(json.loads(answer)["candidates"][0]["content"]["parts"][0]["text"])) == 3
    after = live.store.usage.report(project)
    assert after["requests"] == before["requests"] + 1
    assert after["inputTokens"] > before["inputTokens"]
    assert len(answered_directly) == 1


def test_a_media_model_makes_its_answer_off_the_event_loop(live, monkeypatch):
    """A short prompt to a music model costs a song's MP3 encoding: it is made in a worker thread, so the
    event loop serving every other client is not held while it runs."""
    from gemini_mockserver.generation import song_audio

    threads: list[str] = []
    encode = song_audio.encode_mp3

    def recording(samples: bytes) -> bytes:
        threads.append(threading.current_thread().name)
        return encode(samples)

    monkeypatch.setattr(song_audio, "encode_mp3", recording)
    sock, reader = _connect(live)
    with sock:
        sock.sendall(_request("/v1beta/models/lyria-3-clip-preview:generateContent", _prompt("a calm piano tune")))
        assert reader.answer()[0] == 200
    assert threads and not threads[0].startswith("gemini-mock:")   # not the server's event-loop thread
