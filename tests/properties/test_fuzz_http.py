"""Hypothesis over the raw HTTP edge: what no schema-driven generator sends.

Requests go over a plain socket (no client library to tidy them up): truncated and invalid JSON,
wrong types, huge numbers and strings, deep nesting, odd unicode, ids with `..`, `/`, `%2F` and NUL,
wrong upload offsets and headers, oversized bodies, and malformed HTTP. Every answer is held to the
contract of tests/properties/test_fuzz_openapi.py (never a 5xx; a 200 is the recorded message; anything else
the Google error envelope), and the server is healthy afterwards.

The drivers here are shared with `bench/fuzz.py`, which runs them at scale; the tests run seeded
slices, then the regression tests of every bug the fuzzing found.
"""
from __future__ import annotations

import base64
import copy
import hashlib
import json
import socket
import time
from dataclasses import dataclass, field
from typing import Any, Callable
from urllib.parse import quote, unquote, urlsplit

import hypothesis
import pytest
from hypothesis import HealthCheck, Phase, given, settings, strategies as st

from test_fuzz_openapi import (LONG, PROMPT, Expect, Tally, World, answer_problems, envelope_problems,
                               healthy)

from support.servers import serve

# ---------------------------------------------------------------------------------------------------
# A raw HTTP/1.1 client: one connection per request, bytes exactly as given


@dataclass
class Raw:
    status: int                      # 0: the server closed without an answer
    headers: dict[str, str]
    body: bytes


def raw_request(base_url: str, method: str, target: str | bytes, headers: dict[str, str] | None = None,
                body: bytes = b"", *, content_length: int | None = None, extra_head: bytes = b"",
                timeout: float = 60.0, half_close: bool = False) -> Raw:
    """Send one request and read the answer to the end (`Connection: close`). `target` goes on the
    request line as given; `content_length` may lie about the body."""
    host, port = urlsplit(base_url).hostname, urlsplit(base_url).port
    if isinstance(target, str):
        target = target.encode("latin-1")
    lines = [method.encode() + b" " + target + b" HTTP/1.1", f"Host: {host}:{port}".encode(), b"Connection: close"]
    for name, value in (headers or {}).items():
        line = f"{name}: {value}"
        lines.append(line.encode("latin-1") if line.isascii() or max(map(ord, line)) < 256 else line.encode())
    if content_length is None:
        content_length = len(body)
    if content_length >= 0:
        lines.append(f"Content-Length: {content_length}".encode())
    head = b"\r\n".join(lines) + b"\r\n" + extra_head + b"\r\n"
    with socket.create_connection((host, port), timeout=timeout) as sock:
        try:
            sock.sendall(head + body)
            if half_close:
                sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass   # the server answered (and closed) before taking the whole body: read its answer
        chunks = []
        while True:
            try:
                data = sock.recv(1 << 16)
            except ConnectionResetError:
                break
            if not data:
                break
            chunks.append(data)
    return parse_answer(b"".join(chunks))


def parse_answer(data: bytes) -> Raw:
    if not data:
        return Raw(0, {}, b"")
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    if headers.get("transfer-encoding", "").lower() == "chunked":
        body, position = bytearray(), 0
        while True:
            end = rest.index(b"\r\n", position)
            size = int(rest[position:end].split(b";")[0], 16)
            if size == 0:
                break
            body += rest[end + 2:end + 2 + size]
            position = end + 2 + size + 2
        rest = bytes(body)
    return Raw(status, headers, rest)


# ---------------------------------------------------------------------------------------------------
# Strategies: odd values, mutated JSON, encodings, ids

ODD_TEXT = ["", " ", "\x00", "a\x00b", "\u202e", "\ufeff", "\u200b" * 50, "e\u0301", "\U0001F4A5" * 40,
            "\u0000\u0001\u001f", "\\", "\"", "'", "</script>", "%s%n", "${jndi:x}", "../../etc/passwd",
            "NaN", "Infinity", "-0", "1e999", "0x10", "true", "null", "\ud7ff\ue000", "\uffff", "\U0010ffff"]
ODD_NUMBERS = [0, -1, -0.0, 1, 2**31, 2**31 - 1, -2**31 - 1, 2**63, 2**64, -2**63 - 1, 10**30, 10**400,
               1e308, -1e308, 5e-324, 0.1, 1.5, 123456789.123456789]


def odd_values() -> st.SearchStrategy:
    return st.one_of(
        st.sampled_from(ODD_TEXT), st.sampled_from(ODD_NUMBERS),
        st.integers(), st.floats(allow_nan=False, allow_infinity=False), st.booleans(), st.none(),
        st.text(max_size=40), st.just([]), st.just({}), st.just([None]), st.just({"": ""}),
        st.lists(st.integers(), max_size=5), st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
        st.integers(1, 300_000).map(lambda n: "x" * n),                     # huge strings
        st.integers(1, 3000).map(lambda n: [1] * n),                        # long lists
        st.integers(2, 400).map(lambda n: json.loads("[" * n + "]" * n)),  # deep nesting
        st.integers(2, 400).map(_nested_objects),
    )


def _nested_objects(depth: int) -> dict:
    value: dict = {}
    for _ in range(depth - 1):
        value = {"a": value}
    return value


def _paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    out = [prefix]
    if isinstance(value, dict):
        for key, child in value.items():
            out += _paths(child, prefix + (key,))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            out += _paths(child, prefix + (index,))
    return out


def _set(value: Any, path: tuple, new: Any) -> Any:
    if not path:
        return new
    node = value
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = new
    return value


def _get(value: Any, path: tuple) -> Any:
    for step in path:
        value = value[step]
    return value


def _snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name)


@st.composite
def mutated(draw, base: Any) -> Any:
    """`base` with up to four changes: a node replaced by an odd value, a key added, removed or renamed
    to snake_case, a node wrapped in deep nesting, a list emptied or repeated."""
    value = copy.deepcopy(base)
    for _ in range(draw(st.integers(0, 4))):
        paths = _paths(value)
        path = draw(st.sampled_from(paths))
        node = _get(value, path)
        action = draw(st.sampled_from(["replace", "replace", "replace", "add", "remove", "snake", "nest",
                                       "repeat"]))
        if action == "replace":
            value = _set(value, path, draw(odd_values()))
        elif action == "add" and isinstance(node, dict):
            node[draw(st.sampled_from(["unknownField", "", "\x00", "@type", "__proto__", "a" * 300]))] = \
                draw(odd_values())
        elif action == "remove" and path:
            parent = _get(value, path[:-1])
            del parent[path[-1]]
        elif action == "snake" and isinstance(node, dict):
            for key in list(node):
                if isinstance(key, str):
                    node[_snake(key)] = node.pop(key)
        elif action == "nest":
            depth = draw(st.integers(1, 150))
            value = _set(value, path, json.loads("[" * depth + json.dumps(node) + "]" * depth))
        elif action == "repeat" and isinstance(node, list):
            node *= draw(st.integers(0, 50))
    return value


