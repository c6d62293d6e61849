"""google-genai's `client.aio.live.music.connect` (Lyria RealTime), unmodified, against the emulator served
over TLS (`gemini_mock_tls`: the SDK dials wss://). The music is sent faster than real time (`music.speed`)
so the tests stay quick."""
from __future__ import annotations

import asyncio

import pytest
from google import genai
from google.genai import errors, types
from websockets.exceptions import ConnectionClosed

from support.live import MUSIC_CHUNK_BYTES, MUSIC_MIME, MUSIC_MODEL, last_session

# the SDK marks live music experimental, once per process
pytestmark = pytest.mark.filterwarnings("ignore:Realtime music generation is experimental")

TECHNO = [types.WeightedPrompt(text="minimal techno", weight=1.0)]
JAZZ = [types.WeightedPrompt(text="jazz piano", weight=2.0), types.WeightedPrompt(text="rain", weight=0.5)]


@pytest.fixture
def music_mock(gemini_mock_tls):
    gemini_mock_tls.configure({"music": {"speed": 40.0}})     # a 2-second chunk every 50 ms
    return gemini_mock_tls


async def _next(session, timeout: float = 10) -> types.LiveMusicServerMessage:
    return await asyncio.wait_for(anext(session.receive()), timeout)


async def _chunks(session, count: int) -> list[types.AudioChunk]:
    out: list[types.AudioChunk] = []
    while len(out) < count:
        message = await _next(session)
        out.extend(message.server_content.audio_chunks)
    return out


async def _quiet(session, seconds: float = 0.5) -> list[types.LiveMusicServerMessage]:
    """The messages still in flight, until none comes for `seconds`."""
    late = []
    while True:
        try:
            late.append(await _next(session, seconds))
        except asyncio.TimeoutError:
            return late


def test_python_sdk_plays_pauses_and_stops(music_mock):
    client = genai.Client()      # built from the environment, as the code under test would build it

    async def run():
        async with client.aio.live.music.connect(model=MUSIC_MODEL) as session:
            await session.set_weighted_prompts(prompts=TECHNO)
            await session.set_music_generation_config(config=types.LiveMusicGenerationConfig(bpm=100, density=0.5))
            await session.play()
            first = await _chunks(session, 3)
            await session.pause()
            late = await _quiet(session)
            await session.play()
            resumed = await _chunks(session, 1)
            await session.stop()
            await _quiet(session)
            await session.play()
            restarted = await _chunks(session, 1)
        return first, late, resumed, restarted

    first, late, resumed, restarted = asyncio.run(run())
    for chunk in first:
        assert len(chunk.data) == MUSIC_CHUNK_BYTES      # 2 s of 16-bit stereo PCM at 48 kHz
        assert chunk.mime_type == MUSIC_MIME
        assert chunk.source_metadata.client_content.weighted_prompts[0].text == "minimal techno"
        assert chunk.source_metadata.music_generation_config.bpm == 100
    assert len({chunk.data for chunk in first}) == 3      # the music moves on
    assert len(late) <= 2                                  # PAUSE stops the stream (what was in flight aside)
    assert resumed[0].data not in (first[0].data, restarted[0].data)   # PLAY resumes where it was
    assert restarted[0].data == first[0].data                          # STOP reset the context
    entry = last_session(music_mock)
    assert entry["model"] == "lyria-realtime-exp" and entry["live"]["closeCode"] == 1000
    assert not music_mock.store.internal_errors


def test_python_sdk_music_is_deterministic_and_follows_changes(music_mock):
    client = genai.Client()

    async def first_chunks(prompts, config, count=2):
        async with client.aio.live.music.connect(model=MUSIC_MODEL) as session:
            await session.set_weighted_prompts(prompts=prompts)
            await session.set_music_generation_config(config=config)
            await session.play()
            return [chunk.data for chunk in await _chunks(session, count)]

    async def steered():
        async with client.aio.live.music.connect(model=MUSIC_MODEL) as session:
            await session.set_weighted_prompts(prompts=TECHNO)
            await session.play()
            await _chunks(session, 1)
            await session.set_music_generation_config(config=types.LiveMusicGenerationConfig(bpm=150))
            await session.set_weighted_prompts(prompts=JAZZ)
            after = []
            while not after or after[-1].source_metadata.client_content.weighted_prompts[0].text != "jazz piano":
                after += await _chunks(session, 1)
            assert after[-1].source_metadata.music_generation_config.bpm == 150
            await session.reset_context()      # keeps playing, from a new context
            return [chunk.data for chunk in after + await _chunks(session, 6)]

    async def run():
        return (await first_chunks(TECHNO, types.LiveMusicGenerationConfig()),
                await first_chunks(TECHNO, types.LiveMusicGenerationConfig()),
                await first_chunks(JAZZ, types.LiveMusicGenerationConfig(bpm=150)),
                await first_chunks(TECHNO, types.LiveMusicGenerationConfig(scale=types.Scale.G_MAJOR_E_MINOR)),
                await steered())

    techno, again, jazz, g_major, played = asyncio.run(run())
    assert techno == again                                # same prompts and config: the same bytes
    assert jazz[0] != techno[0] and g_major[0] != techno[0]
    assert jazz[0] not in played[:-6]                     # the steered chunks are in the old context ...
    start = played.index(jazz[0])                         # ... and after RESET_CONTEXT the new one starts
    assert played[start + 1] == jazz[1]


def test_python_sdk_music_errors(music_mock):
    client = genai.Client()

    async def bad_config():
        async with client.aio.live.music.connect(model=MUSIC_MODEL) as session:
            await session.set_music_generation_config(config=types.LiveMusicGenerationConfig(bpm=300))
            await _next(session)

    with pytest.raises(errors.APIError) as info:
        asyncio.run(bad_config())
    assert info.value.code == 1007 and "musicGenerationConfig.bpm must be an integer from 60 to 200" in str(info.value)

    async def bad_weight():
        async with client.aio.live.music.connect(model=MUSIC_MODEL) as session:
            await session.set_weighted_prompts(prompts=[types.WeightedPrompt(text="drums", weight=0)])
            await _next(session)

    with pytest.raises(errors.APIError) as info:
        asyncio.run(bad_weight())
    assert info.value.code == 1007 and "weightedPrompts[0].weight" in str(info.value)

    music_mock.rules.error(400, "The prompt names an artist.", prompt="(?i)famous", method="bidiGenerateMusic")

    async def filtered():
        async with client.aio.live.music.connect(model=MUSIC_MODEL) as session:
            await session.set_weighted_prompts(prompts=[types.WeightedPrompt(text="Famous band", weight=1.0)])
            return await _next(session)

    message = asyncio.run(filtered())
    assert message.filtered_prompt.text == "Famous band"
    assert message.filtered_prompt.filtered_reason == "The prompt names an artist."

    async def unknown_model():
        async with client.aio.live.music.connect(model="models/gemini-2.5-flash"):
            pass

    with pytest.raises(ConnectionClosed) as closed:      # the SDK reads setupComplete itself, as a raw frame
        asyncio.run(unknown_model())
    assert closed.value.rcvd.code == 1008 and "bidiGenerateMusic" in closed.value.rcvd.reason
    assert not music_mock.store.internal_errors
