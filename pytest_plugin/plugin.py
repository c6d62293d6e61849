"""Fixtures and the `gemini` marker: an emulated Gemini API in every test that asks for it.

* `gemini_server` (session; one per xdist worker, since each worker is its own session): a live
  emulator on a free loopback port, the one the session's environment points at.
* `gemini_mock` (test): the test's own API key (hence its own project), clients pointed at the
  emulator, the environment patched so code that builds `genai.Client()` itself reaches it, time
  travel, scripted answers and faults, and the backends for seeding and inspecting state without HTTP.
* `@pytest.mark.gemini(seed=..., config=..., rules=[...])`: per-test settings.

From the start of the session (before collection) the SDK environment points at the session's emulator,
started on first use, and requests to the real Gemini hosts fail (session.py, guard.py).

Isolation: every test has its own key, derived from its node id, so every resource it makes lives in
its own project, and its rules and faults match only that project. The emulator is also reset (every
resource, the journal, the config and the clock) when a test starts, but only if no other test is using
the same server at that moment: under xdist each worker runs one test at a time and always gets a
clean server; tests that share a server concurrently (threads, async runners) keep each other's state
and rely on the per-key isolation, and then the server-wide settings (config, seed, clock) are shared.
"""
from __future__ import annotations

import asyncio
import hashlib
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generator, Iterator

import pytest

from . import guard, sdk, session, verify
from .retired import RETIRED_MODES, RetiredCalls
from .session import ENV_BASE_URL, ENV_CLEARED, ENV_KEYS

if TYPE_CHECKING:   # the server (and the whole emulator) is imported only when a test asks for it
    from google import genai

    from gemini_mockserver.auth import Identity
    from gemini_mockserver.resources.batches import Batches
    from gemini_mockserver.resources.caches import ContextCaches
    from gemini_mockserver.resources.corpora import Corpora
    from gemini_mockserver.resources.files import FileStore
    from gemini_mockserver.resources.permissions import Permissions
    from gemini_mockserver.resources.tuned_models import TunedModels
    from gemini_mockserver.rules import Rules as RuleBackend
    from gemini_mockserver.store import Store

    from .server import LiveServer

MARKER = "gemini"
MARKER_HELP = (f"{MARKER}(seed=None, config=None, rules=None, strict=False): settings of the emulated Gemini API "
               "for this test (gemini_mock fixture): the seed of generated answers, a config patch "
               "(as PATCH /_mock/config takes it), scripted rules (as gemini_mock.rules.add takes them), and "
               "strict mode (a request no rule matched fails the test).")

SESSION: pytest.StashKey[session.LazyServer] = pytest.StashKey()
ENVIRONMENT: pytest.StashKey[session.Environment] = pytest.StashKey()
RETIRED: pytest.StashKey[RetiredCalls] = pytest.StashKey()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini("gemini_mock_fast_clients", type="bool", default=True,
                  help="share one TLS context among google-genai clients whose base URL is http:// "
                       "(saves ~40 ms per genai.Client(); default true)")
    parser.addini(guard.INI_OPTION, type="bool", default=False,
                  help="let tests reach the real Gemini API and Vertex AI hosts (default false: any such "
                       "request fails with RealGeminiApiBlocked)")
    parser.addini("gemini_mock_retired_models", default="serve",
                  help="what a model the real Gemini API has shut down does in the session's emulator: serve "
                       "(answers, and the test gets a RetiredModelWarning naming the replacement) or refuse "
                       "(404, as the real service answers); default serve")
    parser.addoption("--gemini-mock-retired-models", choices=RETIRED_MODES, default=None,
                     help="overrides the ini option gemini_mock_retired_models")


def pytest_configure(config: pytest.Config) -> None:
    """Before collection: the emulator's address reserved, the SDK environment pointed at it, the guard on."""
    config.addinivalue_line("markers", MARKER_HELP)
    retired = RetiredCalls()
    server = session.LazyServer(on_start=retired.attach,
                                config={"models": {"retired": _retired_mode(config)}})
    config.stash[RETIRED] = retired
    environment = session.Environment()
    environment.point_at(server.base_url)
    config.stash[SESSION] = server
    config.stash[ENVIRONMENT] = environment
    guard.push(block=not config.getini(guard.INI_OPTION))


