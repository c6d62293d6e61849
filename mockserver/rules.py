"""Scripted rules (`store.rules`) and injected faults (`store.faults`): the control plane's two ways to
make the emulator answer something on purpose.

Rules act where the engine runs. A rule matches the model, the API method, a regular expression over the
prompt's text and the caller's project (every field optional), and answers a text, a function call, a JSON
value or an error instead of the generated answer; it may add latency, and may hold for the next N matching
calls only (`times`). Rules are tried in the order they were added; the first match wins. On the methods
that do not generate (countTokens, embedContent, batchEmbedContents) only error rules and pure latency
rules (no `respond`) act; the others are passed over. Batch API work is answered by rules too (a rule's
error becomes that request's error in the results; latency is not applied there).

    {"match": {"model": "gemini-2.5-flash", "method": "generateContent", "prompt": "weather",
               "project": "project-1"},
     "respond": {"text": "Sunny."} | {"functionCall": {"name": "f", "args": {}}} | {"json": {...}}
                | {"error": {"code": 429, "status"?: "RESOURCE_EXHAUSTED", "message"?: "..."}},
     "latencyMs": 0, "times": null,
     "tools": {"googleSearch": {"sources": [...]}, "urlContext": {...}, "codeExecution": {...}, ...}}

`pace` ({"tokensPerSecond", "firstTokenSeconds"}) streams the matched calls' answers at that pace
(pacing.py); it goes with a `respond` or alone. A call a rule answered is journaled with `source: rule`.

`tools` scripts what the request's built-in tools find (see generation/builtin_tools.py); it goes with a
`respond` or alone (the answer is then generated, grounded on the scripted results).

Faults act at the HTTP edge, on any API path, before the handler runs. A fault matches a regular
expression over the request path, the HTTP method, the model and the project, and holds for the next
`times` calls (1 unless given; null for every call):

    {"kind": "status", "code": 429 | 500 | 503 | ..., "status"?, "message"?, "retryDelay"?: "39s"}
    {"kind": "latency", "latencyMs": 2000, "chunkLatencyMs"?: 100}
    {"kind": "streamCut", "afterChunks": 2, "code"?: 500 | 503}
     + "match": {"path": "<regex>", "method": "POST", "model"?, "project"?}, "times": 1

A status fault answers the real API's body for its code: 429 RESOURCE_EXHAUSTED with QuotaFailure and
RetryInfo, 500 INTERNAL "Internal error encountered.", 503 UNAVAILABLE "The model is overloaded. Please try
again later.", and the status name of any other code; on a model-running call, any status but 429 (a
refusal) counts against the rate limits as a failed call, as the real API counts failures. Latency is real time (asyncio.sleep), not the
emulator's clock; `latencyMs` may go with any kind. A stream cut takes only SSE streams: the stream sends
`afterChunks` events, then a `data: {"error": {...}}` event, and ends (the SDKs raise after yielding the
events before it); a stream shorter than that sends all of its events and then the error.
"""
from __future__ import annotations

import asyncio
import copy
import re
import threading
from typing import TYPE_CHECKING, Any, AsyncIterable, AsyncIterator, Callable, TypeGuard

from starlette.responses import Response, StreamingResponse

from . import pacing, safe_regex
from .auth import Identity
from .errors import ApiError, invalid_argument, not_found, reason_phrase, status_for_code
from .generation import builtin_tools
from .http import dumps
from .call import CALL, Call, bare_model
from .quotas import admit
from .rate_limits import quota_error

if TYPE_CHECKING:
    import regex

    from .store import Store

# Methods whose answer a rule may script; on the others only errors and latency act.
GENERATING_METHODS = frozenset({"generateContent", "streamGenerateContent", "generateText", "generateMessage",
                                "bidiGenerateContent"})   # the Live API (live/session.py)
RESPOND_KINDS = ("text", "functionCall", "json", "error")
RULE_FIELDS = ("match", "respond", "latencyMs", "times", "tools", "pace")
RULE_MATCH_FIELDS = ("model", "method", "prompt", "project")
FAULT_KINDS = ("status", "latency", "streamCut")
FAULT_FIELDS = ("kind", "code", "status", "message", "details", "retryDelay", "latencyMs", "chunkLatencyMs",
                "afterChunks", "times", "match")
