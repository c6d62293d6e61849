"""YouTube and public https URLs as `fileData.fileUri` in generateContent and countTokens: offline,
deterministic media metadata, registrations through the plugin and `/_mock/urls`, 400s naming the field."""
from __future__ import annotations

import math

import httpx
import pytest
from google.genai import errors, types

from support import assert_envelope, validate_response

MODEL = "gemini-2.5-flash"
VIDEO = "https://www.youtube.com/watch?v=9hE5-98ZeCg"   # the cookbook's video-understanding example
COUNT = f"/v1beta/models/{MODEL}:countTokens"
GEN = f"/v1beta/models/{MODEL}:generateContent"


def _details(usage) -> dict[str, int]:
    return {d.modality.name: d.token_count for d in usage}


def _by_modality(answer: dict) -> dict[str, int]:
    return {d["modality"]: d["tokenCount"] for d in answer["promptTokensDetails"]}


def _url_part(uri: str, mime: str | None = None) -> dict:
    data = {"fileUri": uri}
    if mime:
        data["mimeType"] = mime
    return {"contents": [{"parts": [{"fileData": data}, {"text": "Summarize this"}]}]}


def test_sdk_youtube_url_counts_as_a_video_of_a_length_derived_from_the_url(client):
    contents = types.Content(role="user", parts=[types.Part(file_data=types.FileData(file_uri=VIDEO)),
                                                 types.Part.from_text(text="Please summarize the video in 3 sentences.")])
    counted = client.models.count_tokens(model=MODEL, contents=contents)
    response = client.models.generate_content(model=MODEL, contents=contents)
    assert response.text
    usage = response.usage_metadata
    video = _details(usage.prompt_tokens_details)["VIDEO"]
    assert 30 * 263 <= video <= 600 * 263
    assert usage.prompt_token_count == counted.total_tokens
    # the same video by another URL form costs the same; another video, another length
    short = client.models.count_tokens(model=MODEL, contents=types.Part.from_uri(
        file_uri="https://youtu.be/9hE5-98ZeCg", mime_type="video/*"))
    assert short.total_tokens == video
    other = client.models.count_tokens(model=MODEL, contents=types.Part(file_data=types.FileData(
        file_uri="https://www.youtube.com/shorts/dQw4w9WgXcQ")))
    assert 30 * 263 <= other.total_tokens <= 600 * 263 and other.total_tokens != video


def test_registered_youtube_video_has_the_registered_length(client, gemini_mock):
    registration = gemini_mock.register_url(VIDEO, duration_seconds=42)
    assert registration["mimeType"] == "video/mp4" and registration["durationSeconds"] == 42
    counted = client.models.count_tokens(model=MODEL, contents=types.Part(file_data=types.FileData(file_uri=VIDEO)))
    assert counted.total_tokens == math.ceil(42 * 263)


def test_public_https_urls_by_type(http, gemini_mock):
    pdf = http.post(COUNT, json=_url_part("https://example.com/report.pdf"))   # type from the extension
    assert pdf.status_code == 200, pdf.text
    pages = _by_modality(pdf.json())["DOCUMENT"]
    assert pages % 258 == 0 and 258 <= pages <= 10 * 258
    assert http.post(COUNT, json=_url_part("https://example.com/report.pdf")).json() == pdf.json()
    image = http.post(COUNT, json=_url_part("https://example.com/cat", "image/jpeg")).json()
    assert {"modality": "IMAGE", "tokenCount": 258} in image["promptTokensDetails"]
    page = http.post(COUNT, json=_url_part("https://example.com/about")).json()   # no type: a web page
    assert set(_by_modality(page)) == {"TEXT"} and page["totalTokens"] > 200
    gemini_mock.register_url("https://example.com/report.pdf", "application/pdf", pages=3)
    assert _by_modality(http.post(COUNT, json=_url_part("https://example.com/report.pdf")).json())["DOCUMENT"] == \
        3 * 258


def test_registered_text_counts_its_tokens(http, gemini_mock):
    text = "The quarterly report shows revenue growth across every region. " * 20
    gemini_mock.register_url("https://example.com/notes", "text/plain", text=text)
    plain = http.post(COUNT, json={"contents": [{"parts": [{"text": text}]}]}).json()["totalTokens"]
    counted = http.post(COUNT, json={"contents": [{"parts": [{"fileData": {"fileUri": "https://example.com/notes"}}]}]})
    assert counted.json()["totalTokens"] == plain
    answer = http.post(GEN, json=_url_part("https://example.com/notes"))
    assert answer.status_code == 200, answer.text
    validate_response("v1beta", "GenerateContentResponse", answer.json())


