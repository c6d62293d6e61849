"""The OpenAI-compatible layer: `/{version}/openai/...` (chat completions, embeddings, models, files, batches).

Every call is translated into the native request and answered by the same code the native API uses
(`inference` for generation and embeddings, `store.files`, `store.batches`), so one prompt gets the same
text through `models/{m}:generateContent` and through `openai/chat/completions`. The translation is a set
of small pure functions (OpenAI JSON in, native JSON out, and back); the handlers at the bottom only parse,
call and render.

What this layer keeps itself (`OpenAICompat`, registered as `store.openai`): the `purpose` of files
uploaded through it, and per OpenAI batch the facts the native batch does not hold (the input file the
client uploaded, the endpoint, the metadata, and the OpenAI-format output and error files made from the
native results when the batch is first read after it ends).

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

import base64
import hashlib
import json
import os
import re
import struct
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator

from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect
from starlette.responses import Response, StreamingResponse

from .. import inference
from ..errors import STATUS_CODES, ApiError, invalid_argument, not_found
from ..generation.tokens import count_text
from ..http import Context, dumps, json_response, parse_json
from ..persistence import build, fields_of
from ..routing import route
from ..schema import normalize
from ..wire import parse_time
from . import files as native_files
from .batches import RPC_CODES

# -- constants --------------------------------------------------------------------------------------

CHAT_ENDPOINT = "/v1/chat/completions"
BATCH_WINDOW = "24h"
BATCH_WINDOW_SECONDS = 24 * 3600
FIELD_LIMIT = 64 * 1024            # a non-file field of a multipart upload
LIST_LIMIT_DEFAULT, LIST_LIMIT_MAX = 20, 10000
MAX_EMBEDDING_INPUTS = 2048

# reasoning_effort -> thinking budget (the 2.5 models think by budget).
EFFORT_BUDGETS = {"none": 0, "minimal": 1024, "low": 1024, "medium": 8192, "high": 24576}

# Chat request fields the layer reads, and those it accepts without a Gemini meaning.
CHAT_FIELDS = frozenset({
    "messages", "model", "stream", "stream_options", "temperature", "top_p", "n", "max_tokens",
    "max_completion_tokens", "stop", "seed", "tools", "tool_choice", "functions", "function_call",
    "response_format", "reasoning_effort", "presence_penalty", "frequency_penalty", "logprobs", "top_logprobs",
    "modalities", "extra_body", "google",
})
CHAT_IGNORED = frozenset({
    "user", "store", "metadata", "service_tier", "parallel_tool_calls", "logit_bias", "prediction",
    "prompt_cache_key", "safety_identifier", "verbosity", "audio",
})
GOOGLE_EXTRAS = {"cached_content": "cachedContent", "cachedContent": "cachedContent",
                 "thinking_config": "thinkingConfig", "thinkingConfig": "thinkingConfig",
                 "safety_settings": "safetySettings", "safetySettings": "safetySettings"}

FINISH_REASONS = {"STOP": "stop", "MAX_TOKENS": "length", "SAFETY": "content_filter",
                  "RECITATION": "content_filter", "BLOCKLIST": "content_filter",
                  "PROHIBITED_CONTENT": "content_filter", "SPII": "content_filter",
                  "IMAGE_SAFETY": "content_filter"}

BATCH_STATUS = {"BATCH_STATE_PENDING": "validating", "BATCH_STATE_RUNNING": "in_progress",
                "BATCH_STATE_SUCCEEDED": "completed", "BATCH_STATE_FAILED": "failed",
                "BATCH_STATE_CANCELLED": "cancelled", "BATCH_STATE_EXPIRED": "expired"}
_DATA_URL = re.compile(r"^data:([^;,]+)?((?:;[^;,]*)*?);base64,(.*)$", re.DOTALL)
_AUDIO_FORMATS = {"wav": "audio/wav", "mp3": "audio/mp3", "flac": "audio/flac", "aac": "audio/aac",
                  "ogg": "audio/ogg", "aiff": "audio/aiff", "pcm16": "audio/pcm"}


# -- errors -----------------------------------------------------------------------------------------

def error_body(error: ApiError) -> list:
    """The layer's error body: the native envelope in a one-element list."""
    return [error.envelope()]


def error_response(error: ApiError) -> Response:
    return json_response(error_body(error), error.code, error.headers)


# -- the backend ------------------------------------------------------------------------------------

@dataclass
class OpenAIBatch:
    """What an OpenAI batch adds to the native batch it runs as."""
    name: str                      # batches/{id}, the native job and the OpenAI id
    project: str
    input_file_id: str             # the JSONL the client uploaded (OpenAI format)
    native_input: str              # the converted JSONL the native batch reads
    endpoint: str
    completion_window: str
    metadata: dict | None
    model: str                     # as the client named it
    created: float
    seq: int
    models: dict[str, str] = field(default_factory=dict)   # custom_id -> the model its line named
    output_file_id: str | None = None
    error_file_id: str | None = None
    converted: bool = False


class OpenAICompat:
    """File purposes and OpenAI batch bookkeeping, per project. Registered as `store.openai`."""

    def __init__(self, store) -> None:
        self.store = store
        self.lock = threading.RLock()
        self._purposes: dict[tuple[str, str], str] = {}
        self._batches: dict[str, dict[str, OpenAIBatch]] = {}
        self._seq = 0

    def reset(self) -> None:
        with self.lock:
            self._purposes.clear()
            self._batches.clear()
            self._seq = 0

    # -- files -------------------------------------------------------------------------------------
    def set_purpose(self, project: str, file_name: str, purpose: str) -> None:
        with self.lock:
            self._purposes[(project, file_name)] = purpose

    def purpose_of(self, project: str, file: dict) -> str:
        with self.lock:
            purpose = self._purposes.get((project, file["name"]))
        if purpose:
            return purpose
        return "batch_output" if file.get("source") == "GENERATED" else "user_data"

    def forget_file(self, project: str, file_name: str) -> None:
        with self.lock:
            self._purposes.pop((project, file_name), None)

    # -- batches -----------------------------------------------------------------------------------
    def add_batch(self, batch: OpenAIBatch) -> OpenAIBatch:
        with self.lock:
            self._seq += 1
            batch.seq = self._seq
            self._batches.setdefault(batch.project, {})[batch.name] = batch
        return batch

    def batch(self, project: str, name: str) -> OpenAIBatch:
        name = name if name.startswith("batches/") else f"batches/{name}"
        with self.lock:
            found = self._batches.get(project, {}).get(name)
        if found is None:
            raise not_found(f"Batch {name} was not found (batches created through the OpenAI-compatible "
                            f"API are looked up here).")
        return found

    def batches(self, project: str) -> list[OpenAIBatch]:
        with self.lock:
            return sorted(self._batches.get(project, {}).values(), key=lambda b: -b.seq)

    def drop_batch(self, batch: OpenAIBatch) -> None:
        with self.lock:
            self._batches.get(batch.project, {}).pop(batch.name, None)

    # -- state export and import (persistence.py) ----------------------------------------------------
    def export_state(self) -> dict:
        with self.lock:
            return {"seq": self._seq,
                    "purposes": [[project, name, purpose] for (project, name), purpose in self._purposes.items()],
                    "batches": [fields_of(b, models=dict(b.models))
                                for batches in self._batches.values() for b in batches.values()]}

    def import_state(self, data: dict) -> None:
        with self.lock:
            self._purposes = {(project, name): purpose for project, name, purpose in data.get("purposes") or []}
            self._batches = {}
            for item in data.get("batches") or []:
                batch = build(OpenAIBatch, item)
                self._batches.setdefault(batch.project, {})[batch.name] = batch
            self._seq = int(data.get("seq") or 0)