def pytest_unconfigure(config: pytest.Config) -> None:
    server = config.stash.get(SESSION, None)
    if server is None:
        return
    del config.stash[SESSION]
    guard.pop()
    config.stash[ENVIRONMENT].restore()
    server.stop()


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    guard.refresh()   # patch the HTTP libraries imported since the session started


def _retired_mode(config: pytest.Config) -> str:
    mode: str = config.getoption("--gemini-mock-retired-models", None) or config.getini("gemini_mock_retired_models")
    if mode not in RETIRED_MODES:
        raise pytest.UsageError(f"gemini_mock_retired_models takes {' or '.join(RETIRED_MODES)}, not {mode!r}")
    return mode


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, object, object]:
    """After the test body: a RetiredModelWarning per retired model it called (see retired.py)."""
    try:
        return (yield)
    finally:
        retired = item.config.stash.get(RETIRED, None)
        if retired is not None:
            retired.warn(item)


# ---------------------------------------------------------------------------------------------------
# Scripted answers and faults, scoped to one project

class Rules:
    """The test's scripted answers (`gemini_mock.rules`): every rule it adds matches only its project.

        gemini_mock.rules.add({"match": {"prompt": "weather"}, "respond": {"text": "Sunny."}})
        gemini_mock.rules.reply("Sunny.", prompt="weather")
        gemini_mock.rules.function_call("get_weather", {"city": "Paris"})
        gemini_mock.rules.json({"ok": True})
        gemini_mock.rules.error(429, times=2)

    A rule is `{"match": {"model", "method", "prompt" (a regex)}, "respond": {"text"} | {"functionCall":
    {"name", "args"}} | {"json": value} | {"error": {"code", "status"?, "message"?}}, "latencyMs": 0,
    "times": null | N, "tools"?: {...}}`; the first matching rule answers, `times` limits how often.
    `tools` (or `tool_results`) scripts what built-in tools find (gemini_mockserver.generation.builtin_tools).
    """

    def __init__(self, mock: "GeminiMock") -> None:
        self._mock = mock

    @property
    def _backend(self) -> RuleBackend:
        return self._mock.store.rules

    def add(self, rule: dict[str, Any] | None = None, **fields: Any) -> dict[str, Any]:
        """Add a rule (a dict[str, Any], or its fields as keywords: match=, respond=, latencyMs=, times=)."""
        rule = dict(rule or {}, **fields)
        rule["match"] = dict(rule.get("match") or {}, project=self._mock.project)
        added: dict[str, Any] = self._backend.add(rule)
        return added

    def _respond(self, respond: dict[str, Any], model: str | None, prompt: str | None, method: str | None,
                 times: int | None, latency_ms: int) -> dict[str, Any]:
        match = {k: v for k, v in (("model", model), ("prompt", prompt), ("method", method)) if v is not None}
        rule: dict[str, Any] = {"match": match, "respond": respond, "times": times}
        if latency_ms:
            rule["latencyMs"] = latency_ms
        return self.add(rule)

    def reply(self, text: str, *, model: str | None = None, prompt: str | None = None,
              method: str | None = None, times: int | None = None, latency_ms: int = 0) -> dict[str, Any]:
        """Answer matching requests with `text`."""
        return self._respond({"text": text}, model, prompt, method, times, latency_ms)

    def function_call(self, name: str, args: dict[str, Any] | None = None, *, model: str | None = None,
                      prompt: str | None = None, method: str | None = None, times: int | None = None,
                      latency_ms: int = 0) -> dict[str, Any]:
        """Answer matching requests with a call of function `name`."""
        return self._respond({"functionCall": {"name": name, "args": args or {}}}, model, prompt, method,
                             times, latency_ms)

    def json(self, value: Any, *, model: str | None = None, prompt: str | None = None,
             method: str | None = None, times: int | None = None, latency_ms: int = 0) -> dict[str, Any]:
        """Answer matching requests with `value` as JSON text."""
        return self._respond({"json": value}, model, prompt, method, times, latency_ms)

    def error(self, code: int, message: str | None = None, *, status: str | None = None,
              model: str | None = None, prompt: str | None = None, method: str | None = None,
              times: int | None = None, latency_ms: int = 0) -> dict[str, Any]:
        """Answer matching requests with the error envelope of HTTP `code`."""
        error: dict[str, Any] = {"code": code}
        if status:
            error["status"] = status
        if message:
            error["message"] = message
        return self._respond({"error": error}, model, prompt, method, times, latency_ms)

    def tool_results(self, *, google_search: dict[str, Any] | None = None, url_context: dict[str, Any] | None = None,
                     code_execution: dict[str, Any] | None = None, google_maps: dict[str, Any] | None = None,
                     model: str | None = None, prompt: str | None = None, method: str | None = None,
                     times: int | None = None) -> dict[str, Any]:
        """Script what the request's built-in tools find; the answer is still generated, grounded on them:

            gemini_mock.rules.tool_results(google_search={"sources": [{"uri": "https://a.example/",
                                                                         "title": "A", "snippet": "..."}]})
            gemini_mock.rules.tool_results(url_context={"https://a.example/": "URL_RETRIEVAL_STATUS_ERROR"})
            gemini_mock.rules.tool_results(code_execution={"code": "print(2)", "output": "2\\n"})
            gemini_mock.rules.tool_results(google_maps={"places": [{"title": "Bestia"}]})
        """
        tools = {key: value for key, value in (("googleSearch", google_search), ("urlContext", url_context),
                                              ("codeExecution", code_execution), ("googleMaps", google_maps))
                 if value is not None}
        match = {k: v for k, v in (("model", model), ("prompt", prompt), ("method", method)) if v is not None}
        return self.add({"match": match, "tools": tools, "times": times})

    def list(self) -> list[dict[str, Any]]:
        """This test's rules."""
        return [r for r in self._backend.list() if _project_of(r) == self._mock.project]

    def delete(self, rule_id: str) -> None:
        self._backend.delete(rule_id)

    def clear(self) -> None:
        """Remove this test's rules (other tests' rules stay)."""
        for rule in self.list():
            self._backend.delete(rule["id"])

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self.list())

    def __len__(self) -> int:
        return len(self.list())


