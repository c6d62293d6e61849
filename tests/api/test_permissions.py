"""Permissions on tuned models and corpora, enforced on every call, with identities (e-mails and group
memberships) from a keys file; and the corpora themselves.

The matrix: a second key ("alice") gets a role through a USER, GROUP or EVERYONE grant, or none, and
each operation answers exactly 200 or 403 according to that role.
"""
from __future__ import annotations

import httpx
import pytest

from gemini_mockserver.auth import Identity
from gemini_mockserver.errors import missing_resource

from support import assert_envelope, validate_response
from support.servers import serve

IDENTITIES = {
    "owner-key": Identity("owner-key", "project-owner", "owner@example.com"),
    "alice-key": Identity("alice-key", "project-alice", "alice@example.com", groups=("team@example.com",)),
    "carol-key": Identity("carol-key", "project-carol", "carol@example.com"),
    "dave-key": Identity("dave-key", "project-dave", "dave@example.com", groups=("other@example.com",)),
}
TUNED = "tunedModels/shared"
CORPUS = "corpora/shared"
TUNED_BODY = {"displayName": "Shared", "baseModel": "models/gemini-1.5-flash-001-tuning",
              "tuningTask": {"trainingData": {"examples": {"examples": [{"textInput": "Hello", "output": "Bonjour"}]}}}}


@pytest.fixture(scope="module")
def server():
    with serve(keys=IDENTITIES, config={"tunedModel": {"trainingSeconds": 0.0}}) as live:
        yield live


class Caller:
    """Plain HTTP as one key."""

    def __init__(self, base_url: str, key: str) -> None:
        self.client = httpx.Client(base_url=base_url, headers={"x-goog-api-key": key}, timeout=30)

    def __getattr__(self, name):
        return getattr(self.client, name)


@pytest.fixture
def keys(server):
    server.store.reset(config=True, clock=True)
    callers = {name: Caller(server.base_url, f"{name}-key") for name in ("owner", "alice", "carol", "dave")}
    yield callers
    for caller in callers.values():
        caller.client.close()
    errors = list(server.store.internal_errors)
    server.store.internal_errors.clear()
    assert not errors, errors


def make_tuned(owner) -> str:
    response = owner.post("/v1beta/tunedModels", params={"tunedModelId": "shared"}, json=TUNED_BODY)
    assert response.status_code == 200, response.text
    return TUNED


def make_corpus(owner) -> str:
    response = owner.post("/v1beta/corpora", json={"name": CORPUS, "displayName": "Shared"})
    assert response.status_code == 200, response.text
    return CORPUS


def grant(caller, parent: str, grantee_type: str, email: str | None, role: str, version: str = "v1beta"):
    body = {"granteeType": grantee_type, "role": role}
    if email:
        body["emailAddress"] = email
    response = caller.post(f"/{version}/{parent}/permissions", json=body)
    assert response.status_code == 200, response.text
    return response.json()


# -- the matrix ------------------------------------------------------------------------------------------

# (label, grantee type, e-mail the grant names, role) for alice
ROLE_CELLS = [
    ("none", None, None, None),
    ("reader-user", "USER", "alice@example.com", "READER"),
    ("reader-group", "GROUP", "team@example.com", "READER"),
    ("reader-everyone", "EVERYONE", None, "READER"),
    ("writer-user", "USER", "alice@example.com", "WRITER"),
    ("writer-group", "GROUP", "team@example.com", "WRITER"),
    ("owner-user", "USER", "alice@example.com", "OWNER"),
    ("owner-group", "GROUP", "team@example.com", "OWNER"),
]
RANK = {None: 0, "READER": 1, "WRITER": 2, "OWNER": 3}


def op_get(c, name, carol_perm):
    return c.get(f"/v1beta/{name}")


def op_list(c, name, carol_perm):
    return c.get(f"/v1beta/{name.split('/')[0]}")


