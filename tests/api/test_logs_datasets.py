"""Logs and datasets (the control plane's `/_mock/projects/{project}/logging|logs|datasets`), against a live
emulator whose keys file gives paid and free tiers:

* logging is opt-in and only for paid-tier projects (free tier: 400 FAILED_PRECONDITION);
* with logging on, each generateContent / streamGenerateContent call becomes a log holding the request,
  the answer (or the error) and its metadata; a batch's own generation is not logged;
* a log expires 55 days after the call; one kept in a dataset survives; a project keeps at most 1,000
  logs in datasets;
* feedback (thumbs up / down, comment), the shared flag, isolation between projects, paging, and every
  error path answered with the Google envelope.
"""
from __future__ import annotations

import json

import httpx
import pytest

from gemini_mockserver.app import create_store
from gemini_mockserver.auth import Identity
from gemini_mockserver.errors import ApiError
from gemini_mockserver.wire import parse_time

from support import assert_envelope
from support.servers import serve

MODEL = "gemini-2.5-flash"
DAY = 24 * 3600
TTL = 55 * DAY
IDENTITIES = {
    "paid-key": Identity("paid-key", "project-paid", "paid@example.com", tier="tier1"),
    "paid-key-2": Identity("paid-key-2", "project-paid", "paid2@example.com", tier="tier1"),
    "other-key": Identity("other-key", "project-other", "other@example.com", tier="tier2"),
    "free-key": Identity("free-key", "project-free", "free@example.com", tier="free"),
}
PAID, OTHER, FREE = "project-paid", "project-other", "project-free"


@pytest.fixture(scope="module")
def server():
    with serve(keys=IDENTITIES, config={"batch": {"pendingSeconds": 5.0}}) as live:
        yield live


@pytest.fixture
def api(server):
    """A plain HTTP client on the emulator (no key: the control plane needs none)."""
    server.store.reset(config=True, clock=True)
    with httpx.Client(base_url=server.base_url, timeout=30) as session:
        yield session
    errors = list(server.store.internal_errors)
    server.store.internal_errors.clear()
    assert not errors, errors


def generate(api, key: str, text: str, model: str = MODEL, **extra) -> httpx.Response:
    return api.post(f"/v1beta/models/{model}:generateContent", headers={"x-goog-api-key": key},
                    json={"contents": [{"parts": [{"text": text}]}], **extra})


def enable(api, project: str = PAID) -> dict:
    answer = api.patch(f"/_mock/projects/{project}/logging", json={"enabled": True})
    assert answer.status_code == 200, answer.text
    return answer.json()


def logs_of(api, project: str = PAID, **params) -> list[dict]:
    answer = api.get(f"/_mock/projects/{project}/logs", params=params)
    assert answer.status_code == 200, answer.text
    return answer.json()["logs"]


def make_logs(api, count: int, key: str = "paid-key") -> list[str]:
    """`count` logged calls; their names, oldest first."""
    for i in range(count):
        assert generate(api, key, f"prompt {i}").status_code == 200
    project = IDENTITIES[key].project
    return [entry["name"] for entry in reversed(logs_of(api, project, pageSize=count))]


def create_dataset(api, logs: list[str], project: str = PAID, **fields) -> httpx.Response:
    return api.post(f"/_mock/projects/{project}/datasets", json={"displayName": "kept", "logs": logs, **fields})


def advance(api, seconds: float) -> None:
    assert api.post("/_mock/clock", json={"advanceSeconds": seconds}).status_code == 200


# -- the switch ----------------------------------------------------------------------------------------

def test_logging_is_off_until_a_paid_project_turns_it_on(api):
    assert api.get(f"/_mock/projects/{PAID}/logging").json() == {
        "project": PAID, "tier": "tier1", "available": True, "enabled": False}
    assert generate(api, "paid-key", "before").status_code == 200
    assert logs_of(api) == []
    state = enable(api)
    assert state["enabled"] is True and state["tier"] == "tier1" and "updateTime" in state
    assert generate(api, "paid-key", "after").status_code == 200
    assert [entry["request"]["contents"][0]["parts"][0]["text"] for entry in logs_of(api)] == ["after"]
    # turning it off stops new logs and keeps the old ones
    off = api.patch(f"/_mock/projects/{PAID}/logging", json={"enabled": False}).json()
    assert off["enabled"] is False
    assert generate(api, "paid-key", "off again").status_code == 200
    assert len(logs_of(api)) == 1


