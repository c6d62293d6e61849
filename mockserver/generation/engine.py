"""The deterministic model: generateContent, its stream, countTokens and the embedding methods.

Everything here is a pure function of the server seed, the model and the canonical request (the request
and any explicit cache content as sorted, compact JSON, hashed with BLAKE2b). A local `random.Random`
seeded from that hash makes every choice; global random state is never touched. Settings that only cut
the output (maxOutputTokens, stopSequences), multiply it (candidateCount) or show more of it
(includeThoughts) stay out of the hash, so they act on the same underlying answer.

How an answer is chosen, per candidate:

1. an `override` (a scripted rule from the control plane) is returned as given;
2. with function declarations and mode ANY, or AUTO/VALIDATED when the prompt calls for it, one
   `functionCall` (or several, one per action the prompt asks for) with arguments valid against the
   declaration's schema, taking the values the prompt gives (function_calls.py). AUTO rule: no call when
   the last turn is a function response; otherwise call the declared function the latest user text points
   at (its name, or words of its name, description, parameters); otherwise answer in text. ANY always calls
   (the best match, else a seeded choice among the allowed);
3. JSON mode (`responseMimeType: application/json`): a JSON value valid against `responseSchema` or
   `responseJsonSchema` (some small object without a schema); `text/x.enum`: one enum value;
4. otherwise pseudo-text of 20-120 tokens whose first sentence mentions words of the prompt.

Thinking models think unless the budget is 0: `thoughtsTokenCount` is reported, a thought summary part
comes first when `includeThoughts` is set, and the first answer part carries a `thoughtSignature`.
As on the real 2.5 models, thoughts are paid from `maxOutputTokens` first; the answer gets what is left
(possibly nothing, with finishReason MAX_TOKENS). Output is cut before the first stop sequence (STOP), then
at `maxOutputTokens` (MAX_TOKENS).

Built-in tools (googleSearch, urlContext, codeExecution, googleMaps) then add their results to each
candidate: grounding metadata, code parts and tool-use prompt tokens (builtin_tools.py).
"""
from __future__ import annotations

import base64
import hashlib
import json
import random
from typing import Any, Callable

from ..errors import invalid_argument
from . import builtin_tools, function_calls, gemini3, media_output, omni, structured, transcription
from .budget import CHARS_PER_TOKEN
from .counting import (Counts, canonical_json, check_audio_limit, count_content, count_content_list, count_tools,
                       part_tokens)
from .embeddings import batch_embed_contents, embed_content
from .media import MediaInfo
from .streaming import stream_chunks
from .text import compose, compose_thoughts, keywords
from .tokens import count_text, truncate_text
from .validation import (SAFETY_CATEGORIES, USER_ROLES, Plan, check_contents, check_method, check_parts,
                         check_safety, model_name, model_version, plan_request)

ResolveFile = Callable[[str], MediaInfo]

__all__ = ["MediaInfo", "generate_content", "stream_chunks", "count_tokens", "embed_content",
           "batch_embed_contents"]

NATURAL_TOKENS = (20, 120)
THOUGHT_TOKENS = {  # thoughtsTokenCount range per thinking level; None = dynamic budget
    None: (50, 800), "MINIMAL": (8, 40), "LOW": (40, 200), "MEDIUM": (100, 500), "HIGH": (200, 1200),
    "XHIGH": (400, 2400),
}
THOUGHT_SUMMARY_MAX = 80

# ----------------------------------------------------------------------------------------------------
# Token counting shared by generateContent and countTokens


def _prompt_counts(request: dict[str, Any], cached: dict[str, Any] | None, resolve_file: ResolveFile | None,
                   model: dict[str, Any] | None = None) -> tuple[Counts, Counts]:
    """(tokens of the cached prefix, tokens of the whole prompt including that prefix)."""
    media_tokens = gemini3.media_tokens(model, request) if model else None
    cached_counts = Counts()
    if cached:
        if cached.get("systemInstruction"):
            count_content(cached["systemInstruction"], cached_counts, "cachedContent.systemInstruction", resolve_file,
                          media_tokens)
        count_content_list(cached.get("contents"), cached_counts, "cachedContent.contents", resolve_file, media_tokens)
        count_tools(cached.get("tools"), cached_counts)
    own = Counts()
    if request.get("systemInstruction"):
        count_content(request["systemInstruction"], own, "systemInstruction", resolve_file, media_tokens)
    count_content_list(request.get("contents"), own, "contents", resolve_file, media_tokens)
    count_tools(request.get("tools"), own)
    total = cached_counts.merged(own)
    check_audio_limit(total)
    return cached_counts, total


