"""The REST examples of the Batch API guide, run with bash, curl and jq against the emulator.

Each script is the guide's REST tab as written there; only the host is replaced, and the placeholders the
guide asks the reader to fill in (`BATCH_NAME="batches/123456"`, `BATCH_INPUT_FILE='files/123456'`) get the
names the earlier steps produced.

One thing in the guide does not hold for the API itself: its status script compares `.metadata.state` with
`JOB_STATE_SUCCEEDED` etc., the SDKs' names, while the API answers the BatchState enum
(`BATCH_STATE_SUCCEEDED`), which the emulator answers too (the SDKs map it). So the verbatim script takes
none of its branches once the job is done; the test runs it as written, and then with the state names
corrected, which exercises the result-reading and download branches.
"""
from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from support import assert_envelope

MISSING = [tool for tool in ("bash", "curl", "jq", "file") if shutil.which(tool) is None]
pytestmark = pytest.mark.skipif(
    bool(MISSING), reason=f"the guide's scripts need {', '.join(MISSING)} (apt-get install -y {' '.join(MISSING)})")

HOST = "https://generativelanguage.googleapis.com"
DONE = 15   # the default batch.pendingSeconds + batch.runningSeconds

# "Inline requests", REST tab.
CREATE_INLINE = r'''
 curl https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:batchGenerateContent \
 -H "x-goog-api-key: $GEMINI_API_KEY" \
 -X POST \
 -H "Content-Type:application/json" \
 -d '{
 "batch": {
 "display_name": "my-batch-requests",
 "input_config": {
 "requests": {
 "requests": [
 {
 "request": {"contents": [{"parts": [{"text": "Describe the process of photosynthesis."}]}]},
 "metadata": {
 "key": "request-1"
 }
 },
 {
 "request": {"contents": [{"parts": [{"text": "Describe the process of photosynthesis."}]}]},
 "metadata": {
 "key": "request-2"
 }
 }
 ]
 }
 }
 }
 }'
'''

# "Input file", REST tab: write the JSONL and upload it.
UPLOAD_INPUT = r'''
 tmp_batch_input_file=batch_input.tmp
 echo -e '{"contents": [{"parts": [{"text": "Describe the process of photosynthesis."}]}], "generationConfig": {"temperature": 0.7}}\n{"contents": [{"parts": [{"text": "What are the main ingredients in a Margherita pizza?"}]}]}' > batch_input.tmp
 MIME_TYPE=$(file -b --mime-type "${tmp_batch_input_file}")
 NUM_BYTES=$(wc -c < "${tmp_batch_input_file}")
 DISPLAY_NAME=BatchInput

 tmp_header_file=upload-header.tmp

 # Initial resumable request defining metadata.
 # The upload url is in the response headers dump them to a file.
 curl "https://generativelanguage.googleapis.com/upload/v1beta/files" \
 -D "${tmp_header_file}" \
 -H "x-goog-api-key: $GEMINI_API_KEY" \
 -H "X-Goog-Upload-Protocol: resumable" \
 -H "X-Goog-Upload-Command: start" \
 -H "X-Goog-Upload-Header-Content-Length: ${NUM_BYTES}" \
 -H "X-Goog-Upload-Header-Content-Type: ${MIME_TYPE}" \
 -H "Content-Type: application/jsonl" \
 -d "{'file': {'display_name': '${DISPLAY_NAME}'}}" 2> /dev/null

 upload_url=$(grep -i "x-goog-upload-url: " "${tmp_header_file}" | cut -d" " -f2 | tr -d "\r")
 rm "${tmp_header_file}"

 # Upload the actual bytes.
 curl "${upload_url}" \
 -H "Content-Length: ${NUM_BYTES}" \
 -H "X-Goog-Upload-Offset: 0" \
 -H "X-Goog-Upload-Command: upload, finalize" \
 --data-binary "@${tmp_batch_input_file}" 2> /dev/null > file_info.json

 file_uri=$(jq ".file.uri" file_info.json)
'''

# The BatchGenerateContent call with that file, REST tab.
CREATE_FROM_FILE = r'''
 # Set the File ID taken from the upload response.
 BATCH_INPUT_FILE='files/123456'
 curl https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:batchGenerateContent \
 -X POST \
 -H "x-goog-api-key: $GEMINI_API_KEY" \
 -H "Content-Type:application/json" \
 -d "{
 'batch': {
 'display_name': 'my-batch-requests',
 'input_config': {
 'file_name': '${BATCH_INPUT_FILE}'
 }
 }
 }"
'''

# "Retrieving results", REST tab.
STATUS = r'''
 BATCH_NAME="batches/123456" # Your batch job name

 curl https://generativelanguage.googleapis.com/v1beta/$BATCH_NAME \
 -H "x-goog-api-key: $GEMINI_API_KEY" \
 -H "Content-Type:application/json" 2> /dev/null > batch_status.json

 if jq -r '.done' batch_status.json | grep -q "false"; then
 echo "Batch has not finished processing"
 fi

 batch_state=$(jq -r '.metadata.state' batch_status.json)
 if [[ $batch_state = "JOB_STATE_SUCCEEDED" ]]; then
 if [[ $(jq '.response | has("inlinedResponses")' batch_status.json) = "true" ]]; then
 jq -r '.response.inlinedResponses' batch_status.json
 exit
 fi
 responses_file_name=$(jq -r '.response.responsesFile' batch_status.json)
 curl https://generativelanguage.googleapis.com/download/v1beta/$responses_file_name:download?alt=media \
 -H "x-goog-api-key: $GEMINI_API_KEY" 2> /dev/null
 elif [[ $batch_state = "JOB_STATE_FAILED" ]]; then
 jq '.error' batch_status.json
 elif [[ $batch_state == "JOB_STATE_CANCELLED" ]]; then
 echo "Batch was cancelled by the user"
 elif [[ $batch_state == "JOB_STATE_EXPIRED" ]]; then
 echo "Batch expired after 48 hours"
 fi
'''

