"""No request can stall the server: each finding of the cost half of issue 14, reproduced through raw HTTP
against a live server.

* schemas whose smallest answer cannot fit in the model's output are 400s naming the keyword, at once;
* a large valid body is worked off the event loop: a second client keeps getting answers meanwhile;
* callers' regexes (journal filter, rule prompts) run with a time budget: a catastrophic one is a 400;
* a connection that stops sending headers is closed, a stalled body answered 408, others still served.

Timing bounds here are hang detectors (seconds where the old code took minutes or forever), not benchmarks.
"""
from __future__ import annotations

import json
import socket
import threading
import time

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from support.servers import serve
from support import assert_envelope

KEY = {"x-goog-api-key": "security-cost-key"}
OTHER = {"x-goog-api-key": "security-cost-other"}
GENERATE = "/v1beta/models/gemini-2.5-flash:generateContent"
HANG = 5.0   # seconds: an answer later than this is a hang
FUZZ_HANG = 15.0   # the fuzzer's bound: generous, as examples run beside the rest of the suite on 2 cores


@pytest.fixture(scope="module")
def live():
    config = {"limits": {"headerSeconds": 1.0, "bodyIdleSeconds": 1.0}, "rateLimits": {"enabled": False}}
    with serve(config=config) as server:
        # Warm up (schemas and validators load on first use), so the timings below measure requests only.
        warm = _json_request("responseJsonSchema", {"type": "object", "properties": {"a": {"type": "string"}}})
        assert httpx.post(server.base_url + GENERATE, headers=KEY, json=warm, timeout=60).status_code == 200
        assert httpx.post(server.base_url + GENERATE, headers=KEY, timeout=60, json=_json_request(
            "responseSchema", {"type": "OBJECT", "properties": {"a": {"type": "STRING"}}})).status_code == 200
        yield server


@pytest.fixture()
def client(live):
    with httpx.Client(base_url=live.base_url, timeout=HANG) as session:
        yield session


def _json_request(schema_key: str, schema, **config) -> dict:
    return {"contents": [{"parts": [{"text": "List some things"}]}],
            "generationConfig": {"responseMimeType": "application/json", schema_key: schema, **config}}