def op_generate(c, name, carol_perm):
    return c.post(f"/v1beta/{name}:generateText", json={"prompt": {"text": "Hello"}})


def op_patch(c, name, carol_perm):
    return c.patch(f"/v1beta/{name}", params={"updateMask": "description"}, json={"description": "changed"})


def op_list_permissions(c, name, carol_perm):
    return c.get(f"/v1beta/{name}/permissions")


def op_create_permission(c, name, carol_perm):
    return c.post(f"/v1beta/{name}/permissions",
                  json={"granteeType": "USER", "emailAddress": "dave@example.com", "role": "READER"})


def op_patch_permission(c, name, carol_perm):
    return c.patch(f"/v1beta/{carol_perm}", params={"updateMask": "role"}, json={"role": "WRITER"})


def op_delete_permission(c, name, carol_perm):
    return c.delete(f"/v1beta/{carol_perm}")


def op_delete(c, name, carol_perm):
    return c.delete(f"/v1beta/{name}")


def op_transfer(c, name, carol_perm):
    return c.post(f"/v1beta/{name}:transferOwnership", json={"emailAddress": "dave@example.com"})


# (operation, the role it needs)
TUNED_OPERATIONS = [
    (op_get, "READER"), (op_list, "READER"), (op_generate, "READER"), (op_patch, "WRITER"),
    (op_list_permissions, "WRITER"), (op_create_permission, "WRITER"), (op_patch_permission, "WRITER"),
    (op_delete_permission, "WRITER"), (op_delete, "OWNER"), (op_transfer, "OWNER"),
]
CORPUS_OPERATIONS = [
    (op_get, "READER"), (op_list, "READER"), (op_list_permissions, "WRITER"), (op_create_permission, "WRITER"),
    (op_patch_permission, "WRITER"), (op_delete_permission, "WRITER"), (op_delete, "OWNER"),
]


def arrange(keys, kind: str, grantee_type, email, role) -> tuple[str, str]:
    owner = keys["owner"]
    name = make_tuned(owner) if kind == "tuned" else make_corpus(owner)
    carol_perm = grant(owner, name, "USER", "carol@example.com", "READER")["name"]
    if grantee_type:
        grant(owner, name, grantee_type, email, role)
    return name, carol_perm


def check_cell(keys, kind, cell, operation, needed):
    label, grantee_type, email, role = cell
    name, carol_perm = arrange(keys, kind, grantee_type, email, role)
    allowed = RANK[role] >= RANK[needed]
    response = operation(keys["alice"], name, carol_perm)
    if operation is op_list:
        assert response.status_code == 200, response.text
        listed = [item["name"] for item in response.json()[{"tuned": "tunedModels", "corpus": "corpora"}[kind]]]
        assert (name in listed) is allowed, (label, listed)
        return
    if allowed:
        assert response.status_code == 200, (label, operation.__name__, response.text)
    else:
        error = assert_envelope(response, 403, "PERMISSION_DENIED")
        kind_word = "TunedModel" if kind == "tuned" else "Corpus"
        assert error["message"] == missing_resource(kind_word, name).message


@pytest.mark.parametrize("operation,needed", TUNED_OPERATIONS, ids=[op.__name__[3:] for op, _ in TUNED_OPERATIONS])
@pytest.mark.parametrize("cell", ROLE_CELLS, ids=[c[0] for c in ROLE_CELLS])
def test_tuned_model_matrix(keys, cell, operation, needed):
    check_cell(keys, "tuned", cell, operation, needed)


@pytest.mark.parametrize("operation,needed", CORPUS_OPERATIONS, ids=[op.__name__[3:] for op, _ in CORPUS_OPERATIONS])
@pytest.mark.parametrize("cell", ROLE_CELLS, ids=[c[0] for c in ROLE_CELLS])
def test_corpus_matrix(keys, cell, operation, needed):
    check_cell(keys, "corpus", cell, operation, needed)


