"""Chat completions: the OpenAI request read into a native GenerateContentRequest (pure), and the handler."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from starlette.responses import Response, StreamingResponse

from ... import inference
from ...errors import invalid_argument
from ...http import Context, json_response
from ...schema import normalize
from .answers import chat_chunks, chat_completion, sse_events
from .errors import expect_integer, expect_number, expect_object, json_body, unknown_field

# -- constants --------------------------------------------------------------------------------------

CHAT_ENDPOINT = "/v1/chat/completions"


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


_DATA_URL = re.compile(r"^data:([^;,]+)?((?:;[^;,]*)*?);base64,(.*)$", re.DOTALL)
_AUDIO_FORMATS = {"wav": "audio/wav", "mp3": "audio/mp3", "flac": "audio/flac", "aac": "audio/aac",
                  "ogg": "audio/ogg", "aiff": "audio/aiff", "pcm16": "audio/pcm"}


# -- chat request: OpenAI -> native (pure) ----------------------------------------------------------


@dataclass
class ChatRequest:
    """A chat completion request read into its native form."""
    model: str                 # as the client named it
    request: dict[str, Any]    # GenerateContentRequest (camelCase, not yet normalised)
    stream: bool = False
    include_usage: bool = False


def text_of(content: Any, where: str) -> str:
    """The text of a message content that must be text: a string or a list of text parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        texts = []
        for i, part in enumerate(content):
            part = expect_object(part, f"{where}[{i}]")
            text = part.get("text", part.get("refusal"))
            if part.get("type") not in ("text", "input_text", "refusal") or not isinstance(text, str):
                raise invalid_argument(f"{where}[{i}] must be a text part ({{\"type\": \"text\", \"text\": \"...\"}}).",
                                       f"{where}[{i}]")
            texts.append(text)
        return "".join(texts)
    raise invalid_argument(f"Invalid value at '{where}': expected a string or a list of text parts.", where)


def data_url_part(url: str, where: str) -> dict[str, Any] | None:
    """`data:<mime>;base64,<data>` as an inlineData part (None for any other URL)."""
    match = _DATA_URL.match(url.strip())
    if not match:
        return None
    mime = match.group(1)
    if not mime:
        raise invalid_argument(f"{where}: a data URL needs a MIME type (data:<mime>;base64,...).", where)
    return {"inlineData": {"mimeType": mime, "data": match.group(3)}}


def media_part(url: object, where: str) -> dict[str, Any]:
    """An image or file reference: a data URL inline, anything else by its File API uri."""
    if not isinstance(url, str) or not url.strip():
        raise invalid_argument(f"{where} must be a non-empty URL string.", where)
    return data_url_part(url, where) or {"fileData": {"fileUri": url.strip()}}


def user_part(part: Any, where: str) -> dict[str, Any]:
    """One OpenAI content part of a user (or system) message as a native Part."""
    part = expect_object(part, where)
    kind = part.get("type")
    if kind in ("text", "input_text"):
        if not isinstance(part.get("text"), str):
            raise invalid_argument(f"{where}.text must be a string.", f"{where}.text")
        return {"text": part["text"]}
    if kind == "image_url":
        image = part.get("image_url")
        url = image.get("url") if isinstance(image, dict) else image
        return media_part(url, f"{where}.image_url.url")
    if kind == "input_audio":
        audio = expect_object(part.get("input_audio"), f"{where}.input_audio")
        fmt = str(audio.get("format") or "").lower()
        if fmt not in _AUDIO_FORMATS:
            raise invalid_argument(f"{where}.input_audio.format must be one of {', '.join(_AUDIO_FORMATS)}; "
                                   f"got {fmt!r}.", f"{where}.input_audio.format")
        if not isinstance(audio.get("data"), str):
            raise invalid_argument(f"{where}.input_audio.data must be base64 text.", f"{where}.input_audio.data")
        return {"inlineData": {"mimeType": _AUDIO_FORMATS[fmt], "data": audio["data"]}}
    if kind == "file":
        spec = expect_object(part.get("file"), f"{where}.file")
        if isinstance(spec.get("file_data"), str):
            return media_part(spec["file_data"], f"{where}.file.file_data")
        if isinstance(spec.get("file_id"), str):
            return {"fileData": {"fileUri": spec["file_id"]}}
        raise invalid_argument(f"{where}.file needs file_data (a data URL) or file_id.", f"{where}.file")
    raise invalid_argument(f"{where}.type {kind!r} is not supported; use text, image_url, input_audio or file.",
                           f"{where}.type")


