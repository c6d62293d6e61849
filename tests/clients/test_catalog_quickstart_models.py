"""The models the cookbook quickstarts and the models page call today, each through its documented method.

google-genai 3.6.1 where the SDK offers the call on the Gemini API (raw HTTP for Veo's predictLongRunning,
as in test_media_output.py): the Gemini 3.8 TTS models (a WAV file from generateContent, raw PCM from the
stream, as google-gemini/cookbook quickstarts/Get_started_TTS.ipynb reads them), Veo 3.1 Lite, the retired
Gemini 2.0 Flash-Lite pair, and the built-in tools the model pages list for the 2.0 and 2.5 models.
"""
from __future__ import annotations

import base64
import io
import json
import math
import wave
from datetime import datetime, timezone

import pytest
from google.genai import errors, types

from gemini_mockserver.resources.models import load_catalog

from support import assert_envelope

BY_NAME = {m["name"]: m for m in load_catalog(None)}
TTS_38 = ["gemini-3.8-flash-tts", "gemini-3.8-flash-lite-tts"]
LITE_20 = ["gemini-2.0-flash-lite", "gemini-2.0-flash-lite-001"]
VEO_LITE = "veo-3.1-lite-generate-preview"
KORE = {"voice_config": {"prebuilt_voice_config": {"voice_name": "Kore"}}}
PRICES = json.loads((__import__("gemini_mockserver").paths.FIXTURES / "pricing.json").read_text())["models"]


def at(gemini_mock, day: str) -> None:
    gemini_mock.set_time(datetime.fromisoformat(day).replace(tzinfo=timezone.utc))


def seconds_of(words: int) -> float:
    return 0.25 + words * 0.35   # the emulator's speech pace (generation/speech.py)


# -- Gemini 3.8 TTS ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("model", TTS_38)
def test_tts_38_unary_answers_a_wav_file(client, model):
    # The quickstart's first call, as written.
    response = client.models.generate_content(
        model=model, contents="Hello, my name is Gemini!",
        config={"response_modalities": ["AUDIO"], "speech_config": KORE})
    audio_part = response.candidates[0].content.parts[0].inline_data
    assert audio_part.mime_type == "audio/wav"
    data = audio_part.data
    assert data[:4] == b"RIFF" and data[8:12] == b"WAVE"   # the quickstart writes it out as it is
    with wave.open(io.BytesIO(data)) as wav:
        assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (1, 2, 24000)
        frames = wav.readframes(wav.getnframes())
        assert wav.getnframes() / 24000 == pytest.approx(seconds_of(5)) and any(frames)
    usage = response.usage_metadata
    assert [(d.modality.value, d.token_count) for d in usage.candidates_tokens_details] == [
        ("AUDIO", math.ceil(seconds_of(5) * 32))]


@pytest.mark.parametrize("model", TTS_38)
def test_tts_38_stream_answers_raw_pcm(client, model):
    chunks = list(client.models.generate_content_stream(
        model=model, contents="stream this please", config={"response_modalities": ["AUDIO"], "speech_config": KORE}))
    parts = [p.inline_data for c in chunks for p in (c.candidates[0].content.parts or ()) if p.inline_data]
    assert parts and {p.mime_type for p in parts} == {"audio/L16;codec=pcm;rate=24000"}
    pcm = b"".join(p.data for p in parts)
    assert pcm[:4] != b"RIFF" and len(pcm) / 2 / 24000 == pytest.approx(seconds_of(3))
    unary = client.models.generate_content(
        model=model, contents="stream this please", config={"response_modalities": ["AUDIO"], "speech_config": KORE})
    with wave.open(io.BytesIO(unary.candidates[0].content.parts[0].inline_data.data)) as wav:
        assert wav.readframes(wav.getnframes()) == pcm   # the same speech, in its container or not


def test_tts_38_takes_speech_metadata_and_multi_speaker(client):
    config = types.GenerateContentConfig(
        response_modalities=["AUDIO"],
        speech_config=types.SpeechConfig(multi_speaker_voice_config=types.MultiSpeakerVoiceConfig(
            speaker_voice_configs=[
                types.SpeakerVoiceConfig(speaker="Joe", voice_config=types.VoiceConfig(
                    prebuilt_voice_config=types.PrebuiltVoiceConfig(voice_name="Kore"))),
                types.SpeakerVoiceConfig(speaker="Jane", voice_config=types.VoiceConfig(
                    prebuilt_voice_config=types.PrebuiltVoiceConfig(voice_name="Puck")))])))
    contents = [types.Content(role="user", parts=[
        types.Part(text="How's it going today Jane?", speech_metadata=types.SpeechMetadata(speaker="Joe")),
        types.Part(text="Not too bad, how about you?",
                   speech_metadata=types.SpeechMetadata(speaker="Jane", style="cheerful"))])]
    response = client.models.generate_content(model="gemini-3.8-flash-tts", contents=contents, config=config)
    blob = response.candidates[0].content.parts[0].inline_data
    assert blob.mime_type == "audio/wav"
    with wave.open(io.BytesIO(blob.data)) as wav:
        assert wav.getnframes() > 0


