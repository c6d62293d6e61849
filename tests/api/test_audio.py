"""Audio durations, audio token counts and the audio limits of a prompt."""
from __future__ import annotations

import base64
import math
import struct

import pytest

from gemini_mockserver.errors import ApiError
from gemini_mockserver.generation import audio
from gemini_mockserver.generation.engine import MediaInfo, count_tokens, generate_content
from gemini_mockserver.generation.media import describe_media

from support import wav_bytes
from support.paths import AUDIO_FIXTURES

FIXTURES = AUDIO_FIXTURES

# file -> (declared MIME type, nominal duration in seconds); see fixtures/audio/README.md
SAMPLES = {
    "tone_3s.wav": ("audio/wav", 3.0),
    "tone_2_5s.mp3": ("audio/mp3", 2.5),
    "tone_2s.aiff": ("audio/aiff", 2.0),
    "tone_4s.aac": ("audio/aac", 4.0),
    "tone_3_5s.ogg": ("audio/ogg", 3.5),
    "tone_3s.flac": ("audio/flac", 3.0),
}

MODEL = {"name": "models/test-flash", "inputTokenLimit": 1_048_576, "outputTokenLimit": 8192, "maxTemperature": 2.0,
         "thinking": False, "emulator": {}}

def fields(error: ApiError) -> list[str]:
    return [v["field"] for d in error.details for v in d.get("fieldViolations", [])]


def audio_request(data: bytes, mime: str, text: str = "Describe this audio clip") -> dict:
    return {"contents": [{"role": "user", "parts": [
        {"text": text}, {"inlineData": {"mimeType": mime, "data": base64.b64encode(data).decode()}}]}]}


def test_fixtures_are_small_and_all_present():
    total = sum((FIXTURES / name).stat().st_size for name in SAMPLES)
    assert total < 300_000
    assert (FIXTURES / "README.md").exists()


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_fixture_durations_from_path_and_bytes(name):
    mime, seconds = SAMPLES[name]
    path = FIXTURES / name
    assert abs(audio.duration_seconds(path, mime) - seconds) <= 0.1
    assert abs(audio.duration_seconds(str(path), mime) - seconds) <= 0.1
    assert abs(audio.duration_seconds(path.read_bytes(), mime) - seconds) <= 0.1


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_fixture_tokens_are_32_per_second(name):
    mime, seconds = SAMPLES[name]
    info = describe_media(FIXTURES / name, mime)
    assert info.modality == "AUDIO"
    assert abs(info.tokens - 32 * seconds) <= 32 * 0.1 + 1
    assert info.tokens == math.ceil(round(info.audio_seconds * 32, 6))


def test_seed_mime_types_and_aliases_are_supported():
    for mime in ("audio/wav", "audio/mp3", "audio/aiff", "audio/aac", "audio/ogg", "audio/flac",
                 "audio/x-wav", "audio/wave", "audio/mpeg", "audio/x-aiff", "audio/x-flac", "audio/vorbis"):
        assert mime in audio.AUDIO_MIME_TYPES
    assert audio.duration_seconds((FIXTURES / "tone_2_5s.mp3").read_bytes(), "audio/mpeg") == pytest.approx(2.5, abs=0.1)
    assert audio.duration_seconds((FIXTURES / "tone_3s.wav").read_bytes(), "Audio/X-WAV; codecs=1") == 3.0


def test_mislabelled_audio_is_sniffed():
    # A WAV declared as MP3 still decodes, as it would for a real decoder.
    assert audio.duration_seconds((FIXTURES / "tone_3s.wav").read_bytes(), "audio/mp3") == 3.0
    assert audio.duration_seconds((FIXTURES / "tone_3s.flac").read_bytes(), "audio/ogg") == pytest.approx(3.0)


def test_sixty_second_wav_is_1920_tokens():
    data = wav_bytes(60)
    assert audio.duration_seconds(data, "audio/wav") == 60.0
    assert describe_media(data, "audio/wav").tokens == 1920
    counted = count_tokens(MODEL, {"contents": audio_request(data, "audio/wav", "")["contents"]}, resolve_file=None)
    assert counted["totalTokens"] == 1920
    assert counted["promptTokensDetails"] == [{"modality": "AUDIO", "tokenCount": 1920}]
    response = generate_content(MODEL, audio_request(data, "audio/wav"), seed=1, resolve_file=None)
    details = {d["modality"]: d["tokenCount"] for d in response["usageMetadata"]["promptTokensDetails"]}
    assert details["AUDIO"] == 1920


def test_sixty_second_wav_from_a_file(tmp_path):
    path = tmp_path / "minute.wav"
    path.write_bytes(wav_bytes(60, rate=16000))
    assert describe_media(path, "audio/wav") == MediaInfo("audio/wav", "AUDIO", 1920, 60.0)


@pytest.mark.parametrize("data", [b"this is not audio at all" * 20, b"", b"RIFF\x00\x00\x00\x00WAVEjunk",
                                  bytes(range(256)) * 8])
