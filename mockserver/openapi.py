"""The OpenAPI 3.1 document of what the emulator serves (`GET /openapi.json`, no key needed).

Paths come from the route table (`app.RESOURCES`): every route under every API version it is served
at, with its media prefix (`/upload/...`, `/download/...`). Request and response bodies are `$ref`s into
`components.schemas`, which holds the recorded schemas of schemas/ (per version, in their canonical
output form, as `schema.json_schema` gives them), named `<version>.<Message>`.

`OPERATIONS` says which message each route takes and answers. It is also the contract the test suite
holds the server to (tests/api/test_contract.py drives every route and validates the answer against the
message named here), and what the record-and-replay drift check validates cassettes with.
"""
from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from typing import Any, Iterable, TypedDict

from . import __version__
from .routing import Route
from .schema import json_schema

OPENAPI_VERSION = "3.1.0"


@dataclass(frozen=True)
class Operation:
    """What one route takes and answers.

    request / response: recorded message names (None: no JSON body / not a recorded message).
    stream: the answer is a stream of `response` messages (SSE with `alt=sse`, else a JSON array).
    media: "download" (raw bytes with `alt=media`), "upload" (raw, multipart or resumable upload).
    openai: the OpenAI-compatible layer (its own shapes, not in the recorded schemas).
    interactions: the Interactions API, agents and webhooks (snake_case shapes and their own error body).
    """
    summary: str
    request: str | None = None
    response: str | None = None
    stream: bool = False
    media: str | None = None
    openai: bool = False
    query: tuple[str, ...] = ()
    interactions: bool = False


PAGED = ("pageSize", "pageToken")


class _Layer(TypedDict, total=False):
    """The Operation flags of a layer with its own shapes."""
    openai: bool
    interactions: bool


_OAI = _Layer(openai=True)
_IX = _Layer(interactions=True)