FAULT_MATCH_FIELDS = ("path", "method", "model", "project")
MAX_LATENCY_MS = 600_000

DEFAULT_MESSAGES = {
    400: "Request contains an invalid argument.",
    401: "Request had invalid authentication credentials.",
    403: "The caller does not have permission",
    404: "Requested entity was not found.",
    409: "The request conflicts with the current state of the resource.",
    429: "Resource has been exhausted (e.g. check quota).",
    499: "The operation was cancelled.",
    500: "Internal error encountered.",
    501: "Method not implemented.",
    503: "The model is overloaded. Please try again later.",
    504: "Deadline expired before operation could complete.",
}
_RETRY_DELAY = re.compile(r"^\s*(\d+(?:\.\d+)?)s\s*$")


# -- shared validation ------------------------------------------------------------------------------

def _object(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise invalid_argument(f"{where} must be a JSON object.", where)
    return value


def _only(data: dict[str, Any], allowed: tuple[str, ...], where: str) -> None:
    for key in data:
        if key not in allowed:
            place = f"{where}.{key}" if where else key
            raise invalid_argument(f"Unknown field '{place}': expected one of {', '.join(allowed)}.", place)


def _string(data: dict[str, Any], key: str, where: str) -> str | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise invalid_argument(f"{where}.{key} must be a non-empty string.", f"{where}.{key}")
    return value


def _number(value: Any, where: str, *, maximum: float = MAX_LATENCY_MS) -> float:
    if value is None:
        return 0.0
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= maximum:
        raise invalid_argument(f"{where} must be a number from 0 to {maximum:g}.", where)
    return float(value)


def _times(value: Any, where: str = "times") -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise invalid_argument(f"{where} must be a positive integer, or null for every call.", where)
    return value


def _regex(value: str | None, where: str) -> regex.Pattern | None:
    """A caller's pattern, matched later with a time budget (see safe_regex)."""
    return None if value is None else safe_regex.compile_pattern(value, where)


def error_spec(value: Any, where: str) -> dict[str, Any]:
    """A checked error to answer: {"code", "status"?, "message"?, "details"?, "retryDelay"?}."""
    spec = _object(value, where)
    _only(spec, ("code", "status", "message", "details", "retryDelay"), where)
    code = spec.get("code")
    if isinstance(code, bool) or not isinstance(code, int) or not 400 <= code <= 599:
        raise invalid_argument(f"{where}.code must be an HTTP error code from 400 to 599.", f"{where}.code")
    _string(spec, "status", where)
    _string(spec, "message", where)
    if spec.get("details") is not None and not isinstance(spec["details"], list):
        raise invalid_argument(f"{where}.details must be a list of objects.", f"{where}.details")
    delay = spec.get("retryDelay")
    if delay is not None and not (isinstance(delay, str) and _RETRY_DELAY.match(delay)):
        raise invalid_argument(f"{where}.retryDelay must be a duration such as \"39s\".", f"{where}.retryDelay")
    return {key: spec[key] for key in ("code", "status", "message", "details", "retryDelay") if key in spec}


# `spec` is an error_spec; its keys are typed Any because live/endpoint.py builds it with literal keys.
def build_error(store: Store, spec: dict[Any, Any], *, identity: Identity | None, model: str | None,
                family: str | None = None) -> ApiError:
    """The ApiError a rule or fault answers: the real API's body for the code unless the spec says more."""
    code = int(spec["code"])
    status = spec.get("status") or status_for_code(code)
    message = spec.get("message")
    if code == 429 and status == "RESOURCE_EXHAUSTED" and spec.get("details") is None:
        match = _RETRY_DELAY.match(spec.get("retryDelay") or "39s")
        assert match is not None   # error_spec checked retryDelay
        return quota_error(store, identity=identity, family=family, model=model,
                           retry_seconds=float(match.group(1)),
                           message=message or DEFAULT_MESSAGES[429])
    if message is None:
        message = DEFAULT_MESSAGES.get(code) or reason_phrase(code)
    return ApiError(code, status, message, copy.deepcopy(spec.get("details")) or None)


def _same_model(wanted: str, name: str | None) -> bool:
    return bool(name) and bare_model(wanted) == bare_model(name)


def prompt_text(request: Any) -> str:
    """The text parts of a request's prompt, one per line: contents (or generateContentRequest.contents)
    of a generation or count, the content of an embedding, each content of a batch of embeddings."""
    texts: list[str] = []

    def take(content: Any) -> None:
        if isinstance(content, dict):
            for part in content.get("parts") or ():
                if isinstance(part, dict) and isinstance(part.get("text"), str):
                    texts.append(part["text"])

    if isinstance(request, dict):
        inner = request.get("generateContentRequest")
        for source in (request, inner if isinstance(inner, dict) else {}):
            for content in source.get("contents") or ():
                take(content)
        take(request.get("content"))
        for item in request.get("requests") or ():
            if isinstance(item, dict):
                take(item.get("content"))
    return "\n".join(texts)


# -- scripted rules ---------------------------------------------------------------------------------

class Rule:
    __slots__ = ("id", "match", "methods", "pattern", "respond", "latency_ms", "times", "hits", "tools", "pace")

    def __init__(self, rule_id: str, data: Any) -> None:
        data = _object(data, "rule")
        _only(data, RULE_FIELDS, "")
        match = _object(data.get("match") or {}, "match")
        _only(match, RULE_MATCH_FIELDS, "match")
        _string(match, "model", "match")
        _string(match, "project", "match")
        methods = match.get("method")
        if isinstance(methods, str):
            methods = [methods]
        if methods is not None and (not isinstance(methods, list) or not methods
                                    or not all(isinstance(m, str) and m for m in methods)):
            raise invalid_argument("match.method must be a method name (generateContent, embedContent, ...), "
                                   "a list of them, or \"*\".", "match.method")
        self.pattern = _regex(_string(match, "prompt", "match"), "match.prompt")
        respond = data.get("respond")
        if respond is not None:
            respond = _object(respond, "respond")
            kinds = [key for key in respond if key in RESPOND_KINDS]
            _only(respond, RESPOND_KINDS, "respond")
            if len(kinds) != 1:
                raise invalid_argument("respond takes exactly one of text, functionCall, json and error.", "respond")
            kind = kinds[0]
            if kind == "text" and not isinstance(respond["text"], str):
                raise invalid_argument("respond.text must be a string.", "respond.text")
            if kind == "functionCall":
                call = _object(respond["functionCall"], "respond.functionCall")
                _only(call, ("name", "args"), "respond.functionCall")
                if not isinstance(call.get("name"), str) or not call["name"]:
                    raise invalid_argument("respond.functionCall.name must be a non-empty string.",
                                           "respond.functionCall.name")
                if call.get("args") is not None and not isinstance(call["args"], dict):
                    raise invalid_argument("respond.functionCall.args must be an object.", "respond.functionCall.args")
                respond = {"functionCall": {"name": call["name"], "args": call.get("args") or {}}}
            if kind == "error":
                respond = {"error": error_spec(respond["error"], "respond.error")}
        self.latency_ms = _number(data.get("latencyMs"), "latencyMs")
        self.tools = None if data.get("tools") is None else builtin_tools.check_script(data["tools"])
        self.pace = None if data.get("pace") is None else pacing.check(data["pace"], "pace")
        if respond is None and not self.latency_ms and self.tools is None and self.pace is None:
            raise invalid_argument("A rule needs respond (text, functionCall, json or error), tools, latencyMs, "
                                   "or some of them.", "respond")
        self.id = rule_id
        self.match = {key: match[key] for key in RULE_MATCH_FIELDS if match.get(key) is not None}
        self.methods = None if methods is None or "*" in methods else frozenset(methods)
        self.respond: dict[str, Any] | None = respond
        self.times = _times(data.get("times"))
        self.hits = 0

    def as_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"id": self.id, "match": copy.deepcopy(self.match),
                                "respond": copy.deepcopy(self.respond),
                                "latencyMs": self.latency_ms, "times": self.times, "hits": self.hits}
        if self.tools is not None:
            body["tools"] = copy.deepcopy(self.tools)
        if self.pace is not None:
            body["pace"] = dict(self.pace)
        return body

    @property
    def exhausted(self) -> bool:
        return self.times is not None and self.hits >= self.times

    def acts_on(self, method: str) -> bool:
        """Whether the rule's answer makes sense for `method` (see the module's doc)."""
        if method in GENERATING_METHODS:
            return True
        return self.tools is None and (self.respond is None or "error" in self.respond)

    def matches(self, project: str | None, model_name: str | None, method: str, prompt: Callable[[], str]) -> bool:
        if self.exhausted or not self.acts_on(method):
            return False
        if self.methods is not None and method not in self.methods:
            return False
        if "model" in self.match and not _same_model(self.match["model"], model_name):
            return False
        if "project" in self.match and self.match["project"] != project:
            return False
        return self.pattern is None or safe_regex.search(self.pattern, prompt(), f"rules[{self.id}].match.prompt")


