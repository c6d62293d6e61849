"""Live music (BidiGenerateMusic) spoken raw over WebSocket: errors as close frames with their codes and
reasons, the credentials the endpoint takes, faults, the journal entry, and a playing session's stream."""
from __future__ import annotations

import json
import time

import pytest
from websockets.sync.client import connect

from gemini_mockserver.auth import Identity

from support.live import (AUDIO_MODEL, MUSIC_CHUNK_BYTES, MUSIC_METHOD, MUSIC_MODEL, closed, last_session,
                          music_pcm, open_music, receive, ws_url)
from support.servers import serve

TECHNO = {"clientContent": {"weightedPrompts": [{"text": "minimal techno", "weight": 1.0}]}}


@pytest.fixture
def fast(gemini_mock):
    gemini_mock.configure({"music": {"speed": 50.0}})
    return gemini_mock


def _music(mock, **url):
    return connect(ws_url(mock, method=MUSIC_METHOD, **url), open_timeout=10, max_size=2 ** 22)


@pytest.mark.parametrize("send, code, words", [
    ("{not json", 1007, "Invalid JSON payload"),
    (json.dumps({"playbackControl": "PLAY"}), 1007, "first message of a Live music session must be setup"),
    (json.dumps({"setup": {"model": "models/gemini-404"}}), 1008, "not supported for bidiGenerateMusic"),
    (json.dumps({"setup": {"model": AUDIO_MODEL}}), 1008, "is not found for API version v1beta"),   # a Live model
    (json.dumps({"setup": {}}), 1007, "setup.model is required"),
    (json.dumps({"setup": {"model": MUSIC_MODEL}, "playbackControl": "PLAY"}), 1007, "exactly one"),
    (json.dumps({"realtimeInput": {"text": "hi"}}), 1007, 'Unknown name "realtimeInput"'),
])
def test_first_message_errors_close_with_the_documented_codes(gemini_mock, send, code, words):
    with _music(gemini_mock) as ws:
        ws.send(send)
        got, reason = closed(ws)
    assert got == code and words in reason
    entry = last_session(gemini_mock)
    assert entry["method"] == "WEBSOCKET" and entry["live"]["closeCode"] == code and entry["status"] in (400, 404)
    assert not gemini_mock.store.internal_errors


@pytest.mark.parametrize("send, words", [
    ({"musicGenerationConfig": {"bpm": 250}}, "musicGenerationConfig.bpm must be an integer from 60 to 200"),
    ({"musicGenerationConfig": {"density": -1}}, "musicGenerationConfig.density must be a number from 0 to 1"),
    ({"music_generation_config": {"scale": "X"}}, "musicGenerationConfig.scale"),
    ({"clientContent": {"weightedPrompts": [{"text": "a", "weight": 0}]}}, "weightedPrompts[0].weight"),
    ({"clientContent": {"weightedPrompts": []}}, "clientContent.weightedPrompts must hold at least one"),
    ({"playbackControl": "REWIND"}, "Invalid value at 'playbackControl'"),
    ({"setup": {"model": MUSIC_MODEL}}, "only once"),
])
def test_bad_messages_close_with_1007_naming_the_field(gemini_mock, send, words):
    with open_music(gemini_mock) as ws:
        ws.send(json.dumps(send))
        code, reason = closed(ws)
    assert code == 1007 and words in reason
    assert last_session(gemini_mock)["status"] == 400


def test_credentials(gemini_mock):
    with _music(gemini_mock, key=None) as ws:
        code, reason = closed(ws)
    assert code == 1008 and "API Key" in reason
    with _music(gemini_mock, key="auth_tokens/abc") as ws:    # no ephemeral tokens on the music endpoint
        code, reason = closed(ws)
    assert code == 1008 and "BidiGenerateContentConstrained" in reason
    with connect(ws_url(gemini_mock, method=MUSIC_METHOD + "Constrained")) as ws:
        code, reason = closed(ws)
    assert code == 1008 and "not found" in reason
    with serve(keys={"good": Identity("good", "music-project", "m@example.com")}) as server:
        with _music(server, key="nope") as ws:
            code, reason = closed(ws)
        assert code == 1007 and "API key not valid" in reason
        with _music(server, key="good") as ws:
            ws.send(json.dumps({"setup": {"model": MUSIC_MODEL}}))
            assert receive(ws) == {"setupComplete": {}}
    assert not gemini_mock.store.internal_errors


