"""Every curl example of the v1beta3 reference (seed 001), run with bash and curl exactly as written: only
the host (https://generativelanguage.googleapis.com) and the key placeholder ([YOUR_API_KEY]) are replaced.

The examples name resources they do not create (tunedModels/my-tuned-model, corpora/my-corpus-id,
permissions 12345 and 67890, ...); each test first makes them, through the API and, for the fixed
permission ids the API cannot choose, through the permissions backend.

The seeds are the specification: `models/gemini-1.5-flash-001` offers generateMessage, countMessageTokens
and tuning (createTunedModel) in the catalog, so those three examples succeed as written too.
`test_the_refused_examples_on_a_model_that_offers_the_method` also runs them on the legacy models.
"""
from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from gemini_mockserver.generation.tokens import count_text

from support import validate_response

HOST = "https://generativelanguage.googleapis.com"
TUNING_BASE = "models/gemini-1.5-flash-001-tuning"
TRANSLATIONS = [{"textInput": "Hello", "output": "Bonjour"}, {"textInput": "Goodbye", "output": "Au revoir"}]

# The examples, character for character as the reference prints them.
CURL = {
    'generate_message': r'''curl -X POST \
-H "Content-Type: application/json" \
-d '{
"prompt": {
"messages": [
{
"author": "user",
"content": "Explain the importance of bees to the ecosystem."
}
]
},
"temperature": 0.7,
"candidateCount": 1
}' \
"https://generativelanguage.googleapis.com/v1beta3/models/gemini-1.5-flash-001:generateMessage?key=[YOUR_API_KEY]"''',
    'count_message_tokens': r'''curl -X POST \
-H "Content-Type: application/json" \
-d '{
"prompt": {
"messages": [
{
"author": "user",
"content": "How many tokens are in this sentence?"
}
]
}
}' \
"https://generativelanguage.googleapis.com/v1beta3/models/gemini-1.5-flash-001:countMessageTokens?key=[YOUR_API_KEY]"''',
    'get_model': r'''curl "https://generativelanguage.googleapis.com/v1beta3/models/gemini-1.5-flash-001?key=[YOUR_API_KEY]"''',
    'list_models': r'''curl "https://generativelanguage.googleapis.com/v1beta3/models?pageSize=10&key=[YOUR_API_KEY]"''',
    'generate_text': r'''curl -X POST \
-H "Content-Type: application/json" \
-d '{
"prompt": {
"text": "Write a tagline for a coffee shop."
},
"temperature": 0.8,
"candidateCount": 3
}' \
"https://generativelanguage.googleapis.com/v1beta3/models/text-bison-001:generateText?key=[YOUR_API_KEY]"''',
    'embed_text': r'''curl -X POST \
-H "Content-Type: application/json" \
-d '{
"text": "This is the text to be embedded."
}' \
"https://generativelanguage.googleapis.com/v1beta3/models/embedding-gecko-001:embedText?key=[YOUR_API_KEY]"''',
    'batch_embed_text': r'''curl -X POST \
-H "Content-Type: application/json" \
-d '{
"texts": [
"This is the first text.",
"This is the second text."
]
}' \
"https://generativelanguage.googleapis.com/v1beta3/models/embedding-gecko-001:batchEmbedText?key=[YOUR_API_KEY]"''',
    'count_text_tokens': r'''curl -X POST \
-H "Content-Type: application/json" \
-d '{
"prompt": {
"text": "Count the tokens in this sentence."
}
}' \
"https://generativelanguage.googleapis.com/v1beta3/models/text-bison-001:countTextTokens?key=[YOUR_API_KEY]"''',
    'get_tuned_model': r'''curl "https://generativelanguage.googleapis.com/v1beta3/tunedModels/my-tuned-model-id?key=[YOUR_API_KEY]"''',
    'list_tuned_models': r'''curl "https://generativelanguage.googleapis.com/v1beta3/tunedModels?pageSize=10&filter=owner:me&key=[YOUR_API_KEY]"''',
    'create_tuned_model': r'''curl -X POST \
-H "Content-Type: application/json" \
-d '{
"displayName": "My Custom Translator",
"description": "A model fine-tuned for English to French translation.",
"baseModel": "models/gemini-1.5-flash-001",
"tuningTask": {
"trainingData": {
"examples": {
"examples": [
{ "textInput": "Hello", "output": "Bonjour" },
{ "textInput": "Goodbye", "output": "Au revoir" }
]
}
},
"hyperparameters": {
"epochCount": 5
}
}
}' \
"https://generativelanguage.googleapis.com/v1beta3/tunedModels?key=[YOUR_API_KEY]"''',
    'patch_tuned_model': r'''curl -X PATCH \
-H "Content-Type: application/json" \
-d '{
"description": "An updated description for my custom translator."
}' \
"https://generativelanguage.googleapis.com/v1beta3/tunedModels/sentence-translator-u3b7m?updateMask=description&key=[YOUR_API_KEY]"''',
    'delete_tuned_model': r'''curl -X DELETE "https://generativelanguage.googleapis.com/v1beta3/tunedModels/my-model-to-delete?key=[YOUR_API_KEY]"''',
    'transfer_ownership': r'''curl -X POST \
-H "Content-Type: application/json" \
-d '{
"emailAddress": "[email protected]"
}' \
"https://generativelanguage.googleapis.com/v1beta3/tunedModels/my-tuned-model:transferOwnership?key=[YOUR_API_KEY]"''',
    'tuned_generate_text': r'''curl -X POST \
-H "Content-Type: application/json" \
-d '{
"prompt": {
"text": "Hello"
},
"temperature": 0.2,
"candidateCount": 1
}' \
"https://generativelanguage.googleapis.com/v1beta3/tunedModels/my-custom-translator:generateText?key=[YOUR_API_KEY]"''',
    'tuned_create_permission': r'''curl -X POST \
-H "Content-Type: application/json" \
-d '{
"granteeType": "USER",
"emailAddress": "[email protected]",
"role": "READER"
}' \
"https://generativelanguage.googleapis.com/v1beta3/tunedModels/my-tuned-model/permissions?key=[YOUR_API_KEY]"''',
    'tuned_get_permission': r'''curl "https://generativelanguage.googleapis.com/v1beta3/tunedModels/my-tuned-model/permissions/12345?key=[YOUR_API_KEY]"''',
    'tuned_list_permissions': r'''curl "https://generativelanguage.googleapis.com/v1beta3/tunedModels/my-tuned-model/permissions?pageSize=10&key=[YOUR_API_KEY]"''',
    'tuned_patch_permission': r'''curl -X PATCH \
-H "Content-Type: application/json" \
-d '{
"role": "WRITER"
}' \
"https://generativelanguage.googleapis.com/v1beta3/tunedModels/my-tuned-model/permissions/12345?updateMask=role&key=[YOUR_API_KEY]"''',
    'tuned_delete_permission': r'''curl -X DELETE "https://generativelanguage.googleapis.com/v1beta3/tunedModels/my-tuned-model/permissions/12345?key=[YOUR_API_KEY]"''',
    'corpus_create_permission': r'''curl -X POST \
-H "Content-Type: application/json" \
-d '{
"granteeType": "USER",
"emailAddress": "[email protected]",
"role": "READER"
}' \
"https://generativelanguage.googleapis.com/v1beta3/corpora/my-corpus-id/permissions?key=[YOUR_API_KEY]"''',
    'corpus_get_permission': r'''curl "https://generativelanguage.googleapis.com/v1beta3/corpora/my-corpus-id/permissions/67890?key=[YOUR_API_KEY]"''',
    'corpus_list_permissions': r'''curl "https://generativelanguage.googleapis.com/v1beta3/corpora/my-corpus-id/permissions?pageSize=5&key=[YOUR_API_KEY]"''',
    'corpus_patch_permission': r'''curl -X PATCH \
-H "Content-Type: application/json" \
-d '{
"role": "WRITER"
}' \
"https://generativelanguage.googleapis.com/v1beta3/corpora/my-corpus-id/permissions/67890?updateMask=role&key=[YOUR_API_KEY]"''',
    'corpus_delete_permission': r'''curl -X DELETE "https://generativelanguage.googleapis.com/v1beta3/corpora/my-corpus-id/permissions/67890?key=[YOUR_API_KEY]"''',
}