class Rules:
    """The scripted rules, in order."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._rules: list[Rule] = []
        self._next = 1
        self._lock = threading.Lock()

    def reset(self) -> None:
        with self._lock:
            self._rules.clear()
            self._next = 1

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    def add(self, rule: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            added = Rule(f"rule-{self._next}", rule)
            self._next += 1
            self._rules.append(added)
            return added.as_dict()

    def list(self) -> list[dict[str, Any]]:
        with self._lock:
            return [rule.as_dict() for rule in self._rules]

    def delete(self, rule_id: str) -> None:
        with self._lock:
            for index, rule in enumerate(self._rules):
                if rule.id == rule_id:
                    del self._rules[index]
                    return
        raise not_found(f"Rule {rule_id} was not found.")

    def answer_for(self, identity: Identity | None, model: dict[str, Any] | None, request: dict[str, Any],
                   method: str) -> dict[str, Any] | None:
        """The first matching rule's answer ({"text"} | {"functionCall"} | {"json"}), or None to generate.
        An error rule raises its ApiError; a rule's latency is added to the call in progress."""
        if not self._rules:
            return None
        project = identity.project if identity is not None else None
        model_name = (model or {}).get("name")
        text: list[str] = []

        def prompt() -> str:   # computed once, and only if a rule looks at it
            if not text:
                text.append(prompt_text(request))
            return text[0]

        with self._lock:
            for rule in self._rules:
                if rule.matches(project, model_name, method, prompt):
                    rule.hits += 1
                    respond = copy.deepcopy(rule.respond)
                    if rule.tools is not None and "error" not in (respond or {}):
                        respond = dict(respond or {}, tools=copy.deepcopy(rule.tools))
                    latency = rule.latency_ms
                    matched, pace = rule.id, rule.pace
                    break
            else:
                return None
        call = CALL.get()
        if call is not None:
            call.rule, call.pace = matched, pace
        if latency and call is not None and (call.family is not None or call.method == method):
            call.latency_ms += latency   # slept before the answer goes out (not in Batch API work)
        if respond is None:
            return None
        if "error" in respond:
            raise build_error(self._store, respond["error"], identity=identity, model=model_name,
                              family=call.family if call is not None else None)
        return respond

    # -- state export and import (persistence.py) ------------------------------------------------------
    def export_state(self) -> dict[str, Any]:
        """The rules in order with their use counts (kept lazily: saved with the next snapshot)."""
        with self._lock:
            return {"next": self._next, "rules": [rule.as_dict() for rule in self._rules]}

    def import_state(self, data: dict[str, Any]) -> None:
        rules: list[Rule] = []
        for item in data.get("rules") or []:
            rule = Rule(item["id"], {key: item[key] for key in RULE_FIELDS if key in item})
            rule.hits = int(item.get("hits") or 0)
            rules.append(rule)
        with self._lock:
            self._rules, self._next = rules, int(data.get("next") or 1)