def test_a_group_grant_does_not_reach_people_outside_the_group(keys):
    name = make_tuned(keys["owner"])
    grant(keys["owner"], name, "GROUP", "team@example.com", "READER")
    assert keys["alice"].get(f"/v1beta/{name}").status_code == 200
    assert_envelope(keys["dave"].get(f"/v1beta/{name}"), 403, "PERMISSION_DENIED")


def test_whoami_shows_the_groups_from_the_keys_file(keys, server):
    who = httpx.get(f"{server.base_url}/_mock/whoami", headers={"x-goog-api-key": "alice-key"}).json()
    assert who["email"] == "alice@example.com" and who["groups"] == ["team@example.com"]


# -- no existence leak -----------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["tuned", "corpus"])
def test_absent_deleted_and_forbidden_look_alike(keys, kind):
    owner, carol = keys["owner"], keys["carol"]
    name = make_tuned(owner) if kind == "tuned" else make_corpus(owner)
    forbidden = assert_envelope(carol.get(f"/v1beta/{name}"), 403, "PERMISSION_DENIED")
    forbidden_permissions = assert_envelope(carol.get(f"/v1beta/{name}/permissions"), 403, "PERMISSION_DENIED")
    assert owner.delete(f"/v1beta/{name}").status_code == 200
    deleted = assert_envelope(carol.get(f"/v1beta/{name}"), 403, "PERMISSION_DENIED")
    deleted_for_owner = assert_envelope(owner.get(f"/v1beta/{name}"), 403, "PERMISSION_DENIED")
    assert forbidden == deleted == deleted_for_owner == forbidden_permissions
    never = assert_envelope(carol.get(f"/v1beta/{name}-never"), 403, "PERMISSION_DENIED")
    assert never["message"] == forbidden["message"].replace(name, f"{name}-never")


def test_a_reader_attempting_a_patch_gets_the_same_403(keys):
    name = make_tuned(keys["owner"])
    grant(keys["owner"], name, "USER", "alice@example.com", "READER")
    patched = assert_envelope(op_patch(keys["alice"], name, None), 403, "PERMISSION_DENIED")
    absent = assert_envelope(keys["carol"].get(f"/v1beta/{name}"), 403, "PERMISSION_DENIED")
    assert patched == absent


def test_revoking_a_grant_takes_effect_at_once(keys):
    name = make_tuned(keys["owner"])
    permission = grant(keys["owner"], name, "USER", "alice@example.com", "READER")
    assert keys["alice"].get(f"/v1beta/{name}").status_code == 200
    assert keys["owner"].delete(f"/v1beta/{permission['name']}").status_code == 200
    assert_envelope(keys["alice"].get(f"/v1beta/{name}"), 403, "PERMISSION_DENIED")


# -- ownership rules -------------------------------------------------------------------------------------

def test_creator_holds_the_owner_grant(keys):
    name = make_tuned(keys["owner"])
    listed = keys["owner"].get(f"/v1beta/{name}/permissions").json()
    validate_response("v1beta", "ListPermissionsResponse", listed)
    [only] = listed["permissions"]
    assert only["granteeType"] == "USER" and only["emailAddress"] == "owner@example.com" and only["role"] == "OWNER"
    assert only["name"].startswith(f"{name}/permissions/")


def test_a_writer_may_not_grant_or_touch_ownership(keys):
    owner, alice = keys["owner"], keys["alice"]
    name = make_tuned(owner)
    grant(owner, name, "USER", "alice@example.com", "WRITER")
    owner_perm = owner.get(f"/v1beta/{name}/permissions").json()["permissions"][0]["name"]
    assert_envelope(alice.post(f"/v1beta/{name}/permissions",
                               json={"granteeType": "USER", "emailAddress": "dave@example.com", "role": "OWNER"}),
                    403, "PERMISSION_DENIED")
    assert_envelope(alice.patch(f"/v1beta/{owner_perm}", params={"updateMask": "role"}, json={"role": "READER"}),
                    403, "PERMISSION_DENIED")
    assert_envelope(alice.delete(f"/v1beta/{owner_perm}"), 403, "PERMISSION_DENIED")
    carol = grant(alice, name, "USER", "carol@example.com", "WRITER")
    assert_envelope(alice.patch(f"/v1beta/{carol['name']}", params={"updateMask": "role"}, json={"role": "OWNER"}),
                    403, "PERMISSION_DENIED")


