"""Unit tests of the Live API's backends, without HTTP: the session state machine, resumption handles,
ephemeral tokens and the protocol helpers."""
from __future__ import annotations

import pytest

from gemini_mockserver.app import create_store
from gemini_mockserver.errors import ApiError
from gemini_mockserver.live import protocol
from gemini_mockserver.live.session import CONNECTION_SECONDS, LiveSession, SessionEnded

AUDIO_MODEL = "models/gemini-2.5-flash-native-audio-preview-12-2025"


@pytest.fixture
def store():
    store = create_store()
    yield store
    store.close()


def session(store, **options) -> LiveSession:
    identity = store.keys.identify("unit-key")
    return LiveSession(store, identity.project, "v1beta", identity=identity, **options)


def test_setup_once_and_first(store):
    live = session(store)
    with pytest.raises(ApiError) as info:
        live.handle("clientContent", {"turns": [], "turnComplete": True})
    assert info.value.code == 400 and "must be setup" in info.value.message
    assert live.handle("setup", {"model": AUDIO_MODEL}) == [{"setupComplete": {}}]
    with pytest.raises(ApiError, match="only once"):
        live.handle("setup", {"model": AUDIO_MODEL})


def test_close_codes_and_reasons():
    assert protocol.close_code(ApiError(400, "INVALID_ARGUMENT", "x")) == 1007
    assert protocol.close_code(ApiError(404, "NOT_FOUND", "x")) == 1008
    assert protocol.close_code(ApiError(429, "RESOURCE_EXHAUSTED", "x")) == 1011
    reason = protocol.close_reason("é" * 200)
    assert len(reason.encode()) <= 123 and reason.endswith("...")


def test_same_turn_same_answer(store):
    first = session(store)
    first.handle("setup", {"model": AUDIO_MODEL})
    out = first.handle("clientContent", {"turns": [{"role": "user", "parts": [{"text": "hi"}]}], "turnComplete": True})
    again = session(store)
    again.handle("setup", {"model": AUDIO_MODEL})
    assert again.handle("clientContent", {"turns": [{"role": "user", "parts": [{"text": "hi"}]}],
                                          "turnComplete": True}) == out
    assert out[-1]["serverContent"] == {"turnComplete": True}


def test_pcm_helpers():
    assert len(protocol.speech_pcm(1.5)) == 1.5 * 24000 * 2
    assert protocol.pcm_rate("audio/pcm;rate=24000", "f") == 24000
    assert protocol.pcm_rate("audio/pcm", "f") == 16000
    with pytest.raises(ApiError, match="audio/pcm"):
        protocol.pcm_rate("audio/mp3", "realtimeInput.audio.mimeType")


def test_time_limit_by_the_clock(store):
    live = session(store)
    live.handle("setup", {"model": AUDIO_MODEL})
    store.clock.advance(CONNECTION_SECONDS - 30)
    out = live.handle("clientContent", {"turns": [{"role": "user", "parts": [{"text": "hi"}]}]})
    assert out and "goAway" in out[0]
    store.clock.advance(60)
    with pytest.raises(SessionEnded):
        live.handle("clientContent", {"turns": [{"role": "user", "parts": [{"text": "hi"}]}]})


def test_resumption_handles_are_per_project_and_expire(store):
    handle = store.live_resumptions.save("p1", AUDIO_MODEL, [{"role": "user", "parts": [{"text": "x"}]}])
    assert store.live_resumptions.load("p1", AUDIO_MODEL, handle)[0]["parts"][0]["text"] == "x"
    with pytest.raises(ApiError):
        store.live_resumptions.load("p2", AUDIO_MODEL, handle)
    store.clock.advance(2 * 3600 + 1)
    with pytest.raises(ApiError):
        store.live_resumptions.load("p1", AUDIO_MODEL, handle)


def test_tokens_backend(store):
    identity = store.keys.identify("unit-key")
    name = store.auth_tokens.create(identity, {"uses": 1}, "v1alpha")["name"]
    assert store.auth_tokens.start_session(name, resuming=False).identity == identity
    assert store.auth_tokens.start_session(name, resuming=True)      # resuming spends no use
    with pytest.raises(ApiError) as info:
        store.auth_tokens.start_session(name, resuming=False)
    assert info.value.code == 401
    with pytest.raises(ApiError, match="fieldMask"):
        store.auth_tokens.create(identity, {"fieldMask": 3}, "v1alpha")
    with pytest.raises(ApiError, match="bogus"):
        store.auth_tokens.create(identity, {"bogus": 1}, "v1alpha")
