"""Unit tests of generation/omni.py: the options a model takes, the video it makes, the edit rule."""
from __future__ import annotations

import pytest

from gemini_mockserver.errors import ApiError
from gemini_mockserver.generation import omni, video

V11 = {"name": "models/gemini-omni-1.1-flash",
       "emulator": {"omni": {"resolutions": ["360p", "720p", "1080p", "4k"], "aspectRatios": ["16:9", "9:16"],
                             "durationRange": [3, 10], "durationSelectable": False}}}
V12 = {"name": "models/gemini-omni-1.2-flash",
       "emulator": {"omni": {"resolutions": ["360p", "720p", "1080p", "4k"], "aspectRatios": ["16:9", "9:16"],
                             "durationRange": [3, 15], "durationSelectable": True}}}
TEXT = {"name": "models/gemini-3.6-flash", "emulator": {}}


def test_spec_tells_omni_models_apart():
    assert omni.spec(V11) and omni.spec(V12) and omni.spec(TEXT) is None


def test_options_read_the_video_entry_of_response_format():
    assert omni.options(V12, None) == omni.Options(None, None, None, "inline")
    listed = [{"type": "text"}, {"type": "video", "resolution": "4k", "aspect_ratio": "9:16", "duration": "15s",
                                 "delivery": "uri"}]
    assert omni.options(V12, listed) == omni.Options("4k", "9:16", 15, "uri")
    assert omni.options(V12, {"type": "video", "duration": 3}).seconds == 3


@pytest.mark.parametrize("model, fmt, field", [
    (V11, {"resolution": "4K"}, "response_format.resolution"),          # the SDK's value is "4k"
    (V11, {"aspect_ratio": "4:3"}, "response_format.aspect_ratio"),
    (V11, {"duration": "5s"}, "response_format.duration"),
    (V12, {"duration": "20s"}, "response_format.duration"),
    (V12, {"duration": "five"}, "response_format.duration"),
    (V12, {"delivery": "gcs"}, "response_format.delivery"),
])
def test_unsupported_options_name_the_field(model, fmt, field):
    with pytest.raises(ApiError) as caught:
        omni.options(model, {"type": "video", **fmt})
    assert caught.value.code == 400
    assert caught.value.details[0]["fieldViolations"][0]["field"] == field


def test_generate_content_is_refused_for_omni_only():
    with pytest.raises(ApiError) as caught:
        omni.refuse_generate_content(V11)
    assert caught.value.code == 400 and caught.value.message == omni.ONLY_INTERACTIONS
    omni.refuse_generate_content(TEXT)


def test_a_new_video_has_the_asked_shape_and_a_length_in_the_model_range():
    lengths = set()
    for n in range(40):
        clip = omni.make(V11, omni.Options(None, None, None, "inline"), bytes([n]) * 32)
        assert (clip.width, clip.height) == (1280, 720)
        lengths.add(clip.seconds)
        assert omni.read_clip(clip.data) == clip
    assert lengths <= set(range(3, 11)) and len(lengths) > 1
    tall = omni.make(V12, omni.Options("360p", "9:16", 12, "inline"), b"x" * 32)
    assert (tall.seconds, tall.width, tall.height, tall.tokens) == (12, 360, 640, 12 * 5792)


def test_an_edit_keeps_the_source_shape_unless_the_request_names_one():
    source = omni.make(V12, omni.Options("1080p", "9:16", 4, "inline"), b"s" * 32)
    edit = omni.make(V12, omni.Options(None, None, None, "inline"), b"e" * 32, source)
    assert (edit.seconds, edit.width, edit.height) == (4, 1080, 1920) and edit.data != source.data
    wide = omni.make(V12, omni.Options(None, "16:9", 6, "inline"), b"e" * 32, source)
    assert (wide.seconds, wide.width, wide.height) == (6, 1920, 1080)   # keeps 1080p, turns to 16:9


def test_read_clip_refuses_what_is_not_an_mp4():
    assert omni.read_clip(b"not a video") is None
    assert omni.read_clip(video.mp4(2, 640, 360, b"k")) == omni.Clip(2, 640, 360, video.mp4(2, 640, 360, b"k"))


def test_task_takes_the_sdk_values_only():
    assert omni.task(None) is None and omni.task({"video_config": {"task": "extend"}}) == "extend"
    with pytest.raises(ApiError) as caught:
        omni.task({"video_config": {"task": "stretch"}})
    assert caught.value.details[0]["fieldViolations"][0]["field"] == "generation_config.video_config.task"


def test_an_extension_adds_3_to_10_seconds_to_at_most_the_last_30():
    short = omni.make(V12, omni.Options("360p", None, 8, "inline"), b"a" * 32)
    longer = omni.make(V12, omni.Options(None, None, 10, "inline"), b"b" * 32, short, extend=True)
    assert (longer.seconds, longer.width, longer.height) == (18, 640, 360)
    chosen = {omni.make(V11, omni.Options(None, None, None, "inline"), bytes([n]) * 32, short, extend=True).seconds
              for n in range(30)}
    assert chosen <= set(range(11, 19)) and len(chosen) > 1
    long_source = omni.Clip(35, 640, 360, b"")
    capped = omni.make(V12, omni.Options(None, None, 10, "inline"), b"c" * 32, long_source, extend=True)
    assert capped.seconds == 40                                  # the last 30 s plus 10
    with pytest.raises(ApiError) as caught:
        omni.make(V12, omni.Options(None, None, 12, "inline"), b"d" * 32, short, extend=True)
    assert caught.value.details[0]["fieldViolations"][0]["field"] == "response_format.duration"
    with pytest.raises(ApiError) as caught:
        omni.make(V12, omni.Options(None, None, None, "inline"), b"d" * 32, None, extend=True)
    assert caught.value.details[0]["fieldViolations"][0]["field"] == "generation_config.video_config.task"


def test_an_edit_of_an_upload_of_another_size_or_length_stays_within_what_the_model_makes():
    upload = omni.Clip(25, 854, 480, b"")
    edit = omni.make(V11, omni.Options(None, None, None, "inline"), b"u" * 32, upload)
    assert (edit.seconds, edit.width, edit.height) == (10, 1280, 720)
    portrait = omni.make(V12, omni.Options(None, None, None, "inline"), b"u" * 32, omni.Clip(4, 606, 1080, b""))
    assert (portrait.seconds, portrait.width, portrait.height) == (4, 720, 1280)
