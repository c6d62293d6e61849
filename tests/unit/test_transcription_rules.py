"""The transcription models' rules, without a server: speaker labels, word timing, prefixes of speech."""
from __future__ import annotations

import hashlib
import random

import pytest

from gemini_mockserver.generation import transcription


@pytest.mark.parametrize("seed", range(40))
def test_speakers_are_labelled_in_the_order_they_first_speak(seed):
    chosen = transcription.Options(smart=False, diarization=True, word_timestamps=True, vocabulary=())
    digest = hashlib.blake2b(str(seed).encode(), digest_size=32).digest()
    parts = transcription.candidate(chosen, digest, 0, 40.0, [])["content"]["parts"][1:]
    labels = [part["audioTranscription"]["speakerLabel"] for part in parts]
    first_seen = list(dict.fromkeys(labels))
    assert first_seen == [f"spk_{n}" for n in range(1, len(first_seen) + 1)] and len(first_seen) >= 2
    assert all(a != b for a, b in zip(labels, labels[1:]))


def test_longer_speech_starts_with_the_words_of_shorter_speech():
    chosen = transcription.Options(smart=False, diarization=False, word_timestamps=False, vocabulary=("BigQuery",))
    short = transcription.heard(random.Random(7), 2.0, chosen)
    longer = transcription.heard(random.Random(7), 6.0, chosen)
    assert longer[:len(short)] == short and len(longer) == 15 and "BigQuery" in longer


def test_a_verbatim_transcript_keeps_fillers_and_a_smart_one_has_none():
    verbatim = transcription.Options(smart=False, diarization=False, word_timestamps=False, vocabulary=())
    smart = transcription.Options(smart=True, diarization=False, word_timestamps=False, vocabulary=())
    for seed in range(20):
        said = transcription.heard(random.Random(seed), 10.0, verbatim)
        assert set(said) & set(transcription.FILLERS)
        assert not set(transcription.heard(random.Random(seed), 10.0, smart)) & {"um", "uh", "er"}