@st.composite
def encoded(draw, value: Any) -> bytes:
    """`value` as bytes, sometimes broken: truncated, a byte flipped, invalid UTF-8, a BOM, trailing
    garbage, single quotes, bare NaN, duplicate keys, UTF-16, lone surrogates."""
    text = json.dumps(value, ensure_ascii=draw(st.booleans()))
    data = text.encode("utf-8", "surrogatepass")
    how = draw(st.sampled_from(["plain"] * 6 + ["truncate", "flip", "utf8", "bom", "garbage", "single",
                                                 "nan", "dupe", "utf16", "surrogate", "empty", "digits"]))
    if how == "truncate" and data:
        data = data[:draw(st.integers(0, len(data) - 1))]
    elif how == "flip" and data:
        at = draw(st.integers(0, len(data) - 1))
        data = data[:at] + bytes([draw(st.integers(0, 255))]) + data[at + 1:]
    elif how == "utf8":
        at = draw(st.integers(0, len(data)))
        data = data[:at] + draw(st.sampled_from([b"\xff", b"\xc0\xaf", b"\xed\xa0\x80", b"\xf8\x88\x80\x80\x80",
                                                 b"\x80", b"\xe2\x82"])) + data[at:]
    elif how == "bom":
        data = b"\xef\xbb\xbf" + data
    elif how == "garbage":
        data = data + draw(st.sampled_from([b"}", b"]]", b" trailing", b"\x00", b"{}", b"\n\n{"]))
    elif how == "single":
        data = text.replace('"', "'").encode("utf-8", "surrogatepass")
    elif how == "nan" and b":" in data:
        data = data.replace(b":", b": " + draw(st.sampled_from([b"NaN", b"Infinity", b"-Infinity", b"1e999"]))
                            + b", \"x\":", 1)
    elif how == "dupe" and data.startswith(b"{") and len(data) > 2:
        data = b'{"contents": [], ' + data[1:]
    elif how == "utf16":
        data = text.encode("utf-16", "surrogatepass")
    elif how == "surrogate":
        data = data.replace(b'"', b'"\\ud800', 1)
    elif how == "empty":
        data = draw(st.sampled_from([b"", b" ", b"null", b"[]", b'""', b"0", b"{", b"\x00"]))
    elif how == "digits":
        data = b'{"a": ' + b"9" * draw(st.integers(300, 6000)) + b"}"
    return data


ODD_IDS = ["..", ".", "../..", "%2e%2e", "%2E%2E%2F", "a/../b", "a%2Fb", "%2F", "%2f..%2f", "%00", "a%00b",
           "%", "%zz", "%C0%AE", "%ED%A0%80", "%FF", "a:b", ":", "::", "files", "files%2Fx", "x" * 2000,
           "%E2%80%AE", "%C3%A9", "%20", "+", "a;b", "%3F", "%23", "null", "0", "-1", "%F0%9F%99%82",
           "%0A", "%0D%0A", "a%09b", "~", "A", "UPPER", "-", "-abc-", "a" * 41]


@st.composite
def ids(draw, world: World, kind: str) -> str:
    real = world.values.get(kind) or ["x"]
    choice = draw(st.sampled_from(["real", "odd", "odd", "text", "suffix"]))
    if choice == "real":
        return draw(st.sampled_from(real))
    if choice == "odd":
        return draw(st.sampled_from(ODD_IDS))
    if choice == "suffix":
        return draw(st.sampled_from(real)) + draw(st.sampled_from(["/", "/..", "%2F..", ":x", "%00", "/x/y",
                                                                   ":download", "/permissions/x"]))
    return quote(draw(st.text(min_size=1, max_size=30)), safe="")


VERSION_PREFIXES = ["/v1beta/", "/v1/", "/v1alpha/", "/v1beta3/", "/", "/some/prefix/v1beta/", "/download/v1beta/",
                    "/upload/v1beta/", "/v2/", "//v1beta//", "/v1beta/v1/"]
ID_TEMPLATES = [
    ("file", "files/{}"), ("file", "files/{}:download"), ("id", "cachedContents/{}"), ("batch", "batches/{}"),
    ("batch", "batches/{}:cancel"), ("batch", "batches/{}:delete"), ("tuned", "tunedModels/{}"),
    ("tuned", "tunedModels/{}/permissions"), ("tuned", "tunedModels/{}/operations"),
    ("permission", "tunedModels/%TUNED%/permissions/{}"), ("operation", "tunedModels/%TUNED%/operations/{}"),
    ("corpus", "corpora/{}"), ("corpus", "corpora/{}/permissions"), ("model", "models/{}"),
    ("model", "models/{}:generateContent"), ("model", "models/{}:countTokens"), ("openai", "openai/files/{}"),
    ("openai", "openai/files/{}/content"), ("openai", "openai/batches/{}"), ("model", "openai/models/{}"),
    ("tuned", "tunedModels/{}:generateContent"), ("model", "models/{}:batchGenerateContent"),
]


# ---------------------------------------------------------------------------------------------------
# JSON endpoints and their valid bodies (mutated by the fuzzer)

FUNCTION_TOOLS = [{"functionDeclarations": [{"name": "get_weather", "description": "The weather of a city",
                                             "parameters": {"type": "OBJECT", "properties": {
                                                 "city": {"type": "STRING"}, "days": {"type": "INTEGER"}},
                                                 "required": ["city"]}}]}]
RICH_PROMPT = {
    "contents": [{"role": "user", "parts": [{"text": "Write about the sea"},
                                            {"inlineData": {"mimeType": "text/plain", "data": "aGVsbG8="}}]},
                 {"role": "model", "parts": [{"text": "Waves."}]},
                 {"role": "user", "parts": [{"text": "More"}]}],
    "systemInstruction": {"parts": [{"text": "Be brief."}]},
    "generationConfig": {"temperature": 0.5, "topP": 0.9, "topK": 40, "candidateCount": 2, "maxOutputTokens": 64,
                         "stopSequences": ["zz"], "seed": 7, "presencePenalty": 0.1,
                         "thinkingConfig": {"thinkingBudget": 128, "includeThoughts": True}},
    "safetySettings": [{"category": "HARM_CATEGORY_HARASSMENT", "threshold": "BLOCK_NONE"}],
}
JSON_PROMPT = {
    "contents": [{"parts": [{"text": "A recipe"}]}],
    "generationConfig": {"responseMimeType": "application/json", "responseSchema": {
        "type": "OBJECT", "properties": {"name": {"type": "STRING", "maxLength": 20},
                                         "steps": {"type": "ARRAY", "items": {"type": "STRING"}, "minItems": 1,
                                                   "maxItems": 3},
                                         "kind": {"type": "STRING", "enum": ["a", "b"]},
                                         "n": {"type": "INTEGER", "minimum": 1, "maximum": 9}},
        "required": ["name"]}},
}
JSON_SCHEMA_PROMPT = {
    "contents": [{"parts": [{"text": "A person"}]}],
    "generationConfig": {"responseMimeType": "application/json", "responseJsonSchema": {
        "type": "object", "properties": {"age": {"type": "integer", "minimum": 0},
                                         "tags": {"type": "array", "items": {"type": "string"}},
                                         "nested": {"$ref": "#/$defs/n"}},
        "$defs": {"n": {"type": "object", "properties": {"x": {"type": "number"}}}}}},
}
TOOL_PROMPT = {"contents": [{"parts": [{"text": "Weather in Paris?"}]}], "tools": FUNCTION_TOOLS,
               "toolConfig": {"functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": ["get_weather"]}}}


@dataclass
class Endpoint:
    method: str
    path: Callable[[World], str]     # the path after the version
    body: Callable[[World], Any]
    expect: Expect
    query: str = ""
    version: str = "v1beta"
    headers: dict = field(default_factory=dict)


def _e(method, path, body, message=None, *, query="", stream=False, openai=False, version="v1beta", **kw):
    path_fn = path if callable(path) else (lambda w, p=path: p)
    body_fn = body if callable(body) else (lambda w, b=body: b)
    return Endpoint(method, path_fn, body_fn, Expect(version, message, stream=stream, openai=openai),
                    query, version, **kw)


def _first(world: World, kind: str, index: int = 0) -> str:
    values = world.values.get(kind) or ["missing"]
    return values[min(index, len(values) - 1)]