def _project_of(item: dict[str, Any]) -> str | None:
    return (item.get("match") or {}).get("project")


# ---------------------------------------------------------------------------------------------------
# What a test gets

class GeminiMock:
    """What a test gets from the `gemini_mock` fixture."""

    def __init__(self, server: "LiveServer", api_key: str) -> None:
        self.server = server
        store = server.store
        assert store is not None   # the emulator's app always has one; GeminiMock needs the emulator
        self.store: Store = store
        self.base_url = server.base_url
        self.api_key = api_key
        self.rules = Rules(self)
        self.strict = False   # True: a request no rule or cassette matched fails the test (verify.py)
        self._clients: list[genai.Client] = []
        self._async_clients: list[Any] = []   # google.genai.client.AsyncClient
        self._lock = threading.Lock()

    # -- who -----------------------------------------------------------------------------------------
    @property
    def identity(self) -> Identity:
        """The test key's identity: `.project`, `.email`, `.groups`, `.tier`."""
        return self.store.keys.identify(self.api_key)

    @property
    def project(self) -> str:
        project: str = self.identity.project
        return project

    def other_key(self, name: str) -> str:
        """Another API key, hence another project: for isolation and sharing tests."""
        return f"{self.api_key}-{name}"

    # -- clients -------------------------------------------------------------------------------------
    def client(self, api_key: str | None = None, **http_options: Any) -> genai.Client:
        """A google-genai Client pointed at the emulator, with the test's key unless given another.

        `http_options` are HttpOptions fields (`api_version="v1beta"`, `headers=...`, ...); without
        `api_version` the SDK's default (/v1) is used. The fixture keeps the client alive for the
        test (so `gemini_mock.client().models....` on a temporary works) and closes it afterwards.
        """
        from google import genai
        from google.genai import types

        client = genai.Client(api_key=api_key or self.api_key,
                              http_options=types.HttpOptions(base_url=self.base_url, **http_options))
        with self._lock:
            self._clients.append(client)
        return client

    def async_client(self, api_key: str | None = None, **http_options: Any) -> Any:
        """The asyncio side of `client()` (`client.aio`)."""
        aio = self.client(api_key, **http_options).aio
        with self._lock:
            self._async_clients.append(aio)
        return aio

    def close(self) -> None:
        """Close every client the fixture made (done at teardown)."""
        with self._lock:
            clients, self._clients = self._clients, []
            async_clients, self._async_clients = self._async_clients, []
        for client in clients:
            try:
                client.close()
            except Exception:
                pass
        for aio in async_clients:
            _aclose_quietly(aio)

    # -- state ---------------------------------------------------------------------------------------
    @property
    def requests(self) -> list[dict[str, Any]]:
        """The journal of this test's requests (those made with its key), oldest first: dicts as
        GET /_mock/requests/{id} answers them, with `.request_json`, `.response_json` and `.events`."""
        from gemini_mockserver.journal import render
        project = self.project
        return [render(entry, True) for entry in self.store.journal.raw() if entry.get("project") == project]

    def find_requests(self, *, model: str | None = None, method: str | None = None,
                      http_method: str | None = None, path: str | None = None, status: int | None = None,
                      body: Any = None) -> list[dict[str, Any]]:
        """This test's requests matching a predicate (verify.py says what each argument matches)."""
        predicate = dict(model=model, method=method, http_method=http_method, path=path, status=status, body=body)
        return [entry for entry in self.requests if verify.matches(entry, **predicate)]

    def verify(self, times: int | None = None, *, model: str | None = None, method: str | None = None,
               http_method: str | None = None, path: str | None = None, status: int | None = None,
               body: Any = None) -> list[dict[str, Any]]:
        """Assert that exactly `times` of this test's requests (at least one when None) match the
        predicate, as WireMock's verify does; returns them. Fails listing the requests that were made."""
        predicate = dict(model=model, method=method, http_method=http_method, path=path, status=status, body=body)
        return verify.verify(self.requests, times, predicate)

    def unmatched_requests(self) -> list[dict[str, Any]]:
        """This test's requests that ran a model with no rule answering (or that no cassette matched)."""
        return verify.unmatched(self.requests)

    def interactions(self) -> list[dict[str, Any]]:
        """This test's stored interactions as GET /interactions/{id} answers them (timeline included)."""
        from gemini_mockserver.resources.interactions.backend import view
        return [view(self.store, record, timeline=True) for record in self.store.interactions.all(self.project)]

    def webhook_deliveries(self) -> list[dict[str, Any]]:
        """This test's webhook deliveries: event, message id, attempts, each attempt's status, and body."""
        from gemini_mockserver.resources.interactions.webhooks import describe
        return [d for d in describe(self.store) if d["project"] == self.project]

    def set_tier(self, tier: str, *, api_key: str | None = None) -> str:
        """Move the project of `api_key` (the test's key by default) to `tier` ("free", "tier1", "tier2",
        "tier3") at once, as PATCH /_mock/tier does: enabling billing or a promotion; returns the project."""
        identity = self.store.keys.identify(api_key or self.api_key)
        project: str = self.store.tiers.set(identity.project, tier)["project"]
        return project

    def configure(self, changes: dict[str, Any]) -> dict[str, Any]:
        """Deep-merge `changes` into the server's config (as PATCH /_mock/config); returns the config."""
        config: dict[str, Any] = self.store.config.patch(changes)
        return config

    @property
    def files(self) -> FileStore:
        return self.store.files

    @property
    def batches(self) -> Batches:
        return self.store.batches

    @property
    def caches(self) -> ContextCaches:
        return self.store.caches

    @property
    def tuned_models(self) -> TunedModels:
        return self.store.tuned_models

    @property
    def permissions(self) -> Permissions:
        return self.store.permissions

    @property
    def corpora(self) -> Corpora:
        return self.store.corpora

    # -- seeding without HTTP ------------------------------------------------------------------------
    def upload_file(self, data: bytes | str | Path, mime_type: str | None = None, *,
                    display_name: str | None = None, name: str | None = None) -> dict[str, Any]:
        """Store a file in the test's project as an upload would; returns the File resource.

        `data` is the bytes, or a path to read them from (its name is the default display name)."""
        if isinstance(data, (str, Path)):
            path = Path(data)
            display_name = display_name or path.name
            data = path.read_bytes()
        files = self.store.files
        identity = self.identity
        part = files.new_part(identity)
        part.write_bytes(data)
        metadata: dict[str, Any] = {}
        if display_name:
            metadata["displayName"] = display_name
        if mime_type:
            metadata["mimeType"] = mime_type
        if name:
            metadata["name"] = name
        stored: dict[str, Any] = files.store_bytes(identity, metadata, part, size=len(data),
                                                   sha256_hex=hashlib.sha256(data).hexdigest(),
                                                   mime_type=mime_type, base_url=self.base_url)
        return stored

    def create_cache(self, body: dict[str, Any], version: str = "v1beta") -> dict[str, Any]:
        """A cachedContent of the test's project (body as `cachedContents.create` takes it)."""
        from gemini_mockserver.schema import normalize
        cache: dict[str, Any] = self.store.caches.create(
            self.identity, normalize(version, "CachedContent", body), version=version)
        return cache

    def create_batch(self, model: str, requests: list[dict[str, Any]] | None = None, *, file_name: str | None = None,
                     display_name: str | None = None, embed: bool = False, version: str = "v1beta") -> dict[str, Any]:
        """A batch job of the test's project, from inline requests or an uploaded JSONL file.

        Each inline request is a GenerateContentRequest (or `{"request": ..., "metadata": ...}`)."""
        if (requests is None) == (file_name is None):
            raise ValueError("give exactly one of requests and file_name")
        if requests is not None:
            items = [r if "request" in r else {"request": r} for r in requests]
            source: dict[str, Any] = {"requests": {"requests": items}}
        else:
            source = {"fileName": file_name}
        batch: dict[str, Any] = {"inputConfig": source}
        if display_name:
            batch["displayName"] = display_name
        model = model if model.startswith(("models/", "tunedModels/")) else f"models/{model}"
        created: dict[str, Any] = self.store.batches.create(self.identity, model, {"batch": batch},
                                                            kind="embed" if embed else "generate", version=version)
        return created

    def create_tuned_model(self, body: dict[str, Any], tuned_model_id: str | None = None,
                           version: str = "v1beta") -> dict[str, Any]:
        """A tuned model of the test's project; returns the create operation."""
        from gemini_mockserver.schema import normalize
        operation: dict[str, Any] = self.store.tuned_models.create(
            self.identity, normalize(version, "TunedModel", body), tuned_model_id, version)
        return operation

    def share(self, resource: str, email: str, role: str = "READER", grantee_type: str = "USER") -> dict[str, Any]:
        """Grant `email` a role on one of the test's tuned models or corpora; returns the Permission."""
        permission: dict[str, Any] = self.store.permissions.create(
            self.identity, resource, {"granteeType": grantee_type, "emailAddress": email, "role": role})
        return permission

    # -- scripted faults -----------------------------------------------------------------------------
    def fail_next(self, code: int | None = None, message: str | None = None, *, status: str | None = None,
                  times: int | None = 1, kind: str = "status", path: str | None = None,
                  method: str | None = None, model: str | None = None, latency_ms: int | None = None,
                  after_chunks: int | None = None, retry_delay: str | None = None) -> dict[str, Any]:
        """Make the next `times` matching requests of this test fail (`times=None`: all of them).

        kind "status" (the default): answer the error envelope of `code` (503 unless given), as the
        real API words it; "latency": wait `latency_ms` (real time) first; "streamCut": end an SSE
        stream with an error event after `after_chunks` events. `path` (a regex searched in the request
        path), `method` and `model` narrow which requests match. Returns the fault as stored."""
        fault: dict[str, Any] = {"kind": kind, "times": times}
        if kind == "status" and code is None:
            code = 503
        for key, value in (("code", code), ("status", status), ("message", message),
                           ("latencyMs", latency_ms), ("afterChunks", after_chunks), ("retryDelay", retry_delay)):
            if value is not None:
                fault[key] = value
        match = {k: v for k, v in (("path", path), ("method", method), ("model", model)) if v is not None}
        fault["match"] = dict(match, project=self.project)
        stored: dict[str, Any] = self.store.faults.add(fault)
        return stored

    @property
    def faults(self) -> list[dict[str, Any]]:
        """This test's faults that still have uses left."""
        return [f for f in self.store.faults.list() if _project_of(f) == self.project
                and (f.get("times") is None or f.get("hits", 0) < f["times"])]

    def register_url(self, url: str, mime_type: str | None = None, *, duration_seconds: float | None = None,
                     pages: int | None = None, text: str | None = None) -> dict[str, Any]:
        """What a `fileData.fileUri` URL holds for this test's project (the emulator fetches nothing): its
        type (a YouTube URL defaults to video), playing time, PDF pages or text. Returns the registration
        (as `POST /_mock/urls` answers it)."""
        item: dict[str, Any] = {"url": url, "project": self.project}
        for key, value in (("mimeType", mime_type), ("durationSeconds", duration_seconds), ("pages", pages),
                           ("text", text)):
            if value is not None:
                item[key] = value
        registration: dict[str, Any] = self.store.urls.add(item)
        return registration

    # -- time ----------------------------------------------------------------------------------------
    def advance(self, seconds: float | timedelta) -> datetime:
        """Move the emulator's clock forward (every time-driven state moves with it)."""
        if isinstance(seconds, timedelta):
            seconds = seconds.total_seconds()
        self.store.clock.advance(seconds)
        now: datetime = self.store.clock.now_dt()
        return now

    def set_time(self, when: datetime) -> datetime:
        """Jump the emulator's clock to `when` (a naive datetime is taken as UTC); time flows on."""
        if when.tzinfo is None:
            when = when.replace(tzinfo=timezone.utc)
        self.store.clock.set(when.timestamp())
        now: datetime = self.store.clock.now_dt()
        return now

    def now(self) -> datetime:
        now: datetime = self.store.clock.now_dt()
        return now


