"""Fuzzing every operation of the server's own `/openapi.json` with schemathesis.

Each operation is driven with cases schemathesis generates from the document (valid bodies from the
recorded schemas, and deliberately invalid ones), their path parameters sometimes swapped for the ids
of real resources of the caller's project (so the handlers get past the lookup), and every answer is
held to the contract:

* never a 5xx;
* a 200 JSON answer is the recorded message the document names for the operation (a stream: every
  event, or the error event that ends it);
* anything else is the Google error envelope (in a one-element list on the OpenAI-compatible layer).

The engine here is shared with `bench/fuzz.py`, which runs the same generators at scale (every
operation of every version, tens of examples each); the tests run a small seeded slice.
"""
from __future__ import annotations

import json
import random
import threading
from dataclasses import dataclass, field
from typing import Any, Iterable

import httpx
import hypothesis
import pytest
import requests

from gemini_mockserver.errors import STATUS_CODES
from gemini_mockserver.schema import response_errors
from gemini_mockserver.wire import sse_events

LONG = " ".join(f"Sentence {i} of a document long enough to be cached." for i in range(600))
PROMPT = {"contents": [{"role": "user", "parts": [{"text": "Explain how AI works in a few words"}]}]}
TUNING = {"displayName": "fuzz", "baseModel": "models/text-bison-001",
          "tuningTask": {"trainingData": {"examples": {"examples": [{"textInput": "Hi", "output": "Salut"}]}}}}
GEMINI_TUNING = {**TUNING, "baseModel": "models/gemini-1.5-flash-001-tuning"}
MODELS = ["gemini-2.5-flash", "gemini-2.0-flash", "gemini-embedding-001", "text-bison-001", "chat-bison-001",
          "embedding-gecko-001", "gemini-2.5-pro"]


# ---------------------------------------------------------------------------------------------------
# The oracle: what every answer must be

_ENVELOPE_KEYS = {"code", "message", "status", "details"}


def interactions_error_problems(body: Any) -> list[str]:
    """Problems of `body` as the Interactions API's error body: {"error": {"code": <string>, "message"}}."""
    error = body.get("error") if isinstance(body, dict) and set(body) == {"error"} else None
    if not isinstance(error, dict) or set(error) != {"code", "message"}:
        return [f"not an Interactions error body: {str(body)[:200]}"]
    if not isinstance(error["code"], str) or not isinstance(error["message"], str) or not error["message"]:
        return [f"Interactions error code or message malformed: {str(body)[:200]}"]
    return []


def envelope_problems(body: Any, code: int, *, openai: bool = False) -> list[str]:
    """Problems of `body` as the error envelope of HTTP `code` (on the OpenAI-compatible layer the
    envelope comes in a one-element list, as the real layer answers)."""
    if openai:
        if not (isinstance(body, list) and len(body) == 1):
            return [f"OpenAI-layer error is not a one-element list: {str(body)[:200]}"]
        body = body[0]
    if not isinstance(body, dict) or set(body) != {"error"} or not isinstance(body["error"], dict):
        return [f"not an error envelope: {str(body)[:200]}"]
    error = body["error"]
    problems = []
    if set(error) - _ENVELOPE_KEYS:
        problems.append(f"unknown envelope keys {sorted(set(error) - _ENVELOPE_KEYS)}")
    if error.get("code") != code:
        problems.append(f"envelope code {error.get('code')!r} != HTTP {code}")
    if not isinstance(error.get("message"), str) or not error["message"]:
        problems.append("envelope message missing or empty")
    status = error.get("status")
    if status not in STATUS_CODES:
        problems.append(f"unknown status {status!r}")
    elif STATUS_CODES[status] != code:
        problems.append(f"status {status} is HTTP {STATUS_CODES[status]}, answered {code}")
    details = error.get("details")
    if details is not None and not (isinstance(details, list) and details
                                    and all(isinstance(d, dict) and isinstance(d.get("@type"), str)
                                            for d in details)):
        problems.append(f"details malformed: {str(details)[:200]}")
    return problems