MISSING = [tool for tool in ("bash", "curl") if shutil.which(tool) is None]
pytestmark = pytest.mark.skipif(bool(MISSING), reason=f"the reference's examples need {', '.join(MISSING)} "
                                                      f"(apt-get install -y {' '.join(MISSING)})")


def run(gemini_mock, tmp_path, command: str) -> tuple[int, dict]:
    """Run one example; its HTTP status (from the emulator's journal) and its JSON body (curl's stdout)."""
    script = command.replace(HOST, gemini_mock.base_url).replace("[YOUR_API_KEY]", gemini_mock.api_key)
    done = subprocess.run(["bash", "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=60,
                          env={"PATH": "/usr/bin:/bin:/usr/local/bin"})
    assert done.returncode == 0, done.stderr
    status = gemini_mock.requests[-1]["status"]
    return status, json.loads(done.stdout)


# -- set-up: the resources the examples name -------------------------------------------------------------

def tuned_model(http, gemini_mock, model_id: str) -> dict:
    body = {"displayName": model_id, "baseModel": TUNING_BASE,
            "tuningTask": {"trainingData": {"examples": {"examples": TRANSLATIONS}}}}
    response = http.post("/v1beta/tunedModels", params={"tunedModelId": model_id}, json=body)
    assert response.status_code == 200, response.text
    gemini_mock.advance(gemini_mock.store.config["tunedModel"]["trainingSeconds"])
    return response.json()


def with_permission(gemini_mock, parent: str, permission_id: str) -> None:
    store = gemini_mock.store
    backend = store.tuned_models if parent.startswith("tunedModels/") else store.corpora
    store.permissions.grant(backend.lookup(parent), "USER", "reader@example.com", "READER",
                            permission_id=permission_id)


def corpus(http, gemini_mock) -> None:
    response = http.post("/v1beta/corpora", json={"name": "corpora/my-corpus-id", "displayName": "Mine"})
    assert response.status_code == 200, response.text
    with_permission(gemini_mock, "corpora/my-corpus-id", "67890")


def error_of(status: int, body: dict, code: int, state: str) -> str:
    assert status == code, body
    assert body["error"]["code"] == code and body["error"]["status"] == state, body
    return body["error"]["message"]


# -- models ----------------------------------------------------------------------------------------------

def test_generate_message(gemini_mock, tmp_path):
    status, body = run(gemini_mock, tmp_path, CURL["generate_message"])
    assert status == 200, body
    validate_response("v1beta3", "GenerateMessageResponse", body)
    assert len(body["candidates"]) == 1 and body["candidates"][0]["content"]


def test_count_message_tokens(gemini_mock, tmp_path):
    status, body = run(gemini_mock, tmp_path, CURL["count_message_tokens"])
    assert status == 200, body
    assert body == {"tokenCount": count_text("How many tokens are in this sentence?")}


def test_get_model(gemini_mock, tmp_path):
    status, body = run(gemini_mock, tmp_path, CURL["get_model"])
    assert status == 200, body
    assert body["name"] == "models/gemini-1.5-flash-001"
    assert {"version", "displayName", "inputTokenLimit", "outputTokenLimit", "supportedGenerationMethods"} <= set(body)


def test_list_models(gemini_mock, tmp_path):
    status, body = run(gemini_mock, tmp_path, CURL["list_models"])
    assert status == 200, body
    validate_response("v1beta3", "ListModelsResponse", body)
    assert {"models/text-bison-001", "models/chat-bison-001", "models/embedding-gecko-001"} <= \
        {m["name"] for m in body["models"]}
    assert len(body["models"]) <= 10


def test_generate_text(gemini_mock, tmp_path):
    status, body = run(gemini_mock, tmp_path, CURL["generate_text"])
    assert status == 200, body
    validate_response("v1beta3", "GenerateTextResponse", body)
    assert len(body["candidates"]) == 3 and all(c["output"] for c in body["candidates"])


def test_embed_text(gemini_mock, tmp_path):
    status, body = run(gemini_mock, tmp_path, CURL["embed_text"])
    assert status == 200, body
    validate_response("v1beta3", "EmbedTextResponse", body)
    assert len(body["embedding"]["value"]) == 768


def test_batch_embed_text(gemini_mock, tmp_path):
    status, body = run(gemini_mock, tmp_path, CURL["batch_embed_text"])
    assert status == 200, body
    validate_response("v1beta3", "BatchEmbedTextResponse", body)
    assert len(body["embeddings"]) == 2 and body["embeddings"][0] != body["embeddings"][1]


def test_count_text_tokens(gemini_mock, tmp_path):
    status, body = run(gemini_mock, tmp_path, CURL["count_text_tokens"])
    assert status == 200, body
    validate_response("v1beta3", "CountTextTokensResponse", body)
    assert body == {"tokenCount": count_text("Count the tokens in this sentence.")}


# -- tunedModels -----------------------------------------------------------------------------------------

def test_get_tuned_model(gemini_mock, tmp_path, http):
    tuned_model(http, gemini_mock, "my-tuned-model-id")
    status, body = run(gemini_mock, tmp_path, CURL["get_tuned_model"])
    assert status == 200, body
    validate_response("v1beta3", "TunedModel", body)
    assert body["name"] == "tunedModels/my-tuned-model-id" and body["state"] == "ACTIVE"


def test_list_tuned_models(gemini_mock, tmp_path, http):
    tuned_model(http, gemini_mock, "mine")
    status, body = run(gemini_mock, tmp_path, CURL["list_tuned_models"])
    assert status == 200, body
    validate_response("v1beta3", "ListTunedModelsResponse", body)
    assert [m["name"] for m in body["tunedModels"]] == ["tunedModels/mine"]


def test_create_tuned_model(gemini_mock, tmp_path):
    status, body = run(gemini_mock, tmp_path, CURL["create_tuned_model"])
    assert status == 200, body
    validate_response("v1beta3", "Operation", body)
    assert body["metadata"]["tunedModel"].startswith("tunedModels/my-custom-translator-")


def test_patch_tuned_model(gemini_mock, tmp_path, http):
    tuned_model(http, gemini_mock, "sentence-translator-u3b7m")
    status, body = run(gemini_mock, tmp_path, CURL["patch_tuned_model"])
    assert status == 200, body
    validate_response("v1beta3", "TunedModel", body)
    assert body["description"] == "An updated description for my custom translator."


def test_delete_tuned_model(gemini_mock, tmp_path, http):
    tuned_model(http, gemini_mock, "my-model-to-delete")
    status, body = run(gemini_mock, tmp_path, CURL["delete_tuned_model"])
    assert (status, body) == (200, {})
    assert http.get("/v1beta3/tunedModels/my-model-to-delete").status_code == 403


def test_transfer_ownership(gemini_mock, tmp_path, http):
    tuned_model(http, gemini_mock, "my-tuned-model")
    status, body = run(gemini_mock, tmp_path, CURL["transfer_ownership"])
    assert status == 200, body
    validate_response("v1beta3", "TransferOwnershipResponse", body)
    roles = {p["emailAddress"]: p["role"]
             for p in http.get("/v1beta3/tunedModels/my-tuned-model/permissions").json()["permissions"]}
    assert roles == {"[email protected]": "OWNER", gemini_mock.identity.email: "WRITER"}


def test_tuned_generate_text(gemini_mock, tmp_path, http):
    tuned_model(http, gemini_mock, "my-custom-translator")
    status, body = run(gemini_mock, tmp_path, CURL["tuned_generate_text"])
    assert status == 200, body
    validate_response("v1beta3", "GenerateTextResponse", body)
    assert [c["output"] for c in body["candidates"]] == ["Bonjour"]


# -- tunedModels.permissions and corpora.permissions -----------------------------------------------------

@pytest.fixture(params=["tuned", "corpus"])
def parent(request, http, gemini_mock):
    """The example's parent, made, with the permission its get / patch / delete examples name."""
    if request.param == "tuned":
        tuned_model(http, gemini_mock, "my-tuned-model")
        with_permission(gemini_mock, "tunedModels/my-tuned-model", "12345")
        return "tuned", "tunedModels/my-tuned-model/permissions/12345"
    corpus(http, gemini_mock)
    return "corpus", "corpora/my-corpus-id/permissions/67890"


def test_create_permission(gemini_mock, tmp_path, parent):
    prefix, _ = parent
    status, body = run(gemini_mock, tmp_path, CURL[f"{prefix}_create_permission"])
    assert status == 200, body
    validate_response("v1beta3", "Permission", body)
    assert (body["granteeType"], body["emailAddress"], body["role"]) == ("USER", "[email protected]", "READER")


def test_get_permission(gemini_mock, tmp_path, parent):
    prefix, name = parent
    status, body = run(gemini_mock, tmp_path, CURL[f"{prefix}_get_permission"])
    assert status == 200, body
    validate_response("v1beta3", "Permission", body)
    assert body == {"name": name, "granteeType": "USER", "emailAddress": "reader@example.com", "role": "READER"}


def test_list_permissions(gemini_mock, tmp_path, parent):
    prefix, name = parent
    status, body = run(gemini_mock, tmp_path, CURL[f"{prefix}_list_permissions"])
    assert status == 200, body
    validate_response("v1beta3", "ListPermissionsResponse", body)
    roles = {p["name"]: p["role"] for p in body["permissions"]}
    assert roles[name] == "READER" and sorted(roles.values()) == ["OWNER", "READER"]


def test_patch_permission(gemini_mock, tmp_path, parent, http):
    prefix, name = parent
    status, body = run(gemini_mock, tmp_path, CURL[f"{prefix}_patch_permission"])
    assert status == 200, body
    validate_response("v1beta3", "Permission", body)
    assert body["name"] == name and body["role"] == "WRITER"
    assert http.get(f"/v1beta3/{name}").json()["role"] == "WRITER"


def test_delete_permission(gemini_mock, tmp_path, parent, http):
    prefix, name = parent
    status, body = run(gemini_mock, tmp_path, CURL[f"{prefix}_delete_permission"])
    assert (status, body) == (200, {})
    assert http.get(f"/v1beta3/{name}").status_code == 403   # the one answer of every missing resource


# -- the refused examples, with a model that offers the method -------------------------------------------

def test_the_refused_examples_on_a_model_that_offers_the_method(gemini_mock, tmp_path):
    command = CURL["generate_message"].replace("models/gemini-1.5-flash-001:", "models/chat-bison-001:")
    status, body = run(gemini_mock, tmp_path, command)
    assert status == 200, body
    validate_response("v1beta3", "GenerateMessageResponse", body)
    assert len(body["candidates"]) == 1 and body["candidates"][0]["content"]
    assert body["messages"] == [{"author": "user", "content": "Explain the importance of bees to the ecosystem."}]

    command = CURL["count_message_tokens"].replace("models/gemini-1.5-flash-001:", "models/chat-bison-001:")
    status, body = run(gemini_mock, tmp_path, command)
    assert status == 200, body
    validate_response("v1beta3", "CountMessageTokensResponse", body)
    assert body == {"tokenCount": count_text("How many tokens are in this sentence?")}

    command = CURL["create_tuned_model"].replace('"models/gemini-1.5-flash-001"', f'"{TUNING_BASE}"')
    status, body = run(gemini_mock, tmp_path, command)
    assert status == 200, body
    validate_response("v1beta3", "Operation", body)
    assert body["name"].startswith("tunedModels/my-custom-translator-")
    assert body["metadata"]["@type"] == \
        "type.googleapis.com/google.ai.generativelanguage.v1beta3.CreateTunedModelMetadata"
    gemini_mock.advance(gemini_mock.store.config["tunedModel"]["trainingSeconds"])
    model = body["metadata"]["tunedModel"]
    answer = subprocess.run(
        ["curl", "-s", "-X", "POST", "-H", "Content-Type: application/json", "-d", '{"prompt": {"text": "Goodbye"}}',
         f"{gemini_mock.base_url}/v1beta3/{model}:generateText?key={gemini_mock.api_key}"],
        capture_output=True, text=True, timeout=60)
    assert [c["output"] for c in json.loads(answer.stdout)["candidates"]] == ["Au revoir"]