def _aclose_quietly(aio: Any) -> None:
    """Close an async client's pools from a synchronous teardown (best effort: pools of loops that
    are gone are left to the garbage collector, as the SDK itself does)."""
    try:
        asyncio.get_running_loop()
        return   # inside a running loop: cannot block on it here
    except RuntimeError:
        pass
    try:
        asyncio.run(aio.aclose())
    except Exception:
        pass


# ---------------------------------------------------------------------------------------------------
# Fixtures

class _Occupancy:
    """How many tests use a server right now: the reset at a test's start happens only when alone."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._count = 0

    def enter(self) -> bool:
        with self._lock:
            self._count += 1
            return self._count == 1

    def leave(self) -> None:
        with self._lock:
            self._count -= 1


@pytest.fixture(scope="session")
def gemini_server(pytestconfig: pytest.Config) -> Iterator["LiveServer"]:
    """One live emulator for the session (per xdist worker, since each worker is its own session)."""
    from .server import LiveServer

    fast = pytestconfig.getini("gemini_mock_fast_clients")
    installed_here = fast and not sdk.installed() and sdk.install()
    lazy = pytestconfig.stash.get(SESSION, None)
    server = lazy.started() if lazy is not None else LiveServer().start()
    retired = pytestconfig.stash.get(RETIRED, None)
    if retired is not None:
        retired.attach(server)
    if not hasattr(server, "occupancy"):
        server.occupancy = _Occupancy()
    try:
        yield server
    finally:
        if lazy is None:
            server.stop()
        if installed_here:
            sdk.uninstall()


def test_key(nodeid: str) -> str:
    """The API key of a test: stable across runs, distinct per test."""
    return "test-" + hashlib.blake2b(nodeid.encode(), digest_size=6).hexdigest()


test_key.__test__ = False  # type: ignore[attr-defined]  # pytest reads it: not a test, whatever its name says


def _apply_marker(mock: GeminiMock, marker: pytest.Mark) -> None:
    options = dict(marker.kwargs)
    unknown = set(options) - {"seed", "config", "rules", "strict"}
    if unknown or marker.args:
        raise pytest.UsageError(f"@pytest.mark.{MARKER} takes seed=, config=, rules=, strict=; got "
                                f"{sorted(unknown) or list(marker.args)}")
    if options.get("config"):
        mock.configure(options["config"])
    if options.get("seed") is not None:
        mock.configure({"seed": int(options["seed"])})
    for rule in options.get("rules") or ():
        mock.rules.add(rule)
    if "strict" in options:
        mock.strict = bool(options["strict"])


@pytest.fixture
def gemini_mock(gemini_server: "LiveServer", request: pytest.FixtureRequest,
                monkeypatch: pytest.MonkeyPatch) -> Iterator[GeminiMock]:
    """The emulator for one test: its own key and project, clients, time travel, rules, faults, and
    the environment pointed at the emulator so code that builds `genai.Client()` itself reaches it."""
    store = gemini_server.store
    assert store is not None   # gemini_server serves the emulator's own app
    occupancy: _Occupancy = getattr(gemini_server, "occupancy", None) or _Occupancy()
    alone = occupancy.enter()
    mock = None
    try:
        if alone:   # resources, journal, rules, faults, config and clock
            store.reset(config=True, clock=True)
            store.internal_errors.clear()
        mock = GeminiMock(gemini_server, test_key(request.node.nodeid))
        for name in ENV_CLEARED:
            monkeypatch.delenv(name, raising=False)
        for name in ENV_KEYS:   # GOOGLE_API_KEY wins in the SDKs when both are set; set both alike
            monkeypatch.setenv(name, mock.api_key)
        monkeypatch.setenv(ENV_BASE_URL, gemini_server.base_url)
        for marker in reversed(list(request.node.iter_markers(MARKER))):   # closest marker last, so it wins
            _apply_marker(mock, marker)
        yield mock
        if mock.strict:
            loose = mock.unmatched_requests()
            if loose:
                pytest.fail(f"strict mode: {len(loose)} request(s) no rule or cassette matched:\n"
                            + verify.listing(loose), pytrace=False)
    finally:
        if mock is not None:
            mock.close()
            if not alone:   # sharing the server: take back this test's rules and faults
                _forget_scripts(store, mock.project)
        occupancy.leave()
    errors = list(store.internal_errors)
    store.internal_errors.clear()
    if errors:
        pytest.fail("the emulator answered 500 INTERNAL:\n" + "\n".join(errors), pytrace=False)


def _forget_scripts(store: Store, project: str) -> None:
    for backend in (store.rules, store.faults):
        for item in list(backend.list()):
            if _project_of(item) == project and "id" in item:
                backend.delete(item["id"])



# The emulator over TLS (google-genai's Live API dials wss:// only): its fixtures live in tls_fixtures.py,
# which pytest loads with this plugin (it imports this module, so this module does not import it).
pytest_plugins = ["gemini_mockserver.pytest_plugin.tls_fixtures"]