# ----------------------------------------------------------------------------------------------------
# generateContent


# Settings that only cut or multiply the output: left out of the hash, so a smaller maxOutputTokens or a stop
# sequence gives a prefix of the same answer, candidate i is the same whatever candidateCount, and asking to
# see the thoughts does not change the answer.
_PRESENTATION_ONLY = ("maxOutputTokens", "stopSequences", "candidateCount")


def _digest(seed: int, model: dict[str, Any], request: dict[str, Any], cached: dict[str, Any] | None) -> bytes:
    # The service tier says how a request is served, not what it asks: each tier gives the same answer.
    body = {key: value for key, value in request.items() if key not in ("cachedContent", "model", "serviceTier")}
    config = body.get("generationConfig")
    if isinstance(config, dict):
        config = {k: v for k, v in config.items() if k not in _PRESENTATION_ONLY}
        thinking = config.get("thinkingConfig")
        if isinstance(thinking, dict) and "includeThoughts" in thinking:
            config["thinkingConfig"] = {k: v for k, v in thinking.items() if k != "includeThoughts"}
        body["generationConfig"] = {k: v for k, v in config.items() if v not in (None, {})}
    # An empty or null field is the same request as an absent one (SDKs send `generationConfig: {}`).
    body = {k: v for k, v in body.items() if v not in (None, {}, [])}
    if "contents" in body:
        body["contents"] = _digest_media(body["contents"])
    if cached:
        body["~cached"] = {k: cached.get(k) for k in ("contents", "systemInstruction", "tools", "toolConfig")}
        body["~cached"]["contents"] = _digest_media(body["~cached"]["contents"])
    text = f"{seed}\x00{model_name(model)}\x00{canonical_json(body)}"
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=32).digest()


_BIG_DATA = 4096


def _digest_media(contents: Any) -> Any:
    """`contents` with big inline data replaced by its hash: hashing the bytes once is cheaper than escaping
    megabytes of base64 into the canonical JSON first. Returns `contents` itself when nothing is big."""
    if not isinstance(contents, list):
        return contents
    changed = False
    out = []
    for content in contents:
        parts = content.get("parts") if isinstance(content, dict) else None
        new_parts = []
        for part in parts if isinstance(parts, list) else ():
            inline = part.get("inlineData") if isinstance(part, dict) else None
            if isinstance(inline, dict):
                data = inline.get("data")
                if isinstance(data, str) and len(data) > _BIG_DATA:
                    digest = hashlib.blake2b(data.encode("ascii", "replace"), digest_size=16).hexdigest()
                    part = dict(part, inlineData=dict(inline, data=f"blake2b:{digest}"))
                    changed = True
            new_parts.append(part)
        out.append(dict(content, parts=new_parts) if isinstance(parts, list) else content)
    return out if changed else contents


def _latest_user_turn(contents: list[dict[str, Any]]) -> dict[str, Any] | None:
    content: dict[str, Any]
    for content in reversed(contents):
        if (content or {}).get("role") in (None, "", *USER_ROLES):
            return content
    return None


def _prompt_words(contents: list[Any]) -> tuple[str, list[str], bool]:
    """(text of the latest user turn, its keywords, whether that turn answers a function call)."""
    turn = _latest_user_turn(contents)
    if turn is None:
        return "", [], False
    texts: list[str] = []
    answered = False
    for part in turn.get("parts") or ():
        if isinstance(part.get("text"), str) and not part.get("thought"):
            texts.append(part["text"])
        response = part.get("functionResponse")
        if response is not None:
            answered = True
            texts.extend(_leaf_strings(response.get("response")))
    text = " ".join(texts)
    return text, keywords(text), answered


def _leaf_strings(value: Any, limit: int = 20) -> list[str]:
    found: list[str] = []
    stack = [value]
    while stack and len(found) < limit:
        item = stack.pop()
        if isinstance(item, str):
            found.append(item)
        elif isinstance(item, bool) or item is None:
            continue
        elif isinstance(item, (int, float)):
            found.append(str(item))
        elif isinstance(item, dict):
            stack.extend(reversed(list(item.values())))
        elif isinstance(item, list):
            stack.extend(reversed(item))
    return found


def _thought_tokens(plan: Plan, rng: random.Random) -> int:
    if not plan.thinks:
        return 0
    low, high = THOUGHT_TOKENS.get(plan.thinking_level, THOUGHT_TOKENS[None])
    tokens = rng.randint(low, high)
    if plan.thinking_budget is not None:
        tokens = min(tokens, plan.thinking_budget)
    return tokens