def user_parts(content: Any, where: str) -> list[dict[str, Any]]:
    if isinstance(content, str):
        return [{"text": content}]
    if isinstance(content, list) and content:
        return [user_part(part, f"{where}[{i}]") for i, part in enumerate(content)]
    raise invalid_argument(f"Invalid value at '{where}': expected a string or a non-empty list of content parts.",
                           where)


def parse_arguments(arguments: Any, where: str) -> dict[str, Any]:
    """Tool call `arguments` (a JSON object as text) as the native args object."""
    if isinstance(arguments, dict):
        return arguments
    if arguments in (None, ""):
        return {}
    if not isinstance(arguments, str):
        raise invalid_argument(f"{where} must be a JSON object encoded as a string.", where)
    try:
        value = json.loads(arguments)
    except ValueError:
        raise invalid_argument(f"{where} is not valid JSON: {arguments[:100]!r}.", where) from None
    if not isinstance(value, dict):
        raise invalid_argument(f"{where} must encode a JSON object.", where)
    return value


def assistant_parts(message: dict[str, Any], where: str, call_names: dict[str, str]) -> list[dict[str, Any]]:
    """An assistant message as model parts: its text, then a functionCall per tool call."""
    parts: list[dict[str, Any]] = []
    content = message.get("content")
    if content is not None:
        text = text_of(content, f"{where}.content")
        if text:
            parts.append({"text": text})
    calls = message.get("tool_calls") or []
    if not isinstance(calls, list):
        raise invalid_argument(f"Invalid value at '{where}.tool_calls': expected a list.", f"{where}.tool_calls")
    for k, call in enumerate(calls):
        at = f"{where}.tool_calls[{k}]"
        call = expect_object(call, at)
        function = expect_object(call.get("function"), f"{at}.function")
        name = function.get("name")
        if not isinstance(name, str) or not name:
            raise invalid_argument(f"{at}.function.name is required.", f"{at}.function.name")
        args = parse_arguments(function.get("arguments"), f"{at}.function.arguments")
        part: dict[str, Any] = {"functionCall": {"name": name, "args": args}}
        signature = ((call.get("extra_content") or {}).get("google") or {}).get("thought_signature")
        if isinstance(signature, str) and signature:
            part["thoughtSignature"] = signature
        if isinstance(call.get("id"), str):
            call_names[call["id"]] = name
        parts.append(part)
    legacy = message.get("function_call")
    if legacy is not None:
        legacy = expect_object(legacy, f"{where}.function_call")
        name = legacy.get("name")
        if not isinstance(name, str) or not name:
            raise invalid_argument(f"{where}.function_call.name is required.", f"{where}.function_call.name")
        parts.append({"functionCall": {"name": name, "args": parse_arguments(legacy.get("arguments"),
                                                                             f"{where}.function_call.arguments")}})
    if not parts:
        if content is not None:   # an empty answer still is a turn
            return [{"text": ""}]
        raise invalid_argument(f"{where} (assistant) needs content or tool_calls.", where)
    return parts


def tool_result(content: Any, where: str) -> dict[str, Any]:
    """A tool message's content as a functionResponse.response object."""
    text = text_of(content if content is not None else "", f"{where}.content")
    try:
        value = json.loads(text)
    except ValueError:
        value = None
    return value if isinstance(value, dict) else {"result": text}


def messages_to_native(messages: Any) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """(systemInstruction, contents) of a chat `messages` list.

    system and developer messages become the system instruction; user -> user, assistant -> model (its
    tool_calls as functionCall parts); consecutive tool (and legacy function) messages become one user
    turn of functionResponse parts, named after the tool call they answer.
    """
    if not isinstance(messages, list) or not messages:
        raise invalid_argument("messages must be a non-empty list.", "messages")
    system: list[dict[str, Any]] = []
    contents: list[dict[str, Any]] = []
    call_names: dict[str, str] = {}
    answering = False   # the last content is a turn of function responses
    for i, message in enumerate(messages):
        where = f"messages[{i}]"
        message = expect_object(message, where)
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
                    raise invalid_argument(f"{where}.tool_call_id {call_id!r} does not match a tool call of an earlier "
                                           f"assistant message.", f"{where}.tool_call_id")
            else:
                name = message.get("name")
                if not isinstance(name, str) or not name:
                    raise invalid_argument(f"{where}.name is required for a function message.", f"{where}.name")
            part = {"functionResponse": {"name": name, "response": tool_result(message.get("content"), where)}}
            if answering:
                contents[-1]["parts"].append(part)
            else:
                contents.append({"role": "user", "parts": [part]})
                answering = True
        else:
            raise invalid_argument(f"{where}.role {role!r} is not one of system, developer, user, assistant, tool.",
                                   f"{where}.role")
    if not contents:
        raise invalid_argument("messages needs at least one user message besides system messages.", "messages")
    return ({"parts": system} if system else None), contents