# -- faults -----------------------------------------------------------------------------------------

class Fault:
    __slots__ = ("id", "kind", "spec", "latency_ms", "chunk_latency_ms", "after_chunks", "times", "hits",
                 "match", "path", "method")

    def __init__(self, fault_id: str, data: Any) -> None:
        data = _object(data, "fault")
        _only(data, FAULT_FIELDS, "")
        kind = data.get("kind", "status")
        if kind not in FAULT_KINDS:
            raise invalid_argument(f"kind must be one of {', '.join(FAULT_KINDS)}.", "kind")
        match = _object(data.get("match") or {}, "match")
        _only(match, FAULT_MATCH_FIELDS, "match")
        for key in FAULT_MATCH_FIELDS:
            _string(match, key, "match")
        self.path = _regex(match.get("path"), "match.path")
        self.method = match["method"].upper() if match.get("method") else None
        self.latency_ms = _number(data.get("latencyMs"), "latencyMs")
        self.chunk_latency_ms = _number(data.get("chunkLatencyMs"), "chunkLatencyMs")
        self.after_chunks = None
        error_fields = {key: data[key] for key in ("code", "status", "message", "details", "retryDelay")
                        if key in data}
        if kind == "status":
            if "code" not in data:
                raise invalid_argument("A status fault needs code (429, 500, 503, ...).", "code")
            self.spec: dict[str, Any] | None = error_spec(error_fields, "fault")
        elif kind == "streamCut":
            after = data.get("afterChunks", 1)
            if isinstance(after, bool) or not isinstance(after, int) or after < 0:
                raise invalid_argument("afterChunks must be a non-negative integer.", "afterChunks")
            self.after_chunks = after
            self.spec = error_spec({"code": 500, **error_fields}, "fault")
        else:
            if error_fields:
                raise invalid_argument(f"A latency fault takes no {next(iter(error_fields))}.",
                                       next(iter(error_fields)))
            if not self.latency_ms and not self.chunk_latency_ms:
                raise invalid_argument("A latency fault needs latencyMs or chunkLatencyMs.", "latencyMs")
            self.spec = None
        self.id = fault_id
        self.kind = kind
        self.match = {key: match[key] for key in FAULT_MATCH_FIELDS if match.get(key) is not None}
        self.times = _times(data["times"]) if "times" in data else 1
        self.hits = 0

    def as_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"id": self.id, "kind": self.kind}
        if self.spec is not None:
            body.update(copy.deepcopy(self.spec))
        if self.latency_ms:
            body["latencyMs"] = self.latency_ms
        if self.chunk_latency_ms:
            body["chunkLatencyMs"] = self.chunk_latency_ms
        if self.after_chunks is not None:
            body["afterChunks"] = self.after_chunks
        body.update(match=copy.deepcopy(self.match), times=self.times, hits=self.hits)
        return body

    @property
    def exhausted(self) -> bool:
        return self.times is not None and self.hits >= self.times

    def matches(self, project: str | None, method: str, path: str, model: str | None, stream: bool | None) -> bool:
        if self.exhausted:
            return False
        if self.kind == "streamCut" and stream is False:
            return False
        if self.method is not None and self.method != method.upper():
            return False
        if self.path is not None and not safe_regex.search(self.path, path, f"faults[{self.id}].match.path"):
            return False
        if "model" in self.match and not _same_model(self.match["model"], model):
            return False
        return "project" not in self.match or self.match["project"] == project


