"""State export and import (`GET /_mock/state:export`, `POST /_mock/state:import`) and `--state-dir`.

One of every resource is made through the real SDKs (google-genai, openai) and plain HTTP, by two keys (two
projects, one sharing with the other); then export -> reset -> import must give back the very same answer
to every GET and list, the same bytes for every download, and the same answers to the calls that use the
state (a cache, the implicit cache, a tuned model, a scripted rule, a batch that goes on running, the next
id). Time is frozen, so "the same" means byte for byte, clock included. The same holds across a restart
on a state dir, and for a copy of the state dir taken while the server runs (what a crash leaves).
"""
from __future__ import annotations

import hashlib
import io
import json
import shutil

import freezegun
import httpx
import openai
import pytest
from google import genai
from google.genai import types

from gemini_mockserver.auth import Identity, KeyRing
from gemini_mockserver.pytest_plugin.server import LiveServer

from support import assert_envelope, wav_bytes
from support.documents import document
from support.servers import serve

MODEL = "gemini-2.5-flash"
T0 = "2026-03-02T10:00:00+00:00"
KEY_A, KEY_B = "state-key-a", "state-key-b"
PROJECT_A, PROJECT_B = "project-a", "project-b"

pytestmark = pytest.mark.filterwarnings("ignore:batches.create_embeddings:Warning")


def keyring() -> KeyRing:
    return KeyRing({
        KEY_A: Identity(KEY_A, PROJECT_A, "alice@example.com", tier="tier1"),
        KEY_B: Identity(KEY_B, PROJECT_B, "bob@example.com", ("team@example.com",), tier="free"),
    })


def batch_lines(count: int, topic: str) -> bytes:
    return "".join(json.dumps({"key": f"{topic}-{i}", "request": {
        "contents": [{"role": "user", "parts": [{"text": f"Question {i} about {topic}"}]}]}}) + "\n"
        for i in range(count)).encode()


def openai_lines() -> bytes:
    return "".join(json.dumps({"custom_id": f"r{i}", "method": "POST", "url": "/v1/chat/completions",
                               "body": {"model": MODEL, "messages": [{"role": "user", "content": f"Hi {i}"}]}}) + "\n"
                   for i in range(3)).encode()


class Session:
    """Clients of one live server: control plane, one httpx client and one google-genai client per key,
    an openai client for key A."""

    def __init__(self, server: LiveServer) -> None:
        self.server = server
        self.base = server.base_url
        self.control = httpx.Client(base_url=self.base, timeout=30)
        self.http = {key: httpx.Client(base_url=self.base, headers={"x-goog-api-key": key}, timeout=30)
                     for key in (KEY_A, KEY_B)}
        self.sdk = {key: genai.Client(api_key=key, http_options=types.HttpOptions(
            base_url=self.base, api_version="v1beta")) for key in (KEY_A, KEY_B)}
        self.oai = openai.OpenAI(api_key=KEY_A, base_url=self.base + "/v1beta/openai/", max_retries=0)

    def ok(self, response: httpx.Response) -> dict:
        assert response.status_code == 200, (response.request.url, response.text)
        return response.json()

    def close(self) -> None:
        for client in (self.control, *self.http.values()):
            client.close()
        self.oai.close()


# -- the state -----------------------------------------------------------------------------------------