def test_an_owner_may_grant_owner_and_the_last_owner_stays(keys):
    owner, alice = keys["owner"], keys["alice"]
    name = make_tuned(owner)
    owner_perm = owner.get(f"/v1beta/{name}/permissions").json()["permissions"][0]["name"]
    assert_envelope(owner.delete(f"/v1beta/{owner_perm}"), 400, "FAILED_PRECONDITION")
    assert_envelope(owner.patch(f"/v1beta/{owner_perm}", params={"updateMask": "role"}, json={"role": "WRITER"}),
                    400, "FAILED_PRECONDITION")
    alice_perm = grant(owner, name, "USER", "alice@example.com", "OWNER")
    assert owner.patch(f"/v1beta/{owner_perm}", params={"updateMask": "role"},
                       json={"role": "WRITER"}).json()["role"] == "WRITER"
    assert_envelope(owner.delete(f"/v1beta/{name}"), 403, "PERMISSION_DENIED")
    assert_envelope(alice.delete(f"/v1beta/{alice_perm['name']}"), 400, "FAILED_PRECONDITION")
    assert alice.delete(f"/v1beta/{name}").status_code == 200


def test_transfer_to_someone_with_a_grant_promotes_that_grant(keys):
    owner, alice = keys["owner"], keys["alice"]
    name = make_tuned(owner)
    reader = grant(owner, name, "USER", "alice@example.com", "READER")
    assert owner.post(f"/v1beta/{name}:transferOwnership", json={"emailAddress": "ALICE@example.com"}).json() == {}
    roles = {p["emailAddress"]: (p["name"], p["role"])
             for p in alice.get(f"/v1beta/{name}/permissions").json()["permissions"]}
    assert roles == {"owner@example.com": (roles["owner@example.com"][0], "WRITER"),
                     "alice@example.com": (reader["name"], "OWNER")}
    listed = alice.get("/v1beta/tunedModels", params={"filter": "owner:me"}).json()["tunedModels"]
    assert [m["name"] for m in listed] == [name]
    assert owner.get("/v1beta/tunedModels", params={"filter": "owner:me"}).json() == {"tunedModels": []}


# -- validation ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("body,field", [
    ({"granteeType": "EVERYONE", "emailAddress": "x@example.com", "role": "READER"}, "emailAddress"),
    ({"granteeType": "EVERYONE", "role": "WRITER"}, "role"),
    ({"granteeType": "USER", "role": "READER"}, "emailAddress"),
    ({"granteeType": "GROUP", "emailAddress": "", "role": "READER"}, "emailAddress"),
    ({"emailAddress": "x@example.com", "role": "READER"}, "granteeType"),
    ({"granteeType": "GRANTEE_TYPE_UNSPECIFIED", "emailAddress": "x@example.com", "role": "READER"}, "granteeType"),
    ({"granteeType": "USER", "emailAddress": "x@example.com"}, "role"),
    ({"granteeType": "USER", "emailAddress": "x@example.com", "role": "ADMIN"}, "role"),
])
def test_invalid_permission_is_400_naming_the_field(keys, body, field):
    name = make_tuned(keys["owner"])
    assert_envelope(keys["owner"].post(f"/v1beta/{name}/permissions", json=body), 400, "INVALID_ARGUMENT",
                    field=field)


