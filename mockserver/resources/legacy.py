"""The PaLM-era text methods of `models/{model}` (v1beta3, and v1beta which still lists them):
generateText, generateMessage, countTextTokens, countMessageTokens, embedText, batchEmbedText.

Each method answers only on models whose catalog entry lists it (text-bison-001, chat-bison-001,
embedding-gecko-001, ...). Generation goes through the same path as generateContent
(`inference.generate`), so it is as deterministic as the Gemini methods and the control plane's scripted
rules apply to it too; the prompt is handed over as a one-turn (generateText) or multi-turn
(generateMessage) GenerateContentRequest and the answer is mapped back to the legacy shapes.
"""
from __future__ import annotations

from starlette.responses import Response
from typing import TYPE_CHECKING, Any

from .. import inference
from ..auth import Identity
from ..errors import invalid_argument
from ..generation.embeddings import embed_text
from ..generation.tokens import count_text
from ..http import Context, json_response
from ..routing import EMBED, GENERATE, route

if TYPE_CHECKING:
    from ..store import Store

VERSIONS = ("v1beta3", "v1beta")
MAX_CANDIDATES = 8
MAX_STOP_SEQUENCES = 5
MAX_BATCH_TEXTS = 100
LEGACY_CATEGORIES = ("HARM_CATEGORY_DEROGATORY", "HARM_CATEGORY_TOXICITY", "HARM_CATEGORY_VIOLENCE",
                     "HARM_CATEGORY_SEXUAL", "HARM_CATEGORY_MEDICAL", "HARM_CATEGORY_DANGEROUS")


# -- validation ----------------------------------------------------------------------------------------

def check_sampling(request: dict[str, Any], model: dict[str, Any]) -> None:
    """The legacy ranges: temperature and topP in [0, 1], candidateCount in [1, 8], topK and
    maxOutputTokens not negative (maxOutputTokens at most the model's output limit), at most 5 stop
    sequences. 400 naming the field otherwise."""
    temperature = request.get("temperature")
    if temperature is not None and not 0.0 <= temperature <= 1.0:
        raise invalid_argument(f"temperature must be in the range [0.0, 1.0], got {temperature:g}.", "temperature")
    count = request.get("candidateCount")
    if count is not None and not 1 <= count <= MAX_CANDIDATES:
        raise invalid_argument(f"candidateCount must be in the range [1, {MAX_CANDIDATES}], got {count}.",
                               "candidateCount")
    top_p = request.get("topP")
    if top_p is not None and not 0.0 <= top_p <= 1.0:
        raise invalid_argument(f"topP must be in the range [0.0, 1.0], got {top_p:g}.", "topP")
    top_k = request.get("topK")
    if top_k is not None and top_k < 0:
        raise invalid_argument(f"topK must not be negative, got {top_k}.", "topK")
    max_tokens = request.get("maxOutputTokens")
    if max_tokens is not None:
        limit = model.get("outputTokenLimit") or 0
        if max_tokens < 0 or (limit and max_tokens > limit):
            allowed = f"in the range [0, {limit}]" if limit else "0 or more"
            raise invalid_argument(f"maxOutputTokens must be {allowed} for {model['name']} (0 leaves it "
                                   f"unset: the model's default), got {max_tokens}.", "maxOutputTokens")
    stops = request.get("stopSequences") or []
    if len(stops) > MAX_STOP_SEQUENCES:
        raise invalid_argument(f"stopSequences takes at most {MAX_STOP_SEQUENCES} sequences, got {len(stops)}.",
                               "stopSequences")


def check_input_limit(model: dict[str, Any], tokens: int) -> None:
    limit = model.get("inputTokenLimit") or 0
    if limit and tokens > limit:
        raise invalid_argument(f"The input token count ({tokens}) exceeds the maximum number of tokens allowed "
                               f"({limit}) for {model['name']}.", "prompt")


def _text_prompt(request: dict[str, Any]) -> str:
    text: str | None = (request.get("prompt") or {}).get("text")
    if not text:
        raise invalid_argument("prompt.text is required: the free-form input text given to the model.",
                               "prompt.text")
    return text


