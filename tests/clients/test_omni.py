"""Gemini Omni Flash through google-genai, as the Omni guide calls it: `client.interactions.create` answers a
real MP4 in `interaction.output_video`, `response_format` sets its resolution, aspect ratio and (1.2) length,
`previous_interaction_id` edits the previous video, and generateContent is refused."""
from __future__ import annotations

import base64
import struct

import pytest
from google.genai import _interactions_errors as ierrors
from google.genai import errors

from support.envelopes import assert_envelope

OMNI = "gemini-omni-1.1-flash"
OMNI_12 = "gemini-omni-1.2-flash"
PROMPT = "A marble rolling fast on a chain reaction style track, continuous smooth shot."


def _mp4(data: bytes) -> tuple[float, int, int]:
    """(seconds from `mvhd`, width and height from `tkhd`), read straight from the boxes."""
    mvhd, tkhd = data.index(b"mvhd"), data.index(b"tkhd")
    timescale, duration = struct.unpack(">II", data[mvhd + 16:mvhd + 24])
    width, height = struct.unpack(">II", data[tkhd + 80:tkhd + 88])
    return duration / timescale, width >> 16, height >> 16


def _video(interaction) -> bytes:
    video = interaction.output_video
    assert video is not None and video.mime_type == "video/mp4"
    return base64.b64decode(video.data)


def test_text_to_video_answers_a_decodable_mp4_of_the_default_shape(client):
    interaction = client.interactions.create(model=OMNI, input=PROMPT)
    assert interaction.status == "completed"
    assert [step.type for step in interaction.steps] == ["thought", "model_output"]
    data = _video(interaction)
    assert data[4:8] == b"ftyp"
    seconds, width, height = _mp4(data)
    assert (width, height) == (1280, 720)                  # 720p, 16:9 by default
    assert 3 <= seconds <= 10 and seconds == int(seconds)  # 1.1 picks its own length
    usage = interaction.usage
    video_tokens = [m.tokens for m in usage.output_tokens_by_modality if m.modality == "video"]
    assert video_tokens == [int(seconds) * 5792] and usage.total_output_tokens == video_tokens[0]
    again = client.interactions.create(model=OMNI, input=PROMPT)
    assert _video(again) == data                           # same request, same video


@pytest.mark.parametrize("resolution, aspect, size", [
    ("360p", "9:16", (360, 640)), ("1080p", "16:9", (1920, 1080)), ("720p", "9:16", (720, 1280))])
def test_response_format_sets_resolution_and_aspect_ratio(client, resolution, aspect, size):
    interaction = client.interactions.create(model=OMNI, input=PROMPT, response_format={
        "type": "video", "resolution": resolution, "aspect_ratio": aspect})
    assert _mp4(_video(interaction))[1:] == size


def test_omni_1_2_makes_the_requested_length(client):
    interaction = client.interactions.create(model=OMNI_12, input=PROMPT, response_format={
        "type": "video", "duration": "14s", "resolution": "360p"})
    assert _mp4(_video(interaction)) == (14.0, 640, 360)
    assert interaction.usage.total_output_tokens == 14 * 5792


def test_previous_interaction_id_edits_the_previous_video(client):
    first = client.interactions.create(model=OMNI_12, input=PROMPT, response_format={
        "type": "video", "duration": "5", "resolution": "360p", "aspect_ratio": "9:16"})
    edit = client.interactions.create(model=OMNI_12, input="Make the marble glow. Keep everything else the same.",
                                      previous_interaction_id=first.id)
    before, after = _video(first), _video(edit)
    assert after != before
    assert _mp4(after) == _mp4(before) == (5.0, 360, 640)  # the edit keeps the video's length and shape
    assert edit.usage.input_tokens_by_modality[-1].modality == "video"   # the earlier video is its input
    fresh = client.interactions.create(model=OMNI_12, input="Make the marble glow. Keep everything else the same.")
    assert _video(fresh) != after
    got = client.interactions.get(edit.id)
    assert [s.type for s in got.steps] == ["user_input", "thought", "model_output"]
    assert _video(got) == after


def test_uri_delivery_names_a_downloadable_generated_file(client):
    interaction = client.interactions.create(model=OMNI, input=PROMPT, response_format={
        "type": "video", "delivery": "uri", "resolution": "360p"})
    video = interaction.output_video
    assert video.data is None and video.uri.endswith(":download?alt=media")
    name = "files/" + video.uri.rsplit("/", 1)[1].split(":", 1)[0]
    assert client.files.get(name=name).state.name == "ACTIVE"
    data = client.files.download(file=video.uri)
    assert _mp4(data)[1:] == (640, 360)


@pytest.mark.parametrize("model, fmt, field", [
    (OMNI, {"resolution": "480p"}, "response_format.resolution"),
    (OMNI, {"aspect_ratio": "1:1"}, "response_format.aspect_ratio"),
    (OMNI, {"duration": "8s"}, "response_format.duration"),            # 1.1 chooses its own length
    (OMNI_12, {"duration": "16s"}, "response_format.duration"),
    (OMNI_12, {"duration": "2"}, "response_format.duration"),
])
def test_unsupported_video_options_are_400s_naming_the_field(client, model, fmt, field):
    with pytest.raises(ierrors.BadRequestError) as caught:
        client.interactions.create(model=model, input=PROMPT, response_format={"type": "video", **fmt})
    assert caught.value.body["error"]["code"] == "invalid_request"
    assert field in caught.value.body["error"]["message"]


