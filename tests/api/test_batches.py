"""The Batch API through the real google-genai SDK (on /v1, its default, and /v1beta) and over plain HTTP:
inline and file batches, embeddings batches, the clock-driven states, cancel, delete, update, per-line
failures, isolation between keys and every error answer."""
from __future__ import annotations

import io
import json
import warnings

import pytest
from google.genai import errors, types

from gemini_mockserver import inference
from gemini_mockserver.errors import ApiError
from gemini_mockserver.generation.tokens import count_text
from gemini_mockserver.schema import known_messages
from gemini_mockserver.wire import parse_time

from support import assert_envelope, validate_response

MODEL = "gemini-2.5-flash"
EMBED_MODEL = "gemini-embedding-001"
PENDING, RUNNING = 5, 10      # the config's default batch.pendingSeconds and batch.runningSeconds
DONE = PENDING + RUNNING


def text_request(text: str, **extra) -> dict:
    return {"contents": [{"role": "user", "parts": [{"text": text}]}], **extra}


def embed_request(text: str, **extra) -> dict:
    return {"content": {"parts": [{"text": text}]}, **extra}


def jsonl(*lines) -> bytes:
    return b"".join((line if isinstance(line, bytes) else json.dumps(line).encode()) + b"\n" for line in lines)


@pytest.fixture(params=["v1", "v1beta"])
def sdk(request, gemini_mock):
    return gemini_mock.client() if request.param == "v1" else gemini_mock.client(api_version="v1beta")


@pytest.fixture(autouse=True)
def _quiet_experimental():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def upload(client, data: bytes, name: str = "requests.jsonl") -> str:
    file = client.files.upload(file=io.BytesIO(data),
                               config=types.UploadFileConfig(mime_type="application/jsonl", display_name=name))
    return file.name


def check_operation(operation: dict, version: str = "v1beta") -> None:
    """The Operation matches the recorded schema (typed when the batch messages are recorded)."""
    kind = operation["metadata"]["@type"].rsplit(".", 1)[-1]
    typed = f"{kind}Operation"
    validate_response(version, typed if typed in known_messages(version) else "Operation", operation)
    if kind in known_messages(version):
        validate_response(version, kind, {k: v for k, v in operation["metadata"].items() if k != "@type"})


def create_inline(http, requests: list[dict], model: str = MODEL, **batch) -> dict:
    body = {"batch": {"displayName": "t", "inputConfig": {"requests": {"requests": requests}}, **batch}}
    answer = http.post(f"/v1beta/models/{model}:batchGenerateContent", json=body)
    assert answer.status_code == 200, answer.text
    return answer.json()


def create_from_file(http, file_name: str, model: str = MODEL, verb: str = "batchGenerateContent") -> dict:
    answer = http.post(f"/v1beta/models/{model}:{verb}",
                       json={"batch": {"display_name": "f", "input_config": {"file_name": file_name}}})
    assert answer.status_code == 200, answer.text
    return answer.json()


def stats(operation: dict) -> dict:
    raw = operation["metadata"]["batchStats"]
    return {key: int(raw.get(key, "0")) for key in
            ("requestCount", "successfulRequestCount", "failedRequestCount", "pendingRequestCount")}


def download(http, name: str) -> list[dict]:
    answer = http.get(f"/download/v1beta/{name}:download", params={"alt": "media"})
    assert answer.status_code == 200, answer.text
    return [json.loads(line) for line in answer.content.decode().splitlines()]


# -- the SDK -------------------------------------------------------------------------------------------

def test_inline_batch_through_the_sdk(sdk, gemini_mock):
    requests = [
        types.InlinedRequest(contents="Tell me a one-sentence joke.", metadata={"key": "joke"}),
        types.InlinedRequest(contents="Why is the sky blue?", metadata={"key": "sky"},
                             config=types.GenerateContentConfig(temperature=0.2)),
    ]
    job = sdk.batches.create(model=MODEL, src=requests, config={"display_name": "inlined-requests-job-1"})
    assert job.name.startswith("batches/")
    assert job.state == types.JobState.JOB_STATE_PENDING
    assert job.display_name == "inlined-requests-job-1" and job.model == f"models/{MODEL}"
    assert job.create_time and job.dest is None and not job.done

    gemini_mock.advance(PENDING)
    assert sdk.batches.get(name=job.name).state == types.JobState.JOB_STATE_RUNNING
    gemini_mock.advance(RUNNING)
    done = sdk.batches.get(name=job.name)
    assert done.state == types.JobState.JOB_STATE_SUCCEEDED and done.done
    assert done.end_time and done.end_time >= done.create_time
    answers = done.dest.inlined_responses
    assert [a.metadata for a in answers] == [{"key": "joke"}, {"key": "sky"}]
    direct = [sdk.models.generate_content(model=MODEL, contents="Tell me a one-sentence joke."),
              sdk.models.generate_content(model=MODEL, contents="Why is the sky blue?",
                                          config=types.GenerateContentConfig(temperature=0.2))]
    assert [a.response.text for a in answers] == [d.text for d in direct]
    assert all(a.error is None for a in answers)