# (method, template, media prefix) -> Operation. Every route of app.RESOURCES must be here (a test checks).
OPERATIONS: dict[tuple[str, str, str | None], Operation] = {
    # models
    ("GET", "models", None): Operation("List the models", response="ListModelsResponse", query=PAGED),
    ("GET", "models/{model}", None): Operation("Get a model", response="Model"),
    ("POST", "models/{model}:generateContent", None): Operation(
        "Generate a response", "GenerateContentRequest", "GenerateContentResponse"),
    ("POST", "models/{model}:streamGenerateContent", None): Operation(
        "Generate a response as a stream", "GenerateContentRequest", "GenerateContentResponse", stream=True,
        query=("alt",)),
    ("POST", "models/{model}:countTokens", None): Operation(
        "Count the tokens of a prompt", "CountTokensRequest", "CountTokensResponse"),
    ("POST", "models/{model}:embedContent", None): Operation(
        "Embed a content", "EmbedContentRequest", "EmbedContentResponse"),
    ("POST", "models/{model}:batchEmbedContents", None): Operation(
        "Embed several contents", "BatchEmbedContentsRequest", "BatchEmbedContentsResponse"),
    # the legacy (PaLM) text methods
    ("POST", "models/{model}:generateText", None): Operation(
        "Generate text (legacy)", "GenerateTextRequest", "GenerateTextResponse"),
    ("POST", "models/{model}:generateMessage", None): Operation(
        "Generate a chat message (legacy)", "GenerateMessageRequest", "GenerateMessageResponse"),
    ("POST", "models/{model}:countTextTokens", None): Operation(
        "Count text tokens (legacy)", "CountTextTokensRequest", "CountTextTokensResponse"),
    ("POST", "models/{model}:countMessageTokens", None): Operation(
        "Count message tokens (legacy)", "CountMessageTokensRequest", "CountMessageTokensResponse"),
    ("POST", "models/{model}:embedText", None): Operation(
        "Embed a text (legacy)", "EmbedTextRequest", "EmbedTextResponse"),
    ("POST", "models/{model}:batchEmbedText", None): Operation(
        "Embed several texts (legacy)", "BatchEmbedTextRequest", "BatchEmbedTextResponse"),
    # files
    ("POST", "files", "upload"): Operation(
        "Upload a file (resumable, multipart or raw media)", "CreateFileRequest", "CreateFileResponse",
        media="upload"),
    ("PUT", "files", "upload"): Operation(
        "Upload a file (resumable chunks)", "CreateFileRequest", "CreateFileResponse", media="upload"),
    ("POST", "files", None): Operation("Create a file from metadata only", "CreateFileRequest",
                                       "CreateFileResponse"),
    ("GET", "files", None): Operation("List the project's files", response="ListFilesResponse", query=PAGED),
    ("GET", "files/{file}", None): Operation("Get a file", response="File"),
    ("DELETE", "files/{file}", None): Operation("Delete a file", response="Empty"),
    ("GET", "files/{file}:download", None): Operation(
        "Download a generated file", response="DownloadFileResponse", media="download", query=("alt",)),
    ("GET", "files/{file}:download", "download"): Operation(
        "Download a generated file (media path)", response="DownloadFileResponse", media="download",
        query=("alt",)),
    # Imagen and Veo (resources/media_generation.py)
    ("POST", "models/{model}:predict", None): Operation("Generate images (Imagen)", "PredictRequest", "PredictResponse"),
    ("POST", "models/{model}:predictLongRunning", None): Operation(
        "Generate videos (Veo): a long-running operation", "PredictLongRunningRequest", "Operation"),
    ("GET", "models/{model}/operations", None): Operation(
        "List a model's operations", response="ListOperationsResponse", query=PAGED),
    ("GET", "models/{model}/operations/{operation}", None): Operation("Poll a video operation", response="Operation"),
    ("GET", "files/{uri:path}:download", None): Operation(
        "Download a generated file named by its full uri", response="DownloadFileResponse", media="download",
        query=("alt",)),
    # cached contents
    ("POST", "cachedContents", None): Operation("Create a cache", "CachedContent", "CachedContent"),
    ("GET", "cachedContents", None): Operation("List the project's caches",
                                               response="ListCachedContentsResponse", query=PAGED),
    ("GET", "cachedContents/{id}", None): Operation("Get a cache", response="CachedContent"),
    ("PATCH", "cachedContents/{id}", None): Operation("Update a cache's expiry", "CachedContent",
                                                      "CachedContent", query=("updateMask",)),
    ("DELETE", "cachedContents/{id}", None): Operation("Delete a cache", response="Empty"),
    # batches
    ("POST", "models/{model}:batchGenerateContent", None): Operation(
        "Create a batch of generations", "BatchGenerateContentRequest", "GenerateContentBatchOperation"),
    ("POST", "models/{model}:asyncBatchEmbedContent", None): Operation(
        "Create a batch of embeddings", "AsyncBatchEmbedContentRequest", "EmbedContentBatchOperation"),
    ("POST", "tunedModels/{model}:batchGenerateContent", None): Operation(
        "Create a batch of generations on a tuned model", "BatchGenerateContentRequest",
        "GenerateContentBatchOperation"),
    ("POST", "tunedModels/{model}:asyncBatchEmbedContent", None): Operation(
        "Create a batch of embeddings on a tuned model", "AsyncBatchEmbedContentRequest",
        "EmbedContentBatchOperation"),
    ("GET", "batches", None): Operation("List the project's batches", response="ListOperationsResponse",
                                        query=PAGED),
    ("GET", "batches/{batch}", None): Operation("Get a batch", response="GenerateContentBatchOperation"),
    ("DELETE", "batches/{batch}", None): Operation("Delete a batch", response="Empty"),
    ("POST", "batches/{batch}:cancel", None): Operation("Cancel a batch", response="Empty"),
    ("GET", "batches/{batch}:cancel", None): Operation("Cancel a batch (as the guide's curl sends it)",
                                                       response="Empty"),
    ("GET", "batches/{batch}:delete", None): Operation("Delete a batch (as the guide's curl sends it)",
                                                       response="Empty"),
    ("POST", "batches/{batch}:delete", None): Operation("Delete a batch (as the guide's curl sends it)",
                                                        response="Empty"),
    ("PATCH", "batches/{batch}:updateGenerateContentBatch", None): Operation(
        "Update a generation batch", "GenerateContentBatch", "GenerateContentBatch", query=("updateMask",)),
    ("PATCH", "batches/{batch}:updateEmbedContentBatch", None): Operation(
        "Update an embedding batch", "EmbedContentBatch", "EmbedContentBatch", query=("updateMask",)),
    # tuned models
    ("POST", "tunedModels", None): Operation("Create a tuned model", "TunedModel", "Operation",
                                             query=("tunedModelId",)),
    ("GET", "tunedModels", None): Operation("List tuned models", response="ListTunedModelsResponse",
                                            query=(*PAGED, "filter")),
    ("GET", "tunedModels/{tuned}", None): Operation("Get a tuned model", response="TunedModel"),
    ("PATCH", "tunedModels/{tuned}", None): Operation("Update a tuned model", "TunedModel", "TunedModel",
                                                      query=("updateMask",)),
    ("DELETE", "tunedModels/{tuned}", None): Operation("Delete a tuned model", response="Empty"),
    ("POST", "tunedModels/{tuned}:transferOwnership", None): Operation(
        "Transfer a tuned model to another owner", "TransferOwnershipRequest", "TransferOwnershipResponse"),
    ("POST", "tunedModels/{tuned}:generateText", None): Operation(
        "Generate text with a tuned model", "GenerateTextRequest", "GenerateTextResponse"),
    ("POST", "tunedModels/{tuned}:generateContent", None): Operation(
        "Generate with a tuned model", "GenerateContentRequest", "GenerateContentResponse"),
    ("POST", "tunedModels/{tuned}:streamGenerateContent", None): Operation(
        "Generate with a tuned model as a stream", "GenerateContentRequest", "GenerateContentResponse",
        stream=True, query=("alt",)),
    ("GET", "tunedModels/{tuned}/operations", None): Operation(
        "List a tuned model's operations", response="ListOperationsResponse", query=PAGED),
    ("GET", "tunedModels/{tuned}/operations/{operation}", None): Operation(
        "Get a tuned model's operation", response="Operation"),
    # corpora
    ("POST", "corpora", None): Operation("Create a corpus", "Corpus", "Corpus"),
    ("GET", "corpora", None): Operation("List corpora", response="ListCorporaResponse", query=PAGED),
    ("GET", "corpora/{corpus}", None): Operation("Get a corpus", response="Corpus"),
    ("DELETE", "corpora/{corpus}", None): Operation("Delete a corpus", response="Empty", query=("force",)),
    ("GET", "corpora/{corpus}/operations/{operation}", None): Operation("Get a corpus operation",
                                                                      response="Operation"),
    # generatedFiles, files:register, dynamic models, attributed answers (generated_files.py,
    # file_registration.py, dynamic.py, answers.py); GeneratedFile and RegisterFiles* are not recorded messages
    ("GET", "generatedFiles", None): Operation("List the files the service generated", query=PAGED),
    ("GET", "generatedFiles/{file}/operations/{operation}", None): Operation(
        "Get the operation that generated a file", response="Operation"),
    ("POST", "files:register", None): Operation("Register Cloud Storage files"),
    ("POST", "dynamic/{model}:generateContent", None): Operation(
        "Generate a response (dynamic model name)", "GenerateContentRequest", "GenerateContentResponse"),
    ("POST", "dynamic/{model}:streamGenerateContent", None): Operation(
        "Generate a response as a stream (dynamic model name)", "GenerateContentRequest",
        "GenerateContentResponse", stream=True, query=("alt",)),
    # environments (environments.py): the Interactions API's snake_case shapes, not recorded messages
    ("POST", "environments", None): Operation("Create an environment"),
    ("GET", "environments", None): Operation("List environments", query=("mode", "page_size", "page_token")),
    ("GET", "environments/{environment}", None): Operation("Get an environment"),
    ("DELETE", "environments/{environment}", None): Operation("Delete an environment"),
    ("GET", "environments/{environment}/files/{path:path}", None): Operation(
        "List or download an environment's files", query=("alt", "recursive", "page_size", "page_token")),
    ("POST", "environments:create", None): Operation("Create an environment (custom-verb path)"),
    ("GET", "environments:list", None): Operation("List environments (custom-verb path)",
                                                  query=("mode", "page_size", "page_token")),
    ("GET", "environments/{environment}:get", None): Operation("Get an environment (custom-verb path)"),
    ("DELETE", "environments/{environment}:delete", None): Operation("Delete an environment (custom-verb path)"),
    ("POST", "models/{model}:generateAnswer", None): Operation(
        "Answer a question from passages (attributed question answering)", "GenerateAnswerRequest",
        "GenerateAnswerResponse"),
    # File Search stores
    ("POST", "fileSearchStores", None): Operation("Create a File Search store", "FileSearchStore", "FileSearchStore"),
    ("GET", "fileSearchStores", None): Operation("List File Search stores", response="ListFileSearchStoresResponse",
                                                 query=PAGED),
    ("GET", "fileSearchStores/{store}", None): Operation("Get a File Search store", response="FileSearchStore"),
    ("DELETE", "fileSearchStores/{store}", None): Operation("Delete a File Search store", response="Empty",
                                                            query=("force",)),
    ("POST", "fileSearchStores/{store}:importFile", None): Operation(
        "Import a Files API file into a File Search store", "ImportFileRequest", "Operation"),
    ("POST", "fileSearchStores/{store}:uploadToFileSearchStore", "upload"): Operation(
        "Upload a document into a File Search store", "UploadToFileSearchStoreRequest", "Operation",
        media="upload"),
    ("POST", "fileSearchStores/{store}:uploadToFileSearchStore", None): Operation(
        "Upload a document into a File Search store (metadata URI: answers 400, the bytes go to the upload URI)"),
    ("GET", "fileSearchStores/{store}/documents", None): Operation("List a store's documents",
                                                                   response="ListDocumentsResponse", query=PAGED),
    ("GET", "fileSearchStores/{store}/documents/{document}", None): Operation("Get a document", response="Document"),
    ("DELETE", "fileSearchStores/{store}/documents/{document}", None): Operation(
        "Delete a document", response="Empty", query=("force",)),
    ("GET", "fileSearchStores/{store}/operations/{operation}", None): Operation(
        "Get an importFile operation", response="Operation"),
    ("GET", "fileSearchStores/{store}/upload/operations/{operation}", None): Operation(
        "Get an upload operation", response="Operation"),
    # permissions (tuned models and corpora alike)
    **{key: value for parent, param in (("tunedModels", "tuned"), ("corpora", "corpus")) for key, value in {
        ("POST", f"{parent}/{{{param}}}/permissions", None): Operation("Grant a permission", "Permission",
                                                                     "Permission"),
        ("GET", f"{parent}/{{{param}}}/permissions", None): Operation(
            "List permissions", response="ListPermissionsResponse", query=PAGED),
        ("GET", f"{parent}/{{{param}}}/permissions/{{permission}}", None): Operation(
            "Get a permission", response="Permission"),
        ("PATCH", f"{parent}/{{{param}}}/permissions/{{permission}}", None): Operation(
            "Change a permission's role", "Permission", "Permission", query=("updateMask",)),
        ("DELETE", f"{parent}/{{{param}}}/permissions/{{permission}}", None): Operation(
            "Revoke a permission", response="Empty"),
    }.items()},
    # the OpenAI-compatible layer
    ("POST", "openai/chat/completions", None): Operation("Chat completion (OpenAI-compatible)", **_OAI),
    ("POST", "openai/embeddings", None): Operation("Embeddings (OpenAI-compatible)", **_OAI),
    ("POST", "openai/images/generations", None): Operation("Generate images (OpenAI-compatible)", **_OAI),
    ("GET", "openai/models", None): Operation("List models (OpenAI-compatible)", **_OAI),
    ("GET", "openai/models/{id:path}", None): Operation("Get a model (OpenAI-compatible)", **_OAI),
    ("POST", "openai/files", None): Operation("Upload a file (OpenAI-compatible, multipart)", **_OAI),
    ("GET", "openai/files", None): Operation("List files (OpenAI-compatible)", **_OAI),
    ("GET", "openai/files/{id:path}/content", None): Operation("A file's content (OpenAI-compatible)", **_OAI),
    ("GET", "openai/files/{id:path}", None): Operation("Get a file (OpenAI-compatible)", **_OAI),
    ("DELETE", "openai/files/{id:path}", None): Operation("Delete a file (OpenAI-compatible)", **_OAI),
    ("POST", "openai/batches", None): Operation("Create a batch (OpenAI-compatible)", **_OAI),
    ("GET", "openai/batches", None): Operation("List batches (OpenAI-compatible)", **_OAI),
    ("POST", "openai/batches/{id:path}/cancel", None): Operation("Cancel a batch (OpenAI-compatible)", **_OAI),
    ("GET", "openai/batches/{id:path}", None): Operation("Get a batch (OpenAI-compatible)", **_OAI),
    # the Live API's ephemeral tokens (the WebSocket endpoints are not OpenAPI operations)
    ("POST", "auth_tokens", None): Operation("Create an ephemeral token for Live API sessions"),
    # the Interactions API, agents and webhooks (resources/interactions/)
    ("POST", "interactions", None): Operation("Create an interaction (JSON, or SSE events with stream=true)", **_IX),
    ("GET", "interactions/{id}", None): Operation("Get an interaction (SSE events with stream=true)", **_IX,
                                                  query=("stream", "last_event_id", "include_input")),
    ("DELETE", "interactions/{id}", None): Operation("Delete an interaction", **_IX),
    ("POST", "interactions/{id}/cancel", None): Operation("Cancel a background interaction", **_IX),
    ("GET", "agents", None): Operation("List agents", **_IX),
    ("POST", "agents", None): Operation("Create an agent", **_IX),
    ("GET", "agents/{id}", None): Operation("Get an agent", **_IX),
    ("DELETE", "agents/{id}", None): Operation("Delete an agent", **_IX),
    ("GET", "webhooks", None): Operation("List webhooks", **_IX),
    ("POST", "webhooks", None): Operation("Create a webhook", **_IX),
    ("GET", "webhooks/{id}", None): Operation("Get a webhook", **_IX),
    ("PATCH", "webhooks/{id}", None): Operation("Update a webhook", **_IX),
    ("DELETE", "webhooks/{id}", None): Operation("Delete a webhook", **_IX),
    ("POST", "webhooks/{id}:ping", None): Operation("Send a ping delivery", **_IX),
    ("POST", "webhooks/{id}:rotateSigningSecret", None): Operation("Rotate a webhook's signing secret", **_IX),
}