class Faults:
    """Injected faults, in order; the first match acts."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._faults: list[Fault] = []
        self._next = 1
        self._lock = threading.Lock()

    def reset(self) -> None:
        with self._lock:
            self._faults.clear()
            self._next = 1

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def add(self, fault: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            added = Fault(f"fault-{self._next}", fault)
            self._next += 1
            self._faults.append(added)
            return added.as_dict()

    def list(self) -> list[dict[str, Any]]:
        with self._lock:
            return [fault.as_dict() for fault in self._faults]

    def delete(self, fault_id: str) -> None:
        with self._lock:
            for index, fault in enumerate(self._faults):
                if fault.id == fault_id:
                    del self._faults[index]
                    return
        raise not_found(f"Fault {fault_id} was not found.")

    def take(self, identity_or_project: Identity | str | None, method: str, path: str, model: str | None,
             stream: bool | None = None) -> dict[str, Any] | None:
        """The first fault matching the call, with one of its uses consumed; None when none matches.
        `stream`: whether the call is an SSE stream (stream cuts take only those); None if unknown."""
        project = identity_or_project.project if isinstance(identity_or_project, Identity) else identity_or_project
        with self._lock:
            for fault in self._faults:
                if fault.matches(project, method, path, model, stream):
                    fault.hits += 1
                    return fault.as_dict()
        return None

    # -- state export and import (persistence.py) ------------------------------------------------------
    def export_state(self) -> dict[str, Any]:
        """The faults in order with their use counts (kept lazily: saved with the next snapshot)."""
        with self._lock:
            return {"next": self._next, "faults": [fault.as_dict() for fault in self._faults]}

    def import_state(self, data: dict[str, Any]) -> None:
        faults: list[Fault] = []
        for item in data.get("faults") or []:
            fault = Fault(item["id"], {key: value for key, value in item.items() if key in FAULT_FIELDS})
            fault.hits = int(item.get("hits") or 0)
            faults.append(fault)
        with self._lock:
            self._faults, self._next = faults, int(data.get("next") or 1)


# -- at the HTTP edge -------------------------------------------------------------------------------

async def apply_faults(store: Store, call: Call) -> None:
    """Before the handler: the first matching fault sleeps, raises its error, or arms a stream cut."""
    fault = store.faults.take(call.project, call.http_method, call.path, call.model, stream=call.stream)
    if fault is None:
        return
    call.fault = fault["id"]
    if fault.get("latencyMs"):
        await asyncio.sleep(fault["latencyMs"] / 1000)
    call.chunk_latency_ms = fault.get("chunkLatencyMs") or 0.0
    spec: dict[str, Any] = {key: fault[key] for key in ("code", "status", "message", "details", "retryDelay")
                            if key in fault}
    if fault["kind"] == "status":
        error = build_error(store, spec, identity=call.identity, model=call.model, family=call.family)
        if error.code != 429:
            # A failed call still counts against the quota (seed 002, Billing FAQ: "fails with a 400 or
            # 500 error ... will still count against your quota"); a 429 is a refusal, which does not.
            admit(store, call)
        raise error
    if fault["kind"] == "streamCut":
        call.cut_after = fault["afterChunks"]
        call.cut_error = build_error(store, spec, identity=call.identity, model=call.model, family=call.family)


def _is_sse(response: Response) -> TypeGuard[StreamingResponse]:
    return isinstance(response, StreamingResponse) and \
        response.headers.get("content-type", "").startswith("text/event-stream")


async def finish_response(call: Call, response: Response) -> Response:
    """After the handler: the rules' latency, then the stream shaping a fault asked for."""
    if call.latency_ms:
        await asyncio.sleep(call.latency_ms / 1000)
    if _is_sse(response) and (call.cut_error is not None or call.chunk_latency_ms):
        response.body_iterator = _shaped_events(response.body_iterator, call.cut_after, call.cut_error,
                                                call.chunk_latency_ms / 1000)
    elif call.cut_error is not None:
        call.cut_error = None   # not a stream after all (an error answer): nothing was cut
    return response