def test_file_batch_through_the_sdk(sdk, gemini_mock):
    lines = [{"key": "request-1", "request": text_request("Describe the process of photosynthesis.",
                                                          generation_config={"temperature": 0.7})},
             {"key": "request-2", "request": text_request("What are the main ingredients in a Margherita pizza?")}]
    name = upload(sdk, jsonl(*lines), "my-batch-requests")
    job = sdk.batches.create(model=MODEL, src=name, config={"display_name": "file-upload-job-1"})
    assert job.state == types.JobState.JOB_STATE_PENDING
    gemini_mock.advance(DONE)
    done = sdk.batches.get(name=job.name)
    assert done.state == types.JobState.JOB_STATE_SUCCEEDED
    result_file = done.dest.file_name
    assert result_file.startswith("files/") and result_file != name
    info = sdk.files.get(name=result_file)
    assert info.source == types.FileSource.GENERATED
    results = [json.loads(line) for line in sdk.files.download(file=result_file).decode().splitlines()]
    assert [r["key"] for r in results] == ["request-1", "request-2"]
    direct = sdk.models.generate_content(model=MODEL, contents="Describe the process of photosynthesis.",
                                         config=types.GenerateContentConfig(temperature=0.7))
    assert results[0]["response"]["candidates"][0]["content"]["parts"][0]["text"] == direct.text


def test_embeddings_batches_through_the_sdk(sdk, gemini_mock, http):
    job = sdk.batches.create_embeddings(
        model=EMBED_MODEL,
        src={"inlined_requests": {"contents": ["first text", "second text"],
                                  "config": {"output_dimensionality": 8}}},
        config={"display_name": "Inlined embeddings batch"})
    assert job.state == types.JobState.JOB_STATE_PENDING
    gemini_mock.advance(DONE)
    done = sdk.batches.get(name=job.name)
    assert done.state == types.JobState.JOB_STATE_SUCCEEDED
    answers = done.dest.inlined_embed_content_responses
    assert len(answers) == 2
    direct = http.post(f"/v1beta/models/{EMBED_MODEL}:embedContent",
                       json=embed_request("first text", outputDimensionality=8)).json()
    assert answers[0].response.embedding.values == direct["embedding"]["values"]
    assert len(answers[1].response.embedding.values) == 8
    # SingleEmbedContentResponse: each result carries its request's tokens, an int64 on the wire
    assert [a.response.token_count for a in answers] == [count_text("first text"), count_text("second text")]
    wire = http.get(f"/v1beta/{job.name}").json()["response"]["inlinedResponses"]["inlinedResponses"]
    assert wire[0]["response"]["tokenCount"] == str(count_text("first text"))

    name = upload(sdk, jsonl({"key": "request_1", "request": {"output_dimensionality": 3,
                                                              "content": {"parts": [{"text": "hello"}]}}}))
    file_job = sdk.batches.create_embeddings(model=EMBED_MODEL, src={"file_name": name},
                                             config={"display_name": "Input embeddings batch"})
    gemini_mock.advance(DONE)
    finished = sdk.batches.get(name=file_job.name)
    assert finished.state == types.JobState.JOB_STATE_SUCCEEDED
    lines = [json.loads(x) for x in sdk.files.download(file=finished.dest.file_name).decode().splitlines()]
    assert lines[0]["key"] == "request_1" and len(lines[0]["response"]["embedding"]["values"]) == 3


def test_list_cancel_delete_through_the_sdk(sdk, gemini_mock):
    names = [sdk.batches.create(model=MODEL, src=[{"contents": f"job {i}"}], config={"display_name": f"j{i}"}).name
             for i in range(3)]
    assert len(set(names)) == 3
    page = sdk.batches.list(config={"page_size": 2})
    assert len(page.page) == 2
    listed = [job.name for job in page]           # the pager fetches the next page by itself
    assert sorted(listed) == sorted(names)
    assert listed[0] == names[-1]                 # newest first

    sdk.batches.cancel(name=names[0])
    cancelled = sdk.batches.get(name=names[0])
    assert cancelled.state == types.JobState.JOB_STATE_CANCELLED and cancelled.done and cancelled.dest is None

    sdk.batches.delete(name=names[1])
    with pytest.raises(errors.ClientError) as missing:
        sdk.batches.get(name=names[1])
    assert missing.value.code == 403 and missing.value.status == "PERMISSION_DENIED"
    assert names[1] not in [job.name for job in sdk.batches.list()]


def test_cancel_and_delete_answer_empty_objects(http):
    name = create_inline(http, [{"request": text_request("x")}])["name"]
    for answer in (http.post(f"/v1beta/{name}:cancel"), http.delete(f"/v1beta/{name}")):
        assert answer.status_code == 200 and answer.json() == {}


# -- results -------------------------------------------------------------------------------------------

