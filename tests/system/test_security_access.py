"""Issue 14, the access half: who can reach the control plane, what is kept at rest, upload URLs as
capabilities, project ids that do not collide, and a damaged state dir that is never dropped silently.

Each test reproduces one finding of the issue (it fails on the code before the fix): through raw HTTP
(httpx), the real google-genai SDK, the `gemini-mock` command, and a real browser where the threat is a
web page.
"""
from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from google import genai
from google.genai import types

from gemini_mockserver import persistence
from gemini_mockserver.access import ControlAccess
from gemini_mockserver.app import create_store
from gemini_mockserver.cli import build_parser, control_access
from gemini_mockserver.persistence import SLOTS, StateDirError

from support import assert_envelope
from support.paths import ROOT
from support.servers import serve

MODEL = "gemini-2.5-flash"
EVIL = "http://evil.example"


_CLIENTS: list[genai.Client] = []   # kept alive: a collected client closes its connection pool


def sdk(base_url: str, key: str) -> genai.Client:
    client = genai.Client(api_key=key, http_options=types.HttpOptions(base_url=base_url, api_version="v1beta"))
    _CLIENTS.append(client)
    return client


def upload(base_url: str, key: str, data: bytes, name: str = "note.txt") -> str:
    import io
    file = sdk(base_url, key).files.upload(file=io.BytesIO(data), config={"mime_type": "text/plain",
                                                                          "display_name": name})
    return file.name


@pytest.fixture(scope="module")
def server():
    with serve() as live:
        yield live


@pytest.fixture
def live(server):
    server.store.reset(config=True, clock=True)
    yield server
    errors = list(server.store.internal_errors)
    server.store.internal_errors.clear()
    assert not errors, errors


# -- finding 2: the control plane is not open to web pages -------------------------------------------------