# "Cancelling a batch job", REST tab.
CANCEL = r'''
 BATCH_NAME="batches/123456" # Your batch job name

 # Cancel the batch
 curl https://generativelanguage.googleapis.com/v1beta/$BATCH_NAME:cancel \
 -H "x-goog-api-key: $GEMINI_API_KEY" \

 # Confirm that the status of the batch after cancellation is JOB_STATE_CANCELLED
 curl https://generativelanguage.googleapis.com/v1beta/$BATCH_NAME \
 -H "x-goog-api-key: $GEMINI_API_KEY" \
 -H "Content-Type:application/json" 2> /dev/null | jq -r '.metadata.state'
'''

# "Deleting a batch job", REST tab.
DELETE = r'''
 BATCH_NAME="batches/123456" # Your batch job name

 # Delete the batch job
 curl https://generativelanguage.googleapis.com/v1beta/$BATCH_NAME:delete \
 -H "x-goog-api-key: $GEMINI_API_KEY"
'''


@pytest.fixture
def run(gemini_mock, tmp_path):
    def run_script(script: str, **placeholders: str) -> str:
        script = script.replace(HOST, gemini_mock.base_url)
        for old, new in placeholders.items():
            assert old in script, old
            script = script.replace(old, new)
        done = subprocess.run(["bash", "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=60,
                              env={"PATH": "/usr/bin:/bin:/usr/local/bin", "GEMINI_API_KEY": gemini_mock.api_key})
        assert done.returncode == 0, done.stderr
        return done.stdout
    return run_script


def fixed_states(script: str) -> str:
    return script.replace('"JOB_STATE_', '"BATCH_STATE_')


def status(run, name: str, script: str = STATUS) -> str:
    return run(script, **{"batches/123456": name})


def test_create_inline_poll_and_read_results(run, gemini_mock, tmp_path):
    created = json.loads(run(CREATE_INLINE))
    name = created["name"]
    assert name.startswith("batches/") and created["metadata"]["displayName"] == "my-batch-requests"
    assert created["metadata"]["state"] == "BATCH_STATE_PENDING"

    assert status(run, name).strip() == "Batch has not finished processing"
    gemini_mock.advance(DONE)
    assert status(run, name) == ""          # the guide's JOB_STATE_ names match no state of the API
    answer = json.loads(status(run, name, fixed_states(STATUS)))
    items = answer["inlinedResponses"]
    assert [item["metadata"]["key"] for item in items] == ["request-1", "request-2"]
    assert items[0]["response"]["candidates"][0]["content"]["parts"][0]["text"]
    assert json.loads((tmp_path / "batch_status.json").read_text())["done"] is True


def test_create_from_an_uploaded_file_and_download_the_results(run, gemini_mock, tmp_path):
    run(UPLOAD_INPUT)
    file_name = json.loads((tmp_path / "file_info.json").read_text())["file"]["name"]
    created = json.loads(run(CREATE_FROM_FILE, **{"files/123456": file_name}))
    name = created["name"]
    assert created["metadata"]["inputConfig"] == {"fileName": file_name}
    assert created["metadata"]["batchStats"]["requestCount"] == "2"
    gemini_mock.advance(DONE)
    lines = [json.loads(line) for line in status(run, name, fixed_states(STATUS)).splitlines() if line.strip()]
    assert len(lines) == 2 and all(set(line) == {"response"} for line in lines)   # bare requests: no key
    assert lines[1]["response"]["candidates"][0]["content"]["parts"][0]["text"]


def test_a_failed_job_prints_its_error(run, gemini_mock, tmp_path):
    (tmp_path / "batch_input.tmp").write_bytes(b"\x00\x01 not json lines")
    script = UPLOAD_INPUT.replace(" echo -e ", " : echo -e ")   # keep the bytes written above
    run(script)
    file_name = json.loads((tmp_path / "file_info.json").read_text())["file"]["name"]
    name = json.loads(run(CREATE_FROM_FILE, **{"files/123456": file_name}))["name"]
    gemini_mock.advance(DONE)
    error = json.loads(status(run, name, fixed_states(STATUS)))
    assert error["code"] == 3 and "JSON Lines" in error["message"]


def test_cancel_then_delete(run, gemini_mock, http):
    name = json.loads(run(CREATE_INLINE))["name"]
    gemini_mock.advance(1)
    output = run(CANCEL, **{"batches/123456": name})
    assert output.strip().endswith("BATCH_STATE_CANCELLED")      # after the cancel answer, {}
    assert status(run, name, fixed_states(STATUS)).strip() == "Batch was cancelled by the user"

    assert json.loads(run(DELETE, **{"batches/123456": name})) == {}
    assert_envelope(http.get(f"/v1beta/{name}"), 403, "PERMISSION_DENIED")


def test_an_expired_job(run, gemini_mock):
    name = json.loads(run(CREATE_INLINE))["name"]
    gemini_mock.store.batches.set_timings(name, pending=72 * 3600)
    gemini_mock.advance(48 * 3600)
    assert status(run, name, fixed_states(STATUS)).strip() == "Batch expired after 48 hours"
