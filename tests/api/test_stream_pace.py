"""Realistic streams (pacing.py) and the access log's --log-bodies line.

The pace is asserted through the waits the server asks for (recorded around asyncio.sleep), never by
timing the test."""
from __future__ import annotations

import asyncio
import io
import signal
import subprocess
import sys

import httpx
import pytest

from gemini_mockserver import pacing
from gemini_mockserver.access_log import AccessLog
from gemini_mockserver.config import Config
from gemini_mockserver.journal import one_line

from support import assert_envelope

MODEL = "gemini-3.5-flash-lite"


@pytest.fixture
def waits(monkeypatch) -> list[float]:
    """The seconds each paced event waited (the real sleep still happens, so the stream is paced)."""
    asked: list[float] = []

    async def recorded(seconds: float) -> None:
        asked.append(seconds)
        await asyncio.sleep(seconds)

    monkeypatch.setattr(pacing, "sleep", recorded)
    return asked


def test_pace_waits_for_the_first_token_then_each_events_tokens():
    pace = pacing.Pace(tokens_per_second=50, first_token_seconds=0.7)
    assert pace.delay(10) == 0.7 and pace.delay(10) == 0.2 and pace.delay(25) == 0.5
    assert pacing.tokens_in(b'data: {"parts":[{"text":"abcdefgh"}]}') == 2
    assert pacing.tokens_in(b'data: {"choices":[{"delta":{"content":"' + b"x" * 40 + b'"}}]}') == 10
    assert pacing.tokens_in(b"data: [DONE]") == 1


def test_the_config_pace_per_model_wins_over_the_default_and_a_rule_over_both():
    config = Config({"stream": {"tokensPerSecond": 100.0, "models": {"slow": {"tokensPerSecond": 5}}}})
    assert pacing.pace_for(config, "models/other").tokens_per_second == 100
    assert pacing.pace_for(config, "models/slow").tokens_per_second == 5
    assert pacing.pace_for(config, "slow", {"tokensPerSecond": 1.0, "firstTokenSeconds": 0.0}).tokens_per_second == 1
    assert pacing.pace_for(Config(), "models/any") is None    # off by default: tests stay fast


def test_an_sse_stream_arrives_at_the_configured_pace(gemini_mock, client, waits):
    gemini_mock.configure({"stream": {"models": {MODEL: {"tokensPerSecond": 400, "firstTokenSeconds": 0.05}}}})
    chunks = [chunk.text for chunk in client.models.generate_content_stream(model=MODEL, contents="A long story")]
    assert len(chunks) > 1 and len(waits) == len(chunks)
    assert waits[0] == 0.05
    for wait, text in zip(waits[1:], chunks[1:]):
        assert wait == pytest.approx(max(1, round(len(text) / 4)) / 400, abs=2 / 400)
    # other models are not paced
    waits.clear()
    list(client.models.generate_content_stream(model="gemini-3.8-flash", contents="A long story"))
    assert waits == []


def test_a_rule_sets_the_pace_of_its_answers_and_the_openai_stream_is_paced(gemini_mock, waits):
    import openai
    gemini_mock.rules.add({"match": {"prompt": "slowly"}, "pace": {"tokensPerSecond": 1000, "firstTokenSeconds": 0.02}})
    chat = openai.OpenAI(api_key=gemini_mock.api_key, base_url=gemini_mock.base_url + "/v1beta/openai/")
    events = list(chat.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "say it slowly"}],
                                               stream=True))
    assert events and waits[0] == 0.02 and len(waits) == len(events) + 1   # and the [DONE] event
    assert gemini_mock.requests[-1]["source"] == "rule"
    waits.clear()
    list(chat.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "quickly"}], stream=True))
    assert waits == []


def test_a_bad_pace_is_refused_with_the_field_named(gemini_mock, http):
    control = httpx.Client(base_url=gemini_mock.base_url)
    for pace, field in (({"tokensPerSecond": -1}, "pace.tokensPerSecond"), ({"speed": 1}, "pace.speed"),
                        ("fast", "pace"), ({"firstTokenSeconds": True}, "pace.firstTokenSeconds")):
        assert_envelope(control.post("/_mock/rules", json={"pace": pace}), 400, "INVALID_ARGUMENT", field=field)
    assert_envelope(control.patch("/_mock/config", json={"stream": {"tokensPerSecond": "fast"}}), 400,
                    "INVALID_ARGUMENT", field="stream.tokensPerSecond")
    assert_envelope(control.patch("/_mock/config", json={"stream": {"models": {"m": {"tokensPerSecond": -2}}}}),
                    400, "INVALID_ARGUMENT", field="stream.models.m.tokensPerSecond")