def register(store) -> None:
    store.register("openai", OpenAICompat(store))


# -- small checks -----------------------------------------------------------------------------------

def _bad(message: str, field_name: str | None = None) -> ApiError:
    return invalid_argument(message, field_name)


def _unknown_field(name: str, where: str = "") -> ApiError:
    at = f" at '{where}'" if where else ""
    return _bad(f'Invalid JSON payload received. Unknown name "{name}"{at}: Cannot find field.', name)


def _object(value: Any, where: str) -> dict:
    if not isinstance(value, dict):
        raise _bad(f"Invalid value at '{where}': expected an object.", where)
    return value


def _integer(value: Any, where: str, low: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or int(value) != value:
        raise _bad(f"Invalid value at '{where}': expected an integer, got {value!r}.", where)
    if low is not None and value < low:
        raise _bad(f"Invalid value at '{where}': must be at least {low}, got {value!r}.", where)
    return int(value)


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _bad(f"Invalid value at '{where}': expected a number, got {value!r}.", where)
    return value


def _native_model_name(name: str) -> str:
    return name if name.startswith(("models/", "tunedModels/")) else f"models/{name}"


# -- chat request: OpenAI -> native (pure) ----------------------------------------------------------

@dataclass
class ChatRequest:
    """A chat completion request read into its native form."""
    model: str                 # as the client named it
    request: dict              # GenerateContentRequest (camelCase, not yet normalised)
    stream: bool = False
    include_usage: bool = False


def text_of(content: Any, where: str) -> str:
    """The text of a message content that must be text: a string or a list of text parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        texts = []
        for i, part in enumerate(content):
            part = _object(part, f"{where}[{i}]")
            if part.get("type") not in ("text", "input_text", "refusal") or not isinstance(
                    part.get("text", part.get("refusal")), str):
                raise _bad(f"{where}[{i}] must be a text part ({{\"type\": \"text\", \"text\": \"...\"}}).",
                           f"{where}[{i}]")
            texts.append(part.get("text", part.get("refusal")))
        return "".join(texts)
    raise _bad(f"Invalid value at '{where}': expected a string or a list of text parts.", where)


def data_url_part(url: str, where: str) -> dict | None:
    """`data:<mime>;base64,<data>` as an inlineData part (None for any other URL)."""
    match = _DATA_URL.match(url.strip())
    if not match:
        return None
    mime = match.group(1)
    if not mime:
        raise _bad(f"{where}: a data URL needs a MIME type (data:<mime>;base64,...).", where)
    return {"inlineData": {"mimeType": mime, "data": match.group(3)}}


def media_part(url: str, where: str) -> dict:
    """An image or file reference: a data URL inline, anything else by its File API uri."""
    if not isinstance(url, str) or not url.strip():
        raise _bad(f"{where} must be a non-empty URL string.", where)
    return data_url_part(url, where) or {"fileData": {"fileUri": url.strip()}}


def user_part(part: Any, where: str) -> dict:
    """One OpenAI content part of a user (or system) message as a native Part."""
    part = _object(part, where)
    kind = part.get("type")
    if kind in ("text", "input_text"):
        if not isinstance(part.get("text"), str):
            raise _bad(f"{where}.text must be a string.", f"{where}.text")
        return {"text": part["text"]}
    if kind == "image_url":
        image = part.get("image_url")
        url = image.get("url") if isinstance(image, dict) else image
        return media_part(url, f"{where}.image_url.url")
    if kind == "input_audio":
        audio = _object(part.get("input_audio"), f"{where}.input_audio")
        fmt = str(audio.get("format") or "").lower()
        if fmt not in _AUDIO_FORMATS:
            raise _bad(f"{where}.input_audio.format must be one of {', '.join(_AUDIO_FORMATS)}; got {fmt!r}.",
                       f"{where}.input_audio.format")
        if not isinstance(audio.get("data"), str):
            raise _bad(f"{where}.input_audio.data must be base64 text.", f"{where}.input_audio.data")
        return {"inlineData": {"mimeType": _AUDIO_FORMATS[fmt], "data": audio["data"]}}
    if kind == "file":
        spec = _object(part.get("file"), f"{where}.file")
        if isinstance(spec.get("file_data"), str):
            return media_part(spec["file_data"], f"{where}.file.file_data")
        if isinstance(spec.get("file_id"), str):
            return {"fileData": {"fileUri": spec["file_id"]}}
        raise _bad(f"{where}.file needs file_data (a data URL) or file_id.", f"{where}.file")
    raise _bad(f"{where}.type {kind!r} is not supported; use text, image_url, input_audio or file.",
               f"{where}.type")


def user_parts(content: Any, where: str) -> list[dict]:
    if isinstance(content, str):
        return [{"text": content}]
    if isinstance(content, list) and content:
        return [user_part(part, f"{where}[{i}]") for i, part in enumerate(content)]
    raise _bad(f"Invalid value at '{where}': expected a string or a non-empty list of content parts.", where)


def parse_arguments(arguments: Any, where: str) -> dict:
    """Tool call `arguments` (a JSON object as text) as the native args object."""
    if isinstance(arguments, dict):
        return arguments
    if arguments in (None, ""):
        return {}
    if not isinstance(arguments, str):
        raise _bad(f"{where} must be a JSON object encoded as a string.", where)
    try:
        value = json.loads(arguments)
    except ValueError:
        raise _bad(f"{where} is not valid JSON: {arguments[:100]!r}.", where) from None
    if not isinstance(value, dict):
        raise _bad(f"{where} must encode a JSON object.", where)
    return value


def assistant_parts(message: dict, where: str, call_names: dict[str, str]) -> list[dict]:
    """An assistant message as model parts: its text, then a functionCall per tool call."""
    parts: list[dict] = []
    content = message.get("content")
    if content is not None:
        text = text_of(content, f"{where}.content")
        if text:
            parts.append({"text": text})
    calls = message.get("tool_calls") or []
    if not isinstance(calls, list):
        raise _bad(f"Invalid value at '{where}.tool_calls': expected a list.", f"{where}.tool_calls")
    for k, call in enumerate(calls):
        at = f"{where}.tool_calls[{k}]"
        call = _object(call, at)
        function = _object(call.get("function"), f"{at}.function")
        name = function.get("name")
        if not isinstance(name, str) or not name:
            raise _bad(f"{at}.function.name is required.", f"{at}.function.name")
        part: dict = {"functionCall": {"name": name,
                                       "args": parse_arguments(function.get("arguments"), f"{at}.function.arguments")}}
        signature = ((call.get("extra_content") or {}).get("google") or {}).get("thought_signature")
        if isinstance(signature, str) and signature:
            part["thoughtSignature"] = signature
        if isinstance(call.get("id"), str):
            call_names[call["id"]] = name
        parts.append(part)
    legacy = message.get("function_call")
    if legacy is not None:
        legacy = _object(legacy, f"{where}.function_call")
        name = legacy.get("name")
        if not isinstance(name, str) or not name:
            raise _bad(f"{where}.function_call.name is required.", f"{where}.function_call.name")
        parts.append({"functionCall": {"name": name, "args": parse_arguments(legacy.get("arguments"),
                                                                             f"{where}.function_call.arguments")}})
    if not parts:
        if content is not None:   # an empty answer still is a turn
            return [{"text": ""}]
        raise _bad(f"{where} (assistant) needs content or tool_calls.", where)
    return parts


def tool_result(content: Any, where: str) -> dict:
    """A tool message's content as a functionResponse.response object."""
    text = text_of(content if content is not None else "", f"{where}.content")
    try:
        value = json.loads(text)
    except ValueError:
        value = None
    return value if isinstance(value, dict) else {"result": text}


def messages_to_native(messages: Any) -> tuple[dict | None, list[dict]]:
    """(systemInstruction, contents) of a chat `messages` list.

    system and developer messages become the system instruction; user -> user, assistant -> model (its
    tool_calls as functionCall parts); consecutive tool (and legacy function) messages become one user
    turn of functionResponse parts, named after the tool call they answer.
    """
    if not isinstance(messages, list) or not messages:
        raise _bad("messages must be a non-empty list.", "messages")
    system: list[dict] = []
    contents: list[dict] = []
    call_names: dict[str, str] = {}
    answering = False   # the last content is a turn of function responses
    for i, message in enumerate(messages):
        where = f"messages[{i}]"
        message = _object(message, where)
        role = message.get("role")
        if role in ("system", "developer"):
            system.append({"text": text_of(message.get("content"), f"{where}.content")})
            continue
        if role == "user":
            contents.append({"role": "user", "parts": user_parts(message.get("content"), f"{where}.content")})
            answering = False
        elif role == "assistant":
            contents.append({"role": "model", "parts": assistant_parts(message, where, call_names)})
            answering = False
        elif role in ("tool", "function"):
            if role == "tool":
                call_id = message.get("tool_call_id")
                name = call_names.get(call_id) if isinstance(call_id, str) else None
                if name is None:
                    raise _bad(f"{where}.tool_call_id {call_id!r} does not match a tool call of an earlier "
                               f"assistant message.", f"{where}.tool_call_id")
            else:
                name = message.get("name")
                if not isinstance(name, str) or not name:
                    raise _bad(f"{where}.name is required for a function message.", f"{where}.name")
            part = {"functionResponse": {"name": name, "response": tool_result(message.get("content"), where)}}
            if answering:
                contents[-1]["parts"].append(part)
            else:
                contents.append({"role": "user", "parts": [part]})
                answering = True
        else:
            raise _bad(f"{where}.role {role!r} is not one of system, developer, user, assistant, tool.",
                       f"{where}.role")
    if not contents:
        raise _bad("messages needs at least one user message besides system messages.", "messages")
    return ({"parts": system} if system else None), contents


def tools_to_native(tools: Any, functions: Any) -> list[dict] | None:
    """OpenAI `tools` (or legacy `functions`) as one native Tool of functionDeclarations."""
    specs: list[tuple[str, Any]] = []
    if tools is not None:
        if not isinstance(tools, list):
            raise _bad("tools must be a list.", "tools")
        for i, tool in enumerate(tools):
            tool = _object(tool, f"tools[{i}]")
            if tool.get("type") != "function":
                raise _bad(f"tools[{i}].type must be 'function', not {tool.get('type')!r}.", f"tools[{i}].type")
            specs.append((f"tools[{i}].function", tool.get("function")))
    if functions is not None:
        if not isinstance(functions, list):
            raise _bad("functions must be a list.", "functions")
        specs.extend((f"functions[{i}]", fn) for i, fn in enumerate(functions))
    if not specs:
        return None
    declarations = []
    for where, spec in specs:
        spec = _object(spec, where)
        name = spec.get("name")
        if not isinstance(name, str) or not name:
            raise _bad(f"{where}.name is required.", f"{where}.name")
        declaration: dict = {"name": name}
        if spec.get("description"):
            declaration["description"] = str(spec["description"])
        if spec.get("parameters") is not None:
            declaration["parametersJsonSchema"] = _object(spec["parameters"], f"{where}.parameters")
        declarations.append(declaration)
    return [{"functionDeclarations": declarations}]


def tool_choice_to_native(choice: Any, legacy: Any = None) -> dict | None:
    """`tool_choice` (or legacy `function_call`) as a native toolConfig."""
    where = "tool_choice"
    if choice is None and legacy is not None:
        choice, where = legacy, "function_call"
        if isinstance(choice, dict):
            choice = {"type": "function", "function": choice}
    if choice is None:
        return None
    modes = {"auto": "AUTO", "none": "NONE", "required": "ANY"}
    if isinstance(choice, str):
        if choice not in modes:
            raise _bad(f"{where} must be auto, none, required or a function, not {choice!r}.", where)
        return {"functionCallingConfig": {"mode": modes[choice]}}
    choice = _object(choice, where)
    name = (choice.get("function") or {}).get("name") if isinstance(choice.get("function"), dict) else None
    if choice.get("type") != "function" or not isinstance(name, str) or not name:
        raise _bad(f"{where} as an object must be {{\"type\": \"function\", \"function\": {{\"name\": ...}}}}.",
                   where)
    return {"functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": [name]}}