def test_inline_results_are_exactly_direct_generate_content(http, gemini_mock):
    requests = [text_request("alpha"), text_request("beta", generationConfig={"candidateCount": 2}),
                text_request("gamma", systemInstruction={"parts": [{"text": "be brief"}]})]
    operation = create_inline(http, [{"request": r, "metadata": {"key": f"k{i}", "n": i}}
                                     for i, r in enumerate(requests)])
    gemini_mock.advance(DONE)
    done = http.get(f"/v1beta/{operation['name']}").json()
    check_operation(done)
    assert done["done"] is True
    items = done["metadata"]["output"]["inlinedResponses"]["inlinedResponses"]
    assert [item["metadata"] for item in items] == [{"key": f"k{i}", "n": i} for i in range(3)]
    for item, request in zip(items, requests):
        direct = http.post(f"/v1beta/models/{MODEL}:generateContent", json=request).json()
        assert item["response"] == direct
        validate_response("v1beta", "GenerateContentResponse", item["response"])
    # REST users read the same output under `response`
    assert done["response"]["@type"].endswith("GenerateContentBatchOutput")
    assert done["response"]["inlinedResponses"] == done["metadata"]["output"]["inlinedResponses"]
    assert stats(done) == {"requestCount": 3, "successfulRequestCount": 3, "failedRequestCount": 0,
                           "pendingRequestCount": 0}


def test_operation_shape_while_pending(http):
    operation = create_inline(http, [{"request": text_request("x")}], priority="7")
    check_operation(operation)
    meta = operation["metadata"]
    assert operation["name"] == meta["name"] and operation["name"].startswith("batches/")
    assert meta["@type"] == "type.googleapis.com/google.ai.generativelanguage.v1main.GenerateContentBatch"
    assert meta["state"] == "BATCH_STATE_PENDING" and meta["model"] == f"models/{MODEL}"
    assert meta["batchStats"] == {"requestCount": "1", "pendingRequestCount": "1"}
    assert meta["createTime"] == meta["updateTime"] and "endTime" not in meta and "output" not in meta
    assert meta["priority"] == "7" and meta["displayName"] == "t"
    assert meta["inputConfig"]["requests"]["requests"][0]["request"]["contents"][0]["parts"][0]["text"] == "x"
    assert operation["done"] is False and "response" not in operation and "error" not in operation


def test_file_lines_keyed_and_bare(http, sdk, gemini_mock):
    keyed = upload(sdk, jsonl({"key": "a", "request": text_request("one")},
                              {"key": "b", "request": text_request("two")}))
    bare = upload(sdk, jsonl(text_request("one", generationConfig={"temperature": 0.7}), text_request("two")))
    first, second = create_from_file(http, keyed), create_from_file(http, bare)
    assert first["metadata"]["inputConfig"] == {"fileName": keyed}
    assert stats(first)["requestCount"] == 2
    gemini_mock.advance(DONE)
    keyed_lines = download(http, http.get(f"/v1beta/{first['name']}").json()["response"]["responsesFile"])
    bare_lines = download(http, http.get(f"/v1beta/{second['name']}").json()["metadata"]["output"]["responsesFile"])
    assert [set(line) for line in keyed_lines] == [{"key", "response"}] * 2
    assert [set(line) for line in bare_lines] == [{"response"}] * 2         # no key: results in input order
    direct = http.post(f"/v1beta/models/{MODEL}:generateContent", json=text_request("two")).json()
    assert keyed_lines[1]["response"] == direct == bare_lines[1]["response"]


def test_a_bad_line_fails_alone(http, sdk, gemini_mock):
    data = jsonl({"key": "good-1", "request": text_request("fine")},
                 b'{"key": "broken", "request": {"contents": [',                       # not JSON
                 {"key": "unknown-field", "request": {"contents": [], "bogus": 1}},    # not a request
                 {"key": "unknown-model", "request": {**text_request("hi"), "model": "models/no-such-model"}},
                 {"key": "no-request"},
                 b"",                                                                   # blank: skipped
                 {"key": "good-2", "request": text_request("also fine")})
    operation = create_from_file(http, upload(sdk, data))
    assert stats(operation)["requestCount"] == 6
    gemini_mock.advance(DONE)
    done = http.get(f"/v1beta/{operation['name']}").json()
    assert done["metadata"]["state"] == "BATCH_STATE_SUCCEEDED"
    assert stats(done) == {"requestCount": 6, "successfulRequestCount": 2, "failedRequestCount": 4,
                           "pendingRequestCount": 0}
    lines = download(http, done["response"]["responsesFile"])        # one per input line, in input order
    assert [line.get("key") for line in lines] == ["good-1", None, "unknown-field", "unknown-model", "no-request",
                                                   "good-2"]
    good1, broken, unknown_field, unknown_model, no_request, good2 = lines
    assert set(good1) == set(good2) == {"key", "response"}
    assert set(broken) == {"error"}                                  # not JSON: no key to give back
    assert broken["error"]["code"] == 3 and "line 2" in broken["error"]["message"]
    assert unknown_field["error"]["code"] == 3 and "bogus" in unknown_field["error"]["message"]
    assert unknown_model["error"]["code"] == 5 and "no-such-model" in unknown_model["error"]["message"]
    assert no_request["error"]["code"] == 3