@pytest.mark.parametrize("mime", ["audio/mp3", "audio/wav", "audio/aac", "audio/ogg", "audio/flac", "audio/aiff"])
def test_undecodable_audio_is_a_400(data, mime):
    with pytest.raises(ApiError) as caught:
        audio.duration_seconds(data, mime, field="contents[0].parts[1].inlineData")
    assert caught.value.code == 400
    assert "Unable to process input audio" in caught.value.message
    assert fields(caught.value) == ["contents[0].parts[1].inlineData"]


def test_undecodable_audio_in_a_request_names_the_part():
    with pytest.raises(ApiError) as caught:
        generate_content(MODEL, audio_request(b"garbage" * 100, "audio/mp3"), seed=1, resolve_file=None)
    assert caught.value.code == 400
    assert fields(caught.value) == ["contents[0].parts[1].inlineData"]


def test_truncated_file_on_disk_is_a_400(tmp_path):
    path = tmp_path / "broken.flac"
    path.write_bytes((FIXTURES / "tone_3s.flac").read_bytes()[:20])
    with pytest.raises(ApiError) as caught:
        audio.duration_seconds(path, "audio/flac")
    assert caught.value.code == 400


@pytest.mark.parametrize("mime", ["audio/x-unknown", "audio/midi", "audio/webm-nope"])
def test_unsupported_audio_mime_is_a_400(mime):
    with pytest.raises(ApiError) as caught:
        audio.duration_seconds(wav_bytes(1), mime)
    assert caught.value.code == 400
    with pytest.raises(ApiError) as caught:
        generate_content(MODEL, audio_request(wav_bytes(1), mime), seed=1, resolve_file=None)
    assert caught.value.code == 400
    assert fields(caught.value) == ["contents[0].parts[1].inlineData.mimeType"]
    assert mime in caught.value.message


def long_audio_request(count: int) -> dict:
    parts = [{"text": "Summarise these recordings"}]
    parts += [{"fileData": {"mimeType": "audio/mp3", "fileUri": f"files/rec{i}"}} for i in range(count)]
    return {"contents": [{"role": "user", "parts": parts}]}


def hours(value: float):
    def resolve(uri: str) -> MediaInfo:
        seconds = value * 3600
        return MediaInfo("audio/mp3", "AUDIO", math.ceil(seconds * 32), seconds)
    return resolve


# 9.5 hours of audio is 1,094,400 tokens: more than a 1M-token model takes, so these use a 2M one.
LONG_CONTEXT = dict(MODEL, inputTokenLimit=2_097_152)


def test_audio_up_to_nine_and_a_half_hours_is_accepted():
    response = generate_content(LONG_CONTEXT, long_audio_request(2), seed=1, resolve_file=hours(4.75))
    details = {d["modality"]: d["tokenCount"] for d in response["usageMetadata"]["promptTokensDetails"]}
    assert details["AUDIO"] == 2 * 4.75 * 3600 * 32


def test_more_than_nine_and_a_half_hours_of_audio_is_a_400():
    for call in (lambda: generate_content(LONG_CONTEXT, long_audio_request(4), seed=1, resolve_file=hours(2.5)),
                 lambda: count_tokens(MODEL, {"contents": long_audio_request(4)["contents"]}, resolve_file=hours(2.5))):
        with pytest.raises(ApiError) as caught:
            call()
        assert caught.value.code == 400
        assert "9.5 hours" in caught.value.message
        assert fields(caught.value) == ["contents"]


def test_audio_beyond_the_context_window_is_a_400():
    with pytest.raises(ApiError) as caught:
        generate_content(MODEL, long_audio_request(2), seed=1, resolve_file=hours(4.75))
    assert "exceeds the maximum number of tokens allowed (1048576)" in caught.value.message


def test_adts_frames_are_counted_exactly():
    # Two hand-made ADTS headers (44.1 kHz, 1 raw block each), with 3 payload bytes per frame.
    def frame() -> bytes:
        length = 7 + 3
        header = bytes([0xFF, 0xF1, (1 << 6) | (4 << 2), (1 << 6) | (length >> 11),
                        (length >> 3) & 0xFF, ((length & 7) << 5) | 0x1F, 0xFC])
        return header + b"\x00\x00\x00"
    data = frame() * 430
    assert audio.duration_seconds(data, "audio/aac") == pytest.approx(430 * 1024 / 44100)


def test_wav_header_only_is_refused():
    header = wav_bytes(0)
    with pytest.raises(ApiError):
        audio.duration_seconds(header, "audio/wav")


def test_struct_made_aiff_round_trip(tmp_path):
    # An AIFF written by hand (COMM + SSND) of exactly 1.5 s at 8 kHz.
    frames = 12000
    comm = struct.pack(">hLh", 1, frames, 16) + b"\x40\x0B\xFA\x00\x00\x00\x00\x00\x00\x00"  # 8000.0 as 80-bit
    ssnd = struct.pack(">LL", 0, 0) + b"\x00\x00" * frames
    body = b"AIFF" + b"COMM" + struct.pack(">L", len(comm)) + comm + b"SSND" + struct.pack(">L", len(ssnd)) + ssnd
    data = b"FORM" + struct.pack(">L", len(body)) + body
    assert audio.duration_seconds(data, "audio/aiff") == pytest.approx(1.5)
