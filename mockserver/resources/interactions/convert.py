"""Interactions wire format <-> the generateContent request and response the one engine speaks.

The shapes are google-genai 3.6.1's (`google/genai/_gaos/types/interactions/`: Interaction, the `Step` union,
`Content`, `GenerationConfig`, `Tool`, `ResponseFormat`, `Usage`) and the Interactions pages of
ai.google.dev (the "steps" schema of the May 2026 revision; read 2026-12). Request fields arrive in
snake_case (both SDKs send them so); the engine takes camelCase generateContent fields.

An interaction's input becomes `contents` exactly as generateContent would get them, so the same prompt gives
the same text through either API (the engine's answer is a function of the canonical request).
"""
from __future__ import annotations

import base64
import hashlib
from typing import Any, Callable

from ...errors import ApiError, invalid_argument
from ...generation import transcription

# Content item type -> the mime type family its inline data or URI carries.
MEDIA_TYPES = ("image", "audio", "video", "document")
# Built-in tool type (Interactions) -> the generateContent Tool field.
BUILT_IN = {"google_search": "googleSearch", "code_execution": "codeExecution", "url_context": "urlContext",
            "google_maps": "googleMaps"}
TOOL_CHOICE = {"auto": "AUTO", "any": "ANY", "none": "NONE", "validated": "VALIDATED"}


def _field_error(message: str, field: str) -> ApiError:
    return invalid_argument(message, field)


# ---------------------------------------------------------------------------------------------------
# Request: input, system instruction, config, tools -> a GenerateContentRequest


def _part(item: Any, where: str) -> dict[str, Any]:
    """One Content item (`{"type": "text", "text"}`, `{"type": "image", "data"|"uri", "mime_type"}`) as a Part."""
    if not isinstance(item, dict):
        raise _field_error(f"{where} must be an object.", where)
    kind = item.get("type")
    if kind == "text":
        text = item.get("text")
        if not isinstance(text, str):
            raise _field_error(f"{where}.text must be a string.", f"{where}.text")
        return {"text": text}
    if kind in MEDIA_TYPES:
        mime = item.get("mime_type") or item.get("mimeType")
        if item.get("data") is not None:
            if not mime:
                raise _field_error(f"{where}.mime_type is required with data.", f"{where}.mime_type")
            return {"inlineData": {"mimeType": mime, "data": item["data"]}}
        if item.get("uri"):
            part: dict[str, Any] = {"fileData": {"fileUri": item["uri"]}}
            if mime:
                part["fileData"]["mimeType"] = mime
            return part
        raise _field_error(f"{where} needs data or uri.", where)
    raise _field_error(f"{where}.type {kind!r} is not a supported content type.", f"{where}.type")


def _parts(content: Any, where: str) -> list[dict[str, Any]]:
    if isinstance(content, str):
        return [{"text": content}]
    if isinstance(content, dict):
        return [_part(content, where)]
    if not isinstance(content, list):
        raise _field_error(f"{where} must be a string or a list of content.", where)
    return [_part(item, f"{where}[{i}]") for i, item in enumerate(content)]


def _append(contents: list[dict[str, Any]], role: str, parts: list[dict[str, Any]]) -> None:
    """Consecutive parts of one role make one turn, as generateContent has them."""
    if not parts:
        return
    if contents and contents[-1]["role"] == role:
        contents[-1]["parts"].extend(parts)
    else:
        contents.append({"role": role, "parts": list(parts)})


def _call_names(history: list[dict[str, Any]]) -> dict[str, str]:
    names = {}
    for turn in history:
        for part in turn.get("parts") or ():
            call = part.get("functionCall")
            if call and call.get("id"):
                names[call["id"]] = call.get("name", "")
    return names