def response_format_to_native(fmt: Any) -> dict:
    """`response_format` as generationConfig fields."""
    if fmt is None:
        return {}
    fmt = _object(fmt, "response_format")
    kind = fmt.get("type")
    if kind == "text":
        return {}
    if kind == "json_object":
        return {"responseMimeType": "application/json"}
    if kind == "json_schema":
        spec = _object(fmt.get("json_schema"), "response_format.json_schema")
        config = {"responseMimeType": "application/json"}
        if spec.get("schema") is not None:
            config["responseJsonSchema"] = _object(spec["schema"], "response_format.json_schema.schema")
        return config
    raise _bad(f"response_format.type must be text, json_object or json_schema, not {kind!r}.",
               "response_format.type")


def google_extras(body: dict) -> dict:
    """The Gemini extras: `extra_body.google` (as the docs' double nesting sends it) or top-level `google`."""
    extras: dict = {}
    outer = body.get("extra_body")
    if outer is not None:
        outer = _object(outer, "extra_body")
        for key in outer:
            if key != "google":
                raise _unknown_field(key, "extra_body")
        if outer.get("google") is not None:
            extras.update(_object(outer["google"], "extra_body.google"))
    if body.get("google") is not None:
        extras.update(_object(body["google"], "google"))
    read = {}
    for key, value in extras.items():
        if key not in GOOGLE_EXTRAS:
            raise _unknown_field(key, "extra_body.google")
        if value is not None:
            read[GOOGLE_EXTRAS[key]] = value
    return read


