"""Image, speech and music answers of generateContent: which modalities an answer holds, and its candidates.

The output modalities are `generationConfig.responseModalities` when given (validation.py has already
refused one the model cannot produce), else what the model produces by default: image models answer
with text and an image, TTS models with audio, music models (music.py) with lyrics and a song, every
other model with text (this module stays out).
"""
from __future__ import annotations

import random
from typing import Any

from . import images, music, speech
from .text import compose

CAPTION_TOKENS = (8, 30)   # the short text image models put beside a picture


def output_modalities(model: dict[str, Any], request: dict[str, Any]) -> frozenset[str]:
    """The modalities the answer holds: {"TEXT"} for a plain text answer."""
    config = request.get("generationConfig") or {}
    requested = config.get("responseModalities") if isinstance(config, dict) else None
    if requested:
        return frozenset(str(m).upper() for m in requested)
    produced = (model.get("emulator") or {}).get("responseModalities") or ["TEXT"]
    return frozenset(produced)


def wants_media(model: dict[str, Any], request: dict[str, Any]) -> bool:
    if music.is_song_model(model):
        return True   # a music model always answers with a song (or refuses a request for no audio)
    return bool(output_modalities(model, request) & {"IMAGE", "AUDIO"})


def check(model: dict[str, Any], request: dict[str, Any]) -> None:
    """The image size and voices are valid (400 naming the field otherwise), before any work starts."""
    config = request.get("generationConfig") or {}
    modalities = output_modalities(model, request)
    if music.is_song_model(model):
        music.check(model, request, modalities)
        return
    if "IMAGE" in modalities:
        images.resolve_size(model, config.get("imageConfig"))
    if "AUDIO" in modalities:
        speech.voices_for(config.get("speechConfig"))


def candidate(model: dict[str, Any], request: dict[str, Any], digest: bytes, index: int, prompt: str, hints: list[str],
              safety: list[dict[str, Any]], *, streamed: bool = False) -> tuple[dict[str, Any], dict[str, int]]:
    """One candidate with media parts, and its output tokens per modality. A model whose catalog entry says
    `speechContainer: "wav"` answers a unary call with a WAV file and a stream with raw PCM (speech.py)."""
    config = request.get("generationConfig") or {}
    modalities = output_modalities(model, request)
    if music.is_song_model(model):
        return music.candidate(model, digest, index, prompt, modalities, safety)
    seed = digest + bytes([index])
    parts: list[dict[str, Any]] = []
    tokens: dict[str, int] = {}
    if "AUDIO" in modalities:
        wav = not streamed and (model.get("emulator") or {}).get("speechContainer") == "wav"
        part, tokens["AUDIO"] = speech.speech_part(prompt, speech.voices_for(config.get("speechConfig")), seed,
                                                   wav=wav)
        parts.append(part)
    if "IMAGE" in modalities:
        if "TEXT" in modalities:
            rng = random.Random(int.from_bytes(seed[:8], "little"))
            text, tokens["TEXT"] = compose(rng, rng.randint(*CAPTION_TOKENS), hints)
            parts.append({"text": text})
        width, height, tokens["IMAGE"] = images.resolve_size(model, config.get("imageConfig"))
        parts.append(images.image_part(width, height, seed))
    content = {"parts": parts, "role": "model"}
    return {"content": content, "finishReason": "STOP", "index": index, "safetyRatings": safety}, tokens


def details(tokens: dict[str, int]) -> list[dict[str, Any]]:
    """`candidatesTokensDetails`: one entry per output modality."""
    return [{"modality": modality, "tokenCount": count} for modality, count in sorted(tokens.items()) if count]
