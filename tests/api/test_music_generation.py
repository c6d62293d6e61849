"""Music generation with the Lyria 3 models (lyria-3-clip-preview, lyria-3-pro-preview, lyria-3.5): timed lyrics
and a 44.1 kHz stereo MP3, through google-genai 3.6.1's generate_content and interactions.create, and raw HTTP.

The MP3 is read back with mutagen: its length, sample rate and channels are what the docs say.
"""
from __future__ import annotations

import base64
import io
import math
import re

import mutagen.mp3
import pytest
from google.genai import _interactions_errors as errors
from google.genai import types
from google.genai._gaos.types.interactions.interaction import Interaction

from support import assert_envelope

CLIP = "lyria-3-clip-preview"
PRO = "lyria-3-pro-preview"
LYRIA_35 = "lyria-3.5"
FOLK = "Create a 30-second cheerful acoustic folk song with guitar and harmonica."
TIMED_LINE = re.compile(r"^\[(\d+\.\d):(\d+\.\d)?\] \S.*$")
PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC")


def mp3_info(data: bytes):
    info = mutagen.mp3.MP3(io.BytesIO(data)).info
    assert (info.sample_rate, info.channels) == (44100, 2)
    return info


def assert_timed_lyrics(text: str, seconds: float) -> None:
    """`[start:] line` lines, the last `[start:end] line`, starting at 0 and ending within the song."""
    lines = text.splitlines()
    matches = [TIMED_LINE.match(line) for line in lines]
    assert all(matches), text
    starts = [float(m.group(1)) for m in matches]
    assert starts[0] == 0.0 and starts == sorted(starts)
    assert all(m.group(2) is None for m in matches[:-1]) and matches[-1].group(2) is not None
    assert starts[-1] < float(matches[-1].group(2)) <= seconds


def test_clip_answers_lyrics_then_a_30_second_mp3(client):
    response = client.models.generate_content(model=CLIP, contents=FOLK)
    text, audio = response.parts
    assert_timed_lyrics(text.text, 30.0)
    assert any(word in text.text.lower() for word in ("cheerful", "acoustic", "folk"))   # about the prompt
    assert audio.inline_data.mime_type == "audio/mpeg"
    assert mp3_info(audio.inline_data.data).length == pytest.approx(30.0, abs=0.1)
    usage = response.usage_metadata
    details = {d.modality.value: d.token_count for d in usage.candidates_tokens_details}
    assert details["AUDIO"] == 30 * 32 and details["TEXT"] > 0
    assert usage.candidates_token_count == sum(details.values())


def test_a_streamed_clip_adds_up_to_the_answer(client):
    whole = client.models.generate_content(model=CLIP, contents=FOLK)
    parts = [p for chunk in client.models.generate_content_stream(model=CLIP, contents=FOLK)
             for p in (chunk.candidates[0].content.parts or ())]
    assert "".join(p.text for p in parts if p.text) == whole.parts[0].text
    (audio,) = [p.inline_data for p in parts if p.inline_data]
    assert audio.mime_type == "audio/mpeg" and audio.data == whole.parts[1].inline_data.data


def test_the_clip_is_30_seconds_whatever_the_prompt_asks(client):
    response = client.models.generate_content(model=CLIP, contents="A 3-minute epic ballad about the sea")
    assert mp3_info(response.parts[-1].inline_data.data).length == pytest.approx(30.0, abs=0.1)


def test_older_revisions_audio_and_text_modalities_and_audio_only(client):
    both = client.models.generate_content(model=CLIP, contents=FOLK, config=types.GenerateContentConfig(
        response_modalities=["AUDIO", "TEXT"]))
    text, audio = both.parts
    assert_timed_lyrics(text.text, 30.0)
    assert audio.inline_data.mime_type == "audio/mpeg"
    (only,) = client.models.generate_content(model=CLIP, contents=FOLK, config=types.GenerateContentConfig(
        response_modalities=["AUDIO"])).parts
    assert mp3_info(only.inline_data.data).length == pytest.approx(30.0, abs=0.1)


