"""The hot path's shortcuts change nothing a client sees: orjson reads and writes what the stdlib did (its
errors included), canonical JSON (which seeds every answer) is the stdlib's text, API calls that skip the
middleware stack answer as the full stack does, and an SSE answer sent in one write holds the same events."""
from __future__ import annotations

import asyncio
import json
import math
import random
from types import SimpleNamespace

import orjson
import pytest

from gemini_mockserver import http as http_module
from gemini_mockserver.app import create_app
from gemini_mockserver.errors import ApiError
from gemini_mockserver.generation.counting import canonical_json
from gemini_mockserver.http import EventStream, dumps, parse_json

GENERATE = "/v1beta/models/gemini-3.5-flash-lite:generateContent"
BODY = {"contents": [{"role": "user", "parts": [{"text": "Tell me about rivers."}]}]}

# Bodies orjson reads, refuses, or would read differently from the stdlib.
BODIES = [
    b'{"a": 1, "b": [1.5, -0.0, 1e-7, 2.5e300], "c": "\\u00e9\\ud83d\\ude00", "d": null, "e": true}',
    b'{"big": 18446744073709551616, "neg": -9223372036854775809, "u64": 18446744073709551615}',
    b'{"a": 1e400}', b'{"a": NaN}', b'{"a": -Infinity}', b'{"a": "\\ud800"}', b'{"a": "\xed\xa0\x80"}',
    b'{"a": "\xff"}', b'\xef\xbb\xbf{"a": 1}', b"{'a': 'single', \"b\": [1, 2,],}", b'{"a": "raw\nnewline"}',
    b'{"a": 1,}', b'{"a": }', b'[' * 150 + b']' * 150, b'[' * 2000 + b']' * 2000, b'"\\ud800"', b'12', b'  ',
    b'{"a": 1, "a": 2}', b'{"a": 1' + b"2" * 5000 + b"}", '{"a": "x"}'.encode("utf-16"),
]


def _outcome(body: bytes):
    try:
        value = parse_json(body)
    except ApiError as error:
        return ("error", error.code, error.message)
    return ("value", json.dumps(value, sort_keys=True), repr(value))


@pytest.mark.parametrize("body", BODIES, ids=range(len(BODIES)))
def test_parse_json_reads_and_refuses_as_the_stdlib_does(body, monkeypatch):
    fast = _outcome(body)

    def refuse(_body):
        raise orjson.JSONDecodeError("refused", "", 0)
    monkeypatch.setattr(http_module, "orjson", SimpleNamespace(loads=refuse, dumps=orjson.dumps,
                                                               JSONDecodeError=orjson.JSONDecodeError))
    assert fast == _outcome(body)


def test_integers_beyond_64_bits_stay_exact():
    data = parse_json(b'{"a": 18446744073709551616, "b": -9223372036854775809, "c": 9223372036854775807}')
    assert data == {"a": 2 ** 64, "b": -2 ** 63 - 1, "c": 2 ** 63 - 1}
    assert all(type(value) is int for value in data.values())


def test_dumps_writes_non_finite_numbers_as_strings_and_keeps_what_orjson_refuses():
    assert json.loads(dumps({"a": [math.nan, math.inf, -math.inf, 1.5]})) == \
        {"a": ["NaN", "Infinity", "-Infinity", 1.5]}
    assert json.loads(dumps({1: 2 ** 70, "b": None})) == {"1": 2 ** 70, "b": None}
    assert dumps({"t": "é\u2028\x00\"\\"}) == json.dumps({"t": "é\u2028\x00\"\\"}, ensure_ascii=False,
                                                          separators=(",", ":")).encode()