def _structured_text(plan: Plan, rng: random.Random, hints: list[str], cut_tokens: int | None) -> str:
    """The JSON answer. With `cut_tokens` (the answer's maxOutputTokens) only what can show before the cut
    is made, so a schema that asks for a huge value costs what the client sees (a prefix of the whole)."""
    if plan.mime == "text/x.enum":
        return str(rng.choice(plan.schema["enum"]))
    if plan.schema is not None and plan.dialect is not None:   # set together (validation.py)
        # The generator stops at `stop` characters by its own count, which is at least half the JSON it made
        # (budget.OutputMeter), while a cut of `cut_tokens` tokens keeps at most CHARS_PER_TOKEN characters
        # a token in the ordinary case; the check below covers the rest by making the whole value.
        stop = cut_tokens * CHARS_PER_TOKEN * 2 if cut_tokens is not None else None
        state = rng.getstate()
        value = structured.value_for_schema(plan.schema, rng, dialect=plan.dialect, hints=hints,
                                            budget=plan.output_chars or None, field=plan.schema_field,
                                            stop=stop, tally=plan.values_made)
        if stop is not None and cut_tokens is not None:
            text = json.dumps(value, ensure_ascii=False)
            if len(truncate_text(text, cut_tokens)) <= stop // 2:
                return text
            rng.setstate(state)
            value = structured.value_for_schema(plan.schema, rng, dialect=plan.dialect, hints=hints,
                                                budget=plan.output_chars or None, field=plan.schema_field,
                                                tally=plan.values_made)
    else:
        summary, _ = compose(rng, 12, hints[:2])
        value = {"topic": hints[0] if hints else "answer", "summary": summary}
    return json.dumps(value, ensure_ascii=False)


def _other_format(plan: Plan, text: str) -> str:
    if plan.mime == "application/xml":
        return f"<response>\n  <text>{text}</text>\n</response>"
    if plan.mime == "application/yaml":
        return "text: " + json.dumps(text, ensure_ascii=False)
    return text


def _cut(text: str, tokens: int, plan: Plan, budget: int | None) -> tuple[str, int, str]:
    """Apply stop sequences then the output budget: (text, tokens, finishReason)."""
    if plan.stop_sequences:
        cut = min((i for i in (text.find(s) for s in plan.stop_sequences) if i != -1), default=-1)
        if cut != -1:
            text = text[:cut]
            tokens = count_text(text)
    if budget is not None and tokens > budget:
        text = truncate_text(text, budget)
        return text, count_text(text), "MAX_TOKENS"
    return text, tokens, "STOP"


def _candidate(index: int, plan: Plan, digest: bytes, prompt: str, hints: list[str], answered: bool,
               safety: list[dict[str, Any]]) -> tuple[dict[str, Any], int, int]:
    """One candidate, its candidatesTokenCount and its thoughtsTokenCount."""
    rng = random.Random(int.from_bytes(digest[:8], "little") + index * 0x9E3779B97F4A7C15)
    thoughts = _thought_tokens(plan, rng)
    budget = plan.max_output_tokens
    if budget is not None and thoughts:
        thoughts = min(thoughts, budget)
        budget -= thoughts
    parts: list[dict[str, Any]] = []
    if thoughts and plan.include_thoughts:
        # Its own generator, so showing the thoughts leaves the answer unchanged.
        thought_rng = random.Random(int.from_bytes(digest[8:16], "little") + index)
        summary, _ = compose_thoughts(thought_rng, min(thoughts, THOUGHT_SUMMARY_MAX), hints)
        parts.append({"text": summary, "thought": True})

    calls = function_calls.choose_calls(plan, prompt, answered, rng)
    answers: list[dict[str, Any]] = []
    if calls:
        answers = [{"functionCall": {"name": decl["name"],
                                     "args": function_calls.call_args(plan, decl, rng, hints, text)}}
                   for decl, text in calls]
        tokens = sum(count_text(canonical_json(part["functionCall"])) for part in answers)
        if budget is not None and tokens > budget:
            answers, tokens, reason = [], 0, "MAX_TOKENS"
        else:
            reason = "STOP"
    else:
        if plan.schema is not None or plan.mime in ("application/json", "text/x.enum"):
            text = _structured_text(plan, rng, hints, budget)
            tokens = count_text(text)
        else:
            text, tokens = compose(rng, rng.randint(*NATURAL_TOKENS), hints)
            if plan.mime != "text/plain":
                text = _other_format(plan, text)
                tokens = count_text(text)
        text, tokens, reason = _cut(text, tokens, plan, budget)
        answers = [{"text": text}] if text else []
    if answers:
        # the first answer part carries the signature (of parallel calls, the first call: thought-signatures)
        if thoughts or (calls and plan.sign_calls):
            answers[0]["thoughtSignature"] = _signature(digest, index)
        parts.extend(answers)
    content: dict[str, Any] = {"role": "model"}
    if parts:
        content = {"parts": parts, "role": "model"}
    candidate = {"content": content, "finishReason": reason, "index": index, "safetyRatings": safety}
    return candidate, tokens, thoughts