def test_enum_numbers_and_snake_case_are_accepted(keys):
    name = make_tuned(keys["owner"])
    made = keys["owner"].post(f"/v1beta/{name}/permissions",
                              json={"grantee_type": 1, "email_address": "dave@example.com", "role": 3}).json()
    assert (made["granteeType"], made["role"]) == ("USER", "READER")


def test_a_second_grant_for_the_same_grantee_is_409(keys):
    name = make_tuned(keys["owner"])
    first = grant(keys["owner"], name, "USER", "alice@example.com", "READER")
    error = assert_envelope(keys["owner"].post(f"/v1beta/{name}/permissions", json={
        "granteeType": "USER", "emailAddress": "Alice@Example.com", "role": "WRITER"}), 409, "ALREADY_EXISTS")
    assert first["name"] in error["message"]


@pytest.mark.parametrize("mask", [None, "", "emailAddress", "role,granteeType"])
def test_permission_patch_needs_update_mask_role(keys, mask):
    name = make_tuned(keys["owner"])
    permission = grant(keys["owner"], name, "USER", "alice@example.com", "READER")
    params = {} if mask is None else {"updateMask": mask}
    assert_envelope(keys["owner"].patch(f"/v1beta/{permission['name']}", params=params, json={"role": "WRITER"}),
                    400, "INVALID_ARGUMENT", field="updateMask")


def test_everyone_grant_cannot_be_raised(keys):
    name = make_tuned(keys["owner"])
    permission = grant(keys["owner"], name, "EVERYONE", None, "READER")
    assert "emailAddress" not in permission
    assert_envelope(keys["owner"].patch(f"/v1beta/{permission['name']}", params={"updateMask": "role"},
                                        json={"role": "WRITER"}), 400, "INVALID_ARGUMENT", field="role")


def test_unknown_permission_under_a_managed_parent_is_the_one_403(keys):
    name = make_tuned(keys["owner"])
    assert_envelope(keys["owner"].get(f"/v1beta/{name}/permissions/nope"), 403, "PERMISSION_DENIED")


# -- listing and versions --------------------------------------------------------------------------------

def test_permissions_page(keys):
    name = make_tuned(keys["owner"])
    for email in ("a@example.com", "b@example.com", "c@example.com"):
        grant(keys["owner"], name, "USER", email, "READER")
    first = keys["owner"].get(f"/v1beta/{name}/permissions", params={"pageSize": 3}).json()
    assert len(first["permissions"]) == 3 and first["nextPageToken"]
    second = keys["owner"].get(f"/v1beta/{name}/permissions",
                               params={"pageSize": 3, "pageToken": first["nextPageToken"]}).json()
    assert [p["emailAddress"] for p in second["permissions"]] == ["c@example.com"] and "nextPageToken" not in second


@pytest.mark.parametrize("parent", [TUNED, CORPUS])
def test_permission_crud_on_v1beta3(keys, parent):
    owner = keys["owner"]
    make_tuned(owner) if parent == TUNED else make_corpus(owner)
    made = grant(owner, parent, "USER", "alice@example.com", "READER", version="v1beta3")
    validate_response("v1beta3", "Permission", made)
    got = owner.get(f"/v1beta3/{made['name']}").json()
    assert got == made
    listed = owner.get(f"/v1beta3/{parent}/permissions", params={"pageSize": 10}).json()
    validate_response("v1beta3", "ListPermissionsResponse", listed)
    assert made in listed["permissions"]
    patched = owner.patch(f"/v1beta3/{made['name']}", params={"updateMask": "role"}, json={"role": "WRITER"}).json()
    assert patched == {**made, "role": "WRITER"}
    assert owner.delete(f"/v1beta3/{made['name']}").json() == {}
    assert_envelope(owner.get(f"/v1beta3/{made['name']}"), 403, "PERMISSION_DENIED")