def populate(s: Session) -> None:
    """One of everything, in both projects."""
    a, b, sdk_a, c = s.http[KEY_A], s.http[KEY_B], s.sdk[KEY_A], s.control
    s.ok(c.patch("/_mock/config", json={"files": {"downloadUploaded": True},
                                         "rateLimits": {"overrides": {"free": {"*": {"rpm": 500}}}}}))
    s.ok(c.post("/_mock/clock", json={"advanceSeconds": 86400}))

    # files: SDK uploads (text, audio, a batch input), a raw upload by B, one deleted
    sdk_a.files.upload(file=io.BytesIO(b"Meeting notes.\n" * 50),
                       config={"mime_type": "text/plain", "display_name": "notes"})
    audio = sdk_a.files.upload(file=io.BytesIO(wav_bytes(2.0)), config={"mime_type": "audio/wav"})
    sea = sdk_a.files.upload(file=io.BytesIO(batch_lines(4, "sea")),
                             config={"mime_type": "application/jsonl", "display_name": "batch input"})
    running_input = sdk_a.files.upload(file=io.BytesIO(batch_lines(6, "hill")),
                                       config={"mime_type": "application/jsonl", "name": "files/running-input"})
    s.ok(b.post("/upload/v1beta/files?uploadType=media", content=bytes(range(256)) * 40,
                headers={"content-type": "application/octet-stream"}))
    doomed = sdk_a.files.upload(file=io.BytesIO(b"bye"), config={"mime_type": "text/plain"})
    sdk_a.files.delete(name=doomed.name)

    # logging for A (a paid tier), then calls that leave a log, usage and implicit-cache memory
    s.ok(c.patch(f"/_mock/projects/{PROJECT_A}/logging", json={"enabled": True}))
    sdk_a.models.generate_content(model=MODEL, contents=[document(1300, "river"), "Summarise it."])
    sdk_a.models.generate_content(model=MODEL, contents=[types.Part.from_uri(file_uri=audio.uri,
                                                                               mime_type="audio/wav"), "What is it?"])
    s.ok(b.post(f"/v1beta/models/{MODEL}:generateContent", json={"contents": [{"parts": [{"text": "Hello"}]}]}))

    # caches: one with a file in it, one updated, one of B's, one deleted
    s.ok(a.post("/v1beta/cachedContents", json={"model": f"models/{MODEL}", "displayName": "with audio",
                                                  "contents": [{"role": "user", "parts": [
                                                      {"fileData": {"fileUri": audio.uri, "mimeType": "audio/wav"}},
                                                      {"text": document(1100, "song")}]}]}))
    doc_cache = sdk_a.caches.create(model=MODEL, config={"contents": [document(1100)], "display_name": "doc",
                                                         "ttl": "7200s"})
    sdk_a.caches.update(name=doc_cache.name, config={"ttl": "9000s"})
    s.ok(b.post("/v1beta/cachedContents", json={
        "model": f"models/{MODEL}", "systemInstruction": {"parts": [{"text": "Be brief."}]},
        "contents": [{"role": "user", "parts": [{"text": document(1050, "moss")}]}]}))
    gone = sdk_a.caches.create(model=MODEL, config={"contents": [document(1100, "gone")]})
    sdk_a.caches.delete(name=gone.name)

    # a tuned model shared with B (and a group), a corpus shared with everyone, one of B's
    s.ok(a.post("/v1beta/tunedModels", params={"tunedModelId": "translator"}, json={
        "displayName": "Translator", "baseModel": "models/gemini-1.5-flash-001-tuning",
        "tuningTask": {"trainingData": {"examples": {"examples": [
            {"textInput": "Hello", "output": "Bonjour"}, {"textInput": "Thank you", "output": "Merci"}]}},
            "hyperparameters": {"epochCount": 3, "batchSize": 1, "learningRate": 0.001}}}))
    s.ok(a.post("/v1beta/tunedModels/translator/permissions",
                json={"granteeType": "USER", "emailAddress": "bob@example.com", "role": "READER"}))
    s.ok(a.post("/v1beta/tunedModels/translator/permissions",
                json={"granteeType": "GROUP", "emailAddress": "team@example.com", "role": "WRITER"}))
    s.ok(a.patch("/v1beta/tunedModels/translator", params={"updateMask": "description"},
                 json={"description": "English to French."}))
    corpus = s.ok(a.post("/v1beta/corpora", json={"displayName": "Library"}))
    s.ok(a.post(f"/v1beta/{corpus['name']}/permissions", json={"granteeType": "EVERYONE", "role": "READER"}))
    s.ok(b.post("/v1beta/corpora", json={"name": "corpora/bobs-notes", "displayName": "Bob"}))

    # batches: inline, from a file, embeddings, one cancelled (B), through the OpenAI layer
    sdk_a.batches.create(model=MODEL, src=[{"contents": [{"role": "user", "parts": [{"text": "Hello"}]}]},
                                           {"contents": [{"role": "user", "parts": [{"text": "weather?"}]}]}],
                         config={"display_name": "inline"})
    sdk_a.batches.create(model=MODEL, src=sea.name, config={"display_name": "from a file"})
    sdk_a.batches.create_embeddings(model="gemini-embedding-001", src={"inlined_requests": {
        "contents": ["first", "second"], "config": {"output_dimensionality": 4}}}, config={"display_name": "emb"})
    doomed_batch = s.ok(b.post(f"/v1beta/models/{MODEL}:batchGenerateContent", json={"batch": {
        "displayName": "to cancel", "inputConfig": {"requests": {"requests": [
            {"request": {"contents": [{"parts": [{"text": "x"}]}]}, "metadata": {"key": "one"}}]}}}}))
    s.ok(b.post(f"/v1beta/{doomed_batch['name']}:cancel"))
    source = s.oai.files.create(file=("batch.jsonl", io.BytesIO(openai_lines())), purpose="batch")
    openai_batch = s.oai.batches.create(input_file_id=source.id, endpoint="/v1/chat/completions",
                                        completion_window="24h", metadata={"description": "nightly"})

    # scripted rule and fault
    s.ok(c.post("/_mock/rules", json={"match": {"prompt": "weather"}, "respond": {"text": "Sunny."}, "times": 9}))
    s.ok(c.post("/_mock/faults", json={"kind": "status", "code": 503, "match": {"path": "never-called"},
                                        "times": 2}))

    # an hour on: training done, batches done (results computed when read)
    s.ok(c.post("/_mock/clock", json={"advanceSeconds": 3600}))
    s.oai.batches.retrieve(openai_batch.id)
    for key in (KEY_A, KEY_B):
        s.ok(s.http[key].get("/v1beta/batches"))

    # created now: one batch half way through its file (results so far on disk), one pending
    s.ok(c.patch("/_mock/config", json={"batch": {"pendingSeconds": 0.0, "runningSeconds": 100.0}}))
    sdk_a.batches.create(model=MODEL, src=running_input.name, config={"display_name": "running"})
    s.ok(c.patch("/_mock/config", json={"batch": {"pendingSeconds": 1e6}}))
    s.ok(b.post(f"/v1beta/models/{MODEL}:batchGenerateContent", json={"batch": {
        "displayName": "pending", "inputConfig": {"requests": {"requests": [
            {"request": {"contents": [{"parts": [{"text": "later"}]}]}}]}}}}))
    s.ok(c.post("/_mock/clock", json={"advanceSeconds": 50}))

    # a dataset of A's first log, with feedback
    logs = s.ok(c.get(f"/_mock/projects/{PROJECT_A}/logs"))["logs"]
    assert len(logs) == 2
    s.ok(c.post(f"/_mock/{logs[-1]['name']}:feedback", json={"rating": "THUMBS_UP", "comment": "good"}))
    s.ok(c.post(f"/_mock/projects/{PROJECT_A}/datasets", json={"displayName": "kept", "logs": [logs[-1]["name"]],
                                                               "shared": False}))
    s.ok(c.patch("/_mock/config", json={"cache": {"implicitWindowSeconds": 86400.0}}))