def test_an_inline_request_that_fails_alone(http, gemini_mock):
    operation = create_inline(http, [
        {"request": text_request("ok"), "metadata": {"key": "ok"}},
        {"request": {**text_request("hi"), "model": "models/no-such-model"}, "metadata": {"key": "bad"}},
        {"request": {**text_request("hi"), "model": f"models/{EMBED_MODEL}"}, "metadata": {"key": "wrong"}},
    ])
    gemini_mock.advance(DONE)
    done = http.get(f"/v1beta/{operation['name']}").json()
    items = done["metadata"]["output"]["inlinedResponses"]["inlinedResponses"]
    assert "response" in items[0] and "error" not in items[0]
    assert items[1]["error"]["code"] == 5 and items[1]["metadata"] == {"key": "bad"}
    assert items[2]["error"]["code"] == 3
    assert stats(done)["failedRequestCount"] == 2


def test_embedding_batch_over_http_matches_embed_content(http, gemini_mock):
    request = embed_request("some text", taskType="SEMANTIC_SIMILARITY", outputDimensionality=8)
    answer = http.post(f"/v1beta/models/{EMBED_MODEL}:asyncBatchEmbedContent",
                       json={"batch": {"display_name": "emb", "input_config": {"requests": {"requests": [
                           {"request": request, "metadata": {"key": "e1"}}]}}}})
    assert answer.status_code == 200, answer.text
    operation = answer.json()
    assert operation["metadata"]["@type"].endswith(".EmbedContentBatch")
    gemini_mock.advance(DONE)
    done = http.get(f"/v1beta/{operation['name']}").json()
    check_operation(done)
    item = done["metadata"]["output"]["inlinedResponses"]["inlinedResponses"][0]
    direct = http.post(f"/v1beta/models/{EMBED_MODEL}:embedContent", json=request).json()
    assert item["response"] == {**direct, "tokenCount": str(count_text("some text"))}
    assert item["metadata"] == {"key": "e1"}
    assert done["response"]["@type"].endswith(".EmbedContentBatchOutput")


def test_results_are_computed_once_and_as_the_clock_says(http, gemini_mock, monkeypatch):
    calls = []
    real = inference.generate

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)
    monkeypatch.setattr(inference, "generate", counting)
    operation = create_inline(http, [{"request": text_request(f"r{i}")} for i in range(10)])
    name = operation["name"]
    assert not calls                                      # creating computes nothing
    gemini_mock.advance(PENDING + RUNNING * 0.35)
    running = http.get(f"/v1beta/{name}").json()
    assert running["metadata"]["state"] == "BATCH_STATE_RUNNING"
    assert stats(running) == {"requestCount": 10, "successfulRequestCount": 3, "failedRequestCount": 0,
                              "pendingRequestCount": 7}
    assert len(calls) == 3
    http.get(f"/v1beta/{name}")
    assert len(calls) == 3                               # a poll at the same time computes nothing more
    gemini_mock.advance(RUNNING)
    for _ in range(3):
        assert http.get(f"/v1beta/{name}").json()["metadata"]["state"] == "BATCH_STATE_SUCCEEDED"
    assert len(calls) == 10


def test_advancing_the_clock_moves_every_job_at_once(http, gemini_mock):
    names = [create_inline(http, [{"request": text_request(str(i))}])["name"] for i in range(3)]
    gemini_mock.store.batches.set_timings(names[2], pending=100)
    gemini_mock.advance(DONE)
    states = [http.get(f"/v1beta/{n}").json()["metadata"]["state"] for n in names]
    assert states == ["BATCH_STATE_SUCCEEDED", "BATCH_STATE_SUCCEEDED", "BATCH_STATE_PENDING"]


def test_timings_come_from_the_config(http, gemini_mock):
    config = http.patch(f"{gemini_mock.base_url}/_mock/config",
                        json={"batch": {"pendingSeconds": 60, "runningSeconds": 120}})
    assert config.status_code == 200, config.text
    name = create_inline(http, [{"request": text_request("x")}])["name"]
    gemini_mock.advance(59)
    assert http.get(f"/v1beta/{name}").json()["metadata"]["state"] == "BATCH_STATE_PENDING"
    gemini_mock.advance(1)
    assert http.get(f"/v1beta/{name}").json()["metadata"]["state"] == "BATCH_STATE_RUNNING"
    gemini_mock.advance(120)
    assert http.get(f"/v1beta/{name}").json()["metadata"]["state"] == "BATCH_STATE_SUCCEEDED"