def test_free_tier_is_refused_with_failed_precondition(api):
    assert api.get(f"/_mock/projects/{FREE}/logging").json() == {
        "project": FREE, "tier": "free", "available": False, "enabled": False}
    error = assert_envelope(api.patch(f"/_mock/projects/{FREE}/logging", json={"enabled": True}),
                            400, "FAILED_PRECONDITION")
    assert "billing" in error["message"] and FREE in error["message"]
    for answer in (api.get(f"/_mock/projects/{FREE}/logs"),
                   api.get(f"/_mock/projects/{FREE}/datasets"),
                   api.get(f"/_mock/projects/{FREE}/logs/abc"),
                   create_dataset(api, [], FREE)):
        assert_envelope(answer, 400, "FAILED_PRECONDITION")
    # turning it off is harmless, and calls of a free project are never logged
    assert api.patch(f"/_mock/projects/{FREE}/logging", json={"enabled": False}).status_code == 200
    assert generate(api, "free-key", "hello").status_code == 200
    assert all(p["project"] != FREE for p in api.get("/_mock/ui/state").json()["logs"])


def test_derived_keys_are_free_tier():
    """Without a keys file every key is derived, hence free: logging is refused."""
    store = create_store()
    try:
        project = store.keys.identify("any-key").project
        assert store.logs.tier(project) == "free"
        with pytest.raises(ApiError) as refused:
            store.logs.set_logging(project, True)
        assert (refused.value.code, refused.value.status) == (400, "FAILED_PRECONDITION")
    finally:
        store.close()


def test_an_unknown_project_is_not_found(api):
    for answer in (api.get("/_mock/projects/project-nobody/logging"),
                   api.patch("/_mock/projects/project-nobody/logging", json={"enabled": True}),
                   api.get("/_mock/projects/project-nobody/logs"),
                   api.get("/_mock/projects/project-nobody/datasets")):
        error = assert_envelope(answer, 404, "NOT_FOUND")
        assert "project-nobody" in error["message"]


# -- what a log holds ------------------------------------------------------------------------------------

def test_a_generate_content_call_becomes_a_log_with_its_metadata(api, server):
    enable(api)
    before = server.store.now()
    answer = generate(api, "paid-key", "Explain how AI works", generationConfig={"temperature": 0.1})
    assert answer.status_code == 200
    (entry,) = logs_of(api)
    assert entry["name"].startswith(f"projects/{PAID}/logs/")
    assert entry["method"] == "generateContent"
    assert entry["model"] == f"models/{MODEL}"
    assert entry["apiVersion"] == "v1beta"
    assert entry["httpStatus"] == 200 and entry["status"] == "OK"
    assert entry["request"]["contents"][0]["parts"][0]["text"] == "Explain how AI works"
    assert entry["request"]["generationConfig"]["temperature"] == 0.1
    assert entry["response"] == answer.json()
    usage = answer.json()["usageMetadata"]
    assert entry["usageMetadata"]["promptTokenCount"] == usage["promptTokenCount"]
    assert entry["usageMetadata"]["totalTokenCount"] == usage["totalTokenCount"]
    created = parse_time(entry["createTime"], "createTime")
    assert before <= created <= server.store.now()
    assert parse_time(entry["expireTime"], "expireTime") == pytest.approx(created + TTL, abs=1e-3)
    assert entry["latency"].endswith("s") and float(entry["latency"][:-1]) >= 0
    assert entry["datasets"] == [] and "feedback" not in entry and "error" not in entry
    assert api.get(f"/_mock/projects/{PAID}/logs/{entry['name'].rsplit('/', 1)[1]}").json() == entry
    assert api.get(f"/_mock/projects/{PAID}/logs/{entry['name']}").status_code == 404   # a name is not an id path


def test_streamed_calls_and_failed_calls_are_logged(api):
    enable(api)
    key = {"x-goog-api-key": "paid-key"}
    body = {"contents": [{"parts": [{"text": "stream me"}]}]}
    sse = api.post(f"/v1beta/models/{MODEL}:streamGenerateContent", params={"alt": "sse"}, headers=key, json=body)
    chunks = [json.loads(line[6:]) for line in sse.text.splitlines() if line.startswith("data: ")]
    array = api.post(f"/v1/models/{MODEL}:streamGenerateContent", headers=key, json=body)
    missing = generate(api, "paid-key", "to nowhere", model="no-such-model")
    assert missing.status_code == 404
    newest_first = logs_of(api)
    failed, streamed_array, streamed_sse = newest_first
    assert streamed_sse["method"] == streamed_array["method"] == "streamGenerateContent"
    assert streamed_sse["response"] == chunks and streamed_array["response"] == array.json()
    assert streamed_array["apiVersion"] == "v1"
    assert streamed_sse["usageMetadata"]["totalTokenCount"] == chunks[-1]["usageMetadata"]["totalTokenCount"]
    assert failed["httpStatus"] == 404 and failed["status"] == "NOT_FOUND"
    assert failed["error"] == missing.json()["error"] and "response" not in failed
    assert failed["model"] == "models/no-such-model"