def test_the_music_model_is_listed_and_not_a_live_model(gemini_mock, http):
    model = http.get(f"/v1beta/{MUSIC_MODEL}").json()
    assert model["supportedGenerationMethods"] == ["bidiGenerateMusic"] and "emulator" not in model
    with connect(ws_url(gemini_mock)) as ws:
        ws.send(json.dumps({"setup": {"model": MUSIC_MODEL}}))
        code, reason = closed(ws)
    assert code == 1008 and "not supported for bidiGenerateContent" in reason
    with _music(gemini_mock, version="v1alpha") as ws:      # the docs' examples dial v1alpha as well as v1beta
        ws.send(json.dumps({"setup": {"model": MUSIC_MODEL}}))
        assert receive(ws) == {"setupComplete": {}}


def test_playing_streams_chunks_and_pause_stops_them(fast):
    with open_music(fast) as ws:
        ws.send(json.dumps({"playbackControl": "PLAY"}))       # nothing to play yet
        with pytest.raises(TimeoutError):
            ws.recv(timeout=0.3)
        ws.send(json.dumps(TECHNO))
        chunks = [music_pcm(receive(ws)) for _ in range(3)]
        assert all(len(chunk) == MUSIC_CHUNK_BYTES for chunk in chunks) and len(set(chunks)) == 3
        ws.send(json.dumps({"playbackControl": "PAUSE"}))
        late = []
        with pytest.raises(TimeoutError):
            while True:
                late.append(ws.recv(timeout=0.4))
        assert len(late) <= 2
        ws.send(json.dumps({"playbackControl": "STOP"}))
        ws.send(json.dumps({"playbackControl": "PLAY"}))
        assert music_pcm(receive(ws)) == chunks[0]             # STOP reset the context
    entry = last_session(fast)
    assert entry["status"] == 200 and entry["model"] == "lyria-realtime-exp" and entry["live"]["closeCode"] == 1000
    kinds = [(m["from"], m["type"]) for m in entry.events]
    assert kinds[:4] == [("client", "setup"), ("server", "setupComplete"), ("client", "playbackControl"),
                         ("client", "clientContent")]
    assert ("server", "serverContent.audioChunks") in kinds
    assert entry.events[2]["message"] == {"playbackControl": "PLAY"}


def test_the_pace_follows_the_speed(gemini_mock):
    gemini_mock.configure({"music": {"speed": 10.0}})          # a 2 s chunk every 0.2 s
    with open_music(gemini_mock) as ws:
        ws.send(json.dumps(TECHNO))
        ws.send(json.dumps({"playbackControl": "PLAY"}))
        receive(ws)
        started = time.monotonic()
        for _ in range(3):
            receive(ws)
        elapsed = time.monotonic() - started
    assert 0.5 < elapsed < 3.0
    with pytest.raises(Exception) as info:
        gemini_mock.configure({"music": {"speed": 0}})
    assert "music.speed" in str(info.value)


def test_faults_close_or_cut_the_stream(fast):
    fast.fail_next(503, path=MUSIC_METHOD)
    with _music(fast) as ws:
        ws.send(json.dumps({"setup": {"model": MUSIC_MODEL}}))
        code, reason = closed(ws)
    assert code == 1011 and "overloaded" in reason
    fast.fail_next(kind="streamCut", after_chunks=3, path=MUSIC_METHOD)
    with open_music(fast) as ws:
        ws.send(json.dumps(TECHNO))
        ws.send(json.dumps({"playbackControl": "PLAY"}))
        receive(ws)
        receive(ws)
        code, _ = closed(ws)
    assert code == 1011
    assert not fast.store.internal_errors