def test_freezegun_moves_the_jobs(gemini_mock):
    freezegun = pytest.importorskip("freezegun")
    store = gemini_mock.store
    with freezegun.freeze_time("2030-01-01T00:00:00Z") as frozen:
        operation = store.batches.create(gemini_mock.identity, f"models/{MODEL}",
                                         {"batch": {"inputConfig": {"requests": {"requests": [
                                             {"request": text_request("x")}]}}}})
        assert operation["metadata"]["createTime"].startswith("2030-01-01T00:00:00")
        frozen.tick(DONE)
        assert store.batches.state_of(operation["name"]) == "BATCH_STATE_SUCCEEDED"


# -- expiry and cancel timing ------------------------------------------------------------------------------

def test_a_job_not_done_in_48_hours_expires_without_results(http, gemini_mock):
    name = create_inline(http, [{"request": text_request("slow")}])["name"]
    gemini_mock.store.batches.set_timings(name, running=49 * 3600)
    gemini_mock.advance(47 * 3600)
    assert http.get(f"/v1beta/{name}").json()["metadata"]["state"] == "BATCH_STATE_RUNNING"
    gemini_mock.advance(3600)
    expired = http.get(f"/v1beta/{name}").json()
    check_operation(expired)
    meta = expired["metadata"]
    assert meta["state"] == "BATCH_STATE_EXPIRED" and expired["done"] is True
    assert "output" not in meta and "response" not in expired and expired["error"]["code"] == 4
    assert parse_time(meta["endTime"], "endTime") - parse_time(meta["createTime"], "createTime") == \
        pytest.approx(48 * 3600, abs=1e-3)
    assert http.post(f"/v1beta/{name}:cancel").status_code == 400


def test_pending_forever_expires_too(sdk, gemini_mock):
    job = sdk.batches.create(model=MODEL, src=[{"contents": "x"}])
    gemini_mock.store.batches.set_timings(job.name, pending=3 * 24 * 3600)
    gemini_mock.advance(48 * 3600 - 1)
    assert sdk.batches.get(name=job.name).state == types.JobState.JOB_STATE_PENDING
    gemini_mock.advance(1)
    expired = sdk.batches.get(name=job.name)
    assert expired.state == types.JobState.JOB_STATE_EXPIRED and expired.dest is None


def test_cancel_while_pending_keeps_nothing(http, gemini_mock):
    name = create_inline(http, [{"request": text_request("x")}])["name"]
    gemini_mock.advance(1)
    assert http.post(f"/v1beta/{name}:cancel").json() == {}
    gemini_mock.advance(DONE)
    operation = http.get(f"/v1beta/{name}").json()
    check_operation(operation)
    assert operation["metadata"]["state"] == "BATCH_STATE_CANCELLED" and operation["done"] is True
    assert "output" not in operation["metadata"] and operation["error"]["code"] == 1
    created = parse_time(operation["metadata"]["createTime"], "createTime")
    assert 1 <= parse_time(operation["metadata"]["endTime"], "endTime") - created < 5
    assert stats(operation)["pendingRequestCount"] == 1


def test_cancel_while_running_keeps_the_requests_done(http, sdk, gemini_mock):
    inline = create_inline(http, [{"request": text_request(f"r{i}"), "metadata": {"key": str(i)}} for i in range(4)])
    file_job = create_from_file(http, upload(sdk, jsonl(*[{"key": f"f{i}", "request": text_request(f"r{i}")}
                                                          for i in range(4)])))
    gemini_mock.advance(PENDING + RUNNING / 2)
    for operation in (inline, file_job):
        http.post(f"/v1beta/{operation['name']}:cancel")
    gemini_mock.advance(DONE)
    done = http.get(f"/v1beta/{inline['name']}").json()
    assert done["metadata"]["state"] == "BATCH_STATE_CANCELLED"
    items = done["metadata"]["output"]["inlinedResponses"]["inlinedResponses"]
    assert [item["metadata"]["key"] for item in items] == ["0", "1"]
    assert done["response"]["inlinedResponses"]["inlinedResponses"] == items
    assert stats(done) == {"requestCount": 4, "successfulRequestCount": 2, "failedRequestCount": 0,
                           "pendingRequestCount": 2}
    file_done = http.get(f"/v1beta/{file_job['name']}").json()
    assert [line["key"] for line in download(http, file_done["metadata"]["output"]["responsesFile"])] == ["f0", "f1"]
    # through the SDK, the partial results are there too
    job = sdk.batches.get(name=inline["name"])
    assert job.state == types.JobState.JOB_STATE_CANCELLED and len(job.dest.inlined_responses) == 2


def test_cancel_of_a_finished_job_is_a_failed_precondition(http, gemini_mock):
    name = create_inline(http, [{"request": text_request("x")}])["name"]
    gemini_mock.advance(DONE)
    assert_envelope(http.post(f"/v1beta/{name}:cancel"), 400, "FAILED_PRECONDITION")
    http.post(f"/v1beta/{create_inline(http, [{'request': text_request('y')}])['name']}:cancel")
    assert http.get(f"/v1beta/{name}").json()["metadata"]["state"] == "BATCH_STATE_SUCCEEDED"


