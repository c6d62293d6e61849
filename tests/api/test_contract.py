"""Contract tests: every route of the route table, under every API version it is served at, driven
through HTTP, each answer validated against the recorded schema of the message it must be; every
JSON-body route refuses what its recorded request schema does not know; and /openapi.json describes
the same routes as a valid OpenAPI 3.1 document.

`CASES` must name every route of mockserver/app.py (a test checks), so a new route needs a case here
and an entry in mockserver/openapi.py's OPERATIONS.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Callable

import httpx
import pytest

from gemini_mockserver import app as app_module
from gemini_mockserver import openapi
from gemini_mockserver.schema import validate_response
from gemini_mockserver.pytest_plugin import contract

from support import assert_envelope

MODEL = "gemini-2.5-flash"
EMBED = "gemini-embedding-001"
TEXT_MODEL = "text-bison-001"
CHAT_MODEL = "chat-bison-001"
GECKO = "embedding-gecko-001"
PROMPT = {"contents": [{"role": "user", "parts": [{"text": "Explain how AI works in a few words"}]}]}
LONG = " ".join(f"Sentence {i} of a document long enough to be cached." for i in range(600))
TUNING = {"displayName": "contract", "baseModel": "models/text-bison-001",
          "tuningTask": {"trainingData": {"examples": {"examples": [{"textInput": "Hello", "output": "Bonjour"}]}}}}
GEMINI_TUNING = {**TUNING, "baseModel": "models/gemini-1.5-flash-001-tuning"}


class World:
    """Resources a case needs, made on first use (through v1beta or the backends)."""

    def __init__(self, mock, http: httpx.Client, version: str = "v1beta") -> None:
        self.mock, self.http, self.version = mock, http, version
        self._made: dict[str, str] = {}

    def _once(self, key: str, make: Callable[[], str]) -> str:
        if key not in self._made:
            self._made[key] = make()
        return self._made[key]

    def _post(self, path: str, body: dict, **params) -> dict:
        answer = self.http.post(f"/v1beta/{path}", json=body, params=params)
        assert answer.status_code == 200, answer.text
        return answer.json()

    @property
    def file(self) -> str:
        return self._once("file", lambda: self.mock.upload_file(b"hello", "text/plain")["name"])

    @property
    def generated(self) -> str:
        return self._once("generated", lambda: self.mock.files.create_generated(
            self.mock.identity, "results", "application/jsonl", data=b'{"key": "a"}\n')["name"])

    @property
    def cache(self) -> str:
        return self._once("cache", lambda: self._post("cachedContents", {
            "model": f"models/{MODEL}", "ttl": "3600s",
            "contents": [{"role": "user", "parts": [{"text": LONG}]}]})["name"])

    @property
    def batch(self) -> str:
        return self._once("batch", lambda: self._post(f"models/{MODEL}:batchGenerateContent", {
            "batch": {"displayName": "b", "inputConfig": {"requests": {"requests": [{"request": PROMPT}]}}}})["name"])

    @property
    def embed_batch(self) -> str:
        return self._once("embed_batch", lambda: self._post(f"models/{EMBED}:asyncBatchEmbedContent", {
            "batch": {"displayName": "e", "inputConfig": {"requests": {"requests": [
                {"request": {"content": {"parts": [{"text": "a"}]}}}]}}}})["name"])

    def _tuned(self, body: dict) -> str:
        name = self._post("tunedModels", body)["metadata"]["tunedModel"]
        self.mock.advance(3600)   # trained: ACTIVE
        return name

    @property
    def tuned(self) -> str:
        """A tuned text-bison (generateText)."""
        return self._once("tuned", lambda: self._tuned(TUNING))

    @property
    def gemini_tuned(self) -> str:
        """A tuned Gemini model (generateContent, batches)."""
        return self._once("gemini_tuned", lambda: self._tuned(GEMINI_TUNING))

    @property
    def operation(self) -> str:
        return self._once("operation", lambda: self.http.get(f"/v1beta/{self.tuned}/operations")
                          .json()["operations"][0]["name"])

    @property
    def environment(self) -> str:
        return self._once("environment", lambda: self._post("environments", {
            "sources": [{"type": "inline", "content": "x", "target": "a.txt"}]})["id"])

    @property
    def corpus(self) -> str:
        return self._once("corpus", lambda: self._post("corpora", {"displayName": "c"})["name"])

    @property
    def file_search_store(self) -> str:
        return self._once("file_search_store", lambda: self._post("fileSearchStores", {"displayName": "s"})["name"])

    @property
    def upload_operation(self) -> str:
        def make():
            answer = self.http.post(f"/upload/v1beta/{self.file_search_store}:uploadToFileSearchStore",
                                    content=b"hello world", headers={"Content-Type": "text/plain"})
            assert answer.status_code == 200, answer.text
            return answer.json()["name"]
        return self._once("upload_operation", make)

    @property
    def document(self) -> str:
        return self._once("document", lambda: self.http.get(f"/v1beta/{self.upload_operation}")
                          .json()["response"]["documentName"])

    @property
    def import_operation(self) -> str:
        return self._once("import_operation", lambda: self._post(f"{self.file_search_store}:importFile",
                                                                 {"fileName": self.file})["name"])

    def permission(self, parent: str) -> str:
        return self._once(f"permission:{parent}", lambda: self._post(f"{parent}/permissions", {
            "granteeType": "USER", "emailAddress": "friend@example.com", "role": "READER"})["name"])

    @property
    def tuned_permission(self) -> str:
        return self.permission(self.tuned)

    @property
    def corpus_permission(self) -> str:
        return self.permission(self.corpus)

    @property
    def openai_file(self) -> str:
        def make():
            answer = self.http.post("/v1beta/openai/files", data={"purpose": "batch"},
                                    files={"file": ("in.jsonl", b'{"custom_id": "a", "method": "POST", '
                                                    b'"url": "/v1/chat/completions", "body": {"model": '
                                                    b'"gemini-2.5-flash", "messages": [{"role": "user", '
                                                    b'"content": "hi"}]}}\n', "application/jsonl")})
            assert answer.status_code == 200, answer.text
            return answer.json()["id"]
        return self._once("openai_file", make)

    @property
    def openai_batch(self) -> str:
        def make():
            answer = self.http.post("/v1beta/openai/batches", json={
                "input_file_id": self.openai_file, "endpoint": "/v1/chat/completions", "completion_window": "24h"})
            assert answer.status_code == 200, answer.text
            return answer.json()["id"]
        return self._once("openai_batch", make)


@dataclass
class Case:
    """One route: how to call it, and what it must answer."""
    method: str
    template: str
    media: str | None = None
    path: Callable[[World], str] | str | None = None     # the path after the version (default: template)
    body: Callable[[World], Any] | Any = None             # JSON body
    params: dict = field(default_factory=dict)
    headers: dict = field(default_factory=dict)
    content: bytes | None = None                          # raw body instead of JSON
    response: str | None = None                           # the message the answer must be
    kind: str = "json"                                    # json | stream | bytes | upload-start | openai
    versions: tuple[str, ...] | None = None               # default: every version of the route

    @property
    def key(self) -> tuple[str, str, str | None]:
        return (self.method, self.template, self.media)


def having(*resources: str, path: str | None = None) -> Callable[[World], str]:
    """A path that needs some resources to exist first (the last argument is the path)."""
    *needed, path = (*resources, path) if path else resources
    return lambda world: ([getattr(world, name) for name in needed], path)[1]


def gen(path_model: str, body: dict, response: str, template: str, **kw) -> Case:
    return Case("POST", template, path=path_model, body=body, response=response, **kw)


CASES: list[Case] = [
    # models
    Case("GET", "models", response="ListModelsResponse", params={"pageSize": 3}),
    Case("GET", "models/{model}", path=lambda w: f"models/{TEXT_MODEL if w.version == 'v1beta3' else MODEL}",
         response="Model"),
    gen(f"models/{MODEL}:generateContent", PROMPT, "GenerateContentResponse", "models/{model}:generateContent"),
    gen(f"models/{MODEL}:streamGenerateContent", PROMPT, "GenerateContentResponse",
        "models/{model}:streamGenerateContent", params={"alt": "sse"}, kind="stream"),
    gen(f"models/{MODEL}:countTokens", PROMPT, "CountTokensResponse", "models/{model}:countTokens"),
    gen(f"models/{EMBED}:embedContent", {"content": {"parts": [{"text": "hello"}]}}, "EmbedContentResponse",
        "models/{model}:embedContent"),
    gen(f"models/{EMBED}:batchEmbedContents",
        {"requests": [{"model": f"models/{EMBED}", "content": {"parts": [{"text": "a"}]}}]},
        "BatchEmbedContentsResponse", "models/{model}:batchEmbedContents"),
    # legacy
    gen(f"models/{TEXT_MODEL}:generateText", {"prompt": {"text": "Describe the sea"}}, "GenerateTextResponse",
        "models/{model}:generateText"),
    gen(f"models/{CHAT_MODEL}:generateMessage", {"prompt": {"messages": [{"author": "user", "content": "Hi"}]}},
        "GenerateMessageResponse", "models/{model}:generateMessage"),
    gen(f"models/{TEXT_MODEL}:countTextTokens", {"prompt": {"text": "Describe the sea"}}, "CountTextTokensResponse",
        "models/{model}:countTextTokens"),
    gen(f"models/{CHAT_MODEL}:countMessageTokens", {"prompt": {"messages": [{"content": "Hi"}]}},
        "CountMessageTokensResponse", "models/{model}:countMessageTokens"),
    gen(f"models/{GECKO}:embedText", {"text": "hello"}, "EmbedTextResponse", "models/{model}:embedText"),
    gen(f"models/{GECKO}:batchEmbedText", {"texts": ["a", "b"]}, "BatchEmbedTextResponse",
        "models/{model}:batchEmbedText"),
    # files
    Case("POST", "files", media="upload", path="files", body={"file": {"displayName": "f", "mimeType": "text/plain"}},
         headers={"X-Goog-Upload-Protocol": "resumable", "X-Goog-Upload-Command": "start",
                  "X-Goog-Upload-Header-Content-Length": "5", "X-Goog-Upload-Header-Content-Type": "text/plain"},
         kind="upload-start"),
    Case("PUT", "files", media="upload", path="files", content=b"hello", params={"uploadType": "media"},
         headers={"Content-Type": "text/plain"}, response="CreateFileResponse"),
    Case("POST", "files", body={"file": {"displayName": "empty"}}, response="CreateFileResponse"),
    Case("GET", "files", path=having("file", "files"), response="ListFilesResponse"),
    Case("GET", "files/{file}", path=lambda w: w.file, response="File"),
    Case("DELETE", "files/{file}", path=lambda w: w.file, response="Empty"),
    Case("GET", "files/{file}:download", path=lambda w: f"{w.generated}:download", response="DownloadFileResponse"),
    Case("GET", "files/{file}:download", media="download", path=lambda w: f"{w.generated}:download",
         params={"alt": "media"}, kind="bytes"),
    # Imagen and Veo
    Case("POST", "models/{model}:predict", path="models/imagen-4.0-generate-001:predict",
         body={"instances": [{"prompt": "a tree"}], "parameters": {"sampleCount": 1}}, response="PredictResponse"),
    Case("POST", "models/{model}:predictLongRunning", path="models/veo-3.1-generate-preview:predictLongRunning",
         body={"instances": [{"prompt": "waves"}]}, response="Operation"),
    Case("GET", "models/{model}/operations", path="models/veo-3.1-generate-preview/operations",
         response="ListOperationsResponse"),
    Case("GET", "models/{model}/operations/{operation}", response="Operation",
         path=lambda w: w.http.post("/v1beta/models/veo-3.1-generate-preview:predictLongRunning",
                                    json={"instances": [{"prompt": "waves"}]}).json()["name"]),
    Case("GET", "files/{uri:path}:download", response="DownloadFileResponse",
         path=lambda w: f"files/https:/generativelanguage.googleapis.com/v1beta/{w.generated}:download"),
    # cached contents
    Case("POST", "cachedContents", body={"model": f"models/{MODEL}", "ttl": "60s",
                                         "contents": [{"role": "user", "parts": [{"text": LONG}]}]},
         response="CachedContent"),
    Case("GET", "cachedContents", path=having("cache", "cachedContents"), response="ListCachedContentsResponse"),
    Case("GET", "cachedContents/{id}", path=lambda w: w.cache, response="CachedContent"),
    Case("PATCH", "cachedContents/{id}", path=lambda w: w.cache, body={"ttl": "600s"}, response="CachedContent"),
    Case("DELETE", "cachedContents/{id}", path=lambda w: w.cache, response="Empty"),
    # batches
    gen(f"models/{MODEL}:batchGenerateContent",
        {"batch": {"displayName": "b", "inputConfig": {"requests": {"requests": [{"request": PROMPT}]}}}},
        "GenerateContentBatchOperation", "models/{model}:batchGenerateContent"),
    gen(f"models/{EMBED}:asyncBatchEmbedContent",
        {"batch": {"inputConfig": {"requests": {"requests": [{"request": {"content": {"parts": [{"text": "a"}]}}}]}}}},
        "EmbedContentBatchOperation", "models/{model}:asyncBatchEmbedContent"),
    Case("POST", "tunedModels/{model}:batchGenerateContent", path=lambda w: f"{w.gemini_tuned}:batchGenerateContent",
         body={"batch": {"inputConfig": {"requests": {"requests": [{"request": PROMPT}]}}}},
         response="GenerateContentBatchOperation"),
    Case("POST", "tunedModels/{model}:asyncBatchEmbedContent",
         path=lambda w: f"{w.gemini_tuned}:asyncBatchEmbedContent",
         body={"batch": {"inputConfig": {"requests": {"requests": [{"request": {"content": {"parts": [{"text": "a"}]}}}]}}}},
         response=None, kind="any"),   # a tuned generation model cannot embed: the 4xx envelope is the contract
    Case("GET", "batches", path=having("batch", "embed_batch", "batches"), response="ListOperationsResponse"),
    Case("GET", "batches/{batch}", path=lambda w: w.batch, response="GenerateContentBatchOperation"),
    Case("DELETE", "batches/{batch}", path=lambda w: w.batch, response="Empty"),
    Case("POST", "batches/{batch}:cancel", path=lambda w: f"{w.batch}:cancel", response="Empty"),
    Case("GET", "batches/{batch}:cancel", path=lambda w: f"{w.batch}:cancel", response="Empty"),
    Case("GET", "batches/{batch}:delete", path=lambda w: f"{w.batch}:delete", response="Empty"),
    Case("POST", "batches/{batch}:delete", path=lambda w: f"{w.batch}:delete", response="Empty"),
    Case("PATCH", "batches/{batch}:updateGenerateContentBatch", path=lambda w: f"{w.batch}:updateGenerateContentBatch",
         body={"displayName": "renamed"}, response="GenerateContentBatch"),
    Case("PATCH", "batches/{batch}:updateEmbedContentBatch", path=lambda w: f"{w.embed_batch}:updateEmbedContentBatch",
         body={"displayName": "renamed"}, response="EmbedContentBatch"),
    # tuned models
    Case("POST", "tunedModels", body=TUNING, response="Operation"),
    Case("GET", "tunedModels", path=having("tuned", "tunedModels"), response="ListTunedModelsResponse"),
    Case("GET", "tunedModels/{tuned}", path=lambda w: w.tuned, response="TunedModel"),
    Case("PATCH", "tunedModels/{tuned}", path=lambda w: w.tuned, body={"description": "changed"}, response="TunedModel"),
    Case("DELETE", "tunedModels/{tuned}", path=lambda w: w.tuned, response="Empty"),
    Case("POST", "tunedModels/{tuned}:transferOwnership", path=lambda w: f"{w.tuned}:transferOwnership",
         body=lambda w: {"emailAddress": w.mock.store.keys.identify(w.mock.other_key("heir")).email},
         response="TransferOwnershipResponse"),
    Case("POST", "tunedModels/{tuned}:generateText", path=lambda w: f"{w.tuned}:generateText",
         body={"prompt": {"text": "Hello"}}, response="GenerateTextResponse"),
    Case("POST", "tunedModels/{tuned}:generateContent", path=lambda w: f"{w.gemini_tuned}:generateContent",
         body=PROMPT, response="GenerateContentResponse"),
    Case("POST", "tunedModels/{tuned}:streamGenerateContent", path=lambda w: f"{w.gemini_tuned}:streamGenerateContent",
         body=PROMPT, params={"alt": "sse"}, response="GenerateContentResponse", kind="stream"),
    Case("GET", "tunedModels/{tuned}/operations", path=lambda w: f"{w.tuned}/operations",
         response="ListOperationsResponse"),
    Case("GET", "tunedModels/{tuned}/operations/{operation}", path=lambda w: w.operation, response="Operation"),
    # corpora
    Case("POST", "corpora", body={"displayName": "c"}, response="Corpus"),
    Case("GET", "corpora", path=having("corpus", "corpora"), response="ListCorporaResponse"),
    Case("GET", "corpora/{corpus}", path=lambda w: w.corpus, response="Corpus"),
    Case("DELETE", "corpora/{corpus}", path=lambda w: w.corpus, response="Empty"),
    Case("GET", "corpora/{corpus}/operations/{operation}", path=lambda w: f"{w.corpus}/operations/none",
         kind="any"),   # the emulator's corpora start no operations: a 404 envelope
    # generatedFiles, files:register, dynamic models, attributed answers
    Case("GET", "generatedFiles", path=having("generated", "generatedFiles")),
    Case("GET", "generatedFiles/{file}/operations/{operation}", kind="any",
         path=lambda w: f"generatedFiles/{w.generated.split('/')[1]}/operations/none"),
    Case("POST", "files:register", body={"uris": ["gs://bucket/object"]}, kind="any"),
    Case("POST", "dynamic/{model}:generateContent", path=f"dynamic/{MODEL}:generateContent", body=PROMPT,
         response="GenerateContentResponse"),
    Case("POST", "dynamic/{model}:streamGenerateContent", path=f"dynamic/{MODEL}:streamGenerateContent",
         body=PROMPT, params={"alt": "sse"}, response="GenerateContentResponse", kind="stream"),
    Case("POST", "environments", body={"sources": [{"type": "inline", "content": "x", "target": "a.txt"}]}),
    Case("GET", "environments"),
    Case("GET", "environments/{environment}", path=lambda w: f"environments/{w.environment}"),
    Case("DELETE", "environments/{environment}", path=lambda w: f"environments/{w.environment}"),
    Case("GET", "environments/{environment}/files/{path:path}", path=lambda w: f"environments/{w.environment}/files/a.txt"),
    Case("POST", "environments:create", body={}),
    Case("GET", "environments:list"),
    Case("GET", "environments/{environment}:get", path=lambda w: f"environments/{w.environment}:get"),
    Case("DELETE", "environments/{environment}:delete", path=lambda w: f"environments/{w.environment}:delete"),
    Case("POST", "models/{model}:generateAnswer", path="models/aqa:generateAnswer", response="GenerateAnswerResponse",
         body={"contents": [{"parts": [{"text": "What colour is the sky?"}]}], "answerStyle": "ABSTRACTIVE",
               "inlinePassages": {"passages": [{"id": "p1", "content": {"parts": [{"text": "The sky is blue."}]}}]}}),
    # File Search stores
    Case("POST", "fileSearchStores", body={"displayName": "s"}, response="FileSearchStore"),
    Case("GET", "fileSearchStores", path=having("file_search_store", "fileSearchStores"),
         response="ListFileSearchStoresResponse"),
    Case("GET", "fileSearchStores/{store}", path=lambda w: w.file_search_store, response="FileSearchStore"),
    Case("DELETE", "fileSearchStores/{store}", path=lambda w: w.file_search_store, response="Empty"),
    Case("POST", "fileSearchStores/{store}:importFile", path=lambda w: f"{w.file_search_store}:importFile",
         body=lambda w: {"fileName": w.file}, response="Operation"),
    Case("POST", "fileSearchStores/{store}:uploadToFileSearchStore", media="upload",
         path=lambda w: f"{w.file_search_store}:uploadToFileSearchStore", content=b"hello",
         headers={"Content-Type": "text/plain"}, response="Operation"),
    Case("POST", "fileSearchStores/{store}:uploadToFileSearchStore",
         path=lambda w: f"{w.file_search_store}:uploadToFileSearchStore", body={}, kind="any"),
    Case("GET", "fileSearchStores/{store}/documents", path=(
        lambda w: (w.document, f"{w.file_search_store}/documents")[1]), response="ListDocumentsResponse"),
    Case("GET", "fileSearchStores/{store}/documents/{document}", path=lambda w: w.document, response="Document"),
    Case("DELETE", "fileSearchStores/{store}/documents/{document}", path=lambda w: w.document,
         params={"force": "true"}, response="Empty"),
    Case("GET", "fileSearchStores/{store}/operations/{operation}", path=lambda w: w.import_operation,
         response="Operation"),
    Case("GET", "fileSearchStores/{store}/upload/operations/{operation}", path=lambda w: w.upload_operation,
         response="Operation"),
    # permissions
    *[case for parent, param, made, perm in (
        ("tunedModels", "tuned", lambda w: w.tuned, lambda w: w.tuned_permission),
        ("corpora", "corpus", lambda w: w.corpus, lambda w: w.corpus_permission)) for case in (
        Case("POST", f"{parent}/{{{param}}}/permissions", path=lambda w, made=made: f"{made(w)}/permissions",
             body={"granteeType": "GROUP", "emailAddress": "team@example.com", "role": "WRITER"},
             response="Permission"),
        Case("GET", f"{parent}/{{{param}}}/permissions", path=lambda w, made=made: f"{made(w)}/permissions",
             response="ListPermissionsResponse"),
        Case("GET", f"{parent}/{{{param}}}/permissions/{{permission}}", path=lambda w, perm=perm: perm(w),
             response="Permission"),
        Case("PATCH", f"{parent}/{{{param}}}/permissions/{{permission}}", path=lambda w, perm=perm: perm(w),
             body={"role": "WRITER"}, params={"updateMask": "role"}, response="Permission"),
        Case("DELETE", f"{parent}/{{{param}}}/permissions/{{permission}}", path=lambda w, perm=perm: perm(w),
             response="Empty"),
    )],
    # the OpenAI-compatible layer (its own shapes: checked for the keys the openai SDK reads)
    Case("POST", "openai/chat/completions", body={"model": MODEL, "messages": [{"role": "user", "content": "hi"}]},
         kind="openai", response="chat.completion"),
    Case("POST", "openai/embeddings", body={"model": EMBED, "input": ["a", "b"]}, kind="openai", response="list"),
    Case("POST", "openai/images/generations", body={"model": "gemini-2.5-flash-image", "prompt": "a cat"},
         kind="openai", response="images"),
    Case("GET", "openai/models", kind="openai", response="list"),
    Case("GET", "openai/models/{id:path}", path=f"openai/models/{MODEL}", kind="openai", response="model"),
    Case("POST", "openai/files", path="openai/files", kind="openai", response="file",
         content=b"--b\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\nbatch\r\n--b\r\n"
                 b"Content-Disposition: form-data; name=\"file\"; filename=\"a.jsonl\"\r\n"
                 b"Content-Type: application/jsonl\r\n\r\n{}\n\r\n--b--\r\n",
         headers={"Content-Type": "multipart/form-data; boundary=b"}),
    Case("GET", "openai/files", path=having("openai_file", "openai/files"), kind="openai", response="list"),
    Case("GET", "openai/files/{id:path}/content", path=lambda w: f"openai/files/{w.generated}/content",
         kind="bytes"),
    Case("GET", "openai/files/{id:path}", path=lambda w: f"openai/files/{w.openai_file}", kind="openai",
         response="file"),
    Case("DELETE", "openai/files/{id:path}", path=lambda w: f"openai/files/{w.openai_file}", kind="openai",
         response="file"),
    Case("POST", "openai/batches", path="openai/batches", body=lambda w: {
        "input_file_id": w.openai_file, "endpoint": "/v1/chat/completions", "completion_window": "24h"},
        kind="openai", response="batch"),
    Case("GET", "openai/batches", path=having("openai_batch", "openai/batches"), kind="openai",
         response="list"),
    Case("POST", "openai/batches/{id:path}/cancel", path=lambda w: f"openai/batches/{w.openai_batch}/cancel",
         kind="openai", response="batch"),
    Case("GET", "openai/batches/{id:path}", path=lambda w: f"openai/batches/{w.openai_batch}", kind="openai",
         response="batch"),
    # the Live API's ephemeral tokens: AuthToken is no recorded message (tests/api/test_live_tokens.py checks it)
    Case("POST", "auth_tokens", body={"uses": 1}),
]


def _interaction(world: World, background: bool = False) -> str:
    return world._once(f"interaction:{background}", lambda: world._post("interactions", {
        "model": "gemini-3.6-flash", "input": "hi", "background": background})["id"])


def _webhook(world: World) -> str:
    return world._once("webhook", lambda: world._post("webhooks", {
        "uri": "https://example.com/hook", "subscribed_events": ["batch.succeeded"]})["id"])


def _agent(world: World) -> str:
    return world._once("agent", lambda: world._post("agents", {
        "id": "contract-agent", "base_agent": "deep-research-pro-preview-12-2025"})["id"])


# The Interactions API, agents and webhooks: snake_case shapes no recorded message describes
# (tests/api/test_interactions*.py and tests/api/test_webhooks.py check them through the SDKs).
CASES += [
    Case("POST", "interactions", body={"model": "gemini-3.6-flash", "input": "hi"}),
    Case("GET", "interactions/{id}", path=lambda w: f"interactions/{_interaction(w)}"),
    Case("DELETE", "interactions/{id}", path=lambda w: f"interactions/{_interaction(w)}"),
    Case("POST", "interactions/{id}/cancel", path=lambda w: f"interactions/{_interaction(w, True)}/cancel"),
    Case("GET", "agents"),
    Case("POST", "agents", body={"id": "contract-made", "base_agent": "deep-research-pro-preview-12-2025"}),
    Case("GET", "agents/{id}", path="agents/deep-research-pro-preview-12-2025"),
    Case("DELETE", "agents/{id}", path=lambda w: f"agents/{_agent(w)}"),
    Case("GET", "webhooks"),
    Case("POST", "webhooks", body={"uri": "https://example.com/hook", "subscribed_events": ["batch.failed"]}),
    Case("GET", "webhooks/{id}", path=lambda w: f"webhooks/{_webhook(w)}"),
    Case("PATCH", "webhooks/{id}", path=lambda w: f"webhooks/{_webhook(w)}", body={"state": "disabled"}),
    Case("DELETE", "webhooks/{id}", path=lambda w: f"webhooks/{_webhook(w)}"),
    Case("POST", "webhooks/{id}:ping", path=lambda w: f"webhooks/{_webhook(w)}:ping"),
    Case("POST", "webhooks/{id}:rotateSigningSecret", path=lambda w: f"webhooks/{_webhook(w)}:rotateSigningSecret",
         body={}),
]
# Catch-alls that only answer 404 in their layer's shape.
CATCH_ALLS = [Case(method, "openai/{rest:path}", path="openai/no/such/thing", kind="404")
              for method in ("GET", "POST", "PUT", "PATCH", "DELETE")]
ALL_CASES = CASES + CATCH_ALLS
BY_KEY = {case.key: case for case in ALL_CASES}


def app_routes():
    return [route for module in app_module.RESOURCES for route in module.ROUTES]


def _route(case: Case):
    for route in app_routes():
        if (route.method, route.template, route.media) == case.key:
            return route
    raise AssertionError(f"no route {case.key} in mockserver/app.py")


def _params():
    out = []
    for case in ALL_CASES:
        versions = case.versions
        if versions is None:
            try:
                versions = _route(case).versions
            except AssertionError:
                versions = ("v1beta",)
        for version in versions:
            out.append(pytest.param(case, version, id=f"{version}-{case.method}-{case.media or ''}-{case.template}"))
    return out


def _resolve(value, world: World):
    return value(world) if callable(value) else value


@pytest.mark.parametrize("case, version", _params())
def test_every_route_answers_its_recorded_message(gemini_mock, http, case: Case, version: str):
    world = World(gemini_mock, http, version)
    rest = _resolve(case.path, world) or case.template
    path = "/" + "/".join(p for p in (case.media, version, rest) if p)
    kwargs: dict[str, Any] = {"params": dict(case.params), "headers": dict(case.headers)}
    if case.content is not None:
        kwargs["content"] = case.content
    elif case.body is not None:
        kwargs["json"] = _resolve(case.body, world)
    answer = http.request(case.method, path, **kwargs)
    if case.kind == "404":
        assert answer.status_code == 404
        return
    if case.kind == "any":   # a 200 of the message, or the error envelope: never anything else
        if answer.status_code != 200:
            assert_envelope(answer, answer.status_code, answer.json()["error"]["status"])
            assert answer.status_code < 500
            return
    assert answer.status_code == 200, f"{case.method} {path}: {answer.status_code} {answer.text[:500]}"
    if case.kind == "stream":
        assert answer.headers["content-type"].startswith("text/event-stream")
        contract.assert_valid_stream(answer.text, case.response, version=version)
    elif case.kind == "bytes":
        assert answer.content
    elif case.kind == "upload-start":
        assert answer.headers["x-goog-upload-url"].startswith(gemini_mock.base_url)
        assert answer.headers["x-goog-upload-status"] == "active"
        final = httpx.post(answer.headers["x-goog-upload-url"], content=b"hello",
                           headers={"X-Goog-Upload-Command": "upload, finalize", "X-Goog-Upload-Offset": "0"})
        assert final.status_code == 200 and final.headers["x-goog-upload-status"] == "final"
        validate_response(version, "CreateFileResponse", final.json())
    elif case.kind == "openai" and case.response == "images":   # ImagesResponse has no `object`
        body = answer.json()
        assert isinstance(body.get("created"), int) and body["data"][0]["b64_json"], body
    elif case.kind == "openai":
        body = answer.json()
        assert isinstance(body, dict) and body.get("object") == case.response, body
    elif case.response:
        validate_response(version, case.response, answer.json())


def test_the_contract_table_names_every_route():
    served = {(r.method, r.template, r.media) for r in app_routes()}
    tabled = set(BY_KEY)
    assert served - tabled == set(), "routes with no contract case (add them to CASES)"
    assert tabled - served == set(), "contract cases of routes the app does not serve"


def test_openapi_operations_name_every_route_and_agree_with_the_cases():
    for route in app_routes():
        op = openapi.operation_for(route)
        if openapi.is_catch_all(route):
            assert op is None
            continue
        assert op is not None, f"{route.method} {route.template} is missing from openapi.OPERATIONS"
        case = BY_KEY[(route.method, route.template, route.media)]
        if case.kind in ("json", "stream") and case.response:
            assert op.response == case.response, (route.template, op.response, case.response)
        assert op.openai == (case.kind == "openai" or route.template.startswith("openai/"))


# -- request validation at the edge ------------------------------------------------------------------

def _json_body_routes():
    out = []
    for route in app_routes():
        op = openapi.operation_for(route)
        if op is None or op.openai or not op.request:
            continue
        out.append(pytest.param(route, op, id=f"{route.method}-{route.media or ''}-{route.template}"))
    return out


@pytest.mark.parametrize("route, op", _json_body_routes())
def test_every_json_body_route_validates_its_request(gemini_mock, http, route, op):
    """A field the recorded request message does not know is a 400 naming it, on every JSON route."""
    world = World(gemini_mock, http)
    case = BY_KEY[(route.method, route.template, route.media)]
    version = "v1beta" if "v1beta" in route.versions else route.versions[0]
    rest = _resolve(case.path, world) or case.template
    path = "/" + "/".join(p for p in (route.media, version, rest) if p)
    headers = {k: v for k, v in case.headers.items() if k.lower().startswith("x-goog-upload")}
    if route.media == "upload":
        headers = {"X-Goog-Upload-Protocol": "resumable", "X-Goog-Upload-Command": "start"}
    answer = http.request(route.method, path, json={"bogusFieldName": 1}, headers=headers)
    error = assert_envelope(answer, 400, "INVALID_ARGUMENT")
    assert "bogusFieldName" in json.dumps(error), error


# -- the OpenAPI document ----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def openapi_doc(gemini_server):
    answer = httpx.get(f"{gemini_server.base_url}/openapi.json")   # no key needed
    assert answer.status_code == 200
    return answer.json()


def test_openapi_document_is_valid_openapi_3_1(openapi_doc):
    assert openapi_doc["openapi"].startswith("3.1")
    try:
        from openapi_spec_validator import validate
    except ImportError:   # structural checks only (the validator comes with the test extra)
        assert {"info", "paths", "components"} <= set(openapi_doc)
        refs = set(__import__("re").findall(r'"#/components/schemas/([^"]+)"', json.dumps(openapi_doc)))
        assert refs <= set(openapi_doc["components"]["schemas"])
        ids = [op["operationId"] for item in openapi_doc["paths"].values() for op in item.values()]
        assert len(ids) == len(set(ids))
    else:
        validate(openapi_doc)


def test_openapi_document_has_every_route_at_every_version(openapi_doc, gemini_server):
    assert openapi_doc["servers"] == [{"url": gemini_server.base_url}]
    paths = openapi_doc["paths"]
    for route in app_routes():
        if openapi.is_catch_all(route):
            continue
        template = route.template.replace(":path}", "}")
        for version in route.versions:
            path = "/" + "/".join(p for p in (route.media, version, template) if p)
            assert route.method.lower() in paths.get(path, {}), f"{route.method} {path}"
    op = paths["/v1beta/models/{model}:generateContent"]["post"]
    assert op["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/v1beta.GenerateContentRequest"}
    assert op["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/v1beta.GenerateContentResponse"}


def test_openapi_schemas_validate_what_the_server_answers(openapi_doc, http):
    """The components are the recorded schemas: an answer validates against them as a JSON Schema."""
    from jsonschema import Draft202012Validator
    answer = http.post(f"/v1beta/models/{MODEL}:generateContent", json=PROMPT).json()
    schema = {"$ref": "#/components/schemas/v1beta.GenerateContentResponse",
              "components": openapi_doc["components"]}
    Draft202012Validator(schema).validate(answer)
    with pytest.raises(Exception):
        Draft202012Validator(schema).validate({**answer, "unknownField": 1})


# -- the downstream helper ---------------------------------------------------------------------------

def test_contract_helper(http):
    answer = http.post(f"/v1beta/models/{MODEL}:generateContent", json=PROMPT).json()
    assert contract.assert_valid(answer, "GenerateContentResponse") is answer
    contract.assert_valid(answer, "GenerateContentResponse", version="v1")
    with pytest.raises(AssertionError, match="candidates"):
        contract.assert_valid({"candidates": "nope"}, "GenerateContentResponse")
    assert contract.errors({"foo": 1}, "File")
    assert contract.assert_request_valid({"contents": [{"parts": [{"text": "x"}]}],
                                          "generation_config": {"max_output_tokens": "5"}},
                                         "GenerateContentRequest")["generationConfig"] == {"maxOutputTokens": 5}
    with pytest.raises(AssertionError, match="bogus"):
        contract.assert_request_valid({"bogus": 1}, "GenerateContentRequest")
    stream = http.post(f"/v1beta/models/{MODEL}:streamGenerateContent", params={"alt": "sse"}, json=PROMPT)
    assert len(contract.assert_valid_stream(stream.text)) >= 1
    assert "GenerateContentResponse" in contract.messages() and contract.schema("File")["$ref"]