def test_same_request_same_song_and_another_prompt_another_song(client):
    first = client.models.generate_content(model=CLIP, contents=FOLK)
    again = client.models.generate_content(model=CLIP, contents=FOLK)
    other = client.models.generate_content(model=CLIP, contents="A dark synthwave clip about neon rain")
    assert first.parts[0].text == again.parts[0].text
    assert first.parts[1].inline_data.data == again.parts[1].inline_data.data
    assert other.parts[1].inline_data.data != first.parts[1].inline_data.data
    assert other.parts[0].text != first.parts[0].text


@pytest.mark.parametrize("prompt, seconds", [
    ("Write a 2-minute indie rock song about mountains", 120.0),
    ("A 90 seconds lullaby for a sleepy cat", 90.0),
    ("[0:00 - 0:20] Intro, soft piano [0:20 - 1:10] Verse [1:10 - 1:40] Chorus", 100.0),
    ("An uplifting pop song about summer", 120.0),   # no length asked: a couple of minutes
    ("A 10-minute prog rock opus", 180.0),           # longer than the models make: three minutes
])
def test_pro_song_length_follows_the_prompt(client, prompt, seconds):
    response = client.models.generate_content(model=PRO, contents=prompt)
    text, audio = response.parts
    assert mp3_info(audio.inline_data.data).length == pytest.approx(seconds, abs=0.1)
    assert_timed_lyrics(text.text, seconds)
    audio_tokens = response.usage_metadata.candidates_tokens_details
    assert {d.modality.value: d.token_count for d in audio_tokens}["AUDIO"] == math.ceil(seconds * 32)


def test_instrumental_prompt_gets_the_song_structure(client):
    text = client.models.generate_content(model=PRO, contents="A 1-minute instrumental jazz piece").parts[0].text
    labels = [line.split("] ", 1)[1] for line in text.splitlines()]
    assert labels[0] == "(Intro)" and labels[-1] == "(Outro)" and "(Chorus)" in labels


def test_an_image_inspires_the_song(client):
    image = types.Part.from_bytes(data=PNG, mime_type="image/png")
    response = client.models.generate_content(model=CLIP, contents=[image, "A clip for this picture"])
    plain = client.models.generate_content(model=CLIP, contents=["A clip for this picture"])
    assert response.parts[-1].inline_data.data != plain.parts[-1].inline_data.data
    modalities = {d.modality.value for d in response.usage_metadata.prompt_tokens_details}
    assert modalities == {"TEXT", "IMAGE"}


def test_songs_are_priced_per_song_not_per_token(gemini_mock, client, http):
    for prompt in ("a folk clip", "a jazz clip"):
        client.models.generate_content(model=CLIP, contents=prompt)
    client.interactions.create(model=LYRIA_35, input="A 3-minute rock song")
    usage = http.get("/_mock/usage", params={"project": gemini_mock.identity.project}).json()
    rows = {row["model"]: row for row in usage["models"]}
    assert rows[f"models/{CLIP}"]["requests"] == 2
    assert rows[f"models/{CLIP}"]["paidTierCostUsd"] == pytest.approx(2 * 0.04)
    assert rows[f"models/{LYRIA_35}"]["paidTierCostUsd"] == pytest.approx(0.08)


# -- the Interactions API -------------------------------------------------------------------------------

def test_interaction_gives_output_audio_and_the_lyrics_as_output_text(client):
    interaction = client.interactions.create(model=CLIP, input="A short instrumental acoustic guitar piece.")
    assert interaction.status == "completed"
    assert [step.type for step in interaction.steps] == ["model_output"]
    assert [item.type for item in interaction.steps[0].content] == ["text", "audio"]
    audio = interaction.output_audio
    assert audio.mime_type == "audio/mpeg"
    assert mp3_info(base64.b64decode(audio.data)).length == pytest.approx(30.0, abs=0.1)
    assert_timed_lyrics(interaction.output_text, 30.0)
    same = client.models.generate_content(model=CLIP, contents="A short instrumental acoustic guitar piece.")
    assert interaction.output_text == same.parts[0].text
    assert base64.b64decode(audio.data) == same.parts[1].inline_data.data
    assert interaction.usage.total_output_tokens == same.usage_metadata.candidates_token_count


@pytest.mark.parametrize("model", [PRO, LYRIA_35])
def test_interaction_song_models_take_the_length_from_the_prompt(client, model):
    interaction = client.interactions.create(model=model, input="Create a 2-minute country song about trains")
    assert mp3_info(base64.b64decode(interaction.output_audio.data)).length == pytest.approx(120.0, abs=0.1)
    assert_timed_lyrics(interaction.output_text, 120.0)
    stored = client.interactions.get(interaction.id)
    assert stored.output_audio.data == interaction.output_audio.data


