"""Tests of podcast_notes, against the emulated Gemini API of the gemini-mockserver pytest plugin.

Nothing here is set up by hand: the `gemini_mock` fixture points `genai.Client()` at a live emulator
with a key of this test's own, and the `gemini` marker sets the emulator up per test.
"""
from __future__ import annotations

import asyncio
import io
import wave
from datetime import datetime, timedelta, timezone

import freezegun
import pytest
from google.genai import errors

from podcast_notes import app

TRANSCRIPT = " ".join(f"Segment {i}: the hosts discuss bees, pollination and the honey harvest."
                      for i in range(400))


def wav_file(tmp_path, seconds: float = 3.0):
    path = tmp_path / "episode-1.wav"
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(b"\x00\x00" * int(8000 * seconds))
    return path


def test_summary_is_deterministic(gemini_mock):
    first = app.summarise("An episode about bees.")
    assert first and first == app.summarise("An episode about bees.")
    assert first != app.summarise("An episode about whales.")
    assert [r["path"] for r in gemini_mock.requests][-1].endswith("models/gemini-2.5-flash:generateContent")


def test_summary_can_be_scripted(gemini_mock):
    gemini_mock.rules.reply("A show about bees.", prompt="bees")
    assert app.summarise("An episode about bees.") == "A show about bees."
    assert app.summarise("An episode about whales.") != "A show about bees."


def test_async_summary(gemini_mock):
    first = asyncio.run(app.summarise_async("An episode about bees."))
    again = asyncio.run(app.summarise_async("An episode about bees.", client=gemini_mock.client()))
    assert first and first == again


@pytest.mark.gemini(seed=1234)
def test_the_marker_changes_the_seed(gemini_mock):
    assert gemini_mock.store.config["seed"] == 1234
    assert app.summarise("An episode about bees.")


def test_show_notes_from_audio(gemini_mock, tmp_path):
    notes = app.show_notes(wav_file(tmp_path, seconds=3))
    assert notes.file_name.startswith("files/")
    assert notes.notes.title and len(notes.notes.highlights) >= 1
    assert notes.prompt_tokens >= 96          # 3 s of audio are 96 tokens, plus the instruction
    stored = gemini_mock.files.get_file(gemini_mock.identity, notes.file_name)
    assert stored["mimeType"] == "audio/wav" and stored["displayName"] == "episode-1.wav"


@pytest.mark.gemini(config={"files": {"processingSeconds": 30}})
def test_upload_waits_for_processing(gemini_mock, tmp_path):
    waited = []

    def sleep(seconds):
        waited.append(seconds)
        gemini_mock.advance(seconds)           # time passes for the emulator, not for the test

    audio = app.upload_episode(wav_file(tmp_path), sleep=sleep)
    assert audio.state.name == "ACTIVE" and sum(waited) >= 30


def test_show_notes_when_the_model_is_overloaded(gemini_mock, tmp_path):
    gemini_mock.fail_next(503, path=":generateContent")
    with pytest.raises(errors.ServerError) as raised:
        app.show_notes(wav_file(tmp_path))
    assert raised.value.code == 503
    assert app.show_notes(wav_file(tmp_path)).notes.title     # the fault was for one call only


def test_season_outline_runs_a_batch(gemini_mock):
    outlines = app.outline_season(["bees", "whales", "ants"], sleep=gemini_mock.advance)
    assert len(outlines) == 3 and all(outlines)


@pytest.mark.gemini(config={"batch": {"runningSeconds": 72 * 3600}})   # a backlog: it would take 3 days
def test_a_batch_that_cannot_finish_in_48_hours_expires(gemini_mock):
    with freezegun.freeze_time(datetime(2030, 1, 1, tzinfo=timezone.utc)) as frozen:
        name = app.start_season_outline(["bees"])
        frozen.tick(timedelta(seconds=3))
        assert gemini_mock.client().batches.get(name=name).state.name == "JOB_STATE_PENDING"
        frozen.tick(timedelta(hours=1))
        assert gemini_mock.client().batches.get(name=name).state.name == "JOB_STATE_RUNNING"
        frozen.tick(timedelta(hours=48))
        with pytest.raises(app.BatchFailed, match="EXPIRED"):
            app.collect_season_outline(name, sleep=lambda _: None)


def test_questions_are_answered_from_a_cache(gemini_mock):
    answers, cached_tokens = app.answer_questions(TRANSCRIPT, ["Who are the hosts?", "What about honey?"])
    assert len(answers) == 2 and all(answers)
    assert cached_tokens > 2 * 1024            # the transcript was read from the cache, twice
    assert gemini_mock.caches.list(gemini_mock.identity) == []   # and the cache was deleted


def test_a_cache_is_gone_after_its_ttl(gemini_mock):
    with freezegun.freeze_time(datetime(2030, 1, 1, tzinfo=timezone.utc)) as frozen:
        name = app.cache_transcript(TRANSCRIPT, ttl="600s")
        client = gemini_mock.client()
        assert client.caches.get(name=name).name == name
        frozen.tick(timedelta(minutes=11))
        with pytest.raises(errors.ClientError) as raised:
            client.caches.get(name=name)
        assert raised.value.code == 403


def test_each_test_has_its_own_project(gemini_mock):
    app.cache_transcript(TRANSCRIPT)
    other = gemini_mock.client(api_key=gemini_mock.other_key("neighbour"))
    assert list(other.caches.list()) == []
    assert len(list(gemini_mock.client().caches.list())) == 1
