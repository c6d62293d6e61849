"""Chat completions: a native GenerateContentResponse (or its stream chunks) as OpenAI objects (pure)."""
from __future__ import annotations

import hashlib
import json
from typing import Any, Iterable, Iterator


from ...http import dumps

FINISH_REASONS = {"STOP": "stop", "MAX_TOKENS": "length", "SAFETY": "content_filter",
                  "RECITATION": "content_filter", "BLOCKLIST": "content_filter",
                  "PROHIBITED_CONTENT": "content_filter", "SPII": "content_filter",
                  "IMAGE_SAFETY": "content_filter"}


# -- chat response: native -> OpenAI (pure) ---------------------------------------------------------


def call_id(response_id: str, candidate: int, number: int) -> str:
    digest = hashlib.blake2b(f"{response_id}|{candidate}|{number}".encode(), digest_size=12).hexdigest()
    return f"call_{digest}"


def tool_call(part: dict[str, Any], response_id: str, candidate: int, number: int) -> dict[str, Any]:
    """A functionCall part as an OpenAI tool call (its thought signature kept as Gemini's extra content)."""
    call = part["functionCall"]
    item: dict[str, Any] = {
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

    def text(self, parts: Iterable[dict[str, Any]]) -> str:
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

    def tool_calls(self, parts: Iterable[dict[str, Any]], response_id: str, candidate: int) -> list[dict[str, Any]]:
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


def usage_of(metadata: dict[str, Any] | None) -> dict[str, Any]:
    """usageMetadata as OpenAI usage (thinking is part of the completion, as reasoning tokens)."""
    metadata = metadata or {}
    prompt = int(metadata.get("promptTokenCount") or 0) + int(metadata.get("toolUsePromptTokenCount") or 0)
    thoughts = int(metadata.get("thoughtsTokenCount") or 0)
    completion = int(metadata.get("candidatesTokenCount") or 0) + thoughts
    usage: dict[str, Any] = {"prompt_tokens": prompt, "completion_tokens": completion,
                             "total_tokens": int(metadata.get("totalTokenCount") or prompt + completion)}
    if thoughts:
        usage["completion_tokens_details"] = {"reasoning_tokens": thoughts}
    if metadata.get("cachedContentTokenCount"):
        usage["prompt_tokens_details"] = {"cached_tokens": int(metadata["cachedContentTokenCount"])}
    return usage


def chat_completion(response: dict[str, Any], *, model: str, created: int) -> dict[str, Any]:
    """A GenerateContentResponse as a `chat.completion`."""
    response_id = response.get("responseId") or ""
    choices = []
    for position, candidate in enumerate(response.get("candidates") or []):
        index = candidate.get("index", position)
        parts = (candidate.get("content") or {}).get("parts") or []
        answer = Answer()
        text = answer.text(parts) + answer.close()
        calls = answer.tool_calls(parts, response_id, index)
        message: dict[str, Any] = {"role": "assistant", "content": text if (text or not calls) else None}
        if calls:
            message["tool_calls"] = calls
        choices.append({"index": index, "message": message,
                        "finish_reason": finish_reason(candidate.get("finishReason"), bool(calls)),
                        "logprobs": None})
    return {"id": response_id, "object": "chat.completion", "created": created, "model": model,
            "choices": choices, "usage": usage_of(response.get("usageMetadata"))}


def chat_chunks(chunks: list[dict[str, Any]], *, model: str, created: int, include_usage: bool) -> list[dict[str, Any]]:
    """Native stream chunks as `chat.completion.chunk`s (a last usage-only chunk when asked for)."""
    response_id = next((c["responseId"] for c in chunks if c.get("responseId")), "")
    answers: dict[int, Answer] = {}
    called: dict[int, bool] = {}
    out = []
    for chunk in chunks:
        choices = []
        for position, candidate in enumerate(chunk.get("candidates") or []):
            index = candidate.get("index", position)
            delta: dict[str, Any] = {}
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


def sse_events(events: Iterable[dict[str, Any]]) -> Iterator[bytes]:
    """OpenAI's SSE framing: `data: <json>` per event, then `data: [DONE]`."""
    for event in events:
        yield b"data: " + dumps(event) + b"\n\n"
    yield b"data: [DONE]\n\n"


# -- embeddings (pure) ------------------------------------------------------------------------------
