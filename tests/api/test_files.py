"""The Files API: uploads through the real google-genai SDK and the raw resumable protocol, the File
resource, downloads, expiry, isolation between keys, and uploaded audio in prompts."""
from __future__ import annotations

import base64
import hashlib
import io
import os
import re
import socket
import time
from datetime import datetime, timedelta

import httpx
import pytest
from google.genai import errors, types

from gemini_mockserver.generation import audio, media
from gemini_mockserver.paths import FIXTURES

from support import assert_envelope, mp4_bytes, validate_response, wav_bytes

MODEL = "gemini-2.5-flash"
CHUNK = 8 * 1024 * 1024   # the SDK's chunk size
AUDIO_FIXTURES = sorted((FIXTURES / "audio").glob("tone_*"))
AUDIO_MIME = {".wav": "audio/wav", ".mp3": "audio/mp3", ".aiff": "audio/aiff", ".aac": "audio/aac",
              ".ogg": "audio/ogg", ".flac": "audio/flac"}


# -- helpers ------------------------------------------------------------------------------------------



def hex_hash(data: bytes) -> str:
    """sha256Hash as the API writes it: base64 of the lowercase hex digest."""
    return base64.b64encode(hashlib.sha256(data).hexdigest().encode()).decode()


def parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def upload(client, data: bytes, mime_type: str = "text/plain", **config) -> types.File:
    return client.files.upload(file=io.BytesIO(data), config={"mime_type": mime_type, **config})


def client_error(excinfo, code: int, status: str) -> str:
    error = excinfo.value
    assert isinstance(error, errors.ClientError), error
    assert error.code == code and error.status == status, (error.code, error.status, error.message)
    return error.message


def start(http, body: dict | None = None, *, size: int | None, mime: str | None = "text/plain",
          path: str = "/upload/v1beta/files", **headers) -> httpx.Response:
    """The start request of a resumable upload, as the SDKs send it."""
    sent = {"X-Goog-Upload-Protocol": "resumable", "X-Goog-Upload-Command": "start",
            "Content-Type": "application/json", **headers}
    if size is not None:
        sent["X-Goog-Upload-Header-Content-Length"] = str(size)
    if mime is not None:
        sent["X-Goog-Upload-Header-Content-Type"] = mime
    return http.post(path, json=body if body is not None else {"file": {"display_name": "raw"}}, headers=sent)


def upload_url(http, **options) -> str:
    response = start(http, **options)
    assert response.status_code == 200, response.text
    assert response.headers["x-goog-upload-status"] == "active"
    return response.headers["x-goog-upload-url"]


def chunk(url: str, data: bytes, offset: int, *, finalize: bool = False, command: str | None = None,
          **headers) -> httpx.Response:
    """One chunk, sent like the Python SDK does: no API key."""
    sent = {"X-Goog-Upload-Command": command or ("upload, finalize" if finalize else "upload"),
            "X-Goog-Upload-Offset": str(offset), **headers}
    return httpx.post(url, content=data, headers=sent, timeout=30)


def query(url: str) -> httpx.Response:
    return httpx.post(url, headers={"X-Goog-Upload-Command": "query"}, timeout=30)


def uploads_dir(gemini_mock):
    return gemini_mock.store.project_dir(gemini_mock.identity.project) / "uploads"


def leftover_parts(gemini_mock) -> list:
    folder = uploads_dir(gemini_mock)
    return sorted(folder.iterdir()) if folder.exists() else []


def count(client, file_or_part) -> int:
    part = (file_or_part if isinstance(file_or_part, types.Part)
            else types.Part.from_uri(file_uri=file_or_part.uri, mime_type=file_or_part.mime_type))
    return client.models.count_tokens(model=MODEL, contents=[part]).total_tokens


@pytest.fixture(params=["v1", "v1beta"])
def sdk(request, gemini_mock):
    """The SDK on its default /v1 and on /v1beta."""
    return gemini_mock.client() if request.param == "v1" else gemini_mock.client(api_version="v1beta")


# -- upload through the SDK ----------------------------------------------------------------------------

def test_upload_small_file(sdk, gemini_mock, http):
    data = b"hello world"
    before = gemini_mock.now()
    file = upload(sdk, data, display_name="hello.txt")
    assert re.fullmatch(r"files/[a-z0-9]+", file.name)
    file_id = file.name.split("/")[1]
    assert file.display_name == "hello.txt"
    assert file.mime_type == "text/plain"
    assert file.size_bytes == len(data)
    assert file.sha256_hash == hex_hash(data)
    assert file.state == types.FileState.ACTIVE
    assert file.source == types.FileSource.UPLOADED
    assert file.download_uri is None
    assert file.uri == f"{gemini_mock.base_url}/v1beta/files/{file_id}"
    assert file.expiration_time - file.create_time == timedelta(hours=48)
    assert abs((file.create_time - before).total_seconds()) < 5

    raw = http.get(f"/v1beta/{file.name}").json()
    validate_response("v1beta", "File", raw)
    assert raw["sizeBytes"] == "11" and raw["source"] == "UPLOADED" and raw["state"] == "ACTIVE"
    assert "downloadUri" not in raw and "error" not in raw
    assert gemini_mock.store.files.path_of(gemini_mock.identity, file.name).read_bytes() == data