def _random_value(rng: random.Random, depth: int = 0):
    roll = rng.random()
    if depth > 3 or roll < 0.4:
        return rng.choice([rng.random() * 10 ** rng.randint(-30, 30), rng.randint(-2 ** 70, 2 ** 70), 1e-05,
                           1e16, 1e-7, -0.0, math.nan, "é\n\"x\u2028", "\U0001F600", "\ud800", None, True, 7])
    if roll < 0.7:
        return [_random_value(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    return {rng.choice(["a", "B", "é", "z", "\U0001F600", "_"]) + str(rng.randint(0, 3)): _random_value(rng, depth + 1)
            for _ in range(rng.randint(0, 4))}


def test_canonical_json_is_the_stdlib_text_character_for_character():
    rng = random.Random(20)
    for _ in range(3000):
        value = _random_value(rng)
        try:
            expected = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        except ValueError:
            continue
        assert canonical_json(value) == expected, value


def test_dumps_values_equal_the_stdlib_values():
    rng = random.Random(21)
    for _ in range(2000):
        value = _random_value(rng)
        try:
            reference = json.dumps(value, ensure_ascii=False).encode()
        except ValueError:
            continue
        if "\ud800" in reference.decode("utf-8", "surrogatepass"):
            continue
        try:
            fast = dumps(value)
        except UnicodeEncodeError:
            continue
        assert repr(json.loads(fast)) == repr(json.loads(reference.decode("utf-8", "surrogatepass"),
                                                          parse_constant=lambda c: c))


def _scope(path: str = GENERATE, method: str = "POST", headers=()) -> dict:
    return {"type": "http", "method": method, "path": path, "headers": list(headers)}


def test_only_api_posts_no_middleware_acts_on_take_the_direct_path():
    app = create_app()
    assert app.takes_direct_path(_scope())
    assert not app.takes_direct_path(_scope(headers=[(b"origin", b"http://page.example")]))   # CORS acts
    assert not app.takes_direct_path(_scope("/_mock/reset"))                                 # control plane
    assert not app.takes_direct_path(_scope(method="GET"))
    assert not app.takes_direct_path({"type": "websocket", "path": "/ws", "headers": []})
    app.state.store.persister = object()                                                     # a state dir
    assert not app.takes_direct_path(_scope())


def test_direct_and_full_stack_answer_the_same(gemini_mock, http):
    direct = http.post(GENERATE, json=BODY)
    full = http.post(GENERATE, json=BODY, headers={"origin": "http://page.example"})
    assert direct.status_code == full.status_code == 200
    assert direct.json() == full.json()
    assert "access-control-allow-origin" not in direct.headers
    assert full.headers["access-control-allow-origin"] == "*"
    for response in (http.post("/v1beta/models/nope:generateContent", json=BODY),
                     http.post("/v1beta/models/nope:generateContent", json=BODY,
                               headers={"origin": "http://page.example"})):
        assert response.status_code == 404 and response.json()["error"]["status"] == "NOT_FOUND"
    bad = http.post(GENERATE, content=b'{"contents": NaN}')
    assert bad.status_code == 400 and "NaN is not a JSON value" in bad.json()["error"]["message"]
    entries = [(e["path"], e["status"]) for e in gemini_mock.requests]
    assert entries[-5:] == [(GENERATE, 200), (GENERATE, 200), ("/v1beta/models/nope:generateContent", 404),
                            ("/v1beta/models/nope:generateContent", 404), (GENERATE, 400)]


def test_control_plane_keeps_its_checks_on_post(http):
    refused = http.post("/_mock/reset", headers={"origin": "http://evil.example"})
    assert refused.status_code == 403 and refused.json()["error"]["status"] == "PERMISSION_DENIED"


def test_sse_answer_is_one_write_of_every_event(http):
    answer = http.post(GENERATE.replace("generateContent", "streamGenerateContent") + "?alt=sse", json=BODY)
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/event-stream")
    assert answer.headers.get("transfer-encoding") == "chunked"
    events = [json.loads(line[len("data: "):]) for line in answer.text.split("\r\n\r\n") if line]
    whole = http.post(GENERATE, json=BODY).json()
    assert len(events) >= 3
    assert "".join(e["candidates"][0]["content"]["parts"][0].get("text", "") for e in events) == \
        whole["candidates"][0]["content"]["parts"][0]["text"]


def test_event_stream_sends_headers_then_one_body_message():
    messages: list[dict] = []

    async def send(message):
        messages.append(message)

    async def receive():   # never read: nothing to wait for
        raise AssertionError("receive called")

    asyncio.run(EventStream([b"data: {}\r\n\r\n", b"data: {}\r\n\r\n"])({"type": "http"}, receive, send))
    assert [m["type"] for m in messages] == ["http.response.start", "http.response.body"]
    assert messages[1] == {"type": "http.response.body", "body": b"data: {}\r\n\r\ndata: {}\r\n\r\n",
                           "more_body": False}


def test_truncate_text_is_the_prefix_of_split_pieces():
    from gemini_mockserver.generation.tokens import count_text, split_text, truncate_text
    rng = random.Random(22)
    alphabet = ["a", "tokenization", "supercalifragilistic", " ", "  ", "\n\n", "7", "中", "é", ",", "_", "word",
                "x" * 11, "abcdefg"]
    for _ in range(5000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 30)))
        limit = rng.randint(0, 40)
        expected = "" if limit <= 0 else text if count_text(text) <= limit else "".join(split_text(text)[:limit])
        assert truncate_text(text, limit) == expected


def test_body_wait_arms_its_timeout_only_when_it_waits():
    from gemini_mockserver.timeouts import _within

    async def ready():
        return "ready"

    async def after_a_pause():
        await asyncio.sleep(0)
        await asyncio.sleep(0.001)
        return "arrived"

    async def stalled():
        await asyncio.sleep(60)

    async def scenario():
        loop = asyncio.get_running_loop()
        timers = len(getattr(loop, "_scheduled", ()))
        assert await _within(ready(), 5) == "ready"
        assert len(getattr(loop, "_scheduled", ())) == timers      # nothing armed for a message already there
        assert await _within(after_a_pause(), 5) == "arrived"
        with pytest.raises(asyncio.TimeoutError):
            await _within(stalled(), 0.01)
    asyncio.run(scenario())


def test_a_config_reset_undoes_every_patch_and_skips_the_work_when_nothing_was_patched():
    from gemini_mockserver.config import Config
    config = Config({"seed": 7})
    untouched = config["limits"]
    config.reset()                       # nothing patched: the same values, not rebuilt
    assert config["limits"] is untouched and config["seed"] == 7
    config.patch({"limits": {"journalEntries": 5}, "seed": 9})
    assert config["limits"]["journalEntries"] == 5
    config.reset()
    assert config["limits"]["journalEntries"] == 10_000 and config["seed"] == 7
    config.patch({"seed": 1})
    config.reset()
    config.reset()
    assert config["seed"] == 7