def answer(response: httpx.Response):
    try:
        body = response.json()
    except ValueError:
        body = response.text
    return [response.status_code, body]


def views(s: Session) -> dict:
    """Every GET and list of both projects and of the control plane, and every stored file's bytes."""
    view: dict = {}
    for key in (KEY_A, KEY_B):
        h = s.http[key]
        files = h.get("/v1beta/files", params={"pageSize": 100})
        view[f"{key} files"] = answer(files)
        for file in files.json().get("files", []):
            view[f"{key} {file['name']}"] = answer(h.get(f"/v1beta/{file['name']}"))
            content = h.get(f"/download/v1beta/{file['name']}:download", params={"alt": "media"})
            view[f"{key} {file['name']} bytes"] = [content.status_code, len(content.content),
                                                   hashlib.sha256(content.content).hexdigest()]
        caches = h.get("/v1beta/cachedContents")
        view[f"{key} caches"] = answer(caches)
        for cache in caches.json().get("cachedContents", []):
            view[f"{key} {cache['name']}"] = answer(h.get(f"/v1beta/{cache['name']}"))
        batches = h.get("/v1beta/batches")
        view[f"{key} batches"] = answer(batches)
        for operation in batches.json().get("operations", []):
            view[f"{key} {operation['name']}"] = answer(h.get(f"/v1beta/{operation['name']}"))
        view[f"{key} tuned"] = answer(h.get("/v1beta/tunedModels"))
        for path in ("tunedModels/translator", "tunedModels/translator/operations",
                     "tunedModels/translator/permissions", "corpora"):
            view[f"{key} {path}"] = answer(h.get(f"/v1beta/{path}"))
        for corpus in h.get("/v1beta/corpora").json().get("corpora", []):
            view[f"{key} {corpus['name']} permissions"] = answer(h.get(f"/v1beta/{corpus['name']}/permissions"))
        bearer = {"authorization": f"Bearer {key}"}
        view[f"{key} openai files"] = answer(s.control.get("/v1beta/openai/files", headers=bearer))
        view[f"{key} openai batches"] = answer(s.control.get("/v1beta/openai/batches", headers=bearer))
    c = s.control
    for path in ("/_mock/config", "/_mock/clock", "/_mock/rules", "/_mock/faults", "/_mock/usage",
                 f"/_mock/projects/{PROJECT_A}/logging", f"/_mock/projects/{PROJECT_A}/logs",
                 f"/_mock/projects/{PROJECT_A}/datasets", f"/_mock/projects/{PROJECT_B}/logging"):
        view[path] = answer(c.get(path))
    return view


