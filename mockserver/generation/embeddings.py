"""embedContent and batchEmbedContents: deterministic embeddings in which texts that share words are closer than texts that do not.

A text's vector is a weighted sum of pseudo-random vectors:

* one per word (lower-cased `\\w+` runs): weight 4, or 1 for very common words; repeated words add up;
* one per title word (RETRIEVAL_DOCUMENT with a title): weight 2;
* one for the whole text (so two different texts never coincide): weight 2;
* one for the task type (so the same text under two task types gives different but close vectors): weight 1.

Each component is `dimensions` bytes of SHAKE-256 output keyed by the model, the kind and the word, read
as uniform values 0..255. The sum is computed on big integers holding every dimension in its own 32-bit
field (one integer addition adds all dimensions at once), then centred and scaled to unit length. No numpy.

Reduced `outputDimensionality` keeps the first N values of the full unit vector without re-normalising,
as `gemini-embedding-001` does (only the full-size vector is normalised; Matryoshka-style prefixes are
meant to be normalised by the caller).
"""
from __future__ import annotations

import hashlib
import math
import re
import sys
from array import array
from collections import Counter

from typing import Any

from ..errors import ApiError, invalid_argument
from .validation import check_method, model_name

TASK_TYPES = ("TASK_TYPE_UNSPECIFIED", "RETRIEVAL_QUERY", "RETRIEVAL_DOCUMENT", "SEMANTIC_SIMILARITY",
              "CLASSIFICATION", "CLUSTERING", "QUESTION_ANSWERING", "FACT_VERIFICATION", "CODE_RETRIEVAL_QUERY")

WORD_WEIGHT = 4
COMMON_WORD_WEIGHT = 1
TITLE_WEIGHT = 2
TEXT_WEIGHT = 2
TASK_WEIGHT = 1

MAX_BATCH = 100  # "BatchEmbedContentsRequest.requests: at most 100 requests can be in one batch"

_COMMON = frozenset("a an and are as at be by for from has have in is it its of on or that the this to was "
                    "were will with".split())
_WORD_RE = re.compile(r"\w+")
_FIELD_BYTES = 8  # each dimension's running sum lives in a 64-bit field of one big integer
_ONES: dict[int, int] = {}  # dimensions -> the integer with 1 in every field


def _component(model_key: bytes, kind: bytes, item: str, dimensions: int) -> int:
    """`dimensions` uniform bytes spread into 32-bit little-endian fields of one integer."""
    digest = hashlib.shake_256(model_key + b"\x00" + kind + b"\x00" + item.encode("utf-8")).digest(dimensions)
    spread = bytearray(dimensions * _FIELD_BYTES)
    spread[0::_FIELD_BYTES] = digest
    return int.from_bytes(spread, "little")


def check_dimensionality(model: dict[str, Any], output_dimensionality: Any, field: str = "outputDimensionality") -> int:
    """The vector size for this request: the model's, or a valid `outputDimensionality` (1..model's)."""
    full = int((model.get("emulator") or {}).get("embeddingDimensions") or 0)
    if output_dimensionality is None:
        return full
    try:
        wanted = int(output_dimensionality)
    except (TypeError, ValueError):
        raise invalid_argument(f"Invalid value for outputDimensionality: {output_dimensionality!r}.", field) from None
    if not 1 <= wanted <= full:
        raise invalid_argument(
            f"outputDimensionality must be between 1 and {full} for {model.get('name', 'this model')}, "
            f"got {wanted}.", field)
    return wanted


def embed_text(model: dict[str, Any], text: str, task_type: str | None = None, title: str | None = None,
               output_dimensionality: int | None = None) -> list[float]:
    """The embedding of `text` (see the module docstring); 400 for a bad task type or dimensionality."""
    full = int((model.get("emulator") or {}).get("embeddingDimensions") or 0)
    if full <= 0:
        raise invalid_argument(f"{model.get('name', 'This model')} does not support embedContent.", "model")
    size = check_dimensionality(model, output_dimensionality)
    task = task_type or "TASK_TYPE_UNSPECIFIED"
    if task not in TASK_TYPES:
        raise invalid_argument(f"Invalid value at 'task_type' (google.ai.generativelanguage.v1beta.TaskType), "
                               f"\"{task}\"", "taskType")
    model_key = str(model.get("name", "")).encode("utf-8")

    total = 0
    weight_sum = 0
    words = Counter(word.lower() for word in _WORD_RE.findall(text))
    for word, count in words.items():
        weight = (COMMON_WORD_WEIGHT if word in _COMMON else WORD_WEIGHT) * count
        total += weight * _component(model_key, b"w", word, full)
        weight_sum += weight
    if title:
        for word in set(w.lower() for w in _WORD_RE.findall(title)):
            total += TITLE_WEIGHT * _component(model_key, b"w", word, full)
            weight_sum += TITLE_WEIGHT
    total += TEXT_WEIGHT * _component(model_key, b"t", text, full)
    total += TASK_WEIGHT * _component(model_key, b"k", task, full)
    weight_sum += TEXT_WEIGHT + TASK_WEIGHT

    # Centre every field at once: 2*sum + 2^32 - 255*W stays positive and below 2^33 in its 64-bit field,
    # so no borrow crosses fields and each field's low 32 bits, read as signed, are 2*(sum - 127.5*W).
    ones = _ONES.get(full)
    if ones is None:
        ones = _ONES[full] = int.from_bytes(b"\x01\x00\x00\x00\x00\x00\x00\x00" * full, "little")
    shifted = 2 * total + ((1 << 32) - 255 * weight_sum) * ones
    words32 = array("i")
    words32.frombytes(shifted.to_bytes(full * _FIELD_BYTES, "little"))
    if sys.byteorder != "little":  # pragma: no cover
        words32.byteswap()
    centred = words32[0::2].tolist()
    norm = math.hypot(*centred) or 1.0
    return list(map(norm.__rtruediv__, centred[:size]))