def generation_config(body: dict, thinking: Any) -> dict:
    """The generationConfig of a chat request (only the fields it sets)."""
    config: dict = {}
    if body.get("n") is not None:
        config["candidateCount"] = _integer(body["n"], "n", 1)
    limit = body.get("max_completion_tokens", body.get("max_tokens"))
    if limit is not None:
        config["maxOutputTokens"] = _integer(limit, "max_completion_tokens" if "max_completion_tokens" in body
                                             else "max_tokens", 1)
    stop = body.get("stop")
    if stop is not None:
        stops = [stop] if isinstance(stop, str) else stop
        if not isinstance(stops, list) or not all(isinstance(s, str) for s in stops):
            raise _bad("stop must be a string or a list of strings.", "stop")
        if stops:
            config["stopSequences"] = stops
    for name, native in (("temperature", "temperature"), ("top_p", "topP"), ("presence_penalty", "presencePenalty"),
                         ("frequency_penalty", "frequencyPenalty")):
        if body.get(name) is not None:
            config[native] = _number(body[name], name)
    if body.get("seed") is not None:
        config["seed"] = _integer(body["seed"], "seed")
    if body.get("logprobs"):
        config["responseLogprobs"] = True
        if body.get("top_logprobs") is not None:
            config["logprobs"] = _integer(body["top_logprobs"], "top_logprobs", 0)
    config.update(response_format_to_native(body.get("response_format")))
    if thinking is not None:
        config["thinkingConfig"] = thinking
    return config


def thinking_config(body: dict, extras: dict) -> Any:
    """thinkingConfig from `reasoning_effort` or `extra_body.google.thinking_config` (not both)."""
    effort = body.get("reasoning_effort")
    given = extras.pop("thinkingConfig", None)
    if effort is None:
        return given
    if given is not None:
        raise _bad("reasoning_effort and extra_body.google.thinking_config cannot both be set: they overlap.",
                   "reasoning_effort")
    if effort not in EFFORT_BUDGETS:
        raise _bad(f"reasoning_effort must be one of {', '.join(EFFORT_BUDGETS)}, not {effort!r}.",
                   "reasoning_effort")
    return {"thinkingBudget": EFFORT_BUDGETS[effort]}


def chat_to_native(body: Any) -> ChatRequest:
    """A chat completion request as a native GenerateContentRequest (plus the streaming options)."""
    body = _object(body, "body")
    for key in body:
        if key not in CHAT_FIELDS and key not in CHAT_IGNORED:
            raise _unknown_field(key)
    model = body.get("model")
    if not isinstance(model, str) or not model.strip():
        raise _bad("model is required (for example \"gemini-2.5-flash\").", "model")
    modalities = body.get("modalities")
    if modalities is not None and (not isinstance(modalities, list) or any(m != "text" for m in modalities)):
        raise _bad("Only the text modality is supported in chat completions (modalities: [\"text\"]).",
                   "modalities")
    system, contents = messages_to_native(body.get("messages"))
    extras = google_extras(body)
    thinking = thinking_config(body, extras)
    request: dict = {"contents": contents}
    if system is not None:
        request["systemInstruction"] = system
    tools = tools_to_native(body.get("tools"), body.get("functions"))
    if tools is not None:
        request["tools"] = tools
    tool_config = tool_choice_to_native(body.get("tool_choice"), body.get("function_call"))
    if tool_config is not None:
        request["toolConfig"] = tool_config
    config = generation_config(body, thinking)
    if config:
        request["generationConfig"] = config
    request.update(extras)
    stream = body.get("stream")
    if stream is not None and not isinstance(stream, bool):
        raise _bad("stream must be true or false.", "stream")
    options = body.get("stream_options")
    include_usage = bool(_object(options, "stream_options").get("include_usage")) if options is not None else False
    return ChatRequest(model=model.strip(), request=request, stream=bool(stream), include_usage=include_usage)


# -- chat response: native -> OpenAI (pure) ---------------------------------------------------------

def call_id(response_id: str, candidate: int, number: int) -> str:
    digest = hashlib.blake2b(f"{response_id}|{candidate}|{number}".encode(), digest_size=12).hexdigest()
    return f"call_{digest}"


def tool_call(part: dict, response_id: str, candidate: int, number: int) -> dict:
    """A functionCall part as an OpenAI tool call (its thought signature kept as Gemini's extra content)."""
    call = part["functionCall"]
    item: dict = {
        "id": call.get("id") or call_id(response_id, candidate, number),
        "type": "function",
        "function": {"name": call.get("name", ""),
                     "arguments": json.dumps(call.get("args") or {}, ensure_ascii=False, separators=(",", ":"))},
    }
    if part.get("thoughtSignature"):
        item["extra_content"] = {"google": {"thought_signature": part["thoughtSignature"]}}
    return item


class Answer:
    """The text of one candidate as the layer writes it: thought summaries (when asked for) inside
    `<thought>...</thought>`, then the answer. Fed part by part, so streaming and whole answers agree."""

    def __init__(self) -> None:
        self.in_thought = False
        self.calls = 0

    def text(self, parts: Iterable[dict]) -> str:
        out = []
        for part in parts:
            text = part.get("text")
            if not isinstance(text, str):
                continue
            if part.get("thought"):
                if not self.in_thought:
                    out.append("<thought>")
                    self.in_thought = True
                out.append(text)
            else:
                out.append(self.close() + text)
        return "".join(out)

    def close(self) -> str:
        if self.in_thought:
            self.in_thought = False
            return "</thought>"
        return ""

    def tool_calls(self, parts: Iterable[dict], response_id: str, candidate: int) -> list[dict]:
        calls = []
        for part in parts:
            if isinstance(part.get("functionCall"), dict):
                calls.append(tool_call(part, response_id, candidate, self.calls))
                self.calls += 1
        return calls


