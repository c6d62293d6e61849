"""Ephemeral tokens: created with google-genai's `client.auth_tokens.create` on v1alpha, used on the
constrained Live endpoint by a raw WebSocket client (as @google/genai dials it: `?access_token=`)."""
from __future__ import annotations

import datetime as dt
import json

import pytest
from google.genai import types
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from support import assert_envelope
from support.live import (AUDIO_MODEL, closed, expected_text, last_session, receive, say,  # noqa: F401
                          text_model, ws_url)

CONSTRAINED = "BidiGenerateContentConstrained"


def constrained_url(mock, token: str, version: str = "v1alpha") -> str:
    return ws_url(mock, key=None, version=version, method=CONSTRAINED, query=f"access_token={token}")


def start(mock, token: str, setup: dict) -> None:
    """Open a constrained session with `setup`, which must be accepted."""
    with connect(constrained_url(mock, token)) as ws:
        ws.send(json.dumps({"setup": setup}))
        first = json.loads(ws.recv(timeout=10))
    assert first == {"setupComplete": {}}


def refused(mock, url: str, setup: dict) -> tuple[int, str]:
    with connect(url) as ws:
        try:
            ws.send(json.dumps({"setup": setup}))
        except ConnectionClosed:   # a refused credential may close the session before the setup
            pass
        return closed(ws)


@pytest.fixture
def alpha(gemini_mock):
    return gemini_mock.client(api_version="v1alpha")


def test_token_is_created_on_v1alpha_only(gemini_mock, alpha, http):
    token = alpha.auth_tokens.create(config=types.CreateAuthTokenConfig(uses=2))
    assert token.name.startswith("auth_tokens/") and len(token.name) > 30
    assert_envelope(http.post("/v1beta/auth_tokens", json={}), 404, "NOT_FOUND")
    assert_envelope(http.post("/v1alpha/auth_tokens", json={"uses": -1}), 400, "INVALID_ARGUMENT", field="uses")
    assert_envelope(http.post("/v1alpha/auth_tokens", json={"expireTime": "2000-01-01T00:00:00Z"}), 400,
                    "INVALID_ARGUMENT", field="expireTime")


def test_uses_are_counted(gemini_mock, alpha):
    token = alpha.auth_tokens.create(config={"uses": 2}).name
    start(gemini_mock, token, {"model": AUDIO_MODEL})
    start(gemini_mock, token, {"model": AUDIO_MODEL})
    code, reason = refused(gemini_mock, constrained_url(gemini_mock, token), {"model": AUDIO_MODEL})
    assert code == 1008 and "ephemeral token" in reason
    assert not gemini_mock.store.internal_errors


def test_expiry_follows_the_emulator_clock(gemini_mock, alpha):
    now = gemini_mock.now()
    token = alpha.auth_tokens.create(config={
        "uses": 0, "expire_time": now + dt.timedelta(minutes=30),
        "new_session_expire_time": now + dt.timedelta(minutes=5)}).name
    start(gemini_mock, token, {"model": AUDIO_MODEL})
    gemini_mock.advance(6 * 60)                 # past newSessionExpireTime: no new session
    code, _ = refused(gemini_mock, constrained_url(gemini_mock, token), {"model": AUDIO_MODEL})
    assert code == 1008
    short = alpha.auth_tokens.create(config={"uses": 0}).name    # defaults: one minute for new sessions
    gemini_mock.advance(61)
    code, _ = refused(gemini_mock, constrained_url(gemini_mock, short), {"model": AUDIO_MODEL})
    assert code == 1008