GEN = "models/gemini-2.5-flash"
ENDPOINTS = [
    _e("POST", f"{GEN}:generateContent", PROMPT, "GenerateContentResponse"),
    _e("POST", f"{GEN}:generateContent", RICH_PROMPT, "GenerateContentResponse"),
    _e("POST", f"{GEN}:generateContent", JSON_PROMPT, "GenerateContentResponse"),
    _e("POST", f"{GEN}:generateContent", JSON_SCHEMA_PROMPT, "GenerateContentResponse"),
    _e("POST", f"{GEN}:generateContent", TOOL_PROMPT, "GenerateContentResponse"),
    _e("POST", f"{GEN}:generateContent", lambda w: {"contents": [{"parts": [
        {"text": "Describe"}, {"fileData": {"fileUri": f"files/{_first(w, 'file')}", "mimeType": "text/plain"}}]}]},
       "GenerateContentResponse"),
    _e("POST", f"{GEN}:generateContent", lambda w: {**PROMPT, "cachedContent": f"cachedContents/{_first(w, 'id')}"},
       "GenerateContentResponse"),
    _e("POST", f"{GEN}:streamGenerateContent", RICH_PROMPT, "GenerateContentResponse", query="alt=sse", stream=True),
    _e("POST", f"{GEN}:streamGenerateContent", TOOL_PROMPT, "GenerateContentResponse", stream=True),
    _e("POST", f"{GEN}:countTokens", RICH_PROMPT, "CountTokensResponse"),
    _e("POST", f"{GEN}:countTokens", {"generateContentRequest": {"model": GEN, **PROMPT}}, "CountTokensResponse"),
    _e("POST", "models/gemini-embedding-001:embedContent",
       {"content": {"parts": [{"text": "hello"}]}, "taskType": "RETRIEVAL_QUERY", "outputDimensionality": 8,
        "title": "t"}, "EmbedContentResponse"),
    _e("POST", "models/gemini-embedding-001:batchEmbedContents",
       {"requests": [{"model": "models/gemini-embedding-001", "content": {"parts": [{"text": "a"}]}}]},
       "BatchEmbedContentsResponse"),
    _e("POST", "cachedContents", {"model": GEN, "ttl": "300s", "displayName": "c",
                                  "systemInstruction": {"parts": [{"text": "x"}]},
                                  "contents": [{"role": "user", "parts": [{"text": LONG}]}]}, "CachedContent"),
    _e("PATCH", lambda w: f"cachedContents/{_first(w, 'id')}", {"ttl": "600s"}, "CachedContent"),
    _e("PATCH", lambda w: f"cachedContents/{_first(w, 'id')}", {"expireTime": "2099-01-01T00:00:00Z"},
       "CachedContent", query="updateMask=expireTime"),
    _e("POST", f"{GEN}:batchGenerateContent",
       {"batch": {"displayName": "b", "inputConfig": {"requests": {"requests": [
           {"request": RICH_PROMPT, "metadata": {"key": "one"}}, {"request": PROMPT}]}}, "priority": "1"}},
       "GenerateContentBatchOperation"),
    _e("POST", f"{GEN}:batchGenerateContent",
       lambda w: {"batch": {"inputConfig": {"fileName": f"files/{_first(w, 'file', 1)}"}}},
       "GenerateContentBatchOperation"),
    _e("POST", "models/gemini-embedding-001:asyncBatchEmbedContent",
       {"batch": {"inputConfig": {"requests": {"requests": [{"request": {"content": {"parts": [{"text": "a"}]}}}]}}}},
       "EmbedContentBatchOperation"),
    _e("PATCH", lambda w: f"batches/{_first(w, 'batch')}:updateGenerateContentBatch", {"displayName": "x"},
       "GenerateContentBatch", query="updateMask=displayName"),
    _e("POST", "tunedModels", {"displayName": "t", "baseModel": "models/gemini-1.5-flash-001-tuning",
                               "temperature": 0.5, "topP": 0.5, "topK": 3,
                               "tuningTask": {"hyperparameters": {"epochCount": 2, "batchSize": 4, "learningRate": 0.01},
                                              "trainingData": {"examples": {"examples": [
                                                  {"textInput": "1", "output": "2"}, {"textInput": "3", "output": "4"}]}}}},
       "Operation"),
    _e("PATCH", lambda w: f"tunedModels/{_first(w, 'tuned')}", {"description": "d", "temperature": 0.3},
       "TunedModel", query="updateMask=description,temperature"),
    _e("POST", lambda w: f"tunedModels/{_first(w, 'tuned', 1)}:generateContent", PROMPT, "GenerateContentResponse"),
    _e("POST", lambda w: f"tunedModels/{_first(w, 'tuned')}:generateText", {"prompt": {"text": "Hi"}},
       "GenerateTextResponse"),
    _e("POST", lambda w: f"tunedModels/{_first(w, 'tuned')}/permissions",
       {"granteeType": "USER", "emailAddress": "someone@example.com", "role": "READER"}, "Permission"),
    _e("PATCH", lambda w: f"tunedModels/{_first(w, 'tuned')}/permissions/{_first(w, 'permission')}",
       {"role": "WRITER"}, "Permission", query="updateMask=role"),
    _e("POST", lambda w: f"tunedModels/{_first(w, 'tuned')}:transferOwnership", {"emailAddress": "x@example.com"},
       "TransferOwnershipResponse"),
    _e("POST", "corpora", {"displayName": "c", "name": "corpora/fuzz-corpus"}, "Corpus"),
    _e("POST", "files", {"file": {"displayName": "f", "mimeType": "text/plain", "name": "files/fuzz-file"}},
       "CreateFileResponse"),
    _e("POST", "models/text-bison-001:generateText",
       {"prompt": {"text": "Hi"}, "temperature": 0.4, "candidateCount": 2, "maxOutputTokens": 30,
        "safetySettings": [{"category": "HARM_CATEGORY_TOXICITY", "threshold": "BLOCK_NONE"}]},
       "GenerateTextResponse", version="v1beta3"),
    _e("POST", "models/chat-bison-001:generateMessage",
       {"prompt": {"context": "c", "examples": [{"input": {"content": "a"}, "output": {"content": "b"}}],
                   "messages": [{"author": "0", "content": "Hi"}]}, "candidateCount": 1},
       "GenerateMessageResponse", version="v1beta3"),
    _e("POST", "models/embedding-gecko-001:batchEmbedText", {"texts": ["a", "b"]}, "BatchEmbedTextResponse",
       version="v1beta3"),
    _e("POST", "openai/chat/completions",
       {"model": "gemini-2.5-flash", "messages": [{"role": "system", "content": "Be brief"},
                                                  {"role": "user", "content": [{"type": "text", "text": "hi"}]}],
        "temperature": 0.3, "n": 1, "max_tokens": 20, "stop": ["x"],
        "tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object", "properties": {}}}}],
        "response_format": {"type": "json_schema", "json_schema": {"name": "s", "schema": {
            "type": "object", "properties": {"a": {"type": "string"}}}}}}, openai=True),
    _e("POST", "openai/chat/completions",
       {"model": "gemini-2.5-flash", "stream": True, "stream_options": {"include_usage": True},
        "messages": [{"role": "user", "content": "hi"}]}, openai=True),
    _e("POST", "openai/embeddings", {"model": "gemini-embedding-001", "input": ["a", "b"], "dimensions": 4},
       openai=True),
    _e("POST", "openai/batches", lambda w: {"input_file_id": _first(w, "openai"), "endpoint": "/v1/chat/completions",
                                            "completion_window": "24h"}, openai=True),
]


@dataclass
class EdgeRequest:
    method: str
    target: str
    headers: dict
    body: bytes
    expect: Expect

    def describe(self) -> str:
        return f"{self.method} {self.target[:200]} body={self.body[:300]!r}"


@st.composite
def json_requests(draw, world: World) -> EdgeRequest:
    """A JSON endpoint with a mutated (and maybe broken) body, an odd query or content type."""
    endpoint = draw(st.sampled_from(ENDPOINTS))
    body = draw(encoded(draw(mutated(endpoint.body(world)))))
    query = endpoint.query
    if draw(st.integers(0, 9)) == 0:
        query = "&".join(p for p in (query, draw(st.sampled_from(
            ["alt=media", "alt=json", "alt=proto", "alt=sse", "updateMask=", "updateMask=%00", "updateMask=a,,b",
             "pageSize=-1", "key=", "%zz=1", "a=%ff", "alt=sse&alt=json", "$alt=json"]))) if p)
    headers = {"x-goog-api-key": world.api_key}
    ctype = draw(st.sampled_from(["application/json"] * 6 + [None, "text/plain", "application/x-www-form-urlencoded",
                                                             "multipart/form-data", "application/json; charset=latin1",
                                                             "*/*", "application/json; charset=utf-16"]))
    if ctype is not None:
        headers["Content-Type"] = ctype
    if endpoint.expect.openai and draw(st.booleans()):
        headers = {"Authorization": f"Bearer {world.api_key}", **{k: v for k, v in headers.items()
                                                                    if k != "x-goog-api-key"}}
    target = f"/{endpoint.version}/{quote(endpoint.path(world), safe='/:')}" + (f"?{query}" if query else "")
    return EdgeRequest(endpoint.method, target, headers, body, endpoint.expect)