def probes(s: Session) -> dict:
    """Calls that use the state (and change it): they must answer the same on the restored state."""
    a, b, c = s.http[KEY_A], s.http[KEY_B], s.control
    caches = a.get("/v1beta/cachedContents").json()["cachedContents"]
    doc = next(cache["name"] for cache in caches if cache.get("displayName") == "doc")
    out = {
        "on a cache": answer(a.post(f"/v1beta/models/{MODEL}:generateContent", json={
            "cachedContent": doc, "contents": [{"role": "user", "parts": [{"text": "And then?"}]}]})),
        "implicit": answer(a.post(f"/v1beta/models/{MODEL}:generateContent", json={"contents": [
            {"role": "user", "parts": [{"text": document(1300, "river")}, {"text": "Summarise it."}]},
            {"role": "user", "parts": [{"text": "More."}]}]})),
        "rule": answer(a.post(f"/v1beta/models/{MODEL}:generateContent",
                              json={"contents": [{"parts": [{"text": "weather today?"}]}]})),
        "tuned, shared": answer(b.post("/v1beta/tunedModels/translator:generateContent",
                                       json={"contents": [{"parts": [{"text": "Hello"}]}]})),
        "new file": answer(a.post("/upload/v1beta/files?uploadType=media", content=b"next",
                                  headers={"content-type": "text/plain"})),
        "new cache": answer(b.post("/v1beta/cachedContents", json={"model": f"models/{MODEL}", "contents": [
            {"role": "user", "parts": [{"text": document(1050, "fern")}]}]})),
    }
    c.post("/_mock/clock", json={"advanceSeconds": 100})
    running = [op for op in a.get("/v1beta/batches").json()["operations"]
               if op["metadata"].get("displayName") == "running"][0]
    done = a.get(f"/v1beta/{running['name']}")
    out["running batch, done"] = answer(done)
    results = done.json()["response"]["responsesFile"]
    out["running batch, results"] = a.get(f"/download/v1beta/{results}:download", params={"alt": "media"}).text
    out["usage"] = answer(c.get("/_mock/usage"))
    out["rules"] = answer(c.get("/_mock/rules"))
    return out


def export(s: Session) -> dict:
    return s.ok(s.control.get("/_mock/state:export"))


def assert_same(before: dict, after: dict) -> None:
    assert after.keys() == before.keys()
    different = [key for key in before if before[key] != after[key]]
    assert not different, {key: (before[key], after[key]) for key in different[:3]}


def rebased(view, old: str, new: str):
    """`view` with one server's address replaced by another's where the server writes its own address (a
    File's uri and downloadUri); what clients sent (a logged request) stays as it was."""
    if isinstance(view, dict):
        return {key: value.replace(old, new) if key in ("uri", "downloadUri") and isinstance(value, str)
                else rebased(value, old, new) for key, value in view.items()}
    if isinstance(view, list):
        return [rebased(item, old, new) for item in view]
    return view


# -- tests ---------------------------------------------------------------------------------------------

@pytest.fixture
def frozen():
    with freezegun.freeze_time(T0):
        yield


def test_export_reset_import_restores_everything(frozen):
    with serve(keys=keyring()) as server:
        s = Session(server)
        try:
            populate(s)
            first = views(s)
            saved = export(s)
            before = views(s)
            assert_same(first, before)   # reading changes nothing
            assert export(s) == saved     # ... not even what is kept lazily
            blobs = saved["blobs"]
            assert len(blobs) >= 8 and all(isinstance(data, str) for data in blobs.values())
            used = probes(s)

            s.ok(s.control.post("/_mock/reset", json={"config": True, "clock": True}))
            empty = views(s)
            for key in (KEY_A, KEY_B):
                assert empty[f"{key} files"] == [200, {}]
                assert empty[f"{key} caches"] == [200, {"cachedContents": []}]
                assert empty[f"{key} batches"] == [200, {}]
                assert empty[f"{key} tuned"] == [200, {"tunedModels": []}]
                assert empty[f"{key} corpora"] == [200, {"corpora": []}]
                assert empty[f"{key} openai batches"][1]["data"] == []
            assert empty["/_mock/rules"] == [200, {"rules": []}]
            assert empty[f"/_mock/projects/{PROJECT_A}/logs"][1].get("logs", []) == []
            assert empty["/_mock/config"] != before["/_mock/config"]
            assert empty["/_mock/clock"] != before["/_mock/clock"]
            assert not any(server.store.data_dir.glob("projects/*/files/*"))

            s.ok(s.control.post("/_mock/state:import", json=saved))
            assert_same(before, views(s))
            assert export(s) == saved
            assert_same(used, probes(s))
            assert server.store.internal_errors == []
        finally:
            s.close()