def test_calls_through_the_sdk_are_logged(api, server):
    from google import genai
    from google.genai import types

    enable(api)
    client = genai.Client(api_key="paid-key", http_options=types.HttpOptions(base_url=server.base_url))
    reply = client.models.generate_content(model=MODEL, contents="Write a haiku")
    (entry,) = logs_of(api)
    assert entry["apiVersion"] == "v1"   # the SDK's default
    texts = [p.get("text", "") for p in entry["response"]["candidates"][0]["content"]["parts"] if not p.get("thought")]
    assert "".join(texts) == reply.text


def test_calls_to_a_tuned_model_are_logged_under_its_name(api):
    enable(api)
    key = {"x-goog-api-key": "paid-key"}
    examples = [{"textInput": "ping", "output": "pong"}]
    created = api.post("/v1beta/tunedModels", params={"tunedModelId": "echo"}, headers=key, json={
        "baseModel": "models/gemini-1.5-flash-001-tuning",
        "tuningTask": {"trainingData": {"examples": {"examples": examples}}}})
    assert created.status_code == 200, created.text
    advance(api, 3600)
    answer = api.post("/v1beta/tunedModels/echo:generateContent", headers=key,
                      json={"contents": [{"parts": [{"text": "ping"}]}]})
    assert answer.status_code == 200, answer.text
    [log] = logs_of(api)
    assert log["model"] == "tunedModels/echo" and log["method"] == "generateContent"
    assert log["response"]["candidates"][0]["content"]["parts"][0]["text"] == "pong"


def test_a_batch_jobs_own_generation_is_not_logged(api):
    enable(api)
    key = {"x-goog-api-key": "paid-key"}
    requests = [{"request": {"contents": [{"parts": [{"text": f"batch {i}"}]}]}} for i in range(3)]
    created = api.post(f"/v1beta/models/{MODEL}:batchGenerateContent", headers=key,
                       json={"batch": {"displayName": "b", "inputConfig": {"requests": {"requests": requests}}}})
    assert created.status_code == 200, created.text
    advance(api, 3600)
    done = api.get(f"/v1beta/{created.json()['name']}", headers=key).json()
    assert done["metadata"]["state"] == "BATCH_STATE_SUCCEEDED"
    assert logs_of(api) == []


def test_keys_of_one_project_share_its_logs_and_projects_are_isolated(api):
    enable(api)
    enable(api, OTHER)
    generate(api, "paid-key", "one")
    generate(api, "paid-key-2", "two")
    generate(api, "other-key", "three")
    ours = logs_of(api)
    theirs = logs_of(api, OTHER)
    assert [e["request"]["contents"][0]["parts"][0]["text"] for e in ours] == ["two", "one"]
    assert [e["request"]["contents"][0]["parts"][0]["text"] for e in theirs] == ["three"]
    our_id = ours[0]["name"].rsplit("/", 1)[1]
    # another project cannot read, rate or keep our log, by id or by full name
    assert_envelope(api.get(f"/_mock/projects/{OTHER}/logs/{our_id}"), 404, "NOT_FOUND")
    assert_envelope(api.post(f"/_mock/projects/{OTHER}/logs/{our_id}:feedback", json={"rating": "THUMBS_UP"}),
                    404, "NOT_FOUND")
    assert_envelope(create_dataset(api, [ours[0]["name"]], OTHER), 404, "NOT_FOUND")
    assert_envelope(create_dataset(api, [our_id], OTHER), 404, "NOT_FOUND")
    # nor see our datasets
    ours_kept = create_dataset(api, [ours[0]["name"]]).json()
    dataset_id = ours_kept["name"].rsplit("/", 1)[1]
    assert_envelope(api.get(f"/_mock/projects/{OTHER}/datasets/{dataset_id}"), 404, "NOT_FOUND")
    assert api.get(f"/_mock/projects/{OTHER}/datasets").json() == {"datasets": []}
    # logging is switched per project
    api.patch(f"/_mock/projects/{OTHER}/logging", json={"enabled": False})
    generate(api, "paid-key", "four")
    generate(api, "other-key", "five")
    assert len(logs_of(api)) == 3 and len(logs_of(api, OTHER)) == 1