# -- input files that are not JSON Lines ----------------------------------------------------------------

@pytest.mark.parametrize("data", [b"\x89PNG\r\n\x1a\n\x00\x00binary", b"\xff\xfe not utf-8\n", b"\n\n",
                                  b"a,b,c\n1,2,3\n"], ids=["binary", "not-utf8", "empty", "csv"])
def test_a_file_that_is_not_jsonl_ends_failed(http, sdk, gemini_mock, data):
    operation = create_from_file(http, upload(sdk, data, "not-jsonl"))
    assert operation["metadata"]["state"] == "BATCH_STATE_PENDING"
    gemini_mock.advance(DONE)
    failed = http.get(f"/v1beta/{operation['name']}").json()
    check_operation(failed)
    assert failed["metadata"]["state"] == "BATCH_STATE_FAILED" and failed["done"] is True
    assert failed["error"]["code"] == 3 and "JSON Lines" in failed["error"]["message"]
    assert "output" not in failed["metadata"] and "response" not in failed
    assert sdk.batches.get(name=operation["name"]).state == types.JobState.JOB_STATE_FAILED


def test_the_input_is_read_as_it_was_at_creation(http, sdk, gemini_mock):
    name = upload(sdk, jsonl({"key": "k", "request": text_request("x")}))
    operation = create_from_file(http, name)
    sdk.files.delete(name=name)
    gemini_mock.advance(DONE)
    done = http.get(f"/v1beta/{operation['name']}").json()
    assert done["metadata"]["state"] == "BATCH_STATE_SUCCEEDED"
    assert [line["key"] for line in download(http, done["response"]["responsesFile"])] == ["k"]


# -- update, idempotency, isolation ------------------------------------------------------------------------

def test_update_display_name_and_priority(http, gemini_mock):
    name = create_inline(http, [{"request": text_request("x")}])["name"]
    gemini_mock.advance(2)
    answer = http.patch(f"/v1beta/{name}:updateGenerateContentBatch", params={"updateMask": "display_name,priority"},
                        json={"displayName": "renamed", "priority": 3})
    assert answer.status_code == 200, answer.text
    batch = answer.json()
    assert batch["displayName"] == "renamed" and batch["priority"] == "3" and batch["name"] == name
    assert "@type" not in batch and batch["updateTime"] > batch["createTime"]
    if "GenerateContentBatch" in known_messages("v1beta"):
        validate_response("v1beta", "GenerateContentBatch", batch)
    no_mask = http.patch(f"/v1beta/{name}:updateGenerateContentBatch", json={"display_name": "again"})
    assert no_mask.json()["displayName"] == "again"
    assert http.get(f"/v1beta/{name}").json()["metadata"]["displayName"] == "again"
    assert_envelope(http.patch(f"/v1beta/{name}:updateGenerateContentBatch", params={"updateMask": "model"},
                               json={"model": "models/x"}), 400, "INVALID_ARGUMENT", field="model")
    assert_envelope(http.patch(f"/v1beta/{name}:updateEmbedContentBatch", json={"displayName": "x"}),
                    400, "INVALID_ARGUMENT")


def test_creation_is_not_idempotent(http):
    body = [{"request": text_request("same"), "metadata": {"key": "same"}}]
    first, second = create_inline(http, body), create_inline(http, body)
    assert first["name"] != second["name"]
    assert len(http.get("/v1beta/batches").json()["operations"]) == 2


def test_jobs_belong_to_the_key_s_project(http, gemini_mock):
    import httpx
    name = create_inline(http, [{"request": text_request("mine")}])["name"]
    other = gemini_mock.client(api_key=gemini_mock.other_key("b"), api_version="v1beta")
    with pytest.raises(errors.ClientError) as denied:
        other.batches.get(name=name)
    assert denied.value.code == 403
    assert list(other.batches.list()) == []
    with httpx.Client(base_url=gemini_mock.base_url,
                      headers={"x-goog-api-key": gemini_mock.other_key("b")}) as stranger:
        assert_envelope(stranger.get(f"/v1beta/{name}"), 403, "PERMISSION_DENIED")
        assert_envelope(stranger.post(f"/v1beta/{name}:cancel"), 403, "PERMISSION_DENIED")
        assert_envelope(stranger.delete(f"/v1beta/{name}"), 403, "PERMISSION_DENIED")
        assert_envelope(stranger.patch(f"/v1beta/{name}:updateGenerateContentBatch", json={"displayName": "x"}),
                        403, "PERMISSION_DENIED")
        assert stranger.get("/v1beta/batches").json() == {}
    assert http.get(f"/v1beta/{name}").json()["metadata"]["state"] == "BATCH_STATE_PENDING"