def finish_reason(native: str | None, called: bool) -> str:
    if called and native in (None, "STOP"):
        return "tool_calls"
    return FINISH_REASONS.get(native or "STOP", "stop")


def usage_of(metadata: dict | None) -> dict:
    """usageMetadata as OpenAI usage (thinking is part of the completion, as reasoning tokens)."""
    metadata = metadata or {}
    prompt = int(metadata.get("promptTokenCount") or 0) + int(metadata.get("toolUsePromptTokenCount") or 0)
    thoughts = int(metadata.get("thoughtsTokenCount") or 0)
    completion = int(metadata.get("candidatesTokenCount") or 0) + thoughts
    usage: dict = {"prompt_tokens": prompt, "completion_tokens": completion,
                   "total_tokens": int(metadata.get("totalTokenCount") or prompt + completion)}
    if thoughts:
        usage["completion_tokens_details"] = {"reasoning_tokens": thoughts}
    if metadata.get("cachedContentTokenCount"):
        usage["prompt_tokens_details"] = {"cached_tokens": int(metadata["cachedContentTokenCount"])}
    return usage


def chat_completion(response: dict, *, model: str, created: int) -> dict:
    """A GenerateContentResponse as a `chat.completion`."""
    response_id = response.get("responseId") or ""
    choices = []
    for position, candidate in enumerate(response.get("candidates") or []):
        index = candidate.get("index", position)
        parts = (candidate.get("content") or {}).get("parts") or []
        answer = Answer()
        text = answer.text(parts) + answer.close()
        calls = answer.tool_calls(parts, response_id, index)
        message: dict = {"role": "assistant", "content": text if (text or not calls) else None}
        if calls:
            message["tool_calls"] = calls
        choices.append({"index": index, "message": message,
                        "finish_reason": finish_reason(candidate.get("finishReason"), bool(calls)),
                        "logprobs": None})
    return {"id": response_id, "object": "chat.completion", "created": created, "model": model,
            "choices": choices, "usage": usage_of(response.get("usageMetadata"))}


def chat_chunks(chunks: list[dict], *, model: str, created: int, include_usage: bool) -> list[dict]:
    """Native stream chunks as `chat.completion.chunk`s (a last usage-only chunk when asked for)."""
    response_id = next((c.get("responseId") for c in chunks if c.get("responseId")), "")
    answers: dict[int, Answer] = {}
    called: dict[int, bool] = {}
    out = []
    for chunk in chunks:
        choices = []
        for position, candidate in enumerate(chunk.get("candidates") or []):
            index = candidate.get("index", position)
            delta: dict = {}
            if index not in answers:
                answers[index] = Answer()
                delta["role"] = "assistant"
            answer = answers[index]
            parts = (candidate.get("content") or {}).get("parts") or []
            text = answer.text(parts)
            finished = candidate.get("finishReason")
            if finished:
                text += answer.close()
            if text:
                delta["content"] = text
            calls = answer.tool_calls(parts, response_id, index)
            if calls:
                first = answer.calls - len(calls)
                delta["tool_calls"] = [{"index": first + k, **call} for k, call in enumerate(calls)]
                called[index] = True
            choices.append({"index": index, "delta": delta,
                            "finish_reason": finish_reason(finished, called.get(index, False)) if finished else None,
                            "logprobs": None})
        event = {"id": response_id, "object": "chat.completion.chunk", "created": created, "model": model,
                 "choices": choices}
        if include_usage:
            event["usage"] = None
        out.append(event)
    if include_usage:
        last = chunks[-1].get("usageMetadata") if chunks else None
        out.append({"id": response_id, "object": "chat.completion.chunk", "created": created, "model": model,
                    "choices": [], "usage": usage_of(last)})
    return out


def sse_events(events: Iterable[dict]) -> Iterator[bytes]:
    """OpenAI's SSE framing: `data: <json>` per event, then `data: [DONE]`."""
    for event in events:
        yield b"data: " + dumps(event) + b"\n\n"
    yield b"data: [DONE]\n\n"


# -- embeddings (pure) ------------------------------------------------------------------------------

def embedding_inputs(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        if len(value) > MAX_EMBEDDING_INPUTS:
            raise _bad(f"input can hold at most {MAX_EMBEDDING_INPUTS} texts, got {len(value)}.", "input")
        return value
    if isinstance(value, list) and value and all(isinstance(v, (int, list)) for v in value):
        raise _bad("input as token arrays is not supported; send text.", "input")
    raise _bad("input must be a string or a non-empty list of strings.", "input")


def embedding_requests(body: dict, model_name: str) -> tuple[list[dict], str]:
    """(native EmbedContentRequests, one per input, and the encoding format) of an embeddings request."""
    for key in body:
        if key not in ("model", "input", "dimensions", "encoding_format", "user", "extra_body"):
            raise _unknown_field(key)
    texts = embedding_inputs(body.get("input"))
    encoding = body.get("encoding_format") or "float"
    if encoding not in ("float", "base64"):
        raise _bad(f"encoding_format must be float or base64, not {encoding!r}.", "encoding_format")
    requests = []
    for text in texts:
        item: dict = {"model": model_name, "content": {"parts": [{"text": text}]}}
        if body.get("dimensions") is not None:
            item["outputDimensionality"] = _integer(body["dimensions"], "dimensions", 1)
        requests.append(item)
    return requests, encoding


def encode_vector(values: list[float], encoding: str) -> list[float] | str:
    if encoding == "base64":
        return base64.b64encode(struct.pack(f"<{len(values)}f", *values)).decode("ascii")
    return values


def embedding_response(vectors: list[list[float]], texts: list[str], model: str, encoding: str) -> dict:
    tokens = sum(count_text(text) for text in texts)
    data = [{"object": "embedding", "index": i, "embedding": encode_vector(values, encoding)}
            for i, values in enumerate(vectors)]
    return {"object": "list", "data": data, "model": model,
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens}}


# -- models, files and batches as OpenAI objects (pure) ---------------------------------------------

def model_object(model: dict) -> dict:
    return {"id": model["name"], "object": "model", "owned_by": "google"}


def _epoch(value: str | None) -> int | None:
    return int(parse_time(value, "time")) if value else None


def file_object(file: dict, purpose: str) -> dict:
    status = {"ACTIVE": "processed", "FAILED": "error"}.get(file.get("state"), "uploaded")
    body = {"id": file["name"], "object": "file", "bytes": int(file.get("sizeBytes") or 0),
            "created_at": _epoch(file.get("createTime")),
            "filename": file.get("displayName") or file["name"].split("/", 1)[-1],
            "purpose": purpose, "status": status, "expires_at": _epoch(file.get("expirationTime"))}
    if file.get("error"):
        body["status_details"] = file["error"].get("message")
    return body


def _count(stats: dict, key: str) -> int:
    return int(stats.get(key) or 0)