def _not_json(token: str):
    raise ValueError(f"{token} is not JSON")


def strict_json(content: bytes | str) -> Any:
    """JSON as every client parses it: UTF-8, no NaN or Infinity."""
    if isinstance(content, bytes):
        content = content.decode("utf-8")
    return json.loads(content, parse_constant=_not_json)


def stream_events(text: str) -> list[Any]:
    """The JSON events of an SSE body, or the items of a JSON array body."""
    if text.lstrip().startswith("["):
        return strict_json(text)
    return sse_events(text, strict_json)


@dataclass(frozen=True)
class Expect:
    """What an operation answers on success, read from the OpenAPI document."""
    version: str | None = None      # the recorded schema's version
    message: str | None = None      # the recorded message of a 200 JSON answer
    stream: bool = False
    download: bool = False
    upload: bool = False
    openai: bool = False
    interactions: bool = False


def expect_of(operation: dict) -> Expect:
    ok = operation["responses"].get("200", {}).get("content", {})
    schema = (ok.get("application/json") or {}).get("schema") or {}
    ref = schema.get("$ref") or (schema.get("items") or {}).get("$ref") or ""
    name = ref.rsplit("/", 1)[-1]
    if name == "OpenAIBody":
        return Expect(openai=True)
    if name == "InteractionsBody":
        return Expect(interactions=True, stream=True)
    version, _, message = name.partition(".")
    return Expect(version or None, message or None, stream="text/event-stream" in ok,
                  download="application/octet-stream" in ok and "requestBody" not in operation,
                  upload="application/octet-stream" in ok or "X-Goog-Upload-URL" in
                  operation["responses"].get("200", {}).get("headers", {}))


def header(headers, name: str) -> str:
    """One header of an answer, whatever the client library keeps them in (values may be lists)."""
    for key, value in headers.items():
        if key.lower() == name:
            return value[0] if isinstance(value, (list, tuple)) else value
    return ""


def answer_problems(expect: Expect, status: int, headers, content: bytes) -> list[str]:
    """Every way an answer breaks the contract (empty: it keeps it)."""
    if status >= 500:
        return [f"HTTP {status}: {content[:300]!r}"]
    ctype = header(headers, "content-type").split(";")[0].strip().lower()
    if status != 200:
        try:
            body = strict_json(content)
        except ValueError:
            return [f"HTTP {status} answered a non-JSON body ({ctype}): {content[:200]!r}"]
        if expect.interactions:
            return interactions_error_problems(body)
        return envelope_problems(body, status, openai=expect.openai)
    if ctype == "text/event-stream" or (expect.stream and content.lstrip().startswith(b"[")):
        try:
            events = stream_events(content.decode("utf-8"))
        except (ValueError, UnicodeDecodeError) as error:
            return [f"stream event is not JSON: {error}"]
        problems = []
        for index, event in enumerate(events):
            if isinstance(event, dict) and "error" in event and set(event) == {"error"}:
                code = event["error"].get("code") if isinstance(event["error"], dict) else None
                if isinstance(code, int) and code >= 500:
                    problems.append(f"stream ended with a {code} error event")
                if index != len(events) - 1:
                    problems.append("an error event in the middle of a stream")
                continue
            if expect.openai:
                if not (isinstance(event, dict) and "object" in event):
                    problems.append(f"event {index} is not an OpenAI object: {str(event)[:200]}")
            else:
                problems += [f"event {index}: {p}" for p in message_problems(expect, event)]
        return problems
    if expect.upload and not content:   # the resumable protocol's answers: the status is in the headers
        return [] if header(headers, "x-goog-upload-status") else ["empty upload answer without its status"]
    if ctype != "application/json":
        if expect.download or expect.openai:   # the bytes of a file
            return []
        return [f"200 answered {ctype or 'no content type'}"]
    try:
        body = strict_json(content)
    except ValueError:
        return [f"200 JSON answer is not JSON: {content[:200]!r}"]
    if expect.openai:
        return [] if isinstance(body, dict) and "object" in body else [f"OpenAI answer without object: {str(body)[:200]}"]
    return message_problems(expect, body)