def _function_response(step: dict[str, Any], where: str, names: dict[str, str]) -> dict[str, Any]:
    call_id = step.get("call_id")
    if not isinstance(call_id, str) or not call_id:
        raise _field_error(f"{where}.call_id is required.", f"{where}.call_id")
    name = step.get("name") or names.get(call_id)
    if not name:
        raise _field_error(f"{where}.call_id {call_id!r} answers no function call of this conversation; give "
                           f"its name.", f"{where}.call_id")
    result = step.get("result")
    response = result if isinstance(result, dict) else {"result": result}
    if step.get("is_error"):
        response = {"error": result}
    return {"functionResponse": {"id": call_id, "name": name, "response": response}}


def input_contents(value: Any, history: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The turns an interaction's `input` adds: a string, a list of Content, a list of steps, or a list of
    the older revision's turns (`{"role", "content"}`)."""
    if value is None or value == "" or value == []:
        raise _field_error("input is required.", "input")
    contents: list[dict[str, Any]] = []
    if isinstance(value, (str, dict)):
        value = [value] if isinstance(value, dict) else value
    if isinstance(value, str):
        _append(contents, "user", [{"text": value}])
        return contents
    if not isinstance(value, list):
        raise _field_error("input must be a string or a list.", "input")
    names = _call_names(history)
    for i, item in enumerate(value):
        where = f"input[{i}]"
        if not isinstance(item, dict):
            raise _field_error(f"{where} must be an object.", where)
        kind = item.get("type")
        if kind == "text" or kind in MEDIA_TYPES:
            _append(contents, "user", [_part(item, where)])
        elif kind == "user_input":
            _append(contents, "user", _parts(item.get("content") or [], f"{where}.content"))
        elif kind == "model_output":
            _append(contents, "model", _parts(item.get("content") or [], f"{where}.content"))
        elif kind == "thought":
            continue   # a thought replayed by the client: its signature rides on the next model part
        elif kind == "function_call":
            call: dict[str, Any] = {"id": item.get("id"), "name": item.get("name"), "args": item.get("arguments") or {}}
            if not call["name"]:
                raise _field_error(f"{where}.name is required.", f"{where}.name")
            names[str(call["id"])] = call["name"]
            _append(contents, "model", [{"functionCall": call}])
        elif kind == "function_result":
            _append(contents, "user", [_function_response(item, where, names)])
        elif kind is None and "role" in item:   # the older revision's Turn
            role = "model" if item.get("role") == "model" else "user"
            _append(contents, role, _parts(item.get("content") or [], f"{where}.content"))
        else:
            raise _field_error(f"{where}.type {kind!r} is not a supported input step.", f"{where}.type")
    if not contents:
        raise _field_error("input holds no content.", "input")
    return contents


def _function_tool(tool: dict[str, Any], where: str) -> dict[str, Any]:
    name = tool.get("name")
    if not isinstance(name, str) or not name:
        raise _field_error(f"{where}.name is required.", f"{where}.name")
    declaration: dict[str, Any] = {"name": name}
    if tool.get("description"):
        declaration["description"] = tool["description"]
    if tool.get("parameters") is not None:
        declaration["parametersJsonSchema"] = tool["parameters"]   # Interactions tools take JSON Schema
    return declaration


def tools_for(tools: Any, file_search: Callable[[dict[str, Any], str], dict[str, Any]]
              ) -> tuple[list[dict[str, Any]], list[str]]:
    """generateContent `tools` and the built-in tool types named. `file_search(tool, where)` answers a
    `file_search` tool (the File Search stores' `interaction_tool`)."""
    if tools is None:
        return [], []
    if not isinstance(tools, list):
        raise _field_error("tools must be a list.", "tools")
    declarations: list[dict[str, Any]] = []
    out: list[dict[str, Any]] = []
    kinds: list[str] = []
    for i, tool in enumerate(tools):
        where = f"tools[{i}]"
        kind = tool.get("type") if isinstance(tool, dict) else None
        if kind == "function":
            declarations.append(_function_tool(tool, where))
        elif kind in BUILT_IN:
            out.append({BUILT_IN[kind]: {}})
            kinds.append(kind)
        elif kind == "file_search":
            out.append(file_search(tool, where))
            kinds.append(kind)
        else:
            raise _field_error(f"{where}.type {kind!r} is not a tool this model takes.", f"{where}.type")
    if declarations:
        out.insert(0, {"functionDeclarations": declarations})
    return out, kinds


def _response_format(body: dict[str, Any], config: dict[str, Any]) -> None:
    """`response_format` ({"type": "text", "mime_type", "schema"}, or the older revision's bare JSON schema with
    `response_mime_type`) as responseMimeType / responseJsonSchema."""
    fmt = body.get("response_format")
    mime = body.get("response_mime_type")
    if isinstance(fmt, list):
        fmt = next((f for f in fmt if isinstance(f, dict) and f.get("type") == "text"), None)
    if fmt is None:
        if mime:
            config["responseMimeType"] = mime
        return
    if not isinstance(fmt, dict):
        raise _field_error("response_format must be an object.", "response_format")
    if fmt.get("type") == "text" and ("schema" in fmt or "mime_type" in fmt):
        mime = fmt.get("mime_type") or ("application/json" if fmt.get("schema") is not None else "text/plain")
        schema = fmt.get("schema")
    elif fmt.get("type") in MEDIA_TYPES:
        return   # image / audio output formats: presentation of media the text path does not make
    else:   # the older revision: the schema itself
        schema = fmt
        mime = mime or "application/json"
    config["responseMimeType"] = mime
    if schema is not None:
        config["responseJsonSchema"] = schema


def generation_config(body: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """generationConfig and toolConfig from `generation_config` and `response_format`."""
    given = body.get("generation_config") or {}
    if not isinstance(given, dict):
        raise _field_error("generation_config must be an object.", "generation_config")
    config: dict[str, Any] = {}
    for source, target in (("temperature", "temperature"), ("top_p", "topP"), ("seed", "seed"),
                           ("max_output_tokens", "maxOutputTokens"), ("stop_sequences", "stopSequences")):
        if given.get(source) is not None:
            config[target] = given[source]
    thinking: dict[str, Any] = {}
    if given.get("thinking_level"):
        thinking["thinkingLevel"] = str(given["thinking_level"]).upper()
    if given.get("thinking_summaries") == "auto":
        thinking["includeThoughts"] = True
    if thinking:
        config["thinkingConfig"] = thinking
    if given.get("transcription_config") is not None:   # speech-to-text models (generation/transcription.py)
        config["audioTranscriptionConfig"] = transcription.from_interactions(given["transcription_config"])
    _response_format(body, config)
    tool_config = None
    choice = given.get("tool_choice")
    if isinstance(choice, str):
        if choice not in TOOL_CHOICE:
            raise _field_error(f"generation_config.tool_choice {choice!r} is not one of "
                               f"{', '.join(TOOL_CHOICE)}.", "generation_config.tool_choice")
        tool_config = {"functionCallingConfig": {"mode": TOOL_CHOICE[choice]}}
    elif isinstance(choice, dict):
        allowed = choice.get("allowed_tools") or {}
        mode = TOOL_CHOICE.get(str(allowed.get("mode", "auto")), "AUTO")
        calling: dict[str, Any] = {"mode": mode}
        if allowed.get("tools"):
            calling["allowedFunctionNames"] = list(allowed["tools"])
        tool_config = {"functionCallingConfig": calling}
    return config, tool_config


# ---------------------------------------------------------------------------------------------------
# Response: a GenerateContentResponse -> steps and usage


def call_id(response_id: str, n: int) -> str:
    raw = hashlib.blake2b(f"{response_id}|call|{n}".encode(), digest_size=6).digest()
    return "".join("abcdefghijklmnopqrstuvwxyz0123456789"[b % 36] for b in raw)


def _citations(candidate: dict[str, Any], text: str) -> list[dict[str, Any]]:
    """url_citation annotations from the grounding supports of a searched answer."""
    grounding = candidate.get("groundingMetadata") or {}
    chunks = grounding.get("groundingChunks") or []
    encoded = text.encode("utf-8")
    out = []
    for support in grounding.get("groundingSupports") or ():
        segment = support.get("segment") or {}
        for index in support.get("groundingChunkIndices") or ():
            chunk = chunks[index] if index < len(chunks) else {}
            start, end = int(segment.get("startIndex", 0)), int(segment.get("endIndex", len(encoded)))
            retrieved = chunk.get("retrievedContext")
            if retrieved:   # File Search: FileCitation's indices are in bytes (google-genai's FileCitation)
                citation = {"type": "file_citation", "file_name": retrieved.get("title"),
                            "source": retrieved.get("fileSearchStore"), "start_index": start, "end_index": end}
                if retrieved.get("customMetadata"):
                    citation["custom_metadata"] = {m.get("key"): next(
                        (m[k] for k in ("stringValue", "numericValue", "stringListValue") if k in m), None)
                        for m in retrieved["customMetadata"]}
                out.append(citation)
                continue
            web = chunk.get("web") or {}
            if not web:
                continue
            out.append({"type": "url_citation", "url": web.get("uri"), "title": web.get("title"),
                        "start_index": len(encoded[:start].decode("utf-8", "ignore")),
                        "end_index": len(encoded[:end].decode("utf-8", "ignore"))})
    return out


def _tool_steps(candidate: dict[str, Any], response_id: str, counter: list[int]) -> list[dict[str, Any]]:
    """The server-side tool calls and results the engine's grounding metadata records."""
    steps: list[dict[str, Any]] = []
    grounding = candidate.get("groundingMetadata") or {}
    if grounding.get("webSearchQueries"):
        cid = call_id(response_id, 100 + counter[0])
        counter[0] += 1
        steps.append({"type": "google_search_call", "id": cid,
                      "arguments": {"queries": list(grounding["webSearchQueries"])}})
        rendered = (grounding.get("searchEntryPoint") or {}).get("renderedContent")
        steps.append({"type": "google_search_result", "call_id": cid,
                      "result": [{"search_suggestions": rendered}] if rendered else []})
    if any("retrievedContext" in chunk for chunk in grounding.get("groundingChunks") or ()):
        cid = call_id(response_id, 100 + counter[0])   # File Search: the steps carry ids only (FileSearchCallStep)
        counter[0] += 1
        steps += [{"type": "file_search_call", "id": cid}, {"type": "file_search_result", "call_id": cid}]
    urls = (candidate.get("urlContextMetadata") or {}).get("urlMetadata") or []
    if urls:
        cid = call_id(response_id, 100 + counter[0])
        counter[0] += 1
        steps.append({"type": "url_context_call", "id": cid,
                      "arguments": {"urls": [u.get("retrievedUrl") for u in urls]}})
        steps.append({"type": "url_context_result", "call_id": cid, "result": [
            {"url": u.get("retrievedUrl"),
             "status": "success" if u.get("urlRetrievalStatus") == "URL_RETRIEVAL_STATUS_SUCCESS" else "error"}
            for u in urls]})
    return steps


def output_steps(response: dict[str, Any]) -> list[dict[str, Any]]:
    """The steps of the model's answer: thought, server-side tool calls and results, function calls,
    model output, in the order the model produced them."""
    candidate = (response.get("candidates") or [{}])[0]
    parts = (candidate.get("content") or {}).get("parts") or []
    response_id = response.get("responseId") or ""
    counter = [0]
    steps: list[dict[str, Any]] = []
    summary = [{"type": "text", "text": p["text"]} for p in parts if p.get("thought") and "text" in p]
    signature = next((p["thoughtSignature"] for p in parts if p.get("thoughtSignature")
                      and not p.get("thought") and "toolCall" not in p and "toolResponse" not in p), None)
    if summary or signature:
        thought: dict[str, Any] = {"type": "thought"}
        if signature:
            thought["signature"] = signature
        if summary:
            thought["summary"] = summary
        steps.append(thought)
    steps.extend(_tool_steps(candidate, response_id, counter))
    code_id = None
    calls = 0
    for part in parts:
        if part.get("thought"):
            continue
        if "executableCode" in part:
            code_id = call_id(response_id, 200 + counter[0])
            counter[0] += 1
            code = part["executableCode"]
            steps.append({"type": "code_execution_call", "id": code_id,
                          "arguments": {"language": str(code.get("language", "PYTHON")).lower(),
                                        "code": code.get("code", "")}})
        elif "codeExecutionResult" in part:
            result = part["codeExecutionResult"]
            step = {"type": "code_execution_result", "call_id": code_id or call_id(response_id, 299),
                    "result": result.get("output", "")}
            if result.get("outcome") not in (None, "OUTCOME_OK"):
                step["is_error"] = True
            steps.append(step)
        elif "functionCall" in part:
            call = part["functionCall"]
            steps.append({"type": "function_call", "id": call.get("id") or call_id(response_id, calls),
                          "name": call["name"], "arguments": call.get("args") or {}})
            calls += 1
        elif "text" in part:
            item: dict[str, Any] = {"type": "text", "text": part["text"]}
            annotations = _citations(candidate, part["text"]) + transcription.word_infos(parts, part["text"])
            if annotations:
                item["annotations"] = annotations
            if steps and steps[-1]["type"] == "model_output":
                steps[-1]["content"].append(item)
            else:
                steps.append({"type": "model_output", "content": [item]})
        elif "inlineData" in part:
            data = part["inlineData"]
            mime = data.get("mimeType", "")
            kind = mime.split("/", 1)[0] if mime.split("/", 1)[0] in MEDIA_TYPES else "document"
            item = {"type": kind, "data": data.get("data"), "mime_type": mime}
            if steps and steps[-1]["type"] == "model_output":
                steps[-1]["content"].append(item)
            else:
                steps.append({"type": "model_output", "content": [item]})
    return steps


def model_contents(steps: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The model turn the steps make, for the next turn of the conversation (function calls keep their ids,
    the answer keeps its thought signature)."""
    parts: list[dict[str, Any]] = []
    signature = next((s.get("signature") for s in steps if s["type"] == "thought" and s.get("signature")), None)
    for step in steps:
        if step["type"] == "function_call":
            parts.append({"functionCall": {"id": step["id"], "name": step["name"], "args": step["arguments"]}})
        elif step["type"] == "model_output":
            parts.extend(_parts([c for c in step["content"] if c.get("type") == "text"] or "", "output"))
    if parts and signature:
        parts[0]["thoughtSignature"] = signature
    return [{"role": "model", "parts": parts}] if parts else []


def usage(metadata: dict[str, Any] | None) -> dict[str, Any]:
    """Interactions Usage from generateContent usageMetadata."""
    metadata = metadata or {}
    out: dict[str, Any] = {"total_input_tokens": int(metadata.get("promptTokenCount", 0)),
                           "total_output_tokens": int(metadata.get("candidatesTokenCount", 0)),
                           "total_tokens": int(metadata.get("totalTokenCount", 0))}
    for source, target in (("thoughtsTokenCount", "total_thought_tokens"),
                           ("cachedContentTokenCount", "total_cached_tokens"),
                           ("toolUsePromptTokenCount", "total_tool_use_tokens")):
        if metadata.get(source):
            out[target] = int(metadata[source])
    details = metadata.get("promptTokensDetails") or []
    if details:
        out["input_tokens_by_modality"] = [{"modality": str(d.get("modality", "TEXT")).lower(),
                                            "tokens": int(d.get("tokenCount", 0))} for d in details]
    return out


def text_signature(seed: int, label: str) -> str:
    """A deterministic opaque signature (thought steps the agents make)."""
    return base64.b64encode(hashlib.blake2b(f"{seed}|{label}".encode(), digest_size=48).digest()).decode()