def _signature(digest: bytes, index: int) -> str:
    raw = hashlib.blake2b(digest + b"signature" + bytes([index]), digest_size=64).digest()
    return base64.b64encode(raw).decode("ascii")


def _response_id(digest: bytes) -> str:
    return base64.urlsafe_b64encode(digest[8:25]).decode("ascii").rstrip("=")


def _safety_ratings(extra: list[str]) -> list[dict[str, Any]]:
    return [{"category": c, "probability": "NEGLIGIBLE"} for c in SAFETY_CATEGORIES + tuple(extra)]


def _usage(prompt: Counts, cached: Counts, cached_tokens: int, candidates_tokens: int, thoughts: int) -> dict[str, Any]:
    usage: dict[str, Any] = {"promptTokenCount": prompt.total}
    if candidates_tokens:
        usage["candidatesTokenCount"] = candidates_tokens
    usage["totalTokenCount"] = prompt.total + candidates_tokens + thoughts
    if cached_tokens:
        usage["cachedContentTokenCount"] = cached_tokens
    usage["promptTokensDetails"] = prompt.details()
    if cached_tokens:
        usage["cacheTokensDetails"] = cached.details() if cached.total else [
            {"modality": "TEXT", "tokenCount": cached_tokens}]
    if thoughts:
        usage["thoughtsTokenCount"] = thoughts
    return usage


def _override_part(override: dict[str, Any]) -> dict[str, Any]:
    if "functionCall" in override:
        call = override["functionCall"] or {}
        return {"functionCall": {"name": call.get("name", ""), "args": call.get("args") or {}}}
    if "json" in override:
        return {"text": json.dumps(override["json"], ensure_ascii=False)}
    return {"text": str(override.get("text", ""))}