# A route whose answer is one of several recorded messages: the document names the first.
ALTERNATIVES = {"GenerateContentBatchOperation": ("EmbedContentBatchOperation",)}


# proto3 JSON writes a float that is NaN or infinite as one of these strings (an echoed request may hold one).
_NON_FINITE = tuple(f": '{word}' is not of type 'number'" for word in ("NaN", "Infinity", "-Infinity"))


def message_problems(expect: Expect, body: Any) -> list[str]:
    """Problems of `body` as the recorded message the operation answers (or one of its alternatives)."""
    if not (expect.message and expect.version):
        return []
    problems = _proto3(response_errors(expect.version, expect.message, body))
    for other in ALTERNATIVES.get(expect.message, ()):
        if problems and not _proto3(response_errors(expect.version, other, body)):
            return []
    return problems


def _proto3(problems: list[str]) -> list[str]:
    return [p for p in problems if not p.endswith(_NON_FINITE)]


# ---------------------------------------------------------------------------------------------------
# Real resources, so generated cases reach past the lookups

class World:
    """Resources of one project (made through the backends, no HTTP), by the path parameter they fill."""

    def __init__(self, server, api_key: str) -> None:
        from gemini_mockserver.pytest_plugin.plugin import GeminiMock
        self.mock = GeminiMock(server, api_key)
        self.api_key = api_key
        self.values: dict[str, list[str]] = {}
        self.error: str | None = None   # why the last refresh could not make everything
        self.refresh()

    def _id(self, name: str) -> str:
        return name.split("/", 1)[1]

    def refresh(self) -> None:
        """(Re)make one of each resource; ids of deleted ones are kept too (they must answer 403)."""
        mock, store = self.mock, self.mock.store
        identity = mock.identity
        made: dict[str, list[str]] = {}
        try:
            file = mock.upload_file(b"hello fuzz", "text/plain")["name"]
            generated = store.files.create_generated(identity, "results", "application/jsonl",
                                                     data=b'{"key": "a"}\n')["name"]
            made["file"] = [self._id(file), self._id(generated)]
            made["id"] = [self._id(mock.create_cache({"model": "models/gemini-2.5-flash", "ttl": "3600s",
                                                     "contents": [{"role": "user", "parts": [{"text": LONG}]}]})["name"])]
            batch = mock.create_batch("gemini-2.5-flash", [PROMPT])["name"]
            embed = mock.create_batch("gemini-embedding-001", [{"content": {"parts": [{"text": "a"}]}}],
                                      embed=True)["name"]
            made["batch"] = [self._id(batch), self._id(embed)]
            text_op = mock.create_tuned_model(TUNING)
            gemini_op = mock.create_tuned_model(GEMINI_TUNING)
            mock.advance(3600)
            tuned = [self._id(op["metadata"]["tunedModel"]) for op in (text_op, gemini_op)]
            made["tuned"] = tuned
            made["operation"] = [text_op["name"].rsplit("/", 1)[-1]]
            corpus = store.corpora.create(identity, {"displayName": "c"})["name"]
            made["corpus"] = [self._id(corpus)]
            perms = [mock.share(f"tunedModels/{tuned[0]}", "friend@example.com")["name"],
                     mock.share(corpus, "team@example.com", "WRITER", "GROUP")["name"]]
            made["permission"] = [p.rsplit("/", 1)[-1] for p in perms]
            made["openai"] = [file, generated, batch]
        except Exception as error:   # the world is a help, not the subject: fuzz on with what exists
            self.error = repr(error)
        for key, value in made.items():
            self.values[key] = (value + [v for v in self.values.get(key, []) if v not in value])[:8]

    def candidates(self, path: str, param: str) -> list[str]:
        """Real values for path parameter `param` of the templated `path`."""
        if "/openai/" in path:
            if "/models/" in path:
                return MODELS
            return self.values.get("openai", [])
        if param == "model" and "tunedModels/" in path:
            return self.values.get("tuned", [])
        if param == "model":
            return MODELS
        return self.values.get(param, [])