def tools_to_native(tools: Any, functions: Any) -> list[dict[str, Any]] | None:
    """OpenAI `tools` (or legacy `functions`) as one native Tool of functionDeclarations."""
    specs: list[tuple[str, Any]] = []
    if tools is not None:
        if not isinstance(tools, list):
            raise invalid_argument("tools must be a list.", "tools")
        for i, tool in enumerate(tools):
            tool = expect_object(tool, f"tools[{i}]")
            if tool.get("type") != "function":
                raise invalid_argument(f"tools[{i}].type must be 'function', not {tool.get('type')!r}.",
                                       f"tools[{i}].type")
            specs.append((f"tools[{i}].function", tool.get("function")))
    if functions is not None:
        if not isinstance(functions, list):
            raise invalid_argument("functions must be a list.", "functions")
        specs.extend((f"functions[{i}]", fn) for i, fn in enumerate(functions))
    if not specs:
        return None
    declarations = []
    for where, spec in specs:
        spec = expect_object(spec, where)
        name = spec.get("name")
        if not isinstance(name, str) or not name:
            raise invalid_argument(f"{where}.name is required.", f"{where}.name")
        declaration: dict[str, Any] = {"name": name}
        if spec.get("description"):
            declaration["description"] = str(spec["description"])
        if spec.get("parameters") is not None:
            declaration["parametersJsonSchema"] = expect_object(spec["parameters"], f"{where}.parameters")
        declarations.append(declaration)
    return [{"functionDeclarations": declarations}]


def tool_choice_to_native(choice: Any, legacy: Any = None) -> dict[str, Any] | None:
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
            raise invalid_argument(f"{where} must be auto, none, required or a function, not {choice!r}.", where)
        return {"functionCallingConfig": {"mode": modes[choice]}}
    choice = expect_object(choice, where)
    name = (choice.get("function") or {}).get("name") if isinstance(choice.get("function"), dict) else None
    if choice.get("type") != "function" or not isinstance(name, str) or not name:
        raise invalid_argument(
            f"{where} as an object must be {{\"type\": \"function\", \"function\": {{\"name\": ...}}}}.", where)
    return {"functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": [name]}}


def response_format_to_native(fmt: Any) -> dict[str, Any]:
    """`response_format` as generationConfig fields."""
    if fmt is None:
        return {}
    fmt = expect_object(fmt, "response_format")
    kind = fmt.get("type")
    if kind == "text":
        return {}
    if kind == "json_object":
        return {"responseMimeType": "application/json"}
    if kind == "json_schema":
        spec = expect_object(fmt.get("json_schema"), "response_format.json_schema")
        config: dict[str, Any] = {"responseMimeType": "application/json"}
        if spec.get("schema") is not None:
            config["responseJsonSchema"] = expect_object(spec["schema"], "response_format.json_schema.schema")
        return config
    raise invalid_argument(f"response_format.type must be text, json_object or json_schema, not {kind!r}.",
                           "response_format.type")


def google_extras(body: dict[str, Any]) -> dict[str, Any]:
    """The Gemini extras: `extra_body.google` (as the docs' double nesting sends it) or top-level `google`."""
    extras: dict[str, Any] = {}
    outer = body.get("extra_body")
    if outer is not None:
        outer = expect_object(outer, "extra_body")
        for key in outer:
            if key != "google":
                raise unknown_field(key, "extra_body")
        if outer.get("google") is not None:
            extras.update(expect_object(outer["google"], "extra_body.google"))
    if body.get("google") is not None:
        extras.update(expect_object(body["google"], "google"))
    read = {}
    for key, value in extras.items():
        if key not in GOOGLE_EXTRAS:
            raise unknown_field(key, "extra_body.google")
        if value is not None:
            read[GOOGLE_EXTRAS[key]] = value
    return read