# Catch-all routes that only answer 404 in their layer's shape: not operations of the API.
CATCH_ALL = re.compile(r"(?:[\w-]+/)?\{\w+:path\}")


def operation_for(route: Route) -> Operation | None:
    return OPERATIONS.get((route.method, route.template, route.media))


def is_catch_all(route: Route) -> bool:
    return CATCH_ALL.fullmatch(route.template) is not None


# ---------------------------------------------------------------------------------------------------
# The document

_PARAM = re.compile(r"\{(\w+)(?::path)?\}")

ERROR_SCHEMA = {
    "type": "object",
    "description": "The Google error envelope every failure answers with.",
    "required": ["error"],
    "properties": {"error": {
        "type": "object",
        "required": ["code", "message", "status"],
        "properties": {
            "code": {"type": "integer", "description": "The HTTP status code."},
            "message": {"type": "string"},
            "status": {"type": "string", "description": "The google.rpc.Code name, e.g. INVALID_ARGUMENT."},
            "details": {"type": "array", "items": {"type": "object"}},
        },
    }},
}
OPENAI_SCHEMA = {"type": "object", "description": "A body of the OpenAI-compatible layer (OpenAI's own shapes)."}
INTERACTIONS_SCHEMA = {"type": "object", "description": "A body of the Interactions API (google-genai's snake_case "
                                                         "Interaction, Agent and Webhook shapes)."}
