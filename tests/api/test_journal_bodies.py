"""The request journal with bodies: what was sent and answered, through the SDKs, raw HTTP and the plugin."""
from __future__ import annotations

import base64
import json

import httpx
import pytest
from google.genai import errors

from gemini_mockserver.app import create_store
from gemini_mockserver.config import Config
from gemini_mockserver.journal import REDACTED, Journal, clip_body, redact_query

from support import assert_envelope

MODEL = "gemini-3.5-flash-lite"


@pytest.fixture
def control(gemini_mock):
    with httpx.Client(base_url=gemini_mock.base_url, timeout=30) as session:
        yield session


def test_an_sdk_call_is_journaled_with_its_request_and_answer(gemini_mock, client):
    answer = client.models.generate_content(model=MODEL, contents="Why is the sky blue?")
    entry = gemini_mock.requests[-1]
    assert entry["status"] == 200 and entry["source"] == "emulated" and entry["model"] == MODEL
    assert entry.request_json["contents"][0]["parts"][0]["text"] == "Why is the sky blue?"
    assert entry.response_json["candidates"][0]["content"]["parts"][0]["text"] == answer.text
    headers = entry["request"]["headers"]
    assert headers["x-goog-api-key"] == REDACTED and gemini_mock.api_key not in json.dumps(entry)
    assert entry["response"]["headers"]["content-type"].startswith("application/json")
    assert entry["request"]["bodyBytes"] > 0 and entry["response"]["bodyBytes"] > 0


def test_a_stream_keeps_its_events_in_order(gemini_mock, client):
    texts = [chunk.text for chunk in client.models.generate_content_stream(model=MODEL, contents="Tell a long story")]
    entry = gemini_mock.requests[-1]
    assert entry["path"].endswith(":streamGenerateContent") and entry.response_json is None
    assert [event["candidates"][0]["content"]["parts"][0]["text"] for event in entry.events] == texts
    assert len(texts) > 1


def test_an_error_is_journaled_with_its_message_and_found_by_status(gemini_mock, client, control):
    with pytest.raises(errors.ClientError):
        client.models.generate_content(model=MODEL, contents="hi", config={"temperature": 7})
    entry = gemini_mock.requests[-1]
    assert entry["status"] == 400 and entry.response_json["error"]["status"] == "INVALID_ARGUMENT"
    assert entry["error"] == entry.response_json["error"]["message"]
    listed = control.get("/_mock/requests", params={"status": "4xx", "project": gemini_mock.project}).json()
    assert [item["id"] for item in listed["requests"]] == [entry["id"]]
    assert "request" not in listed["requests"][0]                 # the list is summaries unless asked
    full = control.get("/_mock/requests", params={"status": "400", "bodies": "true"}).json()["requests"][0]
    assert full["request"]["body"]["generationConfig"]["temperature"] == 7


def test_the_key_in_the_query_string_is_redacted(gemini_mock, control):
    answer = httpx.get(gemini_mock.base_url + "/v1beta/models", params={"key": gemini_mock.api_key, "pageSize": 2})
    assert answer.status_code == 200
    entry = control.get("/_mock/requests", params={"bodies": "true"}).json()["requests"][-1]
    assert entry["request"]["query"] == {"key": REDACTED, "pageSize": "2"}
    assert gemini_mock.api_key not in json.dumps(entry)
    assert redact_query("a=1&access_token=auth_tokens/x&KEY=y") == f"a=1&access_token={REDACTED}&KEY={REDACTED}"


def test_entry_detail_has_the_bodies_and_a_curl_command(gemini_mock, http, control):
    assert http.post(f"/v1beta/models/{MODEL}:countTokens",
                     json={"contents": [{"parts": [{"text": "it's a test"}]}]}).status_code == 200
    entry_id = gemini_mock.requests[-1]["id"]
    detail = control.get(f"/_mock/requests/{entry_id}").json()
    assert detail["response"]["body"]["totalTokens"] > 0
    curl = detail["curl"]
    assert curl.startswith(f"curl -X POST {gemini_mock.base_url}/v1beta/models/{MODEL}:countTokens ")
    assert '"x-goog-api-key: $GEMINI_API_KEY"' in curl and gemini_mock.api_key not in curl
    assert "it'\"'\"'s a test" in curl    # quoted for the shell
    assert_envelope(control.get("/_mock/requests/999999"), 404, "NOT_FOUND")
    assert_envelope(control.get("/_mock/requests/abc"), 400, "INVALID_ARGUMENT", field="id")