def test_a_text_model_asked_for_video_is_refused(client):
    with pytest.raises(ierrors.BadRequestError) as caught:
        client.interactions.create(model="gemini-3.6-flash", input=PROMPT, response_format={"type": "video"})
    message = caught.value.body["error"]["message"]
    assert "response modalities (VIDEO)" in message and "response_format" in message


def test_generate_content_on_omni_is_refused(client, http):
    with pytest.raises(errors.ClientError) as caught:
        client.models.generate_content(model=OMNI, contents=PROMPT)
    assert caught.value.code == 400
    assert "only supports Interactions API" in caught.value.message
    raw = http.post(f"/v1beta/models/{OMNI}:generateContent", json={"contents": [{"parts": [{"text": PROMPT}]}]})
    assert_envelope(raw, 400, "INVALID_ARGUMENT")


def test_wire_shape_of_a_video_interaction(http):
    answer = http.post("/v1beta/interactions", json={
        "model": OMNI, "input": PROMPT, "response_format": {"type": "video", "resolution": "360p"}})
    assert answer.status_code == 200
    body = answer.json()
    output = body["steps"][-1]
    assert output["type"] == "model_output" and set(output["content"][0]) == {"type", "mime_type", "data"}
    assert body["response_format"] == {"type": "video", "resolution": "360p"}
    assert body["usage"]["output_tokens_by_modality"][0]["modality"] == "video"


def test_models_list_names_both_omni_models(client):
    names = {model.name for model in client.models.list()}
    assert {f"models/{OMNI}", f"models/{OMNI_12}"} <= names


def test_an_uploaded_video_is_edited_keeping_its_length_and_size(client, tmp_path):
    from gemini_mockserver.generation import video
    source = tmp_path / "Video.mp4"
    source.write_bytes(video.mp4(4, 1080, 1920, b"mine"))
    uploaded = client.files.upload(file=str(source))
    interaction = client.interactions.create(model=OMNI, input=[
        {"type": "video", "uri": uploaded.uri, "mime_type": "video/mp4"},
        {"type": "text", "text": "Make the mirror ripple like liquid."}])
    assert _mp4(_video(interaction)) == (4.0, 1080, 1920)
    assert interaction.usage.input_tokens_by_modality[-1].modality == "video"


def test_a_uri_delivered_video_can_be_edited_in_the_next_turn(client):
    first = client.interactions.create(model=OMNI_12, input=PROMPT, response_format={
        "type": "video", "delivery": "uri", "resolution": "360p", "duration": "6s"})
    edit = client.interactions.create(model=OMNI_12, input="Change the lighting to be more dramatic.",
                                      previous_interaction_id=first.id)
    assert _mp4(_video(edit)) == (6.0, 640, 360)


def test_background_video_interaction_follows_the_clock(gemini_mock, client):
    gemini_mock.configure({"interactions": {"backgroundSeconds": 40.0}})
    started = client.interactions.create(model=OMNI, input=PROMPT, background=True)
    assert started.status == "in_progress" and started.output_video is None
    gemini_mock.advance(41)
    done = client.interactions.get(started.id)
    assert done.status == "completed"
    assert _video(done) == _video(client.interactions.create(model=OMNI, input=PROMPT))


def test_streamed_video_interaction_delivers_the_video_as_one_delta(client):
    whole = client.interactions.create(model=OMNI, input=PROMPT, response_format={"type": "video",
                                                                                  "resolution": "360p"})
    events = list(client.interactions.create(model=OMNI, input=PROMPT, stream=True,
                                             response_format={"type": "video", "resolution": "360p"}))
    videos = [e.delta for e in events if e.event_type == "step.delta" and e.delta.type == "video"]
    assert len(videos) == 1 and base64.b64decode(videos[0].data) == _video(whole)
    assert events[-1].event_type == "interaction.completed"


def test_the_preview_id_is_shut_down_and_makes_only_720p(client):
    preview = client.models.get(model="gemini-omni-flash-preview")
    assert preview.name == "models/gemini-omni-flash-preview"
    with pytest.raises(ierrors.BadRequestError) as caught:
        client.interactions.create(model="gemini-omni-flash-preview", input=PROMPT,
                                   response_format={"type": "video", "resolution": "1080p"})
    assert "response_format.resolution" in caught.value.body["error"]["message"]


def test_extend_continues_the_previous_video(client):
    first = client.interactions.create(model=OMNI_12, input=PROMPT, response_format={
        "type": "video", "duration": "6s", "resolution": "360p"})
    extended = client.interactions.create(
        model=OMNI_12, input="The marble falls into a glass of water.", previous_interaction_id=first.id,
        generation_config={"video_config": {"task": "extend"}}, response_format={"type": "video", "duration": "4s"})
    assert _mp4(_video(extended)) == (10.0, 640, 360)
    assert extended.usage.total_output_tokens == 10 * 5792
    with pytest.raises(ierrors.BadRequestError) as caught:
        client.interactions.create(model=OMNI_12, input=PROMPT, generation_config={"video_config": {"task": "extend"}})
    assert "generation_config.video_config.task" in caught.value.body["error"]["message"]