# -- --log-bodies -------------------------------------------------------------------------------------

def test_one_line_summarises_prompt_and_answer_with_keys_redacted():
    entry = {"status": 200,
             "request": {"body": b'{"contents":[{"parts":[{"text":"my key is AIzaSyA1234567890abcdefghijklmnopqrstu"}]}]}'},
             "response": {"body": b'{"candidates":[{"content":{"parts":[{"text":"Noted.\\nBye."}]}}]}'}}
    assert one_line(entry) == 'prompt="my key is REDACTED" answer="Noted. Bye."'
    error = {"status": 400, "request": {"body": b"{}"},
             "response": {"body": b'{"error":{"code":400,"message":"bad temperature","status":"INVALID_ARGUMENT"}}'}}
    assert one_line(error) == 'error="bad temperature"'
    long = {"status": 200, "request": {"body": b'{"contents":[{"parts":[{"text":"' + b"a" * 500 + b'"}]}]}'}}
    assert len(one_line(long)) < 100 and one_line(None) == ""


def test_the_access_log_adds_the_summary_of_a_stream(gemini_mock):
    from starlette.testclient import TestClient
    from gemini_mockserver.app import create_app
    out = io.StringIO()
    app = create_app()
    try:
        with TestClient(AccessLog(app, stream=out, bodies=True)) as http:
            body = {"contents": [{"parts": [{"text": "Say hello"}]}]}
            http.post(f"/v1beta/models/{MODEL}:streamGenerateContent?alt=sse&key=sekrit", json=body)
            http.post(f"/v1beta/models/{MODEL}:generateContent", json={"contents": []},
                      headers={"x-goog-api-key": "sekrit"})
        streamed, refused = out.getvalue().splitlines()
        text = "".join(e["candidates"][0]["content"]["parts"][0]["text"] for e in app.state.store.journal.entries(True)[0].events)
        assert f'prompt="Say hello" answer="{" ".join(text.split())[:40]}' in streamed
        assert " 400 " in refused and 'error="' in refused and "sekrit" not in out.getvalue()
    finally:
        app.state.store.close()


def test_serve_realistic_and_log_bodies(tmp_path):
    import os
    clean = {k: v for k, v in os.environ.items() if not k.startswith("GEMINI_MOCK_")}
    proc = subprocess.Popen([sys.executable, "-m", "gemini_mockserver", "serve", "--port", "0", "--realistic",
                             "--log-bodies"], env=clean, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        url = proc.stdout.readline().split()[-1]
        assert httpx.get(url + "/_mock/config").json()["stream"]["tokensPerSecond"] == pacing.REALISTIC["tokensPerSecond"]
        answer = httpx.post(f"{url}/v1beta/models/{MODEL}:generateContent", json={
            "contents": [{"parts": [{"text": "Hello there"}]}]}, headers={"x-goog-api-key": "k-secret"})
        assert answer.status_code == 200
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    line = next(line for line in err.splitlines() if ":generateContent" in line)
    assert 'prompt="Hello there" answer="' in line and "k-secret" not in err


def test_a_live_session_speaks_at_the_configured_pace(gemini_mock, waits):
    from support.live import AUDIO_MODEL, open_session, say
    gemini_mock.configure({"stream": {"tokensPerSecond": 2000.0, "firstTokenSeconds": 0.03}})
    with open_session(gemini_mock, {"model": AUDIO_MODEL}) as ws:
        messages = say(ws, "hello")
        paced = [m for m in messages if m.get("serverContent", {}).get("modelTurn")
                 or m.get("serverContent", {}).get("outputTranscription")]
        assert paced and len(waits) == len(paced) and waits[0] == 0.03
        waits.clear()
        say(ws, "again")
        assert waits[0] == 0.03       # each turn waits for its first token again
