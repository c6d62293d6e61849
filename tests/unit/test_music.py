"""The Lyria song rules (generation/music.py) and the MP3 writer (generation/song_audio.py), without HTTP."""
from __future__ import annotations

import io
import random

import mutagen.mp3
import pytest

from gemini_mockserver.errors import ApiError
from gemini_mockserver.generation import music, song_audio

CLIP = {"name": "models/lyria-3-clip-preview", "emulator": {"song": {"seconds": 30}}}
SONG = {"name": "models/lyria-3.5", "emulator": {"song": {"defaultSeconds": 120, "maxSeconds": 180}}}


@pytest.mark.parametrize("prompt, seconds", [
    ("a 2-minute song", 120.0),
    ("a two minute ballad", 120.0),
    ("a couple of minutes of calm piano", 120.0),
    ("a 1.5-minute jingle", 90.0),
    ("3 minutes and 15 seconds of surf rock", 195.0),
    ("90 seconds of jazz", 90.0),
    ("a 3-minute anthem with a 20-second intro", 180.0),   # the song's length, not the intro's
    ("[0:00 - 0:20] Intro [0:20 - 1:45] Verse", 105.0),
    ("the second verse repeats the first", None),
    ("an upbeat song about summer", None),
])
def test_stated_seconds(prompt, seconds):
    assert music.stated_seconds(prompt) == seconds


def test_duration_rules():
    assert music.duration(CLIP, "a 3-minute epic") == 30.0           # the clip is always 30 seconds
    assert music.duration(SONG, "an upbeat song") == 120.0           # default: a couple of minutes
    assert music.duration(SONG, "a 45 seconds jingle") == 45.0
    assert music.duration(SONG, "a 10-minute opus") == 180.0         # at most three minutes
    assert music.duration(SONG, "a 0-minute song") == 120.0          # nothing asked for: the default


def test_tempo_is_read_and_kept_playable():
    assert music.tempo("lo-fi at 85 BPM") == 85
    assert music.tempo("drum and bass, 320bpm") == song_audio.MAX_BPM
    assert music.tempo("slow and soft") is None


def test_lyrics_are_timed_lines_ending_within_the_song():
    text = music.lyrics(30.0, 100, False, ["harbor"], random.Random(1))
    lines = text.splitlines()
    assert lines[0].startswith("[0.0:] ") and lines[1].startswith("[4.8:] ")   # two bars of 4 beats at 100 BPM
    assert lines[-1].startswith("[24.0:28.8] ")
    assert all("harbor" in line for line in lines)


def test_instrumental_lyrics_name_the_sections():
    lines = music.lyrics(120.0, 120, True, [], random.Random(1)).splitlines()
    assert [line.split("] ")[1] for line in (lines[0], lines[-1])] == ["(Intro)", "(Outro)"]


def test_subject_words_leave_the_brief_out():
    assert music.subject_words("Create a 30-second cheerful acoustic folk song with guitar") == [
        "cheerful", "acoustic", "folk"]


@pytest.mark.parametrize("request_body, field", [
    ({"tools": [{"functionDeclarations": [{"name": "f"}]}]}, "tools"),
    ({"generationConfig": {"responseSchema": {"type": "STRING"}}}, "generationConfig.responseSchema"),
    ({"generationConfig": {"responseMimeType": "application/json"}}, "generationConfig.responseMimeType"),
])
def test_check_refuses_tools_and_structured_output(request_body, field):
    with pytest.raises(ApiError) as caught:
        music.check(SONG, request_body, frozenset({"AUDIO", "TEXT"}))
    assert caught.value.code == 400 and field in str(caught.value.details)


def test_check_needs_audio_and_takes_plain_text():
    music.check(SONG, {"generationConfig": {"responseMimeType": "text/plain"}}, frozenset({"AUDIO"}))
    with pytest.raises(ApiError):
        music.check(SONG, {}, frozenset({"TEXT"}))


# -- the MP3 writer ------------------------------------------------------------------------------------

def test_pcm_has_the_exact_length_and_follows_the_seed():
    samples = song_audio.pcm(2.5, b"seed-one", 120)
    assert len(samples) == round(2.5 * 44100) * 2 * 2    # 16-bit stereo
    assert samples == song_audio.pcm(2.5, b"seed-one", 120)
    assert samples != song_audio.pcm(2.5, b"seed-two", 120)
    assert samples != song_audio.pcm(2.5, b"seed-one", 90)
    left, right = samples[0::4], samples[2::4]           # low bytes of each channel differ: real stereo
    assert left != right and any(left)


@pytest.mark.parametrize("seconds", [1.0, 30.0, 95.5])
def test_mp3_reads_back_as_44100_hz_stereo_of_the_length(seconds):
    data = song_audio.song_mp3(seconds, b"a-song", 100)
    info = mutagen.mp3.MP3(io.BytesIO(data)).info
    assert (info.sample_rate, info.channels, info.bitrate) == (44100, 2, 128000)
    assert info.length == pytest.approx(seconds, abs=0.1)
    assert data == song_audio.song_mp3(seconds, b"a-song", 100)