def test_a_job_cannot_read_another_project_s_file(http, sdk, gemini_mock):
    name = upload(sdk, jsonl({"key": "k", "request": text_request("x")}))
    import httpx
    with httpx.Client(base_url=gemini_mock.base_url,
                      headers={"x-goog-api-key": gemini_mock.other_key("b")}) as stranger:
        answer = stranger.post(f"/v1beta/models/{MODEL}:batchGenerateContent",
                               json={"batch": {"inputConfig": {"fileName": name}}})
    assert_envelope(answer, 403, "PERMISSION_DENIED", field=name)


def test_list_pages(http):
    names = [create_inline(http, [{"request": text_request(str(i))}])["name"] for i in range(5)]
    seen, token = [], None
    while True:
        page = http.get("/v1beta/batches", params={"pageSize": 2, **({"pageToken": token} if token else {})}).json()
        validate_response("v1beta", "ListOperationsResponse", page)
        seen += [operation["name"] for operation in page["operations"]]
        token = page.get("nextPageToken")
        if not token:
            break
    assert seen == names[::-1]
    assert_envelope(http.get("/v1beta/batches", params={"pageToken": "bogus"}), 400, "INVALID_ARGUMENT")


# -- tuned models ---------------------------------------------------------------------------------------

def test_batch_on_a_tuned_model(http, gemini_mock):
    created = http.post("/v1beta/tunedModels", json={
        "baseModel": "models/gemini-1.5-flash-001-tuning", "displayName": "batchy",
        "tuningTask": {"trainingData": {"examples": {"examples": [
            {"textInput": "1", "output": "2"}, {"textInput": "3", "output": "4"}]}}}})
    assert created.status_code == 200, created.text
    tuned = created.json()["metadata"]["tunedModel"]
    early = http.post(f"/v1beta/{tuned}:batchGenerateContent",
                      json={"batch": {"inputConfig": {"requests": {"requests": [{"request": text_request("1")}]}}}})
    assert_envelope(early, 400, "FAILED_PRECONDITION")           # still training
    gemini_mock.advance(gemini_mock.store.config["tunedModel"]["trainingSeconds"] + 1)
    requests = [text_request("1"), text_request("something else")]
    operation = http.post(f"/v1beta/{tuned}:batchGenerateContent",
                          json={"batch": {"inputConfig": {"requests": {"requests": [{"request": r} for r in requests]}}}})
    assert operation.status_code == 200, operation.text
    assert operation.json()["metadata"]["model"] == tuned
    gemini_mock.advance(DONE)
    items = http.get(f"/v1beta/{operation.json()['name']}").json()["metadata"]["output"]["inlinedResponses"][
        "inlinedResponses"]
    for item, request in zip(items, requests):
        assert item["response"] == http.post(f"/v1beta/{tuned}:generateContent", json=request).json()
    assert items[0]["response"]["candidates"][0]["content"]["parts"][0]["text"] == "2"
    assert_envelope(http.post(f"/v1beta/{tuned}:asyncBatchEmbedContent",
                              json={"batch": {"inputConfig": {"requests": {"requests": [
                                  {"request": embed_request("x")}]}}}}), 400, "INVALID_ARGUMENT")


# -- error answers ------------------------------------------------------------------------------------------

INLINE = {"requests": {"requests": [{"request": text_request("x")}]}}
EMBED_INLINE = {"requests": {"requests": [{"request": embed_request("x")}]}}


@pytest.mark.parametrize("path, body, code, status, field", [
    ("models/no-such-model:batchGenerateContent", {"batch": {"inputConfig": INLINE}}, 404, "NOT_FOUND", None),
    ("models/gemini-1.5-flash:batchGenerateContent", {"batch": {"inputConfig": INLINE}}, 400, "INVALID_ARGUMENT",
     "batchGenerateContent"),
    (f"models/{EMBED_MODEL}:batchGenerateContent", {"batch": {"inputConfig": INLINE}}, 400, "INVALID_ARGUMENT",
     "batchGenerateContent"),
    (f"models/{MODEL}:asyncBatchEmbedContent", {"batch": {"inputConfig": EMBED_INLINE}}, 400, "INVALID_ARGUMENT",
     "asyncBatchEmbedContent"),
    (f"models/{MODEL}:batchGenerateContent", {}, 400, "INVALID_ARGUMENT", "batch"),
    (f"models/{MODEL}:batchGenerateContent", {"batch": {"displayName": "x"}}, 400, "INVALID_ARGUMENT",
     "input_config"),
    (f"models/{MODEL}:batchGenerateContent", {"batch": {"inputConfig": {"requests": {"requests": []}}}}, 400,
     "INVALID_ARGUMENT", "requests"),
    (f"models/{MODEL}:batchGenerateContent", {"batch": {"inputConfig": {**INLINE, "fileName": "files/abc"}}}, 400,
     "INVALID_ARGUMENT", None),
    (f"models/{MODEL}:batchGenerateContent",
     {"batch": {"inputConfig": {"requests": {"requests": [{"request": {"contents": [], "safetySetting": 1}}]}}}},
     400, "INVALID_ARGUMENT", "safetySetting"),
    (f"models/{MODEL}:batchGenerateContent", {"batch": {"bogus": 1, "inputConfig": INLINE}}, 400,
     "INVALID_ARGUMENT", "bogus"),
    (f"models/{MODEL}:batchGenerateContent", {"batch": {"inputConfig": {"fileName": "files/nosuchfile"}}}, 403,
     "PERMISSION_DENIED", "files/nosuchfile"),
])
def test_create_errors(http, path, body, code, status, field):
    assert_envelope(http.post(f"/v1beta/{path}", json=body), code, status, field=field)
    assert http.get("/v1beta/batches").json() == {}