INTERACTIONS_ERROR_SCHEMA = {
    "type": "object", "required": ["error"], "additionalProperties": False,
    "properties": {"error": {"type": "object", "required": ["code", "message"], "additionalProperties": False,
                             "properties": {"code": {"type": "string"}, "message": {"type": "string"}}}}}

_QUERY_DOCS = {
    "stream": ("boolean", "`true`: the interaction's events as server-sent events."),
    "last_event_id": ("string", "Resume the event stream after this event id."),
    "include_input": ("boolean", "`true`: the interaction's input is in the answer."),
    "pageSize": ("integer", "The most items a page holds."),
    "pageToken": ("string", "The nextPageToken of the previous page."),
    "alt": ("string", "`sse` for server-sent events (streams), `media` for the bytes (downloads)."),
    "updateMask": ("string", "Comma-separated fields to update; inferred from the body when absent."),
    "tunedModelId": ("string", "The id of the new tuned model (optional)."),
    "filter": ("string", "`owner:me`, `readers:me` or `readers:everyone`."),
    "force": ("boolean", "Delete the corpus with everything in it."),
}


def _ref(version: str, name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{version}.{name}"}


def _rewrite_refs(node: Any, version: str) -> Any:
    if isinstance(node, dict):
        out: dict[str, Any] = {}
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str) and value.startswith("#/$defs/"):
                out[key] = f"#/components/schemas/{version}.{value[len('#/$defs/'):]}"
            else:
                out[key] = _rewrite_refs(value, version)
        return out
    if isinstance(node, list):
        return [_rewrite_refs(item, version) for item in node]
    return node