# ---------------------------------------------------------------------------------------------------
# Driving operations

@dataclass
class Tally:
    """What a fuzz run saw: requests by status, and every broken promise."""
    requests: int = 0
    unsendable: int = 0          # cases no HTTP client can send (refused before reaching the server)
    off_schema: int = 0          # answers under 500 that break the contract (or no answer at all)
    violations: int = 0          # broken promises that are not one answer (state models, generation)
    finalized: int = 0           # uploads that ended in a file, its bytes checked
    scripted: int = 0            # 5xx answers a rule or fault scripted on purpose (not counted as requests)
    by_status: dict[int, int] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def record(self, status: int, problems: list[str], what: str) -> None:
        with self.lock:
            self.requests += 1
            self.by_status[status] = self.by_status.get(status, 0) + 1
            if problems:
                if status < 500:
                    self.off_schema += 1
                self.failures.append(f"{what} -> {status}: " + "; ".join(problems[:5]))

    def violation(self, message: str) -> None:
        with self.lock:
            self.violations += 1
            self.failures.append(message)

    @property
    def server_errors(self) -> int:
        return sum(n for status, n in self.by_status.items() if status >= 500)


def load_schema(base_url: str):
    import schemathesis
    document = httpx.get(f"{base_url}/openapi.json", timeout=30).json()
    return document, schemathesis.openapi.from_dict(document)


def operations(schema, document: dict, *, include=None) -> list[tuple[Any, Expect]]:
    """(schemathesis operation, what it answers) for every operation, or those `include(path, method)` keeps."""
    out = []
    for result in schema.get_all_operations():
        op = result.ok()
        if include is not None and not include(op.path, op.method.upper()):
            continue
        out.append((op, expect_of(document["paths"][op.path][op.method.lower()])))
    return out


def _send(session, case, base_url: str, api_key: str | None):
    """Send `case` the way schemathesis serialises it (requests), with the fuzz project's key."""
    headers = {"x-goog-api-key": api_key} if api_key is not None else None
    return case.call(base_url=base_url, session=session, headers=headers, timeout=60, allow_redirects=False)


def fuzz_operation(session: requests.Session, base_url: str, op, expect: Expect, world: World, tally: Tally, *,
                   examples: int, mode: str, seed: int, real_ids: float = 0.5) -> None:
    """Drive `op` with `examples` generated cases (mode "positive" or "negative")."""
    from hypothesis import HealthCheck, Phase, given, settings
    from schemathesis import GenerationMode

    rng = random.Random(f"{seed}:{op.method}:{op.path}:{mode}")
    strategy = op.as_strategy(generation_mode=GenerationMode(mode))

    @hypothesis.seed(seed)
    @settings(max_examples=examples, deadline=None, database=None, phases=(Phase.explicit, Phase.generate),
              suppress_health_check=list(HealthCheck), print_blob=False)
    @given(case=strategy)
    def run(case):
        for name in list(case.path_parameters or {}):
            choices = world.candidates(op.path, name)
            if choices and rng.random() < real_ids:
                case.path_parameters[name] = rng.choice(choices)
        key = world.api_key if rng.random() < 0.97 else None
        what = f"{op.method.upper()} {op.path} {case.path_parameters} query={case.query} body={str(case.body)[:300]}"
        try:
            answer = _send(session, case, base_url, key)
        except (requests.exceptions.InvalidHeader, requests.exceptions.InvalidURL, UnicodeError,
                ValueError, TypeError):
            tally.unsendable += 1   # not sendable over HTTP at all: refused by the client, not the server
            return
        except requests.exceptions.RequestException as error:   # the connection broke: the server's fault
            tally.record(0, [f"connection failed: {error!r}"], what)
            return
        tally.record(answer.status_code, answer_problems(expect, answer.status_code, answer.headers,
                                                         answer.content), what)

    try:
        run()
    except Exception as error:   # generation trouble
        if "Unsatisfiable" not in type(error).__name__:
            tally.violation(f"generation failed for {op.method.upper()} {op.path}: {error!r}"[:500])