def test_tts_38_refuses_text_output_naming_the_field(http):
    body = {"contents": [{"parts": [{"text": "hi"}]}], "generationConfig": {"responseModalities": ["TEXT"]}}
    assert_envelope(http.post("/v1beta/models/gemini-3.8-flash-lite-tts:generateContent", json=body), 400,
                    "INVALID_ARGUMENT", field="generationConfig.responseModalities")


def test_tts_38_raw_rest_and_its_price(gemini_mock, http):
    body = {"contents": [{"parts": [{"text": "one two three"}]}],
            "generationConfig": {"responseModalities": ["AUDIO"]}}
    answer = http.post("/v1beta/models/gemini-3.8-flash-lite-tts:generateContent", json=body)
    assert answer.status_code == 200, answer.text
    inline = answer.json()["candidates"][0]["content"]["parts"][0]["inlineData"]
    assert inline["mimeType"] == "audio/wav" and base64.b64decode(inline["data"])[:4] == b"RIFF"
    usage = answer.json()["usageMetadata"]
    ledger = http.get("/_mock/usage", params={"project": gemini_mock.identity.project}).json()
    [row] = [r for r in ledger["models"] if r["model"] == "models/gemini-3.8-flash-lite-tts"]
    price = PRICES["gemini-3.8-flash-lite-tts"]
    assert row["paidTierCostUsd"] == pytest.approx(
        (usage["promptTokenCount"] * price["input"] + usage["candidatesTokenCount"] * price["output"]) / 1e6)


@pytest.mark.parametrize("model", TTS_38)
def test_tts_38_is_listed_as_current(beta_client, model):
    listed = beta_client.models.get(model=model)
    assert (listed.input_token_limit, listed.output_token_limit) == (8192, 16384)
    assert "generateContent" in listed.supported_actions
    assert BY_NAME[f"models/{model}"]["emulator"]["lifecycle"] == {"stage": "stable", "released": "2026-09-22"}


# -- Veo 3.1 Lite -----------------------------------------------------------------------------------------

def test_veo_lite_generates_a_1080p_video(gemini_mock, http, beta_client):
    body = {"instances": [{"prompt": "A drone shot of a coastal cliff at golden hour"}],
            "parameters": {"aspectRatio": "16:9", "resolution": "1080p", "durationSeconds": 8}}
    started = http.post(f"/v1beta/models/{VEO_LITE}:predictLongRunning", json=body)
    assert started.status_code == 200, started.text
    operation = beta_client.operations.get(types.GenerateVideosOperation(name=started.json()["name"]))
    assert not operation.done
    gemini_mock.advance(60)
    operation = beta_client.operations.get(operation)
    (generated,) = operation.result.generated_videos
    data = beta_client.files.download(file=generated.video)
    assert data[4:8] == b"ftyp" and generated.video.video_bytes == data
    assert "predictLongRunning" in beta_client.models.get(model=VEO_LITE).supported_actions


@pytest.mark.parametrize("parameters, field", [
    ({"resolution": "4k", "durationSeconds": 8}, "parameters.resolution"),   # Lite stops at 1080p
    ({"resolution": "1080p", "durationSeconds": 4}, "parameters.durationSeconds"),
    ({"aspectRatio": "1:1"}, "parameters.aspectRatio"),
])
def test_veo_lite_refuses_what_it_does_not_make(http, parameters, field):
    body = {"instances": [{"prompt": "x"}], "parameters": parameters}
    assert_envelope(http.post(f"/v1beta/models/{VEO_LITE}:predictLongRunning", json=body), 400,
                    "INVALID_ARGUMENT", field=field)


# -- Gemini 2.0 Flash-Lite: shut down on 2026-06-01 ------------------------------------------------------------

@pytest.mark.parametrize("model", LITE_20)
def test_flash_lite_20_answers_before_its_shutdown(gemini_mock, beta_client, model):
    at(gemini_mock, "2026-05-01T00:00:00")
    response = beta_client.models.generate_content(model=model, contents="Tell me about bees.")
    assert response.text
    assert response.model_status.model_stage.value == "LEGACY"
    assert "2026-06-01" in response.model_status.message