@st.composite
def id_requests(draw, world: World) -> EdgeRequest:
    """A resource path holding an odd id, under an odd version prefix, with an odd verb or query."""
    kind, template = draw(st.sampled_from(ID_TEMPLATES))
    template = template.replace("%TUNED%", _first(world, "tuned"))
    first = draw(ids(world, kind))
    rest = template.format(first) if template.count("{}") == 1 else template.format(first, first)
    prefix = draw(st.sampled_from(VERSION_PREFIXES))
    method = draw(st.sampled_from(["GET", "GET", "POST", "DELETE", "PATCH", "PUT", "HEAD", "OPTIONS"]))
    query = draw(st.sampled_from(["", "", "?alt=media", "?alt=sse", "?pageSize=2&pageToken=%00", "?pageToken=bzE",
                                  "?pageSize=99999999999999999999", "?upload_id=..%2F..", "?key=&key=",
                                  "?force=maybe", "?updateMask=%ED%A0%80", "?pageSize=%D9%A3"]))
    body = draw(st.sampled_from([b"", b"{}", b'{"displayName": "x"}', b"[", b"\xff"])) if method in (
        "POST", "PATCH", "PUT") else b""
    headers = {"x-goog-api-key": world.api_key, "Content-Type": "application/json"}
    if method == "OPTIONS":
        headers.update({"Origin": "http://example.com", "Access-Control-Request-Method": "POST"})
    download = ":download" in rest or "/content" in rest
    return EdgeRequest(method, prefix + rest + query, headers, body,
                       Expect(openai=is_openai(prefix + rest), download=download))


def is_openai(target: str) -> bool:
    """Whether the server reads `target` as a call of the OpenAI-compatible layer (as its router does)."""
    from gemini_mockserver.routing import split_path
    media, version, rest = split_path(unquote(target.split("?", 1)[0]))
    return media is None and version != "v1beta3" and rest.startswith("openai/")


def edge_problems(request: EdgeRequest, answer: Raw) -> list[str]:
    if answer.status == 0:
        return ["the server closed the connection without an answer"]
    if request.method == "HEAD" or (request.method == "OPTIONS" and answer.status in (200, 204)):
        return [f"HTTP {answer.status}"] if answer.status >= 500 else []
    if 300 <= answer.status < 400:
        return [f"a redirect ({answer.status}) to {answer.headers.get('location')}"]
    return answer_problems(request.expect, answer.status, answer.headers, answer.body)


def send(base_url: str, request: EdgeRequest, tally: Tally) -> Raw:
    answer = raw_request(base_url, request.method, request.target, request.headers, request.body)
    tally.record(answer.status, edge_problems(request, answer), request.describe())
    return answer


def drive(strategy, examples: int, run: Callable[[Any], None], *, seed: int = 0) -> None:
    """Run `run` on `examples` draws of `strategy`, seeded, no shrinking (every draw is one request)."""
    @hypothesis.seed(seed)
    @settings(max_examples=examples, deadline=None, database=None, print_blob=False,
              phases=(Phase.explicit, Phase.generate), suppress_health_check=list(HealthCheck))
    @given(item=strategy)
    def body(item):
        run(item)
    body()


def fuzz_json(base_url: str, world: World, tally: Tally, examples: int, seed: int = 0) -> None:
    drive(json_requests(world), examples, lambda request: send(base_url, request, tally), seed=seed)


def fuzz_ids(base_url: str, world: World, tally: Tally, examples: int, seed: int = 0) -> None:
    drive(id_requests(world), examples, lambda request: send(base_url, request, tally), seed=seed)


# ---------------------------------------------------------------------------------------------------
# The resumable upload protocol: sequences of chunks with wrong offsets, commands and headers

@dataclass
class Step:
    command: str
    offset: str | None         # the X-Goog-Upload-Offset header as sent (None: absent)
    data: bytes
    extra: dict


@st.composite
def upload_plans(draw) -> tuple[dict, list[Step]]:
    start_headers = {"X-Goog-Upload-Protocol": "resumable", "X-Goog-Upload-Command": "start"}
    declared = draw(st.sampled_from([None, None, "0", "10", "100", "-1", "abc", "99999999999999999999999",
                                     " 5", "1e3", "\u0663"]))
    if declared is not None:
        start_headers["X-Goog-Upload-Header-Content-Length"] = declared
    start_headers["X-Goog-Upload-Header-Content-Type"] = draw(st.sampled_from(
        ["text/plain", "application/octet-stream", "", "\u00e9", "a" * 300, "audio/wav"]))
    steps = []
    for _ in range(draw(st.integers(1, 6))):
        command = draw(st.sampled_from(["upload", "upload", "upload, finalize", "finalize", "query", "cancel",
                                        "UPLOAD", "bogus", "", "upload,,finalize", "query, cancel"]))
        offset_kind = draw(st.sampled_from(["right", "right", "right", "zero", "ahead", "behind", "none", "odd"]))
        offset = {"none": None, "odd": draw(st.sampled_from(["-1", "x", "", "1.0", "9" * 30, " 0"]))}.get(
            offset_kind, offset_kind)
        data = draw(st.binary(max_size=300))
        extra = {}
        if draw(st.integers(0, 5)) == 0:
            extra["Content-Type"] = draw(st.sampled_from(["application/json", "multipart/form-data", "", "a/b/c"]))
        steps.append(Step(command, offset, data, extra))
    return start_headers, steps


def run_upload_plan(base_url: str, world: World, tally: Tally, plan) -> None:
    """Play one plan, keeping the bytes the server says it took; a finalized file must hold exactly them."""
    start_headers, steps = plan
    body = json.dumps({"file": {"displayName": "fuzz upload"}}).encode()
    start = EdgeRequest("POST", "/upload/v1beta/files", {"x-goog-api-key": world.api_key,
                                                         "Content-Type": "application/json", **start_headers},
                        body, Expect("v1beta", "CreateFileResponse", upload=True))
    answer = send(base_url, start, tally)
    url = answer.headers.get("x-goog-upload-url")
    if answer.status != 200 or not url:
        return
    target = url[len(base_url):]
    taken = bytearray()
    final = None
    for step in steps:
        offset = {"right": str(len(taken)), "zero": "0", "ahead": str(len(taken) + 7),
                  "behind": str(max(len(taken) - 1, 0) if taken else 1)}.get(step.offset, step.offset)
        headers = {"X-Goog-Upload-Command": step.command, **step.extra}
        if offset is not None:
            headers["X-Goog-Upload-Offset"] = offset
        request = EdgeRequest("POST", target, headers, step.data, Expect("v1beta", "CreateFileResponse", upload=True))
        before = len(taken)
        answer = send(base_url, request, tally)
        received = answer.headers.get("x-goog-upload-size-received")
        what = f"upload step {step.command!r} offset={offset!r} ({len(step.data)} bytes) after {before}"
        if received is not None:   # the chunk was taken whole, or not at all
            if int(received) == before + len(step.data):
                taken += step.data
            elif int(received) != before:
                tally.violation(f"{what}: Size-Received {received}, expected {before} or {before + len(step.data)}")
        if answer.status == 200 and answer.headers.get("x-goog-upload-status") == "final" and answer.body:
            final = json.loads(answer.body)["file"]
        if answer.headers.get("x-goog-upload-status") in ("final", "cancelled"):
            break
    if final is not None:
        expected = base64.b64encode(hashlib.sha256(bytes(taken)).hexdigest().encode()).decode()
        if final.get("sha256Hash") != expected or int(final.get("sizeBytes", "0")) != len(taken):
            tally.violation(f"finalized file holds other bytes: {final} vs {len(taken)} taken")
        else:
            tally.finalized += 1