def _reachable(defs: dict[str, Any], roots: Iterable[str]) -> set[str]:
    seen: set[str] = set()
    todo = [r for r in roots if r in defs]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        stack = [defs[name]]
        while stack:
            node = stack.pop()
            if isinstance(node, dict):
                ref = node.get("$ref")
                if isinstance(ref, str) and ref.startswith("#/$defs/"):
                    target = ref[len("#/$defs/"):]
                    if target not in seen:
                        todo.append(target)
                stack.extend(node.values())
            elif isinstance(node, list):
                stack.extend(node)
    return seen


def _operation_id(method: str, version: str, media: str | None, template: str) -> str:
    words = re.sub(r"\{(\w+)(?::path)?\}", r"by_\1", template)
    words = re.sub(r"[^A-Za-z0-9]+", "_", words).strip("_")
    return "_".join(p for p in (version, media, method.lower(), words) if p)


def _parameters(template: str, op: Operation) -> list[dict[str, Any]]:
    params = [{"name": name, "in": "path", "required": True, "schema": {"type": "string"},
               **({"description": "The rest of the path (may contain `/`)."} if ":path" in whole else {})}
              for whole, name in ((m.group(0), m.group(1)) for m in _PARAM.finditer(template))]
    for name in op.query:
        kind, text = _QUERY_DOCS.get(name, ("string", ""))
        params.append({"name": name, "in": "query", "required": False, "schema": {"type": kind},
                       "description": text})
    return params


