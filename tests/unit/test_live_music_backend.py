"""Unit tests of the Live music backend (live/music.py), without a socket: the message reading, the config and
prompt checks, playback states and the deterministic PCM."""
from __future__ import annotations

import base64
import struct

import pytest

from gemini_mockserver.app import create_store
from gemini_mockserver.errors import ApiError
from gemini_mockserver.live import music
from gemini_mockserver.live.music import CHUNK_FRAMES, MusicSession, read_music_message, render

MODEL = "models/lyria-realtime-exp"
TECHNO = [{"text": "minimal techno", "weight": 1.0}]


@pytest.fixture
def store():
    store = create_store()
    yield store
    store.close()


def session(store) -> MusicSession:
    identity = store.keys.identify("unit-key")
    live = MusicSession(store, identity.project, "v1beta")
    assert live.handle("setup", {"model": MODEL}) == [{"setupComplete": {}}]
    return live


def pcm(message: dict) -> bytes:
    chunk, = message["serverContent"]["audioChunks"]
    assert chunk["mimeType"] == "audio/l16;rate=48000;channels=2"
    return base64.b64decode(chunk["data"])


def test_messages_are_read_in_both_spellings_and_one_kind_each():
    assert read_music_message({"playbackControl": "PLAY"}) == ("playbackControl", "PLAY")
    assert read_music_message({"music_generation_config": {"bpm": 90}}) == ("musicGenerationConfig", {"bpm": 90})
    assert read_music_message({"client_content": {}})[0] == "clientContent"
    for bad, words in (([1], "must be a JSON object"), ({}, "has none"),
                       ({"setup": {}, "playbackControl": "PLAY"}, "exactly one"),
                       ({"realtimeInput": {}}, 'Unknown name "realtimeInput"')):
        with pytest.raises(ApiError) as info:
            read_music_message(bad)
        assert info.value.code == 400 and words in info.value.message


def test_setup_first_once_and_only_the_music_model(store):
    identity = store.keys.identify("unit-key")
    live = MusicSession(store, identity.project, "v1beta")
    with pytest.raises(ApiError, match="must be setup; got playbackControl"):
        live.handle("playbackControl", "PLAY")
    with pytest.raises(ApiError) as info:
        live.handle("setup", {"model": "models/gemini-2.5-flash"})
    assert info.value.code == 404 and "bidiGenerateMusic" in info.value.message
    with pytest.raises(ApiError, match="setup.model is required"):
        live.handle("setup", {})
    with pytest.raises(ApiError, match='Unknown name "generationConfig"'):
        live.handle("setup", {"model": MODEL, "generationConfig": {}})
    assert live.handle("setup", {"model": "lyria-realtime-exp"}) == [{"setupComplete": {}}]
    with pytest.raises(ApiError, match="only once"):
        live.handle("setup", {"model": MODEL})


@pytest.mark.parametrize("config, field", [
    ({"bpm": 59}, "bpm"), ({"bpm": 201}, "bpm"), ({"bpm": 120.5}, "bpm"), ({"bpm": "120"}, "bpm"),
    ({"temperature": 3.1}, "temperature"), ({"topK": 0}, "topK"), ({"top_k": 1001}, "topK"),
    ({"guidance": -0.1}, "guidance"), ({"density": 1.5}, "density"), ({"brightness": True}, "brightness"),
    ({"seed": 2**31}, "seed"), ({"scale": "H_MAJOR"}, "scale"),
    ({"musicGenerationMode": "LOUD"}, "musicGenerationMode"),
    ({"muteBass": "yes"}, "muteBass"), ({"volume": 3}, "volume")])
def test_config_values_out_of_range_name_their_field(store, config, field):
    live = session(store)
    with pytest.raises(ApiError) as info:
        live.handle("musicGenerationConfig", config)
    assert info.value.code == 400 and f"musicGenerationConfig.{field}" in str(info.value.details)
    assert field in info.value.message


def test_config_is_replaced_and_normalised(store):
    live = session(store)
    live.handle("musicGenerationConfig", {"bpm": 90.0, "scale": "d_major_b_minor", "mute_drums": True, "top_k": 40})
    assert live.config == {"bpm": 90, "scale": "D_MAJOR_B_MINOR", "muteDrums": True, "topK": 40}
    live.handle("musicGenerationConfig", {})
    assert live.config == {}


@pytest.mark.parametrize("content, field", [
    ({}, "clientContent.weightedPrompts"), ({"weightedPrompts": []}, "clientContent.weightedPrompts"),
    ({"weightedPrompts": [{"weight": 1}]}, "clientContent.weightedPrompts[0].text"),
    ({"weightedPrompts": [{"text": "a"}, {"text": "b", "weight": 0}]}, "clientContent.weightedPrompts[1].weight"),
    ({"weightedPrompts": [{"text": "a", "prompt": "b"}]}, "clientContent.weightedPrompts[0].prompt"),
    ({"turns": []}, "clientContent.turns")])
def test_bad_prompts_name_their_field(store, content, field):
    live = session(store)
    with pytest.raises(ApiError) as info:
        live.handle("clientContent", content)
    assert info.value.code == 400 and field in str(info.value.details)