def generate_content(model: dict[str, Any], request: dict[str, Any], *, seed: int, resolve_file: ResolveFile | None,
                     cached: dict[str, Any] | None = None, override: dict[str, Any] | None = None,
                     implicit_cached_tokens: int = 0, retrieve: builtin_tools.Retrieve | None = None,
                     streamed: bool = False) -> dict[str, Any]:
    """A GenerateContentResponse (camelCase JSON) for a normalised GenerateContentRequest.

    `cached`: an explicit cache's {"contents", "systemInstruction", "tools", "toolConfig"}, used as the
    prompt prefix. `override`: {"text"} | {"functionCall"} | {"json"} returned verbatim (finishReason
    STOP, consistent usage), with or without {"tools"}: what the built-in tools find (builtin_tools.py).
    `implicit_cached_tokens`: prefix tokens served from the implicit cache (usage
    only). `retrieve`: the File Search retrieval a `fileSearch` tool runs (builtin_tools.run_tools).
    `streamed`: the answer is for streamGenerateContent (speech comes as raw PCM there, media_output.py).
    Raises ApiError (400 naming the field) for invalid requests.
    """
    check_method(model, "generateContent")
    omni.refuse_generate_content(model)   # Gemini Omni answers through the Interactions API only
    plan = plan_request(model, request, cached)
    tool_source = cached if cached else request
    tool_plan = builtin_tools.plan_tools(model, tool_source.get("tools"), tool_source.get("toolConfig"),
                                         functions=bool(plan.declarations),
                                         json_output=plan.mime == "application/json" or plan.schema is not None)
    tool_script = (override or {}).get("tools")   # a rule's scripted tool results (builtin_tools.py)
    if tool_script is not None and override is not None:
        override = {key: value for key, value in override.items() if key != "tools"} or None
    extra_safety = check_safety(request.get("safetySettings"))
    cached_counts, prompt_counts = _prompt_counts(request, cached, resolve_file, model)
    input_limit = model.get("inputTokenLimit")
    if input_limit and prompt_counts.total > int(input_limit):
        raise invalid_argument(f"The input token count ({prompt_counts.total}) exceeds the maximum number of tokens "
                               f"allowed ({int(input_limit)}).", "contents")
    gemini3.check_unified_limit(model, prompt_counts.total, plan.max_output_tokens)
    digest = _digest(seed, model, request, cached)
    safety = _safety_ratings(extra_safety)
    contents = list((cached or {}).get("contents") or ()) + list(request.get("contents") or ())
    gemini3.check_signatures(model, contents)

    candidates = []
    candidates_tokens = thoughts_tokens = 0
    prompt, hints, answered = _prompt_words(contents)
    media_tokens: dict[str, int] = {}
    if override is None and transcription.transcribes(model):   # speech to text (transcription.py)
        chosen = transcription.options(request, prompt_counts.audio_seconds)
        for index in range(plan.candidate_count):
            candidate = transcription.candidate(chosen, digest, index, prompt_counts.audio_seconds, safety)
            candidates.append(candidate)
            candidates_tokens += sum(part_tokens(part) for part in candidate["content"]["parts"])
    elif override is None and media_output.wants_media(model, request):   # images, speech (media_output.py)
        media_output.check(model, request)
        for index in range(plan.candidate_count):
            candidate, by_modality = media_output.candidate(model, request, digest, index, prompt, hints, safety,
                                                            streamed=streamed)
            candidates.append(candidate)
            for modality, count in by_modality.items():
                media_tokens[modality] = media_tokens.get(modality, 0) + count
        candidates_tokens = sum(media_tokens.values())
    elif override is not None:
        for index in range(plan.candidate_count):
            part = _override_part(override)
            if "functionCall" in part and plan.sign_calls:   # Gemini 3 signs every function call
                part["thoughtSignature"] = _signature(digest, index)
            candidates_tokens += part_tokens(part)
            candidates.append({"content": {"parts": [part], "role": "model"}, "finishReason": "STOP",
                               "index": index, "safetyRatings": safety})
    else:
        for index in range(plan.candidate_count):
            candidate, tokens, thoughts = _candidate(index, plan, digest, prompt, hints, answered, safety)
            candidates.append(candidate)
            candidates_tokens += tokens
            thoughts_tokens += thoughts

    tool_use_tokens = 0
    if tool_plan:
        run = builtin_tools.run_tools(tool_plan, digest, prompt, hints, tool_script, retrieve)
        run.keep_text = override is not None
        for candidate in candidates:
            candidates_tokens += builtin_tools.apply(run, candidate, digest)
        tool_use_tokens = run.tool_use_tokens

    cached_tokens = cached_counts.total
    if not cached_tokens and implicit_cached_tokens:
        cached_tokens = min(int(implicit_cached_tokens), prompt_counts.total)
    usage = _usage(prompt_counts, cached_counts, cached_tokens, candidates_tokens, thoughts_tokens)
    builtin_tools.add_usage(usage, tool_use_tokens)
    if media_tokens:
        usage["candidatesTokensDetails"] = media_output.details(media_tokens)
    return {
        "candidates": candidates,
        "usageMetadata": usage,
        "modelVersion": model_version(model),
        "responseId": _response_id(digest),
    }


# ----------------------------------------------------------------------------------------------------
# countTokens


def count_tokens(model: dict[str, Any], request: dict[str, Any], *, resolve_file: ResolveFile | None,
                 cached: dict[str, Any] | None = None) -> dict[str, Any]:
    """A CountTokensResponse for `{"contents"}` or `{"generateContentRequest"}`.

    With a generateContentRequest, its system instruction and tools count too. With `cached`, the cached
    prefix is included in `totalTokens` and reported as `cachedContentTokenCount` (as promptTokenCount does
    in generateContent).
    """
    if not isinstance(request, dict):
        raise invalid_argument("The request body must be a JSON object.", None)
    inner = request.get("generateContentRequest")
    if inner is not None and request.get("contents"):
        raise invalid_argument("contents and generateContentRequest cannot both be set.", "generateContentRequest")
    if inner is not None:
        if not isinstance(inner, dict):
            raise invalid_argument("generateContentRequest must be an object.", "generateContentRequest")
        body = inner
    else:
        body = {"contents": request.get("contents")}
    has_cached_turns = bool(cached and cached.get("contents"))
    check_contents(body.get("contents"), required=not has_cached_turns)
    if body.get("systemInstruction") is not None:
        check_parts((body["systemInstruction"] or {}).get("parts"), "systemInstruction")
    cached_counts, total = _prompt_counts(body, cached, resolve_file, model)
    response: dict[str, Any] = {"totalTokens": total.total}
    if cached_counts.total:
        response["cachedContentTokenCount"] = cached_counts.total
    response["promptTokensDetails"] = total.details()
    if cached_counts.total:
        response["cacheTokensDetails"] = cached_counts.details()
    return response