def fuzz_uploads(base_url: str, world: World, tally: Tally, examples: int, seed: int = 0) -> None:
    drive(upload_plans(), examples, lambda plan: run_upload_plan(base_url, world, tally, plan), seed=seed)


# ---------------------------------------------------------------------------------------------------
# Multipart bodies: the Files API's multipart/related upload and the OpenAI layer's form upload

def _multipart(boundary: bytes, parts: list[tuple[dict, bytes]]) -> bytes:
    out = b""
    for headers, body in parts:
        out += b"--" + boundary + b"\r\n"
        out += b"".join(f"{k}: {v}\r\n".encode() for k, v in headers.items()) + b"\r\n" + body + b"\r\n"
    return out + b"--" + boundary + b"--\r\n"


@st.composite
def multipart_requests(draw, world: World) -> EdgeRequest:
    boundary = draw(st.sampled_from([b"b0undary", b"x", b"--", b"a" * 70, b"\xe9t\xe9"]))
    media = draw(st.binary(max_size=500))
    if draw(st.booleans()):   # Files API: metadata part, media part
        metadata = draw(encoded(draw(mutated({"file": {"displayName": "multi", "mimeType": "text/plain"}}))))
        body = _multipart(boundary, [({"Content-Type": "application/json; charset=UTF-8"}, metadata),
                                     ({"Content-Type": "text/plain"}, media)])
        target = "/upload/v1beta/files?uploadType=multipart"
        expect = Expect("v1beta", "CreateFileResponse", upload=True)
        ctype = draw(st.sampled_from(["multipart/related; boundary={}", "multipart/related; boundary=\"{}\"",
                                      "multipart/related", "multipart/form-data; boundary={}", "text/plain"]))
    else:                     # OpenAI layer: a form with purpose and file
        purpose = draw(st.sampled_from([b"batch", b"user_data", b"", b"\xff", b"x" * 3000]))
        body = _multipart(boundary, [({"Content-Disposition": 'form-data; name="purpose"'}, purpose),
                                     ({"Content-Disposition": 'form-data; name="file"; filename="in.jsonl"',
                                       "Content-Type": "application/jsonl"}, media)])
        target = "/v1beta/openai/files"
        expect = Expect(openai=True)
        ctype = draw(st.sampled_from(["multipart/form-data; boundary={}", "multipart/form-data",
                                      "multipart/mixed; boundary={}", "application/json"]))
    how = draw(st.sampled_from(["plain", "plain", "truncate", "no-close", "flip", "crlf", "extra"]))
    if how == "truncate":
        body = body[:draw(st.integers(0, max(len(body) - 1, 0)))]
    elif how == "no-close":
        body = body[:body.rfind(b"--" + boundary + b"--")]
    elif how == "flip" and body:
        at = draw(st.integers(0, len(body) - 1))
        body = body[:at] + bytes([draw(st.integers(0, 255))]) + body[at + 1:]
    elif how == "crlf":
        body = body.replace(b"\r\n", b"\n")
    elif how == "extra":
        body = body + b"--" + boundary + b"\r\n\r\nmore\r\n"
    headers = {"x-goog-api-key": world.api_key,
               "Content-Type": ctype.format(boundary.decode("latin-1")).encode("latin-1").decode("latin-1")}
    return EdgeRequest("POST", target, headers, body, expect)


def fuzz_multipart(base_url: str, world: World, tally: Tally, examples: int, seed: int = 0) -> None:
    drive(multipart_requests(world), examples, lambda request: send(base_url, request, tally), seed=seed)


# ---------------------------------------------------------------------------------------------------
# The control plane: mutated rules, faults, config, clock, journal filters, logs and datasets; each
# followed by an API call that the change acts on, and undone afterwards

def control_bases(project: str) -> list[tuple[str, str, Any]]:
    match = {"project": project}
    return [
        ("POST", "/_mock/rules", {"match": {**match, "model": "gemini-2.5-flash", "prompt": "fuzz"},
                                  "respond": {"text": "scripted"}, "times": 2}),
        ("POST", "/_mock/rules", {"match": match, "respond": {"functionCall": {"name": "f", "args": {"a": 1}}}}),
        ("POST", "/_mock/rules", {"match": match, "respond": {"json": {"k": [1, "two", None]}}, "latencyMs": 5}),
        ("POST", "/_mock/rules", {"match": {**match, "method": "generateContent"},
                                  "respond": {"error": {"code": 429, "message": "slow down"}}, "times": 1}),
        ("POST", "/_mock/rules", {"rules": [{"match": match, "respond": {"text": "a"}},
                                            {"match": match, "respond": {"text": "b"}}]}),
        ("POST", "/_mock/faults", {"kind": "status", "code": 429, "retryDelay": "3s", "times": 1,
                                   "match": {**match, "path": "generateContent", "method": "POST"}}),
        ("POST", "/_mock/faults", {"kind": "latency", "latencyMs": 5, "match": match}),
        ("POST", "/_mock/faults", {"kind": "streamCut", "afterChunks": 1, "match": match}),
        ("PATCH", "/_mock/config", {"batch": {"pendingSeconds": 1.5}, "files": {"ttlSeconds": 3600},
                                    "cache": {"defaultTtlSeconds": 60}, "seed": 3}),
        ("PATCH", "/_mock/config", {"rateLimits": {"derivedKeys": True, "overrides": {
            "free": {"gemini-2.5-flash": {"rpm": 1000, "tpm": None, "rpd": 5}}}}}),
        ("POST", "/_mock/clock", {"advanceSeconds": 30}),
        ("POST", "/_mock/clock", {"now": "2031-05-06T07:08:09.123Z"}),
        ("PATCH", f"/_mock/projects/{project}/logging", {"enabled": True}),
        ("POST", f"/_mock/projects/{project}/datasets", {"displayName": "d", "description": "x", "shared": False,
                                                         "logs": []}),
        ("POST", f"/_mock/projects/{project}/logs/x:feedback", {"rating": "THUMBS_UP", "comment": "good"}),
        ("PATCH", f"/_mock/projects/{project}/datasets/x", {"displayName": "e", "shared": True}),
        ("POST", f"/_mock/projects/{project}/datasets/x:addLogs", {"logs": ["logs/x"]}),
    ]


JOURNAL_QUERIES = ["", "?status=5xx", "?status=200", "?status=xyz", "?path=(a", "?path=generate", "?path=%00",
                   "?model=models/gemini-2.5-flash", "?pageSize=2&pageToken=", "?pageSize=-3", "?pageToken=zz",
                   "?method=post&project=none", "?unknown=1", "?status=4xx&path=.*"]


@st.composite
def control_requests(draw, project: str) -> tuple[EdgeRequest, bool]:
    """A control call (mutated) and whether it scripts answers (its follow-up may then be any status)."""
    if draw(st.integers(0, 5)) == 0:
        query = draw(st.sampled_from(JOURNAL_QUERIES))
        return EdgeRequest("GET", "/_mock/requests" + query, {}, b"", Expect()), False
    method, path, base = draw(st.sampled_from(control_bases(project)))
    body = draw(encoded(draw(mutated(base))))
    return EdgeRequest(method, path, {"Content-Type": "application/json"}, body, Expect()), \
        path.endswith(("/rules", "/faults"))