def _responses(version: str, op: Operation) -> dict[str, Any]:
    ok: dict[str, Any]
    if op.interactions:
        ok = {"description": "OK", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/InteractionsBody"}},
                                               "text/event-stream": {"schema": {"type": "string"}}}}
        return {"200": ok, "default": {"description": "An error: {\"error\": {\"code\": <string>, \"message\"}}.",
                                       "content": {"application/json": {"schema": {
                                           "$ref": "#/components/schemas/InteractionsError"}}}}}
    if op.openai:
        ok = {"description": "OK", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/OpenAIBody"}}}}
    elif not op.response:   # no recorded message to answer with
        ok = {"description": "OK"}
    elif op.stream:
        ok = {"description": "A stream of responses: server-sent events (`data: <json>`) with `alt=sse`, "
                             "else a JSON array.",
              "content": {"application/json": {"schema": {"type": "array", "items": _ref(version, op.response)}},
                          "text/event-stream": {"schema": {"type": "string"}}}}
    elif op.media == "download":
        ok = {"description": "The file's bytes with `alt=media`; otherwise an empty DownloadFileResponse.",
              "content": {"application/json": {"schema": _ref(version, op.response)},
                          "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}}
    elif op.media == "upload":
        ok = {"description": "The created file; the start of a resumable upload answers an empty body and "
                             "the `X-Goog-Upload-URL` header to send the bytes to.",
              "headers": {"X-Goog-Upload-URL": {"schema": {"type": "string"}},
                          "X-Goog-Upload-Status": {"schema": {"type": "string"}}},
              "content": {"application/json": {"schema": _ref(version, op.response)}}}
    else:
        ok = {"description": "OK", "content": {"application/json": {"schema": _ref(version, op.response)}}}
    error = {"$ref": "#/components/schemas/Error"}
    if op.openai:   # the layer wraps the envelope in a one-element list, as the real one does
        return {"200": ok, "default": {"description": "An error: the envelope in a one-element list.", "content": {
            "application/json": {"schema": {"type": "array", "minItems": 1, "maxItems": 1, "items": error}}}}}
    return {"200": ok, "default": {"description": "An error.", "content": {"application/json": {"schema": error}}}}


def _request_body(version: str, op: Operation) -> dict[str, Any] | None:
    if op.interactions:
        return {"required": False, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/InteractionsBody"}}}}
    if op.openai:
        return {"required": False, "content": {
            "application/json": {"schema": {"$ref": "#/components/schemas/OpenAIBody"}},
            "multipart/form-data": {"schema": {"type": "object"}}}}
    if not op.request:
        return None
    content: dict[str, Any] = {"application/json": {"schema": _ref(version, op.request)}}
    if op.media == "upload":
        content["multipart/related"] = {"schema": {"type": "string", "format": "binary"}}
        content["application/octet-stream"] = {"schema": {"type": "string", "format": "binary"}}
    return {"required": False, "content": content}


def build(routes: Iterable[Route]) -> dict[str, Any]:
    """The OpenAPI 3.1 document of `routes` (the route table of `app.create_app`)."""
    paths: dict[str, dict[str, Any]] = {}
    roots: dict[str, set[str]] = {}
    undocumented: list[Route] = []
    for route in routes:
        op = operation_for(route)
        if op is None:
            if is_catch_all(route):
                continue
            undocumented.append(route)
            op = Operation(f"{route.method} {route.template}")
        template = _PARAM.sub(lambda m: "{" + m.group(1) + "}", route.template)
        for version in route.versions:
            path = "/" + "/".join(p for p in (route.media, version, template) if p)
            item = paths.setdefault(path, {})
            method = route.method.lower()
            if method in item:   # the router answers with the first route; so does the document
                continue
            operation: dict[str, Any] = {
                "operationId": _operation_id(route.method, version, route.media, route.template),
                "summary": op.summary,
                "tags": [route.template.split("/")[0].split(":")[0] if not op.openai else "openai"],
                "parameters": _parameters(route.template, op),
                "responses": _responses(version, op),
            }
            body = _request_body(version, op)
            if body is not None:
                operation["requestBody"] = body
            if op.openai:
                operation["security"] = [{"bearer": []}, {"apiKeyHeader": []}, {"apiKeyQuery": []}]
            elif not route.auth:
                operation["security"] = [{"apiKeyHeader": []}, {"apiKeyQuery": []}, {}]
            item[method] = operation
            roots.setdefault(version, set()).update(n for n in (op.request, op.response) if n)
    schemas: dict[str, dict[str, Any]] = {"Error": ERROR_SCHEMA, "OpenAIBody": OPENAI_SCHEMA,
                                "InteractionsBody": INTERACTIONS_SCHEMA, "InteractionsError": INTERACTIONS_ERROR_SCHEMA}
    for version in sorted(roots):
        names = sorted(roots[version])
        defs = json_schema(version, names[0])["$defs"] if names else {}
        for name in sorted(_reachable(defs, names)):
            schemas[f"{version}.{name}"] = _rewrite_refs(defs[name], version)
    doc: dict[str, Any] = {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "gemini-mockserver",
            "version": __version__,
            "summary": "An offline, stateful, deterministic emulator of the Gemini API.",
            "description": "What the emulator serves: every route under every API version it answers at, "
                           "with the recorded request and response schemas (schemas/ in the repository). "
                           "Requests may also use snake_case field names, int64 values as numbers and enum "
                           "values as numbers, as the real API's proto3-JSON parser takes them; answers are "
                           "in the canonical form shown here. Any path may also carry a prefix before the "
                           "version segment.",
        },
        "servers": [{"url": "/"}],
        "security": [{"apiKeyHeader": []}, {"apiKeyQuery": []}],
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "apiKeyHeader": {"type": "apiKey", "in": "header", "name": "x-goog-api-key"},
                "apiKeyQuery": {"type": "apiKey", "in": "query", "name": "key"},
                "bearer": {"type": "http", "scheme": "bearer",
                           "description": "The API key as a bearer token (the OpenAI-compatible layer)."},
            },
        },
    }
    if undocumented:
        doc["info"]["x-undocumented-routes"] = [f"{r.method} {r.template}" for r in undocumented]
    return doc


_cache: dict[int, dict[str, Any]] = {}
_lock = threading.Lock()


def document(routes: list[Route], server_url: str | None = None) -> dict[str, Any]:
    """`build(routes)`, built once per route table; `server_url` fills `servers`."""
    with _lock:
        doc = _cache.get(id(routes))
        if doc is None:
            doc = _cache[id(routes)] = build(routes)
    if server_url:
        doc = {**doc, "servers": [{"url": server_url}]}
    return doc

