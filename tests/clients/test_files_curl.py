"""The REST upload script of the audio guide, run verbatim with bash and curl; only the host is replaced."""
from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from gemini_mockserver.paths import FIXTURES

# From the "Upload an audio file" section of the audio guide (REST tab), unchanged.
SCRIPT = r'''
 AUDIO_PATH="path/to/sample.mp3"
 MIME_TYPE=$(file -b --mime-type "${AUDIO_PATH}")
 NUM_BYTES=$(wc -c < "${AUDIO_PATH}")
 DISPLAY_NAME=AUDIO

 tmp_header_file=upload-header.tmp

 # Initial resumable request defining metadata.
 # The upload url is in the response headers dump them to a file.
 curl "https://generativelanguage.googleapis.com/upload/v1beta/files" \
 -H "x-goog-api-key: $GEMINI_API_KEY" \
 -D upload-header.tmp \
 -H "X-Goog-Upload-Protocol: resumable" \
 -H "X-Goog-Upload-Command: start" \
 -H "X-Goog-Upload-Header-Content-Length: ${NUM_BYTES}" \
 -H "X-Goog-Upload-Header-Content-Type: ${MIME_TYPE}" \
 -H "Content-Type: application/json" \
 -d "{'file': {'display_name': '${DISPLAY_NAME}'}}" 2> /dev/null

 upload_url=$(grep -i "x-goog-upload-url: " "${tmp_header_file}" | cut -d" " -f2 | tr -d "\r")
 rm "${tmp_header_file}"

 # Upload the actual bytes.
 curl "${upload_url}" \
 -H "Content-Length: ${NUM_BYTES}" \
 -H "X-Goog-Upload-Offset: 0" \
 -H "X-Goog-Upload-Command: upload, finalize" \
 --data-binary "@${AUDIO_PATH}" 2> /dev/null > file_info.json

 file_uri=$(jq ".file.uri" file_info.json)
 echo file_uri=$file_uri

 # Now generate content using that file
 curl "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:generateContent" \
 -H "x-goog-api-key: $GEMINI_API_KEY" \
 -H 'Content-Type: application/json' \
 -X POST \
 -d '{
 "contents": [{
 "parts":[
 {"text": "Describe this audio clip"},
 {"file_data":{"mime_type": "${MIME_TYPE}", "file_uri": '$file_uri'}}]
 }]
 }' 2> /dev/null > response.json

 cat response.json
 echo

 jq ".candidates[].content.parts[].text" response.json
'''

MISSING = [tool for tool in ("bash", "curl", "jq", "file") if shutil.which(tool) is None]


@pytest.mark.skipif(bool(MISSING), reason=f"the guide's script needs {', '.join(MISSING)} (apt-get install -y "
                                          f"{' '.join(MISSING)})")
def test_the_audio_guide_upload_script(gemini_mock, tmp_path):
    sample = tmp_path / "path" / "to" / "sample.mp3"
    sample.parent.mkdir(parents=True)
    shutil.copy(FIXTURES / "audio" / "tone_2_5s.mp3", sample)
    script = SCRIPT.replace("https://generativelanguage.googleapis.com", gemini_mock.base_url)
    done = subprocess.run(["bash", "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=60,
                          env={"PATH": "/usr/bin:/bin:/usr/local/bin", "GEMINI_API_KEY": gemini_mock.api_key})
    assert done.returncode == 0, done.stderr

    info = json.loads((tmp_path / "file_info.json").read_text())["file"]
    assert info["displayName"] == "AUDIO"
    assert info["mimeType"] == "audio/mpeg"     # what `file --mime-type` says of an MP3
    assert info["sizeBytes"] == str(sample.stat().st_size)
    assert info["state"] == "ACTIVE"
    assert f'file_uri="{gemini_mock.base_url}/v1beta/{info["name"]}"' in done.stdout

    response = json.loads((tmp_path / "response.json").read_text())
    assert "error" not in response, response
    text = response["candidates"][0]["content"]["parts"][0]["text"]
    assert text and json.dumps(text) in done.stdout   # jq printed it
    usage = response["usageMetadata"]
    audio = [d for d in usage["promptTokensDetails"] if d["modality"] == "AUDIO"]
    assert audio == [{"modality": "AUDIO", "tokenCount": 80}]   # 2.5 s x 32 tokens
    assert not (tmp_path / "upload-header.tmp").exists()

    uploads = [e for e in gemini_mock.requests if "/upload/" in e["path"]]
    assert [e["status"] for e in uploads] == [200, 200]   # the chunk is attributed to the key's project