# -- embedContent / batchEmbedContents requests ----------------------------------------------------

def _embedding_text(content: Any, field: str) -> str:
    if not isinstance(content, dict) or not content.get("parts"):
        raise invalid_argument("content must have at least one part.", field)
    texts = []
    for j, part in enumerate(content["parts"]):
        if not isinstance(part, dict):
            raise invalid_argument("Invalid part.", f"{field}.parts[{j}]")
        if isinstance(part.get("text"), str):
            texts.append(part["text"])
        elif isinstance(part.get("inlineData"), dict):
            # Media embeds by its digest: the same bytes give the same vector.
            data = str(part["inlineData"].get("data", ""))
            texts.append("media" + hashlib.blake2b(data.encode(), digest_size=8).hexdigest())
        else:
            raise invalid_argument("Only text and inline data parts can be embedded.", f"{field}.parts[{j}]")
    return " ".join(texts)


def _embed_one(model: dict[str, Any], request: dict[str, Any], prefix: str) -> dict[str, Any]:
    text = _embedding_text(request.get("content"), f"{prefix}content")
    task = request.get("taskType") or "TASK_TYPE_UNSPECIFIED"
    if task not in TASK_TYPES:
        raise invalid_argument(f"Invalid value at '{prefix}task_type' (google.ai.generativelanguage.v1beta.TaskType), "
                               f"\"{task}\"", f"{prefix}taskType")
    title = request.get("title")
    if title:
        # Real API: a title is only meaningful for documents; an unspecified task type becomes one.
        if task not in ("TASK_TYPE_UNSPECIFIED", "RETRIEVAL_DOCUMENT"):
            raise invalid_argument("title is only applicable when taskType is RETRIEVAL_DOCUMENT.", f"{prefix}title")
        task = "RETRIEVAL_DOCUMENT"
    size = check_dimensionality(model, request.get("outputDimensionality"),
                                           f"{prefix}outputDimensionality")
    return {"values": embed_text(model, text, task, title, size)}


def _check_embedding_model(model: dict[str, Any], method: str) -> None:
    # The catalog lists only "embedContent" for embedding models; batchEmbedContents works wherever it does.
    check_method(model, "embedContent")
    if not (model.get("emulator") or {}).get("embeddingDimensions"):
        raise ApiError(404, "NOT_FOUND",
                       f"{model_name(model)} is not found for API version v1beta, or is not supported for "
                       f"{method}. Call ListModels to see the list of available models and their supported "
                       "methods.")


def embed_content(model: dict[str, Any], request: dict[str, Any]) -> dict[str, Any]:
    """An EmbedContentResponse: {"embedding": {"values": [...]}}."""
    _check_embedding_model(model, "embedContent")
    return {"embedding": _embed_one(model, request, "")}


def _same_model(name: Any, model: dict[str, Any]) -> bool:
    if not isinstance(name, str):
        return False
    wanted = model_name(model)
    return name == wanted or f"models/{name}" == wanted


def batch_embed_contents(model: dict[str, Any], request: dict[str, Any]) -> dict[str, Any]:
    """A BatchEmbedContentsResponse: {"embeddings": [{"values"}...]}, at most 100 requests.

    Every request must repeat the URL's model (as the SDKs do).
    """
    _check_embedding_model(model, "batchEmbedContents")
    requests = request.get("requests") if isinstance(request, dict) else None
    if not requests or not isinstance(requests, list):
        raise invalid_argument("* BatchEmbedContentsRequest.requests: requests must not be empty.\n", "requests")
    if len(requests) > MAX_BATCH:
        raise invalid_argument(
            f"* BatchEmbedContentsRequest.requests: at most {MAX_BATCH} requests can be in one batch\n",
            "requests")
    out = []
    for i, item in enumerate(requests):
        prefix = f"requests[{i}]."
        if not isinstance(item, dict):
            raise invalid_argument("Each request must be an EmbedContentRequest.", f"requests[{i}]")
        if not _same_model(item.get("model"), model):
            raise invalid_argument(
                f"* BatchEmbedContentsRequest.requests[{i}].model: the model of every request must be the model "
                f"in the URL ({model_name(model)}), got {item.get('model')!r}.\n", f"{prefix}model")
        out.append(_embed_one(model, item, prefix))
    return {"embeddings": out}


def usage_metadata(prompt_tokens: int) -> dict[str, Any]:
    """batchEmbedContents' `usageMetadata` in the embedding shape the service answers (`promptTokenDetails`,
    no totalTokenCount: a captured gemini-embedding-2 answer, github.com/maximhq/bifrost/pull/7295); the
    SDKs read its promptTokenCount. Media parts count no tokens here, as in the usage ledger."""
    usage: dict[str, Any] = {"promptTokenCount": prompt_tokens}
    if prompt_tokens:
        usage["promptTokenDetails"] = [{"modality": "TEXT", "tokenCount": prompt_tokens}]
    return usage