def run_control(base_url: str, world: World, tally: Tally, item) -> None:
    request, scripting = item
    store = world.mock.store
    now = store.now()
    project = world.mock.project
    if "/logs/x" in request.target or "/datasets/x" in request.target:   # aim at a real log and dataset
        store.logs.set_logging(project, True)
        raw_request(base_url, "POST", "/v1beta/models/gemini-2.5-flash:generateContent",
                    {"x-goog-api-key": world.api_key, "Content-Type": "application/json"}, json.dumps(PROMPT).encode())
        log = store.logs.list_logs(project, 1, None)["logs"][0]["name"].rsplit("/", 1)[-1]
        dataset = store.logs.create_dataset(project, {"displayName": "fuzz", "logs": []})["name"].rsplit("/", 1)[-1]
        request = EdgeRequest(request.method, request.target.replace("/logs/x", f"/logs/{log}")
                              .replace("/datasets/x", f"/datasets/{dataset}"), request.headers,
                              request.body.replace(b"logs/x", f"logs/{log}".encode()), request.expect)
    send(base_url, request, tally)
    try:
        for name in ("rules", "faults"):   # no follow-up waits long: slow scripts go first
            for script in store.backends[name].list():
                if max(script.get("latencyMs") or 0, script.get("chunkLatencyMs") or 0) > 200:
                    store.backends[name].delete(script["id"])
        follow = [EdgeRequest("POST", "/v1beta/models/gemini-2.5-flash:generateContent",
                              {"x-goog-api-key": world.api_key, "Content-Type": "application/json"},
                              json.dumps({"contents": [{"parts": [{"text": "fuzz me"}]}]}).encode(),
                              Expect("v1beta", "GenerateContentResponse")),
                  EdgeRequest("POST", "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse",
                              {"x-goog-api-key": world.api_key, "Content-Type": "application/json"},
                              json.dumps(PROMPT).encode(), Expect("v1beta", "GenerateContentResponse", stream=True))]
        for call in follow:
            answer = raw_request(base_url, call.method, call.target, call.headers, call.body)
            problems = edge_problems(call, answer)
            if scripting and answer.status == 200 and any(p.startswith("stream ended with") for p in problems):
                tally.scripted += 1   # a scripted stream cut: its error event may carry any code
                problems = [p for p in problems if not p.startswith("stream ended with")]
            if scripting and answer.status >= 500:   # a scripted error (a fault of code 503, say)
                problems = [p for p in problems if not p.startswith("HTTP ")]
                problems += envelope_problems(json.loads(answer.body or b"null"), answer.status)
                tally.scripted += 1
                if problems:
                    tally.violation(f"{call.describe()} after {request.describe()}: {problems[:3]}")
                continue
            tally.record(answer.status, problems, f"{call.describe()} after {request.describe()}")
    finally:
        for name in ("rules", "faults"):
            store.backends[name].clear()
        store.config.reset()
        store.clock.set(now)
        store.logs.reset()


PAID_KEY = "fuzz-paid-key"


def paid_server():
    """A live emulator whose keys file lists one paid-tier key (logs and datasets need billing)."""
    from gemini_mockserver.auth import Identity
    return serve(keys={PAID_KEY: Identity(PAID_KEY, "project-fuzz-paid", "paid@example.com", tier="tier1")})


def fuzz_control(base_url: str, world: World, tally: Tally, examples: int, seed: int = 0) -> None:
    project = world.mock.project
    drive(control_requests(project), examples, lambda item: run_control(base_url, world, tally, item), seed=seed)


# ---------------------------------------------------------------------------------------------------
# Malformed HTTP (answered by the HTTP server itself, or by the emulator): never a 5xx, never a hang

def protocol_garbage(base_url: str, world: World) -> list[tuple[str, Raw]]:
    key = {"x-goog-api-key": world.api_key}
    gen = "/v1beta/models/gemini-2.5-flash:generateContent"
    cases: list[tuple[str, Callable[[], Raw]]] = [
        ("NUL in the path", lambda: raw_request(base_url, "GET", b"/v1beta/files/a\x00b", key)),
        ("space in the path", lambda: raw_request(base_url, "GET", b"/v1beta/files/a b", key)),
        ("non-ASCII path bytes", lambda: raw_request(base_url, "GET", "/v1beta/files/\u00e9".encode(), key)),
        ("absolute-form target", lambda: raw_request(base_url, "GET", f"{base_url}/v1beta/models", key)),
        ("asterisk target", lambda: raw_request(base_url, "OPTIONS", "*", key)),
        ("no leading slash", lambda: raw_request(base_url, "GET", "v1beta/models", key)),
        ("unknown method", lambda: raw_request(base_url, "BREW", "/v1beta/models", key)),
        ("lowercase method", lambda: raw_request(base_url, "get", "/v1beta/models", key)),
        ("very long path", lambda: raw_request(base_url, "GET", "/v1beta/files/" + "a" * 60_000, key)),
        ("many headers", lambda: raw_request(base_url, "GET", "/v1beta/models",
                                             {**key, **{f"X-H{i}": "v" for i in range(300)}})),
        ("huge header", lambda: raw_request(base_url, "GET", "/v1beta/models", {**key, "X-Big": "v" * 100_000})),
        ("control character in a header", lambda: raw_request(base_url, "GET", "/v1beta/models",
                                                              {**key, "Content-Type": "\x7f"})),
        ("header without colon", lambda: raw_request(base_url, "GET", "/v1beta/models", key,
                                                     extra_head=b"BrokenHeader\r\n")),
        ("non-latin key", lambda: raw_request(base_url, "GET", "/v1beta/models",
                                              extra_head="x-goog-api-key: \u00e9\u00e8\r\n".encode("utf-8"))),
        ("body shorter than Content-Length", lambda: raw_request(
            base_url, "POST", gen, {**key, "Content-Type": "application/json"}, b'{"contents": [',
            content_length=5000, half_close=True, timeout=10)),
        ("body longer than Content-Length", lambda: raw_request(
            base_url, "POST", gen, {**key, "Content-Type": "application/json"},
            json.dumps(PROMPT).encode() + b"GET / HTTP/1.1\r\n\r\n", content_length=len(json.dumps(PROMPT)))),
        ("negative Content-Length", lambda: raw_request(base_url, "POST", gen, key,
                                                        extra_head=b"Content-Length: -5\r\n", content_length=-1)),
        ("two Content-Lengths", lambda: raw_request(base_url, "POST", gen, key, b"{}",
                                                    extra_head=b"Content-Length: 9\r\n")),
        ("broken chunked body", lambda: raw_request(
            base_url, "POST", gen, {**key, "Transfer-Encoding": "chunked"}, b"zz\r\nabc\r\n0\r\n\r\n",
            content_length=-1)),
        ("chunked body", lambda: raw_request(
            base_url, "POST", gen, {**key, "Transfer-Encoding": "chunked", "Content-Type": "application/json"},
            b"%x\r\n%s\r\n0\r\n\r\n" % (len(json.dumps(PROMPT)), json.dumps(PROMPT).encode()), content_length=-1)),
        ("upload chunk cut short", lambda: _cut_upload(base_url, world)),
        ("Content-Length over the limit, no body", lambda: raw_request(
            base_url, "POST", gen, key, b"", content_length=10**12, half_close=True, timeout=10)),
        ("Content-Length not a number", lambda: raw_request(
            base_url, "POST", gen, key, b"{}", content_length=-1, extra_head=b"Content-Length: ten\r\n")),
        ("HTTP/1.0", lambda: _http10(base_url, world)),
    ]
    return [(name, make()) for name, make in cases]


def _http10(base_url: str, world: World) -> Raw:
    parts = urlsplit(base_url)
    with socket.create_connection((parts.hostname, parts.port), timeout=30) as sock:
        sock.sendall(f"GET /v1beta/models?key={world.api_key} HTTP/1.0\r\n\r\n".encode())
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    return parse_answer(data)


def _cut_upload(base_url: str, world: World) -> Raw:
    """A chunk whose connection drops half-way: the upload keeps what arrived and can be resumed."""
    start = raw_request(base_url, "POST", "/upload/v1beta/files",
                        {"x-goog-api-key": world.api_key, "X-Goog-Upload-Protocol": "resumable",
                         "X-Goog-Upload-Command": "start", "Content-Type": "application/json"}, b"{}")
    target = start.headers["x-goog-upload-url"][len(base_url):]
    raw_request(base_url, "POST", target, {"X-Goog-Upload-Command": "upload", "X-Goog-Upload-Offset": "0"},
                b"x" * 1000, content_length=100_000, half_close=True, timeout=10)
    return raw_request(base_url, "POST", target, {"X-Goog-Upload-Command": "query"})


def check_protocol_garbage(base_url: str, world: World, tally: Tally) -> None:
    for name, answer in protocol_garbage(base_url, world):
        problems = [f"HTTP {answer.status}"] if answer.status >= 500 else []
        if answer.status and answer.headers.get("content-type", "").startswith("application/json") \
                and answer.status >= 400:
            try:
                body = json.loads(answer.body)
            except ValueError:
                body = None
            problems += envelope_problems(body, answer.status)
        tally.record(answer.status, problems, name)