@pytest.mark.parametrize("model", LITE_20)
def test_flash_lite_20_is_retired_after_it(gemini_mock, beta_client, model):
    at(gemini_mock, "2026-12-05T12:00:00")
    served = beta_client.models.generate_content(model=model, contents="Tell me about bees.")
    assert served.model_status.model_stage.value == "RETIRED"
    assert served.model_status.retirement_time.isoformat().startswith("2026-06-01")
    assert "models/gemini-3.1-flash-lite" in served.model_status.message
    gemini_mock.configure({"models": {"retired": "refuse"}})
    with pytest.raises(errors.ClientError) as caught:
        beta_client.models.generate_content(model=model, contents="Tell me about bees.")
    assert caught.value.code == 404 and f"models/{model} is not found" in caught.value.message


@pytest.mark.parametrize("tool, field", [
    ({"googleSearch": {}}, "tools[0].googleSearch"), ({"urlContext": {}}, "tools[0].urlContext"),
    ({"codeExecution": {}}, "tools[0].codeExecution"), ({"googleMaps": {}}, "tools[0].googleMaps"),
])
def test_flash_lite_20_has_no_built_in_tools(gemini_mock, http, tool, field):
    at(gemini_mock, "2026-05-01T00:00:00")
    body = {"contents": [{"role": "user", "parts": [{"text": "hi"}]}], "tools": [tool]}
    assert_envelope(http.post("/v1beta/models/gemini-2.0-flash-lite:generateContent", json=body), 400,
                    "INVALID_ARGUMENT", field=field)


def test_flash_lite_20_calls_functions(gemini_mock, beta_client):
    at(gemini_mock, "2026-05-01T00:00:00")
    weather = types.FunctionDeclaration(name="get_weather", description="The weather in a city",
                                        parameters={"type": "OBJECT", "properties": {"city": {"type": "STRING"}}})
    response = beta_client.models.generate_content(
        model="gemini-2.0-flash-lite", contents="What is the weather in Paris?",
        config=types.GenerateContentConfig(tools=[types.Tool(function_declarations=[weather])],
                                           tool_config=types.ToolConfig(function_calling_config=types.FunctionCallingConfig(
                                               mode="ANY"))))
    assert response.function_calls[0].name == "get_weather"


# -- built-in tools of the 2.0 and 2.5 models -------------------------------------------------------------

@pytest.mark.parametrize("model", ["gemini-2.5-pro", "gemini-2.5-flash", "gemini-2.5-flash-lite"])
def test_the_25_models_ground_with_google_maps(gemini_mock, beta_client, model):
    at(gemini_mock, "2026-11-01T00:00:00")
    response = beta_client.models.generate_content(
        model=model, contents="Coffee near me", config=types.GenerateContentConfig(
            tools=[types.Tool(google_maps=types.GoogleMaps())]))
    chunks = response.candidates[0].grounding_metadata.grounding_chunks
    assert chunks and all(c.maps.uri.startswith("https://maps.google.com/") for c in chunks)


@pytest.mark.parametrize("model", ["gemini-2.5-pro", "gemini-2.5-flash", "gemini-2.5-flash-lite"])
def test_the_25_models_take_file_search(gemini_mock, beta_client, tmp_path, model):
    at(gemini_mock, "2026-11-01T00:00:00")
    (tmp_path / "moon.txt").write_text("The Moon orbits the Earth every 27.3 days.")
    store = beta_client.file_search_stores.create(config={"display_name": "moon"})
    operation = beta_client.file_search_stores.upload_to_file_search_store(
        file=str(tmp_path / "moon.txt"), file_search_store_name=store.name)
    while not operation.done:
        gemini_mock.advance(5)
        operation = beta_client.operations.get(operation)
    response = beta_client.models.generate_content(
        model=model, contents="How long is the Moon's orbit?", config=types.GenerateContentConfig(
            tools=[types.Tool(file_search=types.FileSearch(file_search_store_names=[store.name]))]))
    chunks = response.candidates[0].grounding_metadata.grounding_chunks
    assert chunks and "27.3 days" in chunks[0].retrieved_context.text


@pytest.mark.parametrize("model", ["gemini-2.0-flash", "gemini-2.0-flash-001"])
def test_the_20_flash_tools_as_its_model_page_lists_them(gemini_mock, http, model):
    at(gemini_mock, "2026-05-01T00:00:00")
    user = [{"role": "user", "parts": [{"text": "Coffee near me"}]}]
    for tool in ({"googleSearch": {}}, {"codeExecution": {}}, {"googleMaps": {}}):
        answer = http.post(f"/v1beta/models/{model}:generateContent", json={"contents": user, "tools": [tool]})
        assert answer.status_code == 200, (tool, answer.text)
    for tool in ("urlContext", "fileSearch"):
        body = {"contents": user, "tools": [{tool: {"fileSearchStoreNames": ["fileSearchStores/x"]}
                                             if tool == "fileSearch" else {}}]}
        assert_envelope(http.post(f"/v1beta/models/{model}:generateContent", json=body), 400, "INVALID_ARGUMENT",
                        field=f"tools[0].{tool}")