def test_the_control_plane_answers_no_cors_while_the_api_keeps_it(live):
    url = live.base_url
    preflight = {"Origin": EVIL, "Access-Control-Request-Method": "POST",
                 "Access-Control-Request-Headers": "content-type"}
    control = httpx.options(url + "/_mock/state:import", headers=preflight)
    assert "access-control-allow-origin" not in control.headers, control.headers
    read = httpx.get(url + "/_mock/state:export", headers={"Origin": EVIL})
    assert "access-control-allow-origin" not in read.headers
    assert_envelope(read, 403, "PERMISSION_DENIED")
    # the API keeps what a browser front end needs: preflight, and readable answers for any origin
    api = httpx.options(url + "/v1beta/models/gemini-2.5-flash:generateContent", headers={
        "Origin": "http://localhost:5173", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type,x-goog-api-key"})
    assert api.status_code == 200 and api.headers["access-control-allow-origin"] in ("*", "http://localhost:5173")
    assert "x-goog-api-key" in api.headers["access-control-allow-headers"].lower()
    models = httpx.get(url + "/v1beta/models", headers={"Origin": "http://localhost:5173", "x-goog-api-key": "k"})
    assert models.status_code == 200 and models.headers["access-control-allow-origin"] == "*"
    assert "X-Goog-Upload-URL" in models.headers["access-control-expose-headers"]


def test_a_rebound_host_name_is_refused_on_the_control_plane(live):
    """DNS rebinding: the page's own name resolves to 127.0.0.1, so its requests carry that name."""
    port = live.port
    for path in ("/_mock/state:export", "/_mock/config", "/_mock/ui", "/_mock/ui/state"):
        refused = httpx.get(live.base_url + path, headers={"Host": f"rebind.evil.example:{port}"})
        error = assert_envelope(refused, 403, "PERMISSION_DENIED")
        assert "rebind.evil.example" in error["message"] and "--allow-host" in error["message"]
    for host in (f"localhost:{port}", f"127.0.0.1:{port}", "localhost"):
        assert httpx.get(live.base_url + "/_mock/config", headers={"Host": host}).status_code == 200, host
    # the API routes are not the control plane: a key is their protection
    models = httpx.get(live.base_url + "/v1beta/models", headers={"Host": "rebind.evil.example",
                                                                  "x-goog-api-key": "k"})
    assert models.status_code == 200


def test_a_simple_post_from_another_origin_changes_nothing(live):
    """A `text/plain` POST needs no preflight: any page can send it. The Origin it carries gives it away."""
    name = upload(live.base_url, "victim-key", b"precious")
    before = httpx.get(live.base_url + "/_mock/clock").json()["epochSeconds"]
    for path, body in (("/_mock/reset", "{}"), ("/_mock/state:import", json.dumps(
            {"format": persistence.FORMAT, "version": persistence.VERSION, "backends": {}})),
            ("/_mock/clock", '{"advanceSeconds": 999999}')):
        sent = httpx.post(live.base_url + path, content=body, headers={"Content-Type": "text/plain", "Origin": EVIL})
        error = assert_envelope(sent, 403, "PERMISSION_DENIED")
        assert EVIL in error["message"]
    for origin in ("null", f"http://127.0.0.1:{live.port + 1}", f"https://127.0.0.1:{live.port}"):
        sent = httpx.post(live.base_url + "/_mock/reset", json={}, headers={"Origin": origin})
        assert_envelope(sent, 403, "PERMISSION_DENIED")
    files = sdk(live.base_url, "victim-key").files
    assert files.get(name=name).size_bytes == 8
    assert httpx.get(live.base_url + "/_mock/clock").json()["epochSeconds"] - before < 600   # not moved
    # the server's own pages (the dashboard) send their own origin and are served
    own = httpx.post(live.base_url + "/_mock/clock", json={"advanceSeconds": 60},
                     headers={"Origin": live.base_url})
    assert own.status_code == 200


def test_a_non_loopback_bind_needs_the_control_token(tmp_path):
    """`serve --host 0.0.0.0` generates a token and prints it; control calls need it, API calls do not.
    (The socket is bound on loopback here, the test machine's only allowed address; the command's logic
    sees --host 0.0.0.0.)"""
    script = ("import gemini_mockserver.cli as c; real = c.bind; "
              "c.bind = lambda host, port: real('127.0.0.1', 0); "
              "raise SystemExit(c.main(['serve', '--host', '0.0.0.0', '--port', '0']))")
    env = {k: v for k, v in os.environ.items() if k != "GEMINI_MOCK_CONTROL_TOKEN"}
    process = subprocess.Popen([sys.executable, "-u", "-c", script], stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, env=env, cwd=ROOT)
    try:
        first = process.stdout.readline().decode()
        second = process.stdout.readline().decode()
        token = re.search(r"control token: (\S+)", first).group(1)
        url = re.search(r"listening on (\S+)", second).group(1)
        assert f"{url}/_mock/ui?token={token}" in first and len(token) >= 32
        assert_envelope(httpx.get(url + "/_mock/config"), 401, "UNAUTHENTICATED")
        assert_envelope(httpx.get(url + "/_mock/config", headers={"Authorization": "Bearer wrong"}),
                        403, "PERMISSION_DENIED")
        assert httpx.get(url + "/_mock/config", headers={"Authorization": f"Bearer {token}"}).status_code == 200
        assert httpx.post(url + "/_mock/reset", json={}, headers={"X-Mock-Control-Token": token}).status_code == 200
        # the dashboard page takes ?token= (and the page sends the header); its data does not take it
        page = httpx.get(url + "/_mock/ui", params={"token": token})
        assert page.status_code == 200 and "X-Mock-Control-Token" in httpx.get(url + "/_mock/ui/app.js").text
        assert_envelope(httpx.get(url + "/_mock/ui"), 401, "UNAUTHENTICATED")
        assert_envelope(httpx.get(url + "/_mock/ui/state", params={"token": token}), 401, "UNAUTHENTICATED")
        assert httpx.get(url + "/_mock/ui/state", headers={"X-Mock-Control-Token": token}).status_code == 200
        # whoami tells the key's identity, with the token in Authorization beside it
        who = httpx.get(url + "/_mock/whoami", headers={"Authorization": f"Bearer {token}", "x-goog-api-key": "k1"})
        assert who.status_code == 200 and who.json()["key"] == "k1"
        # the API needs only its key, as before
        assert httpx.get(url + "/v1beta/models", headers={"x-goog-api-key": "k"}).status_code == 200
    finally:
        process.kill()
        process.wait(10)
        process.stdout.close()


def test_the_token_comes_from_the_flag_or_the_environment(monkeypatch):
    def access(*argv: str) -> ControlAccess:
        return control_access(build_parser().parse_args(["serve", *argv]))

    assert access().token is None                                      # loopback: none needed
    assert access("--host", "::1").token is None
    generated = access("--host", "0.0.0.0")
    assert generated.token and generated.token != access("--host", "0.0.0.0").token
    assert access("--host", "192.0.2.7", "--control-token", "given").token == "given"
    assert access("--control-token", "on-loopback-too").token == "on-loopback-too"
    monkeypatch.setenv("GEMINI_MOCK_CONTROL_TOKEN", "from-env")
    assert access("--host", "0.0.0.0").token == "from-env"
    assert "lan-box" in access("--allow-host", "Lan-Box", "--allow-host", "[fd00::1]:8000").hosts


def test_extra_host_names_and_a_given_token_in_process():
    with serve(access=ControlAccess(token="t0ken", hosts=frozenset({"devbox.lan"}))) as live:
        headers = {"X-Mock-Control-Token": "t0ken"}
        assert httpx.get(live.base_url + "/_mock/config", headers={**headers, "Host": "devbox.lan:1"}).status_code == 200
        assert_envelope(httpx.get(live.base_url + "/_mock/config", headers={**headers, "Host": "other.lan"}),
                        403, "PERMISSION_DENIED")
        assert_envelope(httpx.get(live.base_url + "/_mock/config", headers={"Host": "devbox.lan"}),
                        401, "UNAUTHENTICATED")


# -- finding 3: no raw API key at rest -------------------------------------------------------------------

KEY_A = "sk-live-alpha-9f1c2e7d-aaaa"
KEY_B = "sk-live-bravo-04b8d1aa-bbbb"


def _fill(base_url: str) -> dict:
    """Files, a batch, a cache and usage for two keys; what each key should see afterwards."""
    seen = {}
    for key in (KEY_A, KEY_B):
        client = sdk(base_url, key)
        file = upload(base_url, key, f"bytes of {key[8:13]}".encode(), "doc")
        client.models.generate_content(model=MODEL, contents="hello")
        batch = client.batches.create(model=MODEL, src=[{"contents": [{"parts": [{"text": "hi"}]}]}])
        cache = client.caches.create(model=MODEL, config={"contents": ["cache me " * 1500]})
        seen[key] = {"files": [file], "batches": [batch.name], "caches": [cache.name]}
    return seen


def _sees(base_url: str, key: str) -> dict:
    client = sdk(base_url, key)
    return {"files": [f.name for f in client.files.list()], "batches": [b.name for b in client.batches.list()],
            "caches": [c.name for c in client.caches.list()]}


def test_exports_and_snapshots_hold_no_raw_key_and_still_restore_every_project(tmp_path):
    state = tmp_path / "state"
    with serve(state_dir=state) as first:
        seen = _fill(first.base_url)
        export = httpx.get(first.base_url + "/_mock/state:export", timeout=60)
        assert export.status_code == 200
    text = export.text
    for key in (KEY_A, KEY_B):
        assert key not in text
        assert hashlib.sha256(key.encode()).hexdigest() in text   # named by its digest
        for slot in SLOTS:
            assert key.encode() not in (state / slot).read_bytes()
    for path in state.rglob("*"):
        if path.is_file():
            assert KEY_A.encode() not in path.read_bytes() and KEY_B.encode() not in path.read_bytes(), path
    # a restart on the state dir: each key sees its own resources again
    with serve(state_dir=state) as again:
        for key in (KEY_A, KEY_B):
            assert _sees(again.base_url, key) == seen[key]
    # the export imported elsewhere restores every project
    with serve() as other:
        imported = httpx.post(other.base_url + "/_mock/state:import", content=export.content, timeout=60)
        assert imported.status_code == 200, imported.text
        for key in (KEY_A, KEY_B):
            assert _sees(other.base_url, key) == seen[key]
        assert other.store.usage.report()["projects"], "the usage ledger came back too"


# -- finding 4: an upload URL is a random capability -------------------------------------------------------

def _start(base_url: str, key: str, size: int) -> str:
    started = httpx.post(base_url + "/upload/v1beta/files", json={"file": {"displayName": "x"}}, headers={
        "x-goog-api-key": key, "X-Goog-Upload-Protocol": "resumable", "X-Goog-Upload-Command": "start",
        "X-Goog-Upload-Header-Content-Length": str(size), "X-Goog-Upload-Header-Content-Type": "text/plain"})
    assert started.status_code == 200, started.text
    return started.headers["X-Goog-Upload-URL"]


def test_upload_ids_are_random_not_derived_from_seed_project_or_counter():
    ids = []
    for _ in range(2):   # two servers with the same seed, the same key, the same first upload
        with serve(config={"seed": 7}) as live:
            url = _start(live.base_url, "same-key", 4)
            ids.append(httpx.URL(url).params["upload_id"])
    assert ids[0] != ids[1]
    assert all(len(i) >= 32 and re.fullmatch(r"[A-Za-z0-9_-]+", i) for i in ids)


def test_a_chunk_sent_with_another_key_is_refused_and_changes_nothing(live):
    httpx.patch(live.base_url + "/_mock/config", json={"files": {"downloadUploaded": True}}).raise_for_status()
    url = _start(live.base_url, "owner-key", 8)
    hijack = httpx.post(url, content=b"EVILEVIL", headers={
        "x-goog-api-key": "attacker-key", "X-Goog-Upload-Command": "upload, finalize", "X-Goog-Upload-Offset": "0"})
    assert_envelope(hijack, 404, "NOT_FOUND")
    query = httpx.post(url, headers={"X-Goog-Upload-Command": "query"})
    assert query.headers["X-Goog-Upload-Status"] == "active" and query.headers["X-Goog-Upload-Size-Received"] == "0"
    # the seed's curl flow: the chunk goes to the upload URL with no key at all
    done = httpx.post(url, content=b"my bytes", headers={"X-Goog-Upload-Command": "upload, finalize",
                                                          "X-Goog-Upload-Offset": "0"})
    assert done.status_code == 200, done.text
    name = done.json()["file"]["name"]
    data = httpx.get(f"{live.base_url}/download/v1beta/{name}:download", params={"alt": "media"},
                     headers={"x-goog-api-key": "owner-key"})
    assert data.content == b"my bytes"
    assert list(sdk(live.base_url, "attacker-key").files.list()) == []


# -- finding 5: project ids do not collide ---------------------------------------------------------------

def test_keys_that_collided_on_40_bit_ids_are_two_projects(live):
    first, second = "team-key-60521", "team-key-535012"   # the same 40-bit project before
    who = [httpx.get(live.base_url + "/_mock/whoami", headers={"x-goog-api-key": k}).json() for k in (first, second)]
    assert who[0]["project"] != who[1]["project"]
    assert all(re.fullmatch(r"project-[0-9a-f]{32}", w["project"]) for w in who)
    name = upload(live.base_url, first, b"mine")
    assert list(sdk(live.base_url, second).files.list()) == []
    with pytest.raises(genai.errors.ClientError) as refused:
        sdk(live.base_url, second).files.get(name=name)
    assert refused.value.code == 403
    # deterministic: the same key is the same project on another server
    with serve() as other:
        again = httpx.get(other.base_url + "/_mock/whoami", headers={"x-goog-api-key": first}).json()
        assert again["project"] == who[0]["project"]


# -- finding 7: a damaged state dir is never dropped silently ---------------------------------------------

def _state_with_a_file(state: Path) -> tuple[str, Path]:
    with serve(state_dir=state) as live:
        name = upload(live.base_url, "disk-key", b"stored bytes")
        project = live.store.keys.identify("disk-key").project
    return name, state / "projects" / project / "files" / name.split("/")[1]


def _newest_slot(state: Path) -> Path:
    readings = [persistence.read_slot(state, i) for i in range(len(SLOTS))]
    return state / max((r for r in readings if r.state == "valid"), key=lambda r: r.sequence).name


def _serve(state: Path, *extra: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-u", "-m", "gemini_mockserver", "serve", "--port", "0",
                             "--state-dir", str(state), *extra], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            cwd=ROOT)


def test_a_damaged_newest_slot_is_refused_with_one_line_or_recovered_with_a_warning(tmp_path):
    state = tmp_path / "state"
    name, _ = _state_with_a_file(state)
    newest = _newest_slot(state)
    raw = bytearray(newest.read_bytes())
    raw[-5] ^= 0x55                            # one flipped bit pattern inside the document
    newest.write_bytes(bytes(raw))
    refused = _serve(state)
    out, err = refused.communicate(timeout=60)
    lines = err.decode().strip().splitlines()
    assert refused.returncode == 2 and len(lines) == 1, err
    assert newest.name in lines[0] and "damaged" in lines[0] and "--recover" in lines[0]
    recovering = _serve(state, "--recover")
    try:
        url = re.search(r"listening on (\S+)", recovering.stdout.readline().decode()).group(1)
        warned = recovering.stderr.readline().decode()
        assert "WARNING" in warned and newest.name in warned and "damaged" in warned
        # the older slot is what the server started from: it holds the file
        assert httpx.get(f"{url}/v1beta/{name}", headers={"x-goog-api-key": "disk-key"}).status_code == 200
    finally:
        recovering.kill()
        recovering.communicate(timeout=10)


def test_a_slot_of_the_wrong_shape_is_refused(tmp_path):
    state = tmp_path / "state"
    _state_with_a_file(state)
    newest = _newest_slot(state)
    sequence = persistence.read_slot(state, SLOTS.index(newest.name)).sequence
    empty = persistence.encode({"format": persistence.FORMAT, "version": persistence.VERSION})
    other = state / SLOTS[1 - SLOTS.index(newest.name)]
    persistence.write_slot(other, persistence.encode_slot(sequence + 1, empty))   # valid checksum, no state
    with pytest.raises(StateDirError, match=rf"{other.name} is damaged \(not a snapshot"):
        create_store(state_dir=state)
    recovered = create_store(state_dir=state, recover=True)
    try:
        assert recovered.files.projects()   # the older, whole snapshot was used
    finally:
        recovered.close()


def test_stored_bytes_without_any_snapshot_are_refused(tmp_path):
    state = tmp_path / "state"
    _, blob = _state_with_a_file(state)
    for slot in SLOTS:
        (state / slot).write_bytes(b"")
    with pytest.raises(StateDirError, match=r"holds 1 stored file\(s\).*no snapshot"):
        create_store(state_dir=state)
    recovered = create_store(state_dir=state, recover=True)
    try:
        assert not recovered.files.projects()
        kept = list((state / persistence.LOST_FOUND).rglob(blob.name))
        assert len(kept) == 1 and kept[0].read_bytes() == b"stored bytes"   # set aside, not deleted
    finally:
        recovered.close()


def test_a_missing_or_modified_blob_is_named_at_start(tmp_path, caplog):
    state = tmp_path / "state"
    name, blob = _state_with_a_file(state)
    blob.write_bytes(b"STORED BYTES")   # same size, other bytes
    with pytest.raises(StateDirError, match=rf"{name} of project-[0-9a-f]+: its bytes were modified"):
        create_store(state_dir=state)
    blob.unlink()
    with pytest.raises(StateDirError, match=rf"{name} of project-[0-9a-f]+: its bytes .* are missing"):
        create_store(state_dir=state)
    with caplog.at_level("WARNING", logger="gemini_mockserver"):
        recovered = create_store(state_dir=state, recover=True)
    try:
        assert not recovered.files.projects()
        assert any(name in r.getMessage() and "missing" in r.getMessage() for r in caplog.records)
    finally:
        recovered.close()


def test_a_delete_under_way_at_a_crash_is_not_damage(tmp_path):
    """A delete renames the bytes to a tombstone first; a restart before its snapshot landed finds the
    tombstone and completes the delete quietly."""
    state = tmp_path / "state"
    name, blob = _state_with_a_file(state)
    os.replace(blob, blob.with_name(blob.name + ".deleted"))
    store = create_store(state_dir=state)
    try:
        assert not store.files.projects()
        assert not blob.with_name(blob.name + ".deleted").exists()   # collected
    finally:
        store.close()


def test_a_blob_modified_while_running_is_not_served(live):
    httpx.patch(live.base_url + "/_mock/config", json={"files": {"downloadUploaded": True}}).raise_for_status()
    name = upload(live.base_url, "running-key", b"original")
    path = live.store.files.path_of(live.store.keys.identify("running-key"), name)
    download = f"{live.base_url}/download/v1beta/{name}:download"
    headers = {"x-goog-api-key": "running-key"}
    assert httpx.get(download, params={"alt": "media"}, headers=headers).content == b"original"
    time.sleep(0.05)                 # past the file system's timestamp tick
    path.write_bytes(b"ORIGINAL")
    error = assert_envelope(httpx.get(download, params={"alt": "media"}, headers=headers), 400,
                            "FAILED_PRECONDITION")
    assert name in error["message"] and "modified" in error["message"]
    file = httpx.get(f"{live.base_url}/v1beta/{name}", headers=headers).json()
    assert file["state"] == "FAILED" and "modified" in file["error"]["message"]
    used = httpx.post(f"{live.base_url}/v1beta/models/{MODEL}:generateContent", headers=headers, json={
        "contents": [{"parts": [{"fileData": {"fileUri": file["uri"], "mimeType": "text/plain"}}, {"text": "?"}]}]})
    assert_envelope(used, 400, "FAILED_PRECONDITION")
    assert base64.b64decode(file["sha256Hash"])   # the record still says what was stored