def generation_config(body: dict[str, Any], thinking: Any) -> dict[str, Any]:
    """The generationConfig of a chat request (only the fields it sets)."""
    config: dict[str, Any] = {}
    if body.get("n") is not None:
        config["candidateCount"] = expect_integer(body["n"], "n", 1)
    limit = body.get("max_completion_tokens", body.get("max_tokens"))
    if limit is not None:
        config["maxOutputTokens"] = expect_integer(limit, "max_completion_tokens" if "max_completion_tokens" in body
                                                   else "max_tokens", 1)
    stop = body.get("stop")
    if stop is not None:
        stops = [stop] if isinstance(stop, str) else stop
        if not isinstance(stops, list) or not all(isinstance(s, str) for s in stops):
            raise invalid_argument("stop must be a string or a list of strings.", "stop")
        if stops:
            config["stopSequences"] = stops
    for name, native in (("temperature", "temperature"), ("top_p", "topP"), ("presence_penalty", "presencePenalty"),
                         ("frequency_penalty", "frequencyPenalty")):
        if body.get(name) is not None:
            config[native] = expect_number(body[name], name)
    if body.get("seed") is not None:
        config["seed"] = expect_integer(body["seed"], "seed")
    if body.get("logprobs"):
        config["responseLogprobs"] = True
        if body.get("top_logprobs") is not None:
            config["logprobs"] = expect_integer(body["top_logprobs"], "top_logprobs", 0)
    config.update(response_format_to_native(body.get("response_format")))
    if thinking is not None:
        config["thinkingConfig"] = thinking
    return config


def thinking_config(body: dict[str, Any], extras: dict[str, Any]) -> Any:
    """thinkingConfig from `reasoning_effort` or `extra_body.google.thinking_config` (not both)."""
    effort = body.get("reasoning_effort")
    given = extras.pop("thinkingConfig", None)
    if effort is None:
        return given
    if given is not None:
        raise invalid_argument("reasoning_effort and extra_body.google.thinking_config cannot both be set: "
                               "they overlap.", "reasoning_effort")
    if effort not in EFFORT_BUDGETS:
        raise invalid_argument(f"reasoning_effort must be one of {', '.join(EFFORT_BUDGETS)}, not {effort!r}.",
                               "reasoning_effort")
    return {"thinkingBudget": EFFORT_BUDGETS[effort]}


def chat_to_native(body: Any) -> ChatRequest:
    """A chat completion request as a native GenerateContentRequest (plus the streaming options)."""
    body = expect_object(body, "body")
    for key in body:
        if key not in CHAT_FIELDS and key not in CHAT_IGNORED:
            raise unknown_field(key)
    model = body.get("model")
    if not isinstance(model, str) or not model.strip():
        raise invalid_argument("model is required (for example \"gemini-2.5-flash\").", "model")
    modalities = body.get("modalities")
    if modalities is not None and (not isinstance(modalities, list) or any(m != "text" for m in modalities)):
        raise invalid_argument("Only the text modality is supported in chat completions (modalities: [\"text\"]).",
                               "modalities")
    system, contents = messages_to_native(body.get("messages"))
    extras = google_extras(body)
    thinking = thinking_config(body, extras)
    request: dict[str, Any] = {"contents": contents}
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
        raise invalid_argument("stream must be true or false.", "stream")
    options = body.get("stream_options")
    include_usage = options is not None and bool(expect_object(options, "stream_options").get("include_usage"))
    return ChatRequest(model=model.strip(), request=request, stream=bool(stream), include_usage=include_usage)


def _generation_model(ctx: Context, name: str, request: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """(model, override) for a generation: a catalog model, or one of the caller's tuned models."""
    if name.startswith("tunedModels/"):
        tuned = ctx.store.tuned_models
        record = tuned.usable(ctx.identity, name)
        return tuned.as_model(record), tuned.override_for(record, inference.last_user_text(request))
    return ctx.store.models.get(name, "generateContent", ctx.version), None


def _created(ctx: Context) -> int:
    return int(ctx.store.now())


# -- handlers: chat, embeddings, models -------------------------------------------------------------


async def chat_completions(ctx: Context) -> Response:
    chat = chat_to_native(await json_body(ctx))
    request = normalize(ctx.version, "GenerateContentRequest", chat.request)
    model, override = _generation_model(ctx, chat.model, request)
    if chat.stream:
        chunks = inference.stream(ctx.store, ctx.identity, model, request, override=override)
        events = chat_chunks(chunks, model=chat.model, created=_created(ctx), include_usage=chat.include_usage)
        return StreamingResponse(sse_events(events), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache"})
    response = inference.generate(ctx.store, ctx.identity, model, request, override=override)
    return json_response(chat_completion(response, model=chat.model, created=_created(ctx)))
