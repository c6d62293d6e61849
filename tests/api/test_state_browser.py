"""The state browser's API (`/_mock/browse`, state_browser.py) and the clock's reset, over raw HTTP."""
from __future__ import annotations

import httpx
import pytest

from gemini_mockserver import state_browser

from support import assert_envelope

MODEL = "gemini-3.5-flash-lite"


@pytest.fixture
def control(gemini_mock):
    with httpx.Client(base_url=gemini_mock.base_url, timeout=30) as session:
        yield session


def test_kinds_projects_items_and_detail(gemini_mock, control):
    uploaded = gemini_mock.upload_file(b"hello", "text/plain")
    index = control.get("/_mock/browse").json()
    assert {"files", "batches", "caches", "tunedModels", "corpora"} <= {k["name"] for k in index["kinds"]}
    assert next(k for k in index["kinds"] if k["name"] == "batches")["actions"] == ["cancel", "delete", "expire"]
    assert gemini_mock.project in index["projects"]
    base = f"/_mock/browse/{gemini_mock.project}"
    assert [item["name"] for item in control.get(base + "/files").json()["items"]] == [uploaded["name"]]
    assert control.get(base + "/files", params={"name": uploaded["name"]}).json()["sizeBytes"] == "5"
    assert control.get("/_mock/browse/another-project/files").json() == {"items": []}   # isolation


def test_actions_expire_cancel_and_delete(gemini_mock, control):
    base = f"/_mock/browse/{gemini_mock.project}"
    uploaded = gemini_mock.upload_file(b"hello", "text/plain")["name"]
    assert control.post(base + "/files/expire", json={"name": uploaded}).json() == {"items": []}
    with pytest.raises(Exception):
        gemini_mock.client().files.get(name=uploaded)
    cache = gemini_mock.create_cache({"model": f"models/{MODEL}", "contents": [
        {"role": "user", "parts": [{"text": "long context " * 600}]}]})["name"]
    assert control.post(base + "/caches/expire", json={"name": cache}).json() == {"items": []}
    batch = gemini_mock.create_batch(MODEL, [{"contents": [{"parts": [{"text": "q"}]}]}])["name"]
    cancelled = control.post(base + "/batches/cancel", json={"name": batch}).json()["items"]
    assert cancelled[0]["metadata"]["state"] == "BATCH_STATE_CANCELLED"
    assert_envelope(control.post(base + "/batches/expire", json={"name": batch}), 400, "FAILED_PRECONDITION")
    assert control.post(base + "/batches/delete", json={"name": batch}).json() == {"items": []}


def test_errors_name_what_is_wrong(gemini_mock, control):
    base = f"/_mock/browse/{gemini_mock.project}"
    assert_envelope(control.get(base + "/widgets"), 404, "NOT_FOUND")
    assert_envelope(control.post(base + "/files/fly", json={"name": "files/x"}), 400, "INVALID_ARGUMENT", field="action")
    assert_envelope(control.post(base + "/files/delete", json={}), 400, "INVALID_ARGUMENT", field="name")
    assert_envelope(control.post(base + "/files/delete", content=b"{nope"), 400, "INVALID_ARGUMENT")
    assert control.post(base + "/files/delete", json={"name": "files/missing"}).status_code in (403, 404)
    assert_envelope(control.post(base + "/tunedModels/delete", json={"name": "tunedModels/missing"}), 404, "NOT_FOUND")
    assert_envelope(control.get(base + "/files", params={"name": "files/missing"}), 404, "NOT_FOUND")


def test_a_new_resource_kind_plugs_in(gemini_mock, control, monkeypatch):
    monkeypatch.setattr(state_browser, "KINDS", list(state_browser.KINDS))
    state_browser.register(state_browser.Kind("widgets", "Widgets", "files",
                                              lambda store, who: [{"name": "widgets/1", "owner": who.project}]))
    listed = control.get(f"/_mock/browse/{gemini_mock.project}/widgets").json()["items"]
    assert listed == [{"name": "widgets/1", "owner": gemini_mock.project}]


def test_the_clock_goes_back_to_real_time(gemini_mock, control):
    real = control.get("/_mock/clock").json()["epochSeconds"]
    control.post("/_mock/clock", json={"advanceSeconds": 10 * 86400})
    back = control.post("/_mock/clock", json={"reset": True}).json()["epochSeconds"]
    assert back - real < 86400
    assert_envelope(control.post("/_mock/clock", json={"reset": True, "now": "2030-01-01T00:00:00Z"}), 400,
                    "INVALID_ARGUMENT", field="reset")
    assert_envelope(control.post("/_mock/clock", json={"reset": "yes"}), 400, "INVALID_ARGUMENT", field="reset")


def test_interactions_are_browsed_and_deleted(gemini_mock, control):
    made = httpx.post(gemini_mock.base_url + "/v1beta/interactions", headers={"x-goog-api-key": gemini_mock.api_key},
                      json={"model": MODEL, "input": "hello"})
    assert made.status_code == 200, made.text
    base = f"/_mock/browse/{gemini_mock.project}/interactions"
    items = control.get(base).json()["items"]
    assert [item["name"] for item in items] == [made.json()["id"]] and items[0]["status"] == "completed"
    assert control.post(base + "/delete", json={"name": made.json()["id"]}).json() == {"items": []}