# -- expiry and datasets ---------------------------------------------------------------------------------

def test_logs_expire_after_55_days_and_survive_in_a_dataset(api):
    enable(api)
    kept, dropped = make_logs(api, 2)
    dataset = create_dataset(api, [kept], description="worth keeping").json()
    dataset_id = dataset["name"].rsplit("/", 1)[1]
    assert dataset["logs"] == [kept] and dataset["logCount"] == 1
    kept_entry = api.get(f"/_mock/projects/{PAID}/logs/{kept.rsplit('/', 1)[1]}").json()
    assert "expireTime" not in kept_entry and kept_entry["datasets"] == [dataset["name"]]

    advance(api, TTL - 60)
    assert {e["name"] for e in logs_of(api)} == {kept, dropped}
    advance(api, 61)
    assert [e["name"] for e in logs_of(api)] == [kept]
    dropped_id = dropped.rsplit("/", 1)[1]
    assert_envelope(api.get(f"/_mock/projects/{PAID}/logs/{dropped_id}"), 404, "NOT_FOUND")
    assert_envelope(api.post(f"/_mock/projects/{PAID}/logs/{dropped_id}:feedback", json={"rating": "THUMBS_UP"}),
                    404, "NOT_FOUND")
    assert_envelope(create_dataset(api, [dropped]), 404, "NOT_FOUND")

    # long after, the dataset still holds the whole log
    advance(api, 365 * DAY)
    held = api.get(f"/_mock/projects/{PAID}/datasets/{dataset_id}/logs").json()["logs"]
    assert [e["name"] for e in held] == [kept]
    assert held[0]["request"]["contents"][0]["parts"][0]["text"] == "prompt 0"
    assert held[0]["response"]["candidates"]
    # and its feedback can still be given
    rated = api.post(f"/_mock/projects/{PAID}/logs/{kept.rsplit('/', 1)[1]}:feedback", json={"rating": "THUMBS_DOWN"})
    assert rated.json()["feedback"]["rating"] == "THUMBS_DOWN"

    # taken out of its last dataset, a log past its 55 days is gone
    removed = api.post(f"/_mock/projects/{PAID}/datasets/{dataset_id}:removeLogs", json={"logs": [kept]})
    assert removed.status_code == 200 and removed.json()["logs"] == []
    assert logs_of(api) == []


def test_deleting_the_last_dataset_lets_old_logs_go(api):
    enable(api)
    (name,) = make_logs(api, 1)
    first = create_dataset(api, [name]).json()["name"].rsplit("/", 1)[1]
    second = create_dataset(api, [name], displayName="again").json()["name"].rsplit("/", 1)[1]
    advance(api, TTL + DAY)
    assert api.delete(f"/_mock/projects/{PAID}/datasets/{first}").json() == {}
    assert [e["name"] for e in logs_of(api)] == [name]                 # the second dataset keeps it
    assert_envelope(api.get(f"/_mock/projects/{PAID}/datasets/{first}"), 404, "NOT_FOUND")
    assert api.delete(f"/_mock/projects/{PAID}/datasets/{second}").status_code == 200
    assert logs_of(api) == []


def test_a_log_still_young_outlives_its_dataset(api):
    enable(api)
    (name,) = make_logs(api, 1)
    dataset = create_dataset(api, [name]).json()["name"].rsplit("/", 1)[1]
    advance(api, DAY)
    api.delete(f"/_mock/projects/{PAID}/datasets/{dataset}")
    (entry,) = logs_of(api)
    assert entry["datasets"] == [] and "expireTime" in entry
    advance(api, TTL)
    assert logs_of(api) == []


def test_add_and_remove_logs(api):
    enable(api)
    a, b, c = make_logs(api, 3)
    dataset = create_dataset(api, [a]).json()
    path = f"/_mock/projects/{PAID}/datasets/{dataset['name'].rsplit('/', 1)[1]}"
    # full names, collection-relative names and bare ids; duplicates and logs already in are taken once
    added = api.post(f"{path}:addLogs", json={"logs": [b.split("/", 2)[2], c.rsplit("/", 1)[1], a, b]}).json()
    assert added["logs"] == [a, b, c] and added["logCount"] == 3
    assert parse_time(added["updateTime"], "u") >= parse_time(dataset["updateTime"], "u")
    removed = api.post(f"{path}:removeLogs", json={"logs": [b]}).json()
    assert removed["logs"] == [a, c]
    assert_envelope(api.post(f"{path}:removeLogs", json={"logs": [b]}), 400, "INVALID_ARGUMENT", field="logs[0]")
    logs = api.get(f"{path}/logs", params={"pageSize": 1}).json()
    assert [e["name"] for e in logs["logs"]] == [a] and logs["nextPageToken"]
    following = api.get(f"{path}/logs", params={"pageSize": 1, "pageToken": logs["nextPageToken"]}).json()
    assert [e["name"] for e in following["logs"]] == [c] and "nextPageToken" not in following


