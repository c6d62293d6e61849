"""Environments through google-genai's `client.environments` (and raw HTTP for the custom-verb paths)."""
from __future__ import annotations

import base64
import warnings

import pytest

from support import assert_envelope

warnings.filterwarnings("ignore", "Environments usage is experimental")

SOURCES = [
    {"type": "inline", "content": "print('hello')\n", "target": "src/main.py"},
    {"type": "inline", "content": "# notes\n", "target": "README.md"},
    {"type": "inline", "content": base64.b64encode(b"\x89PNG..").decode(), "encoding": "base64",
     "target": "src/assets/logo.png"},
]


@pytest.fixture
def environments(beta_client):
    return beta_client.environments


def test_create_get_list_delete_through_the_sdk(environments, http):
    created = environments.create_environment(sources=SOURCES)
    assert created.status == "active" and created.mode == "on_demand"
    assert created.file_count == 3 and created.size_bytes == len("print('hello')\n") + len("# notes\n") + 6
    assert created.environment_key is None
    got = environments.get_environment(id=created.id)
    assert got.id == created.id and got.sources[0].target == "src/main.py"
    listed = environments.list_environments()
    assert [e.id for e in listed.environments] == [created.id]
    environments.delete_environment(id=created.id)
    assert environments.list_environments().environments in (None, [])
    assert_envelope(http.get(f"/v1beta/environments/{created.id}"), 403, "PERMISSION_DENIED")


def test_files_list_and_download(environments, http):
    env = environments.create_environment(sources=SOURCES)
    top = environments.files.list(environment=env.id, path="src")
    assert [(f.name, f.type) for f in top.files] == [("assets", "directory"), ("main.py", "file")]
    deep = environments.files.list(environment=env.id, path="src", recursive=True)
    assert [f.path for f in deep.files] == ["src/assets/logo.png", "src/main.py"]
    (one,) = environments.files.list(environment=env.id, path="src/main.py").files
    assert one.size_bytes == len("print('hello')\n") and one.mime_type
    raw = http.get(f"/v1beta/environments/{env.id}/files/src/assets/logo.png", params={"alt": "media"})
    assert raw.status_code == 200 and raw.content == b"\x89PNG.." and raw.headers["content-type"] == "image/png"
    assert_envelope(http.get(f"/v1beta/environments/{env.id}/files/nope.txt"), 403, "PERMISSION_DENIED")
    assert_envelope(http.get(f"/v1beta/environments/{env.id}/files/src%2F..%2F..%2Fx"), 400, "INVALID_ARGUMENT",
                    field="path")


def test_self_hosted_key_modes_paging_and_forks(environments, http):
    hosted = environments.create_environment(mode="self_hosted", custom_config={"pool": "a"})
    assert hosted.environment_key and hosted.custom_config == {"pool": "a"}
    assert environments.get_environment(id=hosted.id).environment_key is None
    parent = environments.create_environment(sources=SOURCES)
    fork = environments.create_environment(from_environment=f"environments/{parent.id}")
    assert fork.file_count == 3
    assert [e.id for e in environments.list_environments(mode="self_hosted").environments] == [hosted.id]
    first = http.get("/v1beta/environments", params={"page_size": 2}).json()
    rest = http.get("/v1beta/environments", params={"page_token": first["next_page_token"]}).json()
    assert len(first["environments"]) == 2 and len(rest["environments"]) == 1


def test_custom_verb_paths_of_the_discovery_revision(http):
    made = http.post("/v1beta/environments:create", json={"sources": SOURCES[:1]})
    assert made.status_code == 200, made.text
    env_id = made.json()["id"]
    assert http.get(f"/v1beta/environments/{env_id}:get").json()["id"] == env_id
    assert [e["id"] for e in http.get("/v1beta/environments:list").json()["environments"]] == [env_id]
    assert http.delete(f"/v1beta/environments/{env_id}:delete").json() == {}


def test_environments_are_per_project(gemini_mock, http):
    env_id = http.post("/v1beta/environments", json={}).json()["id"]
    other = {"x-goog-api-key": gemini_mock.other_key("other")}
    assert_envelope(http.get(f"/v1beta/environments/{env_id}", headers=other), 403, "PERMISSION_DENIED")
    assert_envelope(http.delete(f"/v1beta/environments/{env_id}", headers=other), 403, "PERMISSION_DENIED")
    assert http.get("/v1beta/environments", headers=other).json() == {"environments": []}


@pytest.mark.parametrize("body, field", [
    ({"mode": "always_on"}, "mode"),
    ({"custom_config": {"a": 1}}, "custom_config"),
    ({"sources": [{"type": "gcs", "source": "gs://b/o", "target": "x"}]}, "sources[0].type"),
    ({"sources": [{"type": "inline", "target": "x"}]}, "sources[0].content"),
    ({"sources": [{"type": "inline", "content": "%%", "encoding": "base64", "target": "x"}]}, "sources[0].content"),
    ({"sources": [{"type": "inline", "content": "x", "target": "../escape"}]}, "sources[0].target"),
    ({"sources": "x"}, "sources"),
])
def test_bad_creates_name_the_field(http, body, field):
    assert_envelope(http.post("/v1beta/environments", json=body), 400, "INVALID_ARGUMENT", field=field)


def test_fork_of_a_missing_environment_is_403(http):
    assert_envelope(http.post("/v1beta/environments", json={"from_environment": "environments/nope"}), 403,
                    "PERMISSION_DENIED")


def test_environments_survive_export_and_import(gemini_mock, http):
    import httpx

    env_id = http.post("/v1beta/environments", json={"sources": SOURCES}).json()["id"]
    saved = httpx.get(f"{gemini_mock.base_url}/_mock/state:export").json()
    httpx.post(f"{gemini_mock.base_url}/_mock/reset")
    assert http.get("/v1beta/environments").json() == {"environments": []}
    httpx.post(f"{gemini_mock.base_url}/_mock/state:import", json=saved)
    raw = http.get(f"/v1beta/environments/{env_id}/files/README.md", params={"alt": "media"})
    assert raw.content == b"# notes\n"


def test_backend_directly(gemini_mock):
    backend = gemini_mock.store.environments
    made = backend.create(gemini_mock.identity, {"sources": SOURCES})
    assert backend.file_bytes(gemini_mock.identity, made["id"], "README.md") == (b"# notes\n", "text/markdown")
    listing = backend.list_files(gemini_mock.identity, made["id"], "src", False, 1, None)
    assert [f["name"] for f in listing["files"]] == ["assets"] and listing["next_page_token"]