def batch_object(record: OpenAIBatch, operation: dict) -> dict:
    """The OpenAI Batch of a native batch Operation and what the layer recorded about it."""
    meta = operation.get("metadata") or {}
    state = meta.get("state")
    status = BATCH_STATUS.get(state, "validating")
    stats = meta.get("batchStats") or {}
    created = int(record.created)
    end = _epoch(meta.get("endTime"))
    body: dict = {
        "id": record.name, "object": "batch", "endpoint": record.endpoint, "model": record.model,
        "errors": None, "input_file_id": record.input_file_id, "completion_window": record.completion_window,
        "status": status, "output_file_id": record.output_file_id, "error_file_id": record.error_file_id,
        "created_at": created, "in_progress_at": None, "expires_at": created + BATCH_WINDOW_SECONDS,
        "finalizing_at": None, "completed_at": None, "failed_at": None, "expired_at": None,
        "cancelling_at": None, "cancelled_at": None,
        "request_counts": {"total": _count(stats, "requestCount"),
                           "completed": _count(stats, "successfulRequestCount"),
                           "failed": _count(stats, "failedRequestCount")},
        "metadata": record.metadata,
    }
    if status == "in_progress":
        body["in_progress_at"] = _epoch(meta.get("updateTime"))
    if status == "completed":
        body["finalizing_at"] = body["completed_at"] = end
    elif status == "failed":
        body["failed_at"] = end
        error = operation.get("error") or {}
        body["errors"] = {"object": "list", "data": [{"code": "invalid_input_file",
                                                      "message": error.get("message", "The batch failed."),
                                                      "param": "input_file_id", "line": None}]}
    elif status == "expired":
        body["expired_at"] = end
    elif status == "cancelled":
        body["cancelling_at"] = body["cancelled_at"] = end
    return body


def batch_line_to_native(line: Any, number: int, endpoint: str) -> tuple[str, dict, str]:
    """(custom_id, native batch line, the model as named) of one line of an OpenAI batch input file."""
    where = f"line {number}"
    if not isinstance(line, dict):
        raise _bad(f"{where} of the batch input file is not a JSON object.", "input_file_id")
    custom_id = line.get("custom_id")
    if not isinstance(custom_id, str) or not custom_id:
        raise _bad(f"{where}: custom_id is required (a string).", "input_file_id")
    method = line.get("method", "POST")
    if method != "POST":
        raise _bad(f"{where}: method must be POST, not {method!r}.", "input_file_id")
    if line.get("url") != endpoint:
        raise _bad(f"{where}: url must be the batch endpoint {endpoint!r}, not {line.get('url')!r}.",
                   "input_file_id")
    try:
        chat = chat_to_native(line.get("body"))
    except ApiError as error:
        raise _bad(f"{where} ({custom_id}): {error.message}", "input_file_id") from None
    request = dict(chat.request)
    request["model"] = _native_model_name(chat.model)
    return custom_id, {"key": custom_id, "request": request}, chat.model


_RPC_NAMES = {number: name for name, number in RPC_CODES.items()}


def _http_of(status: dict) -> tuple[int, str]:
    """(HTTP status, status name) of a google.rpc.Status, whose code is the google.rpc.Code number."""
    name = _RPC_NAMES.get(int(status.get("code") or 2), "UNKNOWN")
    return STATUS_CODES.get(name, 500), name


def batch_result_line(native: dict, model: str, created: int, number: int, batch_id: str) -> tuple[bool, dict]:
    """(succeeded, OpenAI batch output line) of one native result line."""
    custom_id = native.get("key", "")
    line_id = "batch_req_" + hashlib.blake2b(f"{batch_id}|{number}".encode(), digest_size=12).hexdigest()
    if "response" in native:
        body = chat_completion(native["response"], model=model, created=created)
        return True, {"id": line_id, "custom_id": custom_id,
                      "response": {"status_code": 200, "request_id": body["id"], "body": body}, "error": None}
    status = native.get("error") or {}
    http, name = _http_of(status)
    error = {"code": http, "message": status.get("message", ""), "status": name}
    if status.get("details"):
        error["details"] = status["details"]
    return False, {"id": line_id, "custom_id": custom_id,
                   "response": {"status_code": http, "request_id": "", "body": [{"error": error}]}, "error": None}


# -- handlers: shared -------------------------------------------------------------------------------

def _openai(handler):
    """Authenticate, run, and answer any ApiError in the layer's own error shape."""
    async def wrapped(ctx: Context) -> Response:
        try:
            ctx.identity
            return await handler(ctx)
        except ApiError as error:
            return error_response(error)
    wrapped.__name__ = handler.__name__
    wrapped.__doc__ = handler.__doc__
    return wrapped


async def _body(ctx: Context) -> dict:
    data = parse_json(await ctx.body())
    if not isinstance(data, dict):
        raise _bad("Invalid JSON payload received. The request body must be a JSON object.")
    return data


def _generation_model(ctx: Context, name: str, request: dict) -> tuple[dict, dict | None]:
    """(model, override) for a generation: a catalog model, or one of the caller's tuned models."""
    if name.startswith("tunedModels/"):
        tuned = ctx.store.backends.get("tuned_models")
        if tuned is None:
            raise not_found(f"{name} is not found.")
        from .tuned_models import last_user_text
        record = tuned.usable(ctx.identity, name)
        return tuned.as_model(record), tuned.override_for(record, last_user_text(request))
    return ctx.store.models.get(name, "generateContent", ctx.version), None


def _created(ctx: Context) -> int:
    return int(ctx.store.now())


# -- handlers: chat, embeddings, models -------------------------------------------------------------