def test_a_project_keeps_at_most_1000_logs_in_datasets(api, server):
    enable(api)
    backend = server.store.logs
    names = [backend.record(PAID, method="generateContent", model=f"models/{MODEL}",
                            request={"contents": [{"parts": [{"text": str(i)}]}]}, response={})["name"]
             for i in range(1001)]
    too_many = create_dataset(api, names)
    error = assert_envelope(too_many, 400, "FAILED_PRECONDITION")
    assert "1000" in error["message"] and "1001" in error["message"]
    assert api.get(f"/_mock/projects/{PAID}/datasets").json() == {"datasets": []}

    full = create_dataset(api, names[:1000])
    assert full.status_code == 200 and full.json()["logCount"] == 1000
    assert backend.retained_count(PAID) == 1000
    # one more log anywhere is refused; a log already kept does not count again
    assert_envelope(create_dataset(api, [names[1000]]), 400, "FAILED_PRECONDITION")
    again = create_dataset(api, names[:10], displayName="overlap")
    assert again.status_code == 200 and again.json()["logCount"] == 10
    other = again.json()["name"].rsplit("/", 1)[1]
    assert_envelope(api.post(f"/_mock/projects/{PAID}/datasets/{other}:addLogs", json={"logs": [names[1000]]}),
                    400, "FAILED_PRECONDITION")
    # making room lets it in
    first = full.json()["name"].rsplit("/", 1)[1]
    api.post(f"/_mock/projects/{PAID}/datasets/{first}:removeLogs", json={"logs": [names[999]]})
    assert api.post(f"/_mock/projects/{PAID}/datasets/{other}:addLogs",
                    json={"logs": [names[1000]]}).json()["logCount"] == 11
    # the limit is per project: another paid project has its own
    enable(api, OTHER)
    mine = backend.record(OTHER, method="generateContent", model=f"models/{MODEL}")["name"]
    assert create_dataset(api, [mine], OTHER).status_code == 200


def test_the_limit_and_the_ttl_come_from_the_config(api):
    enable(api)
    patched = api.patch("/_mock/config", json={"logs": {"maxPerProject": 2, "ttlSeconds": 3600}})
    assert patched.status_code == 200
    a, b, c = make_logs(api, 3)
    assert create_dataset(api, [a, b]).status_code == 200
    assert_envelope(create_dataset(api, [c]), 400, "FAILED_PRECONDITION")
    advance(api, 3601)
    assert {e["name"] for e in logs_of(api)} == {a, b}


# -- feedback and the shared flag ------------------------------------------------------------------------

def test_feedback_thumbs_and_comment(api):
    enable(api)
    (name,) = make_logs(api, 1)
    path = f"/_mock/projects/{PAID}/logs/{name.rsplit('/', 1)[1]}:feedback"
    up = api.post(path, json={"rating": "THUMBS_UP"}).json()
    assert up["feedback"]["rating"] == "THUMBS_UP" and "comment" not in up["feedback"]
    commented = api.post(path, json={"comment": "Good <b>answer</b>"}).json()
    assert commented["feedback"]["rating"] == "THUMBS_UP"              # a comment keeps the rating
    assert commented["feedback"]["comment"] == "Good <b>answer</b>"
    down = api.post(path, json={"rating": "THUMBS_DOWN", "comment": "on second thought"}).json()
    assert down["feedback"]["rating"] == "THUMBS_DOWN" and down["feedback"]["comment"] == "on second thought"
    assert "updateTime" in down["feedback"]
    assert logs_of(api)[0]["feedback"] == down["feedback"]
    cleared = api.post(path, json={"rating": "RATING_UNSPECIFIED", "comment": ""}).json()
    assert "feedback" not in cleared
    assert api.post(path, json={"rating": None}).status_code == 200


@pytest.mark.parametrize("body, field", [
    ({"rating": "GREAT"}, "rating"),
    ({"rating": 1}, "rating"),
    ({}, "rating"),
    ({"comment": 5}, "comment"),
    ({"comment": "x" * 10_001}, "comment"),
    ({"stars": 5}, "stars"),
])
def test_bad_feedback_is_a_400_naming_the_field(api, body, field):
    enable(api)
    (name,) = make_logs(api, 1)
    answer = api.post(f"/_mock/projects/{PAID}/logs/{name.rsplit('/', 1)[1]}:feedback", json=body)
    assert_envelope(answer, 400, "INVALID_ARGUMENT", field=field)