def test_a_video_reports_its_duration(sdk, http):
    file = upload(sdk, mp4_bytes(12), mime_type="video/mp4")
    assert file.video_metadata == {"videoDuration": "12s"}
    raw = http.get(f"/v1beta/{file.name}").json()
    validate_response("v1beta", "File", raw)
    assert raw["videoMetadata"] == {"videoDuration": "12s"}
    audio = http.get(f"/v1beta/{upload(sdk, wav_bytes(1), mime_type='audio/wav').name}").json()
    assert "videoMetadata" not in audio


def test_upload_over_8_mib_goes_in_several_chunks(sdk, gemini_mock):
    data = os.urandom(CHUNK + 1024 * 1024 + 17)
    file = upload(sdk, data, mime_type="application/octet-stream")
    assert file.size_bytes == len(data)
    assert file.sha256_hash == hex_hash(data)
    assert gemini_mock.store.files.path_of(gemini_mock.identity, file.name).read_bytes() == data
    posts = [e for e in gemini_mock.requests if e["method"] == "POST" and "/upload/" in e["path"]]
    assert len(posts) == 3 and all(e["status"] == 200 for e in posts)   # start + 2 chunks
    assert leftover_parts(gemini_mock) == []


def test_upload_from_a_path_keeps_the_file_name(sdk, tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("some notes")
    file = sdk.files.upload(file=path)
    assert file.mime_type == "text/plain" and file.size_bytes == 10


def test_upload_an_empty_file(sdk):
    file = upload(sdk, b"")
    assert file.size_bytes in (0, None)
    assert file.sha256_hash == hex_hash(b"")


def test_chosen_name(sdk, gemini_mock):
    file = upload(sdk, b"x", name="my-file-1")
    assert file.name == "files/my-file-1"
    assert sdk.files.get(name="my-file-1").size_bytes == 1
    with pytest.raises(errors.ClientError) as excinfo:
        upload(sdk, b"y", name="files/my-file-1")
    client_error(excinfo, 409, "ALREADY_EXISTS")


@pytest.mark.parametrize("name", ["-bad", "bad-", "Upper", "a" * 41, "with_underscore", "files/"])
def test_invalid_chosen_names(http, name):
    response = start(http, {"file": {"name": name if name.startswith("files/") else f"files/{name}"}}, size=1)
    assert_envelope(response, 400, "INVALID_ARGUMENT", field="name")


def test_get_list_page_and_delete(sdk, gemini_mock, http):
    names = [upload(sdk, f"file {i}".encode(), display_name=f"f{i}").name for i in range(5)]
    pager = sdk.files.list(config={"page_size": 2})
    assert len(pager.page) == 2
    assert sorted(f.name for f in pager) == sorted(names)
    assert any("pageToken" not in e["path"] for e in gemini_mock.requests)

    first = http.get("/v1beta/files", params={"pageSize": 2}).json()
    validate_response("v1beta", "ListFilesResponse", first)
    assert len(first["files"]) == 2 and first["nextPageToken"]
    second = http.get("/v1beta/files", params={"pageSize": 2, "pageToken": first["nextPageToken"]}).json()
    third = http.get("/v1beta/files", params={"pageSize": 2, "pageToken": second["nextPageToken"]}).json()
    assert "nextPageToken" not in third
    listed = [f["name"] for page in (first, second, third) for f in page["files"]]
    assert sorted(listed) == sorted(names) and len(set(listed)) == 5
    assert len(http.get("/v1beta/files").json()["files"]) == 5   # default page size 10

    got = sdk.files.get(name=names[0])
    assert got.display_name == "f0" and got.size_bytes == 6

    path = gemini_mock.store.files.path_of(gemini_mock.identity, names[0])
    assert sdk.files.delete(name=names[0]) is not None
    assert not path.exists()
    with pytest.raises(errors.ClientError) as excinfo:
        sdk.files.get(name=names[0])
    assert "may not exist" in client_error(excinfo, 403, "PERMISSION_DENIED")
    assert len(http.get("/v1beta/files").json()["files"]) == 4
    assert http.delete(f"/v1beta/{names[1]}").json() == {}
    assert_envelope(http.delete(f"/v1beta/{names[1]}"), 403, "PERMISSION_DENIED")


def test_list_empty_and_bad_page_token(http):
    assert http.get("/v1beta/files").json() == {}
    assert_envelope(http.get("/v1beta/files", params={"pageToken": "nonsense"}), 400, "INVALID_ARGUMENT")


# -- download -----------------------------------------------------------------------------------------

def test_uploaded_files_cannot_be_downloaded(sdk, gemini_mock, http):
    file = upload(sdk, b"secret")
    with pytest.raises(errors.ClientError) as excinfo:
        sdk.files.download(file=file.name)
    assert "generated" in client_error(excinfo, 400, "INVALID_ARGUMENT")
    for path in (f"/v1beta/{file.name}:download", f"/download/v1beta/{file.name}:download"):
        error = assert_envelope(http.get(path, params={"alt": "media"}), 400, "INVALID_ARGUMENT")
        assert "Only generated files can be downloaded" in error["message"]


def test_download_uploaded_when_enabled_round_trips_exactly(sdk, gemini_mock, http):
    data = os.urandom(CHUNK + 12345)
    file = upload(sdk, data, mime_type="application/octet-stream")
    patched = http.patch(f"{gemini_mock.base_url}/_mock/config", json={"files": {"downloadUploaded": True}})
    assert patched.status_code == 200 and patched.json()["files"]["downloadUploaded"] is True
    got = sdk.files.download(file=file.name)
    assert hashlib.sha256(got).hexdigest() == hashlib.sha256(data).hexdigest()
    assert hex_hash(got) == file.sha256_hash
    for path in (f"/v1beta/{file.name}:download", f"/download/v1beta/{file.name}:download",
                 f"/download/v1/{file.name}:download"):
        response = http.get(path, params={"alt": "media"})
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("application/octet-stream")
        assert int(response.headers["content-length"]) == len(data)
        assert response.content == data


def test_generated_files_are_downloadable(sdk, gemini_mock, http, tmp_path):
    files = gemini_mock.store.files
    made = files.create_generated(gemini_mock.identity.project, "results", "application/jsonl",
                                  data=b'{"key": 1}\n')
    validate_response("v1beta", "File", made)
    assert made["source"] == "GENERATED" and made["state"] == "ACTIVE" and made["downloadUri"]
    file = sdk.files.get(name=made["name"])
    assert file.source == types.FileSource.GENERATED and file.download_uri
    assert sdk.files.download(file=file) == b'{"key": 1}\n'
    response = http.get(f"/download/v1beta/{made['name']}:download", params={"alt": "media"})
    assert response.content == b'{"key": 1}\n'
    assert response.headers["content-type"].startswith("application/jsonl")
    assert http.get(f"/v1beta/{made['name']}:download").json() == {}   # without alt=media

    source = tmp_path / "out.bin"
    source.write_bytes(b"\x00\x01" * 100_000)
    copied = files.create_generated(gemini_mock.identity, "bin", "application/octet-stream", source_path=source)
    assert copied["sizeBytes"] == "200000" and copied["sha256Hash"] == hex_hash(source.read_bytes())
    assert files.path_of(gemini_mock.identity, copied["name"]).read_bytes() == source.read_bytes()
    assert {f["name"] for f in files.list_files(gemini_mock.identity.project)} == {made["name"], copied["name"]}


# -- audio and other media in prompts ------------------------------------------------------------------

def test_a_minute_of_uploaded_audio_is_1920_tokens(sdk):
    data = wav_bytes(60)
    file = upload(sdk, data, mime_type="audio/wav", display_name="minute.wav")
    assert file.state == types.FileState.ACTIVE and file.video_metadata is None
    assert count(sdk, file) == 1920
    assert count(sdk, types.Part.from_bytes(data=data, mime_type="audio/wav")) == 1920
    for uri in (file.uri, file.name, f"http://elsewhere.example:9/v1beta/{file.name}"):
        assert count(sdk, types.Part.from_uri(file_uri=uri, mime_type="audio/wav")) == 1920

    response = sdk.models.generate_content(model=MODEL, contents=["Describe this audio clip", file])
    assert response.text
    usage = response.usage_metadata
    details = {d.modality: d.token_count for d in usage.prompt_tokens_details}
    assert details[types.MediaModality.AUDIO] == 1920
    assert usage.prompt_token_count == 1920 + details[types.MediaModality.TEXT]


@pytest.mark.parametrize("path", AUDIO_FIXTURES, ids=lambda p: p.name)
def test_audio_fixtures_count_the_same_inline_and_uploaded(sdk, gemini_mock, path):
    mime = AUDIO_MIME[path.suffix]
    data = path.read_bytes()
    file = upload(sdk, data, mime_type=mime)
    expected = media.audio_tokens(audio.duration_seconds(data, mime))
    nominal = float(path.stem.split("_", 1)[1].rstrip("s").replace("_", "."))
    assert abs(expected - 32 * nominal) <= 4          # within an eighth of a second of the nominal length
    assert count(sdk, file) == expected
    assert count(sdk, types.Part.from_bytes(data=data, mime_type=mime)) == expected
    record = gemini_mock.store.files.record_of(gemini_mock.identity, file.name)
    assert record.duration == pytest.approx(audio.duration_seconds(data, mime))


def test_other_media_in_prompts(sdk):
    image = upload(sdk, b"\x89PNG\r\n\x1a\n" + b"\0" * 64, mime_type="image/png")
    assert count(sdk, image) == 258
    text = upload(sdk, b"one two three four", mime_type="text/plain")
    assert count(sdk, text) == sdk.models.count_tokens(model=MODEL, contents="one two three four").total_tokens
    pdf = upload(sdk, b"%PDF-1.4\n1 0 obj << /Type /Page >> endobj\n2 0 obj << /Type /Page >> endobj\n",
                 mime_type="application/pdf")
    assert count(sdk, pdf) == 2 * 258
    blob = upload(sdk, b"PK\x03\x04", mime_type="application/zip")
    assert blob.state == types.FileState.ACTIVE
    with pytest.raises(errors.ClientError) as excinfo:
        count(sdk, blob)
    assert "Unsupported MIME type" in client_error(excinfo, 400, "INVALID_ARGUMENT")


def test_processing_then_active(sdk, gemini_mock, http):
    gemini_mock.store.config.patch({"files": {"processingSeconds": 30}})
    file = upload(sdk, wav_bytes(2), mime_type="audio/wav")
    assert file.state == types.FileState.PROCESSING
    with pytest.raises(errors.ClientError) as excinfo:
        count(sdk, file)
    assert "ACTIVE" in client_error(excinfo, 400, "FAILED_PRECONDITION")
    gemini_mock.advance(30)
    again = sdk.files.get(name=file.name)
    assert again.state == types.FileState.ACTIVE
    assert again.update_time - again.create_time == timedelta(seconds=30)
    assert count(sdk, file) == 64


def test_undecodable_audio_fails(sdk, http):
    file = upload(sdk, b"this is not a wav file at all", mime_type="audio/wav")
    assert file.state == types.FileState.FAILED
    assert file.error.code == 400 and file.error.message
    raw = http.get(f"/v1beta/{file.name}").json()
    validate_response("v1beta", "File", raw)
    assert raw["error"]["code"] == 400
    with pytest.raises(errors.ClientError) as excinfo:
        sdk.models.generate_content(model=MODEL, contents=["hi", file])
    client_error(excinfo, 400, "FAILED_PRECONDITION")


def test_unknown_file_in_a_prompt(sdk):
    with pytest.raises(errors.ClientError) as excinfo:
        count(sdk, types.Part.from_uri(file_uri="files/doesnotexist", mime_type="audio/wav"))
    client_error(excinfo, 403, "PERMISSION_DENIED")


# -- expiry and isolation ------------------------------------------------------------------------------

def test_files_expire_after_48_hours(sdk, gemini_mock, http):
    file = upload(sdk, wav_bytes(1), mime_type="audio/wav")
    keep = upload(sdk, b"later")
    path = gemini_mock.store.files.path_of(gemini_mock.identity, file.name)
    gemini_mock.advance(timedelta(hours=47, minutes=59))
    assert sdk.files.get(name=file.name).state == types.FileState.ACTIVE
    gemini_mock.advance(timedelta(minutes=1))
    with pytest.raises(errors.ClientError) as excinfo:
        sdk.files.get(name=file.name)
    assert "may not exist" in client_error(excinfo, 403, "PERMISSION_DENIED")
    assert not path.exists()
    assert http.get("/v1beta/files").json() == {}
    for response in (http.get(f"/v1beta/{file.name}:download", params={"alt": "media"}),
                     http.delete(f"/v1beta/{file.name}"),
                     http.post(f"/v1beta/models/{MODEL}:countTokens", json={"contents": [{"parts": [
                         {"fileData": {"fileUri": file.uri, "mimeType": "audio/wav"}}]}]})):
        assert_envelope(response, 403, "PERMISSION_DENIED")
    assert not any(path.parent.iterdir())   # listing removed the bytes of the other expired file too
    with pytest.raises(errors.ClientError):
        sdk.files.get(name=keep.name)


def test_expired_files_are_dropped_when_listed(sdk, gemini_mock, http):
    file = upload(sdk, b"bytes")
    path = gemini_mock.store.files.path_of(gemini_mock.identity, file.name)
    gemini_mock.advance(48 * 3600)
    assert path.exists()   # lazily: nothing runs until the files are touched
    assert list(sdk.files.list()) == []
    assert not path.exists()


def test_files_belong_to_the_key_s_project(gemini_mock, http):
    mine = gemini_mock.client(api_version="v1beta")
    theirs = gemini_mock.client(api_key=gemini_mock.other_key("b"), api_version="v1beta")
    file = upload(mine, wav_bytes(1), mime_type="audio/wav")
    other = upload(theirs, b"theirs")
    assert [f.name for f in mine.files.list()] == [file.name]
    assert [f.name for f in theirs.files.list()] == [other.name]
    gemini_mock.store.config.patch({"files": {"downloadUploaded": True}})
    for call in (lambda: theirs.files.get(name=file.name),
                 lambda: theirs.files.delete(name=file.name),
                 lambda: theirs.files.download(file=file.name),
                 lambda: count(theirs, file)):
        with pytest.raises(errors.ClientError) as excinfo:
            call()
        assert "may not exist" in client_error(excinfo, 403, "PERMISSION_DENIED")
    assert mine.files.get(name=file.name).state == types.FileState.ACTIVE
    # the same wording whether the file is someone else's or does not exist
    missing = http.get("/v1beta/files/nosuchfile").json()["error"]["message"]
    foreign = http.get(f"/v1beta/{other.name}").json()["error"]["message"]
    assert missing.replace("nosuchfile", "X") == foreign.replace(other.name.split("/")[1], "X")


def test_requests_without_a_key_are_refused(gemini_mock):
    for response in (httpx.get(f"{gemini_mock.base_url}/v1beta/files"),
                     httpx.post(f"{gemini_mock.base_url}/upload/v1beta/files", json={},
                                headers={"X-Goog-Upload-Protocol": "resumable",
                                         "X-Goog-Upload-Command": "start"})):
        assert_envelope(response, 403, "PERMISSION_DENIED")


# -- the raw resumable protocol --------------------------------------------------------------------------

def test_start_answers_an_upload_url_on_this_server(gemini_mock, http):
    response = start(http, {"file": {"displayName": "camel", "mimeType": "text/csv", "sizeBytes": "5"}}, size=None)
    assert response.status_code == 200
    url = response.headers["x-goog-upload-url"]
    assert url.startswith(f"{gemini_mock.base_url}/upload/v1beta/files?upload_id=")
    assert response.headers["x-goog-upload-chunk-granularity"] == str(CHUNK)
    final = chunk(url, b"a,b,c", 0, finalize=True)
    assert final.headers["x-goog-upload-status"] == "final"
    file = final.json()["file"]
    validate_response("v1beta", "File", file)
    assert file["displayName"] == "camel" and file["mimeType"] == "text/csv" and file["sizeBytes"] == "5"


def test_start_accepts_snake_case_and_integer_sizes(http):
    url = upload_url(http, body={"file": {"display_name": "snake", "mime_type": "text/plain", "size_bytes": 3}},
                     size=None, mime=None)
    file = chunk(url, b"abc", 0, finalize=True).json()["file"]
    assert file["displayName"] == "snake" and file["mimeType"] == "text/plain"


def test_resumable_upload_in_chunks_with_query_and_resume(gemini_mock, http):
    data = os.urandom(300_000)
    url = upload_url(http, size=len(data), mime="application/octet-stream")
    first = chunk(url, data[:100_000], 0)
    assert first.status_code == 200 and first.headers["x-goog-upload-status"] == "active"
    # an interrupted client asks how much arrived, then resumes from there
    asked = query(url)
    assert asked.status_code == 200 and asked.headers["x-goog-upload-status"] == "active"
    assert asked.headers["x-goog-upload-size-received"] == "100000"
    second = chunk(url, data[100_000:200_000], 100_000)
    assert second.headers["x-goog-upload-status"] == "active"
    final = chunk(url, data[200_000:], 200_000, finalize=True)
    assert final.status_code == 200 and final.headers["x-goog-upload-status"] == "final"
    file = final.json()["file"]
    assert file["sizeBytes"] == str(len(data)) and file["sha256Hash"] == hex_hash(data)
    assert gemini_mock.store.files.path_of(gemini_mock.identity, file["name"]).read_bytes() == data
    done = query(url)
    assert done.headers["x-goog-upload-status"] == "final" and done.json()["file"]["name"] == file["name"]
    assert leftover_parts(gemini_mock) == []


def test_a_connection_cut_mid_chunk_keeps_what_arrived(gemini_mock, http):
    data = os.urandom(100_000)
    url = upload_url(http, size=len(data), mime="application/octet-stream")
    target = url.split(gemini_mock.base_url, 1)[1]
    host, port = gemini_mock.base_url.rsplit("/", 1)[1].split(":")
    with socket.create_connection((host, int(port))) as sock:
        sock.sendall((f"POST {target} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Length: {len(data)}\r\n"
                      f"X-Goog-Upload-Command: upload, finalize\r\nX-Goog-Upload-Offset: 0\r\n\r\n").encode())
        sock.sendall(data[:40_000])
    deadline = time.monotonic() + 10
    while (received := query(url).headers["x-goog-upload-size-received"]) != "40000":
        assert time.monotonic() < deadline, received
        time.sleep(0.02)
    assert http.get("/v1beta/files").json() == {}
    final = chunk(url, data[40_000:], 40_000, finalize=True)
    assert final.status_code == 200, final.text
    assert final.json()["file"]["sha256Hash"] == hex_hash(data)


def test_finalize_as_a_separate_command(http):
    url = upload_url(http, size=4)
    chunk(url, b"abcd", 0)
    final = chunk(url, b"", 4, command="finalize")
    assert final.headers["x-goog-upload-status"] == "final" and final.json()["file"]["sizeBytes"] == "4"


def test_chunks_may_carry_the_key_and_no_protocol_header(gemini_mock, http):
    """The JS SDK's way: key and camelCase metadata on every request, sizeBytes as a string."""
    url = upload_url(http, body={"file": {"mimeType": "text/plain", "displayName": "js", "sizeBytes": "2"}},
                     size=2)
    final = chunk(url, b"hi", 0, finalize=True, **{"x-goog-api-key": gemini_mock.api_key})
    assert final.json()["file"]["displayName"] == "js"


def test_wrong_offset(gemini_mock, http):
    url = upload_url(http, size=10)
    assert chunk(url, b"12345", 0).status_code == 200
    wrong = chunk(url, b"67890", 3)
    error = assert_envelope(wrong, 400, "INVALID_ARGUMENT", field="X-Goog-Upload-Offset")
    assert "5" in error["message"]
    assert wrong.headers["x-goog-upload-status"] == "active"
    assert wrong.headers["x-goog-upload-size-received"] == "5"
    assert http.get("/v1beta/files").json() == {}   # nothing became a file
    final = chunk(url, b"67890", 5, finalize=True)   # the upload goes on from the right offset
    assert final.json()["file"]["sizeBytes"] == "10"


def test_missing_offset(http):
    url = upload_url(http, size=2)
    response = httpx.post(url, content=b"ab", headers={"X-Goog-Upload-Command": "upload"})
    assert_envelope(response, 400, "INVALID_ARGUMENT", field="X-Goog-Upload-Offset")


def test_chunk_after_finalize(http):
    url = upload_url(http, size=3)
    name = chunk(url, b"abc", 0, finalize=True).json()["file"]["name"]
    late = chunk(url, b"def", 3)
    error = assert_envelope(late, 400, "FAILED_PRECONDITION")
    assert name in error["message"] and "finalized" in error["message"]
    assert late.headers["x-goog-upload-status"] == "final"
    assert http.get(f"/v1beta/{name}").json()["sizeBytes"] == "3"


def test_more_bytes_than_declared(gemini_mock, http):
    url = upload_url(http, size=4)
    response = chunk(url, b"123456", 0, finalize=True)
    error = assert_envelope(response, 400, "INVALID_ARGUMENT")
    assert "more bytes than" in error["message"]
    assert response.headers["x-goog-upload-status"] == "final"
    assert http.get("/v1beta/files").json() == {}
    assert_envelope(query(url), 404, "NOT_FOUND")   # the upload was cancelled
    assert leftover_parts(gemini_mock) == []


def test_more_bytes_than_declared_without_content_length(gemini_mock, http):
    url = upload_url(http, size=4)

    def body():
        yield b"12"
        yield b"3456"
    response = httpx.post(url, content=body(), headers={"X-Goog-Upload-Command": "upload, finalize",
                                                        "X-Goog-Upload-Offset": "0"})
    assert_envelope(response, 400, "INVALID_ARGUMENT")
    assert leftover_parts(gemini_mock) == []


def test_finalize_before_all_bytes_arrived(http):
    url = upload_url(http, size=6)
    early = chunk(url, b"abc", 0, finalize=True)
    assert_envelope(early, 400, "INVALID_ARGUMENT")
    assert early.headers["x-goog-upload-size-received"] == "3"
    assert http.get("/v1beta/files").json() == {}
    assert chunk(url, b"def", 3, finalize=True).json()["file"]["sizeBytes"] == "6"


def test_unknown_upload_id(gemini_mock):
    url = f"{gemini_mock.base_url}/upload/v1beta/files?upload_id=nosuchupload&upload_protocol=resumable"
    response = chunk(url, b"abc", 0)
    assert_envelope(response, 404, "NOT_FOUND")
    assert response.headers["x-goog-upload-status"] == "final"


def test_unknown_command(http):
    url = upload_url(http, size=1)
    assert_envelope(chunk(url, b"a", 0, command="upload, explode"), 400, "INVALID_ARGUMENT",
                    field="X-Goog-Upload-Command")


def test_cancel(gemini_mock, http):
    url = upload_url(http, size=10)
    chunk(url, b"12345", 0)
    cancelled = httpx.post(url, headers={"X-Goog-Upload-Command": "cancel"})
    assert cancelled.status_code == 200 and cancelled.headers["x-goog-upload-status"] == "cancelled"
    assert_envelope(chunk(url, b"67890", 5), 404, "NOT_FOUND")
    assert leftover_parts(gemini_mock) == []


def test_abandoned_uploads_are_discarded(gemini_mock, http):
    gemini_mock.store.config.patch({"files": {"abandonedUploadSeconds": 3600}})
    url = upload_url(http, size=10)
    chunk(url, b"12345", 0)
    assert len(leftover_parts(gemini_mock)) == 1
    gemini_mock.advance(3599)
    assert query(url).headers["x-goog-upload-size-received"] == "5"   # touching it keeps it alive
    gemini_mock.advance(3600)
    assert http.get("/v1beta/files").json() == {}       # listing sweeps abandoned uploads
    assert leftover_parts(gemini_mock) == []
    assert_envelope(query(url), 404, "NOT_FOUND")


def test_declared_size_over_the_file_limit(gemini_mock, http):
    gemini_mock.store.config.patch({"files": {"maxFileBytes": 1000}})
    error = assert_envelope(start(http, size=1001), 400, "INVALID_ARGUMENT")
    assert "per file" in error["message"]
    error = assert_envelope(start(http, {"file": {"sizeBytes": 5000}}, size=None), 400, "INVALID_ARGUMENT")
    assert "per file" in error["message"]
    with pytest.raises(errors.ClientError) as excinfo:
        upload(gemini_mock.client(), b"x" * 1001)
    assert "per file" in client_error(excinfo, 400, "INVALID_ARGUMENT")
    assert upload(gemini_mock.client(), b"x" * 1000).size_bytes == 1000


def test_received_bytes_over_the_file_limit(gemini_mock, http):
    gemini_mock.store.config.patch({"files": {"maxFileBytes": 1000}})
    url = upload_url(http, size=None)
    assert chunk(url, b"x" * 600, 0).status_code == 200
    response = chunk(url, b"x" * 600, 600, finalize=True)
    error = assert_envelope(response, 400, "INVALID_ARGUMENT")
    assert "per file" in error["message"] and response.headers["x-goog-upload-status"] == "final"
    assert leftover_parts(gemini_mock) == [] and http.get("/v1beta/files").json() == {}


def test_project_limit(gemini_mock, http):
    gemini_mock.store.config.patch({"files": {"maxProjectBytes": 1500}})
    client = gemini_mock.client()
    first = upload(client, b"x" * 1000)
    error = assert_envelope(start(http, size=600), 400, "INVALID_ARGUMENT")
    assert "per project" in error["message"]
    url = upload_url(http, size=None)   # size unknown up front: refused while receiving
    error = assert_envelope(chunk(url, b"x" * 600, 0, finalize=True), 400, "INVALID_ARGUMENT")
    assert "per project" in error["message"]
    other = gemini_mock.client(api_key=gemini_mock.other_key("b"))
    assert upload(other, b"x" * 1000).size_bytes == 1000   # each project has its own room
    client.files.delete(name=first.name)
    assert upload(client, b"x" * 1400).size_bytes == 1400


def test_resumable_path_and_prefixes(gemini_mock, http):
    url = upload_url(http, path="/resumable/upload/v1beta/files", size=2)
    assert "/resumable/upload/v1beta/files?upload_id=" in url
    file = chunk(url, b"ok", 0, finalize=True).json()["file"]
    assert file["uri"] == f"{gemini_mock.base_url}/v1beta/{file['name']}"

    url = upload_url(http, path="/some/prefix/upload/v1/files", size=2)
    assert url.startswith(f"{gemini_mock.base_url}/some/prefix/upload/v1/files?upload_id=")
    file = chunk(url, b"ok", 0, finalize=True).json()["file"]
    assert file["uri"] == f"{gemini_mock.base_url}/some/prefix/v1beta/{file['name']}"


def test_sdk_with_a_prefixed_base_url(gemini_mock):
    client = gemini_mock.client(api_key=gemini_mock.api_key)
    prefixed = type(client)(api_key=gemini_mock.api_key,
                            http_options=types.HttpOptions(base_url=f"{gemini_mock.base_url}/gw/"))
    file = upload(prefixed, b"prefixed")
    assert file.uri == f"{gemini_mock.base_url}/gw/v1beta/{file.name}"
    assert prefixed.files.get(name=file.name).size_bytes == 8


def test_start_with_a_wrong_command(http):
    assert_envelope(start(http, size=1, **{"X-Goog-Upload-Command": "upload"}), 400, "INVALID_ARGUMENT",
                    field="X-Goog-Upload-Command")


def test_mime_type_from_the_upload_header_then_the_bytes(http):
    url = upload_url(http, body={"file": {}}, size=None, mime="audio/wav")
    assert chunk(url, wav_bytes(1), 0, finalize=True).json()["file"]["mimeType"] == "audio/wav"
    url = upload_url(http, body={"file": {}}, size=None, mime=None)
    final = chunk(url, b"plain", 0, finalize=True, **{"Content-Type": "text/markdown"})
    assert final.json()["file"]["mimeType"] == "text/markdown"
    url = upload_url(http, body={"file": {}}, size=None, mime=None)
    final = chunk(url, wav_bytes(1), 0, finalize=True, **{"Content-Type": "application/x-www-form-urlencoded"})
    assert final.json()["file"]["mimeType"] == "audio/wav"


# -- the simple upload forms ---------------------------------------------------------------------------

def test_multipart_upload(gemini_mock, http):
    data = os.urandom(200_000) + b"\r\n--not-the-boundary"
    boundary = "b0undary"
    body = (f"--{boundary}\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n"
            f'{{"file": {{"display_name": "multi", "mimeType": "application/octet-stream"}}}}\r\n'
            f"--{boundary}\r\nContent-Type: application/octet-stream\r\n\r\n").encode() + data + \
        f"\r\n--{boundary}--\r\n".encode()

    def pieces():   # sent in small pieces, so the boundary falls across them
        for i in range(0, len(body), 7777):
            yield body[i:i + 7777]
    response = http.post("/upload/v1beta/files", params={"uploadType": "multipart"}, content=pieces(),
                         headers={"Content-Type": f"multipart/related; boundary={boundary}"})
    assert response.status_code == 200, response.text
    file = response.json()["file"]
    validate_response("v1beta", "File", file)
    assert file["displayName"] == "multi" and file["sizeBytes"] == str(len(data))
    assert file["sha256Hash"] == hex_hash(data)
    assert gemini_mock.store.files.path_of(gemini_mock.identity, file["name"]).read_bytes() == data


def test_malformed_multipart(http):
    response = http.post("/upload/v1beta/files", params={"uploadType": "multipart"}, content=b"--x\r\nbroken",
                         headers={"Content-Type": "multipart/related; boundary=x"})
    assert_envelope(response, 400, "INVALID_ARGUMENT")
    response = http.post("/upload/v1beta/files", params={"uploadType": "multipart"}, content=b"abc",
                         headers={"Content-Type": "text/plain"})
    assert_envelope(response, 400, "INVALID_ARGUMENT", field="Content-Type")


@pytest.mark.parametrize("params", [{"uploadType": "media"}, {}])
def test_raw_media_upload(gemini_mock, http, params):
    data = wav_bytes(2)
    response = http.post("/upload/v1beta/files", params=params, content=data,
                         headers={"Content-Type": "audio/wav"})
    assert response.status_code == 200, response.text
    file = response.json()["file"]
    validate_response("v1beta", "File", file)
    assert file["mimeType"] == "audio/wav" and file["sizeBytes"] == str(len(data))
    assert gemini_mock.client().models.count_tokens(model=MODEL, contents=[types.Part.from_uri(
        file_uri=file["uri"], mime_type="audio/wav")]).total_tokens == 64


def test_raw_media_upload_over_the_limit(gemini_mock, http):
    gemini_mock.store.config.patch({"files": {"maxFileBytes": 100}})
    response = http.post("/upload/v1beta/files", params={"uploadType": "media"}, content=b"x" * 101,
                         headers={"Content-Type": "text/plain"})
    assert "per file" in assert_envelope(response, 400, "INVALID_ARGUMENT")["message"]
    assert leftover_parts(gemini_mock) == []


def test_metadata_only_create(gemini_mock, http):
    response = http.post("/v1beta/files", json={"file": {"display_name": "meta", "name": "files/meta-only"}})
    assert response.status_code == 200
    validate_response("v1beta", "CreateFileResponse", response.json())
    file = response.json()["file"]
    assert file["name"] == "files/meta-only" and file["sizeBytes"] == "0" and file["displayName"] == "meta"
    assert_envelope(http.post("/v1beta/files", json={"file": {"name": "files/meta-only"}}), 409, "ALREADY_EXISTS")
    assert leftover_parts(gemini_mock) == []
    assert_envelope(http.post("/v1beta/files", json={"file": {"bogus": 1}}), 400, "INVALID_ARGUMENT")


# -- the backend without HTTP ---------------------------------------------------------------------------

def test_backend_api_and_reset(gemini_mock):
    files = gemini_mock.store.files
    project = gemini_mock.identity.project
    made = files.create_generated(project, "direct", "text/plain", data=b"abc def")
    assert files.get_file(gemini_mock.identity, made["name"]) == made
    assert files.get_file(project, made["name"].split("/")[1])["name"] == made["name"]
    info = files.media_info(gemini_mock.identity, made["uri"])
    assert info.modality == "TEXT" and info.tokens == 2
    path = files.path_of(gemini_mock.identity, made["name"])
    assert path.read_bytes() == b"abc def"
    assert [f["name"] for f in files.list_files(project)] == [made["name"]]
    files.delete_file(gemini_mock.identity, made["name"])
    assert not path.exists() and files.list_files(project) == []
    with pytest.raises(Exception) as excinfo:
        files.get_file(gemini_mock.identity, made["name"])
    assert getattr(excinfo.value, "code", None) == 403

    again = files.create_generated(project, "again", "text/plain", data=b"x")
    path = files.path_of(project, again["name"])
    gemini_mock.store.reset()
    assert not path.exists() and files.list_files(project) == []


def test_file_ids_are_deterministic(gemini_mock):
    client = gemini_mock.client()
    first = [upload(client, b"a").name for _ in range(3)]
    gemini_mock.store.reset()
    assert [upload(client, b"a").name for _ in range(3)] == first
    assert len(set(first)) == 3


def test_paths_without_a_version(gemini_mock):
    client = gemini_mock.client(api_version="")
    file = upload(client, b"no version")
    assert file.uri == f"{gemini_mock.base_url}/v1beta/{file.name}"
    assert client.files.get(name=file.name).size_bytes == 10