async def chat_completions(ctx: Context) -> Response:
    chat = chat_to_native(await _body(ctx))
    request = normalize(ctx.version, "GenerateContentRequest", chat.request)
    model, override = _generation_model(ctx, chat.model, request)
    if chat.stream:
        chunks = inference.stream(ctx.store, ctx.identity, model, request, override=override)
        events = chat_chunks(chunks, model=chat.model, created=_created(ctx), include_usage=chat.include_usage)
        return StreamingResponse(sse_events(events), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache"})
    response = inference.generate(ctx.store, ctx.identity, model, request, override=override)
    return json_response(chat_completion(response, model=chat.model, created=_created(ctx)))


async def embeddings(ctx: Context) -> Response:
    body = await _body(ctx)
    name = body.get("model")
    if not isinstance(name, str) or not name.strip():
        raise _bad("model is required (for example \"gemini-embedding-001\").", "model")
    model = ctx.store.models.get(name.strip(), "embedContent", ctx.version)
    requests, encoding = embedding_requests(body, model["name"])
    vectors = [inference.embed(ctx.store, ctx.identity, model, request)["embedding"]["values"]
               for request in requests]
    texts = [request["content"]["parts"][0]["text"] for request in requests]
    return json_response(embedding_response(vectors, texts, name.strip(), encoding))


def _listed(ctx: Context, model: dict) -> bool:
    return not ctx.store.models.is_legacy(model)


async def list_models(ctx: Context) -> Response:
    data = [model_object(m) for m in ctx.store.models.all() if _listed(ctx, m)]
    return json_response({"object": "list", "data": data})


async def get_model(ctx: Context) -> Response:
    name = ctx.params["id"]
    model = ctx.store.models.find(name)
    if model is None or not _listed(ctx, model):
        shown = name if name.startswith("models/") else f"models/{name}"
        raise ApiError(404, "NOT_FOUND", f"Model {shown} is not found.")
    return json_response(model_object(model))


# -- handlers: files --------------------------------------------------------------------------------

def _disposition(headers: dict[str, str]) -> tuple[str | None, str | None]:
    """(name, filename) of a multipart part's Content-Disposition."""
    value = headers.get("content-disposition", "")
    found = dict(re.findall(r';\s*([\w*]+)="?([^";]*)"?', value))
    return found.get("name"), found.get("filename")


def _unlink(path: Path) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def _upload_mime(declared: str | None, filename: str | None) -> str | None:
    if filename and filename.lower().endswith(".jsonl"):
        return "application/jsonl"
    if declared and declared.split(";", 1)[0].strip().lower() not in ("application/octet-stream", ""):
        return declared
    return None


async def _receive_form(ctx: Context) -> tuple[dict[str, str], dict | None]:
    """Read a multipart/form-data upload: its text fields, and its `file` part received to disk
    (`{"path", "size", "sha256", "filename", "mime"}`), without holding the file in memory."""
    content_type = ctx.request.headers.get("content-type", "")
    match = re.search(r'boundary="?([^";]+)"?', content_type)
    if not content_type.lower().startswith("multipart/form-data") or not match:
        raise _bad("files.create takes multipart/form-data with the fields purpose and file.", "file")
    boundary = match.group(1).encode("latin-1")
    files = ctx.store.files
    parts = native_files.MultipartReader(ctx.request.stream())
    limit = native_files.MultipartReader.HEADER_LIMIT
    delimiter = b"\r\n--" + boundary
    fields: dict[str, str] = {}
    upload: dict | None = None
    try:
        await parts.until(b"--" + boundary, limit)
        while True:
            tail = await parts.until(b"\r\n", limit)
            if tail.startswith(b"--"):
                break
            headers = native_files.part_headers(await parts.until(b"\r\n\r\n", limit))
            name, filename = _disposition(headers)
            if filename is None:
                fields[name or ""] = (await parts.until(delimiter, FIELD_LIMIT)).decode("utf-8", "replace")
                continue
            if name != "file" or upload is not None:
                raise _bad("files.create takes exactly one file, in the field named file.", "file")
            path = files.new_part(ctx.identity)
            upload = {"path": path, "filename": filename, "mime": headers.get("content-type")}
            hasher = hashlib.sha256()
            with native_files.Receiver(path, hasher, 0, declared=None,
                                       limits=files.limits(ctx.project)) as receiver:
                async for piece in parts.pieces_until(delimiter):
                    receiver.write(piece)
            upload.update(size=receiver.received, sha256=hasher.hexdigest())
    except (ApiError, ClientDisconnect):
        if upload is not None:
            _unlink(upload["path"])
        raise
    return fields, upload


async def create_file(ctx: Context) -> Response:
    fields, upload = await _receive_form(ctx)
    try:
        purpose = fields.get("purpose")
        if not purpose:
            raise _bad("purpose is required (for a batch input file: purpose=batch).", "purpose")
        if upload is None:
            raise _bad("file is required.", "file")
        metadata = {"displayName": upload["filename"]} if upload["filename"] else {}
        file = await run_in_threadpool(
            ctx.store.files.store_bytes, ctx.identity, metadata, upload["path"], size=upload["size"],
            sha256_hex=upload["sha256"], mime_type=_upload_mime(upload["mime"], upload["filename"]),
            base_url=native_files.base_url(ctx))
    except BaseException:
        if upload is not None:
            _unlink(upload["path"])
        raise
    ctx.store.openai.set_purpose(ctx.project, file["name"], purpose)
    return json_response(file_object(file, purpose))


def _file_name(raw: str) -> str:
    return raw if raw.startswith("files/") else f"files/{raw}"


async def list_files(ctx: Context) -> Response:
    project, layer = ctx.project, ctx.store.openai
    items = [file_object(f, layer.purpose_of(project, f)) for f in ctx.store.files.list_files(ctx.identity)]
    purpose = ctx.query("purpose")
    if purpose:
        items = [item for item in items if item["purpose"] == purpose]
    if ctx.query("order") == "asc":
        items.reverse()
    return json_response(_page(ctx, items))


def _page(ctx: Context, items: list[dict]) -> dict:
    """A cursor page (`after` an id, at most `limit`) in OpenAI's list shape."""
    raw_limit = ctx.query("limit")
    try:
        limit = int(raw_limit) if raw_limit else LIST_LIMIT_DEFAULT
    except ValueError:
        raise _bad(f"limit must be an integer, not {raw_limit!r}.", "limit") from None
    limit = max(1, min(limit, LIST_LIMIT_MAX))
    after = ctx.query("after")
    if after:
        ids = [item["id"] for item in items]
        if after not in ids:
            raise _bad(f"after names {after!r}, which is not in this list.", "after")
        items = items[ids.index(after) + 1:]
    page = items[:limit]
    return {"object": "list", "data": page, "first_id": page[0]["id"] if page else None,
            "last_id": page[-1]["id"] if page else None, "has_more": len(items) > limit}


async def get_file(ctx: Context) -> Response:
    file = ctx.store.files.get_file(ctx.identity, _file_name(ctx.params["id"]), native_files.base_url(ctx))
    return json_response(file_object(file, ctx.store.openai.purpose_of(ctx.project, file)))


async def delete_file(ctx: Context) -> Response:
    name = _file_name(ctx.params["id"])
    ctx.store.files.delete_file(ctx.identity, name)
    ctx.store.openai.forget_file(ctx.project, name)
    return json_response({"id": name, "object": "file", "deleted": True})


async def file_content(ctx: Context) -> Response:
    """The bytes of a file, under the native API's rule for which files can be downloaded."""
    record = ctx.store.files.downloadable(ctx.identity, _file_name(ctx.params["id"]), "file_id")
    return native_files.bytes_response(record)


# -- handlers: batches ------------------------------------------------------------------------------

def _convert_input(ctx: Context, source: Path, endpoint: str) -> tuple[Path, dict[str, str], str]:
    """Write the native JSONL of an OpenAI batch input file to a temporary file:
    (its path, the model of each custom_id, the first line's model)."""
    target = ctx.store.files.new_part(ctx.identity)
    lines: dict[str, str] = {}
    first_model = None
    try:
        with open(source, "rb") as handle, open(target, "wb") as out:
            for number, raw in enumerate(handle, 1):
                if not raw.strip():
                    continue
                try:
                    data = json.loads(raw)
                except ValueError:
                    raise _bad(f"line {number} of the batch input file is not JSON.", "input_file_id") from None
                custom_id, native, model = batch_line_to_native(data, number, endpoint)
                if custom_id in lines:
                    raise _bad(f"line {number}: custom_id {custom_id!r} is used twice; custom_id values must be "
                               f"unique in a batch.", "input_file_id")
                lines[custom_id] = model
                first_model = first_model or model
                out.write(json.dumps(native, ensure_ascii=False, separators=(",", ":")).encode() + b"\n")
    except BaseException:
        _unlink(target)
        raise
    if not lines:
        _unlink(target)
        raise _bad("The batch input file has no requests.", "input_file_id")
    return target, lines, first_model


def _create_batch(ctx: Context, body: dict) -> dict:
    for key in body:
        if key not in ("input_file_id", "endpoint", "completion_window", "metadata", "extra_body"):
            raise _unknown_field(key)
    endpoint = body.get("endpoint")
    if endpoint != CHAT_ENDPOINT:
        raise _bad(f"endpoint must be {CHAT_ENDPOINT!r}, not {endpoint!r}.", "endpoint")
    window = body.get("completion_window", BATCH_WINDOW)
    if window != BATCH_WINDOW:
        raise _bad(f"completion_window must be {BATCH_WINDOW!r}, not {window!r}.", "completion_window")
    metadata = body.get("metadata")
    if metadata is not None:
        metadata = _object(metadata, "metadata")
    input_file_id = body.get("input_file_id")
    if not isinstance(input_file_id, str) or not input_file_id:
        raise _bad("input_file_id is required.", "input_file_id")
    files, project = ctx.store.files, ctx.project
    input_file = files.get_file(ctx.identity, _file_name(input_file_id))
    converted, lines, model = _convert_input(ctx, files.path_of(ctx.identity, input_file["name"]), endpoint)
    try:
        native_input = files.create_generated(project, f"{input_file['name'].split('/', 1)[1]}-gemini-requests",
                                              "application/jsonl", source_path=converted,
                                              base_url=native_files.base_url(ctx))
    finally:
        _unlink(converted)
    display = (metadata or {}).get("description") or f"openai batch of {input_file['name']}"
    operation = ctx.store.batches.create(
        ctx.identity, _native_model_name(model),
        {"batch": {"displayName": str(display)[:512], "inputConfig": {"fileName": native_input["name"]}}},
        kind="generate", version=ctx.version)
    record = ctx.store.openai.add_batch(OpenAIBatch(
        name=operation["name"], project=project, input_file_id=input_file["name"],
        native_input=native_input["name"], endpoint=endpoint, completion_window=window, metadata=metadata,
        model=model, created=ctx.store.now(), seq=0, models=lines))
    return batch_object(record, operation)


async def create_batch(ctx: Context) -> Response:
    body = await _body(ctx)
    return json_response(await run_in_threadpool(_create_batch, ctx, body))


def _publish_results(ctx: Context, record: OpenAIBatch, operation: dict) -> None:
    """Once the native batch has results, write them as OpenAI output and error files (once)."""
    responses = ((operation.get("metadata") or {}).get("output") or {}).get("responsesFile")
    if record.converted or not responses or not operation.get("done"):
        return
    files = ctx.store.files
    created = _epoch((operation.get("metadata") or {}).get("endTime")) or int(record.created)
    ok_path, error_path = files.new_part(ctx.identity), files.new_part(ctx.identity)
    ok_count = error_count = 0
    try:
        with open(files.path_of(ctx.identity, responses), "rb") as source, \
                open(ok_path, "wb") as ok_out, open(error_path, "wb") as error_out:
            for number, raw in enumerate(source, 1):
                if not raw.strip():
                    continue
                native = json.loads(raw)
                model = record.models.get(native.get("key"), record.model)
                succeeded, line = batch_result_line(native, model, created, number, record.name)
                (ok_out if succeeded else error_out).write(
                    json.dumps(line, ensure_ascii=False, separators=(",", ":")).encode() + b"\n")
                ok_count += succeeded
                error_count += not succeeded
        stem = record.name.split("/", 1)[1]
        base = native_files.base_url(ctx)
        if ok_count:
            output = files.create_generated(ctx.project, f"{stem}-output.jsonl", "application/jsonl",
                                            source_path=ok_path, base_url=base)
            record.output_file_id = output["name"]
            ctx.store.openai.set_purpose(ctx.project, output["name"], "batch_output")
        if error_count:
            errors = files.create_generated(ctx.project, f"{stem}-errors.jsonl", "application/jsonl",
                                            source_path=error_path, base_url=base)
            record.error_file_id = errors["name"]
            ctx.store.openai.set_purpose(ctx.project, errors["name"], "batch_output")
        record.converted = True
    finally:
        _unlink(ok_path)
        _unlink(error_path)


def _batch_now(ctx: Context, record: OpenAIBatch) -> dict:
    try:
        operation = ctx.store.batches.get(ctx.identity, record.name)
    except ApiError as error:
        if error.code in (403, 404):   # deleted through the native API meanwhile
            ctx.store.openai.drop_batch(record)
            raise not_found(f"Batch {record.name} was not found.") from None
        raise
    with ctx.store.openai.lock:
        _publish_results(ctx, record, operation)
    return batch_object(record, operation)


async def get_batch(ctx: Context) -> Response:
    record = ctx.store.openai.batch(ctx.project, ctx.params["id"])
    return json_response(await run_in_threadpool(_batch_now, ctx, record))


async def cancel_batch(ctx: Context) -> Response:
    await ctx.body()
    record = ctx.store.openai.batch(ctx.project, ctx.params["id"])
    ctx.store.batches.cancel(ctx.identity, record.name)
    return json_response(await run_in_threadpool(_batch_now, ctx, record))


def _list_batches(ctx: Context) -> list[dict]:
    items = []
    for record in ctx.store.openai.batches(ctx.project):
        try:
            items.append(_batch_now(ctx, record))
        except ApiError as error:
            if error.code != 404:
                raise
    return items


async def list_batches(ctx: Context) -> Response:
    return json_response(_page(ctx, await run_in_threadpool(_list_batches, ctx)))


async def unknown_path(ctx: Context) -> Response:
    raise ApiError(404, "NOT_FOUND", f"The requested URL /{ctx.version}/openai/{ctx.params['rest']} was not "
                                     f"found on this server (method {ctx.request.method}).")


def _route(method: str, template: str, handler) -> Any:
    return route(method, "openai/" + template, _openai(handler), auth=False)


ROUTES = [
    _route("POST", "chat/completions", chat_completions),
    _route("POST", "embeddings", embeddings),
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
