"""Record and replay: a recording proxy in front of another emulator writes cassettes (keys redacted),
an emulator serving those cassettes answers the same requests the same way, the drift check validates
cassettes against the recorded schemas, and the CLI wires it all up."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from google import genai
from google.genai import errors, types

from gemini_mockserver.drift import drift, drift_report
from gemini_mockserver.cassettes import Cassettes, canonical_body, create_recorder

from support.paths import ROOT
from support.servers import serve

MODEL = "gemini-2.5-flash"
SECRET = "secret-key-0123456789"


def sdk(base_url: str, **options) -> genai.Client:
    return genai.Client(api_key=SECRET, http_options=types.HttpOptions(base_url=base_url, **options))


def generate(base_url: str, contents: str, **options) -> str:
    """One generation on a client of its own (kept referenced until the answer is in)."""
    with sdk(base_url, **options) as client:
        return client.models.generate_content(model=MODEL, contents=contents).text


def scenario(base_url: str, tmp_path: Path, advance=None) -> dict:
    """What a client does: the answers it got, for comparison."""
    client = sdk(base_url, api_version="v1beta")
    out: dict = {}
    out["generate"] = client.models.generate_content(model=MODEL, contents="Tell me about rivers").text
    out["stream"] = [c.text for c in client.models.generate_content_stream(model=MODEL, contents="And lakes?")]
    out["tokens"] = client.models.count_tokens(model=MODEL, contents="count me").total_tokens
    notes = tmp_path / "notes.txt"
    notes.write_text("river notes\n")
    uploaded = client.files.upload(file=str(notes), config={"mime_type": "text/plain", "display_name": "notes.txt"})
    out["file"] = (uploaded.name, uploaded.size_bytes, client.files.get(name=uploaded.name).display_name)
    batch = client.batches.create(model=MODEL, src=[{"contents": [{"parts": [{"text": "hi"}]}]}])
    out["batch_first"] = client.batches.get(name=batch.name).state.name
    if advance:
        advance()
    out["batch_then"] = client.batches.get(name=batch.name).state.name
    with pytest.raises(errors.ClientError) as raised:
        client.models.generate_content(model="gemini-9", contents="x")
    out["error"] = raised.value.code
    with httpx.Client(base_url=base_url) as raw:   # curl style: the key in the query string
        out["models"] = raw.get("/v1beta/models", params={"key": SECRET, "pageSize": 2}).json()
        out["whoami"] = raw.get("/_mock/whoami", headers={"x-goog-api-key": SECRET}).json()["project"]
    client.close()
    return out


@pytest.fixture
def recorded(tmp_path):
    """Cassettes of the scenario, recorded through a proxy in front of an emulator seeded 99."""
    cassettes = tmp_path / "cassettes"
    with serve(config={"seed": 99}) as upstream, serve(app=create_recorder(upstream.base_url, cassettes)) as proxy:
        answers = scenario(proxy.base_url, tmp_path, advance=lambda: upstream.store.clock.advance(3600))
        direct = generate(upstream.base_url, "Tell me about rivers", api_version="v1beta")
    return cassettes, answers, direct


def test_the_proxy_is_transparent(recorded):
    cassettes, answers, direct = recorded
    assert answers["generate"] == direct
    assert answers["batch_first"] == "JOB_STATE_PENDING" and answers["batch_then"] == "JOB_STATE_SUCCEEDED"
    assert answers["error"] == 404 and answers["file"][2] == "notes.txt"


def test_cassettes_hold_each_interaction_without_keys(recorded):
    cassettes, _, _ = recorded
    files = sorted(cassettes.glob("*.json"))
    assert len(files) >= 12
    for path in files:
        text = path.read_text()
        assert SECRET not in text, path.name
        data = json.loads(text)
        assert set(data) >= {"request", "response", "upstream"}
        assert not {"x-goog-api-key", "authorization"} & set(data["request"]["headers"])
    by_path = {json.loads(p.read_text())["request"]["path"]: json.loads(p.read_text()) for p in files}
    stream = by_path[f"/v1beta/models/{MODEL}:streamGenerateContent"]
    assert stream["request"]["query"] == [["alt", "sse"]]
    assert stream["response"]["bodyText"].startswith("data: ")
    models = by_path["/v1beta/models"]
    assert ["key", "REDACTED"] in models["request"]["query"]
    assert models["response"]["body"]["models"]
    upload_start = [json.loads(p.read_text()) for p in files if "upload" in p.name][0]
    assert upload_start["response"]["headers"]["x-goog-upload-url"].startswith(upload_start["proxy"])
    whoami = by_path["/_mock/whoami"]
    assert whoami["response"]["body"]["key"] == "REDACTED"     # a key inside a body is redacted too


def test_replay_answers_as_recorded_then_falls_back_to_emulation(recorded, tmp_path):
    cassettes, answers, _ = recorded
    with serve(replay=str(cassettes)) as replay:             # seed 0: emulation would differ
        again = scenario(replay.base_url, tmp_path)
        assert again == answers
        assert generate(replay.base_url, "Tell me about rivers") != answers["generate"]                                # /v1 was not recorded: emulated, seed 0
        fresh = httpx.post(f"{replay.base_url}/v1beta/models/{MODEL}:generateContent",
                           headers={"x-goog-api-key": "k"}, json={"contents": [{"parts": [{"text": "new"}]}]})
        assert fresh.status_code == 200 and "x-gemini-mock-replayed" not in fresh.headers
        replayed = httpx.post(f"{replay.base_url}/v1beta/models/{MODEL}:generateContent",
                              headers={"x-goog-api-key": "anything"},
                              json={"contents": [{"parts": [{"text": "Tell me about rivers"}], "role": "user"}]})
        assert replayed.headers["x-gemini-mock-replayed"] == "true"
        assert replayed.json()["candidates"][0]["content"]["parts"][0]["text"] == answers["generate"]
        entries = replay.store.journal.entries()
        assert any(e.get("replayed") for e in entries) and any(not e.get("replayed") for e in entries)


def test_matching_is_on_method_path_query_and_canonical_body():
    assert canonical_body(b'{"b": 1, "a": [1, 2]}') == canonical_body(b'{"a":[1,2],"b":1}')
    assert canonical_body(b"") == canonical_body(b"{}") == canonical_body(b"  ")
    assert canonical_body(b"\x00bytes").startswith("sha256:")


def test_drift_check_passes_clean_cassettes_and_names_unknown_fields(recorded):
    cassettes, _, _ = recorded
    findings = drift(cassettes)
    assert findings and not [f for f in findings if f.drifted], drift_report(findings)
    assert any(f.skipped for f in findings)                      # /_mock/whoami is not an API route
    path = next(p for p in sorted(cassettes.glob("*.json")) if "generateContent" in p.name
                and "stream" not in p.name)
    data = json.loads(path.read_text())
    data["response"]["body"]["candidates"][0]["newServerField"] = {"x": 1}
    data["response"]["body"]["usageMetadata"]["promptTokenCount"] = "many"
    data["request"]["body"]["futureRequestField"] = True
    path.write_text(json.dumps(data))
    finding = next(f for f in drift(cassettes) if f.file == path.name)
    assert finding.drifted
    assert "candidates[0].newServerField" in finding.unknown_fields
    assert "request: futureRequestField" in finding.unknown_fields
    assert any("promptTokenCount" in p for p in finding.problems)
    report = drift_report(drift(cassettes))
    assert "DRIFT" in report and "newServerField" in report


def test_cassettes_replay_in_order(tmp_path):
    directory = tmp_path / "c"
    directory.mkdir()
    for n, state in enumerate(["PENDING", "RUNNING", "SUCCEEDED"]):
        (directory / f"{n:04d}.json").write_text(json.dumps({
            "request": {"method": "GET", "path": "/v1beta/batches/b1", "query": []},
            "response": {"status": 200, "headers": {"content-type": "application/json"},
                         "body": {"name": "batches/b1", "metadata": {"state": f"BATCH_STATE_{state}"}}}}))
    tape = Cassettes(directory)
    states = [tape.take("GET", "/v1beta/batches/b1", [("key", "x")], b"")["response"]["body"]["metadata"]["state"]
              for _ in range(4)]
    assert states == ["BATCH_STATE_PENDING", "BATCH_STATE_RUNNING", "BATCH_STATE_SUCCEEDED", "BATCH_STATE_SUCCEEDED"]
    assert tape.take("GET", "/v1beta/batches/b2", [], b"") is None


def _start(args: list[str]) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen([sys.executable, "-m", "gemini_mockserver", *args], cwd=ROOT, stdout=subprocess.PIPE,
                            text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    for _ in range(5):
        line = proc.stdout.readline()
        if "listening on" in line:
            return proc, line.split()[-1]
    proc.kill()
    raise RuntimeError("the server did not start")


def _stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    proc.wait(timeout=15)


def test_the_cli_records_replays_and_checks_drift(tmp_path):
    cassettes = tmp_path / "tapes"
    upstream, upstream_url = _start(["serve", "--port", "0", "--seed", "5"])
    try:
        recorder, recorder_url = _start(["record", "--upstream", upstream_url, "--out", str(cassettes), "--port", "0"])
        try:
            recorded = generate(recorder_url, "cli")
        finally:
            _stop(recorder)
    finally:
        _stop(upstream)
    assert len(list(cassettes.glob("*.json"))) == 1
    replay, replay_url = _start(["serve", "--port", "0", "--replay", str(cassettes)])
    try:
        assert generate(replay_url, "cli") == recorded
    finally:
        _stop(replay)
    ok = subprocess.run([sys.executable, "-m", "gemini_mockserver", "drift", str(cassettes)], cwd=ROOT,
                        capture_output=True, text=True)
    assert ok.returncode == 0 and "0 with drift" in ok.stdout, ok.stdout + ok.stderr
    path = next(cassettes.glob("*.json"))
    data = json.loads(path.read_text())
    data["response"]["body"]["surprise"] = 1
    path.write_text(json.dumps(data))
    bad = subprocess.run([sys.executable, "-m", "gemini_mockserver", "drift", str(cassettes)], cwd=ROOT,
                         capture_output=True, text=True)
    assert bad.returncode == 1 and "unknown field: surprise" in bad.stdout