def run_fuzz(base_url: str, server, api_key: str, *, examples: int, modes: Iterable[str] = ("positive", "negative"),
             include=None, seed: int = 0, progress=None) -> Tally:
    """Fuzz every (included) operation of the server's /openapi.json; returns the tally."""
    document, schema = load_schema(base_url)
    tally = Tally()
    world = World(server, api_key)
    if world.error:
        tally.violation(f"could not make the resources to fuzz with: {world.error}")
    with requests.Session() as session:
        for index, (op, expect) in enumerate(operations(schema, document, include=include)):
            if index % 10 == 0:
                world.refresh()
            for mode in modes:
                fuzz_operation(session, base_url, op, expect, world, tally, examples=examples, mode=mode,
                               seed=seed)
            if progress is not None:
                progress(index, op, tally)
    return tally


def healthy(base_url: str, api_key: str) -> bool:
    """A normal generateContent still answers its recorded message."""
    answer = httpx.post(f"{base_url}/v1beta/models/gemini-2.5-flash:generateContent", json=PROMPT,
                        headers={"x-goog-api-key": api_key}, timeout=30)
    return answer.status_code == 200 and not response_errors("v1beta", "GenerateContentResponse", answer.json())


# ---------------------------------------------------------------------------------------------------
# The CI slice

def _ci_slice(path: str, method: str) -> bool:
    """v1beta and the media paths of v1beta: every operation once, at its recorded schemas."""
    return path.startswith(("/v1beta/", "/upload/v1beta/", "/download/v1beta/"))


@pytest.mark.parametrize("mode, examples", [("positive", 2), ("negative", 1)])
def test_every_v1beta_operation_survives_generated_requests(gemini_mock, mode, examples):
    tally = run_fuzz(gemini_mock.base_url, gemini_mock.server, gemini_mock.api_key, examples=examples,
                     modes=(mode,), include=_ci_slice, seed=1)
    assert tally.requests >= 70 * examples
    assert tally.server_errors == 0, tally.failures[:10]
    assert not tally.failures, "\n".join(tally.failures[:20])
    assert healthy(gemini_mock.base_url, gemini_mock.api_key)
    assert not gemini_mock.store.internal_errors


# ---------------------------------------------------------------------------------------------------
# Stateful: sequences of operations on one project's resources, against a model of what must exist
#
# schemathesis follows OpenAPI links for this, but a link can only copy a response value into a
# parameter: the `name` an answer carries (`cachedContents/abc`) is not the `{id}` the next path takes
# (`abc`). So the sequences are a hypothesis state machine; every answer still goes through the oracle.

from hypothesis import strategies as st  # noqa: E402
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule  # noqa: E402

CACHE_BODY = {"model": "models/gemini-2.5-flash", "ttl": "7200s",
              "contents": [{"role": "user", "parts": [{"text": LONG}]}]}
OTHER_KEY_SUFFIX = "-neighbour"