def test_a_registration_is_the_test_projects_own(http, gemini_mock):
    gemini_mock.register_url("https://example.com/talk.mp3", "audio/mp3", duration_seconds=60)
    mine = http.post(COUNT, json=_url_part("https://example.com/talk.mp3")).json()
    assert {"modality": "AUDIO", "tokenCount": 60 * 32} in mine["promptTokensDetails"]
    with httpx.Client(base_url=gemini_mock.base_url, headers={"x-goog-api-key": gemini_mock.other_key("b")}) as other:
        theirs = other.post(COUNT, json=_url_part("https://example.com/talk.mp3")).json()
    audio = [d for d in theirs["promptTokensDetails"] if d["modality"] == "AUDIO"][0]
    assert audio["tokenCount"] != 60 * 32   # derived from the URL, not the other project's registration


def test_control_plane_registers_lists_and_deletes(http, gemini_mock):
    control = httpx.Client(base_url=gemini_mock.base_url)
    made = control.post("/_mock/urls", json={"url": "https://cdn.example.com/clip.mp4", "mimeType": "video/mp4",
                                             "durationSeconds": 10})
    assert made.status_code == 200, made.text
    item = made.json()
    assert item["url"] == "https://cdn.example.com/clip.mp4" and item["id"]
    assert item in control.get("/_mock/urls").json()["urls"]
    assert control.get(f"/_mock/urls/{item['id']}").json() == item
    assert _by_modality(http.post(COUNT, json=_url_part(item["url"])).json())["VIDEO"] == 10 * 263
    assert "urls" in gemini_mock.store.export_state()["backends"]
    assert control.delete(f"/_mock/urls/{item['id']}").json() == {}
    assert_envelope(control.get(f"/_mock/urls/{item['id']}"), 404, "NOT_FOUND")
    assert _by_modality(http.post(COUNT, json=_url_part(item["url"])).json())["VIDEO"] != 10 * 263


@pytest.mark.parametrize("item, field", [
    ({"url": "http://example.com/a.mp3", "mimeType": "audio/mp3"}, "url"),
    ({"url": "https://example.com/a.bin", "mimeType": "application/x-unknown"}, "mimeType"),
    ({"url": "https://example.com/a.mp3"}, "mimeType"),
    ({"url": "https://example.com/a.mp3", "mimeType": "audio/mp3", "durationSeconds": -1}, "durationSeconds"),
    ({"url": "https://example.com/a.pdf", "mimeType": "application/pdf", "pages": 0}, "pages"),
    ({"url": "https://example.com/a", "mimeType": "text/plain", "colour": "red"}, "colour"),
])
def test_bad_registrations_are_400_naming_the_field(gemini_mock, item, field):
    with httpx.Client(base_url=gemini_mock.base_url) as control:
        assert_envelope(control.post("/_mock/urls", json=item), 400, "INVALID_ARGUMENT", field=field)


@pytest.mark.parametrize("uri", [
    "gs://bucket/video.mp4", "http://example.com/report.pdf", "ftp://example.com/a.pdf", "https://",
    "https://exa mple.com/a.pdf", "https://www.youtube.com/watch?v=short", "https://youtu.be/",
])
@pytest.mark.parametrize("path", [GEN, COUNT])
def test_unsupported_or_malformed_uris_are_400_naming_the_field(http, uri, path):
    assert_envelope(http.post(path, json=_url_part(uri, "application/pdf")), 400, "INVALID_ARGUMENT",
                    field="fileData.fileUri")


def test_sdk_sees_the_400(client):
    with pytest.raises(errors.ClientError) as caught:
        client.models.generate_content(model=MODEL, contents=types.Part.from_uri(
            file_uri="gs://bucket/video.mp4", mime_type="video/mp4"))
    assert caught.value.code == 400 and "fileData.fileUri" in caught.value.message


def test_files_api_uris_still_go_to_the_files_backend(http, gemini_mock):
    made = gemini_mock.upload_file(b"hello there", "text/plain")
    counted = http.post(COUNT, json=_url_part(made["uri"]))
    assert counted.status_code == 200, counted.text
    assert_envelope(http.post(COUNT, json=_url_part(made["uri"].rsplit("/", 1)[0] + "/nope")), 403,
                    "PERMISSION_DENIED")


def test_a_cache_of_a_youtube_video(http, gemini_mock):
    body = {"model": f"models/{MODEL}", "ttl": "300s",
            "contents": [{"role": "user", "parts": [{"fileData": {"fileUri": VIDEO}}]}]}
    made = http.post("/v1beta/cachedContents", json=body)
    assert made.status_code == 200, made.text
    video = http.post(COUNT, json={"contents": body["contents"]}).json()["totalTokens"]
    assert made.json()["usageMetadata"]["totalTokenCount"] == video
    used = http.post(GEN, json={"cachedContent": made.json()["name"],
                                "contents": [{"parts": [{"text": "Summarize the video"}]}]})
    assert used.status_code == 200, used.text
    assert used.json()["usageMetadata"]["cachedContentTokenCount"] == video