def test_datasets_are_shared_unless_opted_out_at_creation(api):
    enable(api)
    a, b = make_logs(api, 2)
    shared = create_dataset(api, [a]).json()
    private = create_dataset(api, [b], displayName="private", shared=False).json()
    assert shared["shared"] is True and private["shared"] is False
    listed = api.get(f"/_mock/projects/{PAID}/datasets").json()["datasets"]
    assert [(d["displayName"], d["shared"]) for d in listed] == [("private", False), ("kept", True)]
    path = f"/_mock/projects/{PAID}/datasets/{private['name'].rsplit('/', 1)[1]}"
    changed = api.patch(path, json={"shared": True, "displayName": "now shared", "description": "d"}).json()
    assert (changed["shared"], changed["displayName"], changed["description"]) == (True, "now shared", "d")
    assert api.get(path).json() == changed
    assert_envelope(api.patch(path, json={"shared": "yes"}), 400, "INVALID_ARGUMENT", field="shared")
    assert_envelope(create_dataset(api, [], shared="no"), 400, "INVALID_ARGUMENT", field="shared")


def test_paging_of_logs_and_datasets(api):
    enable(api)
    names = make_logs(api, 5)
    seen, token = [], None
    while True:
        params = {"pageSize": 2, **({"pageToken": token} if token else {})}
        page = api.get(f"/_mock/projects/{PAID}/logs", params=params).json()
        seen += [e["name"] for e in page["logs"]]
        token = page.get("nextPageToken")
        if not token:
            break
    assert seen == list(reversed(names))
    for i in range(3):
        create_dataset(api, [names[i]], displayName=f"d{i}")
    first = api.get(f"/_mock/projects/{PAID}/datasets", params={"pageSize": 2}).json()
    assert [d["displayName"] for d in first["datasets"]] == ["d2", "d1"]
    rest = api.get(f"/_mock/projects/{PAID}/datasets", params={"pageToken": first["nextPageToken"]}).json()
    assert [d["displayName"] for d in rest["datasets"]] == ["d0"]


# -- every error path ------------------------------------------------------------------------------------