class ResourceLifecycles(RuleBasedStateMachine):
    """Create, read, change, list and delete caches, files, batches and tuned models (and grant the
    neighbour project access) in random orders; lists must match the model, deleted things must answer
    403, the neighbour must see nothing of ours unless granted, and every answer keeps the contract."""

    server = None       # set by the test: (base_url, api_key)
    tally: Tally

    runs = 0

    def __init__(self):
        super().__init__()
        base_url, key = self.server
        ResourceLifecycles.runs += 1
        key = f"{key}-run{ResourceLifecycles.runs}"   # a fresh project for every sequence
        self.http = httpx.Client(base_url=base_url, headers={"x-goog-api-key": key}, timeout=60)
        self.neighbour = httpx.Client(base_url=base_url, headers={"x-goog-api-key": key + OTHER_KEY_SUFFIX},
                                      timeout=60)
        self.neighbour_email = self.neighbour.get("/_mock/whoami").json()["email"]
        self.caches: set[str] = set()
        self.files: dict[str, bytes] = {}
        self.batches: set[str] = set()
        self.tuned: set[str] = set()
        self.grants: dict[str, str] = {}          # tuned model -> permission name (the neighbour's)
        self.gone: list[str] = []                 # names deleted: must answer 403

    def teardown(self):
        self.http.close()
        self.neighbour.close()

    # -- plumbing --------------------------------------------------------------------------------------
    def call(self, method: str, path: str, message: str | None, *, client=None, expect=(200,), **kwargs):
        answer = (client or self.http).request(method, f"/v1beta/{path}", **kwargs)
        problems = answer_problems(Expect("v1beta", message), answer.status_code, answer.headers, answer.content)
        if answer.status_code not in expect:
            problems.append(f"expected HTTP {expect}, got {answer.status_code}: {answer.text[:300]}")
        self.tally.record(answer.status_code, problems, f"{method} {path}")
        assert not problems, problems
        return answer

    def listed(self, collection: str, field_name: str, client=None) -> set[str]:
        names, token = set(), None
        while True:
            params = {"pageSize": 100, **({"pageToken": token} if token else {})}
            body = self.call("GET", collection, None, client=client, params=params).json()
            names |= {item["name"] for item in body.get(field_name, [])}
            token = body.get("nextPageToken")
            if not token:
                return names

    # -- caches ---------------------------------------------------------------------------------------
    @rule(ttl=st.sampled_from(["3600s", "7200.5s", "86400s"]), name=st.sampled_from([None, "x", "ü" * 3]))
    def create_cache(self, ttl, name):
        body = {**CACHE_BODY, "ttl": ttl, **({"displayName": name} if name else {})}
        self.caches.add(self.call("POST", "cachedContents", "CachedContent", json=body).json()["name"])

    @precondition(lambda self: self.caches)
    @rule(data=st.data(), ttl=st.sampled_from(["600s", "3600s", "99999s"]))
    def patch_cache(self, data, ttl):
        name = data.draw(st.sampled_from(sorted(self.caches)))
        self.call("PATCH", name, "CachedContent", json={"ttl": ttl})

    @precondition(lambda self: self.caches)
    @rule(data=st.data())
    def delete_cache(self, data):
        name = data.draw(st.sampled_from(sorted(self.caches)))
        self.call("DELETE", name, "Empty")
        self.caches.discard(name)
        self.gone.append(name)

    # -- files ----------------------------------------------------------------------------------------
    @rule(data=st.binary(max_size=2000), mime=st.sampled_from(["text/plain", "application/octet-stream"]))
    def upload_file(self, data, mime):
        answer = self.http.post("/upload/v1beta/files", params={"uploadType": "media"}, content=data,
                                headers={"Content-Type": mime})
        problems = answer_problems(Expect("v1beta", "CreateFileResponse", upload=True), answer.status_code,
                                   answer.headers, answer.content)
        self.tally.record(answer.status_code, problems, "upload")
        assert answer.status_code == 200 and not problems, (answer.text, problems)
        self.files[answer.json()["file"]["name"]] = data

    @precondition(lambda self: self.files)
    @rule(data=st.data())
    def download_file(self, data):
        name = data.draw(st.sampled_from(sorted(self.files)))
        answer = self.http.get(f"/download/v1beta/{name}:download", params={"alt": "media"})
        self.tally.record(answer.status_code, [] if answer.status_code == 200 else [answer.text[:200]], "download")
        assert answer.status_code == 200 and answer.content == self.files[name]

    @precondition(lambda self: self.files)
    @rule(data=st.data())
    def delete_file(self, data):
        name = data.draw(st.sampled_from(sorted(self.files)))
        self.call("DELETE", name, "Empty")
        del self.files[name]
        self.gone.append(name)

    # -- batches --------------------------------------------------------------------------------------
    @rule(count=st.integers(1, 3))
    def create_batch(self, count):
        body = {"batch": {"displayName": "lifecycle", "inputConfig": {"requests": {"requests": [
            {"request": PROMPT, "metadata": {"key": f"k{i}"}} for i in range(count)]}}}}
        answer = self.call("POST", "models/gemini-2.5-flash:batchGenerateContent", "GenerateContentBatchOperation",
                           json=body)
        self.batches.add(answer.json()["name"])

    @precondition(lambda self: self.batches)
    @rule(data=st.data())
    def cancel_batch(self, data):
        name = data.draw(st.sampled_from(sorted(self.batches)))
        self.call("POST", f"{name}:cancel", "Empty", expect=(200, 400))   # 400 once it has ended

    @precondition(lambda self: self.batches)
    @rule(data=st.data())
    def delete_batch(self, data):
        name = data.draw(st.sampled_from(sorted(self.batches)))
        self.call("DELETE", name, "Empty")
        self.batches.discard(name)
        self.gone.append(name)

    # -- tuned models and permissions -------------------------------------------------------------------
    @rule()
    def create_tuned_model(self):
        answer = self.call("POST", "tunedModels", "Operation", json=TUNING)
        self.tuned.add(answer.json()["metadata"]["tunedModel"])

    @precondition(lambda self: self.tuned)
    @rule(data=st.data(), role=st.sampled_from(["READER", "WRITER"]))
    def grant(self, data, role):
        name = data.draw(st.sampled_from(sorted(self.tuned)))
        if name in self.grants:
            return
        body = {"granteeType": "USER", "emailAddress": self.neighbour_email, "role": role}
        self.grants[name] = self.call("POST", f"{name}/permissions", "Permission", json=body).json()["name"]

    @precondition(lambda self: self.grants)
    @rule(data=st.data())
    def revoke(self, data):
        name = data.draw(st.sampled_from(sorted(self.grants)))
        self.call("DELETE", self.grants.pop(name), "Empty")

    @precondition(lambda self: self.tuned)
    @rule(data=st.data())
    def delete_tuned_model(self, data):
        name = data.draw(st.sampled_from(sorted(self.tuned)))
        self.call("DELETE", name, "Empty")
        self.tuned.discard(name)
        self.grants.pop(name, None)
        self.gone.append(name)

    # -- what must hold after every step ------------------------------------------------------------------
    @invariant()
    def lists_match_the_model(self):
        assert self.listed("cachedContents", "cachedContents") == self.caches
        assert self.listed("files", "files") == set(self.files)
        assert self.listed("batches", "operations") == self.batches
        assert self.listed("tunedModels", "tunedModels") >= self.tuned

    @invariant()
    def the_neighbour_sees_only_what_was_granted(self):
        for collection, field_name in (("cachedContents", "cachedContents"), ("files", "files"),
                                       ("batches", "operations")):
            assert not self.listed(collection, field_name, client=self.neighbour) & (
                self.caches | set(self.files) | self.batches)
        for name in self.tuned:
            expect = (200,) if name in self.grants else (403,)
            self.call("GET", name, "TunedModel", client=self.neighbour, expect=expect)

    @invariant()
    def deleted_things_are_gone(self):
        for name in self.gone[-3:]:
            self.call("GET", name, None, expect=(403,))


def test_resource_lifecycles_keep_the_model(gemini_mock):
    gemini_mock.configure({"files": {"downloadUploaded": True}})
    ResourceLifecycles.server = (gemini_mock.base_url, gemini_mock.api_key)
    ResourceLifecycles.tally = tally = Tally()
    from hypothesis import HealthCheck, settings
    from hypothesis.stateful import run_state_machine_as_test
    run_state_machine_as_test(ResourceLifecycles, settings=settings(
        max_examples=12, stateful_step_count=12, deadline=None, database=None, derandomize=True,
        suppress_health_check=list(HealthCheck)))
    assert tally.requests > 300 and not tally.failures, tally.failures[:5]
    assert not gemini_mock.store.internal_errors