def test_filters_by_text_time_method_and_source(gemini_mock, client, control):
    gemini_mock.rules.reply("Scripted.", prompt="lighthouse")
    client.models.generate_content(model=MODEL, contents="a lighthouse keeper")
    client.models.generate_content(model=MODEL, contents="a baker")
    before = gemini_mock.requests[-1]["time"]
    gemini_mock.advance(3600)
    client.models.list()
    mine = {"project": gemini_mock.project}
    found = control.get("/_mock/requests", params={**mine, "text": "LIGHTHOUSE"}).json()["requests"]
    assert len(found) == 1 and found[0]["source"] == "rule" and found[0]["rule"].startswith("rule-")
    assert len(control.get("/_mock/requests", params={**mine, "source": "emulated", "method": "POST"})
               .json()["requests"]) == 1
    assert [e["method"] for e in control.get("/_mock/requests", params={**mine, "since": before})
            .json()["requests"]][-1] == "GET"
    old = control.get("/_mock/requests", params={**mine, "until": before}).json()["requests"]
    assert {e["method"] for e in old} == {"POST"}
    assert_envelope(control.get("/_mock/requests", params={"since": "yesterday"}), 400, "INVALID_ARGUMENT",
                    field="since")
    assert_envelope(control.get("/_mock/requests", params={"source": "magic"}), 400, "INVALID_ARGUMENT",
                    field="source")


def test_a_large_inline_image_keeps_a_summary_not_its_bytes(gemini_mock, http):
    gemini_mock.configure({"limits": {"journalEntryBytes": 4096}})
    image = base64.b64encode(b"\x89PNG" + bytes(30_000)).decode()
    body = {"contents": [{"parts": [{"text": "what is this?"}, {"inlineData": {"mimeType": "image/png", "data": image}}]}]}
    assert http.post(f"/v1beta/models/{MODEL}:generateContent", json=body).status_code == 200
    entry = gemini_mock.requests[-1]
    part = entry.request_json["contents"][0]["parts"][1]["inlineData"]
    assert part["mimeType"] == "image/png" and part["data"] == f"[{len(image)} base64 characters left out]"
    assert entry["request"]["bodyBytes"] > 40_000 and entry["request"]["truncated"] is True


def test_an_upload_keeps_its_size_not_its_bytes(gemini_mock, client, tmp_path):
    path = tmp_path / "notes.txt"
    path.write_bytes(b"x" * 200_000)
    client.files.upload(file=path)
    uploads = [e for e in gemini_mock.requests if e["request"].get("summary")]
    assert uploads and "200000 bytes" in uploads[-1]["request"]["summary"]
    assert all(len(json.dumps(e)) < 70_000 for e in gemini_mock.requests)


def test_the_journal_is_bounded_in_bytes_and_counts_what_it_dropped():
    store = create_store(Config({"limits": {"journalBytes": 20_000, "journalEntryBytes": 2_000}}))
    try:
        for n in range(100):
            body, size = clip_body(b'{"n": %d, "pad": "%s"}' % (n, b"x" * 5000), store.journal.body_limit)
            assert size > 5000 and len(body) == 2000
            store.journal.add({"time": 0.0, "method": "POST", "path": f"/p{n}", "status": 200,
                               "request": {"body": body, "bodyBytes": size}})
        kept = store.journal.entries()
        assert store.journal.bytes <= 20_000 and len(kept) == 100 - store.journal.dropped
        assert kept[-1]["path"] == "/p99" and store.journal.dropped > 80
    finally:
        store.close()


def test_journal_ids_grow_and_find_answers_none_once_dropped():
    journal = Journal(2)
    first = journal.add({"time": 0.0, "method": "GET", "path": "/a", "status": 200})
    journal.add({"time": 0.0, "method": "GET", "path": "/b", "status": 200})
    third = journal.add({"time": 0.0, "method": "GET", "path": "/c", "status": 200})
    assert third["id"] == first["id"] + 2 and journal.find(first["id"]) is None
    assert journal.find(third["id"])["path"] == "/c" and journal.dropped == 1