def test_create_needs_a_key(gemini_mock):
    import httpx
    answer = httpx.post(f"{gemini_mock.base_url}/v1beta/models/{MODEL}:batchGenerateContent",
                        json={"batch": {"inputConfig": INLINE}})
    assert_envelope(answer, 403, "PERMISSION_DENIED")


def test_inline_requests_over_20_mb(http, gemini_mock):
    big = "x" * (1024 * 1024)
    requests = [{"request": text_request(big)} for _ in range(21)]
    assert_envelope(http.post(f"/v1beta/models/{MODEL}:batchGenerateContent",
                              json={"batch": {"inputConfig": {"requests": {"requests": requests}}}}),
                    400, "INVALID_ARGUMENT")
    # the inline limit holds even where the server takes larger bodies
    gemini_mock.store.config.patch({"limits": {"requestBytes": 64 * 1024 * 1024}})
    assert_envelope(http.post(f"/v1beta/models/{MODEL}:batchGenerateContent",
                              json={"batch": {"inputConfig": {"requests": {"requests": requests}}}}),
                    400, "INVALID_ARGUMENT", field="20971520")


def test_input_file_over_2_gb(http, sdk, gemini_mock, monkeypatch):
    name = upload(sdk, jsonl({"key": "k", "request": text_request("x")}))
    monkeypatch.setattr(gemini_mock.store.batches, "input_file_limit", 10)
    assert_envelope(http.post(f"/v1beta/models/{MODEL}:batchGenerateContent",
                              json={"batch": {"inputConfig": {"fileName": name}}}), 400, "INVALID_ARGUMENT",
                    field="file_name")


@pytest.mark.parametrize("method, suffix", [("GET", ""), ("POST", ":cancel"), ("DELETE", ""),
                                            ("PATCH", ":updateGenerateContentBatch")])
def test_missing_and_deleted_jobs_are_403(http, method, suffix):
    assert_envelope(http.request(method, f"/v1beta/batches/nosuchbatch{suffix}", json={}), 403, "PERMISSION_DENIED",
                    field="batches/nosuchbatch")
    name = create_inline(http, [{"request": text_request("x")}])["name"]
    assert http.delete(f"/v1beta/{name}").status_code == 200
    assert_envelope(http.request(method, f"/v1beta/{name}{suffix}", json={}), 403, "PERMISSION_DENIED", field=name)


def test_sdk_errors_carry_the_envelope(sdk):
    with pytest.raises(errors.ClientError) as error:
        sdk.batches.create(model="no-such-model", src=[{"contents": "x"}])
    assert error.value.code == 404 and error.value.status == "NOT_FOUND"
    with pytest.raises(errors.ClientError) as denied:
        sdk.batches.create(model=MODEL, src="files/nosuchfile")
    assert denied.value.code == 403


def test_odd_lines_are_counted_as_they_are_processed(http, sdk, gemini_mock):
    data = ("\u00a0\n".encode() + b"  \r\n" + json.dumps({"key": "k", "request": text_request("x")}).encode() + b"\r\n"
            + json.dumps(text_request("last line without a newline")).encode())
    operation = create_from_file(http, upload(sdk, data))
    assert stats(operation)["requestCount"] == 3
    gemini_mock.advance(DONE)
    done = http.get(f"/v1beta/{operation['name']}").json()
    assert stats(done) == {"requestCount": 3, "successfulRequestCount": 2, "failedRequestCount": 1,
                           "pendingRequestCount": 0}
    lines = download(http, done["response"]["responsesFile"])
    assert [sorted(line) for line in lines] == [["error"], ["key", "response"], ["response"]]


def test_set_timings(gemini_mock, http):
    batches = gemini_mock.store.batches
    name = create_inline(http, [{"request": text_request("x")}])["name"]
    with pytest.raises(ApiError) as bad:
        batches.set_timings(name, pending=-1)
    assert bad.value.code == 400
    batches.set_timings(name, pending=0, running=0)
    assert batches.state_of(name) == "BATCH_STATE_SUCCEEDED"
    with pytest.raises(ApiError) as ended:
        batches.set_timings(name, running=100)
    assert ended.value.status == "FAILED_PRECONDITION"
    with pytest.raises(ApiError) as missing:
        batches.set_timings("batches/nosuchbatch", pending=1)
    assert missing.value.code == 403