# ---------------------------------------------------------------------------------------------------
# The tests: seeded slices

@pytest.fixture
def world(gemini_mock) -> World:
    world = World(gemini_mock.server, gemini_mock.api_key)
    assert world.error is None, world.error
    return world


def _assert_clean(tally: Tally, gemini_mock) -> None:
    assert tally.server_errors == 0, "\n".join(tally.failures[:10])
    assert not tally.failures, "\n".join(tally.failures[:20])
    assert healthy(gemini_mock.base_url, gemini_mock.api_key)
    assert not gemini_mock.store.internal_errors, gemini_mock.store.internal_errors[:3]


def test_mutated_json_bodies(gemini_mock, world):
    tally = Tally()
    fuzz_json(gemini_mock.base_url, world, tally, examples=250, seed=1)
    assert tally.requests == 250 and tally.by_status.get(200, 0) > 10 and tally.by_status.get(400, 0) > 50
    _assert_clean(tally, gemini_mock)


def test_odd_ids_prefixes_and_verbs(gemini_mock, world):
    tally = Tally()
    fuzz_ids(gemini_mock.base_url, world, tally, examples=200, seed=2)
    assert tally.requests == 200
    _assert_clean(tally, gemini_mock)


@pytest.mark.gemini(config={"files": {"downloadUploaded": True}})
def test_resumable_upload_sequences(gemini_mock, world):
    tally = Tally()
    fuzz_uploads(gemini_mock.base_url, world, tally, examples=40, seed=3)
    assert tally.requests > 40 and tally.finalized > 0
    _assert_clean(tally, gemini_mock)


@pytest.mark.gemini(config={"files": {"downloadUploaded": True}})
def test_multipart_uploads(gemini_mock, world):
    tally = Tally()
    fuzz_multipart(gemini_mock.base_url, world, tally, examples=80, seed=4)
    assert tally.requests == 80 and tally.by_status.get(200, 0) > 5
    _assert_clean(tally, gemini_mock)


def test_control_plane():
    tally = Tally()
    with paid_server() as server:
        world = World(server, PAID_KEY)
        assert world.error is None, world.error
        fuzz_control(server.base_url, world, tally, examples=60, seed=5)
        assert tally.requests > 100
        assert tally.server_errors == 0 and not tally.failures, "\n".join(tally.failures[:20])
        assert healthy(server.base_url, PAID_KEY)
        assert not server.store.internal_errors, server.store.internal_errors[:3]


def test_malformed_http(gemini_mock, world):
    tally = Tally()
    check_protocol_garbage(gemini_mock.base_url, world, tally)
    _assert_clean(tally, gemini_mock)


@pytest.mark.gemini(config={"limits": {"requestBytes": 64 * 1024}})
def test_oversized_bodies_are_refused_with_the_envelope(gemini_mock, world):
    gen = "/v1beta/models/gemini-2.5-flash:generateContent"
    key = {"x-goog-api-key": gemini_mock.api_key, "Content-Type": "application/json"}
    big = json.dumps({"contents": [{"parts": [{"text": "x" * 70_000}]}]}).encode()
    for name, answer in [
        ("declared", raw_request(gemini_mock.base_url, "POST", gen, key, big)),
        ("chunked", raw_request(gemini_mock.base_url, "POST", gen, {**key, "Transfer-Encoding": "chunked"},
                                b"%x\r\n%s\r\n0\r\n\r\n" % (len(big), big), content_length=-1)),
        ("upload metadata", raw_request(gemini_mock.base_url, "POST", "/upload/v1beta/files",
                                        {**key, "X-Goog-Upload-Protocol": "resumable"}, b'{"file": {"displayName": "'
                                        + b"x" * 70_000 + b'"}}')),
        ("openai", raw_request(gemini_mock.base_url, "POST", "/v1beta/openai/chat/completions", key, big)),
        ("control", raw_request(gemini_mock.base_url, "POST", "/_mock/rules", key, big)),
    ]:
        assert answer.status == 400, (name, answer)
        body = json.loads(answer.body)
        assert not envelope_problems(body, 400, openai=name == "openai"), (name, body)
        assert "exceeds the limit" in answer.body.decode(), name
    assert healthy(gemini_mock.base_url, gemini_mock.api_key)


def test_a_real_twenty_megabyte_body_is_refused_before_parsing(gemini_mock):
    body = b'{"contents": [{"parts": [{"text": "' + b"x" * (21 * 1024 * 1024) + b'"}]}]}'
    started = time.perf_counter()
    answer = raw_request(gemini_mock.base_url, "POST", "/v1beta/models/gemini-2.5-flash:generateContent",
                         {"x-goog-api-key": gemini_mock.api_key, "Content-Type": "application/json"}, body)
    assert answer.status == 400 and "exceeds the limit" in json.loads(answer.body)["error"]["message"]
    assert time.perf_counter() - started < 20


# ---------------------------------------------------------------------------------------------------
# Regressions: every bug the fuzzing found, pinned

def _post(gemini_mock, path: str, body: bytes, **headers) -> Raw:
    return raw_request(gemini_mock.base_url, "POST", path, {"x-goog-api-key": gemini_mock.api_key,
                                                            "Content-Type": "application/json", **headers}, body)


def _assert_400(answer: Raw, *words: str, openai: bool = False) -> dict:
    assert answer.status == 400, answer
    body = json.loads(answer.body)
    assert not envelope_problems(body, 400, openai=openai), body
    error = (body[0] if openai else body)["error"]
    for word in words:
        assert word in error["message"], error
    return error


GEN_PATH = "/v1beta/models/gemini-2.5-flash:generateContent"


@pytest.mark.parametrize("path", [GEN_PATH, "/v1beta/cachedContents", "/v1beta/files", "/v1beta/corpora",
                                  "/v1beta/batches/x:updateEmbedContentBatch", "/upload/v1beta/files",
                                  "/v1beta/models/gemini-embedding-001:asyncBatchEmbedContent"])
def test_invalid_utf8_is_a_400_not_a_crash(gemini_mock, path):
    # The strict parser raised UnicodeDecodeError, whose missing `.msg` crashed the error path.
    method = "PATCH" if "update" in path else "POST"
    headers = {"X-Goog-Upload-Protocol": "resumable"} if path.startswith("/upload") else {}
    answer = raw_request(gemini_mock.base_url, method, path, {"x-goog-api-key": gemini_mock.api_key,
                                                              "Content-Type": "application/json", **headers},
                         b'\x95{"a": 1}')
    assert answer.status in (400, 403), answer
    assert not envelope_problems(json.loads(answer.body), answer.status)


def test_invalid_utf8_on_the_openai_layer(gemini_mock):
    answer = _post(gemini_mock, "/v1beta/openai/batches", b"\xff\xfe\xfd")
    _assert_400(answer, "UTF-8", openai=True)


@pytest.mark.parametrize("body", [b"[" * 5000 + b"]" * 5000, b'{"a":' * 3000 + b"1" + b"}" * 3000,
                                  b"[" * 101 + b"]" * 101, b"[" * 5000])
def test_deep_nesting_is_a_400(gemini_mock, body):
    _assert_400(_post(gemini_mock, GEN_PATH, body), "Invalid JSON payload")


def test_nesting_at_the_limit_still_reaches_the_schema_check(gemini_mock):
    nested = {"contents": [{"parts": [{"functionCall": {"name": "f", "args": _nested_objects(90)}}]}]}
    answer = _post(gemini_mock, GEN_PATH, json.dumps(nested).encode())
    assert answer.status in (200, 400), answer
    assert "nested deeper" not in answer.body.decode()