def _next_event_end(buffer: bytes) -> int:
    """The end of the first complete SSE event in `buffer` (after its blank line), or -1."""
    ends = [(index, len(sep)) for sep in (b"\r\n\r\n", b"\n\n") if (index := buffer.find(sep)) >= 0]
    if not ends:
        return -1
    index, size = min(ends)
    return index + size


async def _shaped_events(source: AsyncIterable[str | bytes | memoryview], limit: int | None, error: ApiError | None,
                         delay: float) -> AsyncIterator[bytes]:
    """The SSE events of `source`, `delay` seconds apart, cut after `limit` events by `error`'s event."""
    buffer, sent, cut = b"", 0, False
    try:
        async for chunk in source:
            buffer += chunk.encode() if isinstance(chunk, str) else chunk
            while (end := _next_event_end(buffer)) >= 0:
                if limit is not None and sent >= limit:
                    cut = True
                    break
                event, buffer = buffer[:end], buffer[end:]
                if delay:
                    await asyncio.sleep(delay)
                yield event
                sent += 1
            if cut:
                break
        if not cut and buffer.strip() and (limit is None or sent < limit):   # a last event without its blank line
            if delay:
                await asyncio.sleep(delay)
            yield buffer
    finally:
        closing = getattr(source, "aclose", None)
        if closing is not None:
            await closing()
    if error is not None:
        yield b"data: " + dumps(error.envelope()) + b"\r\n\r\n"


def register(store: Store) -> None:
    store.register("rules", Rules(store))
    store.register("faults", Faults(store))