def _error_cases(log_id: str, dataset_id: str) -> list[tuple[str, str, dict | str | None, int, str, str | None]]:
    p = f"/_mock/projects/{PAID}"
    d = f"{p}/datasets/{dataset_id}"
    return [
        # (method, path, body, code, status, field)
        ("PATCH", f"{p}/logging", "{not json", 400, "INVALID_ARGUMENT", None),
        ("PATCH", f"{p}/logging", "[1, 2]", 400, "INVALID_ARGUMENT", None),
        ("PATCH", f"{p}/logging", {}, 400, "INVALID_ARGUMENT", "enabled"),
        ("PATCH", f"{p}/logging", {"enabled": "yes"}, 400, "INVALID_ARGUMENT", "enabled"),
        ("PATCH", f"{p}/logging", {"enabled": True, "verbose": 1}, 400, "INVALID_ARGUMENT", "verbose"),
        ("POST", f"{p}/logging", {"enabled": True}, 404, "NOT_FOUND", None),
        ("DELETE", f"{p}/logs", None, 404, "NOT_FOUND", None),
        ("GET", f"{p}/logs?pageSize=-1", None, 400, "INVALID_ARGUMENT", "pageSize"),
        ("GET", f"{p}/logs?pageSize=many", None, 400, "INVALID_ARGUMENT", "pageSize"),
        ("GET", f"{p}/logs?pageToken=bogus", None, 400, "INVALID_ARGUMENT", "pageToken"),
        ("GET", f"{p}/logs/nosuchlog", None, 404, "NOT_FOUND", None),
        ("GET", f"{p}/logs/{log_id}:feedback", None, 404, "NOT_FOUND", None),
        ("POST", f"{p}/logs/nosuchlog:feedback", {"rating": "THUMBS_UP"}, 404, "NOT_FOUND", None),
        ("PUT", f"{p}/logs/{log_id}", {}, 404, "NOT_FOUND", None),
        ("POST", f"{p}/datasets", {"logs": [log_id]}, 400, "INVALID_ARGUMENT", "displayName"),
        ("POST", f"{p}/datasets", {"displayName": "  "}, 400, "INVALID_ARGUMENT", "displayName"),
        ("POST", f"{p}/datasets", {"displayName": 7}, 400, "INVALID_ARGUMENT", "displayName"),
        ("POST", f"{p}/datasets", {"displayName": "x" * 513}, 400, "INVALID_ARGUMENT", "displayName"),
        ("POST", f"{p}/datasets", {"displayName": "d", "logs": log_id}, 400, "INVALID_ARGUMENT", "logs"),
        ("POST", f"{p}/datasets", {"displayName": "d", "logs": [3]}, 400, "INVALID_ARGUMENT", "logs[0]"),
        ("POST", f"{p}/datasets", {"displayName": "d", "logs": [log_id, "nope"]}, 404, "NOT_FOUND", None),
        ("POST", f"{p}/datasets", {"displayName": "d", "owner": "me"}, 400, "INVALID_ARGUMENT", "owner"),
        ("POST", f"{p}/datasets", {"displayName": "d", "description": []}, 400, "INVALID_ARGUMENT", "description"),
        ("GET", f"{p}/datasets/nosuch", None, 404, "NOT_FOUND", None),
        ("PATCH", f"{p}/datasets/nosuch", {"shared": False}, 404, "NOT_FOUND", None),
        ("DELETE", f"{p}/datasets/nosuch", None, 404, "NOT_FOUND", None),
        ("GET", f"{p}/datasets/nosuch/logs", None, 404, "NOT_FOUND", None),
        ("POST", f"{p}/datasets/nosuch:addLogs", {"logs": [log_id]}, 404, "NOT_FOUND", None),
        ("POST", f"{p}/datasets/nosuch:removeLogs", {"logs": [log_id]}, 404, "NOT_FOUND", None),
        ("PATCH", d, {"logs": []}, 400, "INVALID_ARGUMENT", "logs"),
        ("PATCH", d, {"displayName": ""}, 400, "INVALID_ARGUMENT", "displayName"),
        ("PATCH", d, {"name": "projects/x/datasets/y"}, 400, "INVALID_ARGUMENT", "name"),
        ("POST", f"{d}:addLogs", {}, 400, "INVALID_ARGUMENT", "logs"),
        ("POST", f"{d}:addLogs", {"logs": [log_id], "extra": 1}, 400, "INVALID_ARGUMENT", "extra"),
        ("POST", f"{d}:addLogs", {"logs": ["projects/project-other/logs/" + log_id]}, 404, "NOT_FOUND", None),
        ("POST", f"{d}:removeLogs", {"logs": "all"}, 400, "INVALID_ARGUMENT", "logs"),
        ("POST", f"{d}:removeLogs", {"logs": ["nosuchlog"]}, 400, "INVALID_ARGUMENT", "logs[0]"),
        ("GET", f"{d}:addLogs", None, 404, "NOT_FOUND", None),
        ("GET", f"{d}/logs?pageToken=bogus", None, 400, "INVALID_ARGUMENT", "pageToken"),
    ]


def test_every_error_path_answers_the_envelope(api):
    enable(api)
    (name,) = make_logs(api, 1)
    log_id = name.rsplit("/", 1)[1]
    dataset_id = create_dataset(api, [name]).json()["name"].rsplit("/", 1)[1]
    for method, path, body, code, status, field in _error_cases(log_id, dataset_id):
        options = {}
        if isinstance(body, str):
            options = {"content": body, "headers": {"Content-Type": "application/json"}}
        elif body is not None:
            options = {"json": body}
        answer = api.request(method, path, **options)
        try:
            assert_envelope(answer, code, status, field=field)
        except AssertionError as failure:
            raise AssertionError(f"{method} {path} {body!r}: {failure}") from None
    # nothing above changed the dataset
    assert api.get(f"/_mock/projects/{PAID}/datasets/{dataset_id}").json()["logs"] == [name]


def test_reset_wipes_logs_datasets_and_switches(api, server):
    enable(api)
    (name,) = make_logs(api, 1)
    create_dataset(api, [name])
    assert api.post("/_mock/reset", json={}).status_code == 200
    assert api.get(f"/_mock/projects/{PAID}/logging").json()["enabled"] is False
    assert logs_of(api) == [] and api.get(f"/_mock/projects/{PAID}/datasets").json() == {"datasets": []}
    assert server.store.logs.projects() == []


# -- the dashboard's JSON ------------------------------------------------------------------------------

