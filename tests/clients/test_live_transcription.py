"""gemini-3.5-transcribe-live through google-genai's `client.aio.live.connect`, as the live transcription guide
uses it: audio in, `interim_input_transcription` while the speech goes on, `input_transcription` when it ends,
and no model turn (the model only listens)."""
from __future__ import annotations

import asyncio

import pytest
from google import genai
from google.genai import errors, types

MODEL = "gemini-3.5-transcribe-live"
CHUNK = b"\x10\x00" * 1600          # 100 ms of 16 kHz PCM, the guide's chunk size


async def _until_final(session) -> list[types.LiveServerMessage]:
    messages = []
    while True:
        message = await session._receive()
        messages.append(message)
        if message.server_content and message.server_content.input_transcription:
            return messages


def _interims(messages) -> list[str]:
    return [m.server_content.interim_input_transcription.text for m in messages
            if m.server_content and m.server_content.interim_input_transcription]


def test_interim_transcripts_grow_into_the_final_one(gemini_mock_tls):
    client = genai.Client()
    config = types.LiveConnectConfig(
        response_modalities=["TEXT"],
        input_audio_transcription=types.AudioTranscriptionConfig(language_codes=[], custom_vocabulary=["Kubernetes"]))

    async def run():
        async with client.aio.live.connect(model=MODEL, config=config) as session:
            for _ in range(40):                      # 4 seconds of speech
                await session.send_realtime_input(audio=types.Blob(data=CHUNK, mime_type="audio/pcm;rate=16000"))
            await session.send_realtime_input(audio_stream_end=True)
            first = await _until_final(session)
            for _ in range(10):                      # a second utterance in the same session
                await session.send_realtime_input(audio=types.Blob(data=CHUNK, mime_type="audio/pcm;rate=16000"))
            await session.send_realtime_input(audio_stream_end=True)
            second = await _until_final(session)
        return first, second

    first, second = asyncio.run(run())
    interims = _interims(first)
    final = first[-1].server_content.input_transcription.text
    assert len(interims) >= 5
    for shorter, longer in zip(interims, interims[1:]):          # each hypothesis extends the last one
        assert longer.startswith(shorter) and len(longer) > len(shorter)
    assert final.rstrip(".").lower() == interims[-1].lower()     # the final transcript is the whole utterance
    assert len(final.split()) == 10                             # 2.5 words a second of the 4 s
    assert "Kubernetes" in final
    assert not any(m.server_content and m.server_content.model_turn for m in first)   # it never answers
    assert len(second[-1].server_content.input_transcription.text.split()) == round(1.0 * 2.5)   # 1 s more


def test_push_to_talk_finalizes_at_activity_end_and_smart_mode_has_no_fillers(gemini_mock_tls):
    client = genai.Client()
    config = types.LiveConnectConfig(
        response_modalities=["TEXT"],
        realtime_input_config=types.RealtimeInputConfig(
            automatic_activity_detection=types.AutomaticActivityDetection(disabled=True)),
        input_audio_transcription=types.AudioTranscriptionConfig(mode="SMART"))

    async def run():
        async with client.aio.live.connect(model=MODEL, config=config) as session:
            await session.send_realtime_input(activity_start=types.ActivityStart())
            for _ in range(200):                     # 20 seconds
                await session.send_realtime_input(audio=types.Blob(data=CHUNK, mime_type="audio/pcm;rate=16000"))
            await session.send_realtime_input(activity_end=types.ActivityEnd())
            return await _until_final(session)

    final = asyncio.run(run())[-1].server_content.input_transcription.text
    assert len(final.split()) == 50
    assert not {"um", "uh"} & set(final.lower().replace(".", "").split())


@pytest.mark.parametrize("setting", [{"diarization": True}, {"word_timestamp": True}])
def test_what_the_live_model_does_not_offer_closes_the_session(gemini_mock_tls, setting):
    client = genai.Client()
    config = types.LiveConnectConfig(response_modalities=["TEXT"],
                                     input_audio_transcription=types.AudioTranscriptionConfig(**setting))

    async def run():
        async with client.aio.live.connect(model=MODEL, config=config) as session:
            await session._receive()

    with pytest.raises(errors.APIError) as raised:
        asyncio.run(run())
    assert raised.value.code == 1007 and "not supported in live transcription" in str(raised.value)


def test_text_input_is_refused(gemini_mock_tls):
    client = genai.Client()
    config = types.LiveConnectConfig(response_modalities=["TEXT"],
                                     input_audio_transcription=types.AudioTranscriptionConfig())

    async def run():
        async with client.aio.live.connect(model=MODEL, config=config) as session:
            await session.send_realtime_input(text="hello")
            await session._receive()

    with pytest.raises(errors.APIError) as raised:
        asyncio.run(run())
    assert raised.value.code == 1007 and "audio input only" in str(raised.value)