def test_config_bounds_take_numbers(control):
    assert_envelope(control.patch("/_mock/config", json={"limits": {"journalBytes": "big"}}), 400,
                    "INVALID_ARGUMENT", field="limits.journalBytes")


def test_the_openai_stream_is_journaled_with_its_events(gemini_mock):
    import openai
    chat = openai.OpenAI(api_key=gemini_mock.api_key, base_url=gemini_mock.base_url + "/v1beta/openai/")
    pieces = [c.choices[0].delta.content or "" for c in chat.chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "hello"}], stream=True) if c.choices]
    entry = gemini_mock.requests[-1]
    assert entry.request_json["stream"] is True and entry.events[-1] == "[DONE]"
    assert "".join(e["choices"][0]["delta"].get("content") or "" for e in entry.events[:-1] if e["choices"]) \
        == "".join(pieces)


def test_the_live_feed_pushes_each_entry_as_it_is_made(gemini_mock, http, control):
    with control.stream("GET", "/_mock/requests:stream") as feed:
        assert feed.status_code == 200 and feed.headers["content-type"].startswith("text/event-stream")
        lines = feed.iter_lines()
        assert next(lines).startswith(":")            # the feed is open (and listening) from here
        assert http.get("/v1beta/models/nope").status_code == 404
        for line in lines:
            if line.startswith("data: "):
                pushed = json.loads(line[6:])
                break
    assert pushed["path"] == "/v1beta/models/nope" and pushed["status"] == 404 and "error" in pushed
    assert "request" not in pushed   # a summary: the detail is one GET away


@pytest.mark.parametrize("path", ["/_mock/requests/1", "/_mock/requests:stream", "/_mock/requests?bodies=true"])
def test_the_new_journal_routes_keep_the_control_plane_protection(gemini_mock, path):
    port = gemini_mock.base_url.rsplit(":", 1)[1]
    refused = httpx.get(gemini_mock.base_url + path, headers={"Host": f"rebind.evil.example:{port}"})
    assert_envelope(refused, 403, "PERMISSION_DENIED")
    refused = httpx.get(gemini_mock.base_url + path, headers={"Origin": "https://evil.example"})
    assert_envelope(refused, 403, "PERMISSION_DENIED")
    assert "access-control-allow-origin" not in refused.headers


def test_replay_marks_replayed_and_unmatched_requests_and_says_so(tmp_path, caplog):
    from starlette.testclient import TestClient
    from gemini_mockserver.app import create_app
    (tmp_path / "0000.json").write_text(json.dumps({
        "request": {"method": "GET", "path": "/v1beta/batches/b1", "query": []},
        "response": {"status": 200, "headers": {"content-type": "application/json"},
                     "body": {"name": "batches/b1", "metadata": {"state": "BATCH_STATE_RUNNING"}}}}))
    app = create_app(replay=str(tmp_path))
    try:
        with TestClient(app, headers={"x-goog-api-key": "k"}) as http, caplog.at_level("WARNING", "gemini_mockserver"):
            assert http.get("/v1beta/batches/b1").json()["metadata"]["state"] == "BATCH_STATE_RUNNING"
            assert http.post(f"/v1beta/models/{MODEL}:countTokens",
                             json={"contents": [{"parts": [{"text": "no tape"}]}]}).status_code == 200
            replayed, emulated = http.get("/_mock/requests", params={"bodies": "true"}).json()["requests"]
            unmatched = http.get("/_mock/requests", params={"unmatched": "true"}).json()["requests"]
        assert replayed["source"] == "replay" and replayed["response"]["body"]["name"] == "batches/b1"
        assert emulated["source"] == "emulated" and emulated["unmatched"] is True
        assert [e["id"] for e in unmatched] == [emulated["id"]]
        assert f"no cassette matched POST /v1beta/models/{MODEL}:countTokens" in caplog.text
    finally:
        app.state.store.close()