def test_a_session_takes_no_message_after_its_token_expires(gemini_mock, alpha, text_model):
    """AuthToken.expireTime: messages in sessions the token opened are rejected after it (1008); the
    session lives on until then, past newSessionExpireTime."""
    now = gemini_mock.now()
    token = alpha.auth_tokens.create(config={"uses": 1, "expire_time": now + dt.timedelta(minutes=10)}).name
    with connect(constrained_url(gemini_mock, token)) as ws:
        ws.send(json.dumps({"setup": {"model": text_model, "generationConfig": {"responseModalities": ["TEXT"]}}}))
        assert receive(ws) == {"setupComplete": {}}
        gemini_mock.advance(5 * 60)              # past newSessionExpireTime (1 minute), before expireTime
        assert say(ws, "Hello")[-1]["serverContent"]["turnComplete"]
        gemini_mock.advance(5 * 60)              # expireTime reached
        ws.send(json.dumps({"realtimeInput": {"text": "Still there?"}}))
        code, reason = closed(ws)
    assert code == 1008 and "expired" in reason
    assert last_session(gemini_mock)["live"]["closeCode"] == 1008
    assert not gemini_mock.store.internal_errors


def test_api_key_refused_on_constrained_endpoint_and_token_on_the_other(gemini_mock, alpha):
    url = ws_url(gemini_mock, version="v1alpha", method=CONSTRAINED)      # ?key=<an API key>
    code, reason = refused(gemini_mock, url, {"model": AUDIO_MODEL})
    assert code == 1008 and "not an API key" in reason
    token = alpha.auth_tokens.create(config={"uses": 1}).name
    code, reason = refused(gemini_mock, ws_url(gemini_mock, key=token), {"model": AUDIO_MODEL})
    assert code == 1008 and "Constrained" in reason
    # google-genai's own spelling of the token: an `Authorization: Token ...` header
    with connect(ws_url(gemini_mock, key=None, version="v1alpha", method=CONSTRAINED),
                 additional_headers={"Authorization": f"Token {token}"}) as ws:
        ws.send(json.dumps({"setup": {"model": AUDIO_MODEL}}))
        assert receive(ws) == {"setupComplete": {}}


def test_locked_fields_win_over_the_clients_setup(gemini_mock, alpha, text_model):
    token = alpha.auth_tokens.create(config=types.CreateAuthTokenConfig(
        uses=1, live_connect_constraints=types.LiveConnectConstraints(
            model=text_model, config=types.LiveConnectConfig(response_modalities=["TEXT"],
                                                             system_instruction="Be brief."))))
    with connect(constrained_url(gemini_mock, token.name)) as ws:
        # the client asks for another model and for audio: the token's setup wins
        ws.send(json.dumps({"setup": {"model": AUDIO_MODEL, "generationConfig": {"responseModalities": ["AUDIO"]}}}))
        assert receive(ws) == {"setupComplete": {}}
        messages = say(ws, "Hello")
    assert any("text" in part for m in messages for part in m.get("serverContent", {}).get("modelTurn", {}).get("parts", []))
    entry = last_session(gemini_mock)
    assert entry["model"] == text_model.removeprefix("models/") and entry["project"] == gemini_mock.project


def test_field_mask_locks_only_the_named_fields(gemini_mock, http, text_model):
    body = {"uses": 1, "bidiGenerateContentSetup": {"setup": {
        "model": AUDIO_MODEL, "generationConfig": {"temperature": 0.2}}}, "fieldMask": "generationConfig.temperature"}
    token = http.post("/v1alpha/auth_tokens", json=body).json()["name"]
    with connect(constrained_url(gemini_mock, token)) as ws:
        ws.send(json.dumps({"setup": {"model": text_model, "generationConfig": {
            "responseModalities": ["TEXT"], "temperature": 1.5}}}))
        assert receive(ws) == {"setupComplete": {}}
        answer = "".join(m["serverContent"]["modelTurn"]["parts"][0]["text"] for m in say(ws, "Hello")
                         if "modelTurn" in m.get("serverContent", {}))
    assert last_session(gemini_mock)["model"] == text_model.removeprefix("models/")   # the model was not locked
    contents = [{"role": "user", "parts": [{"text": "Hello"}]}]
    locked = expected_text(gemini_mock, text_model, contents, generationConfig={"temperature": 0.2})
    assert answer == locked != expected_text(gemini_mock, text_model, contents, generationConfig={"temperature": 1.5})