def test_an_export_imports_into_another_server(frozen):
    with serve(keys=keyring()) as first:
        s = Session(first)
        try:
            populate(s)
            before, saved = views(s), export(s)
        finally:
            s.close()
    with serve(keys=keyring(), config={"seed": 7}) as second:
        s = Session(second)
        try:
            s.ok(s.control.post("/_mock/state:import", json=saved))
            assert_same(rebased(before, first.base_url, second.base_url), views(s))
            assert s.ok(s.control.get("/_mock/config"))["seed"] == 0   # the state's seed came with it
        finally:
            s.close()


def test_state_dir_survives_a_restart_and_a_crash_image(frozen, tmp_path):
    state, crash_image = tmp_path / "state", tmp_path / "image"
    with serve(keys=keyring(), state_dir=state) as server:
        s = Session(server)
        try:
            populate(s)
            before = views(s)
            saved = export(s)
            used = probes(s)
            s.ok(s.control.post("/_mock/state:import", json=saved))   # back to `before`, and durable
            assert_same(before, views(s))
            shutil.copytree(state, crash_image)   # the dir as a kill -9 now would leave it
        finally:
            s.close()
    for directory in (state, crash_image):
        with serve(keys=keyring(), state_dir=directory) as again:
            s = Session(again)
            try:
                assert_same(rebased(before, server.base_url, again.base_url), views(s))
                assert_same(rebased(used, server.base_url, again.base_url), probes(s))
            finally:
                s.close()


def test_reads_and_model_calls_write_nothing(tmp_path):
    with serve(keys=keyring(), state_dir=tmp_path) as server:
        s = Session(server)
        try:
            persister = server.store.persister
            a = s.http[KEY_A]
            file = s.ok(a.post("/upload/v1beta/files?uploadType=media", content=b"x" * 100,
                               headers={"content-type": "text/plain"}))["file"]
            writes = persister.writes
            for _ in range(3):
                s.ok(a.get("/v1beta/files"))
                s.ok(a.get(f"/v1beta/{file['name']}"))
                s.ok(a.post(f"/v1beta/models/{MODEL}:generateContent",
                            json={"contents": [{"parts": [{"text": "hi"}]}]}))
                s.ok(a.post(f"/v1beta/models/{MODEL}:countTokens", json={"contents": [{"parts": [{"text": "hi"}]}]}))
                s.ok(s.control.get("/_mock/config"))
                s.ok(s.control.get("/_mock/state:export"))
            assert persister.writes == writes
            s.ok(s.control.post("/_mock/clock", json={"advanceSeconds": 1}))   # a control-plane change
            assert persister.writes == writes + 1
            s.ok(s.control.patch(f"/_mock/projects/{PROJECT_A}/logging", json={"enabled": True}))
            s.ok(a.post(f"/v1beta/models/{MODEL}:generateContent", json={"contents": [{"parts": [{"text": "hi"}]}]}))
            assert persister.writes == writes + 3   # the log it left is state
            assert_envelope(a.get("/v1beta/files/nope"), 403, "PERMISSION_DENIED")
            assert persister.writes == writes + 3
        finally:
            s.close()


@pytest.mark.parametrize("doc, words", [
    ({"format": "something else"}, "Not a state document"),
    ({"format": "gemini-mockserver-state", "version": 99}, "version 99"),
    ({"format": "gemini-mockserver-state", "version": 1, "blobs": {"../../etc/passwd": "eA=="}}, "invalid"),
    ({"format": "gemini-mockserver-state", "version": 1, "blobs": {"projects/p/files/x": "%%%"}}, "base64"),
])
def test_a_bad_state_document_is_a_400(doc, words):
    with serve() as server:
        httpx.post(server.base_url + "/upload/v1beta/files?uploadType=media", content=b"kept",
                   headers={"x-goog-api-key": "k", "content-type": "text/plain"}).raise_for_status()
        response = httpx.post(server.base_url + "/_mock/state:import", json=doc)
        error = assert_envelope(response, 400, "INVALID_ARGUMENT")
        assert words in error["message"]
        # refused before anything was touched
        assert len(httpx.get(server.base_url + "/v1beta/files", headers={"x-goog-api-key": "k"}).json()["files"]) == 1
