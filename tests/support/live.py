"""The Live API's WebSocket protocol spoken by hand, for the tests that drive a session raw: the URL, the
setup, a turn, the close frame, the journal entry of a session and what the engine would answer; and the
same for Live music (BidiGenerateMusic)."""
from __future__ import annotations

import base64
import json
import time
from contextlib import contextmanager

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from gemini_mockserver.generation import engine

AUDIO_MODEL = "models/gemini-2.5-flash-native-audio-preview-12-2025"
TEXT_MODEL = "models/live-text-test-model"      # added to the catalog by the `text_model` fixture
METHOD = "google.ai.generativelanguage.{version}.GenerativeService.{method}"
MUSIC_MODEL = "models/lyria-realtime-exp"
MUSIC_METHOD = "BidiGenerateMusic"
# Live music's audio: 16-bit PCM, 48 kHz, stereo, in 2-second chunks
MUSIC_MIME = "audio/l16;rate=48000;channels=2"
MUSIC_CHUNK_BYTES = 2 * 48_000 * 2 * 2


def ws_url(mock, *, key: str | None = "", version: str = "v1beta", method: str = "BidiGenerateContent",
           query: str | None = None) -> str:
    base = mock.base_url.replace("http://", "ws://", 1)
    url = f"{base}/ws/{METHOD.format(version=version, method=method)}"
    key = mock.api_key if key == "" else key
    params = [f"key={key}"] if key else []
    if query:
        params.append(query)
    return url + ("?" + "&".join(params) if params else "")


def receive(ws) -> dict:
    return json.loads(ws.recv(timeout=10))


def until_turn_complete(ws) -> list[dict]:
    messages = []
    while True:
        message = receive(ws)
        messages.append(message)
        if message.get("serverContent", {}).get("turnComplete"):
            return messages


def closed(ws) -> tuple[int, str]:
    with pytest.raises(ConnectionClosed) as info:
        while True:
            ws.recv(timeout=10)
    return info.value.rcvd.code, info.value.rcvd.reason


@contextmanager
def open_session(mock, setup: dict, **url):
    with connect(ws_url(mock, **url), open_timeout=10) as ws:
        ws.send(json.dumps({"setup": setup}))
        assert receive(ws) == {"setupComplete": {}}
        yield ws


@contextmanager
def open_music(mock, **url):
    """A Live music session set up on the music model."""
    with connect(ws_url(mock, method=MUSIC_METHOD, **url), open_timeout=10, max_size=2 ** 22) as ws:
        ws.send(json.dumps({"setup": {"model": MUSIC_MODEL}}))
        assert receive(ws) == {"setupComplete": {}}
        yield ws


def music_pcm(message: dict) -> bytes:
    """The PCM of a Live music audio message (one chunk)."""
    chunk, = message["serverContent"]["audioChunks"]
    assert chunk["mimeType"] == MUSIC_MIME
    return base64.b64decode(chunk["data"])


def say(ws, text: str, snake: bool = False) -> list[dict]:
    turns = [{"role": "user", "parts": [{"text": text}]}]
    message = ({"client_content": {"turns": turns, "turn_complete": True}} if snake
               else {"clientContent": {"turns": turns, "turnComplete": True}})
    ws.send(json.dumps(message))
    return until_turn_complete(ws)


def expected_text(mock, model_name: str, contents: list[dict], **request) -> str:
    """What generateContent's engine answers to the same conversation on the same model."""
    model = mock.store.models.find(model_name)
    model = {**model, "supportedGenerationMethods": [*model["supportedGenerationMethods"], "generateContent"],
             "emulator": {**model.get("emulator", {}), "responseModalities": ["TEXT"]}}   # the transcript
    answer = engine.generate_content(model, {**request, "contents": contents}, seed=mock.store.seed,
                                     resolve_file=None)
    return "".join(p.get("text", "") for p in answer["candidates"][0]["content"]["parts"] if not p.get("thought"))


def pcm_of(messages: list[dict]) -> bytes:
    data = b""
    for message in messages:
        for part in message.get("serverContent", {}).get("modelTurn", {}).get("parts", []):
            assert part["inlineData"]["mimeType"] == "audio/pcm;rate=24000"
            data += base64.b64decode(part["inlineData"]["data"])
    return data


def last_session(mock, count: int = 1) -> dict:
    """The journal entry of the test's latest session, waiting (briefly) for the server to write it: a
    session is journaled when it ends, which the server may see after the client has moved on."""
    deadline = time.monotonic() + 10
    while True:
        sessions = [entry for entry in mock.requests if entry["method"] == "WEBSOCKET"]
        if len(sessions) >= count or time.monotonic() > deadline:
            return sessions[-1]
        time.sleep(0.02)


def transcript(messages: list[dict], key: str = "outputTranscription") -> str:
    return "".join(m["serverContent"][key]["text"] for m in messages if key in m.get("serverContent", {}))


@pytest.fixture
def text_model(gemini_mock):
    """A Live model that answers TEXT too (the current catalog's Live models speak only): added for the
    test, removed after it."""
    catalog = gemini_mock.store.models._models
    catalog[TEXT_MODEL] = {
        "name": TEXT_MODEL, "baseModelId": "live-text-test-model", "version": "1", "displayName": "Live text",
        "inputTokenLimit": 131072, "outputTokenLimit": 8192, "supportedGenerationMethods": ["bidiGenerateContent"],
        "emulator": {"live": True, "liveModalities": ["TEXT", "AUDIO"]}}
    yield TEXT_MODEL
    catalog.pop(TEXT_MODEL, None)