def test_list_filters_readers_me_and_everyone(keys):
    owner, alice = keys["owner"], keys["alice"]
    for model_id in ("mine-only", "for-alice", "for-all", "alice-writes"):
        owner.post("/v1beta/tunedModels", params={"tunedModelId": model_id}, json=TUNED_BODY)
    grant(owner, "tunedModels/for-alice", "USER", "alice@example.com", "READER")
    grant(owner, "tunedModels/for-all", "EVERYONE", None, "READER")
    grant(owner, "tunedModels/alice-writes", "GROUP", "team@example.com", "WRITER")

    def names(caller, filter_text=None):
        params = {"filter": filter_text} if filter_text else {}
        return [m["name"].split("/")[1] for m in caller.get("/v1beta/tunedModels", params=params).json()["tunedModels"]]

    assert names(alice) == ["for-alice", "for-all", "alice-writes"]
    assert names(alice, "readers:me") == ["for-alice", "for-all"]
    assert names(alice, "readers:everyone") == ["for-all"]
    assert names(alice, "owner:me") == []
    assert names(owner, "owner:me") == ["mine-only", "for-alice", "for-all", "alice-writes"]
    assert names(keys["carol"]) == ["for-all"]


# -- corpora ---------------------------------------------------------------------------------------------

def test_corpus_create_get_list_delete(keys):
    owner = keys["owner"]
    made = owner.post("/v1beta/corpora", json={"displayName": "My Documents"})
    assert made.status_code == 200, made.text
    corpus = made.json()
    validate_response("v1beta", "Corpus", corpus)
    assert corpus["name"].startswith("corpora/my-documents-") and len(corpus["name"].split("-")[-1]) == 12
    assert corpus["createTime"] == corpus["updateTime"]
    assert owner.get(f"/v1beta/{corpus['name']}").json() == corpus
    listed = owner.get("/v1beta/corpora").json()
    validate_response("v1beta", "ListCorporaResponse", listed)
    assert listed == {"corpora": [corpus]}
    assert owner.delete(f"/v1beta/{corpus['name']}", params={"force": "True"}).json() == {}
    assert owner.get("/v1beta/corpora").json() == {"corpora": []}


def test_corpus_names(keys):
    owner = keys["owner"]
    assert owner.post("/v1beta/corpora", json={"name": "corpora/abc-1"}).json()["name"] == "corpora/abc-1"
    assert_envelope(owner.post("/v1beta/corpora", json={"name": "corpora/abc-1"}), 409, "ALREADY_EXISTS")
    assert_envelope(keys["alice"].post("/v1beta/corpora", json={"name": "corpora/abc-1"}), 409, "ALREADY_EXISTS")
    for bad in ("corpora/-abc", "corpora/ABC", "corpora/a_b", "corpora/" + "a" * 41):
        assert_envelope(owner.post("/v1beta/corpora", json={"name": bad}), 400, "INVALID_ARGUMENT", field="name")
    plain = owner.post("/v1beta/corpora", json={}).json()["name"]
    assert len(plain.removeprefix("corpora/")) == 12


def test_corpus_delete_force_values(keys):
    owner = keys["owner"]
    make_corpus(owner)
    assert_envelope(owner.delete(f"/v1beta/{CORPUS}", params={"force": "maybe"}), 400, "INVALID_ARGUMENT",
                    field="force")
    assert owner.delete(f"/v1beta/{CORPUS}", params={"force": "false"}).status_code == 200


def test_corpora_page(keys):
    owner = keys["owner"]
    for i in range(3):
        owner.post("/v1beta/corpora", json={"name": f"corpora/c{i}"})
    first = owner.get("/v1beta/corpora", params={"pageSize": 2}).json()
    second = owner.get("/v1beta/corpora", params={"pageSize": 2, "pageToken": first["nextPageToken"]}).json()
    assert [c["name"] for c in first["corpora"] + second["corpora"]] == ["corpora/c0", "corpora/c1", "corpora/c2"]
