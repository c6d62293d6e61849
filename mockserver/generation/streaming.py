"""streamGenerateContent: one finished answer cut into the chunks a stream delivers."""
from __future__ import annotations

from typing import Any

from .counting import part_tokens
from .tokens import split_text


_LAST_CHUNK_METADATA = ("groundingMetadata", "urlContextMetadata")


def _chunk_count(pieces: int) -> int:
    if pieces <= 1:
        return 1
    return min(pieces, max(3, min(16, -(-pieces // 8))))


def _cuts(pieces: list[str], chunks: int) -> list[int]:
    """`chunks - 1` increasing cut points, each moved to the nearest word start when there is one nearby."""
    n = len(pieces)
    cuts: list[int] = []
    for k in range(1, chunks):
        target = n * k // chunks
        low = (cuts[-1] + 1) if cuts else 1
        high = n - (chunks - k)  # leave at least one piece for every later chunk
        best = None
        for distance in range(0, 6):
            for index in (target + distance, target - distance):
                if low <= index <= high and pieces[index][:1].isspace():
                    best = index
                    break
            if best is not None:
                break
        cuts.append(best if best is not None else min(max(target, low), high))
    return cuts


def stream_chunks(response: dict[str, Any]) -> list[dict[str, Any]]:
    """The same answer as a list of streamGenerateContent chunks.

    Text is cut at token boundaries into at least 3 chunks when it has 3 tokens or more (their texts join
    back exactly); a thought summary comes first, in a chunk of its own; function calls come whole.
    Every chunk carries usageMetadata (prompt count constant, candidates count growing, the last one equal
    to the full usage), modelVersion and responseId; only the last carries finishReason and safetyRatings.
    """
    usage = response.get("usageMetadata") or {}
    plans = []  # per candidate: its steps, each a list of (delta part, answer tokens in it)
    for candidate in response.get("candidates") or ():
        parts = (candidate.get("content") or {}).get("parts") or []
        steps: list[list[tuple[dict[str, Any], int]]] = [[(p, 0)] for p in parts if p.get("thought")]
        for part in parts:
            if part.get("thought"):
                continue
            text = part.get("text")
            if text is None:
                steps.append([(part, part_tokens(part))])
                continue
            pieces = split_text(text) or [text]
            extras = {k: v for k, v in part.items() if k != "text"}
            cuts = _cuts(pieces, _chunk_count(len(pieces)))
            for n, (start, end) in enumerate(zip([0] + cuts, cuts + [len(pieces)])):
                group = pieces[start:end]
                delta = {"text": "".join(group)}
                if n == 0:
                    delta.update(extras)
                steps.append([(delta, len(group))])
        plans.append((candidate, steps))
    total_steps = max((len(steps) for _, steps in plans), default=0) or 1
    prompt_tokens = usage.get("promptTokenCount", 0)
    fixed = usage.get("thoughtsTokenCount", 0) + usage.get("toolUsePromptTokenCount", 0)   # counted from the start
    chunks = []
    emitted = 0
    for step in range(total_steps):
        last = step == total_steps - 1
        chunk_candidates = []
        for candidate, steps in plans:
            # Steps are aligned to the end, so that every candidate finishes in the last chunk.
            offset = total_steps - len(steps)
            items = steps[step - offset] if steps and step >= offset else []
            emitted += sum(tokens for _, tokens in items)
            if not items and not last:
                continue
            parts = [part for part, _ in items]
            entry: dict[str, Any] = {"content": {"parts": parts, "role": "model"} if parts else {"role": "model"}}
            if last:
                entry["finishReason"] = candidate.get("finishReason", "STOP")
            entry["index"] = candidate.get("index", 0)
            if last and "safetyRatings" in candidate:
                entry["safetyRatings"] = candidate["safetyRatings"]
            for key in _LAST_CHUNK_METADATA:   # built-in tool results come with the finished answer
                if last and key in candidate:
                    entry[key] = candidate[key]
            chunk_candidates.append(entry)
        if last:
            chunk_usage = dict(usage)
        else:
            chunk_usage = {"promptTokenCount": prompt_tokens}
            if emitted:
                chunk_usage["candidatesTokenCount"] = emitted
            chunk_usage["totalTokenCount"] = prompt_tokens + emitted + fixed
            for key in ("cachedContentTokenCount", "promptTokensDetails", "cacheTokensDetails", "thoughtsTokenCount",
                        "toolUsePromptTokenCount", "toolUsePromptTokensDetails"):
                if key in usage:
                    chunk_usage[key] = usage[key]
        chunks.append({"candidates": chunk_candidates, "usageMetadata": chunk_usage,
                       "modelVersion": response.get("modelVersion"), "responseId": response.get("responseId")})
    return chunks