class Prober:
    """A second client asking a cheap question over and over; records each answer's latency."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.latencies: list[float] = []
        self.statuses: list[int] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        with httpx.Client(base_url=self.base_url, timeout=HANG) as session:
            while not self._stop.is_set():
                started = time.monotonic()
                try:
                    response = session.get("/v1beta/models/gemini-2.5-flash", headers=OTHER)
                    self.statuses.append(response.status_code)
                except httpx.TimeoutException:
                    self.statuses.append(0)
                self.latencies.append(time.monotonic() - started)
                time.sleep(0.02)

    def __enter__(self) -> "Prober":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        deadline = time.monotonic() + HANG   # let it get at least one answer after the attack too
        answered = len(self.statuses)
        while len(self.statuses) <= answered and time.monotonic() < deadline:
            time.sleep(0.01)
        self._stop.set()
        self._thread.join(HANG * 2)

    def assert_served(self, at_least: int = 3) -> None:
        assert len(self.statuses) >= at_least, self.statuses
        assert set(self.statuses) == {200}, self.statuses
        assert max(self.latencies) < HANG, self.latencies


# -- finding 1: schema-driven output is bounded before any work -----------------------------------------

@pytest.mark.parametrize("schema_key, schema, field", [
    ("responseSchema", {"type": "OBJECT", "properties": {"x": {"type": "ARRAY", "items": {"type": "STRING"},
                                                               "minItems": "1000000000"}}, "required": ["x"]},
     "generationConfig.responseSchema.properties[x].minItems"),
    ("responseJsonSchema", {"type": "string", "minLength": 1e9}, "generationConfig.responseJsonSchema.minLength"),
    ("responseJsonSchema", {"type": "string", "pattern": "^a{100000000}$"},
     "generationConfig.responseJsonSchema.pattern"),
    ("responseJsonSchema", {"type": "array", "minItems": 3000, "items": {"type": "array", "minItems": 3000,
                                                                        "items": {"type": "integer"}}},
     "generationConfig.responseJsonSchema.minItems"),
    ("responseJsonSchema", {"type": "object", "minProperties": 10 ** 9}, "generationConfig.responseJsonSchema.minProperties"),
])
def test_schema_that_cannot_fit_is_refused_naming_the_keyword(live, client, schema_key, schema, field):
    with Prober(live.base_url) as prober:
        started = time.monotonic()
        response = client.post(GENERATE, headers=KEY, json=_json_request(schema_key, schema))
        assert time.monotonic() - started < HANG
    error = assert_envelope(response, 400, "INVALID_ARGUMENT", field=field)
    assert error["details"][0]["fieldViolations"][0]["field"] == field
    prober.assert_served(at_least=1)


def test_required_recursion_is_refused(client):
    schema = {"$defs": {"node": {"type": "object", "required": ["left", "right"],
                                 "properties": {"left": {"$ref": "#/$defs/node"}, "right": {"$ref": "#/$defs/node"}}}},
              "$ref": "#/$defs/node"}
    response = client.post(GENERATE, headers=KEY, json=_json_request("responseJsonSchema", schema))
    assert_envelope(response, 400, "INVALID_ARGUMENT", field="generationConfig.responseJsonSchema")


def test_function_parameters_are_bounded_too(client):
    body = {"contents": [{"parts": [{"text": "call lookup"}]}],
            "tools": [{"functionDeclarations": [{"name": "lookup", "parameters": {
                "type": "OBJECT", "properties": {"q": {"type": "STRING", "minLength": "999999999"}}}}]}],
            "toolConfig": {"functionCallingConfig": {"mode": "ANY"}}}
    response = client.post(GENERATE, headers=KEY, json=body)
    assert_envelope(response, 400, "INVALID_ARGUMENT",
                    field="tools[0].functionDeclarations[0].parameters.properties[q].minLength")


def test_huge_schema_is_refused_before_validation(client):
    leaves = {f"p{i}": {"type": "object", "properties": {f"q{j}": {"type": "string"} for j in range(80)}}
              for i in range(80)}
    response = client.post(GENERATE, headers=KEY, json=_json_request("responseJsonSchema",
                                                                     {"type": "object", "properties": leaves}))
    assert_envelope(response, 400, "INVALID_ARGUMENT", field="generationConfig.responseJsonSchema")


def test_a_schema_that_fits_still_answers_valid_json(client):
    schema = {"type": "array", "minItems": 500, "items": {"type": "string", "minLength": 20}}
    response = client.post(GENERATE, headers=KEY, json=_json_request("responseJsonSchema", schema))
    assert response.status_code == 200, response.text
    value = json.loads(response.json()["candidates"][0]["content"]["parts"][0]["text"])
    assert len(value) >= 500 and all(len(item) >= 20 for item in value)


def test_a_huge_answer_cut_by_max_output_tokens_costs_only_what_is_shown(client):
    # 20,000 required properties in each of 8 candidates: made whole, this took seconds a candidate. Only the
    # part before the cut is made, and it is the same prefix as a longer cut of the same answer.
    schema = {"type": "object", "properties": {"a": {"type": "number"}}, "required": ["a"], "minProperties": 20000}
    texts = {}
    for limit in (40, 400):
        response = client.post(GENERATE, headers=KEY, json=_json_request(
            "responseJsonSchema", schema, candidateCount=8, maxOutputTokens=limit,
            thinkingConfig={"thinkingBudget": 0}))   # no thoughts: the whole limit goes to the answer
        assert response.status_code == 200, response.text
        candidates = response.json()["candidates"]
        assert len(candidates) == 8 and {c["finishReason"] for c in candidates} == {"MAX_TOKENS"}
        texts[limit] = [c["content"]["parts"][0]["text"] for c in candidates]
    for short, long in zip(texts[40], texts[400]):
        assert long.startswith(short) and len(long) > len(short)


def test_candidates_share_the_value_budget(client):
    # Without maxOutputTokens each candidate would be whole: candidateCount may not multiply the work.
    schema = {"type": "object", "properties": {"a": {"type": "number"}}, "required": ["a"], "minProperties": 20000}
    one = client.post(GENERATE, headers=KEY, json=_json_request("responseJsonSchema", schema))
    assert one.status_code == 200, one.text
    assert len(json.loads(one.json()["candidates"][0]["content"]["parts"][0]["text"])) == 20000
    many = client.post(GENERATE, headers=KEY, json=_json_request("responseJsonSchema", schema, candidateCount=3))
    assert_envelope(many, 400, "INVALID_ARGUMENT", field="generationConfig.responseJsonSchema")
    assert "all its candidates together" in many.json()["error"]["message"]


def test_large_valid_body_does_not_block_other_clients(live):
    # ~7 MB of valid turns: seconds of parsing, validation and token counting, all off the event loop.
    body = json.dumps({"contents": [{"role": "user", "parts": [{"text": f"turn {i} about the garden"}]}
                                    for i in range(100_000)]}).encode()
    result: dict = {}

    def heavy() -> None:
        with httpx.Client(base_url=live.base_url, timeout=120) as session:
            started = time.monotonic()
            response = session.post(GENERATE, headers={**KEY, "content-type": "application/json"}, content=body)
            result.update(status=response.status_code, seconds=time.monotonic() - started, text=response.text[:300])

    worker = threading.Thread(target=heavy)
    with Prober(live.base_url) as prober:
        worker.start()
        worker.join(120)
    assert result.get("status") == 200, result
    prober.assert_served()


# -- finding 6: callers' regexes have a time budget ---------------------------------------------------

def test_journal_path_filter_with_catastrophic_regex(live, client):
    client.get("/v1beta/" + "a" * 40 + "!", headers=KEY)
    with Prober(live.base_url) as prober:
        started = time.monotonic()
        response = client.get("/_mock/requests", params={"path": "^/v1beta/(a|aa)+$"})
        assert time.monotonic() - started < HANG
    assert_envelope(response, 400, "INVALID_ARGUMENT", field="path")
    prober.assert_served(at_least=1)
    # A pattern the engine matches without backtracking still filters as before.
    response = client.get("/_mock/requests", params={"path": "^/v1beta/(a+)+!$"})
    assert response.status_code == 200
    assert [entry["path"] for entry in response.json()["requests"]] == ["/v1beta/" + "a" * 40 + "!"]


def test_rule_with_catastrophic_prompt_regex(live, client):
    rule = client.post("/_mock/rules", json={"match": {"prompt": "^(a|aa)+$"}, "respond": {"text": "matched"}})
    assert rule.status_code == 200, rule.text
    try:
        started = time.monotonic()
        response = client.post(GENERATE, headers=KEY, json={"contents": [{"parts": [{"text": "a" * 40 + "!"}]}]})
        assert time.monotonic() - started < HANG
        assert_envelope(response, 400, "INVALID_ARGUMENT", field="match.prompt")
        matched = client.post(GENERATE, headers=KEY, json={"contents": [{"parts": [{"text": "aaaa"}]}]})
        assert matched.json()["candidates"][0]["content"]["parts"][0]["text"] == "matched"
    finally:
        client.delete(f"/_mock/rules/{rule.json()['id']}")


def test_invalid_rule_regex_is_refused(client):
    response = client.post("/_mock/rules", json={"match": {"prompt": "(unclosed"}, "respond": {"text": "x"}})
    assert_envelope(response, 400, "INVALID_ARGUMENT", field="match.prompt")


# -- finding 8: connections time out ----------------------------------------------------------------

def _connect(live) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", live.port), timeout=HANG)
    return sock


def _read_all(sock: socket.socket) -> bytes:
    chunks = []
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


def test_stalled_body_gets_408_and_others_are_served(live):
    sock = _connect(live)
    with Prober(live.base_url) as prober:
        sock.sendall(f"POST {GENERATE} HTTP/1.1\r\nHost: 127.0.0.1\r\nx-goog-api-key: k\r\n"
                     "Content-Type: application/json\r\nContent-Length: 10000000\r\n\r\n{\"contents\"".encode())
        started = time.monotonic()
        answer = _read_all(sock)   # the server answers, then closes
        assert time.monotonic() - started < HANG
    sock.close()
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 408"), answer[:200]
    error = json.loads(body)["error"]
    assert error["code"] == 408 and error["status"] == "DEADLINE_EXCEEDED"
    prober.assert_served()


def test_incomplete_headers_are_dropped(live):
    sock = _connect(live)
    sock.sendall(b"POST /v1beta/models HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
    started = time.monotonic()
    assert _read_all(sock) == b""          # closed without an answer
    assert time.monotonic() - started < HANG
    sock.close()
    idle = _connect(live)                  # a connection that never sends a byte is closed too
    assert _read_all(idle) == b""
    idle.close()


def test_steady_slow_body_is_not_cut(live):
    body = json.dumps({"contents": [{"parts": [{"text": "slow but steady"}]}]}).encode()
    sock = _connect(live)
    sock.sendall(f"POST {GENERATE} HTTP/1.1\r\nHost: 127.0.0.1\r\nx-goog-api-key: k\r\nConnection: close\r\n"
                 f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n".encode())
    for piece in (body[:10], body[10:20], body[20:]):
        time.sleep(0.4)   # each pause under bodyIdleSeconds (1 s); together over it
        sock.sendall(piece)
    answer = _read_all(sock)
    sock.close()
    assert answer.startswith(b"HTTP/1.1 200"), answer[:300]


def test_read_timeouts_are_configurable(client):
    config = client.get("/_mock/config").json()
    assert config["limits"]["headerSeconds"] == 1.0 and config["limits"]["bodyIdleSeconds"] == 1.0


# -- a fuzzer over generation parameters --------------------------------------------------------------

_BOUNDS = st.one_of(st.integers(0, 5), st.integers(0, 10 ** 12), st.sampled_from([10 ** 9, "1000000000", 1e9]))


def _schemas(depth: int):
    leaf = st.one_of(
        st.fixed_dictionaries({"type": st.just("string")}, optional={"minLength": _BOUNDS, "maxLength": _BOUNDS,
                                                                    "pattern": st.sampled_from(
                                                                        ["^[a-z]{3}$", "a{100000}", "((a*)*)*b",
                                                                         "(x{1000}){1000}", "^(a|aa)+$"])}),
        st.fixed_dictionaries({"type": st.sampled_from(["integer", "number", "boolean"])}),
    )
    if depth == 0:
        return leaf
    inner = _schemas(depth - 1)
    return st.one_of(
        leaf,
        st.fixed_dictionaries({"type": st.just("array"), "items": inner},
                              optional={"minItems": _BOUNDS, "maxItems": _BOUNDS, "uniqueItems": st.booleans()}),
        st.builds(lambda props, required, minimum: {
            "type": "object", "properties": props, "required": sorted(props)[:required], "minProperties": minimum},
            st.dictionaries(st.sampled_from(["a", "b", "city", "name", "items"]), inner, min_size=1, max_size=4),
            st.integers(0, 4), _BOUNDS),
        st.builds(lambda branches: {"anyOf": branches}, st.lists(inner, min_size=1, max_size=3)),
    )


def _deep(levels: int) -> dict:
    schema: dict = {"type": "string"}
    for _ in range(levels):
        schema = {"type": "array", "items": schema, "minItems": 1}
    return schema


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                   HealthCheck.function_scoped_fixture])
@given(schema=st.one_of(_schemas(4), st.integers(1, 60).map(_deep)),
       max_tokens=st.one_of(st.none(), st.integers(1, 65536), st.integers(65537, 10 ** 12)),
       candidates=st.integers(1, 8))
def test_fuzz_generation_parameters_answer_in_bounded_time(live, schema, max_tokens, candidates):
    config: dict = {"candidateCount": candidates}
    if max_tokens is not None:
        config["maxOutputTokens"] = max_tokens
    body = _json_request("responseJsonSchema", schema, **config)
    with httpx.Client(base_url=live.base_url, timeout=FUZZ_HANG) as session:
        started = time.monotonic()
        response = session.post(GENERATE, headers=KEY, json=body)
        elapsed = time.monotonic() - started
        assert elapsed < FUZZ_HANG
        probe = session.get("/v1beta/models/gemini-2.5-flash", headers=OTHER)
        assert probe.status_code == 200
    if response.status_code == 200:
        candidates_out = response.json()["candidates"]
        assert len(candidates_out) == candidates
    else:
        assert 400 <= response.status_code < 500, response.text
        assert_envelope(response, response.status_code, response.json()["error"]["status"])
