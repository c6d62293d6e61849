"""Media output: image models' PNGs and TTS models' PCM speech through generateContent, Imagen
`:predict`, and Veo `:predictLongRunning` with its operation and a playable MP4 file.

Driven through google-genai 3.6.1 where the SDK offers the call on the Gemini API, raw HTTP otherwise.
"""
from __future__ import annotations

import base64
import math
import struct
import zlib

import pytest
from google.genai import types

from gemini_mockserver.generation import images, speech, video

from support import assert_envelope

IMAGE_MODEL = "gemini-3-pro-image-preview"
FLASH_IMAGE = "gemini-2.5-flash-image"
TTS_MODEL = "gemini-2.5-flash-preview-tts"
IMAGEN = "imagen-4.0-generate-001"
VEO = "veo-3.1-generate-preview"


def png_size(data: bytes) -> tuple[int, int]:
    """The PNG's (width, height), after checking its signature, every chunk CRC and the pixel data's length."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    offset, idat, size = 8, b"", None
    while offset < len(data):
        length, kind = struct.unpack(">I4s", data[offset:offset + 8])
        body = data[offset + 8:offset + 8 + length]
        assert struct.unpack(">I", data[offset + 8 + length:offset + 12 + length])[0] == zlib.crc32(kind + body)
        if kind == b"IHDR":
            width, height, depth, colour = struct.unpack(">IIBB", body[:10])
            assert (depth, colour) == (8, 2)
            size = (width, height)
        elif kind == b"IDAT":
            idat += body
        offset += 12 + length
    assert kind == b"IEND" and size is not None
    assert len(zlib.decompress(idat)) == size[1] * (1 + 3 * size[0])   # a filter byte + RGB per row
    return size


def boxes(data: bytes, start: int = 0, end: int | None = None) -> dict[bytes, tuple[int, int]]:
    """{box type: (payload start, payload end)} of the ISO BMFF boxes between start and end."""
    found, offset, end = {}, start, len(data) if end is None else end
    while offset < end:
        size, kind = struct.unpack(">I4s", data[offset:offset + 8])
        assert size >= 8 and offset + size <= end, (kind, size)
        found[kind] = (offset + 8, offset + size)
        offset += size
    assert offset == end
    return found


def mp4_facts(data: bytes) -> dict:
    top = boxes(data)
    assert list(top)[:3] == [b"ftyp", b"moov", b"mdat"]
    moov = boxes(data, *top[b"moov"])
    timescale, duration = struct.unpack(">II", data[moov[b"mvhd"][0] + 12:moov[b"mvhd"][0] + 20])
    trak = boxes(data, *moov[b"trak"])
    tkhd_end = trak[b"tkhd"][1]
    width, height = (v >> 16 for v in struct.unpack(">II", data[tkhd_end - 8:tkhd_end]))
    stbl = boxes(data, *boxes(data, *boxes(data, *trak[b"mdia"])[b"minf"])[b"stbl"])
    stsd = data[stbl[b"stsd"][0]:stbl[b"stsd"][1]]
    frames = struct.unpack(">I", data[stbl[b"stsz"][0] + 8:stbl[b"stsz"][0] + 12])[0]
    offset = struct.unpack(">I", data[stbl[b"stco"][1] - 4:stbl[b"stco"][1]])[0]
    # the first sample is a length-prefixed IDR NAL unit at the chunk offset, inside mdat
    assert top[b"mdat"][0] == offset and data[offset + 4] & 0x1F == 5
    return {"seconds": duration / timescale, "width": width, "height": height, "codec": stsd[12:16],
            "avcC": b"avcC" in stsd, "frames": frames}


# -- image models through generateContent -------------------------------------------------------------

def test_image_model_returns_text_and_a_png_sized_by_image_config(client):
    response = client.models.generate_content(
        model=IMAGE_MODEL, contents="A lighthouse on a cliff at dusk",
        config=types.GenerateContentConfig(response_modalities=["TEXT", "IMAGE"],
                                           image_config=types.ImageConfig(aspect_ratio="16:9", image_size="2K")))
    parts = response.candidates[0].content.parts
    assert parts[0].text and parts[1].inline_data.mime_type == "image/png"
    assert png_size(parts[1].inline_data.data) == (2752, 1536)
    usage = response.usage_metadata
    by_modality = {d.modality.value: d.token_count for d in usage.candidates_tokens_details}
    assert by_modality["IMAGE"] == 1120 and by_modality["TEXT"] > 0
    assert usage.candidates_token_count == sum(by_modality.values())
    again = client.models.generate_content(
        model=IMAGE_MODEL, contents="A lighthouse on a cliff at dusk",
        config=types.GenerateContentConfig(response_modalities=["TEXT", "IMAGE"],
                                           image_config=types.ImageConfig(aspect_ratio="16:9", image_size="2K")))
    assert again.candidates[0].content.parts[1].inline_data.data == parts[1].inline_data.data


def test_image_only_answer_and_other_prompts_differ(client):
    config = types.GenerateContentConfig(response_modalities=["IMAGE"])
    one = client.models.generate_content(model=FLASH_IMAGE, contents="a red fox", config=config)
    two = client.models.generate_content(model=FLASH_IMAGE, contents="a blue whale", config=config)
    (part,) = one.candidates[0].content.parts
    assert png_size(part.inline_data.data) == (1024, 1024)
    assert part.inline_data.data != two.candidates[0].content.parts[0].inline_data.data
    assert [(d.modality.value, d.token_count) for d in one.usage_metadata.candidates_tokens_details] == [("IMAGE", 1290)]


def test_image_model_defaults_to_text_and_image_and_4k_scales(http):
    body = {"contents": [{"parts": [{"text": "a map of a small island"}]}],
            "generationConfig": {"imageConfig": {"aspectRatio": "9:16", "imageSize": "4K"}}}
    response = http.post(f"/v1beta/models/{IMAGE_MODEL}:generateContent", json=body)
    assert response.status_code == 200, response.text
    parts = response.json()["candidates"][0]["content"]["parts"]
    assert "text" in parts[0]
    assert png_size(base64.b64decode(parts[1]["inlineData"]["data"])) == (768 * 4, 1376 * 4)
    assert {"modality": "IMAGE", "tokenCount": 2000} in response.json()["usageMetadata"]["candidatesTokensDetails"]


@pytest.mark.parametrize("config, field", [
    ({"responseModalities": ["IMAGE"], "imageConfig": {"aspectRatio": "7:3"}},
     "generationConfig.imageConfig.aspectRatio"),
    ({"responseModalities": ["IMAGE"], "imageConfig": {"imageSize": "8K"}}, "generationConfig.imageConfig.imageSize"),
    ({"responseModalities": ["IMAGE"], "imageConfig": {"imageSize": "1k"}}, "generationConfig.imageConfig.imageSize"),
])
def test_impossible_image_config_is_a_400_naming_the_field(http, config, field):
    body = {"contents": [{"parts": [{"text": "x"}]}], "generationConfig": config}
    assert_envelope(http.post(f"/v1beta/models/{IMAGE_MODEL}:generateContent", json=body), 400,
                    "INVALID_ARGUMENT", field=field)


def test_flash_image_takes_no_2k(http):
    body = {"contents": [{"parts": [{"text": "x"}]}],
            "generationConfig": {"responseModalities": ["IMAGE"], "imageConfig": {"imageSize": "2K"}}}
    assert_envelope(http.post(f"/v1beta/models/{FLASH_IMAGE}:generateContent", json=body), 400, "INVALID_ARGUMENT",
                    field="generationConfig.imageConfig.imageSize")


def test_image_from_a_text_model_is_a_400(http):
    body = {"contents": [{"parts": [{"text": "draw a cat"}]}], "generationConfig": {"responseModalities": ["IMAGE"]}}
    assert_envelope(http.post("/v1beta/models/gemini-2.5-flash:generateContent", json=body), 400,
                    "INVALID_ARGUMENT", field="generationConfig.responseModalities")


# -- speech -------------------------------------------------------------------------------------------

def _speech(client, text: str, speech_config: types.SpeechConfig | None = None):
    return client.models.generate_content(
        model=TTS_MODEL, contents=text,
        config=types.GenerateContentConfig(response_modalities=["AUDIO"], speech_config=speech_config))


def _voice(name: str) -> types.VoiceConfig:
    return types.VoiceConfig(prebuilt_voice_config=types.PrebuiltVoiceConfig(voice_name=name))


def test_tts_returns_pcm_whose_length_follows_the_text(client):
    short = _speech(client, "Have a wonderful day!", types.SpeechConfig(voice_config=_voice("Kore")))
    long = _speech(client, "Have a wonderful day! " * 10, types.SpeechConfig(voice_config=_voice("Kore")))
    (part,) = short.candidates[0].content.parts
    assert part.inline_data.mime_type == "audio/L16;codec=pcm;rate=24000"
    pcm = part.inline_data.data
    assert len(pcm) % 2 == 0 and any(pcm)
    seconds = len(pcm) / 2 / 24000
    assert seconds == pytest.approx(0.25 + 4 * 0.35)   # four words
    long_seconds = len(long.candidates[0].content.parts[0].inline_data.data) / 2 / 24000
    assert long_seconds == pytest.approx(0.25 + 40 * 0.35)
    usage = short.usage_metadata
    assert [(d.modality.value, d.token_count) for d in usage.candidates_tokens_details] == [
        ("AUDIO", math.ceil(seconds * 32))]
    assert usage.candidates_token_count == math.ceil(seconds * 32)


def test_voice_changes_the_audio_and_the_same_request_repeats(client):
    kore = _speech(client, "Hello there", types.SpeechConfig(voice_config=_voice("Kore")))
    puck = _speech(client, "Hello there", types.SpeechConfig(voice_config=_voice("Puck")))
    again = _speech(client, "Hello there", types.SpeechConfig(voice_config=_voice("Kore")))
    data = [r.candidates[0].content.parts[0].inline_data.data for r in (kore, puck, again)]
    assert data[0] != data[1] and data[0] == data[2] and len(data[0]) == len(data[1])


def test_multi_speaker_dialogue(client):
    config = types.SpeechConfig(multi_speaker_voice_config=types.MultiSpeakerVoiceConfig(speaker_voice_configs=[
        types.SpeakerVoiceConfig(speaker="Joe", voice_config=_voice("Kore")),
        types.SpeakerVoiceConfig(speaker="Jane", voice_config=_voice("Puck"))]))
    response = _speech(client, "Joe: How's it going today Jane?\nJane: Not too bad, how about you?", config)
    pcm = response.candidates[0].content.parts[0].inline_data.data
    assert len(pcm) / 2 / 24000 == pytest.approx(0.25 + 12 * 0.35)   # the speaker labels are not spoken


def test_wav_wrapping_as_the_docs_do(client, tmp_path):
    import wave
    pcm = _speech(client, "one two three").candidates[0].content.parts[0].inline_data.data
    with wave.open(str(tmp_path / "out.wav"), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(24000)
        out.writeframes(pcm)
    with wave.open(str(tmp_path / "out.wav"), "rb") as back:
        assert back.getnframes() / back.getframerate() == pytest.approx(0.25 + 3 * 0.35)


@pytest.mark.parametrize("speech_config, field", [
    ({"voiceConfig": {"prebuiltVoiceConfig": {"voiceName": "Bob"}}},
     "generationConfig.speechConfig.voiceConfig.prebuiltVoiceConfig.voiceName"),
    ({"multiSpeakerVoiceConfig": {"speakerVoiceConfigs": [
        {"speaker": "A", "voiceConfig": {"prebuiltVoiceConfig": {"voiceName": "Kore"}}}]}},
     "generationConfig.speechConfig.multiSpeakerVoiceConfig.speakerVoiceConfigs"),
    ({"multiSpeakerVoiceConfig": {"speakerVoiceConfigs": [
        {"speaker": "A", "voiceConfig": {"prebuiltVoiceConfig": {"voiceName": "Kore"}}},
        {"speaker": "B", "voiceConfig": {"prebuiltVoiceConfig": {"voiceName": "Nobody"}}}]}},
     "speakerVoiceConfigs[1].voiceConfig.prebuiltVoiceConfig.voiceName"),
])
def test_bad_voices_are_400s_naming_the_field(http, speech_config, field):
    body = {"contents": [{"parts": [{"text": "hi"}]}],
            "generationConfig": {"responseModalities": ["AUDIO"], "speechConfig": speech_config}}
    assert_envelope(http.post(f"/v1beta/models/{TTS_MODEL}:generateContent", json=body), 400, "INVALID_ARGUMENT",
                    field=field)


def test_tts_model_refuses_text_output(http):
    body = {"contents": [{"parts": [{"text": "hi"}]}], "generationConfig": {"responseModalities": ["TEXT"]}}
    assert_envelope(http.post(f"/v1beta/models/{TTS_MODEL}:generateContent", json=body), 400, "INVALID_ARGUMENT",
                    field="generationConfig.responseModalities")


def test_speech_streams(client):
    chunks = list(client.models.generate_content_stream(
        model=TTS_MODEL, contents="stream this please",
        config=types.GenerateContentConfig(response_modalities=["AUDIO"])))
    data = b"".join(p.inline_data.data for c in chunks for p in (c.candidates[0].content.parts or ()) if p.inline_data)
    assert len(data) / 2 / 24000 == pytest.approx(0.25 + 3 * 0.35)


# -- Imagen :predict ------------------------------------------------------------------------------------

def test_imagen_predict_returns_sample_count_pngs(http):
    body = {"instances": [{"prompt": "Robot holding a red skateboard"}],
            "parameters": {"sampleCount": 2, "aspectRatio": "16:9", "imageSize": "2K"}}
    response = http.post(f"/v1beta/models/{IMAGEN}:predict", json=body)
    assert response.status_code == 200, response.text
    predictions = response.json()["predictions"]
    assert len(predictions) == 2 and all(p["mimeType"] == "image/png" for p in predictions)
    sizes = [png_size(base64.b64decode(p["bytesBase64Encoded"])) for p in predictions]
    assert sizes == [(2816, 1536)] * 2
    assert predictions[0]["bytesBase64Encoded"] != predictions[1]["bytesBase64Encoded"]
    default = http.post(f"/v1beta/models/{IMAGEN}:predict", json={"instances": [{"prompt": "a tree"}]}).json()
    assert len(default["predictions"]) == 4
    assert png_size(base64.b64decode(default["predictions"][0]["bytesBase64Encoded"])) == (1024, 1024)


@pytest.mark.parametrize("model, body, field", [
    (IMAGEN, {"instances": [{"prompt": "x"}], "parameters": {"sampleCount": 5}}, "parameters.sampleCount"),
    ("imagen-4.0-ultra-generate-001", {"instances": [{"prompt": "x"}], "parameters": {"sampleCount": 2}},
     "parameters.sampleCount"),
    (IMAGEN, {"instances": [{"prompt": "x"}], "parameters": {"aspectRatio": "2:1"}}, "parameters.aspectRatio"),
    ("imagen-4.0-fast-generate-001", {"instances": [{"prompt": "x"}], "parameters": {"imageSize": "2K"}},
     "parameters.imageSize"),
    (IMAGEN, {"instances": [{}]}, "instances[0].prompt"),
    (IMAGEN, {"instances": []}, "instances"),
])
def test_imagen_bad_parameters(http, model, body, field):
    assert_envelope(http.post(f"/v1beta/models/{model}:predict", json=body), 400, "INVALID_ARGUMENT", field=field)


def test_predict_on_a_gemini_model_is_refused(http):
    response = http.post("/v1beta/models/gemini-2.5-flash:predict", json={"instances": [{"prompt": "x"}]})
    assert_envelope(response, 400, "INVALID_ARGUMENT")


@pytest.mark.filterwarnings("ignore:The generate_images method is deprecated")
def test_sdk_generate_images_is_refused_client_side_on_the_gemini_api(client):
    # google-genai 3.6.1 models._generate_images: Vertex only; the emulator never sees the call.
    with pytest.raises(ValueError, match="only supported in Gemini Enterprise"):
        client.models.generate_images(model=IMAGEN, prompt="x")


# -- Veo :predictLongRunning ------------------------------------------------------------------------------

def test_veo_operation_finishes_by_the_clock_and_the_video_downloads(gemini_mock, http, beta_client):
    body = {"instances": [{"prompt": "A calico kitten sleeping in the sunshine"}],
            "parameters": {"aspectRatio": "9:16", "durationSeconds": 6, "resolution": "720p"}}
    started = http.post(f"/v1beta/models/{VEO}:predictLongRunning", json=body)
    assert started.status_code == 200, started.text
    name = started.json()["name"]
    assert name.startswith(f"models/{VEO}/operations/") and set(started.json()) == {"name"}

    operation = beta_client.operations.get(types.GenerateVideosOperation(name=name))
    assert not operation.done
    gemini_mock.advance(11)
    operation = beta_client.operations.get(operation)
    assert operation.done
    (generated,) = operation.result.generated_videos
    assert "/files/" in generated.video.uri and generated.video.uri.endswith(":download?alt=media")

    data = beta_client.files.download(file=generated.video)
    facts = mp4_facts(data)
    assert facts == {"seconds": 6, "width": 720, "height": 1280, "codec": b"avc1", "avcC": True, "frames": 6 * 24}
    assert generated.video.video_bytes == data
    assert http.get(generated.video.uri).content == data   # curl -L "$video_uri" reaches the emulator
    # the generated file is a File like batch results: GENERATED, an MP4 of 6 s
    file_id = generated.video.uri.split("/files/")[1].split(":")[0]
    file = beta_client.files.get(name=f"files/{file_id}")
    assert file.mime_type == "video/mp4" and file.source.value == "GENERATED"
    counted = beta_client.models.count_tokens(
        model="gemini-2.5-flash", contents=[types.Part.from_uri(file_uri=file.uri, mime_type="video/mp4")])
    assert counted.total_tokens == 6 * 263   # the mvhd length, at the video rate


def test_veo_rest_poll_shape(gemini_mock, http):
    name = http.post(f"/v1beta/models/{VEO}:predictLongRunning",
                     json={"instances": [{"prompt": "waves"}]}).json()["name"]
    gemini_mock.advance(60)
    done = http.get(f"/v1beta/{name}").json()
    assert done["done"] is True
    assert done["response"]["@type"].endswith("PredictLongRunningResponse")
    (sample,) = done["response"]["generateVideoResponse"]["generatedSamples"]
    assert mp4_facts(http.get(sample["video"]["uri"]).content)["seconds"] == 8
    assert http.get(f"/v1beta/{name}").json() == done   # the file is made once


@pytest.mark.parametrize("parameters, field", [
    ({"durationSeconds": 5}, "parameters.durationSeconds"),
    ({"resolution": "1080p", "durationSeconds": 4}, "parameters.durationSeconds"),
    ({"aspectRatio": "1:1"}, "parameters.aspectRatio"),
    ({"resolution": "8k"}, "parameters.resolution"),
    ({"numberOfVideos": 2}, "parameters.numberOfVideos"),
])
def test_veo_bad_parameters(http, parameters, field):
    body = {"instances": [{"prompt": "x"}], "parameters": parameters}
    assert_envelope(http.post(f"/v1beta/models/{VEO}:predictLongRunning", json=body), 400, "INVALID_ARGUMENT",
                    field=field)


def test_operations_are_per_project(gemini_mock, http):
    import httpx
    name = http.post(f"/v1beta/models/{VEO}:predictLongRunning", json={"instances": [{"prompt": "x"}]}).json()["name"]
    other = httpx.get(f"{gemini_mock.base_url}/v1beta/{name}", headers={"x-goog-api-key": gemini_mock.other_key("b")})
    assert other.status_code in (403, 404) and other.json()["error"]["status"] in ("PERMISSION_DENIED", "NOT_FOUND")
    missing = http.get(f"/v1beta/models/{VEO}/operations/nosuchop")
    assert missing.status_code == other.status_code


# -- units ------------------------------------------------------------------------------------------------

def test_png_unit_is_deterministic_and_cheap_at_4k():
    assert images.png(64, 48, b"a") == images.png(64, 48, b"a") != images.png(64, 48, b"b")
    assert png_size(images.png(4096, 4096, b"a")) == (4096, 4096)


def test_mp4_unit_1080p_is_cropped_from_whole_macroblocks():
    facts = mp4_facts(video.mp4(4, 1920, 1080, b"s"))
    assert (facts["width"], facts["height"], facts["seconds"], facts["frames"]) == (1920, 1080, 4, 96)


def test_speech_unit_rejects_duplicate_speakers():
    from gemini_mockserver.errors import ApiError
    with pytest.raises(ApiError):
        speech.voices_for({"multiSpeakerVoiceConfig": {"speakerVoiceConfigs": [
            {"speaker": "A"}, {"speaker": "A"}]}})