def test_legacy_outputs_shape_is_coerced_by_the_sdk_for_lyria_3(http):
    """Before the steps revision the answer had `outputs`; google-genai turns it into steps for lyria-3 models."""
    answer = http.post("/v1beta/interactions", json={"model": PRO, "input": "A 1-minute lullaby"},
                       headers={"Api-Revision": "2026-05-07"})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert "steps" not in body and [o["type"] for o in body["outputs"]] == ["text", "audio"]
    interaction = Interaction.model_validate(body)
    assert interaction.output_audio.mime_type == "audio/mpeg"
    assert mp3_info(base64.b64decode(interaction.output_audio.data)).length == pytest.approx(60.0, abs=0.1)
    assert interaction.output_text == body["outputs"][0]["text"]


def test_interaction_refuses_tools_naming_the_field(client):
    with pytest.raises(errors.BadRequestError) as caught:
        client.interactions.create(model=LYRIA_35, input="A song", tools=[
            {"type": "function", "name": "f", "description": "d", "parameters": {"type": "object"}}])
    assert caught.value.body["error"]["code"] == "invalid_request"
    assert "tools" in caught.value.body["error"]["message"]


# -- the wire and the errors --------------------------------------------------------------------------

def test_rest_wire_shape(http):
    answer = http.post(f"/v1beta/models/{CLIP}:generateContent",
                       json={"contents": [{"role": "user", "parts": [{"text": FOLK}]}]})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    (candidate,) = body["candidates"]
    assert candidate["finishReason"] == "STOP" and candidate["content"]["role"] == "model"
    text, audio = candidate["content"]["parts"]
    assert set(text) == {"text"} and set(audio) == {"inlineData"}
    assert audio["inlineData"]["mimeType"] == "audio/mpeg"
    data = base64.b64decode(audio["inlineData"]["data"])
    assert data[:2] == b"\xff\xfb"   # an MPEG-1 Layer III frame sync, no ID3 tag before it
    assert body["modelVersion"] == CLIP and body["responseId"]
    assert body["usageMetadata"]["totalTokenCount"] == (body["usageMetadata"]["promptTokenCount"]
                                                        + body["usageMetadata"]["candidatesTokenCount"])


def test_catalog_lists_the_music_models(client):
    for name in (CLIP, PRO, LYRIA_35):
        model = client.models.get(model=name)
        assert model.name == f"models/{name}" and "generateContent" in model.supported_actions
        assert model.input_token_limit == 131072


@pytest.mark.parametrize("body, field", [
    ({"tools": [{"functionDeclarations": [{"name": "f"}]}]}, "tools"),
    ({"tools": [{"googleSearch": {}}]}, "tools[0].googleSearch"),
    ({"generationConfig": {"responseMimeType": "application/json"}}, "generationConfig.responseMimeType"),
    ({"generationConfig": {"responseModalities": ["TEXT"]}}, "generationConfig.responseModalities"),
    ({"generationConfig": {"responseModalities": ["IMAGE"]}}, "generationConfig.responseModalities"),
    ({"generationConfig": {"thinkingConfig": {"thinkingBudget": 100}}}, "generationConfig.thinkingConfig"),
])
def test_unsupported_config_is_a_400_naming_the_field(http, body, field):
    request = {"contents": [{"parts": [{"text": "a song"}]}], **body}
    assert_envelope(http.post(f"/v1beta/models/{PRO}:generateContent", json=request), 400, "INVALID_ARGUMENT",
                    field=field)


def test_music_models_offer_no_batch_or_token_counting(http):
    body = {"contents": [{"parts": [{"text": "a song"}]}]}
    assert_envelope(http.post(f"/v1beta/models/{CLIP}:countTokens", json=body), 400, "INVALID_ARGUMENT",
                    field="model")
    batch = {"batch": {"displayName": "songs", "inputConfig": {"requests": {"requests": [
        {"request": body, "metadata": {"key": "one"}}]}}}}
    assert_envelope(http.post(f"/v1beta/models/{PRO}:batchGenerateContent", json=batch), 400, "INVALID_ARGUMENT",
                    field="model")