def test_playback_states(store):
    live = session(store)
    live.handle("playbackControl", "PLAY")
    assert live.state == "PLAYING" and not live.playing      # nothing to play before prompts are set
    live.handle("clientContent", {"weightedPrompts": TECHNO})
    assert live.playing
    first, second = pcm(live.next_chunk()), pcm(live.next_chunk())
    assert len(first) == CHUNK_FRAMES * 4 == 384_000 and first != second
    live.handle("playbackControl", "PAUSE")
    assert not live.playing and live.position == 2 * CHUNK_FRAMES
    with pytest.raises(ApiError):
        live.next_chunk()
    live.handle("playbackControl", "PLAY")
    third = pcm(live.next_chunk())
    live.handle("playbackControl", "RESET_CONTEXT")     # keeps playing, from the start of a new context
    assert live.playing and pcm(live.next_chunk()) == first
    live.handle("playbackControl", "STOP")
    assert live.state == "STOPPED" and live.position == 0 and live.prompts
    live.handle("playbackControl", "play")
    assert pcm(live.next_chunk()) == first and third not in (first, second)
    with pytest.raises(ApiError) as info:
        live.handle("playbackControl", "PLAYBACK_CONTROL_UNSPECIFIED")
    assert "playbackControl" in info.value.message


def test_chunks_carry_their_source(store):
    live = session(store)
    live.handle("clientContent", {"weightedPrompts": [{"text": "piano", "weight": 2}]})
    live.handle("musicGenerationConfig", {"bpm": 100})
    live.handle("playbackControl", "PLAY")
    source = live.next_chunk()["serverContent"]["audioChunks"][0]["sourceMetadata"]
    assert source == {"clientContent": {"weightedPrompts": [{"text": "piano", "weight": 2.0}]},
                      "musicGenerationConfig": {"bpm": 100}}


def test_render_is_deterministic_and_follows_prompts_config_and_seed():
    base = render(TECHNO, {}, 0, 0, CHUNK_FRAMES)
    assert base == render(TECHNO, {}, 0, 0, CHUNK_FRAMES)
    assert base == render([{"text": "minimal techno", "weight": 3.0}], {}, 0, 0, CHUNK_FRAMES)   # normalised
    others = [render([{"text": "jazz", "weight": 1.0}], {}, 0, 0, CHUNK_FRAMES),
              render(TECHNO, {"bpm": 90}, 0, 0, CHUNK_FRAMES), render(TECHNO, {"density": 0.9}, 0, 0, CHUNK_FRAMES),
              render(TECHNO, {"muteDrums": True}, 0, 0, CHUNK_FRAMES), render(TECHNO, {}, 1, 0, CHUNK_FRAMES),
              render(TECHNO, {"seed": 7}, 0, 0, CHUNK_FRAMES)]
    assert all(other != base for other in others)
    # a context is one stream: two halves are the whole
    assert render(TECHNO, {}, 0, 0, 1000) + render(TECHNO, {}, 0, 1000, CHUNK_FRAMES - 1000) == base


def test_render_is_real_audio_on_the_beat():
    data = render(TECHNO, {"bpm": 120, "muteDrums": True, "density": 0.0}, 0, 0, CHUNK_FRAMES)
    samples = struct.unpack(f"<{len(data) // 2}h", data)
    left = samples[0::2]
    beat = music.RATE // 2                       # 120 bpm: a beat every half second
    assert max(abs(v) for v in left[:beat // 10]) > 1000         # a note at the beat
    assert max(abs(v) for v in left[beat - 100:beat]) == 0       # silence at its end (density 0)
    crossings = sum(1 for a, b in zip(left[:2000], left[1:2001]) if (a < 0) != (b < 0))
    assert crossings > 2                          # a tone, not a constant
    drums = render(TECHNO, {"bpm": 120, "onlyBassAndDrums": True, "muteBass": True}, 0, 0, CHUNK_FRAMES)
    quiet = struct.unpack(f"<{len(drums) // 2}h", drums)
    assert max(abs(v) for v in quiet[:music.DRUM_FRAMES * 2]) > 0 and not any(quiet[music.DRUM_FRAMES * 2:beat * 2])


def test_an_error_rule_filters_the_prompts_it_matches(store):
    live = session(store)
    store.rules.add({"match": {"method": "bidiGenerateMusic", "prompt": "(?i)famous singer"},
                     "respond": {"error": {"code": 400, "message": "Prompt names an artist."}}})
    store.rules.add({"match": {"method": "generateContent"}, "respond": {"error": {"code": 500}}})   # not music
    live.handle("clientContent", {"weightedPrompts": TECHNO})
    out = live.handle("clientContent", {"weightedPrompts": [{"text": "Famous Singer style", "weight": 1},
                                                             {"text": "lofi", "weight": 0.5}]})
    assert out == [{"filteredPrompt": {"text": "Famous Singer style", "filteredReason": "Prompt names an artist."}}]
    assert live.prompts == [{"text": "lofi", "weight": 0.5}]
    out = live.handle("clientContent", {"weightedPrompts": [{"text": "famous singer", "weight": 1}]})
    assert [m["filteredPrompt"]["text"] for m in out] == ["famous singer"]
    assert live.prompts == [{"text": "lofi", "weight": 0.5}]      # nothing left: the previous prompts stay