def test_the_dashboard_state_shows_logs_datasets_and_tiers(api):
    enable(api)
    (name,) = make_logs(api, 1)
    create_dataset(api, [name], displayName="<b>mine</b>", shared=False)
    state = api.get("/_mock/ui/state").json()
    assert state["errors"] == {}
    tiers = {p["project"]: (p["tier"], p["loggingAvailable"], p["loggingEnabled"]) for p in state["projects"]}
    assert tiers[PAID] == ("tier1", True, True)
    assert tiers[FREE] == ("free", False, False)
    (paid,) = [p for p in state["logs"] if p["project"] == PAID]
    assert paid["retained"] == 1 and paid["limit"] == 1000
    assert paid["logs"][0]["name"] == name and paid["logs"][0]["prompt"] == "prompt 0"
    assert paid["logs"][0]["answer"]
    assert paid["datasets"][0]["displayName"] == "<b>mine</b>" and paid["datasets"][0]["shared"] is False
    assert state["journal"]["requests"][0]["path"].endswith(":generateContent")


def test_the_dashboard_page_is_served_with_a_strict_policy(api):
    page = api.get("/_mock/ui")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    policy = page.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert "<script src=\"ui/app.js\"" in page.text
    script = api.get("/_mock/ui/app.js")
    assert script.status_code == 200 and "javascript" in script.headers["content-type"]
    assert "innerHTML" not in script.text and "insertAdjacentHTML" not in script.text
    assert api.get("/_mock/ui/app.css").status_code == 200


def test_the_dashboard_state_shows_every_resource(api, server):
    """Files, batches (with the next transition), caches (time to expiry), tuned models and corpora (with
    their permissions) and usage, each read without a section error."""
    key = {"x-goog-api-key": "paid-key"}
    server.store.files.create_generated(PAID, "notes", "text/plain", data=b"hello")
    batch = api.post(f"/v1beta/models/{MODEL}:batchGenerateContent", headers=key, json={"batch": {
        "displayName": "nightly", "inputConfig": {"requests": {"requests": [
            {"request": {"contents": [{"parts": [{"text": "q"}]}]}}]}}}}).json()
    cache = api.post("/v1beta/cachedContents", headers=key, json={
        "model": f"models/{MODEL}", "displayName": "big", "ttl": "600s",
        "contents": [{"role": "user", "parts": [{"text": "word " * 3000}]}]})
    assert cache.status_code == 200, cache.text
    tuned = api.post("/v1beta/tunedModels", headers=key, json={
        "displayName": "tuned", "baseModel": "models/gemini-1.5-flash-001-tuning",
        "tuningTask": {"trainingData": {"examples": {"examples": [{"textInput": "a", "output": "b"}]}}}})
    assert tuned.status_code == 200, tuned.text
    corpus = api.post("/v1beta/corpora", headers=key, json={"displayName": "docs"})
    assert corpus.status_code == 200, corpus.text
    granted = api.post(f"/v1beta/{corpus.json()['name']}/permissions", headers=key,
                       json={"granteeType": "USER", "emailAddress": "other@example.com", "role": "READER"})
    assert granted.status_code == 200, granted.text
    assert generate(api, "paid-key", "count me").status_code == 200

    state = api.get("/_mock/ui/state").json()
    assert state["errors"] == {}
    now = state["epochSeconds"]
    (file,) = [f for f in state["files"] if f["project"] == PAID]
    assert file["displayName"] == "notes" and file["expireEpoch"] == pytest.approx(now + 48 * 3600, abs=5)
    (job,) = state["batches"]
    assert (job["name"], job["displayName"], job["state"]) == (batch["name"], "nightly", "BATCH_STATE_PENDING")
    assert job["next"]["state"] == "BATCH_STATE_RUNNING" and job["next"]["epoch"] == pytest.approx(now + 5, abs=5)
    (entry,) = state["caches"]
    assert entry["displayName"] == "big" and entry["expireEpoch"] == pytest.approx(now + 600, abs=5)
    (model,) = state["tunedModels"]
    assert model["project"] == PAID and model["state"] in ("CREATING", "ACTIVE")
    assert [(g["role"], g["emailAddress"]) for g in model["permissions"]] == [("OWNER", "paid@example.com")]
    (shared,) = state["corpora"]
    assert {(g["role"], g["emailAddress"]) for g in shared["permissions"]} == {
        ("OWNER", "paid@example.com"), ("READER", "other@example.com")}
    if "usage" in server.store.backends:
        (usage,) = [p for p in state["usage"]["projects"] if p["project"] == PAID]
        assert usage["requests"] >= 1
    advance(api, 3600)
    later = api.get("/_mock/ui/state").json()
    assert later["batches"][0]["state"] == "BATCH_STATE_SUCCEEDED" and "next" not in later["batches"][0]
    assert later["caches"] == []