def _messages(request: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The MessagePrompt and its messages with every author filled in (counting back from the last
    message, which is the user's: "0" for the user's turns, "1" for the other side's)."""
    prompt = request.get("prompt") or {}
    messages = prompt.get("messages") or []
    if not messages:
        raise invalid_argument("prompt.messages is required and must hold at least one message.",
                               "prompt.messages")
    filled = []
    for i, message in enumerate(messages):
        if not message.get("content"):
            raise invalid_argument(f"prompt.messages[{i}].content is required.", f"prompt.messages[{i}].content")
        from_end = len(messages) - 1 - i
        author = message.get("author") or ("0" if from_end % 2 == 0 else "1")
        filled.append({"author": author, "content": message["content"]})
    for i, example in enumerate(prompt.get("examples") or []):
        for side in ("input", "output"):
            if not (example.get(side) or {}).get("content"):
                raise invalid_argument(f"prompt.examples[{i}].{side}.content is required.",
                                       f"prompt.examples[{i}].{side}.content")
    return prompt, filled


def _reply_author(messages: list[dict[str, Any]]) -> str:
    last: str = messages[-1]["author"]
    for message in reversed(messages[:-1]):
        author: str = message["author"]
        if author != last:
            return author
    return "1" if last != "1" else "0"


def message_tokens(prompt: dict[str, Any], messages: list[dict[str, Any]]) -> int:
    total = count_text(prompt.get("context") or "")
    for example in prompt.get("examples") or []:
        total += count_text(example["input"]["content"]) + count_text(example["output"]["content"])
    return total + sum(count_text(m["content"]) for m in messages)


# -- generation ----------------------------------------------------------------------------------------

def _generation_config(request: dict[str, Any]) -> dict[str, Any]:
    """The legacy sampling fields as a generationConfig (topK and maxOutputTokens of 0 mean unset)."""
    config = {}
    for key in ("temperature", "candidateCount", "topP", "topK", "maxOutputTokens", "stopSequences"):
        value = request.get(key)
        if value is None or (key in ("topK", "maxOutputTokens") and value == 0):
            continue
        config[key] = value
    return config


def _engine_model(model: dict[str, Any]) -> dict[str, Any]:
    """The model as the engine sees it: the legacy method was already checked against the catalog, and the
    engine only speaks generateContent."""
    return {k: v for k, v in model.items() if k != "supportedGenerationMethods"}


def _candidate_text(candidate: dict[str, Any]) -> str:
    parts = (candidate.get("content") or {}).get("parts") or []
    return "".join(part.get("text", "") for part in parts if not part.get("thought"))


def _safety_ratings() -> list[dict[str, Any]]:
    return [{"category": category, "probability": "NEGLIGIBLE"} for category in LEGACY_CATEGORIES]


def _filters(answer: dict[str, Any]) -> list[dict[str, Any]]:
    feedback = answer.get("promptFeedback") or {}
    reason = feedback.get("blockReason")
    if not reason:
        return []
    return [{"reason": "SAFETY" if reason == "SAFETY" else "OTHER",
             "message": f"The prompt was blocked ({reason})."}]


def generate_text(store: Store, identity: Identity, model: dict[str, Any], request: dict[str, Any], *,
                  override: dict[str, Any] | None = None) -> dict[str, Any]:
    """A GenerateTextResponse for `request` on `model` (a catalog model or a tuned model's stand-in)."""
    text = _text_prompt(request)
    check_sampling(request, model)
    check_input_limit(model, count_text(text))
    inner: dict[str, Any] = {"contents": [{"role": "user", "parts": [{"text": text}]}]}
    config = _generation_config(request)
    if config:
        inner["generationConfig"] = config
    answer = inference.generate(store, identity, _engine_model(model), inner, override=override,
                                method="generateText")
    body: dict[str, Any] = {"candidates": [{"output": _candidate_text(c), "safetyRatings": _safety_ratings()}
                                           for c in answer.get("candidates") or []]}
    filters = _filters(answer)
    if filters:
        body["filters"] = filters
        if not body["candidates"]:
            del body["candidates"]
    return body


def generate_message(store: Store, identity: Identity, model: dict[str, Any],
                     request: dict[str, Any]) -> dict[str, Any]:
    prompt, messages = _messages(request)
    check_sampling(request, model)
    check_input_limit(model, message_tokens(prompt, messages))
    user = messages[-1]["author"]
    contents = []
    for example in prompt.get("examples") or []:
        contents.append({"role": "user", "parts": [{"text": example["input"]["content"]}]})
        contents.append({"role": "model", "parts": [{"text": example["output"]["content"]}]})
    for message in messages:
        contents.append({"role": "user" if message["author"] == user else "model",
                         "parts": [{"text": message["content"]}]})
    inner: dict[str, Any] = {"contents": contents}
    if prompt.get("context"):
        inner["systemInstruction"] = {"parts": [{"text": prompt["context"]}]}
    config = _generation_config(request)
    if config:
        inner["generationConfig"] = config
    answer = inference.generate(store, identity, _engine_model(model), inner, method="generateMessage")
    author = _reply_author(messages)
    body: dict[str, Any] = {"candidates": [{"author": author, "content": _candidate_text(c)}
                                           for c in answer.get("candidates") or []],
                  "messages": messages}
    filters = _filters(answer)
    if filters:
        body["filters"] = filters
        if not body["candidates"]:
            del body["candidates"]
    return body


def _embedding(model: dict[str, Any], text: object, field: str) -> dict[str, Any]:
    if not isinstance(text, str) or not text:
        raise invalid_argument(f"{field} is required: the text to embed.", field)
    check_input_limit(model, count_text(text))
    return {"value": embed_text(model, text)}


# -- handlers ------------------------------------------------------------------------------------------

def _model(ctx: Context, method: str) -> dict[str, Any]:
    model: dict[str, Any] = ctx.store.models.get(ctx.params["model"], method, ctx.version)
    return model


async def generate_text_handler(ctx: Context) -> Response:
    request = await ctx.json("GenerateTextRequest")
    model = _model(ctx, "generateText")
    return json_response(generate_text(ctx.store, ctx.identity, model, request))


async def generate_message_handler(ctx: Context) -> Response:
    request = await ctx.json("GenerateMessageRequest")
    model = _model(ctx, "generateMessage")
    return json_response(generate_message(ctx.store, ctx.identity, model, request))


async def count_text_tokens(ctx: Context) -> Response:
    request = await ctx.json("CountTextTokensRequest")
    _model(ctx, "countTextTokens")
    return json_response({"tokenCount": count_text(_text_prompt(request))})


async def count_message_tokens(ctx: Context) -> Response:
    request = await ctx.json("CountMessageTokensRequest")
    _model(ctx, "countMessageTokens")
    prompt, messages = _messages(request)
    return json_response({"tokenCount": message_tokens(prompt, messages)})


async def embed_text_handler(ctx: Context) -> Response:
    request = await ctx.json("EmbedTextRequest")
    model = _model(ctx, "embedText")
    return json_response({"embedding": _embedding(model, request.get("text"), "text")})


async def batch_embed_text(ctx: Context) -> Response:
    request = await ctx.json("BatchEmbedTextRequest")
    model = _model(ctx, "embedText")
    texts, requests = request.get("texts") or [], request.get("requests") or []
    if texts and requests:
        raise invalid_argument("Give either texts or requests, not both.", "texts")
    field = "texts" if texts or not requests else "requests"
    items = texts or [r.get("text") for r in requests]
    if not items:
        raise invalid_argument("texts is required and must hold at least one text.", "texts")
    if len(items) > MAX_BATCH_TEXTS:
        raise invalid_argument(f"{field} holds {len(items)} items; at most {MAX_BATCH_TEXTS} are allowed per "
                               f"request.", field)
    suffix = "" if field == "texts" else ".text"
    return json_response({"embeddings": [_embedding(model, text, f"{field}[{i}]{suffix}")
                                         for i, text in enumerate(items)]})


def register(store: Store) -> None:
    pass   # no state: the catalog says which model offers which method


ROUTES = [
    route("POST", "models/{model}:generateText", generate_text_handler, versions=VERSIONS, runs=GENERATE),
    route("POST", "models/{model}:generateMessage", generate_message_handler, versions=VERSIONS, runs=GENERATE),
    route("POST", "models/{model}:countTextTokens", count_text_tokens, versions=VERSIONS),
    route("POST", "models/{model}:countMessageTokens", count_message_tokens, versions=VERSIONS),
    route("POST", "models/{model}:embedText", embed_text_handler, versions=VERSIONS, runs=EMBED),
    route("POST", "models/{model}:batchEmbedText", batch_embed_text, versions=VERSIONS, runs=EMBED),
]
