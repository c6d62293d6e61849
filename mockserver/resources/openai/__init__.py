"""The OpenAI-compatible layer: `/{version}/openai/...` (chat completions, embeddings, images, models, files,
batches).

Every call is translated into the native request and answered by the same code the native API uses
(`inference` for generation and embeddings, `store.files`, `store.batches`), so one prompt gets the same
text through `models/{m}:generateContent` and through `openai/chat/completions`. The translation is a set
of small pure functions (OpenAI JSON in, native JSON out, and back); the handlers only parse, call and
render. One module per concern: `chat` and `answers` (chat completions, request and response), `embeddings`
(embeddings and models), `images` (image generation), `files`, `batches`, `errors` (the error shape and
value checks), `wire` (times, list pages, native names), `backend`.

What this layer keeps itself (`OpenAICompat`, registered as `store.openai`): the `purpose` of files
uploaded through it, and per OpenAI batch the facts the native batch does not hold (the input file the
client uploaded, the endpoint, the metadata, each embeddings line's encoding and prompt tokens, and the
OpenAI-format output and error files made from the native results when the batch is first read after it
ends).

Wire details taken from the live layer:

* auth is `Authorization: Bearer <key>`;
* ids are the native resource names (`files/abc`, `batches/xyz`), and the openai client does not encode
  their `/`, so `/batches/batches/xyz` and `/files/files/abc/content` arrive as such;
* `extra_body={"extra_body": {"google": {...}}}` reaches the server as a literal top-level
  `"extra_body": {"google": {...}}` (a top-level `"google"` is taken too);
* errors are the native envelope wrapped in a one-element list, `[{"error": {"code", "message",
  "status"}}]`, with the native HTTP status (the openai SDKs pick their exception class by status).
"""
from __future__ import annotations

from typing import Any

from starlette.responses import Response

from ...errors import ApiError
from ...http import Context
from ...routing import EMBED, GENERATE, Handler, Route, route
from .answers import chat_chunks, finish_reason
from .backend import OpenAIBatch, OpenAICompat, register
from .batches import cancel_batch, create_batch, get_batch, list_batches
from .chat import chat_completions, chat_to_native, messages_to_native
from .embeddings import embeddings, get_model, list_models
from .errors import error_body, error_response, with_openai_errors
from .files import create_file, delete_file, file_content, get_file, list_files
from .images import images_generations

__all__ = ["ROUTES", "OpenAIBatch", "OpenAICompat", "chat_chunks", "chat_to_native", "error_body",
           "error_response", "finish_reason", "messages_to_native", "register"]


async def unknown_path(ctx: Context) -> Response:
    raise ApiError(404, "NOT_FOUND", f"The requested URL /{ctx.version}/openai/{ctx.params['rest']} was not "
                                     f"found on this server (method {ctx.request.method}).")


def _route(method: str, template: str, handler: Handler, **options: Any) -> Route:
    return route(method, "openai/" + template, with_openai_errors(handler), auth=False, render_error=error_response,
                 **options)


ROUTES = [
    _route("POST", "chat/completions", chat_completions, runs=GENERATE, name="chat.completions", model_in_body=True),
    _route("POST", "embeddings", embeddings, runs=EMBED, name="embeddings", model_in_body=True),
    _route("POST", "images/generations", images_generations, runs=GENERATE, name="images.generations",
           model_in_body=True),
    _route("GET", "models", list_models),
    _route("GET", "models/{id:path}", get_model),
    _route("POST", "files", create_file),
    _route("GET", "files", list_files),
    _route("GET", "files/{id:path}/content", file_content),   # before files/{id:path}, which would match it
    _route("GET", "files/{id:path}", get_file),
    _route("DELETE", "files/{id:path}", delete_file),
    _route("POST", "batches", create_batch),
    _route("GET", "batches", list_batches),
    _route("POST", "batches/{id:path}/cancel", cancel_batch),
    _route("GET", "batches/{id:path}", get_batch),
    # Anything else under openai/ is a 404 in this layer's error shape.
    *[_route(method, "{rest:path}", unknown_path) for method in ("GET", "POST", "PUT", "PATCH", "DELETE")],
]