@pytest.mark.parametrize("body, words", [
    (b'{"contents": ' + b"1" * 5000 + b"}", ["more digits"]),
    (b'{"contents": [], "generationConfig": {"temperature": 1e999}}', ["out of range"]),
    (b'{"contents": [], "generationConfig": {"temperature": NaN}}', ["NaN"]),
    (b'{"contents": [{"parts": [{"text": "\\ud800"}]}]}', ["surrogate"]),
    (b'{"contents": [{"parts": [{"text": "\xed\xa0\x80"}]}]}', ["surrogate"]),
    (b'{"generationConfig": {"temperature": "' + b"1" * 5000 + b'"}}', ["temperature"]),
    (b'{"generationConfig": {"temperature": ' + b"1" * 400 + b"}}", ["temperature"]),
    (b'{"generationConfig": {"maxOutputTokens": "' + b"1" * 5000 + b'"}}', ["max_output_tokens"]),
    (b'{"generationConfig": {"temperature": "1e999"}}', ["temperature"]),
])
def test_numbers_and_strings_no_answer_could_carry_are_400s(gemini_mock, body, words):
    # Each of these was a 500 (int-digit limit, float overflow) or an answer that was not JSON (NaN,
    # a lone surrogate echoed back).
    _assert_400(_post(gemini_mock, GEN_PATH, body), *words)


def test_lone_surrogates_are_refused_in_every_json_body(gemini_mock):
    answer = _post(gemini_mock, "/v1beta/cachedContents",
                   b'{"model": "models/gemini-2.5-flash", "displayName": "\\udc00", "contents": []}')
    _assert_400(answer, "surrogate")
    answer = _post(gemini_mock, "/v1beta/openai/chat/completions",
                   b'{"model": "gemini-2.5-flash", "messages": [{"role": "user", "content": "\\ud83d"}]}')
    _assert_400(answer, "surrogate", openai=True)


def test_proper_surrogate_pairs_and_utf16_bodies_still_work(gemini_mock):
    answer = _post(gemini_mock, GEN_PATH, b'{"contents": [{"parts": [{"text": "\\ud83d\\ude00 hi"}]}]}')
    assert answer.status == 200, answer
    answer = _post(gemini_mock, GEN_PATH, json.dumps(PROMPT).encode("utf-16"))
    assert answer.status == 200, answer


def test_big_relaxed_json_bodies_skip_the_slow_parser(gemini_mock, monkeypatch):
    # The relaxed (single-quote) fallback was a pure-Python parser: a 400 KB body blocked the server
    # for 20 s. Large bodies now take a rewrite at C speed; only small ones reach the general parser.
    import json5
    slow_calls = []
    real_loads = json5.loads
    monkeypatch.setattr(json5, "loads", lambda text, **kw: slow_calls.append(len(text)) or real_loads(text, **kw))
    body = ("{'contents': [{'parts': [{'text': 'it\\'s \"quoted\"'}" + ", {'text': 'x'}" * 40_000 + "]}]}").encode()
    answer = _post(gemini_mock, "/v1beta/models/gemini-2.5-flash:countTokens", body)
    assert answer.status == 200, answer
    broken = body[:-3] + b",,]"
    assert _post(gemini_mock, "/v1beta/models/gemini-2.5-flash:countTokens", broken).status == 400
    assert slow_calls == []   # neither the big body nor its broken twin went through the slow parser
    relaxed = _post(gemini_mock, GEN_PATH, b"{contents: [{parts: [{text: 'unquoted keys'}]}],}")
    assert relaxed.status == 200, relaxed


@pytest.mark.parametrize("path", ["/v1beta/models/a%0Ab", "/v1beta/files/x%0D%0Ay", "/v1beta/openai/files/a%0Ab",
                                  "/v1beta/openai/no/such%0Athing", "/_mock/nothing", "/_mock/rules/a%0Ab"])
def test_paths_no_route_pattern_matches_get_the_envelope(gemini_mock, path):
    # A newline in the path slipped past every route pattern to Starlette's plain-text 404.
    answer = raw_request(gemini_mock.base_url, "GET", path, {"x-goog-api-key": gemini_mock.api_key})
    assert answer.status in (403, 404), answer
    openai = "/openai/" in path
    assert not envelope_problems(json.loads(answer.body), answer.status, openai=openai), answer


def test_a_verb_starlette_does_not_route_is_a_404_envelope(gemini_mock):
    answer = raw_request(gemini_mock.base_url, "DELETE", "/_mock/whoami", {})
    assert answer.status == 404 and not envelope_problems(json.loads(answer.body), 404)


def test_a_client_that_disconnects_mid_body_is_not_an_internal_error(gemini_mock):
    for path in (GEN_PATH, "/v1beta/openai/files", "/v1beta/openai/batches"):
        raw_request(gemini_mock.base_url, "POST", path,
                    {"x-goog-api-key": gemini_mock.api_key, "Content-Type": "multipart/form-data; boundary=b"},
                    b"--b\r\nContent-Disposition: form-data", content_length=10_000, half_close=True, timeout=10)
    deadline = time.time() + 5
    while time.time() < deadline and sum(e["status"] == 499 for e in gemini_mock.requests) < 3:
        time.sleep(0.05)
    assert sum(e["status"] == 499 for e in gemini_mock.requests) == 3   # journaled as CANCELLED
    assert not gemini_mock.store.internal_errors
    assert healthy(gemini_mock.base_url, gemini_mock.api_key)


def test_v1beta3_shows_a_gemini_model_in_its_own_fields(gemini_mock):
    from gemini_mockserver.schema import validate_response
    answer = raw_request(gemini_mock.base_url, "GET", "/v1beta3/models/gemini-2.0-flash",
                         {"x-goog-api-key": gemini_mock.api_key})
    assert answer.status == 200
    validate_response("v1beta3", "Model", json.loads(answer.body))


@pytest.mark.parametrize("change", [{"advanceSeconds": 1e20}, {"advanceSeconds": -1e12},
                                    {"now": "9999-12-31T23:59:59Z"}, {"now": "0001-01-01T00:00:00Z"}])
def test_the_clock_stays_where_timestamps_can_be_written(gemini_mock, change):
    answer = raw_request(gemini_mock.base_url, "POST", "/_mock/clock", {}, json.dumps(change).encode())
    _assert_400(answer, "clock")
    assert healthy(gemini_mock.base_url, gemini_mock.api_key)


def test_times_past_the_year_9999_are_written_as_its_end(gemini_mock):
    from gemini_mockserver.wire import format_time
    assert format_time(1e20) == "9999-12-31T23:59:59.000000Z"
    assert format_time(-1e20) == "0001-01-01T00:00:00.000000Z"
    answer = _post(gemini_mock, "/v1beta/cachedContents", json.dumps({
        "model": "models/gemini-2.5-flash", "ttl": "315360000000s",
        "contents": [{"role": "user", "parts": [{"text": LONG}]}]}).encode())
    assert answer.status in (200, 400), answer
    if answer.status == 200:
        from gemini_mockserver.schema import validate_response
        validate_response("v1beta", "CachedContent", json.loads(answer.body))


def test_non_finite_floats_are_echoed_as_proto3_strings_never_bare_nan(gemini_mock):
    # proto3 JSON takes "NaN" and "Infinity" for float fields; a batch echoes its requests, and wrote
    # them back as bare NaN, which no JSON parser takes.
    from test_fuzz_openapi import message_problems, strict_json
    body = {"batch": {"inputConfig": {"requests": {"requests": [{"request": {
        "contents": [{"parts": [{"text": "x"}]}],
        "generationConfig": {"temperature": "NaN", "topP": "Infinity", "presencePenalty": "-Infinity"}}}]}}}}
    answer = _post(gemini_mock, "/v1beta/models/gemini-2.5-flash:batchGenerateContent", json.dumps(body).encode())
    assert answer.status == 200, answer
    echoed = strict_json(answer.body)["metadata"]["inputConfig"]["requests"]["requests"][0]["request"]
    assert echoed["generationConfig"] == {"temperature": "NaN", "topP": "Infinity", "presencePenalty": "-Infinity"}
    assert not message_problems(Expect("v1beta", "GenerateContentBatchOperation"), strict_json(answer.body))
    from gemini_mockserver.http import dumps
    assert dumps({"a": [float("nan"), float("-inf")]}) == b'{"a":["NaN","-Infinity"]}'
